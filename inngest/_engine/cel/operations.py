"""What operators and built-in functions do to values: equality, ordering, conversions,
string and date functions, arithmetic. Unrelated types compare unequal, as on the server.
"""

from __future__ import annotations

import base64
import math
import operator
import re
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeGuard

from inngest._engine.cel.errors import EvaluationFailure
from inngest._engine.payload import load
from inngest._engine.timeparse import parse_date, parse_duration
from inngest._protocol.json_value import JSON


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_list(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, (list, tuple))


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "bool"), (int, "int"), (float, "double"), (str, "string"),
    (list, "list"), (tuple, "list"), (Mapping, "map"), (datetime, "timestamp"),
)


def type_name(value: object) -> str:
    if value is None:
        return "null"
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def no_overload(op: str, *operands: object) -> EvaluationFailure:
    types = ", ".join(type_name(operand) for operand in operands)
    return EvaluationFailure(f"no such overload: {op}({types})")


def values_equal(left: object, right: object) -> bool:
    """CEL equality: numbers compare by value, values of other differing types are unequal."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if is_number(left) and is_number(right):
        return left == right
    if is_list(left) and is_list(right):
        return len(left) == len(right) and all(map(values_equal, left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(
            values_equal(value, right[key]) for key, value in left.items()
        )
    return type(left) is type(right) and left == right


_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def ordered(op: str, left: object, right: object) -> bool:
    """``left op right`` for orderable pairs; false for anything else (e.g. null or mixed)."""
    both_numbers = is_number(left) and is_number(right)
    same_orderable_type = type(left) is type(right) and isinstance(left, (str, bool, datetime))
    if not (both_numbers or same_orderable_type):
        return False
    return bool(_ORDERINGS[op](left, right))


def get_field(container: object, name: object) -> object:
    if isinstance(container, Mapping):
        return container.get(name)
    return None


def get_item(container: object, key: object) -> object:
    if isinstance(container, Mapping):
        return container.get(key)
    if is_list(container) and is_number(key) and int(key) == key:
        index = int(key)
        return container[index] if 0 <= index < len(container) else None
    return None


# ---------------------------------------------------------------- functions

def _require_str(function: str, value: object) -> str:
    if not isinstance(value, str):
        raise no_overload(function, value)
    return value


def _size(value: object) -> int:
    if isinstance(value, (str, bytes, list, tuple, Mapping)):
        return len(value)
    raise no_overload("size", value)


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
        raise EvaluationFailure(f"invalid regular expression {pattern!r}: {exc}") from exc
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
    raise EvaluationFailure(f"cannot convert {type_name(value)} {value!r} to int")


def _to_double(value: object) -> float:
    if is_number(value):
        return float(value)
    if isinstance(value, str) and _DOUBLE_TEXT.fullmatch(value):
        return float(value)
    raise EvaluationFailure(f"cannot convert {type_name(value)} {value!r} to double")


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
    raise EvaluationFailure(f"cannot convert {type_name(value)} to string")


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


def _json_parse(text: object) -> JSON:
    return load(_require_str("json_parse", text))


def _date(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    parsed = parse_date(_require_str("date", value))
    if parsed is None:
        raise EvaluationFailure(f"cannot parse date {value!r}")
    return parsed


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _now_plus(duration: object) -> datetime:
    return _now() + timedelta(seconds=parse_duration(_require_str("now_plus", duration)))


def _now_minus(duration: object) -> datetime:
    return _now() - timedelta(seconds=parse_duration(_require_str("now_minus", duration)))


# Member calls such as ``s.startsWith(p)`` pass the receiver as the first argument.
FUNCTIONS: dict[str, tuple[int, Callable[..., object]]] = {
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
    if is_number(left) and is_number(right):
        return left + right
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    if is_list(left) and is_list(right):
        return [*left, *right]
    raise no_overload("+", left, right)


def _numbers(op: str, left: object, right: object) -> tuple[int | float, int | float]:
    if not (is_number(left) and is_number(right)):
        raise no_overload(op, left, right)
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
        raise EvaluationFailure("division by zero")
    if _is_int(dividend) and _is_int(divisor):
        quotient = abs(dividend) // abs(divisor)  # CEL truncates toward zero
        return quotient if (dividend < 0) == (divisor < 0) else -quotient
    return dividend / divisor


def _modulo(left: object, right: object) -> object:
    if not (_is_int(left) and _is_int(right)):
        raise no_overload("%", left, right)
    if right == 0:
        raise EvaluationFailure("modulus by zero")
    remainder = abs(left) % abs(right)  # CEL's remainder takes the dividend's sign
    return remainder if left >= 0 else -remainder


ARITHMETIC: dict[str, Callable[[object, object], object]] = {
    "+": _add, "-": _subtract, "*": _multiply, "/": _divide, "%": _modulo,
}
