"""XXH64 (seed 0), the hash the real server names concurrency keys with."""

from __future__ import annotations

import struct

_P1 = 11400714785074694791
_P2 = 14029467366897019727
_P3 = 1609587929392839161
_P4 = 9650029242287828579
_P5 = 2870177450012600261
_MASK = (1 << 64) - 1
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _MASK
    return (_rotl(acc, 31) * _P1) & _MASK


def _merge(acc: int, value: int) -> int:
    acc ^= _round(0, value)
    return (acc * _P1 + _P4) & _MASK


def _stripes(data: bytes) -> tuple[int, int]:
    """The accumulated value of the 32-byte stripes, and how many bytes they took."""
    accs = [(_P1 + _P2) & _MASK, _P2, 0, (-_P1) & _MASK]
    end = len(data) - len(data) % 32
    for at in range(0, end, 32):
        lanes = struct.unpack_from("<4Q", data, at)
        accs = [_round(acc, lane) for acc, lane in zip(accs, lanes)]
    acc = (_rotl(accs[0], 1) + _rotl(accs[1], 7) + _rotl(accs[2], 12)
           + _rotl(accs[3], 18)) & _MASK
    for lane in accs:
        acc = _merge(acc, lane)
    return acc, end


def xxh64(data: bytes) -> int:
    if len(data) >= 32:
        acc, at = _stripes(data)
    else:
        acc, at = _P5, 0
    acc = (acc + len(data)) & _MASK
    while at + 8 <= len(data):
        (lane,) = struct.unpack_from("<Q", data, at)
        acc = (_rotl(acc ^ _round(0, lane), 27) * _P1 + _P4) & _MASK
        at += 8
    if at + 4 <= len(data):
        (word,) = struct.unpack_from("<I", data, at)
        acc = (_rotl(acc ^ (word * _P1 & _MASK), 23) * _P2 + _P3) & _MASK
        at += 4
    for byte in data[at:]:
        acc = (_rotl(acc ^ (byte * _P5 & _MASK), 11) * _P1) & _MASK
    acc = ((acc ^ (acc >> 33)) * _P2) & _MASK
    acc = ((acc ^ (acc >> 29)) * _P3) & _MASK
    return acc ^ (acc >> 32)


def base36(value: int) -> str:
    """Go's ``strconv.FormatUint(value, 36)``."""
    digits = ""
    while True:
        value, digit = divmod(value, 36)
        digits = _DIGITS[digit] + digits
        if not value:
            return digits
