"""RFC 8785 JSON Canonicalization Scheme, used to verify request signatures."""

from __future__ import annotations

import decimal
import math
import typing

_ESCAPES = {
    '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
}


def canonicalize(value: object) -> bytes:
    """Serialize a JSON value (as returned by ``json.loads``) in canonical form."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: object, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        parts.append(format_number(value))
    elif isinstance(value, str):
        parts.append(_quote(value))
    elif isinstance(value, (list, tuple)):
        _write_array(value, parts)
    elif isinstance(value, dict):
        _write_object(value, parts)
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def _write_array(items: typing.Sequence[object], parts: list[str]) -> None:
    parts.append("[")
    for index, item in enumerate(items):
        if index:
            parts.append(",")
        _write(item, parts)
    parts.append("]")


def _write_object(obj: dict[typing.Any, object], parts: list[str]) -> None:
    parts.append("{")
    keys = sorted(obj, key=lambda key: str(key).encode("utf-16-be"))
    for index, key in enumerate(keys):
        if index:
            parts.append(",")
        parts.append(_quote(str(key)))
        parts.append(":")
        _write(obj[key], parts)
    parts.append("}")


def _quote(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def format_number(number: float) -> str:
    """Format a float as ECMAScript's Number.prototype.toString does."""
    if math.isnan(number) or math.isinf(number):
        raise ValueError("NaN and Infinity are not JSON numbers")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    exact = decimal.Decimal(repr(abs(number))).as_tuple()
    digits = "".join(map(str, exact.digits)).rstrip("0") or "0"
    exponent = int(exact.exponent) + len(exact.digits)
    return sign + _place_point(digits, exponent)


def _place_point(digits: str, n: int) -> str:
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
