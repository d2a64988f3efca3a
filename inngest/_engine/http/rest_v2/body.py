"""Request bodies of REST v2 calls, read as protobuf JSON: an object whose known fields (by
proto or JSON name) have the proto types; anything else is refused with ``api_error``."""

from __future__ import annotations

import typing

from inngest._engine.http.rest_v2.envelope import API_ERROR, V2Error
from inngest._engine.http.rest_v2.params import json_name
from inngest._engine.models import JSON
from inngest._engine.payload import load_body

# A field's proto type: "string", "int64" (a number or a decimal string), "struct" (an
# object: a ``google.protobuf.Struct``, or a message read on with ``message``) or "list"
# (an array: a ``google.protobuf.ListValue``) or "value" (any JSON: a
# ``google.protobuf.Value``, where null is a value, not unset).
Fields = typing.Mapping[str, str]


def _proto_error(detail: str) -> V2Error:
    return V2Error(400, API_ERROR, f"proto: {detail}")


def read(body: bytes, fields: Fields) -> dict[str, JSON]:
    """The set fields by proto name; null counts as unset, as in protobuf JSON."""
    if not body.strip():
        return {}
    try:
        raw = load_body(body)
    except ValueError as err:
        raise V2Error(400, API_ERROR, str(err)) from None
    return message(raw, fields)


def message(raw: JSON, fields: Fields) -> dict[str, JSON]:
    """The set fields of a message given as parsed JSON (a body, or a message field's
    value)."""
    if not isinstance(raw, typing.Mapping):
        raise _proto_error(f"syntax error: unexpected token {_token(raw)}")
    names = {alias: field for field in fields for alias in (field, json_name(field))}
    out: dict[str, JSON] = {}
    for key, value in raw.items():
        field = names.get(key)
        if field is None:
            raise _proto_error(f'unknown field "{key}"')
        if value is not None or fields[field] == "value":
            out[field] = _typed(json_name(field), fields[field], value)
    return out


def _typed(field: str, kind: str, value: JSON) -> JSON:
    if (kind == "int64" and isinstance(value, str) and value.isascii()
            and value.lstrip("-").isdigit()):
        value = int(value)
    valid = {
        "string": isinstance(value, str),
        "int64": isinstance(value, int) and not isinstance(value, bool),
        "struct": isinstance(value, typing.Mapping),
        "list": isinstance(value, list),
        "value": True,
    }[kind]
    if not valid and kind in ("struct", "list"):
        raise _proto_error(f"syntax error: unexpected token {_token(value)}")
    if not valid:
        raise _proto_error(f"invalid value for {kind} field {field}: {_token(value)}")
    return value


def _token(value: JSON) -> str:
    if isinstance(value, list):
        return "["
    if isinstance(value, typing.Mapping):
        return "{"
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)
