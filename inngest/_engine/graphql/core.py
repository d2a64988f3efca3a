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
        definitions: list[Fragment] = []
        while not self._peek("eof"):
            if self._peek("name", "fragment"):
                definitions.append(self._fragment())
            else:
                operations.append(self._operation())
        fragments: dict[str, Fragment] = {}
        for fragment in definitions:
            fragments.setdefault(fragment.name, fragment)
        return Document(tuple(operations), fragments, tuple(definitions))

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
        directives = self._directives(const=True)
        return VariableDef(name, type_ref, default, has_default, directives, start.loc,
                           default_loc)

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
        directives = self._directives(const=False)
        return Fragment(name.value, type_condition, directives, self._selection_set(), start.loc)

    def _selection_set(self) -> tuple[Selection, ...]:
        return tuple(self._many("{", "}", self._selection))  # type: ignore[arg-type]

    def _selection(self) -> Selection:
        if self._skip("spread"):
            start = self._tokens[self._index]  # where gqlparser places fragments
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
            self._advance()
            name = self._expect("name")
            directives.append(Directive(name.value, self._arguments(const), name.loc))
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


# ---------------------------------------------------------------------------- validation


def _variables_at(value: Value, loc: Location) -> Iterable[tuple[Variable, Location]]:
    """Each variable in a value starting at ``loc``, with where it is."""
    if isinstance(value, Variable):
        yield value, loc
    elif isinstance(value, ListValue):
        for item, item_loc in zip(value.items, value.locs):
            yield from _variables_at(item, item_loc)
    elif isinstance(value, ObjectValue):
        for field in value.fields:
            yield from _variables_at(field.value, field.value_loc)


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


def _distance(typed: str, option: str) -> int:
    """gqlparser's lexical distance: Levenshtein's, a change of case counting as one edit."""
    if typed == option:
        return 0
    a, b = typed.lower(), option.lower()
    if a == b:
        return 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def did_you_mean(typed: str, options: Iterable[str], prefix: str = "Did you mean") -> str:
    """The hint gqlparser appends to a message: the options close to ``typed``, closest
    first, at most five; empty when none is close."""
    threshold = len(typed) * 2 // 5 + 1
    scored = [(distance, option) for option in options
              if abs(len(option) - len(typed)) <= threshold  # else too far, and quicker
              and (distance := _distance(typed, option)) <= threshold]
    found = [f'"{option}"' for _, option in sorted(scored, key=lambda pair: pair[0])]
    return f" {prefix} {_or_list(found)}?" if found else ""


def _or_list(items: Sequence[str]) -> str:
    """``A, B, or C`` of the first five items; ``A or B`` of two."""
    items = items[:5]
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


def _spreads_in(selections: tuple[Selection, ...]) -> list[FragmentSpread]:
    """The fragment spreads below a selection set, in the order gqlparser's cycle check
    visits them (each set's own spreads, then nested sets from the last)."""
    spreads: list[FragmentSpread] = []
    pending = [selections]
    while pending:
        for selection in pending.pop():
            if isinstance(selection, FragmentSpread):
                spreads.append(selection)
            else:
                pending.append(selection.selections)
    return spreads


# A field's response name mapped to the fields giving it, in the order they are written.
_FieldMap = dict[str, list[FieldNode]]


def _fields_and_spreads(
        selections: tuple[Selection, ...]) -> tuple[_FieldMap, list[FragmentSpread]]:
    """The fields of a selection set and of its inline fragments, and its spreads."""
    fields: _FieldMap = {}
    spreads: list[FragmentSpread] = []
    pending = list(selections)
    pending.reverse()
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            fields.setdefault(selection.key, []).append(selection)
        elif isinstance(selection, FragmentSpread):
            spreads.append(selection)
        else:
            pending.extend(reversed(selection.selections))
    return fields, spreads


def _same_fields(first: _FieldMap, second: _FieldMap) -> bool:
    """Whether two field maps hold the very same fields (those of one fragment)."""
    return first.keys() == second.keys() and all(
        len(nodes) == len(second[key]) and all(a is b for a, b in zip(nodes, second[key]))
        for key, nodes in first.items())


