"""A small, dependency-free GraphQL executor: lexer, parser, validation and execution.

The schema is plain Python: each object type maps field names to a ``Field`` holding the
result type (GraphQL notation such as ``"Run"``, ``"[Span!]!"`` or ``"String"``) and a
resolver ``(parent, args, ctx) -> value``. Type names absent from ``Schema.types`` are
scalars and are returned as the resolver produced them.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import json
import re
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TypeGuard, Union

from inngest._engine.errors import EngineError

Resolver = Callable[[object, dict[str, object], object], object]
Location = tuple[int, int]
PathKey = Union[str, int]


def is_mapping(value: object) -> TypeGuard[Mapping[object, object]]:
    """``isinstance(value, Mapping)``, without typing the mapping's items as ``Any``."""
    return isinstance(value, Mapping)


def is_list(value: object) -> TypeGuard[Sequence[object]]:
    """``isinstance(value, (list, tuple))``, without typing the items as ``Any``."""
    return isinstance(value, (list, tuple))


# Codes of errors found before execution, as the real server (gqlgen) names them.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class GraphQLError(EngineError):
    """An error reported in the ``errors`` array of a GraphQL response."""

    code = "graphql_error"

    def __init__(
        self,
        message: str,
        locations: Iterable[Location] = (),
        path: Iterable[PathKey] | None = None,
    ) -> None:
        super().__init__(message)
        self.locations = list(locations)
        self.path = None if path is None else list(path)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"message": self.message}
        if self.locations:
            out["locations"] = [{"line": ln, "column": col} for ln, col in self.locations]
        if self.path is not None:
            out["path"] = self.path
        return out


# ---------------------------------------------------------------------------- AST


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
    selections: tuple[Selection, ...]
    loc: Location


@dataclasses.dataclass(frozen=True)
class Document:
    operations: tuple[Operation, ...]
    fragments: Mapping[str, Fragment]


# ---------------------------------------------------------------------------- lexer

_TOKEN_RE = re.compile(
    r"""
    (?P<ignored>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\[\]{}:=@|])
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<float>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+[eE][+-]?[0-9]+|\.[0-9]+|[eE][+-]?[0-9]+))
  | (?P<int>-?(?:0|[1-9][0-9]*))
  | (?P<block>\"\"\"(?:\\\"\"\"|(?!\"\"\")[\s\S])*\"\"\")
  | (?P<string>"(?:[^"\\\n\r]|\\(?:u[0-9A-Fa-f]{4}|["\\/bfnrt]))*")
    """,
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NAME_CHAR = re.compile(r"[_0-9A-Za-z.]")
# Selection sets, list and object values and list types inside each other: real queries
# stay under 20 levels.
MAX_NESTING = 100
_MAX_INT_DIGITS = 1_000


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # punct, spread, name, int, float, string, eof
    value: str
    loc: Location

    def describe(self) -> str:
        if self.kind == "eof":
            return "<EOF>"
        if self.kind in ("punct", "spread"):
            return f'"{self.value}"'
        return f'{self.kind.capitalize()} "{self.value}"'


def _string_value(raw: str) -> str:
    return re.sub(
        r"\\(u[0-9A-Fa-f]{4}|.)",
        lambda m: chr(int(m[1][1:], 16)) if len(m[1]) == 5 else _ESCAPES[m[1]],
        raw[1:-1],
    )


def _block_string_value(raw: str) -> str:
    lines = raw[3:-3].replace('\\"""', '"""').splitlines()
    indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines[1:] if ln.strip(" \t")]
    common = min(indents, default=0)
    lines = lines[:1] + [ln[common:] for ln in lines[1:]]
    while lines and not lines[0].strip(" \t"):
        lines.pop(0)
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    return "\n".join(lines)


