"""A safe evaluator for the CEL subset used in Inngest expressions.

Sources are tokenized and parsed into a tree of frozen dataclasses, which is
evaluated against plain values: ``None``, ``bool``, ``int``, ``float``,
``str``, lists, mappings and aware ``datetime``s. As on the Inngest server,
missing fields evaluate to ``null`` and comparing values of unrelated types
gives ``false`` rather than an error. Nothing is ever run through Python's
``eval``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import operator
import re
import string
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeGuard

from inngest._engine.errors import EngineError
from inngest._engine.timeparse import format_rfc3339_ms, parse_date, parse_duration

_CACHE_SIZE = 1024
_INVALID_KEY = "<invalid>"


class ExpressionError(EngineError, ValueError):
    """An expression that does not compile or cannot be evaluated.

    Syntax errors name the 0-based character position of the problem.
    """

    code = "expression_invalid"


class _EvaluationFailure(Exception):
    """A runtime problem; reported to callers as ExpressionError with the source."""


# ---------------------------------------------------------------- tokenizer

@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "string", "ident", "op" or "end"
    value: object  # the literal's value, the identifier or the operator text
    pos: int


_OPERATORS = (
    "==", "!=", "<=", ">=", "&&", "||",
    "<", ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "%",
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(
    r"(?P<hex>0[xX][0-9a-fA-F]+)[uU]?"
    r"|(?P<float>\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)"
    r"|(?P<int>\d+)[uU]?"
)
_WHITESPACE = re.compile(r"\s+")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}
_HEX_ESCAPE_DIGITS = {"x": 2, "X": 2, "u": 4, "U": 8}
_OCTAL_ESCAPE = re.compile(r"[0-3][0-7]{2}")


def _syntax_error(source: str, pos: int, problem: str) -> ExpressionError:
    return ExpressionError(f"{problem} at position {pos} in expression {source!r}")


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of input"
    if token.kind in ("op", "ident"):
        return repr(token.value)
    return f"{token.kind} literal"


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        whitespace = _WHITESPACE.match(source, pos)
        if whitespace:
            pos = whitespace.end()
            continue
        token, pos = _next_token(source, pos)
        tokens.append(token)
    tokens.append(_Token("end", None, len(source)))
    return tokens


def _next_token(source: str, pos: int) -> tuple[_Token, int]:
    char = source[pos]
    if char in "\"'" or (char in "rR" and source[pos + 1:pos + 2] in ("'", '"')):
        value, end = _scan_string(source, pos)
        return _Token("string", value, pos), end
    if char.isdigit() or (char == "." and source[pos + 1:pos + 2].isdigit()):
        return _scan_number(source, pos)
    identifier = _IDENTIFIER.match(source, pos)
    if identifier:
        return _Token("ident", identifier.group(), pos), identifier.end()
    for op in _OPERATORS:
        if source.startswith(op, pos):
            return _Token("op", op, pos), pos + len(op)
    raise _syntax_error(source, pos, f"unexpected character {char!r}")


def _scan_number(source: str, pos: int) -> tuple[_Token, int]:
    match = _NUMBER.match(source, pos)
    assert match is not None  # callers only come here on a digit or ".<digit>"
    value: int | float
    if match.group("hex"):
        value = int(match.group("hex"), 16)
    elif match.group("float"):
        value = float(match.group("float"))
    else:
        value = int(match.group("int"))
    return _Token("number", value, pos), match.end()


def _scan_string(source: str, start: int) -> tuple[str, int]:
    """The value of the string literal at ``start`` and the position after it."""
    raw = source[start] in "rR"
    pos = start + 1 if raw else start
    quote = source[pos:pos + 3] if source[pos:pos + 3] in ('"""', "'''") else source[pos]
    pos += len(quote)
    chars: list[str] = []
    while not source.startswith(quote, pos):
        if pos >= len(source) or (len(quote) == 1 and source[pos] == "\n"):
            raise _syntax_error(source, start, "unterminated string")
        if source[pos] == "\\" and not raw:
            char, pos = _scan_escape(source, pos)
        else:
            char, pos = source[pos], pos + 1
        chars.append(char)
    return "".join(chars), pos + len(quote)


