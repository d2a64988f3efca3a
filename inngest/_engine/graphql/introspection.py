"""GraphQL introspection (spec section 4): ``__schema``, ``__type(name:)`` and the meta-types.

The meta-types are ordinary object types of the executor whose resolvers describe a
``Schema``: ``with_introspection(schema)`` adds them, and the two root fields, to it. What
they answer follows the real server (gqlgen, measured): the October 2021 meta-schema (no
``isOneOf``, no deprecated arguments), ``types`` sorted by name without the meta-types, and
empty lists, not null, for the fields a kind does not have. Only our types are described.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence

from inngest._engine.graphql.syntax import InputDecl, TypeRef
from inngest._engine.graphql.parser import parse_input_decl, parse_type
from inngest._engine.graphql.typesystem import (
    BUILT_IN_SCALARS, KNOWN_DIRECTIVES, Field, Resolver, Schema,
)
from inngest._engine.graphql.validation import render_value

Args = dict[str, object]

# The real server's words for what the spec defines.
_DESCRIPTIONS = {
    "Boolean": "The `Boolean` scalar type represents `true` or `false`.",
    "Float": "The `Float` scalar type represents signed double-precision fractional values as "
             "specified by [IEEE 754](http://en.wikipedia.org/wiki/IEEE_floating_point).",
    "ID": "The `ID` scalar type represents a unique identifier, often used to refetch an object "
          "or as key for a cache. The ID type appears in a JSON response as a String; however, "
          "it is not intended to be human-readable. When expected as an input type, any string "
          '(such as "4") or integer (such as 4) input value will be accepted as an ID.',
    "Int": "The `Int` scalar type represents non-fractional signed whole numeric values. Int "
           "can represent values between -(2^31) and 2^31 - 1.",
    "String": "The `String`scalar type represents textual data, represented as UTF-8 character "
              "sequences. The String type is most often used by GraphQL to represent free-form "
              "human-readable text.",
    "@include": "The @include directive may be provided for fields, fragment spreads, and "
                "inline fragments, and allows for conditional inclusion during execution as "
                "described by the if argument.",
    "@skip": "The @skip directive may be provided for fields, fragment spreads, and inline "
             "fragments, and allows for conditional exclusion during execution as described "
             "by the if argument.",
    "@defer": "The @defer directive may be specified on a fragment spread to imply "
              "de-prioritization, that causes the fragment to be omitted in the initial "
              "response, and delivered as a subsequent response afterward. A query with @defer "
              "directive will cause the request to potentially return multiple responses, "
              "where non-deferred data is delivered in the initial response and data deferred "
              "delivered in a subsequent response. @include and @skip take precedence over "
              "@defer.",
    "@deprecated": "The @deprecated built-in directive is used within the type system "
                   "definition language to indicate deprecated portions of a GraphQL "
                   "service's schema, such as deprecated fields on a type, arguments on a "
                   "field, input fields on an input type, or values of an enum type.",
    "@specifiedBy": "The @specifiedBy built-in directive is used within the type system "
                    "definition language to provide a scalar specification URL for specifying "
                    "the behavior of custom scalar types.",
}


@dataclasses.dataclass(frozen=True)
class _InputValue:
    """An argument or input object field: ``__InputValue``."""

    name: str
    decl: InputDecl


@dataclasses.dataclass(frozen=True)
class _FieldView:
    """An object type's field: ``__Field``."""

    name: str
    field: Field


@dataclasses.dataclass(frozen=True)
class _Directive:
    name: str


def _input_values(declared: Mapping[str, str]) -> list[_InputValue]:
    return [_InputValue(name, parse_input_decl(text)) for name, text in declared.items()]


def default_value_text(decl: InputDecl) -> str | None:
    """A default as GraphQL literal text (``"local"``, ``100``, ``QUEUED_AT``), as gqlgen
    prints it; None without one."""
    return render_value(decl.default) if decl.has_default else None


