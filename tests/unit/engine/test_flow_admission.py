"""Queue admission and the store take their locks in one order."""

from __future__ import annotations

import threading

from engine_fakes import T0

from inngest._engine.flow.admission import FlowAdmission
from inngest._engine.flow.gcra import Rate
from inngest._engine.flow.keys import RunLimits
from inngest._engine.models import Kind, QueueItem
from inngest._engine.store import Store


def test_a_throttled_start_waiting_for_the_store_leaves_hand_on_free() -> None:
    """A worker asks ``hand_on`` inside its store transaction; the scheduler admitting a
    throttled start writes the throttle's state to the store. The scheduler must not hold
    the admission while it waits for the store (both threads then waited on each other)."""
    store = Store()
    admission = FlowAdmission(store)
    admission._limits["throttled"] = RunLimits(throttle=Rate("throttle", 1000, 1))
    admission._limits["stepping"] = RunLimits()
    start = QueueItem(kind=Kind.START, available_at_ms=T0, run_id="throttled", id=1)
    step = QueueItem(kind=Kind.PLANNED_STEP, available_at_ms=T0, run_id="stepping", id=2)
    admitted: list[int | None] = []
    handed = threading.Event()
    scheduler = threading.Thread(target=lambda: admitted.append(admission.admit(start, T0)),
                                 daemon=True)
    worker = threading.Thread(target=lambda: (admission.hand_on(step, step), handed.set()),
                              daemon=True)
    with store.transaction():  # the worker's transaction, applying a call's reply
        scheduler.start()
        scheduler.join(0.2)  # it now waits for the store
        assert scheduler.is_alive()
        worker.start()
        assert handed.wait(5), "hand_on waited for an admission held by a blocked admit"
    scheduler.join(5)
    assert admitted == [None]  # the start was then admitted, the throttle's first request
