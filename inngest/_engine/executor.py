"""Calling SDK apps for runs and acting on the opcodes they answer with."""

from __future__ import annotations

import dataclasses
import functools
import json
import json.encoder
import logging
import random
import re
import typing
import urllib.parse

from inngest._engine import (
    cel, checkpoint, defers, events, history, reentry, run_metadata, sessions,
    span_metadata, timeparse,
)
from inngest._engine.errors import CallFailed, EngineError
from inngest._engine.flow.creation import overdue
from inngest._engine.models import (
    JSON, Function, Kind, Pause, PauseKind, QueueItem, Run, RunLimit, RunStatus,
)
from inngest._engine.otel import traceref
from inngest._engine.payload import load, object_or_empty, to_int
from inngest._engine.responses import (
    Complete, Failure, Op, Ops, Outcome, Reply, error_body, error_text, interpret,
    sorted_keys, stored_value, wrapped_error,
)
from inngest._engine.runner import DEFAULT_PAUSE_MS, SIGNAL_CONFLICT, Runner, to_datetime, to_ms
from inngest._protocol import jcs, signing
from inngest._protocol.headers import Header
from inngest._protocol.opcodes import Opcode
from inngest._transport import (
    KeepAliveTransport, OutboundRequest, Timing, Transport, TransportError, Urllib3Transport,
)

log = logging.getLogger("inngest.engine")

MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_WAIT_MS = 366 * 24 * 3600 * 1000
BACKOFF_SECONDS = (15, 30, 60, 120, 300, 600, 1200, 2400, 3600, 7200)
BACKOFF_JITTER_MS = 30_000
CONNECT_TIMEOUT = 10.0
# The real server waits up to 2 hours for an app's answer (--call-timeout shortens it).
READ_TIMEOUT = 7200.0
MAX_REDIRECTS = 60
# When the server calls a durable endpoint again after a step error it reported.
ENDPOINT_RETRY_S = 5
# How soon a call held back for worker capacity is tried again (the dev server's next
# request went out within 0.1 s of a reply that freed room, measured).
CAPACITY_WAIT_MS = 100
_EVENT_TEXTS = 512
# Ops after which the run waits for something else to call the SDK again.
_GATEWAY_OPS = (Opcode.AI_GATEWAY, Opcode.GATEWAY)
# An app's x-inngest-req-version: ASCII digits (str.isdigit takes "²", which int refuses), few
# enough to store.
_REQ_VERSION = re.compile(r"-?[0-9]{1,9}")
# Ops that save a step's result.
_RESULT_OPS = (Opcode.STEP_RUN, Opcode.STEP, Opcode.STEP_ERROR, Opcode.STEP_FAILED)
# Ops not applied as steps (defers are kept apart).
_NOT_APPLIED = frozenset((Opcode.NONE, *defers.OPS))
_WAITING_OPS = (Opcode.PLANNED, Opcode.SLEEP, Opcode.WAIT_FOR_EVENT, Opcode.INVOKE,
                Opcode.WAIT_FOR_SIGNAL)


@dataclasses.dataclass(frozen=True)
class Settings:
    # Seconds between retries; 0 uses the backoff table with jitter.
    retry_interval: float = 0.0
    signing_key: str | None = None
    step_limit: int = 1000
    # Seconds to wait for an app's answer to one call before the attempt fails.
    call_timeout: float = READ_TIMEOUT


class RunError(EngineError):
    """A problem that fails the run outright (bad op options, limits)."""

    code = "run_failed"

    def __init__(self, name: str, message: str, *, wrapped: bool = False) -> None:
        super().__init__(message)
        self.body = wrapped_error(name, message) if wrapped else error_body(name, message)