def _raw(value: Value) -> tuple[str, str]:
    """A value as gqlparser compares arguments: its kind and its text (none for lists and
    objects, so any two of those compare equal there)."""
    if isinstance(value, (ListValue, ObjectValue)):
        return type(value).__name__, ""
    if isinstance(value, (Variable, EnumValue)):
        return type(value).__name__, value.name
    return type(value).__name__, json.dumps(value)


@dataclasses.dataclass
class _Conflict:
    response_name: str
    loc: Location
    reason: str = ""
    within: list[_Conflict] = dataclasses.field(default_factory=list)

    def explain(self) -> str:
        if not self.within:
            return self.reason
        return " and ".join(f'subfields "{sub.response_name}" conflict because {sub.explain()}'
                            for sub in self.within)


class _Overlaps:
    """The spec's OverlappingFieldsCanBeMerged, as gqlparser runs it: fields of one
    response name must be the same field with the same arguments and compatible types."""

    def __init__(self, schema: Schema, document: Document,
                 selected_on: Mapping[int, tuple[str | None, Field | None]]) -> None:
        self._schema = schema
        self._document = document
        self._selected_on = selected_on  # id(FieldNode) -> (parent type, definition)
        self._compared_pairs: dict[tuple[str, str], bool] = {}
        self._compared: set[str] = set()
        # Fields written alike compare alike: each shape gets a number, each pair of shapes
        # is compared once, so that copies of one field, however nested, cost no more than a
        # pair. (gqlparser compares every pair, and a pair of fragments only the first time,
        # so it can report fewer copies of a conflict found through fragments.)
        self._shapes: dict[object, int] = {}
        self._shape_of: dict[int, int] = {}
        self._outcomes: dict[tuple[bool, int, int], _Conflict | None] = {}

    def within(self, selections: tuple[Selection, ...]) -> list[_Conflict]:
        if not selections:
            return []
        fields, spreads = _fields_and_spreads(selections)
        conflicts: list[_Conflict] = []
        for same_name in fields.values():
            for index, first in enumerate(same_name):
                for second in same_name[index + 1:]:
                    self._add(conflicts, self._conflict(False, first, second))
        self._compared = set()
        for index, spread in enumerate(spreads):
            self._with_fragment(conflicts, False, fields, spread)
            for other in spreads[index + 1:]:
                self._between_fragments(conflicts, False, spread, other)
        return conflicts

    @staticmethod
    def _add(conflicts: list[_Conflict], conflict: _Conflict | None) -> None:
        if conflict is not None:
            conflicts.append(conflict)

    def _between(self, conflicts: list[_Conflict], exclusive: bool, fields: _FieldMap,
                 others: _FieldMap) -> None:
        for name, same_name in fields.items():
            for first in same_name:
                for second in others.get(name, ()):
                    self._add(conflicts, self._conflict(exclusive, first, second))

    def _with_fragment(self, conflicts: list[_Conflict], exclusive: bool, fields: _FieldMap,
                       spread: FragmentSpread) -> None:
        if spread.name in self._compared:
            return
        self._compared.add(spread.name)
        fragment = self._document.fragments.get(spread.name)
        if fragment is None:
            return
        others, nested = _fields_and_spreads(fragment.selections)
        if _same_fields(others, fields):
            return
        self._between(conflicts, exclusive, fields, others)
        for inner in nested:
            if inner.name != spread.name:
                self._with_fragment(conflicts, exclusive, fields, inner)

    def _between_fragments(self, conflicts: list[_Conflict], exclusive: bool,
                           first: FragmentSpread, second: FragmentSpread) -> None:
        if first.name == second.name:
            return
        compared = self._compared_pairs.get((first.name, second.name))
        if compared is not None and (exclusive or not compared):
            return
        self._compared_pairs[first.name, second.name] = exclusive
        self._compared_pairs[second.name, first.name] = exclusive
        fragment_a = self._document.fragments.get(first.name)
        fragment_b = self._document.fragments.get(second.name)
        if fragment_a is None or fragment_b is None:
            return
        fields_a, spreads_a = _fields_and_spreads(fragment_a.selections)
        fields_b, spreads_b = _fields_and_spreads(fragment_b.selections)
        self._between(conflicts, exclusive, fields_a, fields_b)
        for spread in spreads_b:
            self._between_fragments(conflicts, exclusive, first, spread)
        for spread in spreads_a:
            self._between_fragments(conflicts, exclusive, spread, second)

    def _between_subselections(self, exclusive: bool, first: tuple[Selection, ...],
                               second: tuple[Selection, ...]) -> list[_Conflict]:
        conflicts: list[_Conflict] = []
        fields_a, spreads_a = _fields_and_spreads(first)
        fields_b, spreads_b = _fields_and_spreads(second)
        self._between(conflicts, exclusive, fields_a, fields_b)
        for spread in spreads_b:
            self._compared = set()
            self._with_fragment(conflicts, exclusive, fields_a, spread)
        for spread in spreads_a:
            self._compared = set()
            self._with_fragment(conflicts, exclusive, fields_b, spread)
        for spread_a in spreads_a:
            for spread_b in spreads_b:
                self._between_fragments(conflicts, exclusive, spread_a, spread_b)
        return conflicts

    def _shape(self, node: FieldNode) -> int:
        """The number of the field's shape: what comparing it depends on."""
        if id(node) in self._shape_of:
            return self._shape_of[id(node)]
        fields, spreads = _fields_and_spreads(node.selections)
        below = tuple(self._shape(child) for same_name in fields.values() for child in same_name)
        parent, field = self._selected_on.get(id(node), (None, None))
        args = tuple((arg.name, _raw(arg.value)) for arg in node.args)
        key = (parent, field is None, node.key, node.name, args, below,
               tuple(spread.name for spread in spreads))
        shape = self._shape_of[id(node)] = self._shapes.setdefault(key, len(self._shapes))
        return shape

    def _conflict(self, exclusive: bool, first: FieldNode, second: FieldNode) -> _Conflict | None:
        pair = (exclusive, self._shape(first), self._shape(second))
        if pair not in self._outcomes:
            self._outcomes[pair] = self._compare(exclusive, first, second)
        outcome = self._outcomes[pair]
        return None if outcome is None else dataclasses.replace(outcome, loc=second.loc)

    def _compare(self, exclusive: bool, first: FieldNode, second: FieldNode) -> _Conflict | None:
        parent_a, field_a = self._selected_on.get(id(first), (None, None))
        parent_b, field_b = self._selected_on.get(id(second), (None, None))
        if parent_a is None or parent_b is None:
            return None
        exclusive = exclusive or (
            parent_a != parent_b and self._schema.kind(parent_a) == "OBJECT"
            and self._schema.kind(parent_b) == "OBJECT"
            and field_a is not None and field_b is not None)
        conflict = _Conflict(first.key, second.loc)
        if not exclusive and first.name != second.name:
            conflict.reason = f'"{first.name}" and "{second.name}" are different fields'
            return conflict
        if not exclusive and not self._same_arguments(first.args, second.args):
            conflict.reason = "they have differing arguments"
            return conflict
        if field_a is not None and field_b is not None and self._types_conflict(
                parse_type(field_a.type), parse_type(field_b.type)):
            conflict.reason = (f'they return conflicting types "{field_a.type}" and '
                               f'"{field_b.type}"')
            return conflict
        conflict.within = self._between_subselections(
            exclusive, first.selections, second.selections)
        return conflict if conflict.within else None

    @staticmethod
    def _same_arguments(first: Arguments, second: Arguments) -> bool:
        return len(first) == len(second) and all(
            any(a.name == b.name and _raw(a.value) == _raw(b.value) for b in second)
            for a in first)

    def _types_conflict(self, first: TypeRef, second: TypeRef) -> bool:
        if first.of is not None or second.of is not None:
            if first.of is None or second.of is None:
                return True
            return self._types_conflict(first.of, second.of)
        if first.non_null != second.non_null:
            return True
        leaves = ("SCALAR", "ENUM")
        return (self._schema.kind(str(first.name)) in leaves
                and self._schema.kind(str(second.name)) in leaves and first.name != second.name)


