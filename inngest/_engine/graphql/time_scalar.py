"""The ``Time`` scalar as the real server reads an argument: Go's ``time.Parse`` with the
RFC 3339 layout, refusing a value with Go's words (which part failed, and the rest of the
value), as gqlgen passes them on.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

from inngest._engine.graphql.errors import GraphQLError

LAYOUT = "2006-01-02T15:04:05.999999999Z07:00"
NOT_A_STRING = "time should be RFC3339Nano formatted string"

# The layout's parts in order: (part, digits it takes) for numbers, (text, 0) for literals;
# the hour takes one or two digits, as Go's does.
_PARTS = (("2006", 4), ("-", 0), ("01", 2), ("-", 0), ("02", 2), ("T", 0), ("15", -2),
          (":", 0), ("04", 2), (":", 0), ("05", 2))
_RANGES = {"01": ("month", 1, 12), "15": ("hour", 0, 23), "04": ("minute", 0, 59),
           "05": ("second", 0, 59)}
_FRACTION = re.compile(r"[.,](\d+)")
_ZONE = re.compile(r"([+-])(\d\d):(\d\d)")


def parse_time(value: object) -> datetime:
    """The time ``value`` names; a GraphQLError in the real server's words if none."""
    if not isinstance(value, str):
        raise GraphQLError(NOT_A_STRING)
    rest, numbers = value, dict[str, int]()
    for part, digits in _PARTS:
        rest = _take(value, rest, part, digits, numbers)
    fraction = _FRACTION.match(rest)
    micros = 0
    if fraction:
        micros = int(fraction.group(1)[:6].ljust(6, "0"))
        rest = rest[fraction.end():]
    zone, rest = _zone(value, rest)
    if rest:
        raise GraphQLError(f"parsing time {_quote(value)}: extra text: {_quote(rest)}")
    return _moment(value, numbers, micros, zone)


def _error(value: str, rest: str, part: str) -> GraphQLError:
    return GraphQLError(f'parsing time {_quote(value)} as "{LAYOUT}": cannot parse '
                        f'{_quote(rest)} as "{part}"')


def _take(value: str, rest: str, part: str, digits: int, numbers: dict[str, int]) -> str:
    if digits == 0:
        if not rest.startswith(part):
            raise _error(value, rest, part)
        return rest[len(part):]
    size = abs(digits)
    if digits < 0 and not rest[1:2].isdigit():
        size = 1
    head = rest[:size]
    if len(head) < size or not (head.isascii() and head.isdigit()):
        raise _error(value, rest, part)
    numbers[part] = int(head)
    low_high = _RANGES.get(part)
    if low_high and not low_high[1] <= numbers[part] <= low_high[2]:
        raise GraphQLError(f"parsing time {_quote(value)}: {low_high[0]} out of range")
    return rest[size:]


def _zone(value: str, rest: str) -> tuple[timezone, str]:
    if rest.startswith("Z"):
        return timezone.utc, rest[1:]
    found = _ZONE.match(rest)
    if not found:
        raise _error(value, rest, "Z07:00")
    hours, minutes = int(found.group(2)), int(found.group(3))
    for what, number, most in (("hour", hours, 23), ("minute", minutes, 59)):
        if number > most:
            raise GraphQLError(f"parsing time {_quote(value)}: time zone offset {what} "
                               "out of range")
    sign = -1 if found.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes)), rest[found.end():]


def _moment(value: str, numbers: dict[str, int], micros: int, zone: timezone) -> datetime:
    year, month, day = numbers["2006"], numbers["01"], numbers["02"]
    if not 1 <= day <= calendar.monthrange(max(year, 1), month)[1]:
        raise GraphQLError(f"parsing time {_quote(value)}: day out of range")
    return datetime(max(year, 1), month, day, numbers["15"], numbers["04"], numbers["05"],
                    micros, zone)


def _quote(text: str) -> str:
    """``text`` quoted as Go's time package quotes a value in its errors: ``"`` and ``\\``
    escaped, each byte of a control or non-ASCII character written ``\\xNN``."""
    out = []
    for char in text:
        if char < " " or char >= "\x80":
            out.append("".join(f"\\x{byte:02x}" for byte in char.encode("utf-8", "replace")))
        else:
            out.append("\\" + char if char in '"\\' else char)
    return '"' + "".join(out) + '"'
