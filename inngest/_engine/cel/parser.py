"""Recursive-descent parser: tokens to the syntax tree, with CEL's precedence."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inngest._engine.cel.errors import ExpressionError, ExpressionSyntaxError
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
# What may stand where an operand is expected, as the real server's parser lists it.
_LITERALS = "'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"
_OPERAND = "{'[', '{', '(', '.', '-', '!', " + _LITERALS
_CALL_START = "{'[', '{', '(', ')', '.', '-', '!', " + _LITERALS
_LIST_START = "{'[', ']', '{', '(', '.', ',', '-', '!', '?', " + _LITERALS
_MAP_START = "{'[', '{', '}', '(', '.', ',', '-', '!', '?', " + _LITERALS
_INDEX = "{'[', '{', '(', '.', '-', '!', '?', " + _LITERALS
_OPERAND_STARTS = ("[", "{", "(", ".", "-", "!")
# What may follow a closing bracket: an operator, another closing one, or the end.
_AFTER_CLOSING = (*_RELATIONS, "&&", "||", "+", "-", "*", "/", "%", "?", ":", ")", "]", "}",
                  ",", ".", "[")


class Parser:
    """Recursive descent over CEL's grammar, lowest precedence first."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._tokens = tokenize(source)
        self._index = 0

    def parse(self) -> Node:
        node = self._conditional()
        if self._peek().kind != "end":
            raise self._mismatch("<EOF>", lambda token: token.kind == "end")
        return node

    # -- token helpers

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _next(self) -> Token:
        """The token after the one at hand."""
        return self._tokens[min(self._index + 1, len(self._tokens) - 1)]

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
        """Take ``op``; else fail as the real server's parser does: the token at hand is
        extraneous if ``op`` follows it, ``op`` is missing if what is at hand may follow it."""
        if self._accept(op):
            return
        token = self._peek()
        if op == ":":
            follows = _starts_operand(token)
        else:
            follows = token.kind == "end" or token.value in _AFTER_CLOSING or (
                token.kind == "ident" and token.value == "in")
        if follows and not self._is_op(self._next(), op):
            raise self._error(token, f"missing '{op}' at {describe(self._source, token)}")
        raise self._mismatch(f"'{op}'", lambda after: self._is_op(after, op))

    def _expect_either(self, closing: str) -> None:
        """Take ``closing``, after an element that no ``,`` follows."""
        if not self._accept(closing):
            raise self._mismatch(f"{{'{closing}', ','}}",
                                 lambda token: self._is_op(token, closing, ","))

    def _accept_keyword(self, keyword: str) -> bool:
        token = self._peek()
        if token.kind == "ident" and token.value == keyword:
            self._index += 1
            return True
        return False

    @staticmethod
    def _is_op(token: Token, *ops: str) -> bool:
        return token.kind == "op" and token.value in ops

    def _error(self, token: Token, detail: str) -> ExpressionError:
        return syntax_error(self._source, token.pos, detail)

    def _mismatch(self, expected: str, accepts: Callable[[Token], bool]) -> ExpressionError:
        """The token at hand where ``expected`` should be: extraneous when what comes after
        it would do, else mismatched."""
        token = self._peek()
        kind = "extraneous" if token.kind != "end" and accepts(self._next()) else "mismatched"
        return self._error(token, f"{kind} input {describe(self._source, token)} expecting "
                                  f"{expected}")

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
            if self._peek().kind == "end":  # "extraneous" here, as the real server says
                raise self._error(self._peek(), f"extraneous input '<EOF>' expecting {_OPERAND}")
            return Not(self._unary())
        if self._accept("-"):
            token = self._peek()
            if not _starts_operand(token):
                minus = self._tokens[self._index - 1]
                raise self._error(token, "no viable alternative at input "
                                         f"'{self._source[minus.pos:token.end]}'")
            return Negate(self._unary())
        return self._member()

    def _member(self) -> Node:
        node = self._primary()
        while True:
            if self._accept("."):
                name = self._identifier()
                if self._accept("("):
                    node = Call(name, (node, *self._call_arguments()))
                else:
                    node = Select(node, name)
            elif self._accept("["):
                key = self._element(_INDEX, "?")
                self._expect("]")
                node = Index(node, key)
            else:
                return node

    def _primary(self, expected: str = _OPERAND) -> Node:
        if not _starts_operand(self._peek()):
            raise self._mismatch(expected, _starts_operand)
        token = self._advance()
        if token.kind in ("number", "string"):
            return Literal(token.value)
        if token.kind == "ident" and token.value != "in":
            return self._named(str(token.value))
        if token.kind == "op" and token.value == "(":
            node = self._conditional()
            self._expect(")")
            return node
        if token.kind == "op" and token.value == "[":
            return ListLiteral(self._list_items())
        if token.kind == "op" and token.value == "{":
            return MapLiteral(self._map_entries())
        raise self._error(token, f"no viable alternative at input "
                                 f"{describe(self._source, token)}")

    def _named(self, name: str) -> Node:
        if name in _LITERAL_KEYWORDS:
            return Literal(_LITERAL_KEYWORDS[name])
        opening = self._peek()
        if not self._accept("("):
            return Variable(name)
        argument = self._peek()
        arguments = self._call_arguments()
        if name != "has":
            return Call(name, arguments)
        # As the real server's checker: has() of one argument is the macro, others a function
        # it does not know.
        if len(arguments) != 1:
            raise ExpressionSyntaxError(self._source, opening.pos, "undeclared reference to "
                                        "'has' (in container '')", syntax=False)
        if not isinstance(arguments[0], Select):
            raise ExpressionSyntaxError(self._source, argument.pos,
                                        "invalid argument to has() macro", syntax=False)
        return Has(arguments[0].operand, arguments[0].field)

    def _identifier(self) -> str:
        token = self._advance()
        if token.kind != "ident":
            text = "" if token.kind == "end" else describe(self._source, token)[1:-1]
            raise self._error(token, f"no viable alternative at input '.{text}'")
        return str(token.value)

    def _call_arguments(self) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``)`` (a trailing comma is allowed)."""
        items: list[Node] = []
        while not self._accept(")"):
            items.append(self._element(_CALL_START, ")") if not items else
                         self._element(_OPERAND))
            if not self._accept(","):
                self._expect(")")
                break
        return tuple(items)

    def _list_items(self) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``]`` (a trailing comma is allowed)."""
        items: list[Node] = []
        if self._empty_with_comma("]"):
            return ()
        while not self._accept("]"):
            if items and self._peek().kind == "end":  # after a comma
                raise self._error(self._peek(), "missing ']' at '<EOF>'")
            items.append(self._element(_LIST_START, "]", ",", "?") if not items else
                         self._element(_OPERAND))
            if not self._accept(","):
                self._expect_either("]")
                break
        return tuple(items)

    def _element(self, expected: str, *others: str) -> Node:
        """An expression where ``expected`` lists what may stand (an operand, or one of the
        ``others``)."""
        if not _starts_operand(self._peek()):
            raise self._mismatch(expected, lambda token: _starts_operand(token)
                                 or self._is_op(token, *others))
        return self._conditional()

    def _empty_with_comma(self, closing: str) -> bool:
        """Whether a lone ``,`` is all the brackets hold (``[,]``, ``{,}``: empty, as there)."""
        if not self._accept(","):
            return False
        if self._peek().kind == "end":
            raise self._error(self._peek(), f"missing '{closing}' at '<EOF>'")
        self._expect(closing)
        return True

    def _map_entries(self) -> tuple[tuple[Node, Node], ...]:
        entries: list[tuple[Node, Node]] = []
        if self._empty_with_comma("}"):
            return ()
        while not self._accept("}"):
            if entries and self._peek().kind == "end":  # after a comma
                raise self._error(self._peek(), "missing '}' at '<EOF>'")
            key = self._element(_MAP_START, "}", ",", "?") if not entries else \
                self._element(_OPERAND)
            self._expect(":")
            entries.append((key, self._conditional()))
            if not self._accept(","):
                self._expect_either("}")
                break
        return tuple(entries)


def _starts_operand(token: Token) -> bool:
    if token.kind in ("number", "string"):
        return True
    if token.kind == "ident":
        return token.value != "in"
    return token.kind == "op" and token.value in _OPERAND_STARTS
