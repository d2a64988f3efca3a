"""Checking a tool's arguments against its input schema, with the real server's messages.

Only what the tools' schemas use: ``type`` (one name or a list), ``properties``,
``items``, ``required`` and ``additionalProperties: false``.
"""

from __future__ import annotations

import typing

from inngest._engine.models import JSON


class SchemaError(ValueError):
    """Arguments the schema refuses; the message names where, as the real server does."""


def validate(value: JSON, schema: typing.Mapping[str, JSON], path: str = "root") -> None:
    _check_type(value, schema, path)
    if isinstance(value, dict):
        _check_object(value, schema, path)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for index, item in enumerate(value):
            validate(item, items, f"{_pointer(path)}/items/{index}")


def _check_object(value: dict[str, JSON], schema: typing.Mapping[str, JSON], path: str) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name, sub in properties.items():
        if name in value and isinstance(sub, dict):
            _check_type(value[name], sub, f"{_pointer(path)}/properties/{name}")
    required = schema.get("required")
    missing = [name for name in (required if isinstance(required, list) else [])
               if isinstance(name, str) and name not in value]
    if missing:
        raise SchemaError(f"validating {path}: required: missing properties: {_quoted(missing)}")
    if schema.get("additionalProperties") is False:
        extra = [name for name in value if name not in properties]
        if extra:
            raise SchemaError(f"validating {path}: unexpected additional properties "
                              f"{_quoted(extra)}")


def _check_type(value: JSON, schema: typing.Mapping[str, JSON], path: str) -> None:
    wanted = schema.get("type")
    if wanted is None:
        return
    names = wanted if isinstance(wanted, list) else [wanted]
    kind = type_name(value)
    if kind in names or (kind == "integer" and "number" in names):
        return
    want = names[0] if len(names) == 1 else names
    where = "" if path == "root" else f"validating {path}: "
    raise SchemaError(f"validating root: {where}type: {_shown(value)} has type \"{kind}\", "
                      f"want {_go_value(want)}")


def type_name(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _pointer(path: str) -> str:
    return "" if path == "root" else path


def _quoted(names: list[str]) -> str:
    return "[" + " ".join(f'"{name}"' for name in names) + "]"


def _go_value(value: JSON) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return f'"{value}"'


def _shown(value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (list, dict)):
        return type_name(value)
    return str(value)
