"""Narrowing decoded JSON to the shapes the engine reads.

Function configs and step replies come from apps; a value of the wrong shape becomes a
``PayloadError`` naming the field, rather than an ``AttributeError`` deep inside the engine.
"""

from __future__ import annotations

import json
import json.encoder
import math
import re
import typing

from inngest._engine.errors import EngineError
from inngest._protocol.json_value import JSON

Object = typing.Mapping[str, JSON]
Array = typing.Sequence[JSON]


class PayloadError(EngineError):
    code = "payload_invalid"


# One encoder for every call: ``json.dumps`` with options builds a new one each time.
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _not_json(value: object) -> typing.NoReturn:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# The C encoder under ``_compact``, made once (``encode`` makes one per call, a quarter of
# the time of a history item's). Without a circular-reference check: values come from JSON
# documents or are built fresh (a cycle fails with RecursionError, not ValueError).
def _c_encoder() -> typing.Callable[[object, int], typing.Iterable[str]] | None:
    """None where the C encoder is missing or takes other arguments (``dump`` then uses
    ``JSONEncoder.encode``)."""
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return None
    try:
        encoder: typing.Callable[[object, int], typing.Iterable[str]] = make_encoder(
            None, _not_json, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    except TypeError:
        return None
    return encoder


_C_ENCODER = _c_encoder()


def dump(value: JSON) -> str:
    """Compact JSON text (``json.dumps`` with ``,`` and ``:`` separators, not ASCII-only)."""
    if _C_ENCODER is None:
        return _compact(value)
    return "".join(_C_ENCODER(value, 0))


# Go's encoding/json escapes these in strings, so that JSON can sit in HTML and JavaScript
# source; valid JSON text has them nowhere but in strings.
_GO_ESCAPED = re.compile("[<>&\u2028\u2029]")


def _go_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_html(text: str) -> str:
    """JSON text with ``<``, ``>``, ``&``, U+2028 and U+2029 written ``\\u003c`` and so on,
    as the real server's encoder writes every JSON value it answers or re-encodes."""
    return _GO_ESCAPED.sub(_go_escape, text)


def dump_escaped(value: JSON) -> str:
    """``dump`` as Go writes JSON: compact, not ASCII-only, HTML characters escaped, and
    floats Python writes its own way in Go's words (see ``go_floats``)."""
    return escape_html(go_floats(dump(value)))


# Outside strings, the floats Python writes otherwise than Go's float64 encoder: negative
# zero (``-0.0``, Go ``-0``) and small exponents (``1e-05``: Go writes ``0.00001`` down to
# 1e-6, then ``1e-7``). Strings are matched whole so that nothing in them is touched.
_PYTHON_FLOATS = re.compile(
    r'"(?:[^"\\]|\\.)*"|(?<![0-9.])(?P<zero>-0\.0(?![0-9eE]))'
    r'|(?<![0-9.])(?P<sign>-?)(?P<first>[0-9])(?:\.(?P<fraction>[0-9]+))?e-0(?P<exponent>[0-9])')


def _go_float(match: re.Match[str]) -> str:
    if match.group("zero"):
        return "-0"
    first = match.group("first")
    if first is None:
        return match.group()  # a string, kept
    sign, fraction, exponent = match.group("sign", "fraction", "exponent")
    if exponent in "56":
        return f"{sign}0.{'0' * (int(exponent) - 1)}{first}{fraction or ''}"
    return f"{sign}{first}{'.' + fraction if fraction else ''}e-{exponent}"


def go_floats(text: str) -> str:
    """JSON text Python's encoder wrote, its floats as Go writes a float64 (the real server
    decodes JSON numbers in events and outputs to float64 and writes them back so)."""
    if "-0.0" in text or "e-0" in text:
        return _PYTHON_FLOATS.sub(_go_float, text)
    return text


_LINE_SEPARATORS = re.compile("[\u2028\u2029]")


def escape_separators(text: str) -> str:
    """JSON text with U+2028 and U+2029 written ``\\u2028`` and ``\\u2029``: Go's encoder
    escapes them even where it is told not to escape HTML characters."""
    return _LINE_SEPARATORS.sub(_go_escape, text)


class RawJSON(str):
    """JSON text that ``dump_with_raw`` writes as it is: a value encoded already, or a
    number a 64-bit float cannot hold (``NumberText``)."""


class NumberText(RawJSON):
    """A number beyond a 64-bit float's range (``1e400``), kept as its text by decoders
    that keep numbers as written (the real server's JSON-RPC params, ``json.Number``)."""


def first_number_text(value: JSON) -> NumberText | None:
    """The first ``NumberText`` inside ``value``, in document order; None when it has none."""
    if isinstance(value, NumberText):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    return next((found for item in items if (found := first_number_text(item)) is not None),
                None)


def dump_with_raw(value: JSON) -> str:
    """``dump``, with each ``RawJSON`` inside written as its text."""
    if isinstance(value, RawJSON):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{dump(key)}:{dump_with_raw(item)}"
                              for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(dump_with_raw, value)) + "]"
    return dump(value)


