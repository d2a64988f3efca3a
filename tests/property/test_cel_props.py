"""Expressions: any string, and token soups from the language's own vocabulary, compile and
evaluate to a value or raise ExpressionError, nothing else; generated arithmetic and
comparisons over ints, doubles and event fields agree with a Python model of CEL's rules."""

from __future__ import annotations

import dataclasses
import math
import typing

from hypothesis import assume, given, settings, strategies as st

from inngest._engine import cel

FEW = 2_000
VARIABLES = {"event": {"name": "a/b", "data": {"n": 7, "x": 2.5, "s": "hi", "l": [1, 2],
                                               "m": {"k": None}}},
             "async": {"data": {"n": -3}}}
_VOCABULARY = ["event", "data", "n", "x", "s", "l", "m", "async", "in", "has", "size",
               "true", "false", "null", "int", "double", "string", "matches", "startsWith",
               "json_parse", "b64decode", "date", "now_plus", "(", ")", "[", "]", "{", "}", ".",
               ",", ":", "?", "!", "-", "+", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=",
               "&&", "||", "0", "1", "9223372036854775807", "1" * 5000, "1.5", "1e999", ".5",
               "0x1F", "1u", "'s'", '"s"', "r'\\d'", "'''x'''", "'\\x41'", "'\\u00e9'", "'\\777'",
               "'\\", "'", '"', "¹", "٣", "\x00", " "]
soups = st.lists(st.sampled_from(_VOCABULARY), max_size=14).map("".join)
deep = st.builds(lambda depth, open_, close: open_ * depth + "1" + close * depth,
                 st.integers(1, 200), st.sampled_from(["(", "[", "-", "!", "{1: ", "size("]),
                 st.sampled_from([")", "]", "", "}"]))


@given(st.one_of(st.text(max_size=30), soups, deep))
def test_any_source_gives_a_value_or_expression_error(source: str) -> None:
    try:
        cel.evaluate(source, VARIABLES)
    except cel.ExpressionError:
        pass
    assert cel.matches(source, VARIABLES) in (True, False)
    assert isinstance(cel.evaluate_key(source, VARIABLES), str)


class _Error(Exception):
    """The model's 'this expression fails' (CEL's error value)."""


@dataclasses.dataclass(frozen=True)
class Expr:
    source: str
    precedence: int  # as CEL's grammar: ?: 0, || 1, && 2, relations 3, + - 4, * / % 5, unary 6
    model: typing.Callable[[], object]


INT64 = 2**63


def _value(expr: Expr) -> object:
    value = expr.model()
    if isinstance(value, int) and not isinstance(value, bool):
        assume(-INT64 <= value < INT64)  # past int64 CEL errors; this engine does not model it
    return value


def _operand(expr: Expr, needed: int) -> str:
    return expr.source if expr.precedence >= needed else f"({expr.source})"


def _truncating_divide(left: object, right: object) -> object:
    if right == 0:
        raise _Error  # any zero divisor, doubles included, is an error in this engine
    if isinstance(left, int) and isinstance(right, int):
        quotient = abs(left) // abs(right)
        return quotient if (left < 0) == (right < 0) else -quotient
    return left / right  # type: ignore[operator]


def _remainder(left: object, right: object) -> object:
    if not (isinstance(left, int) and isinstance(right, int)) or right == 0:
        raise _Error
    return math.copysign(abs(left) % abs(right), left) if left else 0


