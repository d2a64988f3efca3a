"""ULIDs: monotonic within a millisecond, or derived from an SDK's event-id seed."""

from __future__ import annotations

import base64
import functools
import os
import random
import threading

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ENTROPY_BITS = 80
_ENTROPY_MAX = (1 << _ENTROPY_BITS) - 1

# Two digits (10 bits) per lookup: 13 lookups for the 26 digits (130 bits, the top 2 zero),
# 5 for the time's 10 digits and 8 for the entropy's 16.
_PAIRS = [first + second for first in _ALPHABET for second in _ALPHABET]


def encode(ms: int, entropy: int) -> str:
    return _time_digits(ms) + _entropy_digits(entropy & _ENTROPY_MAX)


@functools.lru_cache(maxsize=64)  # the ids made within a millisecond share them
def _time_digits(ms: int) -> str:
    pairs = _PAIRS
    return (pairs[(ms >> 40) & 1023] + pairs[(ms >> 30) & 1023] + pairs[(ms >> 20) & 1023]
            + pairs[(ms >> 10) & 1023] + pairs[ms & 1023])


def _entropy_digits(entropy: int) -> str:
    pairs = _PAIRS
    return (pairs[entropy >> 70] + pairs[(entropy >> 60) & 1023]
            + pairs[(entropy >> 50) & 1023] + pairs[(entropy >> 40) & 1023]
            + pairs[(entropy >> 30) & 1023] + pairs[(entropy >> 20) & 1023]
            + pairs[(entropy >> 10) & 1023] + pairs[entropy & 1023])


def timestamp_ms(ulid: str) -> int:
    value = 0
    for char in ulid[:10].upper():
        value = value * 32 + _ALPHABET.index(char)
    return value


def is_ulid(text: str) -> bool:
    # (Stripping the digits off both ends leaves nothing only when every character is one.)
    return len(text) == 26 and text[0] in "01234567" and not text.upper().strip(_ALPHABET)


_DIGITS = {char: value for value, char in enumerate(_ALPHABET)}
_DIGITS.update({char.lower(): value for char, value in _DIGITS.items()})
_NOT_A_DIGIT = 0xFF


def parse(text: str) -> str:
    """The ULID ``text`` is read as by the real server's parser, which checks only the
    length (in bytes) and the first digit: any case is read, and a character that is no
    digit is read as 0xFF, whose extra bits spill into the neighbouring digits of the same
    byte (so ``...FA!`` is ``...FFZ``). Raises ValueError with that parser's words."""
    raw = text.encode("utf-8")
    if len(raw) != 26:
        raise ValueError("ulid: bad data size when unmarshaling")
    if raw[0] > ord("7"):
        raise ValueError("ulid: overflow when unmarshaling")
    values = [_DIGITS.get(chr(byte), _NOT_A_DIGIT) if byte < 128 else _NOT_A_DIGIT
              for byte in raw]
    if _NOT_A_DIGIT not in values:
        return text.upper()
    value = 0
    for byte_index in range(16):
        low_bit = 8 * (15 - byte_index)
        byte = 0
        for index, digit in enumerate(values):
            slot = 5 * (25 - index)  # the digit's 5 bits are slot .. slot + 4
            if slot <= low_bit + 7 and slot + 4 >= low_bit:
                byte |= ((digit << slot) >> low_bit) & 0xFF
        value = (value << 8) | byte
    return encode(value >> _ENTROPY_BITS, value & _ENTROPY_MAX)


class Generator:
    """Thread-safe monotonic ULID source.

    Its entropy comes from a generator seeded once from the OS (as ``ulid.Make`` on the
    real server draws from math/rand seeded once): the engine makes several ids per SDK
    call, and each ``os.urandom`` was a system call that let go of the GIL. Nothing relies
    on an id being unguessable (tokens carrying one are signed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_entropy = 0
        self._random = random.Random(os.urandom(32))
        # The last id's digits but its last two: the next id of the same millisecond most
        # often differs from it only there (the engine makes several ids per SDK call).
        self._prefix = ""

    def new(self, ms: int) -> str:
        with self._lock:
            if ms <= self._last_ms and self._last_entropy < _ENTROPY_MAX:
                entropy = self._last_entropy + 1
                self._last_entropy = entropy
                if entropy & 1023:
                    return self._prefix + _PAIRS[entropy & 1023]
                ms = self._last_ms
            else:
                entropy = self._random.getrandbits(_ENTROPY_BITS)
                self._last_ms, self._last_entropy = ms, entropy
            text = encode(ms, entropy)
            self._prefix = text[:-2]
            return text


def random_at(ms: int) -> str:
    """A ULID of ``ms`` with random entropy, outside any generator's order (a connect
    lease's, whose time is when it runs out)."""
    return encode(ms, int.from_bytes(os.urandom(10), "big"))


def parse_seed(header: str) -> tuple[int, bytes] | None:
    """Parse ``x-inngest-event-id-seed`` (``<millis>,<base64 of 10 bytes>``)."""
    millis, sep, b64 = header.partition(",")
    millis = millis.strip()
    if not sep or not (millis.isascii() and millis.isdigit()):
        return None
    try:
        entropy = base64.b64decode(b64.strip(), validate=True)
    except ValueError:
        return None
    if len(entropy) != 10:
        return None
    return int(millis), entropy


def from_seed(seed: tuple[int, bytes], index: int) -> str:
    """The ULID for the ``index``-th (0-based) event of a seeded send: the seed's low 4 bytes
    plus ``index + 1``, as the real server counts (measured against it)."""
    millis, entropy = seed
    low = (int.from_bytes(entropy[6:], "big") + index + 1) & 0xFFFFFFFF
    return encode(millis, int.from_bytes(entropy[:6] + low.to_bytes(4, "big"), "big"))
