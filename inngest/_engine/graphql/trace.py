"""A run's trace (``run { trace }`` / ``runTrace``), built from its history and step memos.

The tree follows the Inngest dev server: the root span is named after the function's slug;
each step is a child (with one ``Attempt N`` child per try once a step was retried); the
function's own end is a ``function success`` span, or an ``execute`` span with its failed
attempts. Span outputs are read back through ``runTraceSpanOutputByID``.
"""

from __future__ import annotations

import dataclasses
import typing

from inngest._engine.history import NON_RETRIABLE, SIGNAL_RESULT, SIGNAL_WAIT
from inngest._engine.models import JSON, Run, RunStatus
from inngest._engine.payload import to_int
from inngest._engine.timeparse import rfc3339
from inngest._protocol.opcodes import Opcode

Span = dict[str, object]

STEP_OPS: dict[str, str] = {
    Opcode.STEP_RUN: "RUN", Opcode.STEP: "RUN", Opcode.STEP_ERROR: "RUN",
    Opcode.STEP_FAILED: "RUN", Opcode.PLANNED: "RUN", Opcode.SLEEP: "SLEEP",
    Opcode.WAIT_FOR_EVENT: "WAIT_FOR_EVENT", Opcode.INVOKE: "INVOKE",
    Opcode.AI_GATEWAY: "AI_GATEWAY", Opcode.GATEWAY: "RUN",
    Opcode.WAIT_FOR_SIGNAL: "WAIT_FOR_SIGNAL",
}
_WAIT_TYPES = {"StepSleeping": "SLEEP", "StepWaiting": "WAIT_FOR_EVENT",
               "StepInvoking": "INVOKE"}


def wait_op(item: typing.Mapping[str, JSON], ops: typing.Mapping[str, str]) -> str:
    """The step kind of the history item that began a sleep, wait or invoke (``ops``: by
    item type); a wait for a signal is listed as a wait, as on the server."""
    return "WAIT_FOR_SIGNAL" if SIGNAL_WAIT in item else ops[str(item.get("type"))]


def ended_wait(item: typing.Mapping[str, JSON]) -> bool:
    """Whether the item ends a wait, a wait for a signal or an invoke."""
    return "waitResult" in item or "invokeFunctionResult" in item or SIGNAL_RESULT in item


def history_output_id(run_id: str, item_id: str) -> str:
    return f"{run_id}:h:{item_id}"


def step_output_id(run_id: str, step_id: str) -> str:
    return f"{run_id}:{step_id}"


def run_output_id(run_id: str, *, with_input: bool = False) -> str:
    """The run's output; ``with_input``: with the run's events as its input, as only the
    raw trace's root span shows it (measured)."""
    return f"{run_id}:" if with_input else f"{run_id}:{RUN_OUTPUT}"


def raw_invoke_output_id(run_id: str, step_id: str) -> str:
    """An invoke's output in the raw trace: the child's result itself, where the page's
    tree shows it as stored, ``{"data": ...}`` (measured)."""
    return f"{run_id}:{RAW_INVOKE}{step_id}"


RUN_OUTPUT = "o:"
RAW_INVOKE = "r:"


@dataclasses.dataclass
class _Step:
    step_id: str
    name: str
    op: str | None
    queued_ms: int | None = None
    started_ms: int | None = None
    ended_ms: int | None = None
    status: str = "RUNNING"
    attempts: list[Span] = dataclasses.field(default_factory=list)
    # Sleeps and waits have no output of their own in the server's trace.
    has_output: bool = True
    info: Span | None = None
    # Its last attempt failed it for good (a StepFailed op).
    failed_for_good: bool = False


