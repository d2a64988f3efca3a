"""Execution, sans-IO: an execution request in, status/body/headers facts out."""

from __future__ import annotations

import dataclasses
import datetime
import json
import traceback
import typing

from inngest import _errors, _event, _step
from inngest._context import ContextSync, ReplayQuietLogger
from inngest._function import Function, Handler
from inngest._step_context import enter_step_context, exit_step_context
from inngest._middleware import (
    NO_OUTPUT,
    MiddlewareManager,
    TransformOutputResult,
    TransformOutputStepInfo,
)
from inngest._protocol.step_ids import StepIdCounter
from inngest._timing import ServerTimings, now

if typing.TYPE_CHECKING:
    from inngest._client import Inngest


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExecutionRequest:
    """The body of an execution POST (``ctx`` flattened)."""

    event: _event.Event
    events: list[_event.Event] | None
    steps: dict[str, object]
    use_api: bool
    run_id: str
    attempt: int
    disable_immediate_execution: bool
    max_attempts: int | None = None

    @classmethod
    def from_dict(cls, raw: object) -> ExecutionRequest:
        fields = _checked_fields(raw)
        # Filled in directly rather than through the frozen dataclass's __init__ (one
        # setattr per field): this runs on every request.
        request = cls.__new__(cls)
        request.__dict__.update(fields)
        return request

    def with_api_data(self, events: object, steps: object) -> ExecutionRequest:
        """This request with events and steps fetched from the API (``use_api``)."""
        return dataclasses.replace(
            self,
            events=_parse_events(events, "events"),
            steps=_expect_object(steps, "steps"),
        )


def _checked_fields(raw: object) -> dict[str, object]:
    body = _expect_object(raw, "body")
    ctx = _expect_object(_required(body, "ctx", "ctx"), "ctx")
    _expect_object(_required(ctx, "stack", "ctx.stack"), "ctx.stack")
    raw_max_attempts = ctx.get("max_attempts")
    max_attempts = (
        None if raw_max_attempts is None
        else _expect_int(raw_max_attempts, "ctx.max_attempts")
    )
    return {
        "event": _parse_event(_required(body, "event", "event"), "event"),
        "events": _parse_events(body.get("events"), "events"),
        "steps": _expect_object(_required(body, "steps", "steps"), "steps"),
        "use_api": _expect_bool(_required(body, "use_api", "use_api"), "use_api"),
        "run_id": _expect_str(_required(ctx, "run_id", "ctx.run_id"), "ctx.run_id"),
        "attempt": _expect_int(_required(ctx, "attempt", "ctx.attempt"), "ctx.attempt"),
        "disable_immediate_execution": _expect_bool(
            _required(ctx, "disable_immediate_execution", "ctx.disable_immediate_execution"),
            "ctx.disable_immediate_execution",
        ),
        "max_attempts": max_attempts,
    }


def _required(obj: dict[str, object], key: str, field: str) -> object:
    if key not in obj:
        raise _errors.BodyInvalidError(f"{field}: required")
    return obj[key]


def _expect_object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _errors.BodyInvalidError(f"{field}: expected object")
    return value


def _expect_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _errors.BodyInvalidError(f"{field}: expected str")
    return value


def _expect_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _errors.BodyInvalidError(f"{field}: expected int")
    return value


def _expect_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise _errors.BodyInvalidError(f"{field}: expected bool")
    return value


def _parse_event(raw: object, field: str) -> _event.Event:
    try:
        return _event.Event.from_dict(raw)
    except _errors.BodyInvalidError as err:
        raise _errors.BodyInvalidError(f"{field}: {err.message}") from None


def _parse_events(raw: object, field: str) -> list[_event.Event] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _errors.BodyInvalidError(f"{field}: expected list or null")
    return [_parse_event(item, f"{field}[{index}]") for index, item in enumerate(raw)]


class ExecutionResult(typing.NamedTuple):
    """What to answer: status, JSON body bytes and the two header facts. A named tuple: one
    is made per request, and it builds faster than a frozen dataclass."""

    status: int
    body: bytes
    no_retry: bool = False
    retry_after: datetime.datetime | None = None


@dataclasses.dataclass(slots=True)
class Outcome:
    """A call's result before serialization: steps, an error or the function output.
    ``executed``: the handler returned or a step interrupted it (after_execution runs then;
    not after an exception)."""

    reports: list[_step.StepReport] | None = None
    error: Exception | None = None
    output: object = NO_OUTPUT
    executed: bool = False