_ARITHMETIC: dict[str, tuple[int, typing.Callable[[typing.Any, typing.Any], object]]] = {
    "+": (4, lambda a, b: a + b), "-": (4, lambda a, b: a - b), "*": (5, lambda a, b: a * b),
    "/": (5, _truncating_divide), "%": (5, _remainder),
}
_RELATIONS: dict[str, typing.Callable[[typing.Any, typing.Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _arithmetic(op: str, left: Expr, right: Expr) -> Expr:
    precedence, apply = _ARITHMETIC[op]

    def model() -> object:
        a, b = _value(left), _value(right)
        result = apply(a, b)
        return int(result) if op == "%" else result

    # Left-associative: a right operand of the same precedence needs parentheses.
    return Expr(f"{_operand(left, precedence)} {op} {_operand(right, precedence + 1)}",
                precedence, model)


def _negate(operand: Expr) -> Expr:
    return Expr(f"-{_operand(operand, 6)}", 6, lambda: -_value(operand))  # type: ignore[operator]


_int_literals = st.integers(0, 60).map(lambda n: Expr(str(n), 7, lambda: n))
_double_literals = st.floats(0, 1e6, allow_subnormal=False).map(
    lambda x: Expr(repr(x), 7, lambda: x))
_fields = st.sampled_from([("event.data.n", 7), ("event.data.x", 2.5),
                           ("async.data.n", -3), ("event.data['n']", 7)]).map(
    lambda pair: Expr(pair[0], 7, lambda: pair[1]))
numbers = st.recursive(_int_literals | _double_literals | _fields, lambda inner: st.one_of(
    st.builds(_arithmetic, st.sampled_from(sorted(_ARITHMETIC)), inner, inner),
    st.builds(_negate, inner)), max_leaves=6)


def _relation(op: str, left: Expr, right: Expr) -> Expr:
    return Expr(f"{_operand(left, 4)} {op} {_operand(right, 4)}", 3,
                lambda: _RELATIONS[op](_value(left), _value(right)))


def _logical(op: str, left: Expr, right: Expr) -> Expr:
    precedence, deciding = (1, True) if op == "||" else (2, False)

    def model() -> object:
        # CEL's && and || are commutative over errors: a deciding side wins over an error.
        sides = []
        for side in (left, right):
            try:
                sides.append(side.model())
            except _Error:
                sides.append(_Error)
        if deciding in sides:
            return deciding
        if _Error in sides:
            if not deciding or sides[1] is _Error:
                raise _Error
            return sides[1]  # the real server's ||: the last operand when none is true
        return not deciding

    return Expr(f"{_operand(left, precedence)} {op} {_operand(right, precedence + 1)}",
                precedence, model)


def _conditional(condition: Expr, then: Expr, otherwise: Expr) -> Expr:
    def model() -> object:
        try:
            chosen = then if condition.model() else otherwise
        except _Error:
            chosen = otherwise  # a condition that fails counts as false on the real server
        return chosen.model()

    return Expr(f"{_operand(condition, 1)} ? {_operand(then, 1)} : {_operand(otherwise, 0)}", 0,
                model)


booleans = st.recursive(
    st.builds(_relation, st.sampled_from(sorted(_RELATIONS)), numbers, numbers)
    | st.sampled_from([Expr("true", 7, lambda: True), Expr("false", 7, lambda: False)]),
    lambda inner: st.one_of(
        st.builds(_logical, st.sampled_from(["&&", "||"]), inner, inner),
        st.builds(lambda e: Expr(f"!{_operand(e, 6)}", 6, lambda: not e.model()), inner),
        st.builds(_conditional, inner, inner, inner)), max_leaves=4)


@settings(max_examples=FEW)
@given(numbers)
def test_arithmetic_agrees_with_the_model(expr: Expr) -> None:
    _assert_agrees(expr)


@settings(max_examples=FEW)
@given(booleans)
def test_comparisons_and_logic_agree_with_the_model(expr: Expr) -> None:
    _assert_agrees(expr)


def _assert_agrees(expr: Expr) -> None:
    try:
        expected = expr.model()
    except (_Error, OverflowError):
        expected = _Error
    try:
        actual = cel.evaluate(expr.source, VARIABLES)
    except cel.ExpressionError:
        actual = _Error
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, float) and math.isnan(actual), expr.source
    else:
        assert actual == expected and type(actual) is type(expected), expr.source
