"""Queue workers take turns running engine code (with the scheduler) and overlap only while
they wait for I/O."""

from __future__ import annotations

import threading
import time

from engine_fakes import T0

from inngest._engine.clock import ManualClock, SystemClock
from inngest._engine.models import Kind, QueueItem
from inngest._engine.queue import AdmitAll, Queue
from inngest._engine.store import Store


def test_a_worker_runs_engine_code_alone_and_others_run_while_it_waits() -> None:
    store = Store()
    a_inside, b_ran, a_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def handler(item: QueueItem) -> None:
        if item.job_id == "a":
            a_inside.set()
            # Engine code: the other worker's item cannot get on meanwhile.
            seen["b_ran_while_a_ran"] = b_ran.wait(0.3)
            with queue.waiting():  # as for an app's answer: the other worker gets on
                seen["b_ran_while_a_waited"] = b_ran.wait(5)
            a_done.set()
        else:
            with queue.waiting():
                a_inside.wait(5)
            b_ran.set()

    queue = Queue(store, ManualClock(T0), handler, workers=2)
    store.insert_item(QueueItem(Kind.CRON, T0, job_id="a"))
    store.insert_item(QueueItem(Kind.CRON, T0, job_id="b"))
    run_until(queue, a_done)
    assert seen == {"b_ran_while_a_ran": False, "b_ran_while_a_waited": True}


def test_waiting_outside_a_worker_changes_nothing() -> None:
    store = Store()
    queue = Queue(store, ManualClock(T0), lambda item: None, workers=1)
    with queue.waiting():
        store.insert_item(QueueItem(Kind.CRON, T0, job_id="outside"))
    assert [item.job_id for _, item in store.due_items(T0, 10)] == ["outside"]


class RecordAdmits(AdmitAll):
    """Admits everything; sets ``asked`` once the scheduler asks about ``job_id``."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.asked = threading.Event()

    def admit(self, item: QueueItem, now_ms: int) -> int | None:
        if item.job_id == self.job_id:
            self.asked.set()
        return None


def test_the_scheduler_scans_only_while_no_worker_runs_engine_code() -> None:
    store = Store()
    admission = RecordAdmits("queued-by-a")
    a_done = threading.Event()
    seen: dict[str, bool] = {}

    def handler(item: QueueItem) -> None:
        if item.job_id != "a":
            return
        # Another partition's item: not handed on, the scheduler is woken for it at once.
        queue.enqueue(QueueItem(Kind.CRON, T0, partition="other", job_id="queued-by-a"))
        seen["scanned_while_a_ran"] = admission.asked.wait(0.3)
        with queue.waiting():
            seen["scanned_while_a_waited"] = admission.asked.wait(5)
        a_done.set()

    queue = Queue(store, ManualClock(T0), handler, workers=2, admission=admission)
    store.insert_item(QueueItem(Kind.CRON, T0, job_id="a"))
    run_until(queue, a_done)
    assert seen == {"scanned_while_a_ran": False, "scanned_while_a_waited": True}


def run_until(queue: Queue, done: threading.Event) -> None:
    """Run ``queue``'s workers until ``done`` is set (10 s at most), then stop them."""
    queue.start()
    try:
        assert done.wait(10)
    finally:
        queue.stop()


def test_an_item_due_centuries_ahead_leaves_the_scheduler_serving() -> None:
    """The scheduler waits for the earliest due item; one due 300 years ahead used to ask
    for a wait longer than a condition allows, and the OverflowError ended its thread."""
    store = Store()
    ran = threading.Event()
    queue = Queue(store, SystemClock(), lambda item: ran.set(), workers=1)
    far = SystemClock().now_ms() + 300 * 366 * 24 * 3600 * 1000
    queue.enqueue(QueueItem(Kind.CRON, far, job_id="far"))
    queue.start()
    try:
        time.sleep(0.2)  # the scheduler goes to sleep until the far item
        # Due soon rather than now: only the scheduler starts it (a free worker takes an
        # item due now at once).
        queue.enqueue(QueueItem(Kind.CRON, SystemClock().now_ms() + 300, job_id="soon"))
        assert ran.wait(5), "the scheduler stopped serving"
    finally:
        queue.stop()
