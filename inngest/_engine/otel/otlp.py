"""OTLP trace export requests (``ExportTraceServiceRequest``) read from protobuf or JSON.

JSON is read as Go's ``protojson`` reads it, which the dev server uses: unknown members are
refused, 64-bit integers may be strings, enums may be named, and ``bytes`` fields (trace and
span ids) are base64. OTLP/JSON exporters send ids as hex, which decode as base64 too (to
other, longer bytes): the dev server keeps what that decoding gives, and so does this.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import typing

from inngest._engine.models import JSON
from inngest._engine.otel import protowire
from inngest._engine.otel.protowire import I64, LEN, VARINT, WireError

Attribute = typing.Union[str, int, float, bool, None]
"""An attribute's value; None for arrays, maps and bytes (the dev server keeps "")."""

_KINDS = ("SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
          "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER")
_STATUS_CODES = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")


class PayloadError(ValueError):
    """A body that is not an export request."""


@dataclasses.dataclass(frozen=True)
class Span:
    """One span with what the request says of where it comes from."""

    span_id: bytes
    parent_span_id: bytes
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: tuple[tuple[str, Attribute], ...]
    status_code: int
    scope_name: str
    scope_version: str
    service_name: str


@dataclasses.dataclass
class _Scope:
    name: str = ""
    version: str = ""


@dataclasses.dataclass
class _Span:
    span_id: bytes = b""
    parent_span_id: bytes = b""
    name: str = ""
    kind: int = 0
    start_ns: int = 0
    end_ns: int = 0
    attributes: list[tuple[str, Attribute]] = dataclasses.field(default_factory=list)
    status_code: int = 0

    def done(self, scope: _Scope, service: str) -> Span:
        return Span(self.span_id, self.parent_span_id, self.name, self.kind, self.start_ns,
                    self.end_ns, tuple(self.attributes), self.status_code, scope.name,
                    scope.version, service)


def service_name(attributes: typing.Iterable[tuple[str, Attribute]]) -> str:
    names = [value for key, value in attributes if key == "service.name"]
    return str(names[-1]) if names and names[-1] is not None else ""


# ---------------------------------------------------------------------------- protobuf


def from_protobuf(data: bytes) -> list[Span]:
    try:
        return [span for number, wire, value in protowire.fields(data)
                if number == 1 and wire == LEN for span in _pb_resource_spans(_len(value))]
    except WireError as err:
        raise PayloadError(str(err)) from err


def _len(value: protowire.Value) -> bytes:
    assert isinstance(value, bytes)
    return value


def _num(value: protowire.Value) -> int:
    assert isinstance(value, int)
    return value


def _pb_resource_spans(data: bytes) -> list[Span]:
    resource: list[tuple[str, Attribute]] = []
    scopes: list[tuple[_Scope, list[_Span]]] = []
    for number, wire, value in protowire.fields(data):
        if number == 1 and wire == LEN:
            resource = [attr for n, w, v in protowire.fields(_len(value))
                        if n == 1 and w == LEN for attr in [_pb_key_value(_len(v))]]
        elif number == 2 and wire == LEN:
            scopes.append(_pb_scope_spans(_len(value)))
    service = service_name(resource)
    return [span.done(scope, service) for scope, spans in scopes for span in spans]


def _pb_scope_spans(data: bytes) -> tuple[_Scope, list[_Span]]:
    scope, spans = _Scope(), []
    for number, wire, value in protowire.fields(data):
        if number == 1 and wire == LEN:
            for n, w, v in protowire.fields(_len(value)):
                if n in (1, 2) and w == LEN:
                    setattr(scope, "name" if n == 1 else "version", protowire.text(_len(v)))
        elif number == 2 and wire == LEN:
            spans.append(_pb_span(_len(value)))
    return scope, spans