def execute(
    *,
    client: Inngest,
    function: Function[typing.Any],
    handler: Handler,
    request: ExecutionRequest,
    target_step_id: str | None,
    raw_request: object,
    job_id: str | None,
    request_id: str | None,
    timings: ServerTimings | None = None,
) -> ExecutionResult:
    """Run the handler once (replaying memos) and build the response facts."""
    return to_result(run(
        client=client,
        function=function,
        handler=handler,
        request=request,
        target_step_id=target_step_id,
        raw_request=raw_request,
        job_id=job_id,
        request_id=request_id,
        timings=timings,
    ))


def run(
    *,
    client: Inngest,
    function: Function[typing.Any],
    handler: Handler,
    request: ExecutionRequest,
    target_step_id: str | None,
    raw_request: object,
    job_id: str | None,
    request_id: str | None,
    timings: ServerTimings | None = None,
) -> Outcome:
    """The middleware pipeline around one handler call; never raises for user errors."""
    try:
        middleware = MiddlewareManager.for_request(client, function, raw_request)
    except Exception as err:
        return Outcome(error=err)
    logger = ReplayQuietLogger(client.logger)
    state = _step.RunState(
        client=client,
        middleware=middleware,
        memos=_step.StepMemos.from_dict(request.steps),
        target_step_id=target_step_id,
        disable_immediate_execution=request.disable_immediate_execution,
        attempt=request.attempt,
        max_attempts=request.max_attempts,
        counter=StepIdCounter(),
        logger=logger,
    )
    step = _step.StepSync(state)
    ctx = ContextSync(
        attempt=request.attempt,
        event=request.event,
        events=list(request.events or ()),
        group=_step.GroupSync(state),
        job_id=job_id,
        logger=logger,
        request_id=request_id,
        run_id=request.run_id,
        step=step,
    )
    started = now()
    outcome = _transform_input(middleware, state, ctx, function)
    ended = now()
    if timings is not None:
        timings.add("mw.transform_input", started, ended)
    if outcome is None:
        started = ended
        outcome = _call_handler(state, ctx, step, function, handler)
        ended = now()
        if timings is not None:
            timings.add("function", started, ended)
    if middleware.hooks_after_call:
        outcome = _after_call(middleware, outcome)
    if timings is not None:
        timings.add("mw.transform_output", ended, now())
    if outcome.error is not None:
        _log_function_error(client, outcome.error)
    return outcome


def _transform_input(
    middleware: MiddlewareManager,
    state: _step.RunState,
    ctx: ContextSync,
    function: Function[typing.Any],
) -> Outcome | None:
    """None, or the outcome when a hook failed (the handler is not called then)."""
    try:
        middleware.transform_input(ctx, function, state.memos)
        if not state.memos.size:
            state.start_execution()
    except _step.HookFailedInterrupt as failed:
        return Outcome(error=failed.error)
    except Exception as err:
        return Outcome(error=err)
    return None


def _log_function_error(client: Inngest, error: Exception) -> None:
    if not getattr(error, "quiet", False):
        code = getattr(error, "code", "unknown")
        client.logger.error("%s: %s", code, error)


def _call_handler(
    state: _step.RunState,
    ctx: ContextSync,
    step: _step.StepSync,
    function: Function[typing.Any],
    handler: Handler,
) -> Outcome:
    try:
        token = enter_step_context(step)
        try:
            output = handler(ctx)
        finally:
            exit_step_context(token)
        output = state.serialize(output, _output_type(function, handler))
    except _step.ResponseInterrupt as interrupt:
        return Outcome(reports=interrupt.reports, executed=True)
    except _step.SkipInterrupt as skip:
        return Outcome(
            error=_errors.StepUnexpectedError(
                f'found step "{skip.display_name}" when targeting a different step'
            )
        )
    except _step.HookFailedInterrupt as failed:
        return Outcome(error=failed.error)
    except Exception as err:
        _step.strip_first_frame(err)
        return Outcome(error=err)
    return Outcome(output=output, executed=True)


def _output_type(function: Function[typing.Any], handler: Handler) -> object:
    # An on_failure output is only ever serialized (never invoked), so any type will do.
    return object if handler is function.on_failure else function.output_type


