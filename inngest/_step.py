"""Steps: memo replay, step reports and the interrupts that stop user code."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing

from inngest import _errors, _event
from inngest._durations import Duration, to_duration_str, to_milliseconds
from inngest._function import UNSET
from inngest._middleware import NO_OUTPUT
from inngest._protocol.opcodes import Opcode as Opcode
from inngest._protocol.step_ids import hash_step_id

if typing.TYPE_CHECKING:
    from inngest._client import Inngest
    from inngest._context import ReplayQuietLogger
    from inngest.experimental.ai.base import BaseAdapter
    from inngest._function import Function
    from inngest._middleware import MiddlewareManager

T = typing.TypeVar("T")

# The opcodes every request's step code compares with: a module global loads in a fraction
# of the time an Enum class attribute does (EnumType's attribute lookup is not cached).
_STEP_RUN = Opcode.STEP_RUN
_PLANNED = Opcode.PLANNED


class ParallelMode(str, enum.Enum):
    WAIT = "wait"
    RACE = "race"


@dataclasses.dataclass(frozen=True)
class MemoizedError:
    message: str
    name: str
    stack: str | None = None


@dataclasses.dataclass(slots=True)
class Memo:
    """A step's saved outcome; middleware may replace ``data`` or ``error``."""

    data: object = None
    error: MemoizedError | None = None


_MEMO_KEYS = frozenset(("data", "error"))


def _parse_memo(raw: object) -> Memo:
    """``{"data": X}``/``{"error": {...}}`` are unwrapped; anything else is the data itself."""
    if not isinstance(raw, dict) or not set(raw) <= _MEMO_KEYS:
        return Memo(data=raw)
    error = raw.get("error")
    if error is None:
        return Memo(data=raw.get("data"))
    parsed = _parse_memoized_error(error)
    return Memo(data=raw) if parsed is None else Memo(data=raw.get("data"), error=parsed)


def _parse_memoized_error(raw: object) -> MemoizedError | None:
    if not isinstance(raw, dict):
        return None
    message, name, stack = raw.get("message"), raw.get("name"), raw.get("stack")
    if not isinstance(message, str) or not isinstance(name, str):
        return None
    if stack is not None and not isinstance(stack, str):
        return None
    return MemoizedError(message=message, name=name, stack=stack)


class StepMemos:
    """The memoized step outcomes of one request, by hashed step id. Each is parsed into a
    ``Memo`` when first used (most are used once, by the step that replays it)."""

    def __init__(self, memos: typing.Mapping[str, object]) -> None:
        # Raw memos as the request has them, or Memo objects.
        self._memos: dict[str, object] = dict(memos)

    @classmethod
    def from_dict(cls, raw: typing.Mapping[str, object]) -> StepMemos:
        return cls(raw)

    @classmethod
    def sharing(cls, memos: dict[str, object]) -> StepMemos:
        """Memos over ``memos`` itself, not a copy: what middleware changes or takes, the
        run's steps see."""
        shared = cls.__new__(cls)
        shared._memos = memos
        return shared

    from_raw = from_dict

    @property
    def size(self) -> int:
        return len(self._memos)

    def __len__(self) -> int:
        return len(self._memos)

    def values(self) -> typing.Iterator[Memo]:
        return iter(list(self._parsed().values()))

    def items(self) -> typing.Iterator[tuple[str, Memo]]:
        return iter(list(self._parsed().items()))

    def pop(self, hashed_id: str) -> Memo | None:
        """Consume a memo: each one is used at most once per request."""
        raw = self._memos.pop(hashed_id, _NO_MEMO)
        return None if raw is _NO_MEMO else _as_memo(raw)

    def _parsed(self) -> dict[str, Memo]:
        """The memos, each parsed once: middleware may change a Memo object in place."""
        memos = self._memos
        for hashed_id, raw in memos.items():
            if type(raw) is not Memo:
                memos[hashed_id] = _parse_memo(raw)
        return typing.cast("dict[str, Memo]", memos)


_NO_MEMO = object()


def _as_memo(raw: object) -> Memo:
    """A memo as stored (raw, or a Memo already), as a Memo."""
    return raw if type(raw) is Memo else _parse_memo(raw)


@dataclasses.dataclass(slots=True)
class StepReport:
    """One element of a 206 response."""

    hashed_id: str
    display_name: str
    name: str
    op: Opcode
    opts: dict[str, object] | None
    user_id: str
    index: int | None
    output: object = NO_OUTPUT
    error: Exception | None = None

    def set_parallel_mode(self, mode: ParallelMode) -> None:
        if mode is ParallelMode.RACE:
            if self.opts is None:
                self.opts = {}
            self.opts["parallelMode"] = mode.value


