"""Debounce and batch buffers: events held in the store until a timer or a full batch lets
them go as one run.

A buffer row per (function, key) names its events; a queue item (``Kind.DEBOUNCE`` or
``Kind.BATCH``) fires it. A closed debounce still waiting for its timer is parked under a
key of its own. Both live in SQLite, so pending work survives a restart.
"""

from __future__ import annotations

import dataclasses
import json

from inngest._engine.clock import Clock
from inngest._engine.flow.keys import Batching, Debounce
from inngest._engine.models import JSON, Function, Kind, QueueItem, StoredEvent
from inngest._engine.payload import as_array, to_int
from inngest._engine.queue import Queue
from inngest._engine.store import Store
from inngest._engine.ulid import Generator

MAX_BATCH_BYTES = 10 * 1024 * 1024
# The dev server queues a debounce's job 1 s and 50 ms after its window would close.
JOB_DELAY_MS = 1050
_SECOND_MS = 1000
_DEBOUNCE = "debounce"
_BATCH = "batch"


@dataclasses.dataclass(frozen=True)
class Release:
    """Buffered events that now become one run."""

    function: Function
    events: list[StoredEvent]
    batch_id: str | None = None


class Buffers:
    def __init__(self, store: Store, queue: Queue, clock: Clock, ids: Generator) -> None:
        self.store = store
        self.queue = queue
        self.clock = clock
        self.ids = ids

    def debounce(self, fn: Function, stored: StoredEvent, config: Debounce) -> None:
        """Hold ``stored`` as the function's latest event for its key, as the dev server does.

        A debounce takes events while its window is open: its period, cut to the whole
        seconds left before its timeout (at least one) once that comes first. Its timer
        fires ``JOB_DELAY_MS`` after the window closes. An event after that starts a debounce
        of its own while the closed one waits for its timer (it is parked under another key).
        An event older (by ``ts``) than the one held changes nothing.
        """
        now = self.clock.now_ms()
        with self.store.transaction():
            row = self.store.buffer(_DEBOUNCE, fn.id, config.key)
            if row is not None and to_int(row.get("open_until_ms") or 0, "open_until_ms") > now:
                self._extend_debounce(fn, config, row, stored, now)
                return
            if row is not None:
                self.store.put_buffer(_DEBOUNCE, fn.id, _parked(config.key, str(row["id"])), row)
            self._open_debounce(fn, config, stored, now)

    def _open_debounce(self, fn: Function, config: Debounce, stored: StoredEvent,
                       now: int) -> None:
        window = config.period_ms
        deadline = None if config.timeout_ms is None else now + config.timeout_ms
        if config.timeout_ms is not None and window > config.timeout_ms:
            window = max(_SECOND_MS, _round_seconds(config.timeout_ms) * _SECOND_MS)
        buffer_id = self.ids.new(now)
        fire_ms = now + window + JOB_DELAY_MS
        self.store.put_buffer(_DEBOUNCE, fn.id, config.key, {
            "id": buffer_id, "event_id": stored.internal_id, "event_ts": _event_ts(stored),
            "deadline_ms": deadline, "open_until_ms": now + window // _SECOND_MS * _SECOND_MS,
            "fire_ms": fire_ms,
        })
        self._set_timer(Kind.DEBOUNCE, fn, config.key, buffer_id, fire_ms)

    def _extend_debounce(self, fn: Function, config: Debounce, row: dict[str, JSON],
                         stored: StoredEvent, now: int) -> None:
        if to_int(row.get("event_ts") or 0, "event_ts") > _event_ts(stored):
            return
        seconds = config.period_ms // _SECOND_MS
        deadline = row.get("deadline_ms")
        if deadline is not None:
            deadline_ms = to_int(deadline, "deadline_ms")
            if now + seconds * _SECOND_MS > deadline_ms:
                seconds = max(1, (deadline_ms - now) // _SECOND_MS)
        open_until = now + seconds * _SECOND_MS
        row.update({"event_id": stored.internal_id, "event_ts": _event_ts(stored),
                    "open_until_ms": open_until, "fire_ms": open_until + JOB_DELAY_MS})
        self.store.put_buffer(_DEBOUNCE, fn.id, config.key, row)
        self.store.reschedule_job(_job_id(_DEBOUNCE, str(row["id"])), open_until + JOB_DELAY_MS)

    def add_to_batch(self, fn: Function, stored: StoredEvent,
                     config: Batching) -> Release | None:
        """Append ``stored`` to the open batch; the batch is released once it is full."""
        now = self.clock.now_ms()
        size = len(json.dumps(stored.event))
        with self.store.transaction():
            row = self.store.buffer(_BATCH, fn.id, config.key)
            if row is None:
                row = {"id": self.ids.new(now), "event_ids": [], "bytes": 0}
                self._set_timer(Kind.BATCH, fn, config.key, str(row["id"]),
                                now + config.timeout_ms)
            event_ids = [*as_array(row["event_ids"], "event_ids"), stored.internal_id]
            total = to_int(row["bytes"], "bytes") + size
            row["event_ids"], row["bytes"] = event_ids, total
            if len(event_ids) < config.max_size and total < MAX_BATCH_BYTES:
                self.store.put_buffer(_BATCH, fn.id, config.key, row)
                return None
            self.store.delete_buffer(_BATCH, fn.id, config.key)
            self.store.delete_job(_job_id(_BATCH, str(row["id"])))
        return self._release(fn, row)

    def fire(self, item: QueueItem) -> Release | QueueItem | None:
        """A buffer's timer: the events to run, the timer to requeue if pushed out, or None."""
        kind = _DEBOUNCE if item.kind is Kind.DEBOUNCE else _BATCH
        fn_id, key = str(item.payload["function_id"]), str(item.payload["key"])
        buffer_id = str(item.payload["id"])
        with self.store.transaction():
            row = self.store.buffer(kind, fn_id, key)
            if row is None or row["id"] != buffer_id:
                key = _parked(key, buffer_id)
                row = self.store.buffer(kind, fn_id, key)
            if row is None:
                return None
            fire_ms = to_int(row.get("fire_ms") or 0, "fire_ms")
            if fire_ms > self.clock.now_ms():
                return dataclasses.replace(item, available_at_ms=fire_ms)
            self.store.delete_buffer(kind, fn_id, key)
        fn = self.store.function(fn_id)
        if fn is None or fn.id not in {active.id for active in self.store.functions()}:
            return None
        return self._release(fn, row)

    def _release(self, fn: Function, row: dict[str, JSON]) -> Release | None:
        if "event_id" in row:
            stored = self.store.event(str(row["event_id"]))
            return Release(fn, [stored]) if stored else None
        event_ids = as_array(row["event_ids"], "event_ids")
        found = [self.store.event(str(event_id)) for event_id in event_ids]
        events = [event for event in found if event is not None]
        return Release(fn, events, str(row["id"])) if events else None

    def _set_timer(self, kind: Kind, fn: Function, key: str, buffer_id: str,
                   at_ms: int) -> None:
        self.queue.enqueue(QueueItem(
            kind=kind, available_at_ms=at_ms, partition=fn.id,
            payload={"function_id": fn.id, "key": key, "id": buffer_id},
            job_id=_job_id(kind.value, buffer_id),
        ))


def _job_id(kind: str, buffer_id: str) -> str:
    return f"{kind}-{buffer_id}"


def _parked(key: str, buffer_id: str) -> str:
    """Where a closed debounce waits for its timer while a newer one takes its key."""
    return f"{key}\x00{buffer_id}"


def _event_ts(stored: StoredEvent) -> int:
    ts = stored.event.get("ts")
    return ts if isinstance(ts, int) else stored.received_at_ms


def _round_seconds(ms: int) -> int:
    """Whole seconds, halves away from zero (as Go's ``Duration.Round``)."""
    return (ms + _SECOND_MS // 2) // _SECOND_MS