def _pb_span(data: bytes) -> _Span:
    span = _Span()
    for number, wire, value in protowire.fields(data):
        if wire == LEN and number in (2, 4):
            setattr(span, "span_id" if number == 2 else "parent_span_id", _len(value))
        elif wire == LEN and number in (3, 5):
            text = protowire.text(_len(value))
            if number == 5:
                span.name = text
        elif wire == VARINT and number == 6:
            span.kind = protowire.signed64(_num(value))
        elif wire == I64 and number in (7, 8):
            setattr(span, "start_ns" if number == 7 else "end_ns", _num(value))
        elif wire == LEN and number == 9:
            span.attributes.append(_pb_key_value(_len(value)))
        elif wire == LEN and number == 15:
            for n, w, v in protowire.fields(_len(value)):
                if n == 3 and w == VARINT:
                    span.status_code = protowire.signed64(_num(v))
                elif n == 2 and w == LEN:
                    protowire.text(_len(v))
    return span


def _pb_key_value(data: bytes) -> tuple[str, Attribute]:
    key, value = "", typing.cast(Attribute, "")
    for number, wire, raw in protowire.fields(data):
        if number == 1 and wire == LEN:
            key = protowire.text(_len(raw))
        elif number == 2 and wire == LEN:
            value = _pb_any_value(_len(raw))
    return key, value


def _pb_any_value(data: bytes) -> Attribute:
    value: Attribute = ""
    for number, wire, raw in protowire.fields(data):
        if number == 1 and wire == LEN:
            value = protowire.text(_len(raw))
        elif number == 2 and wire == VARINT:
            value = bool(raw)
        elif number == 3 and wire == VARINT:
            value = protowire.signed64(_num(raw))
        elif number == 4 and wire == I64:
            value = protowire.double(_num(raw))
        elif number in (5, 6) and wire == LEN:
            protowire.fields(_len(raw))
            value = None
        elif number == 7 and wire == LEN:
            value = None
    return value


# ---------------------------------------------------------------------------- JSON


def parse_json(body: bytes) -> list[Span]:
    """The spans of a JSON request (a member twice in an object is refused, as protojson
    does)."""
    # Read as UTF-8 text: Python's reader of bytes would skip a byte order mark and take
    # UTF-16 and UTF-32, which protojson refuses.
    return from_json(json.loads(body.decode("utf-8"), object_pairs_hook=_unique_members))


def _unique_members(pairs: list[tuple[str, JSON]]) -> dict[str, JSON]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise PayloadError("duplicate member")
    return members


def from_json(document: JSON) -> list[Span]:
    request = _members(document, "resourceSpans")
    return [span for item in _list(request.get("resourceSpans"))
            for span in _json_resource_spans(item)]


def _members(value: JSON, *names: str) -> dict[str, JSON]:
    """An object's members by their JSON names (proto names are taken too); null members
    count as absent, as in protojson."""
    if not isinstance(value, dict):
        raise PayloadError("expected an object")
    out: dict[str, JSON] = {}
    by_proto_name = {_snake(name): name for name in names}
    for key, member in value.items():
        name = key if key in names else by_proto_name.get(key)
        if name is None:
            raise PayloadError(f"unknown field {key!r}")
        if member is not None:
            out[name] = member
    return out


def _snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def _list(value: JSON) -> list[JSON]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError("expected a list")
    return value


def _json_resource_spans(value: JSON) -> list[Span]:
    fields = _members(value, "resource", "scopeSpans", "schemaUrl")
    resource = _members(fields.get("resource", {}), "attributes", "droppedAttributesCount",
                        "entityRefs")
    _uint(resource.get("droppedAttributesCount"))
    _list(resource.get("entityRefs"))
    service = service_name(_json_attributes(resource.get("attributes")))
    _string(fields.get("schemaUrl"))
    return [span for item in _list(fields.get("scopeSpans"))
            for span in _json_scope_spans(item, service)]


def _json_scope_spans(value: JSON, service: str) -> list[Span]:
    fields = _members(value, "scope", "spans", "schemaUrl")
    scope = _members(fields.get("scope", {}), "name", "version", "attributes",
                     "droppedAttributesCount")
    _json_attributes(scope.get("attributes"))
    _uint(scope.get("droppedAttributesCount"))
    _string(fields.get("schemaUrl"))
    done = _Scope(_string(scope.get("name")), _string(scope.get("version")))
    return [_json_span(item).done(done, service) for item in _list(fields.get("spans"))]


