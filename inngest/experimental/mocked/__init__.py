"""Run a function in-process without an Inngest server, for unit tests."""

from __future__ import annotations

import dataclasses
import enum
import typing

from inngest import _client, _errors, _event, _execution, _step
from inngest._function import Function
from inngest.experimental.mocked.errors import UnstubbedStepError

_MOCK_EVENT_ID = "00000000000000000000000000"
_DEFAULT_MAX_ATTEMPT = 4


class Inngest(_client.Inngest):
    """A client whose sends succeed without a network, each with a fixed id."""

    def send_sync(
        self,
        events: _event.Event | list[_event.Event],
        *,
        skip_middleware: bool = False,
    ) -> list[str]:
        batch = [events] if isinstance(events, _event.Event) else list(events)
        return [_MOCK_EVENT_ID for _ in batch]


class Status(enum.Enum):
    COMPLETED = "Completed"
    FAILED = "Failed"


class _Timeout:
    """Stub value for a wait_for_event that timed out."""

    def __repr__(self) -> str:
        return "Timeout"


Timeout = _Timeout()


@dataclasses.dataclass(frozen=True)
class Result:
    error: Exception | None
    output: object
    status: Status


def trigger(
    fn: Function[typing.Any],
    event: _event.Event | list[_event.Event],
    client: _client.Inngest,
    *,
    step_stubs: dict[str, object] | None = None,
) -> Result:
    """Run ``fn`` to completion the way the server would, stubbing steps by user id."""
    fn.require_sync()
    events = [event] if isinstance(event, _event.Event) else list(event)
    return _Run(fn, events, client, step_stubs or {}).until_done()


class _Run:
    def __init__(
        self,
        fn: Function[typing.Any],
        events: list[_event.Event],
        client: _client.Inngest,
        stubs: dict[str, object],
    ) -> None:
        self._fn = fn
        self._events = events
        self._client = client
        self._stubs = stubs
        self._max_attempt = _DEFAULT_MAX_ATTEMPT if fn.opts.retries is None else fn.opts.retries
        self._attempt = 0
        self._steps: dict[str, object] = {}
        self._target: str | None = None

    def until_done(self) -> Result:
        while True:
            outcome = self._call()
            if outcome.reports is None:
                if outcome.error is None:
                    return Result(error=None, output=outcome.output, status=Status.COMPLETED)
                failed = self._retry_or_fail(outcome.error)
                if failed is not None:
                    return failed
                continue
            failed = self._apply(outcome.reports)
            if failed is not None:
                return failed

    def _call(self) -> _execution.Outcome:
        request = _execution.ExecutionRequest(
            event=self._events[0],
            events=self._events,
            steps=dict(self._steps),
            use_api=False,
            run_id="test",
            attempt=self._attempt,
            disable_immediate_execution=True,
        )
        return _execution.run(
            client=self._client,
            function=self._fn,
            handler=self._fn.handler,
            request=request,
            target_step_id=self._target,
            raw_request=None,
            job_id=None,
            request_id=None,
        )

    def _retry_or_fail(self, error: Exception) -> Result | None:
        retriable = not isinstance(error, _errors.Error) or error.is_retriable
        if not retriable or self._attempt >= self._max_attempt:
            return Result(error=error, output=None, status=Status.FAILED)
        self._attempt += 1
        return None

    def _apply(self, reports: list[_step.StepReport]) -> Result | None:
        for report in reports:
            if report.error is not None:
                return self._retry_or_fail(report.error)
            if report.display_name in self._stubs:
                self._memoize(report, _stub_memo(self._stubs[report.display_name]))
            elif report.op is _step.Opcode.PLANNED:
                self._target = report.hashed_id
                return None
            elif report.op is _step.Opcode.SLEEP:
                self._memoize(report, None)
            elif report.op is _step.Opcode.STEP_RUN:
                self._memoize(report, report.output)
            else:
                raise UnstubbedStepError(f"step {report.display_name} is not stubbed")
        return None

    def _memoize(self, report: _step.StepReport, value: object) -> None:
        # Stored raw, not wrapped in {"data": ...}, like the official harness.
        self._steps[report.hashed_id] = value
        self._target = None
        self._attempt = 0


def _stub_memo(stub: object) -> object:
    if stub is Timeout:
        return None
    if isinstance(stub, _event.Event):
        return stub.to_dict()
    return stub
