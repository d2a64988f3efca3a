"""Values written as Go's ``fmt`` ``%v`` writes the values cel-go hands the real server.

The server turns a flow-control key's value into a string this way, and so does its
expression evaluator when ``+`` joins values of two types: ``1`` and ``"1"`` are one key.
Event numbers are JSON numbers, float64 in Go. A null is cel-go's ``NULL_VALUE`` on its own,
Go's ``<nil>`` inside a list or map.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from inngest._engine.cel.operations import is_list
from inngest._engine.timeparse import format_rfc3339_ms

_TOP_NULL = "NULL_VALUE"
_NESTED_NULL = "<nil>"
# Go's %v writes a float in exponent form from this decimal exponent on.
_EXPONENT_FROM = 6


def go_string(value: object) -> str:
    """``value`` as the real server writes a key's value (strings as they are)."""
    return _TOP_NULL if value is None else go_value(value)


def go_value(value: object,
             number: typing.Callable[[float | int], str] | None = None) -> str:
    """Go's ``%v`` of a decoded JSON value (``null`` is ``<nil>``); numbers as float64s,
    or as ``number`` writes them (a decoder that keeps a number's text)."""
    if value is None:
        return _NESTED_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value) if number else go_float(_as_float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return format_rfc3339_ms(value)
    if isinstance(value, Mapping):
        entries = sorted((go_value(key, number), go_value(item, number))
                         for key, item in value.items())
        return "map[" + " ".join(f"{key}:{item}" for key, item in entries) + "]"
    if is_list(value):
        return "[" + " ".join(go_value(item, number) for item in value) + "]"
    return str(value)


def _as_float(number: int | float) -> float:
    """Go reads an event's JSON numbers as float64; past its range, as infinities here."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def go_float(number: float) -> str:
    """Go's ``%v`` of a float64: the shortest digits that read back as ``number``, in
    exponent form (``1e+08``) when the exponent is below -4 or at least 6."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    sign = "-" if math.copysign(1, number) < 0 else ""
    if number == 0:
        return sign + "0"
    shortest = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    exponent = len(digits) - 1 + int(shortest.exponent)
    if exponent < -4 or exponent >= _EXPONENT_FROM:
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    if exponent + 1 >= len(digits):
        return sign + digits + "0" * (exponent + 1 - len(digits))
    return f"{sign}{digits[:exponent + 1]}.{digits[exponent + 1:]}"