class _Builder:
    def __init__(self, run: Run, history: list[dict[str, JSON]], memos: dict[str, JSON],
                 info: dict[str, tuple[str, str]], max_attempts: int | None) -> None:
        self.run = run
        self.history = history
        self.memos = memos
        self.info = info
        self.max_attempts = max_attempts
        self.steps: dict[str, _Step] = {}
        # Steps in the order the SDK reported them (planned steps may finish in any order).
        self.order: dict[str, int] = {}
        # Failed calls that no step claimed yet: the next step reply owns them.
        self.function_attempts: list[Span] = []
        self.scheduled_ms: int | None = None
        # Each call's (queued, started) times, by its groupID: parallel calls interleave.
        self.calls: dict[str, tuple[int, int]] = {}
        self.final_error = False

    def build(self) -> list[Span]:
        for item in self.history:
            self._read(item)
        self._add_unrecorded_steps()
        ordered = sorted(self.steps.values(), key=lambda step: self.order[step.step_id])
        spans = [self._step_span(step) for step in ordered]
        end = self._function_end() or self._queued_call()
        return spans + ([end] if end else [])

    def _read(self, item: dict[str, JSON]) -> None:
        kind, at = str(item.get("type")), to_int(item.get("createdAt") or 0, "createdAt")
        step_id = item.get("stepID")
        if isinstance(step_id, str):
            self.order.setdefault(step_id, len(self.order))
        if ended_wait(item):
            # A wait or invoke that ended queues the function's next call.
            self.scheduled_ms = at
        if kind in ("StepScheduled", "FunctionStarted"):
            self.scheduled_ms = at
        elif kind == "StepStarted":
            self.calls[str(item.get("groupID"))] = (min(self.scheduled_ms or at, at), at)
        elif kind in _WAIT_TYPES and isinstance(step_id, str):
            step = self._step(step_id, str(item.get("stepName") or ""),
                              wait_op(item, _WAIT_TYPES), self._call(item, at))
            step.has_output = kind != "StepSleeping"
            step.info = step_info(item, None)
            sleep = item.get("sleep")
            until = sleep.get("until") if isinstance(sleep, typing.Mapping) else None
            if isinstance(until, int):
                # The next call is queued when the sleep ends.
                step.ended_ms = self.scheduled_ms = until
        elif kind in ("StepCompleted", "StepErrored", "StepFailed"):
            self._reply(item, kind, step_id if isinstance(step_id, str) else None, at)

    def _call(self, item: dict[str, JSON], at: int) -> tuple[int, int]:
        """When the call ``item`` belongs to was queued and started (a queue time is never
        after its start)."""
        return self.calls.get(str(item.get("groupID")), (at, at))

    def _step(self, step_id: str, name: str, op: str | None,
              times: tuple[int, int]) -> _Step:
        step = self.steps.get(step_id)
        if step is None:
            step = self.steps[step_id] = _Step(step_id, name, op, *times)
        return step

    def _reply(self, item: dict[str, JSON], kind: str, step_id: str | None, at: int) -> None:
        failed = kind != "StepCompleted" or bool(item.get("stepFailed"))
        if step_id is None:
            if failed:
                self.function_attempts.append(self._attempt(item, "FAILED", None, at))
                self.final_error = bool(item.get(NON_RETRIABLE))
            return
        name = self.info.get(step_id, (str(item.get("stepName") or step_id), ""))[0]
        step = self._step(step_id, name, STEP_OPS.get(self.info.get(step_id, ("", ""))[1], "RUN"),
                          self._call(item, at))
        status = "FAILED" if failed else "COMPLETED"
        step.info = step_info(item, step.info)
        for attempt in self.function_attempts:
            attempt["stepOp"] = step.op
        if self.function_attempts and not step.attempts:
            first = self.function_attempts[0]
            step.queued_ms, step.started_ms = _ms(first["queuedAt"]), _ms(first["startedAt"])
        step.attempts += self.function_attempts + [self._attempt(item, status, step, at)]
        self.function_attempts = []
        if kind != "StepErrored":
            step.status, step.ended_ms = status, at
        step.failed_for_good = bool(item.get("stepFailed"))

    def _attempt(self, item: dict[str, JSON], status: str, step: _Step | None,
                 at: int) -> Span:
        number = to_int(item.get("attempt") or 0, "attempt")
        output_id = history_output_id(self.run.id, str(item.get("id")))
        if status == "COMPLETED" and step is not None:
            output_id = step_output_id(self.run.id, step.step_id)
        return {
            **self._base(f"{self.run.id}-{item.get('id')}"), "name": f"Attempt {number}",
            "status": status, "attempts": number, "stepOp": step.op if step else None,
            "stepID": step.step_id if step and status == "COMPLETED" else None,
            "outputID": output_id if item.get("output") or status == "COMPLETED" else None,
            **_times(*self._call(item, at), at),
        }

    def _add_unrecorded_steps(self) -> None:
        """Memos (and pending steps) that no history item describes, e.g. older runs."""
        for step_id in list(self.memos) + list(self.run.pending_steps):
            if step_id in self.steps or step_id in self.run.reused_steps:
                continue
            name, op = self.info.get(step_id, (step_id, ""))
            step = self.steps[step_id] = _Step(step_id, name, STEP_OPS.get(op))
            self.order.setdefault(step_id, len(self.order))
            step.has_output = step_id in self.memos

    def _step_span(self, step: _Step) -> Span:
        done = step.step_id in self.memos or step.status == "FAILED"
        status = self._pending_status()
        if done:
            value = self.memos.get(step.step_id)
            failed = step.status == "FAILED" or (
                isinstance(value, typing.Mapping) and value.get("error") is not None)
            status = "FAILED" if failed else "COMPLETED"
        if step.failed_for_good:
            return self._failed_step_span(step)
        attempts = step.attempts if len(step.attempts) > 1 else []
        span: Span = {
            **self._base(f"{self.run.id}-{step.step_id}"), "name": step.name, "status": status,
            "attempts": len(step.attempts) - 1 if step.attempts else 0, "stepOp": step.op,
            "stepID": None if attempts else step.step_id,
            "outputID": step_output_id(self.run.id, step.step_id)
            if done and step.has_output and step.step_id in self.memos else None,
            "childrenSpans": attempts, "stepInfo": step.info,
            **_times(step.queued_ms, step.started_ms, step.ended_ms if done else None),
        }
        if not done and status == "RUNNING" and step.op == "SLEEP":
            # The sleep of a run that ended (cancelled) without it: the server shows its
            # one attempt, running (measured).
            span["childrenSpans"] = [{**span, "spanID": f"{span['spanID']}-attempt",
                                      "name": "Attempt 0", "stepID": None}]
        return span

    def _failed_step_span(self, step: _Step) -> Span:
        """A step that failed for good, as the server shows a function's own calls: no step
        kind, every attempt named."""
        attempts = [{**attempt, "stepOp": None, "stepID": step.step_id}
                    for attempt in step.attempts]
        group = {
            **self._base(f"{self.run.id}-{step.step_id}"), "name": step.name,
            "status": "FAILED", "stepID": step.step_id, "stepInfo": step.info,
            "outputID": step_output_id(self.run.id, step.step_id)
            if step.step_id in self.memos else None,
            **_times(step.queued_ms, step.started_ms, step.ended_ms),
        }
        return self._attempts_group(group, attempts)

    def _attempts_group(self, group: Span, attempts: list[Span]) -> Span:
        """``group`` with its failed ``attempts``: done when the last was the last allowed
        one (its ``attempts`` are then the allowed ones); else numbered after the last and
        followed by the next, queued."""
        last, number = attempts[-1], len(attempts) - 1
        if self.max_attempts is None or number >= self.max_attempts - 1:
            count = len(attempts) if self.max_attempts is None else self.max_attempts
            return {**group, "attempts": count, "childrenSpans": attempts}
        queued = {
            **self._base(f"{last['spanID']}-queued"), "name": f"Attempt {number + 1}",
            "status": "QUEUED", "attempts": number + 1, "stepOp": last["stepOp"],
            "queuedAt": last["endedAt"], "startedAt": None, "endedAt": None, "duration": 0,
        }
        return {**group, "attempts": number, "childrenSpans": attempts + [queued]}

    def _pending_status(self) -> str:
        return "RUNNING" if self.run.status.ended else "WAITING"

    def _function_end(self) -> Span | None:
        run = self.run
        if run.status is RunStatus.COMPLETED:
            end = self.history[-1] if self.history else {}
            at = to_int(end.get("createdAt") or run.ended_at_ms or 0, "createdAt")
            return {
                **self._base(f"{run.id}-end"), "name": "function success",
                "status": "COMPLETED", "attempts": to_int(end.get("attempt") or 0, "attempt"),
                "outputID": run_output_id(run.id), "childrenSpans": self.function_attempts,
                **_times(*self._call(end, at), at),
            }
        if run.status is RunStatus.FAILED and self.function_attempts:
            attempts = self.function_attempts
            # A call that failed for good is the function's error; retries exhausted, its
            # execution.
            name = "function error" if self.final_error else "execute"
            return self._attempts_group({
                **self._base(f"{run.id}-execute"), "name": name, "status": "FAILED",
                "outputID": run_output_id(run.id),
                **_times(attempts[0]["queuedAt"], attempts[0]["startedAt"],
                         attempts[-1]["endedAt"]),
            }, attempts)
        return None

    def _queued_call(self) -> Span | None:
        """A live run waiting in the queue for its next call (not for a step)."""
        run, last = self.run, self.history[-1] if self.history else {}
        if run.status.ended or run.pending_steps or last.get("type") == "StepStarted":
            return None
        return {
            **self._base(f"{run.id}-queued"), "name": "Queued step", "status": "QUEUED",
            "attempts": 0, **_times(last.get("createdAt") or run.created_at_ms, None, None),
        }

    def _base(self, span_id: str) -> Span:
        return {
            "spanID": span_id, "parentSpanID": self.run.id, "isRoot": False,
            "stepOp": None, "stepID": None, "childrenSpans": [], "outputID": None,
            "stepInfo": None,
        }