def _tokenize(source: str) -> list[_Token]:
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]

    def loc_of(pos: int) -> Location:
        line = bisect.bisect_right(line_starts, pos)
        return line, pos - line_starts[line - 1] + 1

    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            message = "Unterminated string." if source[pos] == '"' else (
                f"Unexpected character: {source[pos]!r}."
            )
            raise GraphQLError(f"Syntax Error: {message}", [loc_of(pos)])
        kind, text = str(match.lastgroup), match.group()
        if kind in ("int", "float") and _NAME_CHAR.match(source, match.end()):
            raise GraphQLError(f"Syntax Error: Invalid number {text!r}.", [loc_of(pos)])
        if kind == "block":
            tokens.append(_Token("string", _block_string_value(text), loc_of(pos)))
        elif kind == "string":
            tokens.append(_Token("string", _string_value(text), loc_of(pos)))
        elif kind != "ignored":
            tokens.append(_Token(kind, text, loc_of(pos)))
        pos = match.end()
    tokens.append(_Token("eof", "", loc_of(pos)))
    return tokens


# ---------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self._tokens = _tokenize(source)
        self._index = 0
        self._depth = 0

    def _enter(self) -> None:
        """One more level of nesting; refused past MAX_NESTING, so that parsing, validating
        and executing a document stay within Python's recursion limit."""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise GraphQLError(
                f"Syntax Error: Document is nested more than {MAX_NESTING} levels deep.",
                [self._tokens[self._index].loc],
            )

    def _peek(self, kind: str, value: str | None = None) -> bool:
        token = self._tokens[self._index]
        return token.kind == kind and (value is None or token.value == value)

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _skip(self, kind: str, value: str | None = None) -> bool:
        if self._peek(kind, value):
            self._index += 1
            return True
        return False

    def _unexpected(self, token: _Token | None = None) -> GraphQLError:
        token = token or self._tokens[self._index]
        return GraphQLError(f"Syntax Error: Unexpected {token.describe()}.", [token.loc])

    def _expect(self, kind: str, value: str | None = None) -> _Token:
        if self._peek(kind, value):
            return self._advance()
        token = self._tokens[self._index]
        wanted = f'"{value}"' if value is not None else kind.capitalize()
        raise GraphQLError(
            f"Syntax Error: Expected {wanted}, found {token.describe()}.", [token.loc]
        )

    def _many(self, open_: str, close: str, item: Callable[[], object]) -> list[object]:
        self._expect("punct", open_)
        self._enter()
        items = [item()]
        while not self._skip("punct", close):
            items.append(item())
        self._depth -= 1
        return items

    def document(self) -> Document:
        operations: list[Operation] = []
        fragments: dict[str, Fragment] = {}
        while not self._peek("eof"):
            if self._peek("name", "fragment"):
                fragment = self._fragment()
                fragments[fragment.name] = fragment
            else:
                operations.append(self._operation())
        return Document(tuple(operations), fragments)

    def _operation(self) -> Operation:
        start = self._tokens[self._index]
        if self._peek("punct", "{"):
            return Operation("query", None, (), (), self._selection_set(), start.loc)
        if start.kind != "name" or start.value not in ("query", "mutation", "subscription"):
            raise self._unexpected()
        self._advance()
        name = self._advance().value if self._peek("name") else None
        variables: list[VariableDef] = []
        if self._peek("punct", "("):
            variables = self._many("(", ")", self._variable_def)  # type: ignore[assignment]
        directives = self._directives(const=False)
        return Operation(
            start.value, name, tuple(variables), directives, self._selection_set(), start.loc
        )

    def _variable_def(self) -> VariableDef:
        start = self._expect("punct", "$")
        name = self._expect("name").value
        self._expect("punct", ":")
        type_ref = self.type_ref()
        has_default = self._skip("punct", "=")
        default_loc = self._tokens[self._index].loc
        default = self._value(const=True) if has_default else None
        self._directives(const=True)
        return VariableDef(name, type_ref, default, has_default, start.loc, default_loc)

    def input_declaration(self) -> InputDecl:
        type_ref = self.type_ref()
        has_default = self._skip("punct", "=")
        default = self._value(const=True) if has_default else None
        self._expect("eof")
        return InputDecl(type_ref, default, has_default)

    def type_ref(self) -> TypeRef:
        if self._skip("punct", "["):
            self._enter()
            inner = self.type_ref()
            self._expect("punct", "]")
            self._depth -= 1
            ref = TypeRef(of=inner)
        else:
            ref = TypeRef(name=self._expect("name").value)
        return dataclasses.replace(ref, non_null=self._skip("punct", "!"))

    def _fragment(self) -> Fragment:
        start = self._advance()
        name = self._expect("name")
        if name.value == "on":
            raise self._unexpected(name)
        self._expect("name", "on")
        type_condition = self._expect("name").value
        self._directives(const=False)
        return Fragment(name.value, type_condition, self._selection_set(), start.loc)

    def _selection_set(self) -> tuple[Selection, ...]:
        return tuple(self._many("{", "}", self._selection))  # type: ignore[arg-type]

    def _selection(self) -> Selection:
        if self._peek("spread"):
            start = self._advance()
            if self._peek("name") and not self._peek("name", "on"):
                name = self._advance().value
                return FragmentSpread(name, self._directives(const=False), start.loc)
            type_condition = None
            if self._skip("name", "on"):
                type_condition = self._expect("name").value
            directives = self._directives(const=False)
            return InlineFragment(type_condition, directives, self._selection_set(), start.loc)
        start = self._expect("name")
        alias, name = None, start.value
        if self._skip("punct", ":"):
            alias, name = name, self._expect("name").value
        args = self._arguments(const=False)
        directives = self._directives(const=False)
        selections = self._selection_set() if self._peek("punct", "{") else ()
        return FieldNode(alias, name, args, directives, selections, start.loc)

    def _arguments(self, const: bool) -> Arguments:
        if not self._peek("punct", "("):
            return ()
        return tuple(self._many("(", ")", lambda: self._pair(const)))  # type: ignore[arg-type]

    def _pair(self, const: bool) -> Argument:
        name = self._expect("name")
        self._expect("punct", ":")
        value_loc = self._tokens[self._index].loc
        return Argument(name.value, self._value(const), name.loc, value_loc)

    def _directives(self, const: bool) -> tuple[Directive, ...]:
        directives: list[Directive] = []
        while self._peek("punct", "@"):
            start = self._advance()
            name = self._expect("name").value
            directives.append(Directive(name, self._arguments(const), start.loc))
        return tuple(directives)

    def _value(self, const: bool) -> Value:
        token = self._tokens[self._index]
        if token.kind == "punct" and token.value == "$" and not const:
            self._advance()
            return Variable(self._expect("name").value)
        if token.kind == "punct" and token.value == "[":
            self._advance()
            self._enter()
            items: list[Value] = []
            locs: list[Location] = []
            while not self._skip("punct", "]"):
                locs.append(self._tokens[self._index].loc)
                items.append(self._value(const))
            self._depth -= 1
            return ListValue(tuple(items), tuple(locs))
        if token.kind == "punct" and token.value == "{":
            self._advance()
            self._enter()
            fields: list[Argument] = []
            while not self._skip("punct", "}"):
                fields.append(self._pair(const))
            self._depth -= 1
            return ObjectValue(tuple(fields), token.loc)
        self._advance()
        if token.kind == "int":
            return _int_value(token)
        if token.kind == "float":
            return float(token.value)
        if token.kind == "string":
            return token.value
        if token.kind == "name":
            literals: dict[str, Value] = {"true": True, "false": False, "null": None}
            return literals[token.value] if token.value in literals else EnumValue(token.value)
        raise self._unexpected(token)


