"""Queue admission: concurrency per key, and throttling of run starts.

Only items that call the SDK are limited. A step concurrency key counts the items of runs
that share it which are executing right now, so sleeping or waiting runs hold no capacity.
A run concurrency key (the ``fn`` entries of ``{"fn": [...], "step": [...]}``) is taken by
a run's first start and held until the run ends. The counters live in memory: leases are
dropped on restart, and the runs in progress take their run keys back when the admission
is built. Throttle state is GCRA in the store. A held-back item keeps its place in the
queue and is asked about again.
"""

from __future__ import annotations

import collections
import threading

from inngest._engine.flow.gcra import Limiter
from inngest._engine.flow.keys import Concurrency, RunLimits, run_limits
from inngest._engine.models import Kind, QueueItem, RunStatus
from inngest._engine.store import Store

SDK_CALLS = (Kind.START, Kind.DISCOVERY, Kind.PLANNED_STEP)
# A release wakes the queue at once; this only bounds how long a missed wake-up could last.
CONCURRENCY_RECHECK_MS = 1000
_CACHE_SIZE = 4096


class FlowAdmission:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._limiter = Limiter(store)
        self._lock = threading.Lock()
        self._running: collections.Counter[str] = collections.Counter()
        self._held: dict[int, tuple[str, ...]] = {}
        self._run_holds: dict[str, tuple[str, ...]] = {}
        self._limits: dict[str, RunLimits] = {}
        self._restore_run_holds()

    def admit(self, item: QueueItem, now_ms: int) -> int | None:
        if item.kind not in SDK_CALLS:
            return None
        limits = self._limits_of(item.run_id)
        throttled = item.kind is Kind.START and item.attempt == 0 and limits.throttle is not None
        if throttled:
            # The limiter writes to the store: its lock is taken before this one, the order
            # in which hand_on (asked inside a store transaction) takes them.
            with self._store.transaction():
                return self._admit(item, limits, throttled, now_ms)
        return self._admit(item, limits, throttled, now_ms)

    def _admit(self, item: QueueItem, limits: RunLimits, throttled: bool,
               now_ms: int) -> int | None:
        with self._lock:
            starting = item.kind is Kind.START and item.run_id not in self._run_holds
            run_limits = limits.run_concurrency if starting else ()
            if self._full(run_limits) or self._full(limits.concurrency):
                return now_ms + CONCURRENCY_RECHECK_MS
            if throttled and limits.throttle is not None:
                retry_at = self._limiter.take(limits.throttle, now_ms)
                if retry_at is not None:
                    return retry_at
            keys = tuple(c.key for c in limits.concurrency)
            self._take(keys)
            self._held[item.id] = keys
            if run_limits:
                self._hold_for_run(item.run_id, run_limits)
        return None

    def release(self, item: QueueItem) -> None:
        with self._lock:
            self._give_back(self._held.pop(item.id, ()))

    def hand_on(self, holder: QueueItem, item: QueueItem) -> bool:
        """A run's next call may take its last call's place when it needs the same step
        concurrency keys and none is full (no other item can be waiting for them).
        Throttles and run concurrency apply to starts, which are never handed on."""
        if item.kind not in SDK_CALLS:
            return True
        if item.kind is Kind.START:
            return False
        limits = self._limits_of(item.run_id).concurrency
        with self._lock:
            return self._held.get(holder.id) == tuple(c.key for c in limits) \
                and not self._full(limits)

    def run_ended(self, run_id: str) -> None:
        """Give back the run's run concurrency keys, once its end is committed."""
        run = self._store.run(run_id)
        if run is None or not run.status.ended:
            return
        with self._lock:
            self._give_back(self._run_holds.pop(run_id, ()))
        self._limits.pop(run_id, None)

    # Counter's update and subtract take any iterable or mapping, and tell them apart with
    # an ABC check that cost more than the counting (each admitted call does both).
    def _take(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._running[key] += 1

    def _give_back(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._running[key] -= 1

    def _full(self, limits: tuple[Concurrency, ...]) -> bool:
        return any(self._running[c.key] >= c.limit for c in limits)

    def _hold_for_run(self, run_id: str, limits: tuple[Concurrency, ...]) -> None:
        keys = tuple(c.key for c in limits)
        self._take(keys)
        self._run_holds[run_id] = keys

    def _restore_run_holds(self) -> None:
        for run in self._store.runs(RunStatus.RUNNING):
            limits = self._limits_of(run.id).run_concurrency
            if limits:
                self._hold_for_run(run.id, limits)

    def _limits_of(self, run_id: str) -> RunLimits:
        cached = self._limits.get(run_id)
        if cached is not None:
            return cached
        run = self._store.run(run_id)
        fn = self._store.function(run.function_id) if run else None
        if run is None or fn is None:
            limits = RunLimits()
        else:
            first = self._store.event(run.event_ids[0]) if run.event_ids else None
            limits = run_limits(fn, first.event if first else {})
        if len(self._limits) >= _CACHE_SIZE:
            self._limits.clear()
        self._limits[run_id] = limits
        return limits
