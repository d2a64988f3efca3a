"""Reading protocol buffers' wire format (enough for the OTLP messages; no schema here).

A message is a sequence of fields, each a key (field number and wire type) and a value: a
varint, 8 or 4 little-endian bytes, or a length-delimited run of bytes (strings, bytes and
nested messages alike). Groups (wire types 3 and 4, obsolete) are skipped whole, as unknown
fields are.
"""

from __future__ import annotations

import struct
import typing

VARINT, I64, LEN, START_GROUP, END_GROUP, I32 = 0, 1, 2, 3, 4, 5
Value = typing.Union[int, bytes]
Field = tuple[int, int, Value]
"""(field number, wire type, value): an int for VARINT, I64 and I32, bytes for LEN (and
empty bytes for a group)."""

_MAX_VARINT_BYTES = 10
# How deep groups may nest: the real server's decoder takes an outermost group and 10,000
# within it (protobuf-go's recursion limit).
MAX_GROUP_NESTING = 10_001


class WireError(ValueError):
    """Bytes that are not a well-formed message."""


def fields(data: bytes) -> list[Field]:
    """A message's fields, in the order they come."""
    out: list[Field] = []
    at = 0
    while at < len(data):
        number, wire, at = _key(data, at)
        if wire == END_GROUP:
            raise WireError("end of a group that did not start")
        value, at = _value(data, at, wire, number)
        out.append((number, wire, value))
    return out


def _key(data: bytes, at: int) -> tuple[int, int, int]:
    key, at = _varint(data, at)
    if key >> 3 == 0:
        raise WireError("field number 0")
    return key >> 3, key & 7, at


def _value(data: bytes, at: int, wire: int, number: int) -> tuple[Value, int]:
    if wire == VARINT:
        return _varint(data, at)
    if wire in (I64, I32):
        size = 8 if wire == I64 else 4
        if at + size > len(data):
            raise WireError("truncated fixed-size value")
        return int.from_bytes(data[at:at + size], "little"), at + size
    if wire == LEN:
        size, at = _varint(data, at)
        if at + size > len(data):
            raise WireError("truncated length-delimited value")
        return data[at:at + size], at + size
    if wire == START_GROUP:
        return b"", _group_end(data, at, number)
    raise WireError(f"unsupported wire type {wire}")


def _group_end(data: bytes, at: int, number: int) -> int:
    """Where the group ``number`` that starts at ``at`` ends (past its end key); groups in
    it are followed on a stack, so no nesting runs out of Python's recursion."""
    open_groups = [number]
    while at < len(data):
        inner, wire, at = _key(data, at)
        if wire == END_GROUP:
            if inner != open_groups.pop():
                raise WireError("a group ends with another's number")
            if not open_groups:
                return at
        elif wire == START_GROUP:
            if len(open_groups) == MAX_GROUP_NESTING:
                raise WireError("groups nested too deeply")
            open_groups.append(inner)
        else:
            _, at = _value(data, at, wire, inner)
    raise WireError("truncated group")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    result = 0
    for shift in range(0, 7 * _MAX_VARINT_BYTES, 7):
        if at >= len(data):
            raise WireError("truncated varint")
        byte = data[at]
        at += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, at
    raise WireError("varint too long")


def signed64(value: int) -> int:
    """A varint or fixed 64-bit value as the signed int64 it encodes."""
    return value - (1 << 64) if value >= 1 << 63 else value


def double(value: int) -> float:
    """A fixed 64-bit value as the double it encodes."""
    result: float = struct.unpack("<d", value.to_bytes(8, "little"))[0]
    return result


def text(value: bytes) -> str:
    """A string field (proto3 strings must be UTF-8)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as err:
        raise WireError("string field is not UTF-8") from err


def field(number: int, wire: int, value: Value) -> bytes:
    """One field encoded (for answers and tests)."""
    head = _encode_varint(number << 3 | wire)
    if wire == VARINT:
        assert isinstance(value, int)
        return head + _encode_varint(value & 0xFFFFFFFFFFFFFFFF)
    if wire in (I64, I32):
        assert isinstance(value, int)
        return head + value.to_bytes(8 if wire == I64 else 4, "little")
    assert isinstance(value, bytes)
    return head + _encode_varint(len(value)) + value


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