def _int_value(token: _Token) -> int:
    if len(token.value) > _MAX_INT_DIGITS:  # int() refuses these with an error of its own
        raise GraphQLError(f"Syntax Error: Int {token.value[:20]}... has too many digits.",
                           [token.loc])
    return int(token.value)


@functools.lru_cache(maxsize=256)
def parse(source: str) -> Document:
    """Parse an executable document; results are cached (documents are immutable)."""
    return _Parser(source).document()


@functools.lru_cache(maxsize=256)
def parse_type(text: str) -> TypeRef:
    return _Parser(text).type_ref()


@functools.lru_cache(maxsize=1024)
def parse_input_decl(text: str) -> InputDecl:
    """An argument's or input field's declaration in SDL notation: ``"Int! = 100"``."""
    return _Parser(text).input_declaration()


# ---------------------------------------------------------------------------- schema


def _default_resolver(name: str) -> Resolver:
    def resolve(parent: object, args: dict[str, object], ctx: object) -> object:
        if is_mapping(parent):
            return parent.get(name)
        return getattr(parent, name, None)

    return resolve


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


BUILT_IN_SCALARS = frozenset(("Int", "Float", "String", "Boolean", "ID"))
DIRECTIVE_ARGS: Mapping[str, Mapping[str, str]] = {
    "include": {"if": "Boolean!"}, "skip": {"if": "Boolean!"}}