class _Describer:
    """Resolvers of the meta-types' fields, describing ``schema`` (set once it is built)."""

    def __init__(self) -> None:
        self.schema = Schema(types={})

    def named_types(self) -> list[str]:
        schema = self.schema
        names = {*schema.types, *schema.enums, *schema.inputs, *schema.scalars,
                 *BUILT_IN_SCALARS}
        return sorted(name for name in names if not name.startswith("__"))

    def type_named(self, name: object) -> TypeRef | None:
        known = name in self.schema.types or self.schema.is_input_type(str(name))
        return TypeRef(name=str(name)) if known else None

    def kind(self, ref: TypeRef) -> str:
        if ref.non_null:
            return "NON_NULL"
        if ref.of is not None:
            return "LIST"
        name = str(ref.name)
        if name in self.schema.unions:
            return "UNION"
        if name in self.schema.types:
            return "OBJECT"
        if name in self.schema.enums:
            return "ENUM"
        return "INPUT_OBJECT" if name in self.schema.inputs else "SCALAR"

    def fields(self, ref: TypeRef, include_deprecated: bool) -> list[_FieldView]:
        if self.kind(ref) != "OBJECT":
            return []
        declared = self.schema.types[str(ref.name)]
        return [_FieldView(name, field) for name, field in declared.items()
                if not name.startswith("__") and (include_deprecated or not field.deprecated)]

    def possible_types(self, ref: TypeRef) -> list[TypeRef]:
        if self.kind(ref) != "UNION":
            return []
        return [TypeRef(name=name) for name in self.schema.unions[str(ref.name)]]

    def enum_values(self, ref: TypeRef) -> list[str]:
        return list(self.schema.enums[str(ref.name)]) if self.kind(ref) == "ENUM" else []

    def input_fields(self, ref: TypeRef) -> list[_InputValue]:
        if self.kind(ref) != "INPUT_OBJECT":
            return []
        return _input_values(self.schema.inputs[str(ref.name)])

    def root(self, name: str | None) -> TypeRef | None:
        return None if name is None else TypeRef(name=name)


def _of_type(ref: TypeRef) -> TypeRef | None:
    if ref.non_null:
        return dataclasses.replace(ref, non_null=False)
    return ref.of


def _name(ref: TypeRef) -> str | None:
    """A named type's name; None for a list or non-null wrapper."""
    return ref.name if ref.of is None and not ref.non_null else None


def _description(ref: TypeRef) -> str | None:
    name = _name(ref)
    return None if name is None else _DESCRIPTIONS.get(name)


_Parent = typing.TypeVar("_Parent")


def _on(kind: type[_Parent], read: Callable[[_Parent], object]) -> Resolver:
    """A resolver reading its ``kind`` parent."""
    def resolve(parent: object, args: Args, ctx: object) -> object:
        assert isinstance(parent, kind)
        return read(parent)

    return resolve


def _on_type(read: Callable[[TypeRef], object]) -> Resolver:
    return _on(TypeRef, read)


def _on_schema(read: Callable[[_Describer], object]) -> Resolver:
    return _on(_Describer, read)


def _schema_type() -> dict[str, Field]:
    return {
        "description": Field("String", _on_schema(lambda d: None)),
        "types": Field("[__Type!]!", _on_schema(lambda d: [
            TypeRef(name=name) for name in d.named_types()])),
        "queryType": Field("__Type!", _on_schema(lambda d: d.root(d.schema.query))),
        "mutationType": Field("__Type", _on_schema(lambda d: d.root(d.schema.mutation))),
        "subscriptionType": Field("__Type", _on_schema(lambda d: None)),
        "directives": Field("[__Directive!]!", _on_schema(lambda d: [
            _Directive(name) for name in sorted(KNOWN_DIRECTIVES)])),
    }