class _Validator:
    """gqlparser's validation of a whole document: every operation is walked (each fragment
    it spreads once), then every fragment definition on its own, so that a mistake inside a
    spread fragment is reported twice, as there. Each rule reports when the walk reaches
    what it checks, which gives the dev server's order of errors."""

    def __init__(self, schema: Schema, document: Document) -> None:
        self._schema = schema
        self._document = document
        self._operation: Operation | None = None
        self._defined: dict[str, VariableDef] = {}
        self._used: set[str] = set()
        self._walked: set[str] = set()  # fragments spread so far in this walk
        self._spread: set[str] = set()  # fragments reached from operations
        self._counting_spreads = True
        self._cycle_checked: set[str] = set()
        self._directives_reported: set[tuple[str, Location]] = set()
        self._selected_on: dict[int, tuple[str | None, Field | None]] = {}
        self._overlaps = _Overlaps(schema, document, self._selected_on)
        self.errors: list[GraphQLError] = []

    def _error(self, message: str, loc: Location) -> None:
        self.errors.append(GraphQLError(message, [loc]))

    def document(self) -> list[GraphQLError]:
        operation_names: set[str] = set()
        for operation in self._document.operations:
            self._walk_operation(operation, operation_names)
        fragment_names: set[str] = set()
        for fragment in self._document.definitions:
            self._walk_fragment(fragment)
            if fragment.name in fragment_names:
                self._error(f'There can be only one fragment named "{fragment.name}".',
                            fragment.loc)
            fragment_names.add(fragment.name)
        return self.errors

    # -------------------------------------------------------------- operations

    def _walk_operation(self, operation: Operation, names: set[str]) -> None:
        self._operation = operation
        self._defined = {}
        for definition in operation.variables:
            self._defined.setdefault(definition.name, definition)
        self._used, self._walked = set(), set()
        for definition in operation.variables:
            if self._schema.kind(definition.type.named()) is None:
                self._error(f'Unknown type "{definition.type.named()}".', definition.loc)
        for definition in operation.variables:
            if definition.has_default:
                self._walk_value(definition.default, definition.type, definition.default_loc)
            self._directives(definition.directives, "VARIABLE_DEFINITION")
        roots = {"query": self._schema.query, "mutation": self._schema.mutation}
        root = roots.get(operation.kind)
        self._directives(operation.directives, operation.kind.upper())
        self._selection_set(root, operation.selections)
        self._operation_rules(operation, root, names)
        self._operation = None

    def _operation_rules(self, operation: Operation, root: str | None, names: set[str]) -> None:
        if root is None:
            self._error(f'Schema does not support operation type "{operation.kind}"',
                        operation.loc)
        if operation.name is None and len(self._document.operations) > 1:
            self._error("This anonymous operation must be the only defined operation.",
                        operation.loc)
        in_operation = f' in operation "{operation.name}"' if operation.name else ""
        for definition in operation.variables:
            used = definition.name in self._used
            if not used or self._defined[definition.name] is not definition:
                self._error(f'Variable "${definition.name}" is never used{in_operation}.',
                            definition.loc)
        self._report_overlaps(operation.selections)
        name = operation.name or ""
        if name in names:
            self._error(f'There can be only one operation named "{name}".', operation.loc)
        names.add(name)
        counts: dict[str, int] = {}
        for definition in operation.variables:
            if counts.get(definition.name) == 1:
                self._error(f'There can be only one variable named "${definition.name}".',
                            definition.loc)
            counts[definition.name] = counts.get(definition.name, 0) + 1
        for definition in operation.variables:
            kind = self._schema.kind(definition.type.named())
            if kind is not None and not self._schema.is_input_type(definition.type.named()):
                self._error(f'Variable "${definition.name}" cannot be non-input type '
                            f'"{definition.type}".', definition.loc)

    # --------------------------------------------------------------- fragments

    def _walk_fragment(self, fragment: Fragment) -> None:
        self._walked, self._defined = set(), {}
        condition = fragment.type_condition
        kind = self._schema.kind(condition)
        self._directives(fragment.directives, "FRAGMENT_DEFINITION")
        self._selection_set(condition if kind else None, fragment.selections)
        if kind not in (None, "OBJECT", "UNION"):
            self._error(f'Fragment "{fragment.name}" cannot condition on non composite type '
                        f'"{condition}".', fragment.loc)
        if kind is None:
            hint = did_you_mean(condition, sorted(self._all_types()))
            self._error(f'Unknown type "{condition}".{hint}', fragment.loc)
        self._fragment_cycles(fragment)
        self._counting_spreads = False
        if fragment.name not in self._spread:
            self._error(f'Fragment "{fragment.name}" is never used.', fragment.loc)
        self._report_overlaps(fragment.selections)

    def _all_types(self) -> set[str]:
        schema = self._schema
        return {*schema.types, *schema.enums, *schema.inputs, *schema.scalars,
                *BUILT_IN_SCALARS}

    def _fragment_cycles(self, fragment: Fragment) -> None:
        path: list[FragmentSpread] = []
        index: dict[str, int] = {}

        def visit(current: Fragment) -> None:
            if current.name in self._cycle_checked:
                return
            self._cycle_checked.add(current.name)
            spreads = _spreads_in(current.selections)
            if not spreads:
                return
            index[current.name] = len(path)
            for spread in spreads:
                start = index.get(spread.name)
                path.append(spread)
                if start is None:
                    target = self._document.fragments.get(spread.name)
                    if target is not None:
                        visit(target)
                else:
                    via = ", ".join(f'"{step.name}"' for step in path[start:-1])
                    self._error(f'Cannot spread fragment "{spread.name}" within itself'
                                f'{" via " + via if via else ""}.', spread.loc)
                path.pop()
            del index[current.name]

        visit(fragment)

    # -------------------------------------------------------------- selections

    def _selection_set(self, parent: str | None, selections: tuple[Selection, ...]) -> None:
        for selection in selections:
            if isinstance(selection, FieldNode):
                self._field(parent, selection)
            elif isinstance(selection, FragmentSpread):
                self._spread_fragment(parent, selection)
            else:
                self._inline_fragment(parent, selection)

    def _field(self, parent: str | None, node: FieldNode) -> None:
        field: Field | None = None
        if node.name == "__typename":
            field = Field("String")
        elif parent is not None:
            field = self._schema.types.get(parent, {}).get(node.name)
        self._selected_on[id(node)] = (parent, field)
        declared = field.args if field is not None else {}
        self._walk_arguments(node.args, declared)
        result = parse_type(field.type) if field is not None else None
        child = result.named() if result and self._schema.kind(result.named()) else None
        self._directives(node.directives, "FIELD")
        self._selection_set(child, node.selections)
        if parent is not None and field is None:
            self._error(f'Cannot query field "{node.name}" on type "{parent}".'
                        f"{self._field_hint(parent, node.name)}", node.loc)
        if parent is not None and field is not None:
            self._unknown_arguments(node.args, declared, f'field "{parent}.{node.name}"',
                                    node.loc)
        if self._operation is not None:
            self._report_overlaps(node.selections)
        if field is not None:
            self._required_arguments(node.args, declared, f'Field "{node.name}"', node.loc)
        if result is not None and child is not None:
            self._leaf_selections(node, result, child)
        self._unique_arguments(node.args)

    def _field_hint(self, parent: str, name: str) -> str:
        if self._schema.kind(parent) == "UNION":
            members = sorted(member for member in self._schema.possible_types(parent)
                             if name in self._schema.types.get(member, {}))
            listed = _or_list([f'"{member}"' for member in members])
            return f" Did you mean to use an inline fragment on {listed}?" if members else ""
        return did_you_mean(name, self._schema.types.get(parent, {}))

    def _leaf_selections(self, node: FieldNode, result: TypeRef, child: str) -> None:
        leaf = self._schema.kind(child) in ("SCALAR", "ENUM")
        if leaf and node.selections:
            self._error(f'Field "{node.name}" must not have a selection since type "{child}" '
                        "has no subfields.", node.loc)
        if not leaf and not node.selections:
            self._error(f'Field "{node.name}" of type "{result}" must have a selection of '
                        f'subfields. Did you mean "{node.name} {{ ... }}"?', node.loc)

    def _inline_fragment(self, parent: str | None, node: InlineFragment) -> None:
        condition = node.type_condition
        kind = None if condition is None else self._schema.kind(condition)
        child = parent if condition is None else (condition if kind else None)
        self._directives(node.directives, "INLINE_FRAGMENT")
        self._selection_set(child, node.selections)
        if kind not in (None, "OBJECT", "UNION"):
            self._error(f'Fragment cannot condition on non composite type "{condition}".',
                        node.loc)
        if condition is not None and kind is None:
            self._error(f'Unknown type "{condition}".', node.loc)
        self._report_overlaps(node.selections)
        if condition is not None and parent is not None and self._never(parent, condition):
            self._error(f'Fragment cannot be spread here as objects of type "{parent}" can '
                        f'never be of type "{condition}".', node.loc)

    def _spread_fragment(self, parent: str | None, node: FragmentSpread) -> None:
        fragment = self._document.fragments.get(node.name)
        condition = None if fragment is None else fragment.type_condition
        child = condition if condition and self._schema.kind(condition) else None
        self._directives(node.directives, "FRAGMENT_SPREAD")
        if fragment is not None and node.name not in self._walked:
            self._walked.add(node.name)
            self._selection_set(child, fragment.selections)
        if fragment is None:
            self._error(f'Unknown fragment "{node.name}".', node.loc)
        if self._counting_spreads:
            self._spread.add(node.name)
        if condition is not None and parent is not None and self._never(parent, condition):
            self._error(f'Fragment "{node.name}" cannot be spread here as objects of type '
                        f'"{parent}" can never be of type "{condition}".', node.loc)

    def _never(self, parent: str, condition: str) -> bool:
        """Whether no object of the ``parent`` type can be of the ``condition`` type."""
        composite = ("OBJECT", "UNION")
        if (self._schema.kind(parent) not in composite
                or self._schema.kind(condition) not in composite):
            return False
        possible = self._schema.possible_types(parent)
        return not any(name in possible for name in self._schema.possible_types(condition))

    def _report_overlaps(self, selections: tuple[Selection, ...]) -> None:
        for conflict in self._overlaps.within(selections):
            self._error(f'Fields "{conflict.response_name}" conflict because '
                        f"{conflict.explain()}. Use different aliases on the fields to fetch "
                        "both if this was intentional.", conflict.loc)

    # ------------------------------------------------------ arguments and values

    def _directives(self, directives: tuple[Directive, ...], location: str) -> None:
        for directive in directives:
            known = KNOWN_DIRECTIVES.get(directive.name)
            declared = known.args if known is not None else {}
            self._walk_arguments(directive.args, declared)
            name = f'"@{directive.name}"'
            if known is not None:
                self._unknown_arguments(directive.args, declared, f"directive {name}",
                                        directive.loc)
            if known is None:
                self._error(f"Unknown directive {name}.", directive.loc)
            elif (location not in known.locations
                  and (directive.name, directive.loc) not in self._directives_reported):
                self._directives_reported.add((directive.name, directive.loc))
                self._error(f"Directive {name} may not be used on {location}.", directive.loc)
            if known is not None:
                self._required_arguments(directive.args, declared, f"Directive {name}",
                                         directive.loc)
            self._unique_arguments(directive.args)
        seen: set[str] = set()
        for directive in directives:
            if directive.name in seen:
                self._error(f'The directive "@{directive.name}" can only be used once at this '
                            "location.", directive.loc)
            seen.add(directive.name)

    def _walk_arguments(self, args: Arguments, declared: Mapping[str, str]) -> None:
        for arg in args:
            text = declared.get(arg.name)
            expected = None if text is None else parse_input_decl(text).type
            self._walk_value(arg.value, expected, arg.value_loc)

    def _walk_value(self, value: Value, expected: TypeRef | None, loc: Location) -> None:
        if self._operation is not None:
            for variable, at in _variables_at(value, loc):
                if variable.name in self._defined:
                    self._used.add(variable.name)
                    continue
                by = f' by operation "{self._operation.name}"' if self._operation.name else ""
                self._error(f'Variable "${variable.name}" is not defined{by}.', at)
        if expected is not None and self._schema.is_input_type(expected.named()):
            self._check_value(value, expected, loc)

    def _unknown_arguments(self, args: Arguments, declared: Mapping[str, str], owner: str,
                           loc: Location) -> None:
        """``owner`` names where the arguments are: ``field "Query.run"``."""
        for arg in args:
            if arg.name not in declared:
                self._error(f'Unknown argument "{arg.name}" on {owner}.'
                            f"{did_you_mean(arg.name, declared)}", loc)

    def _required_arguments(self, args: Arguments, declared: Mapping[str, str], subject: str,
                            loc: Location) -> None:
        """``subject`` names the field or directive: ``Field "run"``."""
        given = {arg.name for arg in args}
        for name, text in declared.items():
            decl = parse_input_decl(text)
            if decl.required and name not in given:
                self._error(f'{subject} argument "{name}" of type "{decl.type}" is required, '
                            "but it was not provided.", loc)

    def _unique_arguments(self, args: Arguments) -> None:
        counts: dict[str, int] = {}
        for arg in args:
            if counts.get(arg.name) == 1:
                self._error(f'There can be only one argument named "{arg.name}".', arg.loc)
            counts[arg.name] = counts.get(arg.name, 0) + 1

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
        values = self._schema.enums[enum]
        prefix = "Did you mean the enum value"
        if not isinstance(value, EnumValue):
            hint = did_you_mean(value, values, prefix) if isinstance(value, str) else ""
            self._error(f'Enum "{shown}" cannot represent non-enum value: '
                        f"{render_value(value)}.{hint}", loc)
        elif value.name not in values:
            self._error(f'Value "{value.name}" does not exist in "{shown}" enum.'
                        f"{did_you_mean(value.name, values, prefix)}", loc)

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
                self._error(f'Field "{field.name}" is not defined by type "{name}".'
                            f"{did_you_mean(field.name, declared)}", field.loc)
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