class Executor:
    def __init__(self, runner: Runner, settings: Settings, http: Transport | None = None,
                 has_room: typing.Callable[[str], bool] = lambda url: True) -> None:
        self.runner = runner
        # Whether a call to a URL can go out now: one held back (a connect app whose
        # workers are all at capacity) waits without using an attempt, as on the dev server.
        self.has_room = has_room
        self.life = runner.life
        self.store = runner.store
        self.settings = settings
        self.http = http or default_transport()
        self._event_texts: dict[str, str] = {}

    def handle(self, item: QueueItem) -> QueueItem | None:
        """The queue handler: run one item, returning it to retry later or None when done.

        An item that crashes fails its run: dropped silently, it would leave it Running.
        """
        try:
            return self._handle(item)
        except Exception as err:
            log.exception("run %s: queue item %s (%s) crashed", item.run_id or "-", item.id,
                          item.kind.value)
            if item.run_id:
                message = (f"the engine failed while processing this run ({item.kind.value} "
                           f"item): {type(err).__name__}: {err}")
                self.life.finish(item.run_id, RunStatus.FAILED,
                                 error_body("InternalError", message), has_output=True)
            return None

    def _handle(self, item: QueueItem) -> QueueItem | None:
        if item.kind is Kind.CRON:
            self.runner.fire_cron(item.payload)
        elif item.kind is Kind.PAUSE_TIMEOUT:
            self.runner.timeout_pause(str(item.payload["pause_id"]))
        elif item.kind is Kind.SLEEP_WAKE:
            self.life.step_done(item.run_id, str(item.payload["step_id"]), None, woke=True)
        elif item.kind in (Kind.DEBOUNCE, Kind.BATCH, Kind.TIMEOUT):
            return self.runner.fire_flow_timer(item)
        else:
            return self._call(item)
        return None

    def _call(self, item: QueueItem) -> QueueItem | None:
        run = self.store.run(item.run_id)
        if run is None or run.status.ended:
            return None
        fn = self.store.function(run.function_id)
        if fn is None:
            self.life.finish(run.id, RunStatus.FAILED,
                             error_body("Error", "function not found"), has_output=True)
            return None
        if item.kind is Kind.PLANNED_STEP \
                and self.store.has_step(run.id, str(item.payload.get("step_id"))):
            return None
        if self._at_step_limit(run, fn):
            return None
        reason = overdue(fn, run, self.life.clock.now_ms())
        if reason is not None:
            self.life.finish(run.id, RunStatus.CANCELLED, reason=reason)
            return None
        if not self.has_room(fn.url):
            return dataclasses.replace(
                item, available_at_ms=self.life.clock.now_ms() + CAPACITY_WAIT_MS)
        start = functools.partial(self.life.mark_started, run, fn) \
            if run.status is RunStatus.QUEUED else None
        # History shows the function's own URL, as the server does, even for planned steps.
        with self.life.history.call(run, item, with_step_id(fn.url, "step"), start) as call:
            return self._call_sdk(item, call.run, fn, call)

    def _at_step_limit(self, run: Run, fn: Function) -> bool:
        """Whether the run has as many steps as its limit allows, which fails it without
        calling the app (the dev server checks before each call; a negative limit is none).
        The error's ``error`` field is the server's own words, not the name and message."""
        limit = self.life.limits.steps.limit(fn.id, self.settings.step_limit)
        if not 0 < limit <= self.store.step_count(run.id):
            return False
        error: dict[str, JSON] = {
            "error": "function has too many steps", "name": "InngestErrFunctionOverflowed",
            "message": f"The function run exceeded the step limit of {limit} steps."}
        self.life.finish(run.id, RunStatus.FAILED, {"error": error}, has_output=True,
                         failed_at_limit=RunLimit.STEPS)
        return True

    def _call_sdk(self, item: QueueItem, run: Run, fn: Function,
                  call: history.Call) -> QueueItem | None:
        failed: JSON = None
        try:
            reply, timing = self._post(run, fn, item, call.group)
        except CallFailed as err:
            reply, timing, failed = None, None, _call_failure(err)
        call.reply = reply
        call.metadata, call.metadata_text = span_metadata.call_entries(
            timing, due_ms=item.available_at_ms, held_ms=self.life.queue.held_since(item),
            started_ms=call.started_ms, now_ms=self.life.clock.now_ms())
        outcome: Outcome = interpret(reply) if reply else Failure(
            failed or error_body("Error", f"could not reach {fn.url}"), True, None)
        call.outcome = outcome
        gateway_replies: dict[str, GatewayReply] = {}
        if _calls_gateways(outcome):
            # The run is checked (and its version pinned) before the gateway calls go out,
            # and those are not made holding the store.
            with self.store.transaction():
                current = self._current(run, reply, outcome)
            if current is None:
                return None
            gateway_replies = self._call_gateways(outcome)
        # Applying the reply and deleting the item commit together: a crash in between
        # would otherwise run the item again and repeat the step that follows it. Without
        # gateway calls the check shares that transaction: one take of the store per reply.
        with self.store.transaction():
            current = self._current(run, reply, outcome)
            if current is None:
                return None
            again = self._act(item, current, fn, outcome, gateway_replies)
            self.life.history.replied(call, again)
            if again is None:
                ended = self.store.run(run.id)
                self.life.queue.ack(item, deleted=ended is not None and ended.status.ended)
            return again

    def _current(self, run: Run, reply: Reply | None, outcome: Outcome) -> Run | None:
        """The run as stored now, with the version the reply pins; None if it has ended."""
        run = self.store.run(run.id) or run
        if run.status.ended:
            return None
        # Only a reply that reports steps pins the version; errors and `[]` leave it open.
        version = reply.headers.get(Header.REQ_VERSION, "") if reply else ""
        if run.version < 0 and _REQ_VERSION.fullmatch(version) and isinstance(outcome, Ops) \
                and any(op.op != Opcode.NONE for op in outcome.ops):
            run = self.store.update_run(run.id, version=int(version))
        return run

    def _act(self, item: QueueItem, run: Run, fn: Function, outcome: Outcome,
             gateway_replies: dict[str, GatewayReply]) -> QueueItem | None:
        try:
            if isinstance(outcome, Complete):
                self.life.finish(run.id, RunStatus.COMPLETED, outcome.output, has_output=True)
                return None
            if isinstance(outcome, Failure):
                return self._failed(item, fn, outcome)
            return self._handle_ops(item, run, fn, outcome, gateway_replies)
        except RunError as err:
            self.life.finish(run.id, RunStatus.FAILED, err.body, has_output=True)
            return None

    def _failed(self, item: QueueItem, fn: Function, failure: Failure) -> QueueItem | None:
        if failure.retriable and item.attempt + 1 < fn.max_attempts:
            return self._retry(item, failure.retry_after, failure.reason)
        log.info("run %s: attempt %d failed: %s; no retries left", item.run_id, item.attempt,
                 failure.reason)
        self.life.finish(item.run_id, RunStatus.FAILED, failure.output, has_output=True,
                         reply_error=failure.reply_error)
        return None

    def _retry(self, item: QueueItem, retry_after: str | None, reason: str) -> QueueItem:
        at = self.retry_at(item.attempt, retry_after)
        log.info("run %s: attempt %d failed: %s; retrying in %.1fs", item.run_id, item.attempt,
                 reason, (at - self.life.clock.now_ms()) / 1000)
        return dataclasses.replace(item, attempt=item.attempt + 1, available_at_ms=at)

    def retry_at(self, attempt: int, retry_after: str | None) -> int:
        now = self.life.clock.now_ms()
        if retry_after:
            moment = timeparse.parse_retry_after(retry_after, to_datetime(now))
            if moment is not None:
                return to_ms(moment)
        if self.settings.retry_interval > 0:
            return now + round(self.settings.retry_interval * 1000)
        delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)] * 1000
        return now + delay + random.randint(0, BACKOFF_JITTER_MS)

    # The request

    def request_body(self, run: Run, fn: Function, item: QueueItem) -> bytes:
        """The call's canonical JSON body, put together from the canonical texts of its
        parts: the stored step results and trigger events are pasted, not re-encoded."""
        trigger_events = [text for text in map(self._event_text, run.event_ids) if text]
        # A state already over the limit as stored is sent by API without reading its
        # memos or encoding it: each call would otherwise cost the whole state, again.
        small = self.store.state_bytes(run) <= MAX_REQUEST_BYTES
        stack = self.store.canonical_steps(run.id) if small else []
        step_ids = [sid for sid, _ in stack] if small else self.store.step_ids(run.id)
        ctx = _Context(
            fn_id=fn.id, run_id=run.id, attempt=item.attempt, max_attempts=fn.max_attempts,
            stack=step_ids,
            current=to_int(item.payload.get("stack_index", len(step_ids)), "stack_index"),
            qi_id=item.id, request_id=self.life.ids.new(self.life.clock.now_ms()),
            job_id=self.job_id(item), plan_forced=_plan_forced(run, item))
        first = trigger_events[0] if trigger_events else "{}"
        held = defers.entries(self.store, run.id)
        if small:
            encoded = _body(ctx, False, held, first, trigger_events,
                            stack + _inputs(run, step_ids), run.version)
            if len(encoded) <= MAX_REQUEST_BYTES:
                return encoded
        # The SDK reads the events and step results by API; the first event still comes.
        return _body(ctx, True, held, first, [], [], run.version)

    def _event_text(self, event_id: str) -> str | None:
        """A trigger event's canonical JSON (kept: events never change once stored)."""
        text = self._event_texts.get(event_id)
        if text is None:
            stored = self.store.event(event_id)
            if stored is None:
                return None
            if len(self._event_texts) >= _EVENT_TEXTS:
                self._event_texts.clear()
            text = self._event_texts[event_id] = jcs.canonicalize(stored.event).decode()
        return text

    @staticmethod
    def job_id(item: QueueItem) -> str:
        return item.job_id or f"{item.run_id}-{item.id}"

    def _post(self, run: Run, fn: Function,
              item: QueueItem, group: str) -> tuple[Reply | None, Timing | None]:
        """The app's reply (None when none came), and its request's phases if measured."""
        step_id = str(item.payload.get("step_id", "step"))
        headers = {
            "content-type": "application/json", "x-run-id": run.id,
            Header.STEP_ID: step_id, Header.REQ_VERSION: str(run.version),
            "x-request-id": self.life.ids.new(self.life.clock.now_ms()),
            Header.JOB_ID: self.job_id(item),
            **traceref.headers(run.id, fn, group, item.attempt),
        }
        if reentry.is_endpoint(self.store, fn):
            method, url, body = self._endpoint_request(run, fn, item, headers)
        else:
            method, url, body = "POST", with_step_id(fn.url, step_id), \
                self.request_body(run, fn, item)
        if self.settings.signing_key:
            headers[Header.SIGNATURE] = signing.sign(body, self.settings.signing_key)
        try:
            with self.life.queue.waiting():
                response = self.http.send(OutboundRequest(
                    method, url, headers, body or None, self.settings.call_timeout,
                    MAX_RESPONSE_BYTES))
        except TransportError as err:
            log.info("run %s: calling %s failed: %s", run.id, url, err)
            if isinstance(err, CallFailed):
                raise
            return None, None
        data = response.body
        reply_headers = {k.lower(): v for k, v in response.headers.items()}
        if len(data) > MAX_RESPONSE_BYTES:
            # The step has run and its side effects happened: running it again would repeat
            # them and then fail the same way.
            too_large = error_body("OutputTooLarge", "output_too_large")
            return Reply(500, {**reply_headers, Header.NO_RETRY: "true"},
                         json.dumps(too_large).encode()), response.timing
        return Reply(response.status, reply_headers, data), response.timing

    def _endpoint_request(self, run: Run, fn: Function, item: QueueItem,
                          headers: dict[str, str]) -> tuple[str, str, bytes]:
        """A durable endpoint's call: its own request again, which the SDK takes for the
        server's by ``X-Run-ID`` and ``X-Inngest-Signature`` (empty when not signed)."""
        request = reentry.request(self.store, run, fn)
        headers.update({"content-type": request.content_type, Header.SIGNATURE: ""})
        if item.payload.get("step_id", "step") == "step":
            del headers[Header.STEP_ID]
        if _plan_forced(run, item):
            headers[Header.FORCE_STEP_PLAN] = "true"
        return request.method, request.url, request.body

    # Opcodes

    def continue_endpoint(self, run: Run, ops: list[Op]) -> None:
        """Act on the ops a durable endpoint reported as it went async (a sleep, a wait, a
        gateway call, a step error...) as on a call's reply: the run then goes on by calls
        to the endpoint. A step error to retry calls it again after the server's
        ``ENDPOINT_RETRY_S`` (or the engine's retry interval, when set)."""
        fn = self.store.function(run.function_id)
        if fn is None:
            return
        item = self.life.call_item(run, Kind.DISCOVERY)
        retry_after = None if self.settings.retry_interval > 0 else str(ENDPOINT_RETRY_S)
        outcome = Ops(ops, False, retry_after)
        # Gateway calls are made here, within the SDK's checkpoint, as the server makes them.
        gateway_replies = self._call_gateways(outcome)
        with self.store.transaction():
            planned = [op for op in ops
                       if op.op == Opcode.PLANNED and not self.store.has_step(run.id, op.id)]
            again = self._act(item, run, fn, outcome, gateway_replies)
            self._record_endpoint_ops(run, ops, planned, gateway_replies, again)
            if again is not None:
                self.life.queue.enqueue(again)

    def _record_endpoint_ops(self, run: Run, ops: list[Op], planned: list[Op],
                             gateway_replies: dict[str, GatewayReply],
                             retry: QueueItem | None) -> None:
        """The history of ops acted on outside a call: steps scheduled, gateway results and
        failed steps shown, as the server shows them."""
        history = self.life.history
        for op in planned:
            history.endpoint_planned(run, op.id, op.display_name)
        for op in ops:
            reply = gateway_replies.get(op.id)
            if reply is not None and reply.error is None:
                history.checkpointed(run, op.id, _given_name(op), {"data": reply.value})
        failed = [op for op in ops if op.op in (Opcode.STEP_ERROR, Opcode.STEP_FAILED)]
        if retry is not None:
            retried = failed + [op for op in ops if op.op in _GATEWAY_OPS]
            history.retry_scheduled(run, retry.attempt, _given_name(retried[0]))
        elif failed and not (self.store.run(run.id) or run).status.ended:
            history.endpoint_step_failed(run, failed[0].id, _given_name(failed[0]),
                                         failed[0].error)

    def _handle_ops(self, item: QueueItem, run: Run, fn: Function, outcome: Ops,
                    gateway_replies: dict[str, GatewayReply]) -> QueueItem | None:
        # A step whose result is saved never runs or waits again, whatever the SDK reports.
        # Defers are kept first: a RunComplete among the ops schedules them.
        for op in outcome.ops:
            if op.op in defers.OPS:
                defers.record(self.store, run.id, op.op, op.id, op.raw)
        ops = [op for op in outcome.ops if op.op not in _NOT_APPLIED
               and not (op.op in _WAITING_OPS and self.store.has_step(run.id, op.id))]
        if any(op.op == Opcode.RUN_COMPLETE for op in ops):
            ops = self._save_final_steps(run, ops)
        if not ops:
            return None
        repeated = self._repeated_results(run, ops)
        depth = self.store.step_count(run.id)
        step_limit = self.life.limits.steps.limit(fn.id, self.settings.step_limit)
        # A negative override lifts the limit, as the dev server's check reads it.
        if 0 < step_limit < depth + len(ops) - len(repeated):
            raise RunError("InngestErrFunctionOverflowed",
                           f"The function run exceeded the step limit of {step_limit} steps.",
                           wrapped=True)
        for op in ops:
            if op.op == Opcode.STEP_ERROR and not outcome.no_retry \
                    and item.attempt + 1 < fn.max_attempts:
                reason = f"step {op.display_name} errored: {error_text(op.error)}"
                return self._retry(item, outcome.retry_after, reason)
        waiting = [op.id for op in ops if op.op in _WAITING_OPS
                   and op.opts.get("parallelMode") != "race"]
        if waiting or len(ops) > 1:
            run = self.store.update_run(
                run.id, pending_steps=run.pending_steps + waiting,
                force_step_plan=run.force_step_plan or len(ops) > 1,
            )
        for op in sorted(ops, key=lambda op: op.op != Opcode.WAIT_FOR_EVENT):
            if _is_one_of(op, repeated):
                self._keep_saved_result(op, run)
                continue
            again = self._apply(op, run, fn, item, depth, gateway_replies)
            if again is not None:
                return again
        if len(repeated) == len(ops):
            self.life.rediscover(run, ops[0].id, ops[0].display_name)
        return None

    def _repeated_results(self, run: Run, ops: list[Op]) -> list[Op]:
        """The ops that report a result for a step that has one saved."""
        return [op for op in ops
                if op.op in _RESULT_OPS and self.store.has_step(run.id, op.id)]

    def _keep_saved_result(self, op: Op, run: Run) -> None:
        """A result reported for a step that has one (an SDK retrying a request whose reply
        was acted on): the saved result stays. Its metadata is kept again, as the dev server
        keeps it (an ``add`` counts twice there, measured)."""
        log.warning("run %s: step %s reported again; keeping its saved result", run.id,
                    op.display_name)
        run_metadata.from_op(self.store, run.id, op.raw, self.life.clock.now_ms())

    def _save_final_steps(self, run: Run, ops: list[Op]) -> list[Op]:
        """Save the steps reported along with the function's result (a checkpointing SDK's
        last steps) as checkpointed ones; the other ops are left to apply."""
        for op in ops:
            if op.op in (Opcode.STEP_RUN, Opcode.STEP):
                checkpoint.save_step(self.life, run, checkpoint.CheckpointStep(
                    op.op, op.id, op.display_name, op.data, op.raw))
        return [op for op in ops if op.op not in (Opcode.STEP_RUN, Opcode.STEP)]

    def _apply(self, op: Op, run: Run, fn: Function, item: QueueItem, depth: int,
               gateway_replies: dict[str, GatewayReply]) -> QueueItem | None:
        if log.isEnabledFor(logging.INFO):
            log.info("run %s: %s %s%s", run.id, op.op, op.display_name,
                     f": {error_text(op.error)}" if op.error else "")
        if op.id:
            self.store.save_step_info(run.id, op.id, op.display_name, op.op)
        run_metadata.from_op(self.store, run.id, op.raw, self.life.clock.now_ms())
        if op.op in _RESULT_OPS:
            self.life.step_done(run.id, op.id, stored_value(op), text=op.stored_text)
        elif op.op == Opcode.PLANNED:
            self.life.plan_step(run, op.id, depth)
        elif op.op == Opcode.SLEEP:
            self._sleep(op, run)
        elif op.op == Opcode.WAIT_FOR_EVENT:
            self._wait(op, run)
        elif op.op == Opcode.INVOKE:
            self._invoke(op, run, fn)
        elif op.op in (Opcode.AI_GATEWAY, Opcode.GATEWAY):
            return self._gateway(op, run, fn, item, gateway_replies[op.id])
        elif op.op in (Opcode.RUN_COMPLETE, Opcode.SYNC_RUN_COMPLETE):
            # A durable endpoint's output is the whole op, its data the HTTP response (the
            # output route answers with it), as the server keeps it.
            output = op.raw if reentry.is_endpoint(self.store, fn) else op.data
            self.life.finish(run.id, RunStatus.COMPLETED, sorted_keys(output), has_output=True)
        elif op.op == Opcode.DISCOVERY_REQUEST:
            self.life.discover(run)
        elif op.op == Opcode.WAIT_FOR_SIGNAL:
            self._wait_for_signal(op, run)
        return None

    def _deadline(self, text: str, default_ms: int | None = None,
                  too_long: str | None = None) -> int:
        """When ``text`` (a duration or a time) ends; ``too_long`` words the error past a year."""
        now = self.life.clock.now_ms()
        if not text:
            return now + (default_ms or 0)
        try:
            moment = to_ms(timeparse.parse_time_or_duration(text, to_datetime(now)))
        except timeparse.DurationError as err:
            raise RunError("Error", str(err)) from None
        if moment - now > MAX_WAIT_MS:
            if too_long is None:
                raise RunError("Error", f"timeout too long: {text}")
            quoted = json.dumps(text, ensure_ascii=False)
            raise RunError("InngestErrTimeoutTooLong", too_long.format(quoted), wrapped=True)
        return max(moment, now)

    def _sleep(self, op: Op, run: Run) -> None:
        wake = self._deadline(
            str(op.opts.get("duration") or op.name or ""),
            too_long="The sleep {} ends more than one year in the future; "
                     "sleeps may last at most one year.",
        )
        self.life.history.sleeping(run, op.display_name, op.id, wake)
        self.life.queue.enqueue(QueueItem(
            kind=Kind.SLEEP_WAKE, available_at_ms=wake, run_id=run.id,
            payload={"step_id": op.id}, partition=run.function_id,
            job_id=f"{run.id}-sleep-{op.id}",
        ))

    def _wait(self, op: Op, run: Run) -> None:
        expression = op.opts.get("if")
        if expression:
            try:
                cel.validate(str(expression))
            except cel.ExpressionError as err:
                raise RunError("Error", str(err)) from None
        pause = Pause(
            id=f"{run.id}-{op.id}", run_id=run.id, kind=PauseKind.WAIT,
            event_name=str(op.opts.get("event") or op.name),
            expires_at_ms=self._deadline(
                str(op.opts.get("timeout") or ""),
                too_long="The wait-for-event timeout {} expires more than one year in the "
                         "future; timeouts may last at most one year.",
            ),
            after_seq=self.store.last_event_seq(), step_id=op.id,
            expression=str(expression) if expression else None,
        )
        self.runner.add_pause(pause)
        self.life.history.waiting(run, op.display_name, pause)

    def _wait_for_signal(self, op: Op, run: Run) -> None:
        signal = str(op.opts.get("signal") or "")
        if not signal:
            raise RunError("Error", "signal name is empty")
        pause = Pause(
            id=f"{run.id}-{op.id}", run_id=run.id, kind=PauseKind.SIGNAL, event_name=signal,
            expires_at_ms=self._deadline(str(op.opts.get("timeout") or ""), DEFAULT_PAUSE_MS),
            after_seq=self.store.last_event_seq(), step_id=op.id,
        )
        if not self.runner.wait_for_signal(pause, replace=op.opts.get("conflict") == "replace"):
            raise RunError("Error", SIGNAL_CONFLICT, wrapped=True)
        self.life.history.waiting_for_signal(run, op.display_name, pause)

    def _invoke(self, op: Op, run: Run, fn: Function) -> None:
        target = str(op.opts.get("function_id") or "")
        payload = object_or_empty(op.opts.get("payload"), "payload")
        try:
            sessions.resolve(object_or_empty(payload.get("meta"), "payload.meta"))
        except sessions.SessionsError as err:
            raise RunError("Error", f"invalid step.invoke sessions: {err}") from None
        timeout = op.opts.get("timeout")
        expires = self._deadline(str(timeout or ""), DEFAULT_PAUSE_MS)
        correlation_id = f"{run.id}.{op.id}"
        pause = Pause(
            id=f"{run.id}-{op.id}", run_id=run.id, kind=PauseKind.INVOKE,
            event_name=events.FUNCTION_FINISHED, expires_at_ms=expires,
            after_seq=self.store.last_event_seq(), step_id=op.id,
            correlation_id=correlation_id,
        )
        self.runner.add_pause(pause)
        # Published whatever the target: the runner finds the function, or answers the
        # pause with the error the real server's runner sends.
        data = dict(object_or_empty(payload.get("data"), "payload.data"))
        data[events.INTERNAL_DATA_KEY] = events.invocation_metadata(
            target, source_app_id=fn.app_id, source_fn_id=fn.id, source_fn_v=fn.version,
            correlation_id=correlation_id, expire=expires,
            gid=self.life.history.call_group(), name=op.display_name)
        invoked = {key: payload[key] for key in ("id", "user", "v", "meta") if payload.get(key)}
        invoked.update(name=events.FUNCTION_INVOKED, data=data,
                       ts=payload.get("ts") or self.life.clock.now_ms())
        [event_id] = self.life.publish([invoked])
        self.life.history.invoking(run, op.display_name, pause, target, event_id)

    def _call_gateways(self, outcome: Outcome) -> dict[str, GatewayReply]:
        """Make the HTTP calls that gateway ops describe, before any state changes."""
        if not isinstance(outcome, Ops):
            return {}
        return {op.id: self._call_gateway(op) for op in outcome.ops if op.op in _GATEWAY_OPS}

    def _call_gateway(self, op: Op) -> GatewayReply:
        opts = op.opts
        headers = {_canonical_header(str(k)): str(v)
                   for k, v in object_or_empty(opts.get("headers"), "headers").items()}
        auth_key = opts.get("auth_key")
        if auth_key and opts.get("format") == "anthropic":
            headers.setdefault("X-Api-Key", str(auth_key))
        elif auth_key and opts.get("format") != "gemini":
            headers.setdefault("Authorization", f"Bearer {auth_key}")
        body = opts.get("body")
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        encoded = body.encode("utf-8") if isinstance(body, str) else body
        request = OutboundRequest(str(opts.get("method") or "POST"), str(opts.get("url")),
                                  headers, encoded, READ_TIMEOUT)
        try:
            with self.life.queue.waiting():
                response = self.http.send(request)
        except TransportError as err:
            return GatewayReply(error=error_body("Error", str(err)))
        text = response.body.decode("utf-8", errors="replace")
        if op.op == Opcode.GATEWAY:
            return GatewayReply(value={"status_code": response.status,
                                       "headers": dict(response.headers), "body": text})
        if response.status >= 300:
            message = f"AI request failed with status {response.status}: {text[:1024]}"
            return GatewayReply(error=error_body("Error", message))
        try:
            return GatewayReply(value=load(text))
        except ValueError:
            return GatewayReply(value=text)

    def _gateway(self, op: Op, run: Run, fn: Function, item: QueueItem,
                 reply: GatewayReply) -> QueueItem | None:
        if reply.error is not None:
            return self._gateway_failed(op, run, fn, item, reply.error)
        self.life.step_done(run.id, op.id, {"data": reply.value})
        return None

    def _gateway_failed(self, op: Op, run: Run, fn: Function, item: QueueItem,
                        error: dict[str, JSON]) -> QueueItem | None:
        if item.attempt + 1 < fn.max_attempts:
            return self._retry(item, None, f"gateway step {op.display_name}: {error_text(error)}")
        self.life.step_done(run.id, op.id, {"error": error})
        return None