# ---------------------------------------------------------------------------- validation


def _variables_in(value: Value) -> Iterable[Variable]:
    if isinstance(value, Variable):
        yield value
    elif isinstance(value, ListValue):
        for item in value.items:
            yield from _variables_in(item)
    elif isinstance(value, ObjectValue):
        for field in value.fields:
            yield from _variables_in(field.value)


def render_value(value: Value) -> str:
    """A literal as gqlparser prints it in messages: no spaces inside lists and objects."""
    if isinstance(value, ListValue):
        return "[" + ",".join(render_value(item) for item in value.items) + "]"
    if isinstance(value, ObjectValue):
        return "{" + ",".join(f"{f.name}:{render_value(f.value)}" for f in value.fields) + "}"
    if isinstance(value, (Variable, EnumValue)):
        return f"${value.name}" if isinstance(value, Variable) else value.name
    return json.dumps(value)


# What a literal of each built-in scalar may be (exact types: a bool is no Int), and the
# message gqlparser gives for anything else (measured on the real server).
_SCALAR_LITERALS: Mapping[str, tuple[tuple[type, ...], str]] = {
    "Int": ((int,), "Int cannot represent non-integer value: {}"),
    "Float": ((int, float), "Float cannot represent non numeric value: {}"),
    "String": ((str,), "String cannot represent a non string value: {}"),
    "Boolean": ((bool,), "Boolean cannot represent a non boolean value: {}"),
    "ID": ((str, int), "ID cannot represent a non-string and non-integer value: {}"),
}


def _fits(given: TypeRef, expected: TypeRef) -> bool:
    """Whether a variable of type ``given`` may be used where ``expected`` is."""
    if expected.non_null and not given.non_null:
        return False
    if given.of is None or expected.of is None:
        return given.of is None and expected.of is None and given.name == expected.name
    return _fits(given.of, expected.of)