# ---------------------------------------------------------------------------- execution

_MISSING = object()
# The real server's answer to a request without an operation: no query, an empty one, only
# comments or only fragments (measured).
NO_OPERATION = "no operation provided"


def _select_operation(document: Document, operation_name: str | None) -> Operation:
    """gqlgen's choice: the operation of that name, or the only one when none is named."""
    operations = document.operations
    if not operation_name and len(operations) == 1:
        return operations[0]
    for operation in operations:
        if (operation.name or "") == (operation_name or ""):
            return operation
    raise GraphQLError(f"operation {operation_name or ''} not found")


def _root_type(schema: Schema, operation: Operation) -> str:
    """The root of a validated operation: validation refuses those the schema has not."""
    return schema.query if operation.kind == "query" else str(schema.mutation)


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

    def _included(self, selection: Selection) -> bool:
        """@skip and @include; an inline fragment marked @defer is left out, as the dev
        server leaves it out of a plain POST's answer (measured, whatever its ``if``)."""
        for directive in selection.directives:
            if directive.name == "defer":
                if isinstance(selection, InlineFragment):
                    return False
                continue
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
            if not self._included(selection):
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
    if not parsed.operations:
        return _request_failure([GraphQLError(NO_OPERATION)], VALIDATION_FAILED)
    try:
        errors = _Validator(schema, parsed).document()
        if errors:
            return _request_failure(errors, VALIDATION_FAILED)
        operation = _select_operation(parsed, operation_name)
        return _run(schema, parsed, operation, variables or {}, context)
    except GraphQLError as error:
        return _request_failure([error], VALIDATION_FAILED)
    except RecursionError:  # fragments spread inside each other past the parser's limit
        return _request_failure([GraphQLError(
            f"Document is nested more than {MAX_NESTING} levels deep.",
            [parsed.operations[0].loc])], VALIDATION_FAILED)


def _run(
    schema: Schema,
    parsed: Document,
    operation: Operation,
    variables: Mapping[str, object],
    context: object,
) -> dict[str, object]:
    coerced, variable_errors = _coerce_variables(schema, operation, variables)
    if variable_errors:
        return _request_failure(variable_errors, VALIDATION_FAILED)
    root = _root_type(schema, operation)
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