@dataclasses.dataclass(frozen=True)
class GatewayReply:
    """What a gateway op's HTTP call gave: the step value, or the error to record."""

    value: JSON = None
    error: dict[str, JSON] | None = None


def _inputs(run: Run, memoized: list[str]) -> list[tuple[str, str]]:
    """The new inputs of steps without a result, as the real server sends them."""
    return [(step_id, jcs.canonicalize({"input": value}).decode())
            for step_id, value in run.step_inputs.items() if step_id not in memoized]


def _plan_forced(run: Run, item: QueueItem) -> bool:
    """Whether the call tells the SDK to plan steps rather than run them."""
    return run.force_step_plan or item.payload.get("force_step_plan") is True


class _Context(typing.NamedTuple):
    """A call request's ``ctx``, but ``use_api``."""

    fn_id: str
    run_id: str
    attempt: int
    max_attempts: int
    stack: list[str]
    current: int
    qi_id: int
    request_id: str
    job_id: str
    plan_forced: bool

    def text(self, use_api: bool) -> str:
        """The ctx's canonical JSON, as ``jcs.canonicalize`` writes its dict (keys in JCS
        order, strings encoded as its encoder encodes them), written out: one per call."""
        stack = ",".join(map(_quoted, self.stack))
        return (f'{{"attempt":{self.attempt:d},'
                f'"disable_immediate_execution":{_JSON_BOOLS[self.plan_forced]},"env":"",'
                f'"fn_id":{_quoted(self.fn_id)},"generation_id":0,'
                f'"job_id":{_quoted(self.job_id)},"max_attempts":{self.max_attempts:d},'
                f'"qi_id":"{self.qi_id:d}","request_id":{_quoted(self.request_id)},'
                f'"run_id":{_quoted(self.run_id)},'
                f'"stack":{{"current":{self.current:d},"stack":[{stack}]}},'
                f'"step_id":"step","use_api":{_JSON_BOOLS[use_api]}}}')


