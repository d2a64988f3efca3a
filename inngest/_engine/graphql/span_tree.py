"""The raw span tree ``runTrace`` answers, as the Inngest server stores it.

Where ``run { trace }`` (trace.py) shows one span per step, the server's raw tree has, under a
root named ``Run``: per step, a span for the step (with ``Attempt N`` children once an attempt
failed or there were several) and one span per attempt of it; one span per sleep, wait or
invoke; and for the function's own calls (those not running a step) a ``Finalization`` span
with their attempts, then one ``executor.nonstep`` span per call. Tools reading ``runTrace``
see that shape, so it is built from the run's history here.
"""

from __future__ import annotations

import dataclasses
import typing

from inngest._engine.history import CHECKPOINTED, RESPONSE, RUN_TYPE, SIGNAL_RESULT
from inngest._engine.models import JSON, Run, RunStatus
from inngest._engine.otel import traceref
from inngest._engine.otel.tree import Userland
from inngest._engine.payload import to_int
from inngest._engine.graphql.trace import (
    Span, ended_wait, history_output_id, raw_invoke_output_id, run_output_id, step_info,
    step_output_id, wait_op,
)

_WAIT_OPS = {"StepSleeping": "SLEEP", "StepWaiting": "WAIT_FOR_EVENT",
             "StepInvoking": "INVOKE"}
_RUN_END = {RunStatus.COMPLETED: "COMPLETED", RunStatus.FAILED: "FAILED"}
_RUN_INFO: Span = {"__typename": "RunStepInfo", "type": None}


@dataclasses.dataclass
class _Group:
    """A step's span: its attempts, in order."""

    step_id: str
    name: str
    op: str
    span: Span
    attempts: list[Span] = dataclasses.field(default_factory=list)
    # The userland spans of each attempt's call.
    userland: list[list[Span]] = dataclasses.field(default_factory=list)
    # Each attempt's call: its metadata (timings) and the app's response.
    calls: list[_Call] = dataclasses.field(default_factory=list)
    # Whether an attempt was checkpointed (the step's span stands for it).
    checkpointed: bool = False