def _scan_escape(source: str, pos: int) -> tuple[str, int]:
    """Decode the escape sequence whose backslash is at ``pos``."""
    kind = source[pos + 1:pos + 2]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], pos + 2
    if kind in _HEX_ESCAPE_DIGITS:
        digits = source[pos + 2:pos + 2 + _HEX_ESCAPE_DIGITS[kind]]
        if len(digits) == _HEX_ESCAPE_DIGITS[kind] and all(c in string.hexdigits for c in digits):
            code = int(digits, 16)
            if code <= sys.maxunicode:
                return chr(code), pos + 2 + len(digits)
    octal = _OCTAL_ESCAPE.match(source, pos + 1)
    if octal:
        return chr(int(octal.group(), 8)), octal.end()
    raise _syntax_error(source, pos, "invalid escape sequence")


# ---------------------------------------------------------------- values

def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, (list, tuple))


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "bool"), (int, "int"), (float, "double"), (str, "string"),
    (list, "list"), (tuple, "list"), (Mapping, "map"), (datetime, "timestamp"),
)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _no_overload(op: str, *operands: object) -> _EvaluationFailure:
    types = ", ".join(_type_name(operand) for operand in operands)
    return _EvaluationFailure(f"no such overload: {op}({types})")


def _values_equal(left: object, right: object) -> bool:
    """CEL equality: numbers compare by value, values of other differing types are unequal."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if _is_number(left) and _is_number(right):
        return left == right
    if _is_list(left) and _is_list(right):
        return len(left) == len(right) and all(map(_values_equal, left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(
            _values_equal(value, right[key]) for key, value in left.items()
        )
    return type(left) is type(right) and left == right


_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _ordered(op: str, left: object, right: object) -> bool:
    """``left op right`` for orderable pairs; false for anything else (e.g. null or mixed)."""
    both_numbers = _is_number(left) and _is_number(right)
    same_orderable_type = type(left) is type(right) and isinstance(left, (str, bool, datetime))
    if not (both_numbers or same_orderable_type):
        return False
    return bool(_ORDERINGS[op](left, right))


def _get_field(container: object, name: object) -> object:
    if isinstance(container, Mapping):
        return container.get(name)
    return None


def _get_item(container: object, key: object) -> object:
    if isinstance(container, Mapping):
        return container.get(key)
    if _is_list(container) and _is_number(key) and int(key) == key:
        index = int(key)
        return container[index] if 0 <= index < len(container) else None
    return None


# ---------------------------------------------------------------- functions

def _require_str(function: str, value: object) -> str:
    if not isinstance(value, str):
        raise _no_overload(function, value)
    return value


def _size(value: object) -> int:
    if isinstance(value, (str, bytes, list, tuple, Mapping)):
        return len(value)
    raise _no_overload("size", value)


def _starts_with(text: object, prefix: object) -> bool:
    return _require_str("startsWith", text).startswith(_require_str("startsWith", prefix))


def _ends_with(text: object, suffix: object) -> bool:
    return _require_str("endsWith", text).endswith(_require_str("endsWith", suffix))


def _contains(text: object, part: object) -> bool:
    return _require_str("contains", part) in _require_str("contains", text)


def _regex_matches(text: object, pattern: object) -> bool:
    try:
        regex = re.compile(_require_str("matches", pattern))
    except re.error as exc:
        raise _EvaluationFailure(f"invalid regular expression {pattern!r}: {exc}") from exc
    return regex.search(_require_str("matches", text)) is not None


_ASCII_TO_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_TO_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _lower_ascii(text: object) -> str:
    return _require_str("lowerAscii", text).translate(_ASCII_TO_LOWER)


def _upper_ascii(text: object) -> str:
    return _require_str("upperAscii", text).translate(_ASCII_TO_UPPER)


def _lowercase(text: object) -> str:
    return _require_str("lowercase", text).lower()


def _uppercase(text: object) -> str:
    return _require_str("uppercase", text).upper()


_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DOUBLE_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _to_int(value: object) -> int:
    if _is_int(value):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)  # truncates toward zero, as CEL does
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    if isinstance(value, datetime):
        return math.floor(value.timestamp())
    raise _EvaluationFailure(f"cannot convert {_type_name(value)} {value!r} to int")


def _to_double(value: object) -> float:
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and _DOUBLE_TEXT.fullmatch(value):
        return float(value)
    raise _EvaluationFailure(f"cannot convert {_type_name(value)} {value!r} to double")


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_double(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    raise _EvaluationFailure(f"cannot convert {_type_name(value)} to string")


def _format_double(value: float) -> str:
    """Go's shortest ``%g`` formatting, which CEL's ``string(double)`` uses."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite decimals have an integer exponent
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # digits before the decimal point
    prefix = "-" if sign else ""
    if -4 <= point - 1 < 6:
        return prefix + _place_decimal_point(digits, point)
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{prefix}{mantissa}e{point - 1:+03d}"


