"""A run's history: what happened to it, in order, as ``functionRun { history }`` lists it.

Items are recorded as the run moves (scheduled, started, each SDK call and its reply,
sleeps, waits, invokes, the end) and stored with the run, so a restarted engine still
answers with them. Item types, attempt numbers and fields follow the Inngest server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json.encoder
import re
import threading
import typing
import uuid

from inngest._engine.clock import Clock
from inngest._engine.models import JSON, Pause, PauseKind, QueueItem, Run, RunStatus, StoredEvent
from inngest._engine.payload import (
    dump, dump_escaped, escape_html, go_floats, object_or_empty, shown,
)
from inngest._engine.responses import (
    Complete, Failure, Op, Ops, Outcome, Reply, shown_response_text,
)
from inngest._engine.store import Store
from inngest._engine.ulid import Generator
from inngest._protocol.headers import Header
from inngest._protocol.opcodes import Opcode

Item = dict[str, JSON]
Row = tuple[str, str]
"""An item as the store keeps it: its id and its JSON text."""

# Ops whose reply ends a step, after which the next call is scheduled.
_STEP_OPS = (Opcode.STEP_RUN, Opcode.STEP, Opcode.STEP_ERROR, Opcode.STEP_FAILED, Opcode.PLANNED,
             Opcode.AI_GATEWAY, Opcode.GATEWAY)
# Marks the items of checkpointed steps, which are shown in traces, not in history lists.
CHECKPOINTED = "checkpointed"
# Marks a call that failed for good (a trace names it "function error").
NON_RETRIABLE = "nonRetriable"
# The kind of step.run an SDK ran (its op's ``opts.type``, e.g. "step.sendEvent").
RUN_TYPE = "runType"
# The app's HTTP reply to a call (status and headers), which its span shows.
RESPONSE = "response"
# A wait for a signal (signal, timeout) and how it ended (timeout), which its span shows.
SIGNAL_WAIT = "waitForSignal"
SIGNAL_RESULT = "waitForSignalResult"
_END_TYPES = {
    RunStatus.COMPLETED: "FunctionCompleted", RunStatus.FAILED: "FunctionFailed",
    RunStatus.CANCELLED: "FunctionCancelled",
}


def _row(item: Item) -> Row:
    return str(item["id"]), dump(item)


# A string as ``dump`` writes it; a call's URL, kept (each call writes it twice).
_quoted = json.encoder.encode_basestring
_quoted_url = functools.lru_cache(maxsize=1024)(_quoted)


# A quoted string (left alone), or a reference to the triggering event's fields.
_EVENT_REFERENCE = re.compile(
    r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?<![\w.])event((?:\.[A-Za-z_]\w*)+)""")


def interpolate(expression: str, event: dict[str, JSON]) -> str:
    """The expression with ``event.…`` replaced by the triggering event's values, as the
    server shows a cancellation's expression."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        value: JSON = event
        for name in match.group(1)[1:].split("."):
            if not isinstance(value, typing.Mapping) or name not in value:
                return match.group(0)
            value = value[name]
        return dump(value)

    return _EVENT_REFERENCE.sub(replace, expression)


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def _new_group(*parts: object) -> str:
    """A stable UUID grouping the items of one queue item (its call, retries and reply):
    ``str(uuid.uuid5(uuid.NAMESPACE_URL, name))``, in half the time."""
    name = ":".join(map(str, parts)).encode("utf-8")
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + name).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


# Asked for several times per call (a call's own group is made once: a miss costs more).
_group = functools.lru_cache(maxsize=4096)(_new_group)


@dataclasses.dataclass
class Call:
    """One SDK call in progress: what its reply and the items recorded meanwhile need."""

    run: Run
    item: QueueItem
    started_ms: int
    url: str
    reply: Reply | None = None
    outcome: Outcome | None = None
    retry: QueueItem | None = None
    retry_name: str = "step"
    planned: list[str] = dataclasses.field(default_factory=list)
    deferred: list[Row] = dataclasses.field(default_factory=list)
    # Span metadata the call's span shows (span_metadata.py): its timings, and their text.
    metadata: list[Item] = dataclasses.field(default_factory=list)
    metadata_text: str = ""
    # The items' groupID (made at once: a cached_property takes a lock on each read).
    group: str = dataclasses.field(init=False)
    # The run's output and its text as its end item shows it, when the call ended the run:
    # the reply's item shows that output too.
    ended_output: tuple[JSON, str] | None = None

    def __post_init__(self) -> None:
        self.group = _new_group(self.run.id, self.item.id or self.item.job_id)

    def result_text(self, now_ms: int, *, sdk: bool = True) -> str:
        """``dump(self.result(now_ms, sdk=sdk))``, written out: each reply's item has one."""
        language, version = self._sdk() if sdk else ("", "")
        return (f'{{"durationMS":{max(now_ms - self.started_ms, 0):d},"errorCode":null,'
                f'"framework":null,"platform":null,"sdkLanguage":{_quoted(language)},'
                f'"sdkVersion":{_quoted(version)},'
                f'"sizeBytes":{len(self.reply.body) if self.reply else 0:d}}}')

    def shown_output(self, output: JSON) -> str:
        """``shown(output)``, taken from the end item when that showed this output."""
        ended = self.ended_output
        return ended[1] if ended is not None and ended[0] is output else shown(output)

    def result(self, now_ms: int, *, sdk: bool = True) -> Item:
        language, version = self._sdk() if sdk else ("", "")
        return {
            "durationMS": max(now_ms - self.started_ms, 0), "errorCode": None,
            "framework": None, "platform": None,
            "sdkLanguage": language, "sdkVersion": version,
            "sizeBytes": len(self.reply.body) if self.reply else 0,
        }

    def _sdk(self) -> tuple[str, str]:
        """The replying SDK's language and version, from its ``X-Inngest-SDK`` header."""
        header = self.reply.headers.get(Header.SDK, "") if self.reply else ""
        language, _, version = header.partition(":")
        return language.removeprefix("inngest-"), version