def step_info(item: typing.Mapping[str, JSON], info: object) -> Span | None:
    """The server's ``stepInfo`` of a sleep, wait or invoke: from the history item that
    began it, completed by the one that ended it (``info`` so far, or None)."""
    return _begun_info(item) or _ended_info(item, info)


def _begun_info(item: typing.Mapping[str, JSON]) -> Span | None:
    sleep, wait, invoke, signal = (item.get(key) for key in (
        "sleep", "waitForEvent", "invokeFunction", SIGNAL_WAIT))
    if isinstance(signal, typing.Mapping):
        return {"__typename": "WaitForSignalStepInfo", "signal": signal.get("signal"),
                "timeout": rfc3339(_ms(signal.get("timeout"))), "timedOut": None}
    if isinstance(sleep, typing.Mapping):
        return {"__typename": "SleepStepInfo", "sleepUntil": rfc3339(_ms(sleep.get("until")))}
    if isinstance(wait, typing.Mapping):
        return {"__typename": "WaitForEventStepInfo", "eventName": wait.get("eventName"),
                "expression": wait.get("expression"),
                "timeout": rfc3339(_ms(wait.get("timeout"))), "foundEventID": None,
                "timedOut": None}
    if isinstance(invoke, typing.Mapping):
        return {"__typename": "InvokeStepInfo", "triggeringEventID": invoke.get("eventID"),
                "functionID": invoke.get("functionID"),
                "timeout": rfc3339(_ms(invoke.get("timeout"))), "returnEventID": None,
                "runID": None, "timedOut": None}
    return None


