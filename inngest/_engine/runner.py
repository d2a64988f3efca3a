"""From events to runs: trigger matching, run creation, pauses, and cron schedules."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import random

from inngest._engine import cel, cron, events, timeparse, ulid
from inngest._engine.flow import keys as flow_keys
from inngest._engine.flow.buffers import Buffers, Release
from inngest._engine.flow.creation import RATE_LIMITED_MESSAGE, timeout_reason
from inngest._engine.from_step import FromStep, plan as plan_start
from inngest._engine.lifecycle import Lifecycle
from inngest._engine.models import (
    JSON, DebugIds, Function, Kind, Pause, PauseKind, QueueItem, Reason, Run, RunStatus,
    StoredEvent,
)
from inngest._engine.payload import (
    Object, array_or_empty, as_number, as_object, as_str, object_or_empty, optional_str, to_int,
)

log = logging.getLogger("inngest.engine")

DEDUPE_MS = 24 * 3600 * 1000
DEFAULT_PAUSE_MS = 365 * 24 * 3600 * 1000
SIGNAL_CONFLICT = "Signal conflict; signal wait already exists for another run"
NO_DEBUG = DebugIds()  # a run in no debug session
INVOKE_TIMEOUT_ERROR = {
    "error": "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete",
    "name": "InngestInvokeTimeoutError",
    "message": "Timed out waiting for invoked function to complete",
}


def trigger_matches(pattern: str, name: str) -> bool:
    """Exact names, or a trailing ``*`` after ``/`` or ``.`` matching any rest."""
    if pattern.endswith("*") and pattern[-2:-1] in ("/", "."):
        return name.startswith(pattern[:-1])
    return pattern == name


def to_datetime(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


def to_ms(moment: datetime.datetime) -> int:
    return round(moment.timestamp() * 1000)


class Runner:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.life = lifecycle
        self.store = lifecycle.store
        self.gate = lifecycle.gate
        self.buffers = Buffers(lifecycle.store, lifecycle.queue, lifecycle.clock, lifecycle.ids)
        lifecycle.publish = self.publish

    # Events

    def ingest(self, event: dict[str, JSON], internal_id: str, *, once: bool = False) -> None:
        """Store a normalised event, start the runs it triggers and resume what it matches;
        with ``once``, nothing if an event is stored under ``internal_id`` already (a send
        retried with its seed after a lost reply gets the same ids).

        One transaction: a crash never leaves an event's dedupe key claimed without its run.
        """
        with self.store.transaction():
            received = StoredEvent(internal_id, event, self.life.clock.now_ms())
            stored = self.store.add_new_event(received) if once \
                else self.store.add_event(received)
            if stored is None:
                return
            name = stored.name
            if name == events.FUNCTION_INVOKED:
                self._start_invoked(stored)
            else:
                matched = [fn for fn in self.store.functions()
                           if self._triggered(fn, name, stored.event)]
                for fn in matched:
                    self.trigger(fn, stored)
                if not matched:
                    log.log(logging.DEBUG if name.startswith("inngest/") else logging.INFO,
                            "event %s (%s) matched no function", name, stored.internal_id)
            self._resume_pauses(stored)

    def publish(self, raw_events: list[dict[str, JSON]], *, lenient_ts: bool = False) -> list[str]:
        ids = []
        for raw in raw_events:
            internal_id = self.life.ids.new(self.life.clock.now_ms())
            event = events.internal(raw, self.life.clock.now_ms(), internal_id,
                                    lenient_ts=lenient_ts)
            self.ingest(event, internal_id)
            ids.append(internal_id)
        return ids

    def _triggered(self, fn: Function, name: str, event: dict[str, JSON]) -> bool:
        """Whether ``event`` (named ``name``) triggers ``fn``."""
        for trigger in fn.triggers:
            pattern = trigger.get("event")
            if not isinstance(pattern, str) or not trigger_matches(pattern, name):
                continue
            expression = trigger.get("expression")
            if not expression or cel.matches(as_str(expression, "expression"),
                                             {"event": event}):
                return True
        return False

    def _start_invoked(self, stored: StoredEvent) -> None:
        """Start the synced function an invocation names, by UUID or slug; when none is,
        answer the invoker with the failure the real server's runner sends."""
        meta = _internal_data(stored)
        target = str(meta.get("fn_id") or "")
        fn = next((fn for fn in self.store.functions() if target in (fn.id, fn.slug)), None)
        if fn is not None:
            self.trigger(fn, stored)
            return
        message = (f"could not find function with ID: {target}" if target
                   else "could not extract function ID from event")
        data: dict[str, JSON] = {"error": {"message": message, "name": "Error"},
                                 "function_id": "", "run_id": ""}
        correlation_id = meta.get("correlation_id")
        if isinstance(correlation_id, str):
            data["correlation_id"] = correlation_id
        now = self.life.clock.now_ms()
        self.publish([{"name": events.FUNCTION_FINISHED, "id": self.life.ids.new(now),
                       "ts": now, "data": dict(sorted(data.items()))}])

    # Runs

    def trigger(self, fn: Function, stored: StoredEvent) -> None:
        """Start ``fn`` for one event: batched, or through the run-creation gates."""
        try:
            batching = flow_keys.batching(fn, stored.event)
        except cel.ExpressionError as err:
            log.info("event %s starts no run of %s: batch key: %s", stored.internal_id,
                     fn.slug, err)
            return
        if batching is None:
            self.start_run(fn, [stored])
            return
        release = self.buffers.add_to_batch(fn, stored, batching)
        if release is not None:
            self._start_released(release)

    def start_run(self, fn: Function, triggers: list[StoredEvent], cron_expr: str | None = None,
                  correlation_id: str | None = None, *, batch_id: str | None = None,
                  debounced: bool = False, rerun: bool = False,
                  target: str | None = None, debug: DebugIds = NO_DEBUG) -> Run | None:
        """Create and queue a run, unless flow control holds, skips or deduplicates it.

        Batched and debounced runs passed the rate limit when their events arrived; a rerun,
        asked for by a person, passes flow control and deduplication. The first call asks
        the SDK to run the step ``target`` (a hashed id) when one is given. A rerun is in
        the debug session ``debug`` names; any other run in the one its invocation names.
        """
        first = triggers[0]
        correlation_id = correlation_id or invoke_correlation(first)
        if batch_id is None and not debounced and not rerun:
            reason = self.gate.limited(fn, first.event)
            if reason is not None:
                self._limited(fn, first, reason, correlation_id)
                return None
            debounce = flow_keys.debounce(fn, first.event)
            if debounce is not None:
                self.buffers.debounce(fn, first, debounce)
                return None
        now = self.life.clock.now_ms()
        dedupe = batch_id or str(first.event["id"])
        key = hashlib.sha256(f"{fn.id}-{dedupe}".encode()).hexdigest()
        if not rerun and not self.store.claim_key(key, now, now + DEDUPE_MS):
            log.info("event %s already ran %s; skipping", first.internal_id, fn.slug)
            return None
        admitted = self.gate.settings(fn, first.event)
        if admitted.singleton is not None:
            holders = self.gate.singleton_holders(fn, admitted.singleton)
            if holders and admitted.singleton.mode != "cancel":
                self._skip(fn, triggers, holders[0], now)
                return None
            for holder in holders:
                self.life.finish(holder.id, RunStatus.CANCELLED, reason=Reason.SINGLETON)
        debug = debug if rerun else invocation_debug(first)
        run = Run(
            id=self.life.ids.new(now), function_id=fn.id, function_version=fn.version,
            event_ids=[t.internal_id for t in triggers], created_at_ms=now,
            event_seq=max(t.seq for t in triggers), cron=cron_expr,
            correlation_id=correlation_id, batch_id=batch_id,
            priority_s=admitted.priority_s,
            singleton_key=admitted.singleton.key if admitted.singleton else None,
            debug_session_id=debug.session_id, debug_run_id=debug.run_id,
        )
        start_at = now if batch_id else max(now, to_int(first.event.get("ts") or now, "ts"))
        with self.store.transaction():
            self.store.add_run(run)
            self.life.history.scheduled(run)
            self._add_cancel_pauses(fn, run, first.event)
            call = self.life.call_item(run, Kind.START, start_at)
            if target:
                call = call.replace(payload={"step_id": target})
            self.life.queue.enqueue(call)
            timeout = self.gate.start_timeout(fn, run)
            if timeout is not None:
                self.life.queue.enqueue(timeout)
        log.info("run %s queued for %s (event %s)", run.id, fn.slug, first.name)
        return run

    def _skip(self, fn: Function, triggers: list[StoredEvent], holder: Run, now: int) -> None:
        """Record the run a singleton skipped: as on the real server, a run that never
        starts, shown only where its event's runs are (executor.go's skipped run span)."""
        run = Run(
            id=self.life.ids.new(now), function_id=fn.id, function_version=fn.version,
            event_ids=[t.internal_id for t in triggers], created_at_ms=now,
            event_seq=max(t.seq for t in triggers), status=RunStatus.SKIPPED,
            started_at_ms=now, reason=Reason.SINGLETON.value, skip_existing_run_id=holder.id,
        )
        self.store.add_run(run)
        log.info("event %s starts no run of %s: %s (run %s skipped)", triggers[0].internal_id,
                 fn.slug, Reason.SINGLETON.value, run.id)

    def rerun(self, run: Run, from_step: FromStep | None = None,
              debug: DebugIds = NO_DEBUG) -> Run | None:
        """A new run of ``run``'s function from the same events (None if the function was
        removed or the events are gone), in the debug session ``debug`` names (not the
        original's); from a step, it starts with the results of the steps before it. Raises
        RerunStepError for a step the run does not have."""
        fn = self.store.function(run.function_id)
        found = (self.store.event(event_id) for event_id in run.event_ids)
        triggers = [stored for stored in found if stored is not None]
        if fn is None or not triggers or fn.id not in {f.id for f in self.store.functions()}:
            return None
        if from_step is None:
            return self.start_run(fn, triggers, run.cron, batch_id=run.batch_id, rerun=True,
                                  debug=debug)
        start = plan_start(self.store, run.id, from_step.step_id)
        with self.store.transaction():
            started = self.start_run(fn, triggers, run.cron, batch_id=run.batch_id, rerun=True,
                                     target=start.step_id if start.targeted else None,
                                     debug=debug)
            if started is None:
                return None
            for memo_id, value in start.memos:
                self.store.save_step(started.id, memo_id, value)
            inputs = {} if from_step.input is None else {start.step_id: from_step.input}
            started = self.store.update_run(
                started.id, step_inputs=inputs,
                reused_steps=[memo_id for memo_id, _ in start.memos])
        return started

    def _limited(self, fn: Function, event: StoredEvent, reason: Reason,
                 correlation_id: str | None) -> None:
        """A rate limit or a used idempotency key creates no run; an invoke fails its caller.

        As on the real server, where an idempotency key is a rate limit of one per key.
        """
        log.info("event %s starts no run of %s: %s", event.internal_id, fn.slug, reason.value)
        if correlation_id:
            self.publish([{"name": events.FUNCTION_FINISHED, "ts": self.life.clock.now_ms(),
                           "data": {"function_id": fn.slug, "correlation_id": correlation_id,
                                    "error": {"name": "Error",
                                              "message": RATE_LIMITED_MESSAGE}}}])

    def _start_released(self, release: Release) -> None:
        self.start_run(release.function, release.events, batch_id=release.batch_id,
                       debounced=release.batch_id is None)

    def fire_flow_timer(self, item: QueueItem) -> QueueItem | None:
        """A debounce or batch timer, or a start/finish timeout, came due."""
        if item.kind is Kind.TIMEOUT:
            run = self.store.run(item.run_id)
            reason = timeout_reason(item, run) if run else None
            if reason is not None:
                self.life.finish(item.run_id, RunStatus.CANCELLED, reason=reason)
            return None
        fired = self.buffers.fire(item)
        if isinstance(fired, Release):
            self._start_released(fired)
            return None
        return fired

    def _add_cancel_pauses(self, fn: Function, run: Run, event: dict[str, JSON]) -> None:
        for index, raw in enumerate(array_or_empty(fn.config.get("cancel"), "cancel")):
            cancel = as_object(raw, "a cancel")
            expires = self._cancel_deadline(cancel.get("timeout"))
            self.add_pause(Pause(
                id=f"{run.id}-cancel-{index}", run_id=run.id, kind=PauseKind.CANCEL,
                event_name=str(cancel.get("event")), expires_at_ms=expires,
                after_seq=run.event_seq,
                expression=optional_str(cancel.get("if") or None, "cancel.if"),
            ))

    def _cancel_deadline(self, timeout: JSON) -> int:
        """When a cancel pause expires: its timeout (a duration or a time), else a year."""
        now = self.life.clock.now_ms()
        if not timeout:
            return now + DEFAULT_PAUSE_MS
        try:
            return to_ms(timeparse.parse_time_or_duration(str(timeout), to_datetime(now)))
        except timeparse.DurationError:
            # A duration past any date (the real server accepts one at sync), or a timeout
            # synced before sync refused unparsable ones: neither may fail the event's ingest.
            return now + DEFAULT_PAUSE_MS

    def cancel(self, run_id: str, reason: Reason = Reason.MANUAL) -> Run | None:
        """Cancel a run; None if it had already ended."""
        return self.life.finish(run_id, RunStatus.CANCELLED, reason=reason)

    # Pauses

    def add_pause(self, pause: Pause) -> None:
        """Store a pause and queue its timeout."""
        with self.store.transaction():
            self.store.add_pause(pause)
            self.life.queue.enqueue(QueueItem(
                kind=Kind.PAUSE_TIMEOUT, available_at_ms=pause.expires_at_ms,
                run_id=pause.run_id, payload={"pause_id": pause.id},
                job_id=f"timeout-{pause.id}",
            ))

    def timeout_pause(self, pause_id: str) -> None:
        """A pause's time ran out: resume its step, or just forget an expired cancel."""
        pause = self.store.take_pause(pause_id)
        if pause is None or pause.kind is PauseKind.CANCEL:
            return
        value = {"error": INVOKE_TIMEOUT_ERROR} if pause.kind is PauseKind.INVOKE else None
        self.life.history.resumed(pause, None, value)
        self.life.step_done(pause.run_id, pause.step_id, value)

    def _resume_pauses(self, stored: StoredEvent) -> None:
        """Resume the waits and apply the cancels that ``stored`` matches. As on the dev
        server, a run whose wait and cancel it both matches keeps the wait's result (history,
        trace) and is then cancelled, without calling the SDK again."""
        taken = self._take_matched(stored)
        if not taken:
            return
        cancelled = {pause.run_id for pause in taken if pause.kind is PauseKind.CANCEL}
        for pause in sorted(taken, key=lambda pause: pause.kind is PauseKind.CANCEL):
            if pause.kind is PauseKind.CANCEL:
                log.info("run %s cancelled by event %s", pause.run_id, stored.name)
                with self.life.history.cancelling(stored.internal_id, pause.expression):
                    self.cancel(pause.run_id, Reason.CANCEL_EVENT)
                continue
            value = resume_value(pause, stored)
            self.life.history.resumed(pause, stored, value)
            if pause.run_id in cancelled:
                self.store.save_step(pause.run_id, pause.step_id, value)
            else:
                self.life.step_done(pause.run_id, pause.step_id, value)

    def _take_matched(self, stored: StoredEvent) -> list[Pause]:
        """Take (consume) the pauses ``stored`` matches, with their timeout jobs."""
        pauses = self.store.pauses_for(stored.name, stored.seq)
        if not pauses:
            return []
        now = self.life.clock.now_ms()
        taken = []
        for pause in pauses:
            if pause.kind is PauseKind.SIGNAL:
                continue
            if pause.expires_at_ms < now and pause.kind is PauseKind.CANCEL:
                # Databases from before cancel pauses had timeout jobs still hold some.
                self.store.take_pause(pause.id)
                continue
            if not self._pause_matches(pause, stored.event):
                continue
            if self.store.take_pause(pause.id) is None:
                continue
            self.store.delete_job(f"timeout-{pause.id}")
            taken.append(pause)
        return taken

    # Signals

    def wait_for_signal(self, pause: Pause, replace: bool) -> bool:
        """Store a signal wait; False if another wait holds the signal and ``replace`` is off.

        A replaced wait no longer answers the signal; its run resumes when it times out.
        """
        with self.store.transaction():
            holder = self._signal_holder(pause.event_name)
            if holder is not None and holder.id != pause.id:
                if not replace:
                    return False
                self.store.add_pause(dataclasses.replace(holder, event_name=""))
            self.add_pause(pause)
        return True

    def signal(self, signal: str, data: JSON) -> str | None:
        """Resume the run waiting for ``signal``; returns its id, or None if none waits."""
        with self.store.transaction():
            holder = self._signal_holder(signal)
            if holder is None or self.store.take_pause(holder.id) is None:
                return None
            self.store.delete_job(f"timeout-{holder.id}")
            value: JSON = {"data": {"data": data, "signal": signal}}
            self.life.history.resumed(holder, None, value, signalled=True)
            self.life.step_done(holder.run_id, holder.step_id, value)
        return holder.run_id

    def _signal_holder(self, signal: str) -> Pause | None:
        """The unexpired wait that a signal would resume, if any."""
        now = self.life.clock.now_ms()
        waits = self.store.pauses_for(signal, self.store.last_event_seq() + 1)
        return next((pause for pause in waits
                     if pause.kind is PauseKind.SIGNAL and pause.expires_at_ms >= now), None)

    def _pause_matches(self, pause: Pause, event: dict[str, JSON]) -> bool:
        if pause.kind is PauseKind.INVOKE:
            data = object_or_empty(event.get("data"), "data")
            return data.get("correlation_id") == pause.correlation_id
        if not pause.expression:
            return True
        run = self.store.run(pause.run_id)
        first = self.store.event(run.event_ids[0]) if run and run.event_ids else None
        variables = {"event": first.event if first else {}, "async": event}
        return cel.matches(pause.expression, variables)

    # Cron

    def schedule_crons(self, fn: Function) -> None:
        """Queue the next tick of each cron trigger (idempotent per function and trigger)."""
        for index, trigger in enumerate(fn.triggers):
            expression = trigger.get("cron")
            if not expression:
                continue
            after = to_datetime(self.life.clock.now_ms())
            fire_at = cron.parse_cron(as_str(expression, "cron")).next_after(after)
            self.life.queue.enqueue(QueueItem(
                kind=Kind.CRON, available_at_ms=to_ms(fire_at), partition=fn.id,
                payload={"function_id": fn.id, "cron": expression, "index": index,
                         "jitter": cron.parse_jitter(
                             optional_str(trigger.get("jitter") or None, "jitter")),
                         "scheduled_ms": to_ms(fire_at)},
                job_id=f"cron-{fn.id}-{index}-{to_ms(fire_at)}",
            ))

    def fire_cron(self, payload: dict[str, JSON]) -> None:
        fn = self.store.function(str(payload["function_id"]))
        if fn is None or not any(t.get("cron") == payload["cron"] for t in fn.triggers):
            return
        if fn.id not in {current.id for current in self.store.functions()}:
            return
        scheduled = to_datetime(to_int(payload["scheduled_ms"], "scheduled_ms"))
        jitter = as_number(payload["jitter"], "jitter")
        fire = scheduled + datetime.timedelta(seconds=random.uniform(0, jitter))
        stamp = timeparse.format_rfc3339_ms(scheduled).replace(".000Z", "Z")
        now = self.life.clock.now_ms()
        internal_id = self.life.ids.new(now)
        event = events.internal({
            "name": events.SCHEDULED_TIMER, "id": stamp, "ts": to_ms(fire),
            "data": {"cron": payload["cron"], "scheduledAt": stamp,
                     "fireAt": timeparse.format_rfc3339_ms(fire).replace(".000Z", "Z")},
        }, now, internal_id)
        stored = self.store.add_event(StoredEvent(internal_id, event, now))
        self.start_run(fn, [stored], cron_expr=str(payload["cron"]))
        self.schedule_crons(fn)