class _Builder:
    def __init__(self, run: Run, history: list[dict[str, JSON]], memos: dict[str, JSON],
                 info: dict[str, tuple[str, str]], userland: Userland) -> None:
        self.run = run
        self.history = history
        self.memos = memos
        self.info = info
        self.userland = userland
        self.spans: list[Span] = []
        self.groups: dict[str, _Group] = {}
        self.waits: dict[str, Span] = {}
        # Results recorded before their wait's span: an invoke its target refused at once.
        self.early_results: dict[str, tuple[dict[str, JSON], int]] = {}
        self.function_attempts: list[Span] = []
        self.function_calls: list[_Call] = []
        self.finalization: int | None = None
        # When each call started, by its groupID: parallel calls interleave.
        self.started: dict[str, int] = {}
        # The calls whose reply ended the run: their reply is the function's result.
        self.ending_calls = {item.get("groupID") for item in history
                             if item.get("type") in ("FunctionCompleted", "FunctionFailed")}

    def build(self) -> list[Span]:
        for item in self.history:
            self._read(item)
        for group in self.groups.values():
            self._close_group(group)
        end = _RUN_END.get(self.run.status)
        if end is not None and self.function_attempts:
            self._insert_finalization(end)
        _type_steps(self.spans)
        return self.spans

    def _read(self, item: dict[str, JSON]) -> None:
        kind, at = str(item.get("type")), to_int(item.get("createdAt") or 0, "createdAt")
        step_id, name = item.get("stepID"), str(item.get("stepName") or "")
        if kind == "StepStarted":
            self.started[str(item.get("groupID"))] = at
        elif kind == "StepScheduled" and isinstance(step_id, str):
            self._group(step_id, name, at)
        elif kind in _WAIT_OPS and isinstance(step_id, str):
            self.waits[step_id] = self._wait_span(step_id, name, wait_op(item, _WAIT_OPS), at)
            self.waits[step_id].update(stepInfo=step_info(item, None), metadata=_metadata(item))
            sleep = item.get("sleep")
            until = sleep.get("until") if isinstance(sleep, typing.Mapping) else None
            if isinstance(until, int):
                self._end_wait(self.waits[step_id], until)
            self.spans.append(self.waits[step_id])
            early = self.early_results.pop(step_id, None)
            if early is not None:
                self._wait_result(self.waits[step_id], *early)
        elif ended_wait(item):
            wait = self.waits.get(str(step_id))
            if wait is None:
                self.early_results[str(step_id)] = (item, at)
            else:
                self._wait_result(wait, item, at)
        elif kind in ("StepCompleted", "StepErrored", "StepFailed"):
            self._reply(item, kind, step_id if isinstance(step_id, str) else None, at)

    def _reply(self, item: dict[str, JSON], kind: str, step_id: str | None, at: int) -> None:
        failed = kind != "StepCompleted" or bool(item.get("stepFailed"))
        status = "FAILED" if failed else "COMPLETED"
        if step_id is not None and (item.get("stepType") == "Run" or failed):
            # A step's last attempt is listed as "step": the span has the step's own name.
            name = self.info.get(step_id, ("", ""))[0] or str(item.get("stepName") or "")
            group = self._group(step_id, name, at)
            # The server gives a step's last, failing attempt no step kind.
            op = None if item.get("stepFailed") else group.op
            attempt = self._span(group.name, status, op, item, at, step_id)
            attempt["stepID"] = step_id
            run_type = item.get(RUN_TYPE)
            if isinstance(run_type, str) and op:
                attempt.update(stepType=run_type,
                               stepInfo={**_RUN_INFO, "type": run_type})
                group.span["stepInfo"] = attempt["stepInfo"]
            group.attempts.append(attempt)
            group.userland.append(self.userland.of_call(traceref.call_span_id(
                str(item.get("groupID")), to_int(item.get("attempt") or 0, "attempt"))))
            group.calls.append(_call(item))
            # A checkpointed step ran within a call the server did not time: one span.
            if item.get(CHECKPOINTED):
                group.checkpointed = True
            else:
                self.spans.append(attempt)
        elif step_id is None and (failed or item.get("groupID") in self.ending_calls):
            self.function_attempts.append(
                self._span("executor.nonstep", status, None, item, at, ""))
            self.function_calls.append(_call(item))
            self.spans.append(self.function_attempts[-1])

    def _started(self, item: dict[str, JSON]) -> int | None:
        return self.started.get(str(item.get("groupID")))

    def _group(self, step_id: str, name: str, at: int) -> _Group:
        """A step's span, queued at ``at``; it starts with its first attempt."""
        group = self.groups.get(step_id)
        if group is None:
            span = self._base(f"{self.run.id}-{step_id}", name, "RUNNING", "RUN")
            span.update(stepID=step_id, queuedAt=at, startedAt=at, stepInfo=_RUN_INFO)
            group = self.groups[step_id] = _Group(step_id, name, "RUN", span)
            self.spans.append(span)
        return group

    def _close_group(self, group: _Group) -> None:
        if not group.attempts:
            group.span.update(status="QUEUED", startedAt=None)
            return
        first, last = group.attempts[0], group.attempts[-1]
        if len(group.attempts) == 1 and first["stepOp"] is None:
            self._failed_at_once(group)
            return
        group.span.update(status=last["status"], startedAt=first["startedAt"],
                          queuedAt=_earliest(group.span["queuedAt"], first["startedAt"]),
                          endedAt=last["endedAt"],
                          attempts=len(group.attempts) - 1,
                          outputID=step_output_id(self.run.id, group.step_id)
                          if group.step_id in self.memos else None)
        if group.checkpointed:  # timed as the dev server times a checkpointed step
            group.span["duration"] = _duration(group.span)
        _with_calls(group.span, group.attempts, group.calls, group.userland)

    def _failed_at_once(self, group: _Group) -> None:
        """A step whose only attempt failed it for good: the server shows that attempt
        alone, named after the step, without its call's metadata and response (measured;
        the call that fails the function shows them, on its Finalization span)."""
        attempt = group.attempts[0]
        attempt.update(name=group.name, childrenSpans=group.userland[0],
                       queuedAt=_earliest(group.span["queuedAt"], attempt["startedAt"]))
        if any(span is attempt for span in self.spans):
            self.spans = [span for span in self.spans if span is not group.span]
        else:  # a checkpointed step (a durable endpoint's): its attempt takes its place
            self.spans = [attempt if span is group.span else span for span in self.spans]

    def _wait_span(self, step_id: str, name: str, op: str, at: int) -> Span:
        status = "WAITING"
        if step_id in self.memos:
            value = self.memos[step_id]
            failed = isinstance(value, typing.Mapping) and value.get("error") is not None
            status = "FAILED" if failed else "COMPLETED"
        span = self._base(f"{self.run.id}-{step_id}", name, status, op)
        span.update(stepID=step_id, queuedAt=at, startedAt=at)
        if status != "WAITING" and op == "INVOKE":
            span["outputID"] = raw_invoke_output_id(self.run.id, step_id)
        elif status != "WAITING" and op != "SLEEP":
            span["outputID"] = step_output_id(self.run.id, step_id)
        return span

    def _wait_result(self, wait: Span, item: dict[str, JSON], at: int) -> None:
        wait["stepInfo"] = step_info(item, wait["stepInfo"])
        self._end_wait(wait, at)
        result = item.get("waitResult") or item.get(SIGNAL_RESULT)
        # A wait (for an event or a signal) that timed out found nothing to show.
        if isinstance(result, typing.Mapping) and result.get("timeout"):
            wait["outputID"] = None

    @staticmethod
    def _end_wait(wait: Span, at: int) -> None:
        """A sleep, wait or invoke that is over ended at ``at``."""
        if wait["status"] != "WAITING":
            wait["endedAt"] = at
            wait["duration"] = _duration(wait)

    def _span(self, name: str, status: str, op: str | None, item: dict[str, JSON],
              at: int, step_id: str) -> Span:
        """One call's span; ``step_id`` is the step it ran ("" for the function itself)."""
        span = self._base(f"{self.run.id}-{item.get('id')}", name, status, op)
        started = self._started(item) or at
        span.update(attempts=to_int(item.get("attempt") or 0, "attempt"),
                    queuedAt=started, startedAt=started, endedAt=at,
                    stepInfo=_RUN_INFO if op else None)
        # A failed call's output is its error as recorded; a completed one's is the result.
        if status == "FAILED" and item.get("output"):
            span["outputID"] = history_output_id(self.run.id, str(item.get("id")))
        elif status == "COMPLETED" and step_id and step_id in self.memos:
            span["outputID"] = step_output_id(self.run.id, step_id)
        elif status == "COMPLETED" and not step_id and self.run.has_output:
            span["outputID"] = run_output_id(self.run.id)
        span["duration"] = _duration(span)
        return span

    def _insert_finalization(self, status: str) -> None:
        first = self.function_attempts[0]
        span = self._base(f"{self.run.id}-finalization", "Finalization", status, None)
        span.update(attempts=len(self.function_attempts) - 1,
                    queuedAt=first["queuedAt"], startedAt=first["startedAt"],
                    endedAt=self.run.ended_at_ms, stepType="FINALIZATION")
        _with_calls(span, self.function_attempts, self.function_calls)
        self.spans.insert(self.spans.index(first), span)

    def _base(self, span_id: str, name: str, status: str, op: str | None) -> Span:
        return {
            "spanID": span_id, "parentSpanID": self.run.id, "isRoot": False, "name": name,
            "status": status, "attempts": 0, "stepOp": op, "stepID": None,
            "childrenSpans": [], "outputID": None, "queuedAt": None, "startedAt": None,
            "endedAt": None, "duration": None, "stepInfo": None, "stepType": "",
        }


