"""ULID text: Crockford base32 of the 48-bit time and the 80 bits of entropy, 26 digits."""

from __future__ import annotations

import random

from inngest._engine import ulid

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _reference(ms: int, entropy: int) -> str:
    value = ((ms << 80) | entropy) & ((1 << 130) - 1)
    return "".join(_ALPHABET[(value >> (5 * index)) & 31] for index in range(25, -1, -1))


def test_each_ulid_is_the_base32_of_its_time_and_entropy() -> None:
    chooser = random.Random(15)
    cases = [(0, 0), ((1 << 48) - 1, (1 << 80) - 1), (1_764_547_200_000, 1)]
    cases += [(chooser.getrandbits(48), chooser.getrandbits(80)) for _ in range(2000)]
    for ms, entropy in cases:
        text = ulid.encode(ms, entropy)
        assert text == _reference(ms, entropy)
        assert ulid.timestamp_ms(text) == ms


def test_ids_made_within_one_millisecond_count_up() -> None:
    ids = ulid.Generator()
    made = [ids.new(1_764_547_200_000) for _ in range(50)]
    assert made == sorted(made) and len(set(made)) == 50
    assert {text[:10] for text in made} == {ulid.encode(1_764_547_200_000, 0)[:10]}


class _Entropy(random.Random):
    """Draws ``value`` every time."""

    def __init__(self, value: int) -> None:
        super().__init__(0)
        self.value = value

    def getrandbits(self, k: int) -> int:
        return self.value


def test_ids_of_one_millisecond_are_its_entropy_counted_up_across_carries() -> None:
    """Each id after the first of a millisecond is the one before plus one, also where the
    count carries past the last digits (the generator rewrites only those when it can)."""
    ms = 1_764_547_200_000
    first = (1 << 60) - 2500  # 2500 below a carry through 12 digits
    ids = ulid.Generator()
    ids._random = _Entropy(first)
    made = [ids.new(ms) for _ in range(5000)]
    assert made == [_reference(ms, first + index) for index in range(5000)]
    assert ids.new(ms - 1) == _reference(ms, first + 5000)  # a clock going back keeps on
    assert ids.new(ms + 1) == _reference(ms + 1, first)  # a new millisecond draws anew
