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
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
class ObjectValue:
    fields: tuple[tuple[str, Value], ...]


Value = Union[None, bool, int, float, str, Variable, EnumValue, ObjectValue, tuple["Value", ...]]


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


Arguments = tuple[tuple[str, Value], ...]


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
        if not operations and not fragments:
            raise self._unexpected()
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
        default = self._value(const=True) if has_default else None
        self._directives(const=True)
        return VariableDef(name, type_ref, default, has_default, start.loc)

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

    def _pair(self, const: bool) -> tuple[str, Value]:
        name = self._expect("name").value
        self._expect("punct", ":")
        return name, self._value(const)

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
            while not self._skip("punct", "]"):
                items.append(self._value(const))
            self._depth -= 1
            return tuple(items)
        if token.kind == "punct" and token.value == "{":
            self._advance()
            self._enter()
            fields: list[tuple[str, Value]] = []
            while not self._skip("punct", "}"):
                fields.append(self._pair(const))
            self._depth -= 1
            return ObjectValue(tuple(fields))
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


# ---------------------------------------------------------------------------- schema


def _default_resolver(name: str) -> Resolver:
    def resolve(parent: object, args: dict[str, object], ctx: object) -> object:
        if is_mapping(parent):
            return parent.get(name)
        return getattr(parent, name, None)

    return resolve


@dataclasses.dataclass(frozen=True)
class Field:
    """A field's result type in GraphQL notation and its resolver.

    Without a resolver the field reads the parent's key (mappings) or attribute.
    """

    type: str
    resolve: Resolver | None = None


@dataclasses.dataclass(frozen=True)
class Schema:
    """``types`` holds object types (a union too, with no fields); ``unions`` the object
    types each union may be. A union's value names its type under ``__typename``."""

    types: Mapping[str, Mapping[str, Field]]
    query: str = "Query"
    mutation: str | None = None
    unions: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    def matches(self, condition: str | None, type_name: str) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``type_name``."""
        return condition in (None, type_name) or type_name in self.unions.get(str(condition), ())


# ---------------------------------------------------------------------------- validation


def _variables_in(value: Value) -> Iterable[Variable]:
    if isinstance(value, Variable):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _variables_in(item)
    elif isinstance(value, ObjectValue):
        for _, item in value.fields:
            yield from _variables_in(item)


class _Validator:
    def __init__(self, schema: Schema, document: Document, operation: Operation) -> None:
        self._schema = schema
        self._document = document
        self._defined = {v.name for v in operation.variables}
        self._checked: set[str] = set()
        self.errors: list[GraphQLError] = []

    def _error(self, message: str, loc: Location) -> None:
        self.errors.append(GraphQLError(message, [loc]))

    def _check_usage(
        self, args: Arguments, directives: tuple[Directive, ...], loc: Location
    ) -> None:
        for directive in directives:
            if directive.name not in ("include", "skip"):
                self._error(f'Unknown directive "@{directive.name}".', directive.loc)
        values = [v for _, v in args] + [v for d in directives for _, v in d.args]
        for variable in (var for value in values for var in _variables_in(value)):
            if variable.name not in self._defined:
                self._error(f'Variable "${variable.name}" is not defined.', loc)

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
        elif node.name not in self._schema.types[type_name]:
            self._error(f'Cannot query field "{node.name}" on type "{type_name}".', node.loc)
            return
        else:
            result_type = parse_type(self._schema.types[type_name][node.name].type).named()
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


def _select_operation(document: Document, operation_name: str | None) -> Operation:
    if operation_name is not None:
        for operation in document.operations:
            if operation.name == operation_name:
                return operation
        raise GraphQLError(f'Unknown operation named "{operation_name}".')
    if len(document.operations) != 1:
        raise GraphQLError(
            "Must provide an operation."
            if not document.operations
            else "Must provide operation name if query contains multiple operations."
        )
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
            key: _literal(item, variables)
            for key, item in value.fields
            if not isinstance(item, Variable) or item.name in variables
        }
    if isinstance(value, tuple):
        return [_literal(item, variables) for item in value]
    return value


def _coerce_variables(
    operation: Operation, provided: Mapping[str, object]
) -> tuple[dict[str, object], list[GraphQLError]]:
    coerced: dict[str, object] = {}
    errors: list[GraphQLError] = []
    for definition in operation.variables:
        value = provided.get(definition.name, _MISSING)
        if value is _MISSING and definition.has_default:
            value = _literal(definition.default, {})
        if value is _MISSING and definition.type.non_null:
            problem = f'of required type "{definition.type}" was not provided.'
        elif value is None and definition.type.non_null:
            problem = f'of non-null type "{definition.type}" must not be null.'
        else:
            if value is not _MISSING:
                coerced[definition.name] = value
            continue
        errors.append(GraphQLError(f'Variable "${definition.name}" {problem}', [definition.loc]))
    return coerced, errors


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

    def _arguments(self, args: Arguments) -> dict[str, object]:
        return {
            name: _literal(value, self._variables)
            for name, value in args
            if not isinstance(value, Variable) or value.name in self._variables
        }

    def _included(self, directives: tuple[Directive, ...]) -> bool:
        for directive in directives:
            condition = bool(self._arguments(directive.args).get("if"))
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
            value = resolve(parent, self._arguments(node.args), self._context)
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
    validator.selections(root, operation.selections, frozenset())
    coerced, variable_errors = _coerce_variables(operation, variables)
    if validator.errors or variable_errors:
        return _request_failure(validator.errors + variable_errors, VALIDATION_FAILED)
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
