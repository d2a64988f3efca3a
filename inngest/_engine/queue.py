"""A durable work queue on top of the store, drained by a bounded thread pool.

Items become due at ``available_at_ms``. One scheduler thread sleeps on a condition until
the earliest due time (or until new work or a free worker wakes it), asks the admission
policy whether each due item may run now, leases it and hands it to a worker. Leases are
dropped at start-up, so an item that was running when the process died runs again.

A function (an item's partition) holds at most ``function_share`` workers at once, so calls
to one slow or hung app leave workers for the other functions' items.

Finished items are released to the admission policy by the scheduler, between scans: capacity
freed in the middle of a scan would go to whichever item the scan reaches next, not to the
ahead-most item it has already held back.

A worker whose item queues the run's next call, due now and needing no capacity that another
item could be waiting for (``Admission.hand_on``), runs that call itself once the item's
changes commit: the call is stored already leased, so it still runs after a crash, but it
skips the scheduler's scan and two thread hand-offs. So a run in progress goes on before runs
not yet started, as on the Inngest server, whose queue scores a run's next steps by the run's
start time. Likewise an item due now that another thread queues (a new run's first call) goes
straight to a free worker at its commit when the scheduler is idle and flow control admits it.

Workers take turns running engine code with the scheduler, and overlap only while they wait
for an app's answer (``waiting``). The engine's Python code runs under one GIL whatever the
number of workers; threads interleaving in it handed the GIL and the store's lock back and
forth at each SQLite statement, in a convoy that once started did not clear: with 8 workers
on 2 cores, a call cost up to half as much CPU again as with one worker, and runs/s fell
below one worker's. (Event intake does not take the turn: a batch's transaction would hold
every worker back for its whole length, and runs in progress would wait between steps.)
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import functools
import logging
import threading
import typing

from inngest._engine.clock import Clock
from inngest._engine.models import QueueItem
from inngest._engine.store import QueuePosition, Store

log = logging.getLogger("inngest.engine.queue")

_PAGE = 256

Handler = typing.Callable[[QueueItem], "QueueItem | None"]
"""Runs an item; returns the item to put back (with a new attempt and time) or None when done."""


def _now(action: typing.Callable[[], None]) -> None:
    action()


class Admission(typing.Protocol):
    """The one place that decides whether a due item may start now (flow control hooks in)."""

    def admit(self, item: QueueItem, now_ms: int) -> int | None:
        """None to run the item now; otherwise the time (ms) at which to ask again."""

    def release(self, item: QueueItem) -> None:
        """Called (on the scheduler thread, between scans) once an admitted item has run."""

    def hand_on(self, holder: QueueItem, item: QueueItem) -> bool:
        """Whether ``item`` may start now in the place of ``holder`` (admitted, and done),
        needing no more than what ``holder`` holds; that is released with ``holder``."""

    def run_ended(self, run_id: str) -> None:
        """Called (on the scheduler thread, between scans) after a run has ended."""


class AdmitAll:
    def admit(self, item: QueueItem, now_ms: int) -> int | None:
        return None

    def release(self, item: QueueItem) -> None:
        pass

    def hand_on(self, holder: QueueItem, item: QueueItem) -> bool:
        return True

    def run_ended(self, run_id: str) -> None:
        pass


class _Worker(threading.local):
    """What a queue worker thread is running: the item the scheduler gave it (None on other
    threads), and the next item it runs itself (``claimed`` once one is queued, ``next``
    once its transaction has committed)."""

    holder: QueueItem | None = None
    # The run of the item it runs now (the holder or one handed on).
    run_id = ""
    claimed = False
    next: QueueItem | None = None
    # The handler deleted its item itself, with the changes it made.
    acked = False
    # (On a thread answering a request: ``Queue.starting_after_answer``.)
    after_answer = False


class _Waiting:
    """``Queue.waiting``'s context manager (a class: entered on every SDK call, and a
    generator-based one costs several times more)."""

    def __init__(self, turn: threading.Lock, worker: _Worker) -> None:
        self._turn = turn
        self._worker = worker

    def __enter__(self) -> None:
        if self._worker.holder is not None:
            self._turn.release()

    def __exit__(self, *_: object) -> None:
        if self._worker.holder is not None:
            self._turn.acquire()


class Queue:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        handler: Handler,
        workers: int = 8,
        admission: Admission | None = None,
        function_share: int | None = None,
        after_response: typing.Callable[[typing.Callable[[], None]], None] = _now,
    ) -> None:
        self._store = store
        self._clock = clock
        self._handler = handler
        self._workers = max(1, workers)
        self._share = function_share or default_function_share(self._workers)
        self._running: collections.Counter[str] = collections.Counter()
        self.admission: Admission = admission or AdmitAll()
        self._after_response = after_response
        self._cond = threading.Condition()
        self._dirty = False
        self._stopped = False
        self._inflight = 0
        # Items claimed to start directly whose transactions have not ended yet (0 or 1).
        self._direct = 0
        self._finished: list[QueueItem] = []
        # When flow control (concurrency, throttle...) first held back each due item (ms).
        self._held: dict[int, int] = {}
        self._ended_runs: list[str] = []
        # While the scheduler waits: how many items are running, and when it next has work.
        self._waiting_with: int | None = None
        self._idle_until: int | None = None
        # Held by the worker or the scheduler running engine code.
        self._turn = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="inngest-queue"
        )
        self._thread = threading.Thread(target=self._loop, name="inngest-scheduler", daemon=True)
        self._worker = _Worker()
        self._waiting = _Waiting(self._turn, self._worker)
        clock.subscribe(self.wake)

    def start(self) -> None:
        self._store.release_all_leases()
        self._thread.start()

    def stop(self, grace: float = 5.0) -> None:
        """Stop taking work and wait up to ``grace`` seconds for items in flight.

        An item still running afterwards keeps its row, so it runs again after a restart.
        """
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._cond:
            self._cond.wait_for(lambda: self._inflight == 0, grace)

    def enqueue(self, item: QueueItem) -> QueueItem | None:
        """Persist an item; returns None if its job id is already queued."""
        if self._continues(item):
            stored = self._store.insert_item(item, leased=True)
            if stored is not None:
                self._worker.claimed = True
                self._store.on_commit(lambda: setattr(self._worker, "next", stored))
            return stored
        if self._worker.holder is None and self._due_now(item) and self._claim_direct(item):
            self._store.after_commit(self._unclaim_direct)
            stored = self._store.insert_item(item, leased=True)
            if stored is not None:
                self._store.on_commit(functools.partial(self._start_or_hand_over, stored))
            return stored
        stored = self._store.insert_item(item)
        if stored is not None:
            self._store.after_commit(self.wake)
        return stored

    def _claim_direct(self, item: QueueItem) -> bool:
        """Whether ``item`` may try to start directly at its commit: the scheduler waits, a
        worker is free, and no other item is claimed (in this transaction or another). Only
        one: a second, leased until its own try at the commit, would be hidden from the
        scheduler meanwhile, and the first run's next steps could take a concurrency slot
        that it was waiting for. The rest of a batch goes to the scheduler."""
        with self._cond:
            if self._direct or not self._worker_free_for(item):
                return False
            self._direct += 1
            return True

    def _unclaim_direct(self) -> None:
        with self._cond:
            self._direct -= 1

    def _start_or_hand_over(self, item: QueueItem) -> None:
        """At the commit that queued ``item`` (due now, queued by a thread that is not a
        worker: an event's run start), a free worker takes it at once when the scheduler has
        nothing else to do and flow control admits it: the scheduler's scan and its thread
        hand-off cost a new run a tenth of a millisecond. Otherwise the scheduler gets it.
        Queued within ``starting_after_answer``, it starts once the answer is sent."""
        if self._reserve_worker(item):
            # Asked outside the condition: flow control reads the store, whose lock is held
            # by threads that then take the condition.
            if self.admission.admit(item, self._clock.now_ms()) is None:
                start = functools.partial(self._start_reserved, item)
                if self._worker.after_answer:
                    self._after_response(start)
                else:
                    start()
                return
            self._finish(item)
        self._hand_over(item)

    @contextlib.contextmanager
    def starting_after_answer(self) -> typing.Iterator[None]:
        """Around queueing done for a request whose client does not wait for the runs it
        starts (an event sent to the API): a run queued inside that starts at once on a
        free worker does so once the answer has been sent. Started at the commit, its first
        call and the answer took the GIL from each other, and both went slower. (Not for a
        request that waits for its run: that would wait for ever.)"""
        self._worker.after_answer = True
        try:
            yield
        finally:
            self._worker.after_answer = False

    def _start_reserved(self, item: QueueItem) -> None:
        """Start ``item``, admitted on a worker reserved for it (or, once the queue has
        stopped, give the worker back and leave the item to the scheduler)."""
        with self._cond:
            if not self._stopped:
                self._pool.submit(self._run, item)
                return
        self._finish(item)
        self._hand_over(item)

    def _hand_over(self, item: QueueItem) -> None:
        self._store.requeue(item)
        self.wake()

    def _reserve_worker(self, item: QueueItem) -> bool:
        """Take a worker for ``item``, only while the scheduler waits: it is then neither
        scanning nor counting what runs, and nothing it has not handled yet is due."""
        with self._cond:
            waiting_with = self._waiting_with
            if waiting_with is None or not self._worker_free_for(item):
                return False
            self._running[item.partition] += 1
            self._inflight += 1
            self._waiting_with = waiting_with + 1
            return True

    def _worker_free_for(self, item: QueueItem) -> bool:
        """(Under the condition.) The scheduler waits, having handled every change so far,
        and a worker is free that ``item``'s partition may take."""
        return not (self._stopped or self._dirty or self._waiting_with is None
                    or self._inflight >= self._workers
                    or (item.partition and self._running[item.partition] >= self._share))

    def _due_now(self, item: QueueItem) -> bool:
        return item.priority_ms == 0 and item.available_at_ms <= self._clock.now_ms()

    def ack(self, item: QueueItem, *, deleted: bool = False) -> None:
        """Delete a running item within the open transaction, so that it goes together with
        the changes its handler made; the worker then has nothing left to delete.
        ``deleted``: those changes removed it already (a run's end drops all its items)."""
        if not deleted:
            self._store.ack(item.id)
        self._store.on_commit(lambda: setattr(self._worker, "acked", True))

    def _continues(self, item: QueueItem) -> bool:
        """Whether this worker thread runs ``item`` next itself: the first item its current
        item queues for the same partition, due now, that flow control lets take its place."""
        holder = self._worker.holder
        return holder is not None and holder.partition == item.partition \
            and not self._worker.claimed and self._due_now(item) and not self._stopped \
            and self.admission.hand_on(holder, item)

    def run_ended(self, run_id: str) -> None:
        """Tell the admission policy, between scans, that a run has ended."""
        with self._cond:
            self._ended_runs.append(run_id)
        # A worker ending the run it runs wakes the scheduler anyway, when it is done (the
        # run has nothing left to hand on): a second scan then would compete with the
        # clients that are told of the end.
        if self._worker.holder is None or self._worker.run_id != run_id:
            self._store.after_commit(self.wake)

    def wake(self) -> None:
        with self._cond:
            self._dirty = True
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._turn:
                with self._cond:
                    if self._stopped:
                        return
                    self._dirty = False
                    free = self._workers - self._inflight
                    finished, self._finished = self._finished, []
                    ended_runs, self._ended_runs = self._ended_runs, []
                for item in finished:
                    self._running[item.partition] -= 1
                    self.admission.release(item)
                for run_id in ended_runs:
                    self.admission.run_ended(run_id)
                wake_at = self._dispatch(free) if free > 0 else None
            with self._cond:
                if self._dirty or self._stopped:
                    continue
                timeout = None if wake_at is None else self._clock.seconds_until(wake_at)
                self._waiting_with, self._idle_until = self._inflight, wake_at
                self._cond.notify_all()
                self._cond.wait(timeout)
                self._waiting_with = None

    def wait_idle(self, timeout: float, *, running: int = 0) -> tuple[bool, int | None]:
        """Wait until nothing is due and at most ``running`` items are running; return whether
        it got there, and when the scheduler next has something to do (None: nothing queued)."""

        def idle() -> bool:
            return not self._dirty and self._waiting_with is not None \
                and self._waiting_with <= running

        with self._cond:
            return self._cond.wait_for(idle, timeout), self._idle_until

    def _dispatch(self, free: int) -> int | None:
        """Start up to ``free`` admitted due items; return when to look again.

        Items the admission policy holds back stay in place (keeping their order), so the
        scan pages past them to reach items of other partitions. Partitions holding their
        whole share are left out by the store, unparsed: with many runs of one function
        queued, reading and parsing their items on every scan cost more than the calls.
        """
        now = self._clock.now_ms()
        wake_at: int | None = None
        held = False
        after: QueuePosition | None = None
        while free > 0:
            # Each row read is parsed: read only what free workers can take, unless the
            # admission policy is holding items back and the scan has to page past them.
            size = _PAGE if held else free
            full = [part for part, count in self._running.items()
                    if part and count >= self._share]
            page = self._store.due_items(now, size, after, full)
            for after, item in page:
                if free == 0:
                    return now
                if item.partition and self._running[item.partition] >= self._share:
                    held = True  # looked at again when one of its items finishes
                    continue
                retry_at = self.admission.admit(item, now)
                if retry_at is not None:
                    held = True
                    self._held.setdefault(item.id, now)
                    wake_at = retry_at if wake_at is None else min(wake_at, retry_at)
                    continue
                self._start(item)
                free -= 1
            if len(page) < size:
                break
        next_due = self._store.next_due()
        if next_due is not None and next_due > now:
            wake_at = next_due if wake_at is None else min(wake_at, next_due)
        return wake_at

    def _start(self, item: QueueItem) -> None:
        self._running[item.partition] += 1
        self._store.lease(item.id)
        with self._cond:
            self._inflight += 1
        self._pool.submit(self._run, item)

    def _run(self, item: QueueItem) -> None:
        """Run ``item``, then each item it hands on (see ``enqueue``), in the same slot."""
        worker = self._worker
        worker.holder = current = item
        self._turn.acquire()
        try:
            while True:
                worker.claimed, worker.next, worker.acked = False, None, False
                worker.run_id = current.run_id
                self._run_one(current)
                if worker.next is None or self._stopped:
                    break
                current = worker.next
        finally:
            self._turn.release()
            worker.holder, worker.next, worker.run_id = None, None, ""
            self._finish(item)

    def waiting(self) -> typing.ContextManager[None]:
        """Around a wait for I/O (an app's answer) outside any store transaction: on a
        queue worker, the other workers and the scheduler run engine code meanwhile."""
        return self._waiting

    def held_since(self, item: QueueItem) -> int | None:
        """When flow control first held ``item`` back before it started (None: it did not);
        its handler asks once."""
        return self._held.pop(item.id, None)

    def _finish(self, item: QueueItem) -> None:
        """Give back the worker ``item`` held; the scheduler releases its partition share and
        flow control."""
        self._held.pop(item.id, None)
        with self._cond:
            self._finished.append(item)
            self._inflight -= 1
            self._dirty = True
            self._cond.notify_all()

    def _run_one(self, item: QueueItem) -> None:
        try:
            again = self._handler(item)
        except Exception:
            log.exception("queue item %s (%s) crashed; dropping it", item.id, item.kind.value)
            again = None
        if again is not None:
            self._store.requeue(again)
        elif not self._worker.acked:
            self._store.ack(item.id)


def default_function_share(workers: int) -> int:
    """Three quarters of the workers (all but one of 2-4): one function's hung calls leave
    the rest to the others, and a lone function still gets most of the pool."""
    return max(1, workers - max(1, workers // 4))