class _Validator:
    def __init__(self, schema: Schema, document: Document, operation: Operation) -> None:
        self._schema = schema
        self._document = document
        self._defined = {v.name: v for v in operation.variables}
        self._checked: set[str] = set()
        self.errors: list[GraphQLError] = []

    def variable_definitions(self, operation: Operation) -> None:
        for definition in operation.variables:
            if not self._schema.is_input_type(definition.type.named()):
                self._error(f'Unknown type "{definition.type.named()}".', definition.loc)
            elif definition.has_default:
                self._check_value(definition.default, definition.type, definition.default_loc)

    def _error(self, message: str, loc: Location) -> None:
        self.errors.append(GraphQLError(message, [loc]))

    def _check_usage(
        self, args: Arguments, directives: tuple[Directive, ...], loc: Location
    ) -> None:
        for directive in directives:
            if directive.name not in DIRECTIVE_ARGS:
                self._error(f'Unknown directive "@{directive.name}".', directive.loc)
            else:
                self._check_arguments(directive.args, DIRECTIVE_ARGS[directive.name],
                                      f'directive "@{directive.name}"',
                                      f'Directive "@{directive.name}"', directive.loc)
        values = [a.value for a in args] + [a.value for d in directives for a in d.args]
        for variable in (var for value in values for var in _variables_in(value)):
            if variable.name not in self._defined:
                self._error(f'Variable "${variable.name}" is not defined.', loc)

    def _check_arguments(self, args: Arguments, declared: Mapping[str, str], owner: str,
                         subject: str, loc: Location) -> None:
        """``owner`` names where the arguments are (``field "Query.run"``) for unknown ones,
        ``subject`` (``Field "run"``) for missing ones, as gqlparser words them."""
        seen: set[str] = set()
        for arg in args:
            if arg.name in seen:
                self._error(f'There can be only one argument named "{arg.name}".', arg.loc)
                continue
            seen.add(arg.name)
            if arg.name not in declared:
                self._error(f'Unknown argument "{arg.name}" on {owner}.', loc)
            else:
                self._check_value(arg.value, parse_input_decl(declared[arg.name]).type,
                                  arg.value_loc)
        for name, text in declared.items():
            decl = parse_input_decl(text)
            if decl.required and name not in seen:
                self._error(f'{subject} argument "{name}" of type "{decl.type}" is required, '
                            "but it was not provided.", loc)

    def _check_value(self, value: Value, expected: TypeRef, loc: Location,
                     shown: TypeRef | None = None) -> None:
        """``shown`` is the type messages name: a list's, where one item stands for it."""
        shown = shown or expected
        if isinstance(value, Variable):
            self._check_variable_position(value, expected, loc)
        elif value is None:
            if expected.non_null:
                self._error(f'Expected value of type "{shown}", found null.', loc)
        elif expected.of is not None:
            self._check_list(value, expected, loc)
        elif str(expected.name) in self._schema.inputs:
            self._check_input_object(value, str(expected.name), shown, loc)
        elif isinstance(value, ObjectValue) and not self._custom_scalar(expected):
            for field in value.fields:
                self._error(f'Field "{field.name}" is not defined by type "{expected.name}".',
                            field.loc)
        elif str(expected.name) in self._schema.enums:
            self._check_enum(value, str(expected.name), shown, loc)
        elif str(expected.name) in _SCALAR_LITERALS:
            kinds, message = _SCALAR_LITERALS[str(expected.name)]
            if type(value) not in kinds:
                self._error(message.format(render_value(value)), loc)

    def _custom_scalar(self, expected: TypeRef) -> bool:
        return str(expected.name) in self._schema.scalars

    def _check_list(self, value: Value, expected: TypeRef, loc: Location) -> None:
        item_type = typing.cast(TypeRef, expected.of)
        if isinstance(value, ListValue):
            for item, item_loc in zip(value.items, value.locs):
                self._check_value(item, item_type, item_loc)
        else:  # one value stands for a list of it
            self._check_value(value, item_type, loc, shown=expected)

    def _check_enum(self, value: Value, enum: str, shown: TypeRef, loc: Location) -> None:
        if not isinstance(value, EnumValue):
            self._error(
                f'Enum "{shown}" cannot represent non-enum value: {render_value(value)}.', loc)
        elif value.name not in self._schema.enums[enum]:
            self._error(f'Value "{value.name}" does not exist in "{shown}" enum.', loc)

    def _check_input_object(self, value: Value, name: str, shown: TypeRef,
                            loc: Location) -> None:
        if not isinstance(value, ObjectValue):
            self._error(f'Expected value of type "{shown}", found {render_value(value)}.', loc)
            return
        declared = self._schema.inputs[name]
        given: set[str] = set()
        for field in value.fields:
            if field.name in given:
                self._error(f'There can be only one input field named "{field.name}".',
                            field.loc)
            elif field.name not in declared:
                self._error(f'Field "{field.name}" is not defined by type "{name}".', field.loc)
            else:
                self._check_value(field.value, parse_input_decl(declared[field.name]).type,
                                  field.value_loc)
            given.add(field.name)
        for field_name, text in declared.items():
            decl = parse_input_decl(text)
            if decl.required and field_name not in given:
                self._error(f'Field "{name}.{field_name}" of required type "{decl.type}" was '
                            "not provided.", value.loc)

    def _check_variable_position(self, variable: Variable, expected: TypeRef,
                                 loc: Location) -> None:
        definition = self._defined.get(variable.name)
        if definition is None:
            return  # reported as not defined
        allowed = expected
        if definition.has_default and definition.default is not None:
            allowed = dataclasses.replace(expected, non_null=False)
        if not _fits(definition.type, allowed):
            self._error(f'Variable "${variable.name}" of type "{definition.type}" used in '
                        f'position expecting type "{expected}".', loc)

    def selections(
        self, type_name: str, selections: tuple[Selection, ...], spreading: frozenset[str]
    ) -> None:
        for selection in selections:
            if isinstance(selection, FieldNode):
                self._field(type_name, selection, spreading)
            elif isinstance(selection, FragmentSpread):
                self._spread(selection, spreading)
            else:
                self._check_usage((), selection.directives, selection.loc)
                condition = selection.type_condition or type_name
                if self._known_type(condition, selection.loc):
                    self.selections(condition, selection.selections, spreading)

    def _known_type(self, name: str, loc: Location) -> bool:
        if name not in self._schema.types:
            self._error(f'Unknown type "{name}".', loc)
            return False
        return True

    def _spread(self, spread: FragmentSpread, spreading: frozenset[str]) -> None:
        self._check_usage((), spread.directives, spread.loc)
        fragment = self._document.fragments.get(spread.name)
        if fragment is None:
            self._error(f'Unknown fragment "{spread.name}".', spread.loc)
        elif spread.name in spreading:
            self._error(f'Cannot spread fragment "{spread.name}" within itself.', spread.loc)
        elif spread.name in self._checked:
            return  # once per fragment: spreading one many times must not cost exponential time
        elif self._known_type(fragment.type_condition, fragment.loc):
            self._checked.add(spread.name)
            self.selections(
                fragment.type_condition, fragment.selections, spreading | {spread.name}
            )

    def _field(self, type_name: str, node: FieldNode, spreading: frozenset[str]) -> None:
        self._check_usage(node.args, node.directives, node.loc)
        if node.name == "__typename":
            result_type = "String"
            self._check_arguments(node.args, {}, f'field "{type_name}.{node.name}"',
                                  f'Field "{node.name}"', node.loc)
        elif node.name not in self._schema.types[type_name]:
            self._error(f'Cannot query field "{node.name}" on type "{type_name}".', node.loc)
            return
        else:
            field = self._schema.types[type_name][node.name]
            self._check_arguments(node.args, field.args, f'field "{type_name}.{node.name}"',
                                  f'Field "{node.name}"', node.loc)
            result_type = parse_type(field.type).named()
        if result_type in self._schema.types:
            if not node.selections:
                self._error(
                    f'Field "{node.name}" of type "{result_type}" must have a selection of '
                    f'subfields. Did you mean "{node.name} {{ ... }}"?',
                    node.loc,
                )
            self.selections(result_type, node.selections, spreading)
        elif node.selections:
            self._error(
                f'Field "{node.name}" must not have a selection since type "{result_type}" '
                "has no subfields.",
                node.loc,
            )


