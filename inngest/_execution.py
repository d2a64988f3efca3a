"""Execution, sans-IO: an execution request in, status/body/headers facts out."""

from __future__ import annotations

import dataclasses
import datetime
import functools
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
from inngest._timing import ServerTimings, now

if typing.TYPE_CHECKING:
    from inngest._client import Inngest


class ExecutionRequest(typing.NamedTuple):
    """The body of an execution POST (``ctx`` flattened). A named tuple: one is made per
    request, and it builds faster than a frozen dataclass."""

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
        # Checked one field after another in a fixed order (the first problem is the one
        # reported), inline rather than through a helper per field, and built directly
        # rather than through the named tuple's __new__ (a Python function): this runs on
        # every request.
        if not isinstance(raw, dict):
            _invalid("body", raw, "object")
        ctx = raw.get("ctx", _MISSING)
        if not isinstance(ctx, dict):
            _invalid("ctx", ctx, "object")
        stack = ctx.get("stack", _MISSING)
        if not isinstance(stack, dict):
            _invalid("ctx.stack", stack, "object")
        max_attempts = ctx.get("max_attempts")
        if max_attempts is not None and (
            type(max_attempts) is bool or not isinstance(max_attempts, int)
        ):
            _invalid("ctx.max_attempts", max_attempts, "int")
        event = raw.get("event", _MISSING)
        if event is _MISSING:
            _invalid("event", event, "object")
        try:
            event = _event.Event.from_dict(event)
        except _errors.BodyInvalidError as err:
            raise _errors.BodyInvalidError(f"event: {err.message}") from None
        raw_events = raw.get("events")
        if type(raw_events) is list and len(raw_events) == 1 and raw_events[0] == raw["event"]:
            events: list[_event.Event] | None = [event]  # the usual body: the one event, twice
        else:
            events = _parse_events(raw_events, "events")
        steps = raw.get("steps", _MISSING)
        if not isinstance(steps, dict):
            _invalid("steps", steps, "object")
        use_api = raw.get("use_api", _MISSING)
        if use_api is not True and use_api is not False:
            _invalid("use_api", use_api, "bool")
        run_id = ctx.get("run_id", _MISSING)
        if not isinstance(run_id, str):
            _invalid("ctx.run_id", run_id, "str")
        attempt = ctx.get("attempt", _MISSING)
        if type(attempt) is bool or not isinstance(attempt, int):
            _invalid("ctx.attempt", attempt, "int")
        disable = ctx.get("disable_immediate_execution", _MISSING)
        if disable is not True and disable is not False:
            _invalid("ctx.disable_immediate_execution", disable, "bool")
        # In field order.
        return _new_tuple(
            cls, (event, events, steps, use_api, run_id, attempt, disable, max_attempts)
        )

    def with_api_data(self, events: object, steps: object) -> ExecutionRequest:
        """This request with events and steps fetched from the API (``use_api``)."""
        return self._replace(
            events=_parse_events(events, "events"),
            steps=_expect_object(steps, "steps"),
        )


_MISSING: typing.Any = object()
_new_tuple = tuple.__new__


def _invalid(field: str, value: object, expected: str) -> typing.NoReturn:
    problem = "required" if value is _MISSING else f"expected {expected}"
    raise _errors.BodyInvalidError(f"{field}: {problem}")


def _expect_object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _errors.BodyInvalidError(f"{field}: expected object")
    return value


def _parse_events(raw: object, field: str) -> list[_event.Event] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _errors.BodyInvalidError(f"{field}: expected list or null")
    events: list[_event.Event] = []
    parse = _event.Event.from_dict
    try:
        for item in raw:
            events.append(parse(item))
    except _errors.BodyInvalidError as err:
        raise _errors.BodyInvalidError(f"{field}[{len(events)}]: {err.message}") from None
    return events


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
    middleware: MiddlewareManager | None = None
    # Most apps have no middleware: no manager then (the replay-quiet ``ctx.logger`` is the
    # run's own, not a middleware's).
    if client.middleware or function.middleware:
        try:
            middleware = MiddlewareManager.for_request(client, function, raw_request)
        except Exception as err:
            return Outcome(error=err)
    logger = ReplayQuietLogger(client.logger)
    memos = dict(request.steps)  # consumed as steps replay; the request keeps its own
    step = _step.StepSync(
        client,
        middleware,
        memos,
        target_step_id,
        request.disable_immediate_execution,
        request.attempt,
        request.max_attempts,
        logger,
    )
    # Positional, in field order (attempt, event, events, group, job_id, logger, request_id,
    # run_id, step): one is made per request.
    ctx = ContextSync(
        request.attempt,
        request.event,
        list(request.events or ()),
        _step.GroupSync(step),
        job_id,
        logger,
        request_id,
        request.run_id,
        step,
    )
    spans = [] if timings is None else timings.spans
    started = now()
    outcome: Outcome | None = None
    try:
        if middleware is not None:
            middleware.transform_input(ctx, function, _step.StepMemos.sharing(memos))
        if not memos:  # no memo left (transform_input may have taken some)
            step._start_execution()
    except _step.HookFailedInterrupt as failed:  # before_execution failed
        outcome = Outcome(error=failed.error)
    except Exception as err:
        outcome = Outcome(error=err)
    ended = now()
    spans.append(("mw.transform_input", started, ended))
    if outcome is None:
        started = ended
        outcome = _call_handler(step, ctx, function, handler)
        ended = now()
        spans.append(("function", started, ended))
    if middleware is not None:
        outcome = _after_call(middleware, outcome)
    spans.append(("mw.transform_output", ended, now()))
    if outcome.error is not None:
        _log_function_error(client, outcome.error)
    return outcome