def _type_type(describer: _Describer) -> dict[str, Field]:
    deprecated = {"includeDeprecated": "Boolean = false"}
    return {
        "kind": Field("__TypeKind!", _on_type(describer.kind)),
        "name": Field("String", _on_type(_name)),
        "description": Field("String", _on_type(_description)),
        "fields": Field("[__Field!]", _type_fields(describer), deprecated),
        "interfaces": Field("[__Type!]", _on_type(lambda ref: [])),
        "possibleTypes": Field("[__Type!]", _on_type(describer.possible_types)),
        "enumValues": Field("[__EnumValue!]", _on_type(describer.enum_values), deprecated),
        "inputFields": Field("[__InputValue!]", _on_type(describer.input_fields)),
        "ofType": Field("__Type", _on_type(_of_type)),
        "specifiedByURL": Field("String", _on_type(lambda ref: None)),
    }


def _type_fields(describer: _Describer) -> Resolver:
    def resolve(parent: object, args: Args, ctx: object) -> object:
        assert isinstance(parent, TypeRef)
        return describer.fields(parent, args.get("includeDeprecated") is True)

    return resolve


def _field_type() -> dict[str, Field]:
    return {
        "name": Field("String!", _on(_FieldView, lambda view: view.name)),
        "description": Field("String", _on(_FieldView, lambda view: None)),
        "args": Field("[__InputValue!]!", _on(_FieldView, lambda view: _input_values(
            view.field.args))),
        "type": Field("__Type!", _on(_FieldView, lambda view: parse_type(view.field.type))),
        "isDeprecated": Field("Boolean!", _on(_FieldView, lambda view: view.field.deprecated)),
        "deprecationReason": Field("String", _on(
            _FieldView, lambda view: view.field.deprecation_reason)),
    }


def _input_value_type() -> dict[str, Field]:
    return {
        "name": Field("String!", _on(_InputValue, lambda value: value.name)),
        "description": Field("String", _on(_InputValue, lambda value: None)),
        "type": Field("__Type!", _on(_InputValue, lambda value: value.decl.type)),
        "defaultValue": Field("String", _on(_InputValue, lambda value: default_value_text(
            value.decl))),
    }


def _enum_value_type() -> dict[str, Field]:
    return {
        "name": Field("String!", _on(str, lambda name: name)),
        "description": Field("String", _on(str, lambda name: None)),
        "isDeprecated": Field("Boolean!", _on(str, lambda name: False)),
        "deprecationReason": Field("String", _on(str, lambda name: None)),
    }


def _directive_type() -> dict[str, Field]:
    return {
        "name": Field("String!", _on(_Directive, lambda directive: directive.name)),
        "description": Field("String", _on(_Directive, lambda directive: _DESCRIPTIONS.get(
            f"@{directive.name}"))),
        "locations": Field("[__DirectiveLocation!]!", _on(
            _Directive, lambda directive: list(KNOWN_DIRECTIVES[directive.name].locations))),
        "args": Field("[__InputValue!]!", _on(_Directive, lambda directive: _input_values(
            KNOWN_DIRECTIVES[directive.name].args))),
        "isRepeatable": Field("Boolean!", _on(_Directive, lambda directive: False)),
    }


_META_ENUMS: Mapping[str, Sequence[str]] = {
    "__TypeKind": ("SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT", "LIST",
                   "NON_NULL"),
    "__DirectiveLocation": (
        "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
        "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT",
        "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE",
        "INPUT_OBJECT", "INPUT_FIELD_DEFINITION"),
}


def with_introspection(schema: Schema) -> Schema:
    """``schema`` with the meta-types and the query root's ``__schema`` and ``__type``."""
    describer = _Describer()
    root_fields = {
        **schema.types[schema.query],
        "__schema": Field("__Schema!", lambda p, a, ctx: describer),
        "__type": Field("__Type", lambda p, a, ctx: describer.type_named(a.get("name")),
                        {"name": "String!"}),
    }
    meta_types = {
        "__Schema": _schema_type(), "__Type": _type_type(describer),
        "__Field": _field_type(), "__InputValue": _input_value_type(),
        "__EnumValue": _enum_value_type(), "__Directive": _directive_type(),
    }
    described = dataclasses.replace(
        schema, types={**schema.types, schema.query: root_fields, **meta_types},
        enums={**schema.enums, **_META_ENUMS})
    describer.schema = described
    return described