# ---------------------------------------------------------------------------- execution

_MISSING = object()
# The real server's answer to a request without an operation: no query, an empty one, only
# comments or only fragments (measured).
NO_OPERATION = "no operation provided"


def _select_operation(document: Document, operation_name: str | None) -> Operation:
    if operation_name is not None:
        for operation in document.operations:
            if operation.name == operation_name:
                return operation
        raise GraphQLError(f'Unknown operation named "{operation_name}".')
    if not document.operations:
        raise GraphQLError(NO_OPERATION)
    if len(document.operations) != 1:
        raise GraphQLError("Must provide operation name if query contains multiple operations.")
    return document.operations[0]


def _root_type(schema: Schema, operation: Operation) -> str:
    root = schema.query if operation.kind == "query" else None
    if operation.kind == "mutation":
        root = schema.mutation
    if root is None:
        raise GraphQLError(
            f"Schema is not configured for {operation.kind}s.", [operation.loc]
        )
    return root


def _literal(value: Value, variables: Mapping[str, object]) -> object:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, ObjectValue):
        return {
            field.name: _literal(field.value, variables)
            for field in value.fields
            if not isinstance(field.value, Variable) or field.value.name in variables
        }
    if isinstance(value, ListValue):
        return [_literal(item, variables) for item in value.items]
    return value