def _place_decimal_point(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _b64decode(text: object) -> str:
    decoded = base64.b64decode(_require_str("b64decode", text), validate=True)
    return decoded.decode("utf-8", errors="replace")


def _json_parse(text: object) -> object:
    return json.loads(_require_str("json_parse", text))


def _date(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_date(_require_str("date", value))
    if parsed is None:
        raise _EvaluationFailure(f"cannot parse date {value!r}")
    return parsed


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _now_plus(duration: object) -> datetime:
    return _now() + timedelta(seconds=parse_duration(_require_str("now_plus", duration)))


def _now_minus(duration: object) -> datetime:
    return _now() - timedelta(seconds=parse_duration(_require_str("now_minus", duration)))


# Member calls such as ``s.startsWith(p)`` pass the receiver as the first argument.
_FUNCTIONS: dict[str, tuple[int, Callable[..., object]]] = {
    "size": (1, _size),
    "startsWith": (2, _starts_with),
    "endsWith": (2, _ends_with),
    "contains": (2, _contains),
    "matches": (2, _regex_matches),
    "lowerAscii": (1, _lower_ascii),
    "upperAscii": (1, _upper_ascii),
    "int": (1, _to_int),
    "double": (1, _to_double),
    "string": (1, _to_string),
    "lowercase": (1, _lowercase),
    "uppercase": (1, _uppercase),
    "b64decode": (1, _b64decode),
    "json_parse": (1, _json_parse),
    "date": (1, _date),
    "now": (0, _now),
    "now_plus": (1, _now_plus),
    "now_minus": (1, _now_minus),
}


# ---------------------------------------------------------------- arithmetic

def _add(left: object, right: object) -> object:
    if _is_number(left) and _is_number(right):
        return left + right
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    if _is_list(left) and _is_list(right):
        return [*left, *right]
    raise _no_overload("+", left, right)


def _numbers(op: str, left: object, right: object) -> tuple[int | float, int | float]:
    if not (_is_number(left) and _is_number(right)):
        raise _no_overload(op, left, right)
    return left, right


def _subtract(left: object, right: object) -> object:
    minuend, subtrahend = _numbers("-", left, right)
    return minuend - subtrahend


def _multiply(left: object, right: object) -> object:
    first, second = _numbers("*", left, right)
    return first * second


def _divide(left: object, right: object) -> object:
    dividend, divisor = _numbers("/", left, right)
    if divisor == 0:
        raise _EvaluationFailure("division by zero")
    if _is_int(dividend) and _is_int(divisor):
        quotient = abs(dividend) // abs(divisor)  # CEL truncates toward zero
        return quotient if (dividend < 0) == (divisor < 0) else -quotient
    return dividend / divisor


def _modulo(left: object, right: object) -> object:
    if not (_is_int(left) and _is_int(right)):
        raise _no_overload("%", left, right)
    if right == 0:
        raise _EvaluationFailure("modulus by zero")
    remainder = abs(left) % abs(right)  # CEL's remainder takes the dividend's sign
    return remainder if left >= 0 else -remainder


_ARITHMETIC: dict[str, Callable[[object, object], object]] = {
    "+": _add, "-": _subtract, "*": _multiply, "/": _divide, "%": _modulo,
}


# ---------------------------------------------------------------- syntax tree

_Scope = Mapping[str, object]


class _Node(ABC):
    @abstractmethod
    def evaluate(self, scope: _Scope) -> object:
        """The node's value given the top-level variables."""


@dataclass(frozen=True)
class _Literal(_Node):
    value: object

    def evaluate(self, scope: _Scope) -> object:
        return self.value


@dataclass(frozen=True)
class _Variable(_Node):
    name: str

    def evaluate(self, scope: _Scope) -> object:
        return scope.get(self.name)


@dataclass(frozen=True)
class _Select(_Node):
    operand: _Node
    field: str

    def evaluate(self, scope: _Scope) -> object:
        return _get_field(self.operand.evaluate(scope), self.field)


@dataclass(frozen=True)
class _Index(_Node):
    operand: _Node
    key: _Node

    def evaluate(self, scope: _Scope) -> object:
        return _get_item(self.operand.evaluate(scope), self.key.evaluate(scope))


@dataclass(frozen=True)
class _Has(_Node):
    operand: _Node
    field: str

    def evaluate(self, scope: _Scope) -> object:
        container = self.operand.evaluate(scope)
        return isinstance(container, Mapping) and self.field in container


@dataclass(frozen=True)
class _Call(_Node):
    function: str
    arguments: tuple[_Node, ...]

    def evaluate(self, scope: _Scope) -> object:
        if self.function not in _FUNCTIONS:
            raise _EvaluationFailure(f"unknown function {self.function!r}")
        arity, implementation = _FUNCTIONS[self.function]
        if len(self.arguments) != arity:
            raise _EvaluationFailure(
                f"{self.function!r} takes {arity} argument(s), got {len(self.arguments)}"
            )
        return implementation(*(argument.evaluate(scope) for argument in self.arguments))


@dataclass(frozen=True)
class _Not(_Node):
    operand: _Node

    def evaluate(self, scope: _Scope) -> object:
        value = self.operand.evaluate(scope)
        if not isinstance(value, bool):
            raise _no_overload("!", value)
        return not value


@dataclass(frozen=True)
class _Negate(_Node):
    operand: _Node

    def evaluate(self, scope: _Scope) -> object:
        value = self.operand.evaluate(scope)
        if not _is_number(value):
            raise _no_overload("-", value)
        return -value


@dataclass(frozen=True)
class _Logical(_Node):
    """``&&`` or ``||``: like CEL, a deciding operand wins even over an error in the other."""

    op: str
    left: _Node
    right: _Node

    def evaluate(self, scope: _Scope) -> object:
        deciding = self.op == "||"  # true decides ||, false decides &&
        try:
            left = self.left.evaluate(scope)
        except _EvaluationFailure:
            if self.right.evaluate(scope) is deciding:
                return deciding
            raise
        if left is deciding:
            return deciding
        right = self.right.evaluate(scope)
        if right is deciding:
            return deciding
        if isinstance(left, bool) and isinstance(right, bool):
            return not deciding
        raise _no_overload(self.op, left, right)


@dataclass(frozen=True)
class _Conditional(_Node):
    condition: _Node
    then: _Node
    otherwise: _Node

    def evaluate(self, scope: _Scope) -> object:
        condition = self.condition.evaluate(scope)
        if not isinstance(condition, bool):
            raise _no_overload("?:", condition)
        return (self.then if condition else self.otherwise).evaluate(scope)


@dataclass(frozen=True)
class _Comparison(_Node):
    op: str
    left: _Node
    right: _Node

    def evaluate(self, scope: _Scope) -> object:
        left, right = self.left.evaluate(scope), self.right.evaluate(scope)
        if self.op == "==":
            return _values_equal(left, right)
        if self.op == "!=":
            return not _values_equal(left, right)
        return _ordered(self.op, left, right)


@dataclass(frozen=True)
class _In(_Node):
    item: _Node
    container: _Node

    def evaluate(self, scope: _Scope) -> object:
        item, container = self.item.evaluate(scope), self.container.evaluate(scope)
        if isinstance(container, Mapping):
            return any(_values_equal(item, key) for key in container)
        if _is_list(container):
            return any(_values_equal(item, element) for element in container)
        return False


@dataclass(frozen=True)
class _Arithmetic(_Node):
    op: str
    left: _Node
    right: _Node

    def evaluate(self, scope: _Scope) -> object:
        return _ARITHMETIC[self.op](self.left.evaluate(scope), self.right.evaluate(scope))


@dataclass(frozen=True)
class _ListLiteral(_Node):
    items: tuple[_Node, ...]

    def evaluate(self, scope: _Scope) -> object:
        return [item.evaluate(scope) for item in self.items]


@dataclass(frozen=True)
class _MapLiteral(_Node):
    entries: tuple[tuple[_Node, _Node], ...]

    def evaluate(self, scope: _Scope) -> object:
        result: dict[object, object] = {}
        for key_node, value_node in self.entries:
            key = key_node.evaluate(scope)
            if not isinstance(key, (str, int)):  # CEL map keys: string, int, bool
                raise _EvaluationFailure(f"invalid map key type {_type_name(key)}")
            result[key] = value_node.evaluate(scope)
        return result


# ---------------------------------------------------------------- parser

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")
_LITERAL_KEYWORDS: dict[str, object] = {"true": True, "false": False, "null": None}


class _Parser:
    """Recursive descent over CEL's grammar, lowest precedence first."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._tokens = _tokenize(source)
        self._index = 0

    def parse(self) -> _Node:
        node = self._conditional()
        if self._peek().kind != "end":
            raise self._unexpected(self._peek())
        return node

    # -- token helpers

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
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

    def _unexpected(self, token: _Token, expectation: str = "") -> ExpressionError:
        problem = f"unexpected {_describe(token)}" + (f" ({expectation})" if expectation else "")
        return _syntax_error(self._source, token.pos, problem)

    def _peek_op(self, ops: Sequence[str]) -> str | None:
        token = self._peek()
        if token.kind == "op" and token.value in ops:
            return str(token.value)
        return None

    # -- grammar, one method per precedence level

    def _conditional(self) -> _Node:
        condition = self._or()
        if not self._accept("?"):
            return condition
        then = self._or()
        self._expect(":")
        return _Conditional(condition, then, self._conditional())

    def _or(self) -> _Node:
        node = self._and()
        while self._accept("||"):
            node = _Logical("||", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._relation()
        while self._accept("&&"):
            node = _Logical("&&", node, self._relation())
        return node

    def _relation(self) -> _Node:
        node = self._addition()
        while True:
            if self._accept_keyword("in"):
                node = _In(node, self._addition())
            elif (op := self._peek_op(_RELATIONS)) is not None:
                self._advance()
                node = _Comparison(op, node, self._addition())
            else:
                return node

    def _addition(self) -> _Node:
        node = self._multiplication()
        while (op := self._peek_op(("+", "-"))) is not None:
            self._advance()
            node = _Arithmetic(op, node, self._multiplication())
        return node

    def _multiplication(self) -> _Node:
        node = self._unary()
        while (op := self._peek_op(("*", "/", "%"))) is not None:
            self._advance()
            node = _Arithmetic(op, node, self._unary())
        return node

    def _unary(self) -> _Node:
        if self._accept("!"):
            return _Not(self._unary())
        if self._accept("-"):
            return _Negate(self._unary())
        return self._member()

    def _member(self) -> _Node:
        node = self._primary()
        while True:
            if self._accept("."):
                name = self._identifier()
                if self._accept("("):
                    node = _Call(name, (node, *self._arguments(")")))
                else:
                    node = _Select(node, name)
            elif self._accept("["):
                key = self._conditional()
                self._expect("]")
                node = _Index(node, key)
            else:
                return node

    def _primary(self) -> _Node:
        token = self._advance()
        if token.kind in ("number", "string"):
            return _Literal(token.value)
        if token.kind == "ident" and token.value != "in":
            return self._named(str(token.value), token)
        if token.kind == "op" and token.value == "(":
            node = self._conditional()
            self._expect(")")
            return node
        if token.kind == "op" and token.value == "[":
            return _ListLiteral(self._arguments("]"))
        if token.kind == "op" and token.value == "{":
            return _MapLiteral(self._map_entries())
        raise self._unexpected(token)

    def _named(self, name: str, token: _Token) -> _Node:
        if name in _LITERAL_KEYWORDS:
            return _Literal(_LITERAL_KEYWORDS[name])
        if not self._accept("("):
            return _Variable(name)
        arguments = self._arguments(")")
        if name != "has":
            return _Call(name, arguments)
        if len(arguments) != 1 or not isinstance(arguments[0], _Select):
            raise _syntax_error(self._source, token.pos, "has() needs one field selection")
        return _Has(arguments[0].operand, arguments[0].field)

    def _identifier(self) -> str:
        token = self._advance()
        if token.kind != "ident":
            raise self._unexpected(token, "expected a field name")
        return str(token.value)

    def _arguments(self, closing: str) -> tuple[_Node, ...]:
        """Comma-separated expressions up to ``closing`` (a trailing comma is allowed)."""
        items: list[_Node] = []
        while not self._accept(closing):
            items.append(self._conditional())
            if not self._accept(","):
                self._expect(closing)
                break
        return tuple(items)

    def _map_entries(self) -> tuple[tuple[_Node, _Node], ...]:
        entries: list[tuple[_Node, _Node]] = []
        while not self._accept("}"):
            key = self._conditional()
            self._expect(":")
            entries.append((key, self._conditional()))
            if not self._accept(","):
                self._expect("}")
                break
        return tuple(entries)


# ---------------------------------------------------------------- public API

@dataclass(frozen=True)
class Expression:
    """A compiled expression, safe to evaluate many times and from many threads."""

    source: str
    tree: _Node

    def evaluate(self, variables: Mapping[str, object]) -> object:
        """The expression's value; raises ExpressionError on runtime errors."""
        try:
            return self.tree.evaluate(variables)
        except (_EvaluationFailure, ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            raise ExpressionError(f"cannot evaluate {self.source!r}: {exc}") from exc


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile_expression(source: str) -> Expression:
    """Parse ``source``; raises ExpressionError naming the position of a syntax error."""
    try:
        return Expression(source, _Parser(source).parse())
    except RecursionError:
        raise ExpressionError(f"expression {source!r} is nested too deeply") from None


def evaluate(source: str, variables: Mapping[str, object]) -> object:
    """Compile (cached) and evaluate ``source``."""
    return compile_expression(source).evaluate(variables)


def matches(source: str, variables: Mapping[str, object]) -> bool:
    """True only if ``source`` evaluates to boolean true; errors count as false."""
    try:
        return evaluate(source, variables) is True
    except ExpressionError:
        return False


def evaluate_key(source: str, variables: Mapping[str, object]) -> str:
    """A flow-control key: strings as they are, other values as compact sorted JSON."""
    try:
        value = evaluate(source, variables)
        if isinstance(value, str):
            return value
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)
    except (ExpressionError, TypeError, ValueError):
        return _INVALID_KEY


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return format_rfc3339_ms(value)
    raise TypeError(f"{_type_name(value)} is not JSON serializable")


def validate(source: str) -> None:
    """Raise ExpressionError if ``source`` does not compile."""
    compile_expression(source)
