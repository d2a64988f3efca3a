"""The GraphQL lexer and parser: executable documents, type references and input
declarations.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
from collections.abc import Callable

from inngest._engine.graphql.syntax import (
    Argument, Arguments, Directive, Document, EnumValue, FieldNode, FloatLiteral, Fragment,
    FragmentSpread, InlineFragment, InputDecl, ListValue, Location, ObjectValue, Operation,
    Selection, TypeRef, Value, Variable, VariableDef,
)
from inngest._engine.graphql.errors import GraphQLError


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

    def kind_text(self) -> str:
        """The token's kind as the real server's parser (gqlparser) names it: a punctuator
        is itself."""
        if self.kind == "eof":
            return "<EOF>"
        if self.kind in ("punct", "spread"):
            return self.value
        return self.kind.capitalize()

    def describe(self) -> str:
        """The token as the real server's parser writes it: its kind, then its text quoted
        (a punctuator has none)."""
        if self.kind in ("eof", "punct", "spread"):
            return self.kind_text()
        return f"{self.kind_text()} {_go_quote(self.value)}"


def _go_quote(text: str) -> str:
    """A token's text quoted as Go's ``strconv.Quote`` quotes it, for backslashes, quotes, tabs and
    line ends (names and numbers have none; other control characters in a string, which
    Go writes as ``\\x..``, are left as they are)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'


def _string_value(raw: str) -> str:
    return re.sub(
        r"\\(u[0-9A-Fa-f]{4}|.)",
        lambda m: _code_point(int(m[1][1:], 16)) if len(m[1]) == 5 else _ESCAPES[m[1]],
        raw[1:-1],
    )


def _code_point(code: int) -> str:
    """A ``\\u`` escape's character; a UTF-16 surrogate (paired or not) is U+FFFD, as the
    real server's parser reads it (a lone surrogate can be neither stored nor answered)."""
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


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

    # Parse errors are worded as the real server's parser (gqlparser) words them (measured).

    def _unexpected(self, token: _Token | None = None) -> GraphQLError:
        token = token or self._tokens[self._index]
        return GraphQLError(f"Unexpected {token.describe()}", [token.loc])

    def _expect(self, kind: str, value: str | None = None) -> _Token:
        if self._peek(kind, value):
            return self._advance()
        token = self._tokens[self._index]
        if kind == "name" and value is not None:  # a keyword: the token is shown whole
            message = f"Expected {_go_quote(value)}, found {token.describe()}"
        else:
            message = f"Expected {value or kind.capitalize()}, found {token.kind_text()}"
        raise GraphQLError(message, [token.loc])

    def _many(self, open_: str, close: str, item: Callable[[], object]) -> list[object]:
        """One or more items between ``open_`` and ``close``."""
        self._expect("punct", open_)
        self._enter()
        if self._peek("punct", close):
            token = self._tokens[self._index]
            raise GraphQLError(
                f"expected at least one definition, found {token.kind_text()}", [token.loc])
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
            return FloatLiteral(token.value)
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
