"""The schema the executor runs, and the directives validation knows.

The schema is plain Python: each object type maps field names to a ``Field`` holding the
result type (GraphQL notation such as ``"Run"``, ``"[Span!]!"`` or ``"String"``) and a
resolver ``(parent, args, ctx) -> value``. Type names absent from ``Schema.types`` are
scalars and are returned as the resolver produced them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypeGuard

Resolver = Callable[[object, dict[str, object], object], object]


def is_mapping(value: object) -> TypeGuard[Mapping[object, object]]:
    """``isinstance(value, Mapping)``, without typing the mapping's items as ``Any``."""
    return isinstance(value, Mapping)


def is_list(value: object) -> TypeGuard[Sequence[object]]:
    """``isinstance(value, (list, tuple))``, without typing the items as ``Any``."""
    return isinstance(value, (list, tuple))


@dataclasses.dataclass(frozen=True)
class Field:
    """A field's result type in GraphQL notation, its resolver and its arguments.

    Without a resolver the field reads the parent's key (mappings) or attribute. ``args``
    declares each argument in SDL notation with its default, as ``{"first": "Int! = 100"}``;
    an argument not declared there is refused.
    """

    type: str
    resolve: Resolver | None = None
    args: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # ``@deprecated`` in the real server's schema (introspection hides it by default).
    deprecated: bool = False
    deprecation_reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Schema:
    """``types`` holds object types (a union too, with no fields); ``unions`` the object
    types each union may be. A union's value names its type under ``__typename``.

    Input types: ``enums`` maps each enum to its values, ``inputs`` each input object to its
    fields (declared as ``Field.args`` are), ``scalars`` names the custom scalars, which take
    any literal (their resolvers parse them, as gqlgen's do). Introspection lists union
    members and enum values in their collections' order: give them as tuples."""

    types: Mapping[str, Mapping[str, Field]]
    query: str = "Query"
    mutation: str | None = None
    unions: Mapping[str, Collection[str]] = dataclasses.field(default_factory=dict)
    enums: Mapping[str, Collection[str]] = dataclasses.field(default_factory=dict)
    inputs: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    scalars: frozenset[str] = frozenset()

    def matches(self, condition: str | None, type_name: str) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``type_name``."""
        return condition in (None, type_name) or type_name in self.unions.get(str(condition), ())

    def is_input_type(self, name: str) -> bool:
        return (name in BUILT_IN_SCALARS or name in self.scalars or name in self.enums
                or name in self.inputs)

    def kind(self, name: str) -> str | None:
        """The named type's kind as introspection names it; None for an unknown name."""
        if name in self.unions:
            return "UNION"
        if name in self.types:
            return "OBJECT"
        if name in self.enums:
            return "ENUM"
        if name in self.inputs:
            return "INPUT_OBJECT"
        return "SCALAR" if name in BUILT_IN_SCALARS or name in self.scalars else None

    def possible_types(self, name: str) -> Collection[str]:
        """The object types a value of a composite type may be."""
        return (name,) if self.kind(name) == "OBJECT" else self.unions.get(name, ())


BUILT_IN_SCALARS = frozenset(("Int", "Float", "String", "Boolean", "ID"))
DIRECTIVE_ARGS: Mapping[str, Mapping[str, str]] = {
    "include": {"if": "Boolean!"}, "skip": {"if": "Boolean!"}}


@dataclasses.dataclass(frozen=True)
class _DirectiveDecl:
    locations: tuple[str, ...]
    args: Mapping[str, str]


# The directives the dev server's validator knows (gqlparser's prelude), and where each fits.
_SELECTION = ("FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT")
KNOWN_DIRECTIVES: Mapping[str, _DirectiveDecl] = {
    "defer": _DirectiveDecl(("FRAGMENT_SPREAD", "INLINE_FRAGMENT"),
                            {"if": "Boolean = true", "label": "String"}),
    "deprecated": _DirectiveDecl(
        ("FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"),
        {"reason": 'String = "No longer supported"'}),
    "include": _DirectiveDecl(_SELECTION, DIRECTIVE_ARGS["include"]),
    "skip": _DirectiveDecl(_SELECTION, DIRECTIVE_ARGS["skip"]),
    "specifiedBy": _DirectiveDecl(("SCALAR",), {"url": "String!"}),
}