class _InputError(Exception):
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
    if is_mapping(value):
        return "map"
    return "slice" if is_list(value) else "string"


def _coerce_int(value: object) -> object:
    if isinstance(value, float):
        # gqlgen's own words for a JSON number with a fraction or exponent (measured).
        raise ValueError("cannot use value 0 as Int")
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else _MISSING


def _coerce_float(value: object) -> object:
    if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value):
        return float(value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISSING


def _coerce_string(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)  # a JSON number is read as its text
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
            raise _InputError("cannot be null", path)
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
            raise _InputError(f"{shown} is not a valid {name}", path)
        return value
    if name not in _SCALAR_VARIABLES:
        return value  # custom scalars: their resolvers parse them
    try:
        coerced = _SCALAR_VARIABLES[name](value)
    except ValueError as err:
        raise _InputError(str(err), path) from None
    if coerced is _MISSING:
        raise _InputError(f"cannot use {_go_kind(value)} as {name}", path)
    return coerced


def _coerce_input_object(
    schema: Schema, value: object, name: str, path: list[PathKey]
) -> dict[str, object]:
    if not is_mapping(value):
        raise _InputError(f"must be a {name}", path)
    declared = schema.inputs[name]
    for key in value:
        if key not in declared:
            raise _InputError("unknown field", path + [str(key)])
    coerced: dict[str, object] = {}
    for field_name, text in declared.items():
        decl = parse_input_decl(text)
        if field_name in value:
            coerced[field_name] = coerce_input(
                schema, value[field_name], decl.type, path + [field_name])
        elif decl.type.non_null and not decl.has_default:
            raise _InputError("must be defined", path + [field_name])
    return coerced


def _coerce_variables(
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
                coerced[definition.name] = _literal(definition.default, {})
            elif definition.type.non_null:
                raise _InputError("must be defined", path)
        except _InputError as err:
            return coerced, [GraphQLError(err.message, path=err.path)]
    return coerced, []


class _Executor:
    def __init__(
        self,
        schema: Schema,
        document: Document,
        variables: Mapping[str, object],
        context: object,
    ) -> None:
        self._schema = schema
        self._document = document
        self._variables = variables
        self._context = context
        self.errors: list[GraphQLError] = []

    def _arguments(self, args: Arguments, declared: Mapping[str, str]) -> dict[str, object]:
        """The arguments as resolvers take them: defaults filled in, lists where one value
        stood for a list, numbers given for a String as their text."""
        values = {
            arg.name: _literal(arg.value, self._variables)
            for arg in args
            if not isinstance(arg.value, Variable) or arg.value.name in self._variables
        }
        for name, text in declared.items():
            decl = parse_input_decl(text)
            if name not in values and decl.has_default:
                values[name] = _literal(decl.default, {})
            if name in values:
                values[name] = coerce_input(self._schema, values[name], decl.type, [name])
        return values

    def _included(self, directives: tuple[Directive, ...]) -> bool:
        for directive in directives:
            args = self._arguments(directive.args, DIRECTIVE_ARGS[directive.name])
            condition = bool(args.get("if"))
            if condition == (directive.name == "skip"):
                return False
        return True

    def _collect(
        self,
        type_name: str,
        selections: Iterable[Selection],
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> dict[str, list[FieldNode]]:
        """The spec's CollectFields: each fragment is spread once per selection set."""
        for selection in selections:
            if not self._included(selection.directives):
                continue
            if isinstance(selection, FieldNode):
                fields.setdefault(selection.key, []).append(selection)
            elif isinstance(selection, FragmentSpread):
                fragment = self._document.fragments[selection.name]
                if (self._schema.matches(fragment.type_condition, type_name)
                        and selection.name not in visited):
                    visited.add(selection.name)
                    self._collect(type_name, fragment.selections, fields, visited)
            elif self._schema.matches(selection.type_condition, type_name):
                self._collect(type_name, selection.selections, fields, visited)
        return fields

    def execute_object(
        self,
        type_name: str,
        parent: object,
        selections: Iterable[Selection],
        path: list[PathKey],
    ) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, nodes in self._collect(type_name, selections, {}, set()).items():
            result[key] = self._field(type_name, parent, nodes, path + [key])
        return result

    def _field(
        self, type_name: str, parent: object, nodes: list[FieldNode], path: list[PathKey]
    ) -> object:
        node = nodes[0]
        if node.name == "__typename":
            return type_name
        field = self._schema.types[type_name][node.name]
        resolve = field.resolve or _default_resolver(node.name)
        try:
            value = resolve(parent, self._arguments(node.args, field.args), self._context)
        except _InputError as error:  # validated before, so not expected
            self.errors.append(GraphQLError(error.message, [node.loc], path))
            return None
        except GraphQLError as error:
            self.errors.append(GraphQLError(error.message, [node.loc], path))
            return None
        selections = [s for n in nodes for s in n.selections]
        return self._complete(parse_type(field.type), value, selections, path)

    def _complete(
        self,
        type_ref: TypeRef,
        value: object,
        selections: list[Selection],
        path: list[PathKey],
    ) -> object:
        if value is None:
            return None
        if type_ref.of is not None:
            items = value if is_list(value) else [value]
            return [
                self._complete(type_ref.of, item, selections, path + [index])
                for index, item in enumerate(items)
            ]
        name = str(type_ref.name)
        if name in self._schema.unions and isinstance(value, Mapping):
            name = str(value["__typename"])
        if name in self._schema.types:
            return self.execute_object(name, value, selections, path)
        return value


def execute(
    schema: Schema,
    document: str,
    variables: Mapping[str, object] | None,
    operation_name: str | None,
    context: object,
) -> dict[str, object]:
    """Run one GraphQL request; every problem is reported in ``errors``, never raised."""
    try:
        parsed = parse(document)
    except GraphQLError as error:
        return _request_failure([error], PARSE_FAILED)
    try:
        operation = _select_operation(parsed, operation_name)
        root = _root_type(schema, operation)
    except GraphQLError as error:
        return _request_failure([error], VALIDATION_FAILED)
    try:
        return _validate_and_run(schema, parsed, operation, root, variables or {}, context)
    except RecursionError:  # fragments spread inside each other past the parser's limit
        return _request_failure([GraphQLError(
            f"Document is nested more than {MAX_NESTING} levels deep.", [operation.loc])],
            VALIDATION_FAILED)


def _validate_and_run(
    schema: Schema,
    parsed: Document,
    operation: Operation,
    root: str,
    variables: Mapping[str, object],
    context: object,
) -> dict[str, object]:
    validator = _Validator(schema, parsed, operation)
    validator.variable_definitions(operation)
    validator.selections(root, operation.selections, frozenset())
    if validator.errors:
        return _request_failure(validator.errors, VALIDATION_FAILED)
    coerced, variable_errors = _coerce_variables(schema, operation, variables)
    if variable_errors:
        return _request_failure(variable_errors, VALIDATION_FAILED)
    executor = _Executor(schema, parsed, coerced, context)
    data = executor.execute_object(root, None, operation.selections, [])
    response: dict[str, object] = {"data": data}
    if executor.errors:
        response["errors"] = [error.to_dict() for error in executor.errors]
    return response


def _request_failure(errors: list[GraphQLError], code: str) -> dict[str, object]:
    """Errors found before execution: nothing ran, so ``data`` is null."""
    return {"data": None, "errors": [{**error.to_dict(), "extensions": {"code": code}}
                                     for error in errors]}


def failed_before_execution(response: Mapping[str, object]) -> bool:
    """Whether the request never ran: the HTTP answer is then 422, as the real server's."""
    errors = response.get("errors")
    return response.get("data") is None and is_list(errors) and any(
        is_mapping(error) and _error_code(error) in (PARSE_FAILED, VALIDATION_FAILED)
        for error in errors)


def _error_code(error: Mapping[object, object]) -> object:
    extensions = error.get("extensions")
    return extensions.get("code") if is_mapping(extensions) else None