class ResponseInterrupt(BaseException):
    """Stops user code to report steps: ``ResponseInterrupt(reports)``. A BaseException so
    ``except Exception`` misses it. One is raised on most requests, so it has no
    ``__init__`` of its own: the list is its one argument."""

    @property
    def reports(self) -> list[StepReport]:
        reports: list[StepReport] = self.args[0]
        return reports


class SkipInterrupt(BaseException):
    """A step that is not the targeted one was reached."""

    def __init__(self, display_name: str) -> None:
        super().__init__(display_name)
        self.display_name = display_name


class NestedStepInterrupt(BaseException):
    """A step was called inside a step.run handler."""


class HookFailedInterrupt(BaseException):
    """A middleware hook failed while user code was running."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class NestedStepError(_errors.CodedError):
    """Reported for a step that called another step; bytes match the official SDK."""

    def __init__(self) -> None:
        super().__init__("step_nested", "Nested steps are not supported.", is_retriable=False)

    @property
    def name(self) -> str:
        return "CodedError"

    @property
    def stack(self) -> str | None:
        return "inngest._internal.errors.CodedError: Nested steps are not supported.\n"


class RunState:
    """Per-request execution state: ``ctx.step`` (a ``StepSync``) is this request's one,
    and ``ctx.group`` and ``ctx.step.ai`` share it."""

    __slots__ = (
        "_client", "_middleware", "_memos", "_target_step_id", "_disable_immediate_execution",
        "_attempt", "_max_attempts", "_logger", "_seen", "_started", "_in_parallel", "_in_step",
    )

    def __init__(
        self,
        client: Inngest,
        middleware: MiddlewareManager | None,
        memos: dict[str, object],
        target_step_id: str | None,
        disable_immediate_execution: bool,
        attempt: int,
        max_attempts: int | None,
        logger: ReplayQuietLogger,
    ) -> None:
        self._client = client
        self._middleware = middleware
        # The request's memos not consumed yet, by hashed id (raw, or Memo objects).
        self._memos = memos
        self._target_step_id = target_step_id
        self._disable_immediate_execution = disable_immediate_execution
        self._attempt = attempt
        self._max_attempts = max_attempts
        # ctx.logger, silent until code that was not memoized runs.
        self._logger = logger
        # Uses of each user step id so far.
        self._seen: dict[str, int] = {}
        self._started = False
        self._in_parallel = False
        self._in_step = False

    def _claim(self, step_id: str) -> tuple[str, int | None, object]:
        """The next step's hashed id, userland index (None for an id's first use; the N-th
        repeat of an id is hashed as ``id:N``) and memo as stored, consumed (``_NO_MEMO``
        if it has none). Once no memo is left, new code is about to run."""
        if self._in_step:
            raise NestedStepInterrupt()
        seen = self._seen
        count = seen.get(step_id, 0)
        seen[step_id] = count + 1
        if count:
            hashed_id, index = hash_step_id(f"{step_id}:{count}"), count
        else:
            hashed_id, index = hash_step_id(step_id), None
        memos = self._memos
        raw = memos.pop(hashed_id, _NO_MEMO)
        if not memos and not self._started:
            self._start_execution()
        return hashed_id, index, raw

    def _resolve(
        self,
        step_id: str,
        op: Opcode,
        opts: dict[str, object] | None = None,
        name: str | None = None,
    ) -> Memo | None:
        """The step's memo; None means "run the handler now"; otherwise interrupts."""
        hashed_id, index, raw = self._claim(step_id)
        if raw is not _NO_MEMO:
            return _as_memo(raw)
        self._resolve_unmemoized(make_report(step_id, hashed_id, index, op, opts, name))
        return None

    def _resolve_unmemoized(self, report: StepReport) -> None:
        """Returns when the handler is to run now; otherwise interrupts."""
        targeting = self._target_step_id is not None
        if targeting and self._target_step_id != report.hashed_id:
            raise SkipInterrupt(report.display_name)
        if self._in_parallel and not targeting:
            if report.op is _STEP_RUN:
                report.op = _PLANNED
            raise ResponseInterrupt([report])
        if report.op is _STEP_RUN:
            if self._disable_immediate_execution and not targeting:
                report.op = _PLANNED
                raise ResponseInterrupt([report])
            return
        raise ResponseInterrupt([report])

    def _start_execution(self) -> None:
        """Once per request, when code that was not memoized is about to run."""
        self._started = True
        self._logger._live = True  # ctx.logger forwards from now on
        if self._middleware is None:
            return
        try:
            self._middleware.before_execution()
        except Exception as err:
            raise HookFailedInterrupt(err) from None

    def _is_last_attempt(self) -> bool:
        return self._max_attempts is not None and self._attempt + 1 >= self._max_attempts

    def _serialize(self, value: object, output_type: object) -> object:
        serializer = self._client.serializer
        if serializer is None or output_type is UNSET:
            return value
        return typing.cast(Serializer, serializer).serialize(value, output_type)

    def _deserialize(self, value: object, output_type: object) -> object:
        serializer = self._client.serializer
        if serializer is None or output_type is UNSET:
            return value
        return typing.cast(Serializer, serializer).deserialize(value, output_type)