def _log_function_error(client: Inngest, error: Exception) -> None:
    if not getattr(error, "quiet", False):
        code = getattr(error, "code", "unknown")
        client.logger.error("%s: %s", code, error)


def _call_handler(
    step: _step.StepSync,
    ctx: ContextSync,
    function: Function[typing.Any],
    handler: Handler,
) -> Outcome:
    try:
        token = enter_step_context(step)
        try:
            output = handler(ctx)
        finally:
            exit_step_context(token)
        output = step._serialize(output, _output_type(function, handler))
    except _step.ResponseInterrupt as interrupt:
        # Positional, and the reports read from args (what the property returns, without
        # its call): the usual case.
        return Outcome(interrupt.args[0], None, NO_OUTPUT, True)
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
    no_retry = False
    for report in reports:
        if report.error is not None and not _is_retriable(report.error):
            no_retry = True
    try:
        if len(reports) == 1:
            text = "[" + _step_json(reports[0]) + "]"
        else:
            text = "[" + ", ".join(map(_step_json, reports)) + "]"
    except (TypeError, ValueError, RecursionError):
        _check_step_data(reports)  # names the step whose data is to blame, if one is
        raise _Unserializable("returned unserializable data") from None
    # The named tuple's own __new__ is a Python function: this is the same tuple, built
    # directly (one is made per request).
    return _new_tuple(ExecutionResult, (206, text.encode("utf-8"), no_retry, None))


def _check_step_data(reports: list[_step.StepReport]) -> None:
    for report in reports:
        try:
            json.dumps(None if report.output is NO_OUTPUT else report.output)
        except (TypeError, ValueError, RecursionError):
            raise _Unserializable(
                f'"{report.display_name}" returned unserializable data'
            ) from None


def _step_json(report: _step.StepReport) -> str:
    """One step's element of a 206 body, as ``json.dumps`` writes it (key order follows the
    official SDK's bytes), pieced together from its fields: the encoder's set-up costs more
    than the encoding of these few small values."""
    opts = report.opts
    error = report.error
    output = report.output
    name = report.name
    if opts is None and error is None and type(name) is str:  # the usual step: one lookup
        prefix = _plain_step_prefix(
            report.display_name, report.hashed_id, name, report.op._value_, report.user_id,
            report.index,
        )
        return f'{prefix}{"null" if output is NO_OUTPUT else _value_json(output)}}}'
    head = (_step_head if type(name) is str else _step_head.__wrapped__)(
        report.display_name, report.hashed_id, name, report.op._value_
    )
    return (
        f'{head}"opts": {"null" if opts is None else _encode(opts)}, '
        f'"userland": {_userland(report.user_id, report.index)}'
        f'{"" if error is None else _ERROR_KEY + _encode(error_body(error))}, '
        f'"data": {"null" if output is NO_OUTPUT else _value_json(output)}}}'
    )


# A function's steps repeat on every request of its runs, so the parts of their reports
# that follow from the step alone are kept (the cache is C code: a hit runs no Python).
@functools.lru_cache(maxsize=1024)
def _step_head(display_name: str, hashed_id: str, name: object, op: str) -> str:
    # Opcodes are plain ASCII words: they need no quoting.
    return (
        f'{{"displayName": {_quote(display_name)}, "id": {_quote(hashed_id)}, '
        f'"name": {_value_json(name)}, "op": "{op}", '
    )


@functools.lru_cache(maxsize=1024)
def _userland(user_id: str, index: int | None) -> str:
    return f'{{"id": {_quote(user_id)}, "index": {"null" if index is None else index}}}'


_ERROR_KEY = ', "error": '


@functools.lru_cache(maxsize=1024)
def _plain_step_prefix(
    display_name: str, hashed_id: str, name: str, op: str, user_id: str, index: int | None
) -> str:
    """``_step_json``'s text up to the data, for a step with no opts and no error: the same
    pieces, kept whole."""
    return (
        f'{_step_head(display_name, hashed_id, name, op)}"opts": null, '
        f'"userland": {_userland(user_id, index)}, "data": '
    )


# json.dumps's own quoting of strings (ensure_ascii, its default).
_quote = json.encoder.encode_basestring_ascii


def _value_json(value: object) -> str:
    """``json.dumps(value)``; the small values steps usually return skip the encoder."""
    if type(value) is str:
        return _quote(value)
    if type(value) is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _encode(value)


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