class Text(str):
    """An app's reply that is not JSON (``Infinity``, plain text), kept as the text it was,
    as the real server keeps it."""


def shown(value: JSON) -> str:
    """An output or payload as the real server shows it in GraphQL and history: its JSON
    re-encoded by Go, or, for ``Text``, the text itself."""
    return value if isinstance(value, Text) else dump_escaped(value)


def load(text: str | bytes) -> JSON:
    """``json.loads``, typed: the decoder makes nothing but JSON values."""
    value: JSON = json.loads(text)
    return value


# Request bodies nested deeper than this are refused: the engine walks values recursively
# (storing, canonical JSON, matching expressions), within Python's recursion limit. The real
# server allows 10,000.
MAX_DEPTH = 200
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class BodyError(PayloadError, ValueError):
    """A request body that is not JSON as the real server's decoder reads it."""

    code = "body_invalid"


def load_body(body: bytes) -> JSON:
    """A request body's JSON value, read as strictly as the real server's decoder reads it.

    Invalid UTF-8 becomes U+FFFD, as it does there, and so do lone UTF-16 surrogates
    (``\\ud800``), which cannot be stored. Refused with ``BodyError``: a leading byte order
    mark, ``NaN`` and ``Infinity``, numbers beyond a 64-bit float's range (``1e400``), and
    nesting past ``MAX_DEPTH``.
    """
    text = body.decode("utf-8", "replace")
    return _checked(text, _decode(text, _TOO_DEEP))


def load_first(body: bytes) -> JSON:
    """The first JSON value of a body, as Go's streaming decoder reads one: what follows it
    is not read. Otherwise read as ``load_body`` reads a body."""
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    return _checked(text, _decode(text, _TOO_DEEP, start))


def _checked(text: str, value: JSON) -> JSON:
    """``value`` (decoded from ``text``) without lone surrogates, refused if too deep."""
    # Only a ``\uD8..``-``\uDF..`` escape makes a lone surrogate, and nesting past
    # MAX_DEPTH takes as many brackets: most bodies have neither, and are not walked.
    if text.count("[") + text.count("{") > MAX_DEPTH or _SURROGATE_ESCAPE.search(text):
        value = _cleaned(value, 0, MAX_DEPTH)
    return value


def load_strict(body: bytes) -> JSON:
    """An app's reply read as the real server's decoder reads it: invalid UTF-8 and lone
    UTF-16 surrogates become U+FFFD; ``NaN``, ``Infinity`` and numbers beyond a 64-bit float
    raise ``BodyError``."""
    text = body.decode("utf-8", "replace")
    value = _decode(text, "nested too deeply")
    if _SURROGATE_ESCAPE.search(text):
        try:
            value = _cleaned(value, 0, None)
        except RecursionError:
            raise BodyError("nested too deeply") from None
    return value