def make_report(
    step_id: str,
    hashed_id: str,
    index: int | None,
    op: Opcode,
    opts: dict[str, object] | None = None,
    name: str | None = None,
) -> StepReport:
    # Positional, in field order: hashed_id, display_name, name, op, opts, user_id, index.
    return StepReport(
        hashed_id, step_id, step_id if name is None else name, op, opts, step_id, index
    )


class Serializer(typing.Protocol):
    def serialize(self, obj: object, typ: object) -> object: ...

    def deserialize(self, obj: object, typ: object) -> object: ...


def _memo_value(memo: Memo) -> object:
    if memo.error is not None:
        raise _errors.StepError(memo.error.message, memo.error.name, memo.error.stack)
    return memo.data


def strip_first_frame(err: BaseException) -> None:
    """Drop the SDK's own frame so tracebacks start in user code."""
    if err.__traceback__ is not None and err.__traceback__.tb_next is not None:
        err.__traceback__ = err.__traceback__.tb_next


def _iso_utc_ms(moment: datetime.datetime) -> str:
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class StepSync(RunState):
    """The step API of ``ctx.step``."""

    __slots__ = ()

    def run(
        self,
        step_id: str,
        handler: typing.Callable[..., T],
        *handler_args: object,
        output_type: object = UNSET,
    ) -> T:
        """Run ``handler`` once; later requests return its memoized output."""
        hashed_id, index, raw = self._claim(step_id)
        if raw is not _NO_MEMO:  # replay, the common case: no report is needed
            if (
                type(raw) is dict and len(raw) == 1 and "data" in raw  # the usual shape
                and self._client.serializer is None
            ):
                return raw["data"]  # type: ignore[no-any-return]
            memo = _as_memo(raw)
            return typing.cast(T, self._deserialize(_memo_value(memo), output_type))
        report = StepReport(hashed_id, step_id, step_id, _STEP_RUN, None, step_id, index)
        # With no target, no parallel group and immediate execution allowed, a new step.run
        # runs now: _resolve_unmemoized would return at once (the usual request skips it).
        if self._target_step_id is not None or self._in_parallel or (
            self._disable_immediate_execution
        ):
            self._resolve_unmemoized(report)
        report.output = self._call_handler(report, handler, handler_args, output_type)
        raise ResponseInterrupt([report])

    def _call_handler(
        self,
        report: StepReport,
        handler: typing.Callable[..., object],
        args: tuple[object, ...],
        output_type: object,
    ) -> object:
        self._in_step = True
        try:
            output = handler(*args)
            # Checked here too: most clients have no serializer, and then no call is needed.
            if self._client.serializer is None:
                return output
            return self._serialize(output, output_type)
        except (_errors.NonRetriableError, _errors.RetryAfterError):
            raise
        except NestedStepInterrupt:
            report.op = Opcode.STEP_ERROR
            report.error = NestedStepError()
            raise ResponseInterrupt([report]) from None
        except Exception as err:
            strip_first_frame(err)
            report.op = Opcode.STEP_FAILED if self._is_last_attempt() else Opcode.STEP_ERROR
            report.error = err
            raise ResponseInterrupt([report]) from None
        finally:
            self._in_step = False

    def sleep(self, step_id: str, duration: Duration) -> None:
        """Pause the run for ``duration`` (int milliseconds or timedelta)."""
        delta = datetime.timedelta(milliseconds=to_milliseconds(duration))
        self.sleep_until(step_id, self._client._wall_clock() + delta)

    def sleep_until(self, step_id: str, until: datetime.datetime) -> None:
        """Pause the run until ``until`` (a naive datetime is local time)."""
        memo = self._resolve(step_id, Opcode.SLEEP, name=_iso_utc_ms(until))
        if memo is not None:
            _memo_value(memo)

    def wait_for_event(
        self,
        step_id: str,
        *,
        event: str,
        if_exp: str | None = None,
        timeout: Duration,
    ) -> _event.Event | None:
        """Wait for an event named ``event``; None when ``timeout`` passes first."""
        opts: dict[str, object] = {"if": if_exp, "timeout": to_duration_str(timeout)}
        memo = self._resolve(step_id, Opcode.WAIT_FOR_EVENT, opts, name=event)
        data = _memo_value(memo) if memo is not None else None
        return None if data is None else _event.Event.from_dict(data)

    def invoke(
        self,
        step_id: str,
        *,
        function: Function[typing.Any],
        data: typing.Mapping[str, object] | None = None,
        timeout: Duration | None = None,
        v: str | None = None,
    ) -> typing.Any:
        """Run another function of this app and return its output."""
        output = self.invoke_by_id(
            step_id,
            app_id=self._client.app_id,
            function_id=function.local_id,
            data=data,
            timeout=timeout,
            v=v,
        )
        return self._deserialize(output, function.output_type)

    def invoke_by_id(
        self,
        step_id: str,
        *,
        app_id: str | None = None,
        function_id: str,
        data: typing.Mapping[str, object] | None = None,
        timeout: Duration | None = None,
        v: str | None = None,
    ) -> object:
        """Run a function by id (default: this app) and return its output."""
        opts: dict[str, object] = {
            "function_id": f"{app_id or self._client.app_id}-{function_id}",
            "payload": {"data": None if data is None else dict(data), "v": v},
            "timeout": None if timeout is None else to_duration_str(timeout),
        }
        memo = self._resolve(step_id, Opcode.INVOKE, opts)
        return None if memo is None else _memo_value(memo)

    @property
    def ai(self) -> AISync:
        """Model calls made by the Inngest server (experimental)."""
        return AISync(self)

    def send_event(
        self, step_id: str, events: _event.Event | list[_event.Event]
    ) -> list[str]:
        """Send events durably; returns their ids."""
        batch = [events] if isinstance(events, _event.Event) else list(events)
        return self.run(step_id, self._send, batch)

    def _send(self, batch: list[_event.Event]) -> list[str]:
        from inngest._client import SendEventsResult

        middleware = self._middleware
        if middleware is None:
            return self._client.send_sync(batch, skip_middleware=True)
        batch = middleware.before_send_events(batch)
        result: SendEventsResult | None = None
        try:
            result = SendEventsResult(
                ids=self._client.send_sync(batch, skip_middleware=True)
            )
        except _errors.SendEventsError as err:
            result = SendEventsResult(ids=err.ids, error=err.message)
            raise
        except Exception as err:
            result = SendEventsResult(ids=[], error=str(err))
            raise
        finally:
            if result is not None:
                middleware.after_send_events(result)
        return result.ids


