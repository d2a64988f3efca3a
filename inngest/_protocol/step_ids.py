"""Step id hashing: SHA-1 of the user id, with ``:N`` for its N-th repeat."""

from __future__ import annotations

import hashlib


def hash_step_id(pre_hash: str) -> str:
    return hashlib.sha1(pre_hash.encode("utf-8")).hexdigest()


class StepIdCounter:
    """Counts uses of each user step id within one request."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, user_id: str) -> tuple[str, int | None]:
        """Return (hashed id, userland index) for the next use of ``user_id``."""
        count = self._seen.get(user_id, 0)
        self._seen[user_id] = count + 1
        if count == 0:
            return hash_step_id(user_id), None
        return hash_step_id(f"{user_id}:{count}"), count