_JSON_BOOLS = ("false", "true")
_quoted = json.encoder.encode_basestring


def _body(ctx: _Context, use_api: bool, held: dict[str, JSON], first: str,
          trigger_events: list[str], steps: list[tuple[str, str]], version: int) -> bytes:
    """A request body in canonical JSON (RFC 8785) from the canonical texts of its events
    and step results, as ``jcs.canonicalize`` of the whole would give; ``held`` is the
    run's defers (see defers.entries)."""
    events_text = ",".join(trigger_events)
    held_text = jcs.canonicalize(held).decode() if held else "{}"
    return (f'{{"ctx":{ctx.text(use_api)},"defers":{held_text},"event":{first},'
            f'"events":[{events_text}],"steps":{jcs.object_of_texts(steps)},'
            f'"use_api":{_JSON_BOOLS[use_api]},"version":{version}}}').encode()


def _is_one_of(op: Op, ops: list[Op]) -> bool:
    return any(op is other for other in ops)


def _given_name(op: Op) -> str:
    """The name an SDK gave a step (none for the function's own error)."""
    return str(op.raw.get("displayName") or op.raw.get("name") or "")


def _canonical_header(name: str) -> str:
    """``x-api-key`` as ``X-Api-Key``: the real server's HTTP client sends every header so."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _calls_gateways(outcome: Outcome) -> bool:
    return isinstance(outcome, Ops) and any(op.op in _GATEWAY_OPS for op in outcome.ops)


def default_transport() -> Transport:
    """How the executor reaches apps and gateways over the network: kept connections over
    plain HTTP, urllib3 for HTTPS and redirects."""
    fallback = Urllib3Transport(redirects=MAX_REDIRECTS, connect_timeout=CONNECT_TIMEOUT)
    return KeepAliveTransport(fallback, connect_timeout=CONNECT_TIMEOUT, follow_redirects=True)


@functools.lru_cache(maxsize=1024)  # a function's URL with its step ids, on every call
def with_step_id(url: str, step_id: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
             if k != "stepId"]
    query.append(("stepId", step_id))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(sorted(query))))


def _call_failure(err: CallFailed) -> JSON:
    """The attempt's error for a call the engine's transport failed, as the dev server
    writes a driver's error: under ``error``, named by its system code (else plain)."""
    if err.system_code:
        return wrapped_error(err.system_code, err.message)
    return wrapped_error("Error", err.message, prefixed=False)