def _json_span(value: JSON) -> _Span:
    fields = _members(
        value, "traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind",
        "startTimeUnixNano", "endTimeUnixNano", "attributes", "droppedAttributesCount",
        "events", "droppedEventsCount", "links", "droppedLinksCount", "status")
    for name in ("droppedAttributesCount", "droppedEventsCount", "droppedLinksCount", "flags"):
        _uint(fields.get(name))
    for name in ("events", "links"):
        for item in _list(fields.get(name)):
            if not isinstance(item, dict):
                raise PayloadError(f"{name} must hold objects")
    _bytes(fields.get("traceId"))
    _string(fields.get("traceState"))
    status = _members(fields.get("status", {}), "message", "code")
    _string(status.get("message"))
    return _Span(
        span_id=_bytes(fields.get("spanId")), parent_span_id=_bytes(fields.get("parentSpanId")),
        name=_string(fields.get("name")), kind=_enum(fields.get("kind"), _KINDS),
        start_ns=_uint(fields.get("startTimeUnixNano")),
        end_ns=_uint(fields.get("endTimeUnixNano")),
        attributes=_json_attributes(fields.get("attributes")),
        status_code=_enum(status.get("code"), _STATUS_CODES))


def _json_attributes(value: JSON) -> list[tuple[str, Attribute]]:
    out = []
    for item in _list(value):
        fields = _members(item, "key", "value")
        out.append((_string(fields.get("key")), _json_any_value(fields.get("value"))))
    return out


def _json_any_value(value: JSON) -> Attribute:
    fields = _members({} if value is None else value, "stringValue", "boolValue", "intValue",
                      "doubleValue", "arrayValue", "kvlistValue", "bytesValue")
    if len(fields) > 1:
        raise PayloadError("a value has one kind")
    for name, member in fields.items():
        if name == "stringValue":
            return _string(member)
        if name == "boolValue":
            if not isinstance(member, bool):
                raise PayloadError("expected a boolean")
            return member
        if name == "intValue":
            return _int(member)
        if name == "doubleValue":
            return _double(member)
        if name == "bytesValue":
            _bytes(member)
        elif name == "arrayValue":
            for item in _list(_members(member, "values").get("values")):
                _json_any_value(item)
        else:
            _json_attributes(_members(member, "values").get("values"))
    return "" if not fields else None


def _string(value: JSON) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError("expected a string")
    return value


def _int(value: JSON, low: int = -(1 << 63), high: int = (1 << 63) - 1) -> int:
    """A 64-bit integer: a JSON number without a fraction, or a string of one."""
    if value is None:
        return 0
    number: object = value
    if isinstance(value, str):
        try:
            number = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError as err:
            raise PayloadError("expected an integer") from err
    if isinstance(number, float) and math.isfinite(number) and number.is_integer():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        raise PayloadError("expected an integer")
    return number


def _uint(value: JSON) -> int:
    return _int(value, 0, (1 << 64) - 1)


def _double(value: JSON) -> float:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.lower().replace("infinity", "inf"))
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as err:
            raise PayloadError("expected a number") from err
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError("expected a number")
    return float(value)


def _enum(value: JSON, names: tuple[str, ...]) -> int:
    if isinstance(value, str):
        if value not in names:
            raise PayloadError(f"unknown enum value {value!r}")
        return names.index(value)
    return _int(value, -(1 << 31), (1 << 31) - 1)


def _bytes(value: JSON) -> bytes:
    """A base64 ``bytes`` field, standard or URL alphabet, padded (fully) or not."""
    text = _string(value).replace("-", "+").replace("_", "/")
    if "=" in text.rstrip("=") or ("=" in text and len(text) % 4) or text.endswith("==="):
        raise PayloadError("invalid base64 padding")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise PayloadError("invalid base64") from err
