"""Moving a run along: memoizing a step and asking the SDK again, and ending the run."""

from __future__ import annotations

import logging
import typing

from inngest._engine import defers, events
from inngest._engine.clock import Clock
from inngest._engine.flow.creation import RunGate
from inngest._engine.history import History
from inngest._engine.models import (
    JSON, Function, Kind, QueueItem, Reason, Run, RunLimit, RunStatus,
)
from inngest._engine.payload import Text, dump_escaped
from inngest._engine.queue import Queue
from inngest._engine.responses import wrapped_error
from inngest._engine.run_limits import RunLimits
from inngest._engine.store import Store
from inngest._engine.ulid import Generator

log = logging.getLogger("inngest.engine")

Publish = typing.Callable[[list[dict[str, JSON]]], list[str]]
"""Ingest engine-made events (no reserved-name check); returns their internal ids."""

_NO_FINISH_EVENTS = (events.FUNCTION_FAILED, events.FUNCTION_FINISHED)
# The event sent after inngest/function.finished for a run that ended so.
_FOLLOW_UP_EVENTS = {RunStatus.FAILED: events.FUNCTION_FAILED,
                     RunStatus.CANCELLED: events.FUNCTION_CANCELLED}
# Total size of a run's events and step results (the server's DefaultMaxStateSizeLimit).
MAX_STATE_BYTES = 32 * 1024 * 1024


class Lifecycle:
    def __init__(self, store: Store, queue: Queue, clock: Clock, ids: Generator) -> None:
        self.store = store
        self.queue = queue
        self.clock = clock
        self.ids = ids
        self.gate = RunGate(store, clock)
        self.history = History(store, clock, ids)
        self.publish: Publish = lambda _events: []
        self.limits = RunLimits()

    def call_item(self, run: Run, kind: Kind, at_ms: int | None = None,
                  job_id: str | None = None, **payload: JSON) -> QueueItem:
        """A queue item that calls the SDK for ``run``."""
        return QueueItem(
            kind=kind, available_at_ms=self.clock.now_ms() if at_ms is None else at_ms,
            run_id=run.id, payload=payload, partition=run.function_id,
            priority_ms=run.priority_s * 1000, job_id=job_id,
        )

    def mark_started(self, run: Run, fn: Function) -> Run:
        """Record the run's first call to the SDK, and start its finish timeout."""
        with self.store.transaction():
            run = self.store.update_run(run.id, status=RunStatus.RUNNING.value,
                                        started_at_ms=self.clock.now_ms())
            self.history.started(run)
            timeout = self.gate.finish_timeout(fn, run)
            if timeout is not None:
                self.queue.enqueue(timeout)
        log.info("run %s started (%s)", run.id, fn.slug)
        return run

    def step_done(self, run_id: str, step_id: str, value: JSON, *,
                  woke: bool = False, text: str | None = None) -> None:
        """Memoize a step's value and, unless parallel siblings are pending, rediscover.

        ``woke``: a sleep's wake-up, whose discovery call still plans steps (see discover).
        ``text``: the value's JSON text (``dump(value)``), when the caller has it.
        """
        with self.store.transaction():
            run = self.store.run(run_id)
            if run is None or run.status.ended:
                return
            self.store.save_step(run_id, step_id, value, text)
            limit = self.limits.state_bytes.limit(run.function_id, MAX_STATE_BYTES)
            if self.store.state_bytes(run) > limit:
                self.finish(run_id, RunStatus.FAILED, wrapped_error(
                    "InngestErrStateOverflowed",
                    f"The function run exceeded the state size limit of {limit} bytes.",
                ), has_output=True, failed_at_limit=RunLimit.STATE_SIZE)
                return
            pending = [other for other in run.pending_steps if other != step_id]
            if pending != run.pending_steps:
                run = self.store.update_run(run_id, pending_steps=pending)
            if pending and run.version >= 2:
                return
            self._discover(run, woke)

    def plan_step(self, run: Run, step_id: str, stack_index: int) -> None:
        """Queue the call that runs one planned step, at most once per step.

        A plan for a step whose result is saved is dropped: the job id alone deduplicates
        only while the step's queue row exists (queued, running or awaiting a retry), and
        an SDK answering from older state may plan a step that has since finished.
        """
        with self.store.transaction():
            if self.store.has_step(run.id, step_id):
                return
            item = self.call_item(run, Kind.PLANNED_STEP, job_id=f"{run.id}-plan-{step_id}",
                                  step_id=step_id, stack_index=stack_index)
            if self.queue.enqueue(item) is not None:
                self.history.planned(run, step_id)

    def discover(self, run: Run, *, woke: bool = False) -> None:
        """Queue the next discovery request (deduplicated per stack position).

        Parallelism over, steps run at once again; but the call a sleep's wake-up makes
        still tells the SDK to plan them, as the real server's does (it clears the flag in
        the run's state after loading the state that call is built from).
        """
        with self.store.transaction():
            self._discover(run, woke)

    def _discover(self, run: Run, woke: bool) -> None:
        """``discover`` within the caller's transaction."""
        depth = self.store.step_count(run.id)
        self._enqueue_discovery(run, f"{run.id}-discover-{depth}", woke=woke)

    def rediscover(self, run: Run, step_id: str, step_name: str) -> None:
        """Queue the next discovery after a reply that only reported ``step_id``'s result
        again, which was saved before: the stack did not grow, so the usual job id is the
        call's own that was answered, and it would be dropped. Its own id, once per stack
        position and step, lets the run go on, and asks no more of an app that keeps
        reporting the same step there.
        """
        with self.store.transaction():
            if run.pending_steps and run.version >= 2:
                return  # a sibling's result will ask
            depth = self.store.step_count(run.id)
            job_id = f"{run.id}-discover-{depth}-again-{step_id}"
            if not self._enqueue_discovery(run, job_id):
                log.warning("run %s: the app reported step %s again at the same place; "
                            "its saved result stays and the run waits", run.id, step_name)

    def _enqueue_discovery(self, run: Run, job_id: str, *, woke: bool = False) -> bool:
        """Whether a discovery call with ``job_id`` was queued (not one already)."""
        item = self.call_item(run, Kind.DISCOVERY, job_id=job_id)
        if not run.pending_steps and run.version >= 2 and run.force_step_plan:
            self.store.update_run(run.id, force_step_plan=False)
            if woke:
                item.payload["force_step_plan"] = True
        return self.queue.enqueue(item) is not None

    def finish(self, run_id: str, status: RunStatus, output: JSON = None, *,
               has_output: bool = False, reason: Reason | None = None,
               reply_error: str | None = None,
               failed_at_limit: RunLimit | None = None) -> Run | None:
        """End a run, drop its queued work and pauses, and emit the finish events.

        ``reply_error`` names the app's reply that failed the run as the real server names
        it (``invalid status code: 500``, ``NonRetriableError``): the finish events' error
        then says it instead of the error's own name and message. ``failed_at_limit``: the
        run limit that failed the run.
        """
        with self.store.transaction():
            run = self.store.run(run_id)
            if run is None or run.status.ended:
                return None
            run = self.store.update_run(
                run_id, status=status, output=output, has_output=has_output,
                output_is_text=isinstance(output, Text),
                ended_at_ms=self.clock.now_ms(), pending_steps=[],
                reason=reason.value if reason else None,
                failed_at_limit=failed_at_limit.value if failed_at_limit else None,
            )
            self.store.delete_run_items(run_id)
            self.store.delete_run_pauses(run_id)
            self.history.finished(run)
        self.queue.run_ended(run_id)
        fn = self.store.function(run.function_id)
        if log.isEnabledFor(logging.INFO):
            log.info("run %s %s (%s)", run.id, status.value.lower(), fn.slug if fn else "?")
        if fn is not None:
            self._emit_finish_events(run, fn, status, reply_error)
            defers.schedule(self.store, self.publish, run, fn, self.clock.now_ms())
        self.store.forget_run(run_id)
        return run

    def _emit_finish_events(self, run: Run, fn: Function, status: RunStatus,
                            reply_error: str | None) -> None:
        trigger_events = [e.event for e in map(self.store.event, run.event_ids) if e]
        if not trigger_events or trigger_events[0]["name"] in _NO_FINISH_EVENTS:
            return
        data: dict[str, JSON] = {
            "function_id": fn.slug,
            "run_id": run.id,
            "event": trigger_events[0],
            # The real server leaves an empty user out of these (not out of "event").
            "events": [event if event.get("user") else _without(event, "user")
                       for event in trigger_events],
            "_inngest": {"status": status.value},
        }
        if run.correlation_id:
            data["correlation_id"] = run.correlation_id
        if run.failed_at_limit is not None:
            data.update(_limit_failure(run))
        elif status is RunStatus.FAILED:
            error = error_object(run.output)
            if reply_error is not None:
                error["error"] = reply_error
            data["error"] = error
        if run.has_output and status is not RunStatus.CANCELLED \
                and run.failed_at_limit is None:
            data["result"] = run.output
        now = self.clock.now_ms()
        meta = {"meta": trigger_events[0]["meta"]} if "meta" in trigger_events[0] else {}
        out = [{"name": events.FUNCTION_FINISHED, "data": data, "id": self.ids.new(now),
                "ts": now, **meta}]
        follow_up = _FOLLOW_UP_EVENTS.get(status)
        if follow_up:
            out.append({"name": follow_up, "data": data, "id": run.id, "ts": now, **meta})
        self.publish(out)


