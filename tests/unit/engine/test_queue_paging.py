"""The queue's scan past held-back items, the sort order of upgraded databases, and wake-ups
after commit."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import threading

from engine_fakes import T0

from inngest._engine.clock import ManualClock
from inngest._engine.models import Kind, QueueItem
from inngest._engine.queue import Queue
from inngest._engine.store import Store

HOLD_UNTIL = T0 + 3_600_000


class HoldPartition:
    """Holds back every item of partition ``held``; once, mid-scan, removes the first one."""

    def __init__(self, store: Store, remove_at: int) -> None:
        self.store = store
        self.remove_at = remove_at
        self.asked = 0
        self.first_id: int | None = None

    def admit(self, item: QueueItem, now_ms: int) -> int | None:
        if item.partition != "held":
            return None
        self.asked += 1
        if self.first_id is None:
            self.first_id = item.id
        if self.asked == self.remove_at:
            # Another worker ends the first held item's run while the scan is on.
            self.store.ack(self.first_id)
        return HOLD_UNTIL

    def release(self, item: QueueItem) -> None:
        pass


def test_rows_removed_mid_scan_do_not_make_it_skip_a_due_item() -> None:
    store = Store()
    clock = ManualClock(T0)
    ran = threading.Event()
    # One worker: the scan reads one row, then pages of 256. The free item is the first
    # row of the third page, right after the rows the scan has already held back.
    held = 1 + 256
    for n in range(held):
        store.insert_item(QueueItem(Kind.CRON, T0, partition="held", job_id=f"held-{n}"))
    store.insert_item(QueueItem(Kind.CRON, T0, partition="free", job_id="free"))
    admission = HoldPartition(store, remove_at=100)

    def handler(item: QueueItem) -> None:
        if item.partition == "free":
            ran.set()

    queue = Queue(store, clock, handler, workers=1, admission=admission)
    queue.start()
    try:
        assert ran.wait(5), "the free item lost its turn"
    finally:
        queue.stop()
    assert admission.asked >= held


def old_database(path: pathlib.Path, rows: list[tuple[int, int]],
                 partitions: tuple[str, ...] = ()) -> None:
    """A queue table as engines before the sort column wrote it: (due, priority_ms) rows,
    in ``partitions`` (by row) when given."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE,"
        " run_id TEXT NOT NULL, due INTEGER NOT NULL, leased INTEGER NOT NULL DEFAULT 0,"
        " data TEXT NOT NULL)")
    for n, (due, priority_ms) in enumerate(rows):
        item = QueueItem(Kind.CRON, due, run_id=f"run-{n}", priority_ms=priority_ms,
                         job_id=f"job-{n}", partition=partitions[n] if partitions else "")
        conn.execute("INSERT INTO queue (job_id, run_id, due, data) VALUES (?, ?, ?, ?)",
                     (item.job_id, item.run_id, due, json.dumps(item.to_dict())))
    conn.commit()
    conn.close()


def test_upgraded_database_orders_items_by_priority(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "main.db"
    # run-0 plain; run-1 enqueued later but 60s ahead; run-2 earliest but 120s behind.
    old_database(path, [(T0, 0), (T0 + 10_000, 60_000), (T0 - 5_000, -120_000)])
    store = Store(str(path))
    try:
        order = [item.run_id for _, item in store.due_items(T0 + 10_000, 10)]
    finally:
        store.close()
    assert order == ["run-1", "run-0", "run-2"]


def test_upgraded_database_skips_the_partitions_asked(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "main.db"
    old_database(path, [(T0, 0), (T0 + 1, 0), (T0 + 2, 0)], partitions=("a", "b", "a"))
    store = Store(str(path))
    try:
        left = [item.run_id for _, item in store.due_items(T0 + 10, 10, skip=["a"])]
        store.insert_item(QueueItem(Kind.CRON, T0 + 3, run_id="run-new", partition="b"))
        right = [item.run_id for _, item in store.due_items(T0 + 10, 10, skip=["b"])]
    finally:
        store.close()
    assert (left, right) == (["run-1"], ["run-0", "run-2"])


def test_after_commit_runs_once_the_outermost_transaction_has_committed() -> None:
    store = Store()
    seen: list[tuple[str, bool]] = []

    def queued_item_visible() -> None:
        # Read from another thread: it could not take the store while the writer held it.
        result: list[list[str | None]] = []
        reader = threading.Thread(
            target=lambda: result.append([item.job_id for item in store.items()]))
        reader.start()
        reader.join(5)
        seen.append(("woken", result == [["job"]]))

    with store.transaction():
        with store.transaction():
            store.insert_item(QueueItem(Kind.CRON, 0, job_id="job"))
            store.after_commit(queued_item_visible)
        seen.append(("inner ended", False))
    store.after_commit(lambda: seen.append(("outside", True)))
    assert seen == [("inner ended", False), ("woken", True), ("outside", True)]
