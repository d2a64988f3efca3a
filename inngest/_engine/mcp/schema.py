"""Checking a tool's arguments against its input schema, with the real server's messages.

Only what the tools' schemas use: ``type`` (one name or a list), ``properties``,
``items``, ``required`` and ``additionalProperties: false``.
"""

from __future__ import annotations

import typing

from inngest._engine.cel.gofmt import go_value
from inngest._engine.models import JSON


class SchemaError(ValueError):
    """Arguments the schema refuses; the message names where, as the real server does."""


def validate(value: JSON, schema: typing.Mapping[str, JSON], path: str = "root") -> None:
    """Raise ``SchemaError`` naming each level down to the first problem, as
    ``validating root: validating /properties/ids: validating /properties/ids/items: …``."""
    try:
        _validate_here(value, schema, "" if path == "root" else path)
    except SchemaError as err:
        raise SchemaError(f"validating {path}: {err}") from None


def _validate_here(value: JSON, schema: typing.Mapping[str, JSON], pointer: str) -> None:
    _check_type(value, schema)
    if isinstance(value, dict):
        _check_object(value, schema, pointer)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for item in value:
            validate(item, items, f"{pointer}/items")


def _check_object(value: dict[str, JSON], schema: typing.Mapping[str, JSON],
                  pointer: str) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name, sub in properties.items():
        if name in value and isinstance(sub, dict):
            validate(value[name], sub, f"{pointer}/properties/{name}")
    required = schema.get("required")
    missing = [name for name in (required if isinstance(required, list) else [])
               if isinstance(name, str) and name not in value]
    if missing:
        raise SchemaError(f"required: missing properties: {_quoted(missing)}")
    if schema.get("additionalProperties") is False:
        extra = [name for name in value if name not in properties]
        if extra:
            raise SchemaError(f"unexpected additional properties {_quoted(extra)}")


def _check_type(value: JSON, schema: typing.Mapping[str, JSON]) -> None:
    wanted = schema.get("type")
    if wanted is None:
        return
    names = wanted if isinstance(wanted, list) else [wanted]
    kind = type_name(value)
    if kind in names or (kind == "integer" and "number" in names):
        return
    want = f'"{names[0]}"' if len(names) == 1 else f'one of "{", ".join(map(str, names))}"'
    raise SchemaError(f"type: {_shown(value)} has type \"{kind}\", want {want}")


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


def _quoted(names: list[str]) -> str:
    return "[" + " ".join(f'"{name}"' for name in names) + "]"


def _shown(value: JSON) -> str:
    """The value as the real server's validator shows it: Go's ``%v`` of the argument
    decoded with numbers as float64 (``1.0`` is ``1``), a null as an empty reflect.Value."""
    return "<invalid reflect.Value>" if value is None else go_value(value)
