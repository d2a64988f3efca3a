"""Step id hashing: SHA-1 of the user id, with ``:N`` for its N-th repeat."""

from __future__ import annotations

import hashlib

# Hashes of the ids seen lately: a function's step ids repeat on every request of its runs.
_hashes: dict[str, str] = {}
_MAX_HASHES = 4096


def hash_step_id(pre_hash: str) -> str:
    hashed = _hashes.get(pre_hash)
    if hashed is None:
        hashed = hashlib.sha1(pre_hash.encode("utf-8")).hexdigest()
        if len(_hashes) >= _MAX_HASHES:
            _hashes.clear()
        _hashes[pre_hash] = hashed
    return hashed


class StepIdCounter:
    """Counts uses of each user step id within one request."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, user_id: str) -> tuple[str, int | None]:
        """Return (hashed id, userland index) for the next use of ``user_id``."""
        seen = self._seen
        count = seen.get(user_id, 0)
        seen[user_id] = count + 1
        if count == 0:
            return hash_step_id(user_id), None
        return hash_step_id(f"{user_id}:{count}"), count
