"""RFC 8785 JSON Canonicalization Scheme, used to verify request signatures.

JCS output equals ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
except for floats and integers past 2**53 (JCS formats them as ECMAScript formats doubles)
and for keys outside the BMP (JCS sorts by UTF-16 code units, Python by code points; the two
orders agree on BMP-only keys). String escaping is the same: only ``"``, ``\\`` and control
characters, with the short forms ``\\b \\f \\n \\r \\t`` and lower-case ``\\u00xx`` for the
rest. So values without floats, large integers and non-BMP keys take the C encoder; the rest
are written piece by piece.
"""

from __future__ import annotations

import json
import json.encoder
import math
import re
import typing

from inngest._protocol import json_value

_quote: typing.Callable[[str], str] = json.encoder.encode_basestring
_dumps_sorted = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode
# Signs that a key of a JSON document may lie outside the BMP: a \u escape of a surrogate; a
# UTF-8 lead byte of U+D000..U+DFFF (surrogates included) or of a 4-byte character; or a
# document that is not UTF-8 at all (NUL bytes, a UTF-16/32 byte order mark: json.loads
# accepts those). Searched separately because one alternation is many times slower.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_WIDE_LEAD_BYTE = re.compile(rb"[\x00\xed\xf0-\xff]")
_BMP_END = "\U00010000"
# JSON numbers are IEEE doubles: JCS writes an integer past 2**53 as ECMAScript writes the
# double nearest it (10**30 as 1e+30). Such an integer has 16 digits or more.
_SAFE_INTEGER = 2**53
_LONG_DIGITS = re.compile(rb"[0-9]{16}")


def canonicalize(value: object) -> bytes:
    """Serialize a JSON value (as returned by ``json.loads``) in canonical form."""
    if _fits_c_encoder(value):
        return _encode_or_slowly(value)
    return _canonicalize_slowly(value)


def canonicalize_floatless(value: object) -> bytes:
    """``canonicalize`` for a value known to hold no floats and no keys outside the BMP (one
    the caller put together itself): the same bytes, without looking through it first."""
    return _encode_or_slowly(value)


def parse_document(document: bytes) -> tuple[object, bool]:
    """``json.loads(document)`` and whether it holds a float (NaN and Infinity included)."""
    try:
        return json_value.loads(document, _decoder_without_floats), False
    except _FloatFound:
        return json.loads(document), True


class _FloatFound(Exception):
    pass


def _refuse_float(_text: str) -> typing.NoReturn:
    raise _FloatFound


# One decoder for every call (json.loads with hooks would build one each time).
_decoder_without_floats = json.JSONDecoder(
    parse_float=_refuse_float, parse_constant=_refuse_float
)


def canonicalize_parsed(document: bytes, value: object, has_floats: bool) -> bytes:
    """The canonical form of ``value``, parsed from ``document`` by ``parse_document``; the
    bytes tell cheaply whether a key may lie outside the BMP."""
    if has_floats or _may_leave_bmp(document) or _LONG_DIGITS.search(document):
        return canonicalize(value)
    return _encode_or_slowly(value)


def _may_leave_bmp(document: bytes) -> bool:
    if document.isascii():
        wide = b"\x00" in document
    else:
        wide = _WIDE_LEAD_BYTE.search(document) is not None
    return wide or _SURROGATE_ESCAPE.search(document) is not None


def _encode_or_slowly(value: object) -> bytes:
    try:
        return _dumps_sorted(value).encode("utf-8")
    except ValueError:  # a lone surrogate: the slow path raises the error it always did
        return _canonicalize_slowly(value)


def _fits_c_encoder(value: object) -> bool:
    """True when ``value`` holds only exact JSON types, no floats, no integers past 2**53
    and only BMP string keys."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            for key in item:
                if type(key) is not str or not (key.isascii() or max(key) < _BMP_END):
                    return False
            stack.extend(item.values())
        elif type(item) is list or type(item) is tuple:
            stack.extend(item)
        elif type(item) is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        elif not (type(item) is str or type(item) is bool or item is None):
            return False
    return True


def _canonicalize_slowly(value: object) -> bytes:
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
        parts.append(str(value) if -_SAFE_INTEGER <= value <= _SAFE_INTEGER
                     else _format_large_integer(value))
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


def object_of_texts(members: typing.Sequence[tuple[str, str]]) -> str:
    """A JSON object's canonical text from its keys and the canonical texts of their values
    (pasted as they are), the keys in JCS order. Keys must be unique."""
    if all(key.isascii() for key, _ in members):  # UTF-16 order is code point order then
        ordered = sorted(members, key=lambda member: member[0])
    else:
        ordered = sorted(members, key=lambda member: _utf16_order(member[0]))
    return "{" + ",".join(f"{_quote(key)}:{text}" for key, text in ordered) + "}"


def _utf16_order(key: object) -> bytes:
    """JCS orders an object's keys by their UTF-16 code units."""
    return str(key).encode("utf-16-be")


def _write_object(obj: dict[typing.Any, object], parts: list[str]) -> None:
    parts.append("{")
    keys = sorted(obj, key=_utf16_order)
    for index, key in enumerate(keys):
        if index:
            parts.append(",")
        parts.append(_quote(str(key)))
        parts.append(":")
        _write(obj[key], parts)
    parts.append("}")


def _format_large_integer(value: int) -> str:
    try:
        return format_number(float(value))
    except OverflowError:
        raise ValueError("an integer beyond a double's range is not a JSON number") from None


def format_number(number: float) -> str:
    """Format a float as ECMAScript's Number.prototype.toString does."""
    if math.isnan(number) or math.isinf(number):
        raise ValueError("NaN and Infinity are not JSON numbers")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    import decimal  # only floats need it

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