class _CallScope:
    """``History.call``'s context manager (a class: entered on every SDK call, and a
    generator-based one costs several times more)."""

    def __init__(self, history: History, call: Call) -> None:
        self._history = history
        self._call = call

    def __enter__(self) -> Call:
        return self._call

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._history._call_ended(self._call, failed=kind is not None)


class _Local(threading.local):
    """What this thread is recording: the SDK call it handles, the cancel it applies."""

    call: Call | None = None
    cancel: Item | None = None


class History:
    """Records history items; executor, runner and lifecycle call it at each transition."""

    def __init__(self, store: Store, clock: Clock, ids: Generator) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self._local = _Local()

    def _current(self) -> Call | None:
        return self._local.call

    def call_group(self) -> str:
        """The groupID of the SDK call being handled (its items share it), or ""."""
        call = self._current()
        return call.group if call is not None else ""

    def _record(self, run: Run, kind: str, **fields: JSON) -> None:
        now = self.clock.now_ms()
        item_id = self.ids.new(now)
        if fields:
            row = _row({"id": item_id, "type": kind, "attempt": 0, "createdAt": now,
                        "functionVersion": run.function_version, "groupID": _group(run.id),
                        "output": "", **fields})
        else:  # written out (a StepScheduled after most calls): nothing here needs escaping
            row = item_id, (
                f'{{"id":"{item_id}","type":"{kind}","attempt":0,"createdAt":{now:d},'
                f'"functionVersion":{run.function_version:d},"groupID":"{_group(run.id)}",'
                f'"output":""}}')
        call = self._current()
        if call is not None and call.run.id == run.id:
            call.deferred.append(row)
        else:
            self.store.add_history(run.id, *row)

    def _write(self, run: Run, rows: list[Row]) -> None:
        if rows:
            self.store.add_history_items(run.id, rows)

    # The run

    def scheduled(self, run: Run) -> None:
        self._record(run, "FunctionScheduled")

    def started(self, run: Run) -> None:
        self._record(run, "FunctionStarted")

    def finished(self, run: Run) -> None:
        kind = _END_TYPES.get(run.status)
        if kind is None:
            return
        call = self._current()
        fields: dict[str, JSON] = {}
        if run.status is RunStatus.CANCELLED:
            fields["cancel"] = self._cancel_cause(run)
            fields["groupID"] = str(uuid.uuid4())
        else:
            output = run.listed_output() if run.has_output else ""
            if call is not None and call.run.id == run.id:
                if run.has_output:
                    call.ended_output = run.output, output
                call.deferred.append(self._ended_row(run, call, kind, output))
                return
            fields["output"] = output
            if call is not None:
                fields.update(attempt=call.item.attempt, groupID=call.group,
                              result=call.result(self.clock.now_ms(), sdk=False))
        self._record(run, kind, **fields)

    def _ended_row(self, run: Run, call: Call, kind: str, output: str) -> Row:
        """The item of a run that ended on its SDK call, written out as ``_record`` would
        store it (each run has one; the dict and its encoding cost several times more)."""
        now = self.clock.now_ms()
        item_id = self.ids.new(now)
        return item_id, (
            f'{{"id":"{item_id}","type":"{kind}","attempt":{call.item.attempt:d},'
            f'"createdAt":{now:d},"functionVersion":{run.function_version:d},'
            f'"groupID":"{call.group}","output":{_quoted(output)},'
            f'"result":{call.result_text(now, sdk=False)}}}')

    def _cancel_cause(self, run: Run) -> Item:
        cause: Item = self._local.cancel or {}
        expression = cause.get("expression")
        if isinstance(expression, str) and run.event_ids:
            trigger = self.store.event(run.event_ids[0])
            expression = interpolate(expression, trigger.event if trigger else {})
        return {"eventID": cause.get("eventID"), "expression": expression, "userID": None}

    @contextlib.contextmanager
    def cancelling(self, event_id: str, expression: str | None) -> typing.Iterator[None]:
        """Runs cancelled inside the block were cancelled by this event (and expression)."""
        self._local.cancel = {"eventID": event_id, "expression": expression, "userID": None}
        try:
            yield
        finally:
            self._local.cancel = None

    # SDK calls

    def call(self, run: Run, item: QueueItem, url: str,
             start: typing.Callable[[], Run] | None = None) -> typing.ContextManager[Call]:
        """Around one SDK call: StepStarted now, then ``replied`` once the reply is acted on.

        ``start`` marks the run started (on its first call): that and the StepStarted commit
        together. Items recorded in between (sleeps, waits, the run's end) are held back so
        that they follow the reply's own item.
        """
        if start is None:
            call = self._step_started(run, item, url)
        else:
            with self.store.transaction():
                call = self._step_started(start(), item, url)
        self._local.call = call
        return _CallScope(self, call)

    def _call_ended(self, call: Call, *, failed: bool) -> None:
        self._local.call = None
        if not failed:
            self._write(call.run, call.deferred)

    def _step_started(self, run: Run, item: QueueItem, url: str) -> Call:
        call = Call(run, item, self.clock.now_ms(), url)
        current = self._current()
        if current is not None and current.run.id == run.id:
            self._record(run, "StepStarted", attempt=item.attempt, groupID=call.group, url=url,
                         stepName="step")
        else:
            self.store.add_history(run.id, *self._started_row(call))
        return call

    def _started_row(self, call: Call) -> Row:
        """The call's StepStarted item, written out as ``_record`` would store it: one per
        SDK call, and its dict and encoding cost several times more. The ids, times and
        numbers need no escaping."""
        now = self.clock.now_ms()
        item_id = self.ids.new(now)
        return item_id, (
            f'{{"id":"{item_id}","type":"StepStarted","attempt":{call.item.attempt:d},'
            f'"createdAt":{now:d},"functionVersion":{call.run.function_version:d},'
            f'"groupID":"{call.group}","output":"","url":{_quoted_url(call.url)},'
            f'"stepName":"step"}}')

    def replied(self, call: Call, retry: QueueItem | None) -> None:
        """The reply was acted on (``retry`` is the item to try again, if any): record it."""
        call.retry = retry
        reply = self._reply_row(call)
        self._schedule_next(call)  # held back with the rest, so that all go in one write
        self._local.call = None
        rows, call.deferred = [reply, *call.deferred], []
        self._write(call.run, rows)

    def _reply_row(self, call: Call) -> Row:
        """The reply's item (a StepCompleted, unless the call failed)."""
        now = self.clock.now_ms()
        item_id = self.ids.new(now)
        # Written from parts, as dump would write the item: its fields but those its outcome
        # sets, the call's metadata and the reply's headers come as texts (CallMetadata.text,
        # shown_response_text), then the fields the item did not have.
        named = {"type": "StepCompleted", "stepName": "step", "output": ""}
        tail: Item = {}
        for key, value in self._outcome_fields(call).items():
            if key in named:
                named[key] = str(value)  # a type, a name, an output's text: strings all
            else:
                tail[key] = value
        parts = [
            f'{{"id":"{item_id}","type":{_quoted(named["type"])},'
            f'"attempt":{call.item.attempt:d},"createdAt":{now:d},'
            f'"functionVersion":{call.run.function_version:d},"groupID":"{call.group}",'
            f'"stepName":{_quoted(named["stepName"])},"url":{_quoted_url(call.url)},'
            f'"result":{call.result_text(now)},"output":{_quoted(named["output"])}']
        if call.metadata_text:
            parts.append(f',"metadata":{call.metadata_text}')
        if call.reply is not None:
            parts.append(f',"{RESPONSE}":{shown_response_text(call.reply)}')
        parts.append("," + dump(tail)[1:] if tail else "}")
        return item_id, "".join(parts)

    def _outcome_fields(self, call: Call) -> Item:
        """The reply item's fields that depend on what the call came to."""
        outcome = call.outcome
        if isinstance(outcome, Complete):
            return {"output": call.shown_output(outcome.output)}
        if isinstance(outcome, Failure):
            fields: Item = {"type": self._failed_type(call), "output": shown(outcome.output)}
            if not outcome.retriable:
                fields[NON_RETRIABLE] = True
            return fields
        if isinstance(outcome, Ops):
            return self._ops_fields(call, outcome)
        return {}

    def _failed_type(self, call: Call) -> str:
        return "StepErrored" if call.retry is not None else "StepFailed"

    def _ops_fields(self, call: Call, outcome: Ops) -> Item:
        ops = [op for op in outcome.ops if op.op != "None"]
        errors = [op for op in ops if op.op in (Opcode.STEP_ERROR, Opcode.STEP_FAILED)]
        if errors:
            return self._step_error_fields(call, errors[0])
        if len(ops) == 1 and ops[0].op in (Opcode.STEP_RUN, Opcode.STEP):
            op = ops[0]
            # The value the step saved, as dump_escaped writes it.
            fields: Item = {"stepName": op.display_name, "stepType": "Run", "stepID": op.id,
                            "output": escape_html(go_floats(op.stored_text))}
            if isinstance(op.opts.get("type"), str):
                fields[RUN_TYPE] = op.opts["type"]
            return fields
        if len(ops) == 1 and ops[0].op in (Opcode.RUN_COMPLETE, Opcode.SYNC_RUN_COMPLETE):
            return {"output": dump_escaped(ops[0].data)}
        return {}

    def _step_error_fields(self, call: Call, error: Op) -> Item:
        """A step's error names the step, as does its retry. Its last attempt is listed by
        the server as a StepCompleted of "step" (``stepFailed`` keeps the failure for the
        trace)."""
        fields: Item = {"output": dump_escaped(error.error), "stepID": error.id}
        if call.retry is None:
            return {**fields, "type": "StepCompleted", "stepFailed": True}
        call.retry_name = error.display_name
        return {**fields, "type": "StepErrored", "stepName": error.display_name}

    def _schedule_next(self, call: Call) -> None:
        if call.retry is not None:
            self._record(call.run, "StepScheduled", attempt=call.retry.attempt,
                         groupID=call.group, stepName=call.retry_name)
            return
        outcome = call.outcome
        if not isinstance(outcome, Ops):
            return
        run = self.store.run(call.run.id)
        if run is None or run.status.ended:
            return
        # A plan for a step already queued or running is dropped, and not listed again.
        planned = [op for op in outcome.ops if op.op == Opcode.PLANNED and op.id in call.planned]
        for op in planned:
            self._record(run, "StepScheduled", stepName=op.display_name, stepID=op.id)
        if not planned and any(op.op in _STEP_OPS and op.op != Opcode.PLANNED
                               for op in outcome.ops):
            self._record(run, "StepScheduled")

    def retry_scheduled(self, run: Run, attempt: int, name: str) -> None:
        """A durable endpoint's step error is retried by calling the endpoint again."""
        self._record(run, "StepScheduled", attempt=attempt, stepName=name)

    def endpoint_planned(self, run: Run, step_id: str, name: str) -> None:
        """A durable endpoint's parallel step, planned in its request, is scheduled."""
        self._record(run, "StepScheduled", stepName=name, stepID=step_id)

    def endpoint_step_failed(self, run: Run, step_id: str, name: str, error: JSON) -> None:
        """A durable endpoint's step failed for good in its request: a failed step in the
        trace, left out of the history list, then the call that goes on is scheduled."""
        self.checkpointed(run, step_id, name, {"error": error}, failed=True)
        self._record(run, "StepScheduled")

    def planned(self, run: Run, step_id: str) -> None:
        """A planned step was queued by the current call (its StepScheduled follows the
        reply)."""
        call = self._current()
        if call is not None and call.run.id == run.id:
            call.planned.append(step_id)

    def checkpointed(self, run: Run, step_id: str, name: str, value: JSON,
                     failed: bool = False) -> None:
        """A step an SDK checkpointed while its call goes on: a completed (or ``failed``)
        step in the trace, which the history list leaves out (as the server's does)."""
        item: Item = {
            "id": self.ids.new(self.clock.now_ms()), "type": "StepCompleted", "attempt": 0,
            "createdAt": self.clock.now_ms(), "functionVersion": run.function_version,
            "groupID": _group(run.id, "checkpoint", step_id), "stepName": name,
            "stepType": "Run", "stepID": step_id, "output": dump_escaped(value),
            CHECKPOINTED: True,
        }
        if failed:
            item["stepFailed"] = True
        self.store.add_history(run.id, *_row(item))

    # Steps that wait

    def sleeping(self, run: Run, name: str, step_id: str, until_ms: int) -> None:
        self._record(run, "StepSleeping", stepName=name, stepID=step_id,
                     sleep={"until": until_ms}, **self._call_fields())

    def waiting(self, run: Run, name: str, pause: Pause) -> None:
        self._record(run, "StepWaiting", stepName=name, stepID=pause.step_id,
                     waitForEvent={"eventName": pause.event_name,
                                   "expression": pause.expression,
                                   "timeout": pause.expires_at_ms},
                     **self._call_fields())

    def waiting_for_signal(self, run: Run, name: str, pause: Pause) -> None:
        """A step waits for a signal: listed as a wait (``StepWaiting``), as the server does,
        with what its span shows."""
        wait: dict[str, JSON] = {SIGNAL_WAIT: {"signal": pause.event_name,
                                               "timeout": pause.expires_at_ms}}
        self._record(run, "StepWaiting", stepName=name, stepID=pause.step_id, **wait,
                     **self._call_fields())

    def invoking(self, run: Run, name: str, pause: Pause, function_id: str,
                 event_id: str | None) -> None:
        self._record(run, "StepInvoking", stepName=name, stepID=pause.step_id,
                     invokeFunction={"eventID": event_id, "functionID": function_id,
                                     "correlationID": pause.correlation_id,
                                     "timeout": pause.expires_at_ms},
                     **self._call_fields())

    def _call_fields(self) -> dict[str, JSON]:
        """The fields a step that waits takes from the call that started it: its span shows
        that call's metadata."""
        call = self._current()
        if call is None:
            return {}
        fields: dict[str, JSON] = {"attempt": call.item.attempt, "groupID": call.group}
        if call.metadata:
            fields["metadata"] = list(call.metadata)
        return fields

    def resumed(self, pause: Pause, stored: StoredEvent | None, value: JSON, *,
                signalled: bool = False) -> None:
        """A wait or invoke ended: by a matching event (or, ``signalled``, its signal), or
        (``stored`` None) by timing out."""
        run = self.store.run(pause.run_id)
        if run is None or run.status.ended:
            return
        event_id = stored.internal_id if stored else None
        group = _group(run.id, pause.id)
        name = self.store.step_info(run.id).get(pause.step_id, ("", ""))[0] or None
        # The server names a wait's or an invoke's step only when an event ended it.
        if stored is None and not signalled:
            name = None
        if pause.kind is PauseKind.SIGNAL:
            self._record(run, "StepCompleted", groupID=group, stepName=name,
                         stepID=pause.step_id, **{SIGNAL_RESULT: {"timeout": not signalled}})
            return
        if pause.kind is PauseKind.WAIT:
            self._record(run, "StepCompleted", groupID=group, stepName=name,
                         stepID=pause.step_id,
                         waitResult={"eventID": event_id, "timeout": stored is None})
            return
        failed = isinstance(value, typing.Mapping) and value.get("error") is not None
        output = value.get("error" if failed else "data") \
            if isinstance(value, typing.Mapping) else value
        data = object_or_empty(stored.event.get("data"), "data") if stored else {}
        self._record(
            run, "StepFailed" if failed else "StepCompleted", groupID=group, stepName=name,
            stepID=pause.step_id,
            invokeFunctionResult={"eventID": event_id, "timeout": stored is None,
                                  "runID": data.get("run_id")},
            result={"durationMS": 0, "errorCode": None, "framework": None, "platform": None,
                    "sdkLanguage": "", "sdkVersion": "", "sizeBytes": 0},
            output=dump_escaped(output),
        )