def _ended_info(item: typing.Mapping[str, JSON], info: object) -> Span | None:
    found, returned = item.get("waitResult"), item.get("invokeFunctionResult")
    signalled = item.get(SIGNAL_RESULT)
    if not isinstance(info, typing.Mapping):
        return None
    if isinstance(signalled, typing.Mapping):
        return {**info, "timedOut": bool(signalled.get("timeout"))}
    if isinstance(found, typing.Mapping):
        return {**info, "foundEventID": found.get("eventID"),
                "timedOut": bool(found.get("timeout"))}
    if isinstance(returned, typing.Mapping):
        return {**info, "returnEventID": returned.get("eventID"), "runID": returned.get("runID"),
                "timedOut": bool(returned.get("timeout"))}
    return dict(info)


def _ms(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _times(queued: object, started: object, ended: object) -> Span:
    start, end = _ms(started), _ms(ended)
    return {
        "queuedAt": _ms(queued), "startedAt": start, "endedAt": end,
        "duration": None if start is None or end is None else max(end - start, 0),
    }


def children(run: Run, history: list[dict[str, JSON]], memos: dict[str, JSON],
             info: dict[str, tuple[str, str]], max_attempts: int | None) -> list[Span]:
    """The root span's children: steps in the order they were reported, then the end;
    ``max_attempts``: the function's (None if unknown)."""
    return _Builder(run, history, memos, info, max_attempts).build()