def invoke_correlation(stored: StoredEvent) -> str | None:
    """The correlation id an ``inngest/function.invoked`` event carries, if any."""
    if stored.name != events.FUNCTION_INVOKED:
        return None
    value = _internal_data(stored).get("correlation_id")
    return str(value) if value else None


def resume_value(pause: Pause, stored: StoredEvent) -> JSON:
    """The step value a matching event gives a waiting run."""
    if pause.kind is not PauseKind.INVOKE:
        return stored.event
    data = object_or_empty(stored.event.get("data"), "data")
    if "error" in data:
        return {"error": data["error"]}
    if "result" in data:
        return {"data": data["result"]}
    return stored.event


def invocation_debug(stored: StoredEvent) -> DebugIds:
    """The debug session an ``inngest/function.invoked`` event names (``invokeFunction``
    puts it there). As on the real server, whose decoding of the event's metadata then
    fails, a value that is no ULID leaves the run out of any session."""
    if stored.name != events.FUNCTION_INVOKED:
        return NO_DEBUG
    meta = _internal_data(stored)
    try:
        session_id, run_id = [_debug_id(meta.get(key))
                              for key in ("debug_session_id", "debug_run_id")]
    except ValueError:
        return NO_DEBUG
    return DebugIds(session_id, run_id)


def _debug_id(value: JSON) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a ULID")
    return ulid.parse(value)


def _internal_data(stored: StoredEvent) -> Object:
    """What the engine put in an event it sent itself (an invoke's target and correlation)."""
    data = object_or_empty(stored.event.get("data"), "data")
    return object_or_empty(data.get(events.INTERNAL_DATA_KEY), events.INTERNAL_DATA_KEY)
