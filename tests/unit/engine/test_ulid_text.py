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