class AISync:
    """``ctx.step.ai``: steps whose request the Inngest server sends to a model provider."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def infer(
        self, step_id: str, *, adapter: BaseAdapter, body: dict[str, typing.Any]
    ) -> typing.Any:
        """Have the server POST ``body`` (completed by ``adapter``); returns the response."""
        adapter.on_call(body)
        opts: dict[str, object] = {
            "auth_key": adapter.auth_key(),
            "body": body,
            "format": adapter.format(),
            "headers": adapter.headers(),
            "type": "step.ai.infer",
            "url": adapter.url_infer(),
        }
        memo = self._state._resolve(step_id, Opcode.AI_GATEWAY, opts)
        return None if memo is None else _memo_value(memo)


class GroupSync:
    """The ``ctx.group`` API."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def parallel(
        self,
        callables: typing.Sequence[typing.Callable[[], T]],
        parallel_mode: ParallelMode = ParallelMode.WAIT,
    ) -> tuple[T, ...]:
        """Run steps in parallel; returns their outputs once all are done."""
        state = self._state
        outputs: list[T] = []
        reports: list[StepReport] = []
        was_in_parallel = state._in_parallel
        state._in_parallel = True
        try:
            for call in callables:
                try:
                    outputs.append(call())
                except ResponseInterrupt as interrupt:
                    reports.extend(interrupt.reports)
                except SkipInterrupt:
                    continue
        finally:
            state._in_parallel = was_in_parallel
        if reports:
            for report in reports:
                report.set_parallel_mode(parallel_mode)
            raise ResponseInterrupt(reports)
        return tuple(outputs)