def _with_calls(span: Span, attempts: list[Span], calls: list[_Call],
                userland: list[list[Span]] | None = None) -> None:
    """A step's (or the function's) ``Attempt N`` children, shown once an attempt failed or
    there were several. As on the dev server, each call's metadata and response and the
    spans the app traced in it (``userland``) are on its attempt's child, or on the span
    itself when it has none."""
    traced = userland or [[] for _ in attempts]
    if len(attempts) < 2 and all(attempt["status"] != "FAILED" for attempt in attempts):
        span.update(childrenSpans=traced[0], metadata=calls[0].metadata,
                    response=calls[0].response)
        return
    span["childrenSpans"] = [
        {**attempt, "spanID": f"{attempt['spanID']}-attempt",
         "name": f"Attempt {attempt['attempts']}", "metadata": call.metadata,
         "response": call.response, "childrenSpans": spans}
        for attempt, call, spans in zip(attempts, calls, traced)]


class _Call(typing.NamedTuple):
    """What a span shows of one call to the app: its metadata (span_metadata.py) and the
    app's response (status and headers)."""

    metadata: list[JSON]
    response: JSON


def _call(item: dict[str, JSON]) -> _Call:
    return _Call(_metadata(item), item.get(RESPONSE))


def _metadata(item: dict[str, JSON]) -> list[JSON]:
    """The metadata of the call an item records (span_metadata.py)."""
    found = item.get("metadata")
    return list(found) if isinstance(found, list) else []


def root_response(run: Run, history: list[dict[str, JSON]]) -> JSON:
    """The run's span's ``response``: that of the call whose reply ended the run; a
    cancelled run's is status 0 and no headers (measured)."""
    if run.status is RunStatus.CANCELLED:
        return {"statusCode": 0, "headers": {}}
    ending = {item.get("groupID") for item in history
              if item.get("type") in ("FunctionCompleted", "FunctionFailed")}
    replies = [item for item in history if item.get("groupID") in ending
               and item.get("type") in ("StepCompleted", "StepErrored", "StepFailed")]
    return replies[-1].get(RESPONSE) if replies else None


def _type_steps(spans: list[Span]) -> None:
    """The server types a span with the kind of step.run an SDK ran, else its step kind,
    if it has one (not a step's last, failing attempt)."""
    for span in spans:
        if span["stepOp"] and not span.get("isUserland") and not span.get("stepType"):
            span["stepType"] = span["stepOp"]
        _type_steps(typing.cast(list[Span], span["childrenSpans"]))


def _earliest(queued: object, started: object) -> object:
    """A queue time is never after the start it led to."""
    if isinstance(queued, int) and isinstance(started, int):
        return min(queued, started)
    return queued


def _duration(span: Span) -> int | None:
    start, end = span.get("startedAt"), span.get("endedAt")
    return max(end - start, 0) if isinstance(start, int) and isinstance(end, int) else None


def children(run: Run, history: list[dict[str, JSON]], memos: dict[str, JSON],
             info: dict[str, tuple[str, str]], userland: Userland) -> list[Span]:
    """The raw root span's children, in the order they started, with the spans the app
    traced (``userland``) under the step attempts they were traced in; ``info`` names the
    steps."""
    return _Builder(run, history, memos, info, userland).build()