def _limit_failure(run: Run) -> dict[str, JSON]:
    """The finish events' error (and result) for a run a limit failed, as the dev server
    writes them (measured): the output's JSON text as a plain error's message; its error
    says the name of the state size limit's error, the text again for the step limit's,
    which has no result."""
    text = dump_escaped(run.output)
    if run.failed_at_limit == RunLimit.STEPS:
        return {"error": {"error": text, "name": "Error", "message": text}}
    return {"error": {"error": error_object(run.output)["name"], "name": "Error",
                      "message": text},
            "result": text}


def _without(event: typing.Mapping[str, JSON], key: str) -> dict[str, JSON]:
    return {name: value for name, value in event.items() if name != key}


def error_object(output: JSON) -> dict[str, JSON]:
    """The ``{error, name, message, stack?}`` form of a failed run's output."""
    if isinstance(output, typing.Mapping) and list(output) == ["error"] \
            and isinstance(output["error"], typing.Mapping):
        output = output["error"]  # an error the engine raised, stored under "error"
    if isinstance(output, typing.Mapping):
        name = str(output.get("name") or "Error")
        message = output.get("message")
        message = str(message) if message is not None else str(output.get("error") or "")
        out: dict[str, JSON] = {"error": f"{name}: {message}", "name": name, "message": message}
        if output.get("stack") is not None:
            out["stack"] = output["stack"]
        return out
    message = output if isinstance(output, str) else str(output)
    return {"error": f"Error: {message}", "name": "Error", "message": message}
