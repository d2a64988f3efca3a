"""Debounce and batch buffers: events held in the store until a timer or a full batch lets
them go as one run.

A buffer row per (function, key) names its events; a queue item (``Kind.DEBOUNCE`` or
``Kind.BATCH``) fires it. Both live in SQLite, so pending work survives a restart.
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
        """Hold ``stored`` as the function's latest event for its key and push the timer out."""
        now = self.clock.now_ms()
        with self.store.transaction():
            row = self.store.buffer(_DEBOUNCE, fn.id, config.key)
            first_ms = to_int(row["first_ms"], "first_ms") if row else now
            fire_ms = now + config.period_ms
            if config.timeout_ms is not None:
                fire_ms = min(fire_ms, first_ms + config.timeout_ms)
            buffer_id = str(row["id"]) if row else self.ids.new(now)
            self.store.put_buffer(_DEBOUNCE, fn.id, config.key, {
                "id": buffer_id, "event_id": stored.internal_id,
                "first_ms": first_ms, "fire_ms": fire_ms,
            })
            if row:
                self.store.reschedule_job(_job_id(_DEBOUNCE, buffer_id), fire_ms)
            else:
                self._set_timer(Kind.DEBOUNCE, fn, config.key, buffer_id, fire_ms)

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
        with self.store.transaction():
            row = self.store.buffer(kind, fn_id, key)
            if row is None or row["id"] != item.payload["id"]:
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
