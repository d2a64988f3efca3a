"""Test durable functions end to end, in one process, on a virtual clock.

``TestEngine`` runs the embedded engine (in-memory store, the real queue, executor and flow
control) and serves your app to it in-process: no sockets, no real waiting. While a test
waits for a run, the clock jumps to the next timer whenever nothing is runnable, so a
function that sleeps for a week runs in milliseconds. See docs/testing.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import threading
import time
import typing
import urllib.parse

from inngest import _errors, _transport
from inngest._client import Inngest
from inngest._engine.http.api import Api
from inngest._engine.clock import ManualClock
from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.lifecycle import error_object
from inngest._engine.models import Run, RunStatus
from inngest._engine.store import Store
from inngest._event import Event
from inngest._function import Function
from inngest._handler import CommHandler
from inngest._loopback import LoopbackTransport, api_endpoint, app_endpoint
from inngest._protocol.headers import Header
from inngest._types import JSON

_AnyFunction = Function[typing.Any]

__all__ = [
    "Call", "RunResult", "RunStatus", "StepRecord", "TestEngine", "TestEngineError",
]

ENGINE_ORIGIN = "http://engine.inngest.test"
APP_URL = "http://app.inngest.test/api/inngest"
DEFAULT_WAIT_SECONDS = 30.0
_SLICE_SECONDS = 0.05


class TestEngineError(_errors.Error):
    """The test engine could not do what the test asked (a run never ends, sync failed...)."""

    __test__ = False  # not a pytest test class, despite the name
    code = "test_engine_error"


@dataclasses.dataclass(frozen=True)
class StepRecord:
    """A step's memoized result. ``value`` is ``{"data": ...}`` or ``{"error": ...}`` for
    step runs, the matched event for ``wait_for_event`` (None on timeout), None for sleeps."""

    id: str
    name: str
    op: str
    value: JSON


@dataclasses.dataclass(frozen=True)
class Call:
    """One HTTP call the engine made to the app for a run."""

    at: datetime.datetime
    step_id: str
    status: int | None
    # The opcodes the app answered with (empty for a final result or an error).
    ops: tuple[str, ...] = ()
    # Set when ``fail_next_call``/``drop_next_call``/``delay_next_call`` changed this call.
    fault: str | None = None


@dataclasses.dataclass(frozen=True)
class RunResult:
    id: str
    function_id: str
    status: RunStatus
    output: JSON
    error: dict[str, JSON] | None
    # Why flow control skipped or cancelled the run, e.g. "CancelEvent", "RateLimited".
    reason: str | None
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    steps: tuple[StepRecord, ...]
    history: tuple[Call, ...]

    def step(self, name: str) -> StepRecord:
        """The step with this name (or id)."""
        for record in self.steps:
            if name in (record.name, record.id):
                return record
        raise TestEngineError(f"run {self.id} has no step named {name!r}")


@dataclasses.dataclass
class _Fault:
    function_id: str
    kind: str
    times: int
    status: int = 500
    delay: datetime.timedelta = datetime.timedelta()


class _FrozenTime:
    """Returned by ``freeze_time``: time stays frozen until the ``with`` block ends."""

    def __init__(self, engine: TestEngine) -> None:
        self._engine = engine

    def __enter__(self) -> TestEngine:
        return self._engine

    def __exit__(self, *exc: object) -> None:
        self._engine.auto_skip = True


class TestEngine:
    """An in-process engine serving ``functions`` of ``client``; use it as a context manager.

    While it runs, the client sends events to and fetches data from this engine (in-process)
    and counts as a development client; both are restored on exit.
    """

    __test__ = False

    def __init__(
        self,
        client: Inngest,
        functions: typing.Sequence[_AnyFunction],
        *,
        start: datetime.datetime | None = None,
        retry_interval: datetime.timedelta | None = None,
        queue_workers: int = 4,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
    ) -> None:
        """``start`` is the virtual clock's first reading (default: now). ``retry_interval``
        replaces the backoff schedule between attempts. ``wait_seconds`` bounds, in real
        seconds, how long a call waits for the engine before raising."""
        self.client = client
        self.functions = list(functions)
        moment = start or datetime.datetime.now(datetime.timezone.utc)
        self.clock = ManualClock(round(moment.timestamp() * 1000))
        self.auto_skip = True
        self.wait_seconds = wait_seconds
        self.transport = LoopbackTransport()
        interval = retry_interval.total_seconds() if retry_interval else 0.0
        self._settings = Settings(retry_interval=interval, signing_key=client.signing_key)
        self._queue_workers = queue_workers
        self._faults: list[_Fault] = []
        self._calls: dict[str, list[Call]] = {}
        self._delaying = 0  # calls inside ``_let_time_pass`` right now
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._saved: dict[str, object] = {}

    # Lifecycle

    def __enter__(self) -> TestEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._engine is not None:
            return
        self._point_client_here()
        try:
            self._engine = Engine(Store(":memory:"), self._settings, self.clock,
                                  self._queue_workers, transport=self.transport)
            self.transport.mount(ENGINE_ORIGIN, api_endpoint(Api(self._engine)))
            handler = CommHandler(self.client, self.functions, "testing")
            self.transport.mount(APP_URL, self._recorded(app_endpoint(handler)))
            self._sync()
            self._engine.start()
        except BaseException:
            self.stop()  # the client gets its own settings back
            raise

    def stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.stop()
            engine.store.close()
        for name, value in self._saved.items():
            setattr(self.client, name, value)
        self._saved.clear()

    def _point_client_here(self) -> None:
        for name in ("transport", "api_origin", "event_api_origin", "_mode_is_production",
                     "_wall_clock"):
            self._saved[name] = getattr(self.client, name)
        self.client._wall_clock = self.now
        self.client.transport = self.transport
        self.client.api_origin = self.client.event_api_origin = ENGINE_ORIGIN + "/"
        self.client._mode_is_production = False

    def _sync(self) -> None:
        headers = {"content-type": "application/json", Header.SERVER_KIND: "dev"}
        body = json.dumps({"url": APP_URL}).encode()
        request = _transport.OutboundRequest("PUT", APP_URL, headers, body)
        response = self.transport.send(request)
        if response.status >= 300:
            raise TestEngineError(f"the app did not sync ({response.status}): "
                                  f"{response.body.decode('utf-8', 'replace')}")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise TestEngineError("the test engine is not running; use it in a with block")
        return self._engine

    # Events and runs

    def send(self, *events: Event) -> list[str]:
        """Send events to the engine (stamped with the virtual time); return their ids."""
        now = self.clock.now_ms()
        payload = [{**event.to_dict(), "ts": event.ts or now} for event in events]
        response = _transport.request(
            self.transport, "POST", f"{ENGINE_ORIGIN}/e/test",
            headers={"content-type": "application/json"}, body=_transport.json_body(payload),
        )
        answer = response.json()
        if response.status >= 300 or not isinstance(answer, dict):
            raise TestEngineError(f"sending events failed ({response.status}): {answer}")
        return [str(event_id) for event_id in answer.get("ids") or []]

    def execute(self, event: Event, *, function: _AnyFunction | str | None = None) -> RunResult:
        """Send one event and wait for the one run it starts (of ``function``, if given)."""
        event_id = self.send(event)[0]
        runs = self.wait_for_runs(event_id=event_id, function=function)
        if len(runs) != 1:
            raise TestEngineError(f"event {event.name} started {len(runs)} runs, not one")
        return runs[0]

    def wait_for_runs(self, *, event_id: str | None = None,
                      function: _AnyFunction | str | None = None, count: int = 1,
                      ) -> list[RunResult]:
        """Wait until at least ``count`` runs match (an event's, a function's), moving the
        clock for debounces, batches and throttles; then wait for all of them to end."""
        self._skip_until(lambda: len(self.runs(event_id=event_id, function=function)) >= count,
                         f"{count} run(s) for {event_id or function}")
        return [self.wait_for_run(run.id)
                for run in self.runs(event_id=event_id, function=function)]

    def runs(self, *, event_id: str | None = None,
             function: _AnyFunction | str | None = None) -> list[RunResult]:
        """Runs as they are now: those an event started, and/or those of one function."""
        store = self.engine.store
        found = store.runs_for_event(event_id) if event_id else store.runs()
        if function is not None:
            wanted = self._function_id(function)
            found = [run for run in found if self._function_slug(run) == wanted]
        return [self._result(run) for run in sorted(found, key=lambda r: r.created_at_ms)]

    def run(self, run_id: str) -> RunResult:
        """A run as it is now."""
        found = self.engine.store.run(run_id)
        if found is None:
            raise TestEngineError(f"no run with id {run_id}")
        return self._result(found)

    def wait_for_run(self, run_id: str) -> RunResult:
        """Wait until the run ends, moving the clock to each next timer unless frozen."""
        self._skip_until(lambda: self.run(run_id).status.ended, f"run {run_id}")
        return self.run(run_id)

    def _skip_until(self, done: typing.Callable[[], bool], what: str) -> None:
        """Let the engine work, moving the clock to the next timer whenever it is idle."""
        deadline = time.monotonic() + self.wait_seconds
        while not done():
            # In slices, so what ends while another run's step is still busy is seen at once.
            idle, next_at = self.engine.queue.wait_idle(_SLICE_SECONDS)
            if not idle:
                if time.monotonic() > deadline:
                    raise TestEngineError(f"the engine is still busy after {self.wait_seconds}"
                                          " seconds; is a step stuck?")
                continue
            if done():
                return
            if not self.auto_skip:
                raise TestEngineError(f"{what}: waiting, and time is frozen")
            if next_at is None:
                raise TestEngineError(f"{what}: can never happen; nothing is scheduled")
            self.clock.set(max(next_at, self.clock.now_ms() + 1))

    def cancel(self, run_id: str) -> None:
        """Cancel a run, as the REST API's ``DELETE /v1/runs/{id}`` does."""
        self.engine.runner.cancel(run_id)
        self.settle()

    # Time

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.now_ms() / 1000, datetime.timezone.utc)

    def settle(self) -> None:
        """Run everything that can run without moving the clock."""
        self._idle_until(time.monotonic() + self.wait_seconds)

    def advance(self, delta: datetime.timedelta) -> None:
        """Move the clock forward by ``delta``, firing the timers on the way in order."""
        target = self.clock.now_ms() + round(delta.total_seconds() * 1000)
        while True:
            next_at = self._idle_until(time.monotonic() + self.wait_seconds)
            if next_at is None or next_at > target or next_at <= self.clock.now_ms():
                break
            self.clock.set(next_at)
        self.clock.set(max(target, self.clock.now_ms()))
        self.settle()

    def freeze_time(self) -> _FrozenTime:
        """Stop the clock from jumping to the next timer (until the ``with`` block ends)."""
        self.auto_skip = False
        return _FrozenTime(self)

    def _idle_until(self, deadline: float) -> int | None:
        idle, next_at = self.engine.queue.wait_idle(max(0.0, deadline - time.monotonic()))
        if not idle:
            raise TestEngineError("the engine is still busy after "
                                  f"{self.wait_seconds} seconds; is a step stuck?")
        return next_at

    # Faults

    def fail_next_call(self, function: _AnyFunction | str, *, status: int = 500,
                       times: int = 1) -> None:
        """Answer the engine's next ``times`` calls for ``function`` with a bare ``status``,
        as a crashed or overloaded app would, without running the function."""
        self._add_fault(_Fault(self._function_id(function), "fail", times, status=status))

    def drop_next_call(self, function: _AnyFunction | str, *, times: int = 1) -> None:
        """Make the next ``times`` calls for ``function`` get no response at all."""
        self._add_fault(_Fault(self._function_id(function), "drop", times))

    def delay_next_call(self, function: _AnyFunction | str, delay: datetime.timedelta, *,
                        times: int = 1) -> None:
        """Let ``delay`` of virtual time pass before each of the next ``times`` calls for
        ``function`` reaches the app; the engine handles whatever fell due in the meantime
        (a ``timeouts`` cancellation, another run's sleep) first."""
        self._add_fault(_Fault(self._function_id(function), "delay", times, delay=delay))

    def _function_id(self, function: _AnyFunction | str) -> str:
        """The full id (``app-fn``) of a function, or of a function id given without its app."""
        if isinstance(function, Function):
            return function.id
        prefix = f"{self.client.app_id}-"
        return function if function.startswith(prefix) else prefix + function

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, function_id: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.function_id == function_id:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _recorded(self, endpoint: typing.Callable[[_transport.OutboundRequest],
                                                  _transport.Response],
                  ) -> typing.Callable[[_transport.OutboundRequest], _transport.Response]:
        def answer(request: _transport.OutboundRequest) -> _transport.Response:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
            run_id = request.headers.get("x-run-id")
            fault = self._take_fault(query.get("fnId", "")) if run_id else None
            if fault is not None and fault.kind == "delay":
                self._let_time_pass(fault.delay)
            at = self.now()
            try:
                response = self._answer(endpoint, request, fault)
            except _transport.TransportError:
                self._record(run_id, Call(at, query.get("stepId", ""), None, (), "drop"))
                raise
            if run_id:
                self._record(run_id, Call(at, query.get("stepId", ""), response.status,
                                          _op_names(response), fault.kind if fault else None))
            return response

        return answer

    @staticmethod
    def _answer(endpoint: typing.Callable[[_transport.OutboundRequest], _transport.Response],
                request: _transport.OutboundRequest, fault: _Fault | None,
                ) -> _transport.Response:
        if fault is not None and fault.kind == "drop":
            raise _transport.TransportError(f"Failed request to {request.url}: dropped by test")
        if fault is not None and fault.kind == "fail":
            body = json.dumps({"message": f"injected failure ({fault.status})"}).encode()
            return _transport.Response(fault.status, {"content-type": "application/json"}, body)
        return endpoint(request)

    def _let_time_pass(self, delay: datetime.timedelta) -> None:
        """Move the clock, then let the engine handle what fell due meanwhile (a timeout, say)
        before the delayed call goes on; other delayed calls count as still running."""
        with self._lock:
            self._delaying += 1
        try:
            self.clock.advance(delay.total_seconds())
            deadline = time.monotonic() + self.wait_seconds
            while time.monotonic() < deadline:
                if self.engine.queue.wait_idle(_SLICE_SECONDS, running=self._delaying)[0]:
                    return
        finally:
            with self._lock:
                self._delaying -= 1

    def _record(self, run_id: str | None, call: Call) -> None:
        if run_id:
            with self._lock:
                self._calls.setdefault(run_id, []).append(call)

    # Results

    def _function_slug(self, run: Run) -> str:
        fn = self.engine.store.function(run.function_id)
        return fn.slug if fn else run.function_id

    def _result(self, run: Run) -> RunResult:
        store = self.engine.store
        info = store.step_info(run.id)
        steps = tuple(
            StepRecord(step_id, *info.get(step_id, (step_id, "")), value)
            for step_id, value in store.steps(run.id)
        )
        failed = run.status is RunStatus.FAILED
        with self._lock:
            history = tuple(self._calls.get(run.id, ()))
        return RunResult(
            id=run.id, function_id=self._function_slug(run), status=run.status,
            output=None if failed else run.output,
            error=error_object(run.output) if failed else None, reason=run.reason,
            started_at=_moment(run.started_at_ms), ended_at=_moment(run.ended_at_ms),
            steps=steps, history=history,
        )


def _moment(ms: int | None) -> datetime.datetime | None:
    if ms is None:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


def _op_names(response: _transport.Response) -> tuple[str, ...]:
    if response.status != 206:
        return ()
    try:
        ops = json.loads(response.body)
    except ValueError:
        return ()
    if not isinstance(ops, list):
        return ()
    return tuple(str(op.get("op")) for op in ops if isinstance(op, dict))