def _decode(text: str, too_deep: str, start: int | None = None,
            decoder: json.JSONDecoder | None = None) -> JSON:
    """``text`` decoded whole, or only its first value from ``start``; by ``_STRICT`` unless
    another ``decoder`` is given."""
    decoder = decoder or _STRICT
    try:
        value: JSON = decoder.decode(text) if start is None \
            else decoder.raw_decode(text, start)[0]
    except BodyError:
        raise
    except ValueError as err:  # JSONDecodeError says where: "Expecting value: line 1 ..."
        raise BodyError(str(err)) from None
    except RecursionError:
        raise BodyError(too_deep) from None
    return value


def _cleaned(value: JSON, depth: int, limit: int | None) -> JSON:
    """``value`` without lone surrogates; deeper than ``limit`` is a ``BodyError``."""
    if limit is not None and depth > limit:
        raise BodyError(_TOO_DEEP)
    if isinstance(value, RawJSON):
        return value
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_cleaned(item, depth + 1, limit) for item in value]
    if isinstance(value, dict):
        return {_LONE_SURROGATE.sub("\ufffd", key): _cleaned(item, depth + 1, limit)
                for key, item in value.items()}
    return value


def _refuse_constant(name: str) -> JSON:
    raise BodyError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise BodyError(f"number {_shortened(text)} is out of range")
    return value


# A 64-bit float's largest finite value has 309 digits before the point.
_FLOAT_DIGITS = 309


class NegativeZero(float):
    """The JSON number ``-0``: Python's decoder makes it the int 0, Go's float64 keeps the
    sign (``-0.0`` has it either way). Apart from ``-0.0`` for GraphQL's Int and String,
    which read the text."""


NEGATIVE_ZERO = NegativeZero(-0.0)


class FloatText(float):
    """A float decoded from a GraphQL request or events, with its text as sent: gqlgen keeps
    the variables' numbers as their text (``json.Number``), as the event API does a session
    id's, so ``1.50`` stays ``1.50`` there. Otherwise a float like any other."""

    text: str

    def __new__(cls, text: str) -> FloatText:
        value = super().__new__(cls, _finite_float(text))
        value.text = text
        return value


def number_text(value: int | float) -> str:
    """A decoded JSON number's text as it was sent, where the value tells it (``-0``, a
    ``FloatText``)."""
    if isinstance(value, FloatText):
        return value.text
    return "-0" if isinstance(value, NegativeZero) else json.dumps(value)


def go_int(value: JSON) -> int | None:
    """``value`` as Go's decoder reads it into a signed integer field: an integer, or ``-0``
    (0); None for any other value (``-0.0``, ``1.0``, ``1e2``, a bool, a string)."""
    if isinstance(value, NegativeZero):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def negative_zeros_as_ints(value: JSON) -> JSON:
    """``value`` with each ``-0`` in it an int 0, as a config the server decodes into Go
    integer fields (and keeps so) reads."""
    if isinstance(value, NegativeZero):
        return 0
    if isinstance(value, dict):
        return {key: negative_zeros_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [negative_zeros_as_ints(item) for item in value]
    return value


def _float_range_int(text: str) -> int | float:
    if text == "-0":
        return NEGATIVE_ZERO
    digits = len(text) - text.startswith("-")
    if digits > _FLOAT_DIGITS:  # refused before int(), which refuses over 4,300 digits itself
        raise BodyError(f"number {_shortened(text)} is out of range")
    value = int(text)
    if digits == _FLOAT_DIGITS:
        try:
            float(value)
        except OverflowError:
            raise BodyError(f"number {_shortened(text)} is out of range") from None
    return value


def _shortened(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


_STRICT = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_float_range_int)


def _float_or_text(text: str) -> float | NumberText:
    try:
        return _finite_float(text)
    except BodyError:
        return NumberText(text)


def _int_or_text(text: str) -> int | float | NumberText:
    try:
        return _float_range_int(text)
    except BodyError:
        return NumberText(text)


_KEEPING_NUMBERS = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_float_or_text,
                                    parse_int=_int_or_text)


_KEEPING_FLOAT_TEXT = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=FloatText,
                                       parse_int=_float_range_int)


