"""Narrowing decoded JSON to the shapes the engine reads.

Function configs and step replies come from apps; a value of the wrong shape becomes a
``PayloadError`` naming the field, rather than an ``AttributeError`` deep inside the engine.
"""

from __future__ import annotations

import json
import json.encoder
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


def load(text: str | bytes) -> JSON:
    """``json.loads``, typed: the decoder makes nothing but JSON values."""
    value: JSON = json.loads(text)
    return value


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
    return PayloadError(f"{field} must be {expected}, not {_json_kind(value)}")


def _json_kind(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, typing.Mapping) else "an array"
