"""Request bodies of REST v2 calls, read as protobuf JSON: an object whose known fields (by
proto or JSON name) have the proto types; anything else is refused with ``api_error``."""

from __future__ import annotations

import typing

from inngest._engine.http.rest_v2.envelope import API_ERROR, V2Error
from inngest._engine.http.rest_v2.json_source import Source
from inngest._engine.http.rest_v2.params import json_name
from inngest._engine.models import JSON
from inngest._engine.payload import load_body

# A field's proto type: "string", "int64" (a number or a decimal string), "struct" (an
# object: a ``google.protobuf.Struct``), "list" (an array: a ``google.protobuf.ListValue``),
# "value" (any JSON: a ``google.protobuf.Value``, where null is a value, not unset), or a
# message: its own fields.
Fields = typing.Mapping[str, typing.Union[str, "Fields"]]


def _proto_error(detail: str, source: Source, *, key: bool = False,
                 syntax: bool = False) -> V2Error:
    """protobuf JSON's error: ``proto: (line 1:9): detail`` (``proto: syntax error (line
    1:9): detail`` for a value of the wrong JSON kind)."""
    head = "proto: syntax error " if syntax else "proto: "
    return V2Error(400, API_ERROR, f"{head}({source.spot(key=key)}): {detail}")


def read(body: bytes, fields: Fields) -> dict[str, JSON]:
    """The set fields by proto name; null counts as unset, as in protobuf JSON."""
    if not body.strip():
        return {}
    try:
        raw = load_body(body)
    except ValueError as err:
        raise V2Error(400, API_ERROR, str(err)) from None
    return message(raw, fields, Source.of(body))


def message(raw: JSON, fields: Fields, source: Source) -> dict[str, JSON]:
    """The set fields of a message given as parsed JSON (a body, or a message field's
    value), found in the JSON text at ``source``."""
    if not isinstance(raw, typing.Mapping):
        raise _proto_error(f"unexpected token {source.token()}", source, syntax=True)
    names = {alias: field for field in fields for alias in (field, json_name(field))}
    out: dict[str, JSON] = {}
    for key, value in raw.items():
        field = names.get(key)
        if field is None:
            raise _proto_error(f'unknown field "{key}"', source.at(key), key=True)
        kind = fields[field]
        if not isinstance(kind, str):
            if value is not None:
                out[field] = message(value, kind, source.at(key))
        elif value is not None or kind == "value":
            out[field] = _typed(json_name(field), kind, value, source.at(key))
    return out


_INT64_LIMIT = 2.0 ** 63


def _typed(field: str, kind: str, value: JSON, source: Source) -> JSON:
    if (kind == "int64" and isinstance(value, str) and value.isascii()
            and value.lstrip("-").isdigit()):
        value = int(value)
    if kind == "int64" and isinstance(value, float) and value.is_integer() \
            and -_INT64_LIMIT <= value < _INT64_LIMIT:
        value = int(value)  # protojson reads a whole number as one: -0.0, 1.0, 1e2 (measured)
    valid = {
        "string": isinstance(value, str),
        "int64": isinstance(value, int) and not isinstance(value, bool),
        "struct": isinstance(value, typing.Mapping),
        "list": isinstance(value, list),
        "value": True,
    }[kind]
    if not valid and kind in ("struct", "list"):
        raise _proto_error(f"unexpected token {source.token()}", source, syntax=True)
    if not valid:
        raise _proto_error(f"invalid value for {kind} field {field}: {source.token()}", source)
    return value
