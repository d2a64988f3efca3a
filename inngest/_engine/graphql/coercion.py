"""Input coercion: argument literals and variables' JSON values as their declared types,
with gqlgen's words for a value that does not fit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping

from inngest._engine.graphql.syntax import (
    EnumValue, FloatLiteral, ListValue, ObjectValue, Operation, TypeRef, Value, Variable,
)
from inngest._engine.graphql.errors import GraphQLError, PathKey
from inngest._engine.graphql.parser import parse_input_decl
from inngest._engine.graphql.typesystem import Schema, is_list, is_mapping
from inngest._engine.graphql.uploads import Upload
from inngest._engine.payload import NegativeZero, NumberText, number_text

_MISSING = object()


def literal(value: Value, variables: Mapping[str, object]) -> object:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, ObjectValue):
        return {
            field.name: literal(field.value, variables)
            for field in value.fields
            if not isinstance(field.value, Variable) or field.value.name in variables
        }
    if isinstance(value, ListValue):
        return [literal(item, variables) for item in value.items]
    return float(value) if isinstance(value, FloatLiteral) else value


class InputError(Exception):
    """A variable's value that does not fit its type, at ``path``."""

    def __init__(self, message: str, path: list[PathKey]) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


_INT_TEXT = re.compile(r"-?[0-9]+")
_FLOAT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _go_kind(value: object) -> str:
    """The Go kind gqlgen names for a JSON value; numbers are json.Number, a string kind."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Upload):
        return "struct"
    if is_mapping(value):
        return "map"
    return "slice" if is_list(value) else "string"


_INT64_MAX = 2 ** 63 - 1


def _coerce_int(value: object) -> object:
    if isinstance(value, NegativeZero):
        return 0  # the text -0, an integer
    if isinstance(value, NumberText):  # a JSON number past a float64: a fraction or exponent
        value = int(value) if _INT_TEXT.fullmatch(value) else math.inf
    if isinstance(value, float):
        # gqlgen's own words for a JSON number with a fraction or exponent (measured).
        raise ValueError("cannot use value 0 as Int")
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value) if -_INT64_MAX - 1 <= int(value) <= _INT64_MAX else _MISSING
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
            # A JSON number past an int64: gqlgen names the bound it was clamped to (measured).
            raise ValueError(f"cannot use value {_INT64_MAX if value > 0 else -_INT64_MAX - 1}"
                             " as Int")
        return value
    return _MISSING


def _coerce_float(value: object) -> object:
    if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value):
        return float(value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISSING


def _coerce_string(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)  # a JSON number is read as its text
    return value if isinstance(value, str) else _MISSING


def _coerce_boolean(value: object) -> object:
    return value if isinstance(value, bool) else _MISSING


# Each built-in scalar's variable coercion: the value to use, or _MISSING when it does not fit.
_SCALAR_VARIABLES: Mapping[str, Callable[[object], object]] = {
    "Int": _coerce_int, "Float": _coerce_float, "String": _coerce_string,
    "Boolean": _coerce_boolean, "ID": _coerce_string,
}


def coerce_input(schema: Schema, value: object, type_ref: TypeRef, path: list[PathKey]) -> object:
    """A JSON value as an input of ``type_ref``, worded as gqlgen words what does not fit."""
    if value is None:
        if type_ref.non_null:
            raise InputError("cannot be null", path)
        return None
    if type_ref.of is not None:
        items = value if is_list(value) else [value]
        return [coerce_input(schema, item, type_ref.of, path + [index])
                for index, item in enumerate(items)]
    name = str(type_ref.name)
    if name in schema.inputs:
        return _coerce_input_object(schema, value, name, path)
    if name in schema.enums:
        if not isinstance(value, str) or value not in schema.enums[name]:
            shown = value if isinstance(value, str) else json.dumps(value)
            raise InputError(f"{shown} is not a valid {name}", path)
        return value
    if name not in _SCALAR_VARIABLES:
        return value  # custom scalars: their resolvers parse them
    try:
        coerced = _SCALAR_VARIABLES[name](value)
    except ValueError as err:
        raise InputError(str(err), path) from None
    if coerced is _MISSING:
        raise InputError(f"cannot use {_go_kind(value)} as {name}", path)
    return coerced


def _coerce_input_object(
    schema: Schema, value: object, name: str, path: list[PathKey]
) -> dict[str, object]:
    if not is_mapping(value):
        raise InputError(f"must be a {name}", path)
    declared = schema.inputs[name]
    for key in value:
        if key not in declared:
            raise InputError("unknown field", path + [str(key)])
    coerced: dict[str, object] = {}
    for field_name, text in declared.items():
        decl = parse_input_decl(text)
        if field_name in value:
            coerced[field_name] = coerce_input(
                schema, value[field_name], decl.type, path + [field_name])
        elif decl.has_default:
            coerced[field_name] = literal(decl.default, {})
        elif decl.type.non_null:
            raise InputError("must be defined", path + [field_name])
    return coerced


def coerce_variables(
    schema: Schema, operation: Operation, provided: Mapping[str, object]
) -> tuple[dict[str, object], list[GraphQLError]]:
    """The variables' values; like gqlgen, only the first that does not fit is reported."""
    coerced: dict[str, object] = {}
    for definition in operation.variables:
        path: list[PathKey] = ["variable", definition.name]
        value = provided.get(definition.name, _MISSING)
        try:
            if value is not _MISSING:
                coerced[definition.name] = coerce_input(schema, value, definition.type, path)
            elif definition.has_default:
                coerced[definition.name] = literal(definition.default, {})
            elif definition.type.non_null:
                raise InputError("must be defined", path)
        except InputError as err:
            return coerced, [GraphQLError(err.message, path=err.path)]
    return coerced, []