def load_float_texts(body: bytes) -> JSON:
    """A body read as ``load_body`` reads one, each float a ``FloatText`` that keeps its text
    as sent: events' (whose session ids keep their text)."""
    text = body.decode("utf-8", "replace")
    return _checked(text, _decode(text, _TOO_DEEP, decoder=_KEEPING_FLOAT_TEXT))


def _float_text_or_text(text: str) -> FloatText | NumberText:
    try:
        return FloatText(text)
    except BodyError:
        return NumberText(text)


_GRAPHQL_NUMBERS = json.JSONDecoder(parse_constant=_refuse_constant,
                                    parse_float=_float_text_or_text, parse_int=_int_or_text)


def load_graphql(body: bytes, first: bool = False) -> JSON:
    """A GraphQL request (or its first JSON value, as ``load_first`` reads one), read as
    ``load_float_texts`` reads it but for numbers beyond a 64-bit float, kept as
    ``NumberText``: gqlgen keeps each number as its text (``json.Number``), and refuses
    ``1e400`` only where an Int variable takes it (measured)."""
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n")) if first else None
    return _checked(text, _decode(text, _TOO_DEEP, start, decoder=_GRAPHQL_NUMBERS))


def load_keeping_numbers(body: bytes) -> JSON:
    """A body read as ``load_body`` reads it, but for numbers beyond a 64-bit float: kept as
    ``NumberText``, as a decoder that keeps each value's text passes them by."""
    text = body.decode("utf-8", "replace")
    return _checked(text, _decode(text, _TOO_DEEP, decoder=_KEEPING_NUMBERS))


def from_object(value: object, field: str) -> JSON:
    """``value``, built in memory (not decoded), checked to be JSON all the way down."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if is_mapping(value):
        out: dict[str, JSON] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PayloadError(f"{field} must have string keys, not {type(key).__name__}")
            out[key] = from_object(item, f"{field}.{key}")
        return out
    if _is_list(value):
        return [from_object(item, f"{field}[{index}]") for index, item in enumerate(value)]
    raise PayloadError(f"{field} must be a JSON value, not {type(value).__name__}")


def is_mapping(value: object) -> typing.TypeGuard[typing.Mapping[object, object]]:
    """``isinstance(value, Mapping)``, without typing the mapping's items as ``Any``."""
    return isinstance(value, typing.Mapping)


def _is_list(value: object) -> typing.TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(value, (list, tuple))


def as_object(value: JSON, field: str) -> Object:
    # Decoded JSON objects are dicts: checked first, as the Mapping check is many times slower.
    if type(value) is dict or isinstance(value, typing.Mapping):
        return value
    raise _wrong(value, field, "an object")


def is_array(value: JSON) -> typing.TypeGuard[Array]:
    return isinstance(value, typing.Sequence) and not isinstance(value, str)


def as_array(value: JSON, field: str) -> Array:
    if is_array(value):
        return value
    raise _wrong(value, field, "an array")


def object_or_empty(value: JSON, field: str) -> Object:
    """``value`` as an object, with a missing or empty value read as ``{}``."""
    return as_object(value, field) if value else {}


def array_or_empty(value: JSON, field: str) -> Array:
    """``value`` as an array, with a missing or empty value read as ``[]``."""
    return as_array(value, field) if value else []


def as_str(value: JSON, field: str) -> str:
    if isinstance(value, str):
        return value
    raise _wrong(value, field, "a string")


def optional_str(value: JSON, field: str) -> str | None:
    return None if value is None else as_str(value, field)


def to_int(value: JSON, field: str) -> int:
    """``int(value)`` for the values ``int`` accepts: numbers and numeric strings."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise _wrong(value, field, "a number")


def optional_int(value: JSON, field: str) -> int | None:
    return None if value is None else to_int(value, field)


def as_number(value: JSON, field: str) -> float:
    if isinstance(value, (int, float)):
        return value
    raise _wrong(value, field, "a number")


def _wrong(value: JSON, field: str, expected: str) -> PayloadError:
    return PayloadError(f"{field} must be {expected}, not {json_kind(value)}")


def json_kind(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, typing.Mapping) else "an array"
