"""Recursive-descent parser: tokens to the syntax tree, with CEL's precedence."""

from __future__ import annotations

from collections.abc import Sequence

from inngest._engine.cel.errors import ExpressionError
from inngest._engine.cel.evaluator import (
    Arithmetic,
    Call,
    Comparison,
    Conditional,
    Has,
    In,
    Index,
    ListLiteral,
    Literal,
    Logical,
    MapLiteral,
    Negate,
    Node,
    Not,
    Select,
    Variable,
)
from inngest._engine.cel.lexer import Token, describe, syntax_error, tokenize

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")
_LITERAL_KEYWORDS: dict[str, object] = {"true": True, "false": False, "null": None}


class Parser:
    """Recursive descent over CEL's grammar, lowest precedence first."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._tokens = tokenize(source)
        self._index = 0

    def parse(self) -> Node:
        node = self._conditional()
        if self._peek().kind != "end":
            raise self._unexpected(self._peek())
        return node

    # -- token helpers

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _accept(self, op: str) -> bool:
        token = self._peek()
        if token.kind == "op" and token.value == op:
            self._index += 1
            return True
        return False

    def _expect(self, op: str) -> None:
        if not self._accept(op):
            raise self._unexpected(self._peek(), f"expected {op!r}")

    def _accept_keyword(self, keyword: str) -> bool:
        token = self._peek()
        if token.kind == "ident" and token.value == keyword:
            self._index += 1
            return True
        return False

    def _unexpected(self, token: Token, expectation: str = "") -> ExpressionError:
        problem = f"unexpected {describe(token)}" + (f" ({expectation})" if expectation else "")
        return syntax_error(self._source, token.pos, problem)

    def _peek_op(self, ops: Sequence[str]) -> str | None:
        token = self._peek()
        if token.kind == "op" and token.value in ops:
            return str(token.value)
        return None

    # -- grammar, one method per precedence level

    def _conditional(self) -> Node:
        condition = self._or()
        if not self._accept("?"):
            return condition
        then = self._or()
        self._expect(":")
        return Conditional(condition, then, self._conditional())

    def _or(self) -> Node:
        node = self._and()
        while self._accept("||"):
            node = Logical("||", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._relation()
        while self._accept("&&"):
            node = Logical("&&", node, self._relation())
        return node

    def _relation(self) -> Node:
        node = self._addition()
        while True:
            if self._accept_keyword("in"):
                node = In(node, self._addition())
            elif (op := self._peek_op(_RELATIONS)) is not None:
                self._advance()
                node = Comparison(op, node, self._addition())
            else:
                return node

    def _addition(self) -> Node:
        node = self._multiplication()
        while (op := self._peek_op(("+", "-"))) is not None:
            self._advance()
            node = Arithmetic(op, node, self._multiplication())
        return node

    def _multiplication(self) -> Node:
        node = self._unary()
        while (op := self._peek_op(("*", "/", "%"))) is not None:
            self._advance()
            node = Arithmetic(op, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._accept("!"):
            return Not(self._unary())
        if self._accept("-"):
            return Negate(self._unary())
        return self._member()

    def _member(self) -> Node:
        node = self._primary()
        while True:
            if self._accept("."):
                name = self._identifier()
                if self._accept("("):
                    node = Call(name, (node, *self._arguments(")")))
                else:
                    node = Select(node, name)
            elif self._accept("["):
                key = self._conditional()
                self._expect("]")
                node = Index(node, key)
            else:
                return node

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind in ("number", "string"):
            return Literal(token.value)
        if token.kind == "ident" and token.value != "in":
            return self._named(str(token.value), token)
        if token.kind == "op" and token.value == "(":
            node = self._conditional()
            self._expect(")")
            return node
        if token.kind == "op" and token.value == "[":
            return ListLiteral(self._arguments("]"))
        if token.kind == "op" and token.value == "{":
            return MapLiteral(self._map_entries())
        raise self._unexpected(token)

    def _named(self, name: str, token: Token) -> Node:
        if name in _LITERAL_KEYWORDS:
            return Literal(_LITERAL_KEYWORDS[name])
        if not self._accept("("):
            return Variable(name)
        arguments = self._arguments(")")
        if name != "has":
            return Call(name, arguments)
        if len(arguments) != 1 or not isinstance(arguments[0], Select):
            raise syntax_error(self._source, token.pos, "has() needs one field selection")
        return Has(arguments[0].operand, arguments[0].field)

    def _identifier(self) -> str:
        token = self._advance()
        if token.kind != "ident":
            raise self._unexpected(token, "expected a field name")
        return str(token.value)

    def _arguments(self, closing: str) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``closing`` (a trailing comma is allowed)."""
        items: list[Node] = []
        while not self._accept(closing):
            items.append(self._conditional())
            if not self._accept(","):
                self._expect(closing)
                break
        return tuple(items)

    def _map_entries(self) -> tuple[tuple[Node, Node], ...]:
        entries: list[tuple[Node, Node]] = []
        while not self._accept("}"):
            key = self._conditional()
            self._expect(":")
            entries.append((key, self._conditional()))
            if not self._accept(","):
                self._expect("}")
                break
        return tuple(entries)
