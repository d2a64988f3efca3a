"""GCRA (generic cell rate algorithm): the limiter behind throttle, rate limit and idempotency.

Each key keeps one number, its theoretical arrival time (TAT). A request at ``now`` is
allowed when the TAT it would push forward stays within ``capacity`` emission intervals of
``now``; from idle, ``capacity`` requests may therefore pass back-to-back, and after that one
per emission interval. TATs live in the store, so limits hold across restarts.
"""

from __future__ import annotations

import dataclasses

from inngest._engine.store import Store


@dataclasses.dataclass(frozen=True)
class Rate:
    """``capacity`` back-to-back requests from idle, then one every ``emission_ms``."""

    key: str
    emission_ms: int
    capacity: int

    @classmethod
    def per_period(cls, key: str, limit: int, period_ms: int, capacity: int) -> Rate:
        limit = max(1, limit)
        return cls(key, max(1, period_ms // limit), max(1, capacity))


def next_tat(tat: int | None, now_ms: int, rate: Rate) -> tuple[bool, int]:
    """(allowed, new TAT) when allowed, else (False, the earliest time it would be)."""
    pushed = max(tat if tat is not None else now_ms, now_ms) + rate.emission_ms
    earliest = pushed - rate.capacity * rate.emission_ms
    if earliest > now_ms:
        return False, earliest
    return True, pushed


class Limiter:
    def __init__(self, store: Store) -> None:
        self._store = store

    def take(self, rate: Rate, now_ms: int) -> int | None:
        """Use one request of ``rate``: None if allowed, else when to try again."""
        with self._store.transaction():
            allowed, moment = next_tat(self._store.gcra_tat(rate.key), now_ms, rate)
            if not allowed:
                return moment
            self._store.set_gcra_tat(rate.key, moment)
            return None