def _after_call(middleware: MiddlewareManager, outcome: Outcome) -> Outcome:
    """The hooks after the handler call: after_execution (when it returned or a step
    interrupted it), transform_output, then before_response."""
    if outcome.executed:
        try:
            middleware.after_execution()
        except Exception as err:
            outcome = Outcome(error=err)
    _transform_output(middleware, outcome)
    try:
        middleware.before_response()
    except Exception as err:
        return Outcome(error=err)
    return outcome


def _transform_output(middleware: MiddlewareManager, outcome: Outcome) -> None:
    """Only single results go through transform_output (not multi-step plans)."""
    if outcome.reports is not None:
        if len(outcome.reports) != 1:
            return
        report = outcome.reports[0]
        result = TransformOutputResult(
            error=report.error,
            output=report.output,
            step=TransformOutputStepInfo(id=report.display_name, op=report.op, opts=report.opts),
        )
    else:
        result = TransformOutputResult(error=outcome.error, output=outcome.output, step=None)
    try:
        middleware.transform_output(result)
    except Exception as err:
        outcome.reports, outcome.error, outcome.output = None, err, NO_OUTPUT
        return
    if outcome.reports is not None:
        outcome.reports[0].error = result.error
        outcome.reports[0].output = result.output
    else:
        outcome.error, outcome.output = result.error, result.output


# Converting an outcome to the response


class _Unserializable(Exception):
    pass


# json.dumps with no options, without its per-call option handling.
_encode = json.JSONEncoder().encode


def to_result(outcome: Outcome) -> ExecutionResult:
    try:
        if outcome.reports is not None:
            return _steps_result(outcome.reports)
        if outcome.error is not None:
            return _error_result(outcome.error)
        return ExecutionResult(status=200, body=_dumps(outcome.output))
    except _Unserializable as unserializable:
        return _unserializable_result(str(unserializable))


def _steps_result(reports: list[_step.StepReport]) -> ExecutionResult:
    elements = [_step_element(report) for report in reports]
    no_retry = False
    for report in reports:
        if report.error is not None and not _is_retriable(report.error):
            no_retry = True
    try:
        body = _encode(elements).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        _check_step_data(reports)  # names the step whose data is to blame, if one is
        raise _Unserializable("returned unserializable data") from None
    return ExecutionResult(status=206, body=body, no_retry=no_retry)


def _check_step_data(reports: list[_step.StepReport]) -> None:
    for report in reports:
        try:
            json.dumps(_step_data(report))
        except (TypeError, ValueError, RecursionError):
            raise _Unserializable(
                f'"{report.display_name}" returned unserializable data'
            ) from None


def _step_data(report: _step.StepReport) -> object:
    return None if report.output is NO_OUTPUT else report.output


def _step_element(report: _step.StepReport) -> dict[str, object]:
    data = _step_data(report)
    # Key order follows the official SDK's bytes.
    element: dict[str, object] = {
        "displayName": report.display_name,
        "id": report.hashed_id,
        "name": report.name,
        "op": report.op._value_,  # the same as .value, without the property's call
        "opts": report.opts,
        "userland": {"id": report.user_id, "index": report.index},
    }
    if report.error is not None:
        element["error"] = error_body(report.error)
    element["data"] = data
    return element


def _error_result(error: Exception) -> ExecutionResult:
    retry_after = error.retry_after if isinstance(error, _errors.RetryAfterError) else None
    return ExecutionResult(
        status=500,
        body=_dumps(error_body(error)),
        no_retry=not _is_retriable(error),
        retry_after=retry_after,
    )


def _unserializable_result(message: str) -> ExecutionResult:
    error = _errors.OutputUnserializableError(message)
    body = {"code": error.code, "message": error.message, "name": error.name}
    return ExecutionResult(status=500, body=_dumps(body), no_retry=True)


def error_body(error: Exception) -> dict[str, object]:
    """``{"code", "message", "name", "stack"}`` for a user or SDK error."""
    if isinstance(error, _errors.Error):
        stack = error.stack if error.include_stack else None
        return {"code": error.code, "message": error.message, "name": error.name, "stack": stack}
    return {
        "code": "unknown",
        "message": str(error),
        "name": type(error).__name__,
        "stack": "".join(traceback.format_exception(error)),
    }


def _is_retriable(error: Exception) -> bool:
    return error.is_retriable if isinstance(error, _errors.Error) else True


def _dumps(value: object) -> bytes:
    try:
        return _encode(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        raise _Unserializable("returned unserializable data") from None
