"""The syntax tree of an executable GraphQL document, as the parser builds it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Union

Location = tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Variable:
    name: str


@dataclasses.dataclass(frozen=True)
class EnumValue:
    name: str


@dataclasses.dataclass(frozen=True)
class Argument:
    """``name: value`` in an argument list or an object value, with where each one starts."""

    name: str
    value: Value
    loc: Location
    value_loc: Location


@dataclasses.dataclass(frozen=True)
class ObjectValue:
    fields: tuple[Argument, ...]
    loc: Location


@dataclasses.dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]
    locs: tuple[Location, ...]


class FloatLiteral(float):
    """A float written in a document, with its text: gqlparser's messages quote the text
    (``1e2``, not ``100.0``). ``coercion.literal`` makes it a plain float for execution."""

    text: str

    def __new__(cls, text: str) -> FloatLiteral:
        value = super().__new__(cls, text)  # past a float64's range: infinity
        value.text = text
        return value


Value = Union[None, bool, int, float, str, Variable, EnumValue, ObjectValue, ListValue]


@dataclasses.dataclass(frozen=True)
class TypeRef:
    """A named type (``name`` set) or a list type (``of`` set), possibly non-null."""

    name: str | None = None
    of: TypeRef | None = None
    non_null: bool = False

    def __str__(self) -> str:
        inner = self.name if self.of is None else f"[{self.of}]"
        return f"{inner}!" if self.non_null else str(inner)

    def named(self) -> str:
        return self.name if self.of is None else self.of.named()  # type: ignore[return-value]


Arguments = tuple[Argument, ...]


@dataclasses.dataclass(frozen=True)
class InputDecl:
    """The declared type of an argument or input object field, and its default."""

    type: TypeRef
    default: Value
    has_default: bool

    @property
    def required(self) -> bool:
        return self.type.non_null and not self.has_default


@dataclasses.dataclass(frozen=True)
class Directive:
    name: str
    args: Arguments
    loc: Location


@dataclasses.dataclass(frozen=True)
class FieldNode:
    alias: str | None
    name: str
    args: Arguments
    directives: tuple[Directive, ...]
    selections: tuple[Selection, ...]
    loc: Location

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclasses.dataclass(frozen=True)
class FragmentSpread:
    name: str
    directives: tuple[Directive, ...]
    loc: Location


@dataclasses.dataclass(frozen=True)
class InlineFragment:
    type_condition: str | None
    directives: tuple[Directive, ...]
    selections: tuple[Selection, ...]
    loc: Location


Selection = Union[FieldNode, FragmentSpread, InlineFragment]


@dataclasses.dataclass(frozen=True)
class VariableDef:
    name: str
    type: TypeRef
    default: Value
    has_default: bool
    directives: tuple[Directive, ...]
    loc: Location
    default_loc: Location


@dataclasses.dataclass(frozen=True)
class Operation:
    kind: str
    name: str | None
    variables: tuple[VariableDef, ...]
    directives: tuple[Directive, ...]
    selections: tuple[Selection, ...]
    loc: Location


@dataclasses.dataclass(frozen=True)
class Fragment:
    name: str
    type_condition: str
    directives: tuple[Directive, ...]
    selections: tuple[Selection, ...]
    loc: Location


@dataclasses.dataclass(frozen=True)
class Document:
    """``definitions`` lists every fragment as written; ``fragments`` maps each name to its
    first definition, the one spreads use."""

    operations: tuple[Operation, ...]
    fragments: Mapping[str, Fragment]
    definitions: tuple[Fragment, ...]
