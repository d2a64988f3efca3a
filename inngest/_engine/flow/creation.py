"""Flow control decided when a run is created: rate limit, idempotency, singleton, priority
and start/finish timeouts.

Queue-level limits (concurrency, throttle) are in ``admission``; debounce and batching
in ``buffers``; the option parsing in ``keys``.
"""

from __future__ import annotations

import dataclasses

from inngest._engine import cel
from inngest._engine.flow import keys
from inngest._engine.clock import Clock
from inngest._engine.flow.gcra import Limiter
from inngest._engine.models import JSON, Function, Kind, QueueItem, Reason, Run
from inngest._engine.store import Store

RATE_LIMITED_MESSAGE = "invoked function is rate limited"
START_TIMEOUT = "start"
FINISH_TIMEOUT = "finish"


@dataclasses.dataclass(frozen=True)
class Admitted:
    """A run may be created; with these settings."""

    priority_s: int = 0
    singleton: keys.Singleton | None = None


class RunGate:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.limiter = Limiter(store)

    def limited(self, fn: Function, event: dict[str, JSON]) -> Reason | None:
        """Why the event may not start a run of ``fn`` (rate limit, idempotency), if so.

        A key that fails to evaluate starts no run either, as on the real server."""
        try:
            rate = keys.rate_limit(fn, event)
        except cel.ExpressionError:
            return _limit_reason(fn)
        if rate is None or self.limiter.take(rate, self.clock.now_ms()) is None:
            return None
        return _limit_reason(fn)

    def singleton_holders(self, fn: Function, single: keys.Singleton) -> list[Run]:
        """The function's unfinished runs holding the singleton key."""
        return [run for run in self.store.active_runs(fn.id) if run.singleton_key == single.key]

    def settings(self, fn: Function, event: dict[str, JSON]) -> Admitted:
        return Admitted(keys.priority_seconds(fn, event), keys.singleton(fn, event))

    def start_timeout(self, fn: Function, run: Run) -> QueueItem | None:
        start, _ = keys.timeouts(fn)
        return None if start is None else _timeout_item(run, START_TIMEOUT,
                                                        run.created_at_ms + start)

    def finish_timeout(self, fn: Function, run: Run) -> QueueItem | None:
        _, finish = keys.timeouts(fn)
        if finish is None or run.started_at_ms is None:
            return None
        return _timeout_item(run, FINISH_TIMEOUT, run.started_at_ms + finish)


def _limit_reason(fn: Function) -> Reason:
    return Reason.IDEMPOTENCY if fn.config.get("idempotency") else Reason.RATE_LIMITED


def timeout_reason(item: QueueItem, run: Run) -> Reason | None:
    """The cancellation a timeout item calls for, if the run is still in that phase."""
    if run.status.ended:
        return None
    if item.payload.get("timeout") == START_TIMEOUT:
        return Reason.START_TIMEOUT if run.started_at_ms is None else None
    return Reason.FINISH_TIMEOUT


def overdue(fn: Function, run: Run, now_ms: int) -> Reason | None:
    """The timeout a run is past when the engine is about to call its app, if any.

    The real server checks both before each call, so a call that waited in a busy queue
    past the run's start timeout never starts it, whichever of the call and the timeout
    item is taken first."""
    if not fn.config.get("timeouts"):
        return None  # most functions: nothing to parse on each call
    start, finish = keys.timeouts(fn)
    if run.started_at_ms is None:
        return Reason.START_TIMEOUT if start and now_ms > run.created_at_ms + start else None
    if finish and now_ms > run.started_at_ms + finish:
        return Reason.FINISH_TIMEOUT
    return None


def _timeout_item(run: Run, which: str, at_ms: int) -> QueueItem:
    return QueueItem(kind=Kind.TIMEOUT, available_at_ms=at_ms, run_id=run.id,
                     partition=run.function_id, payload={"timeout": which},
                     job_id=f"{run.id}-timeout-{which}")
