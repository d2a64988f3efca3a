"""Middleware: per-request hook objects and the manager that calls them in order."""

from __future__ import annotations

import dataclasses
import inspect
import typing

from inngest import _errors

if typing.TYPE_CHECKING:
    from inngest._client import Inngest, SendEventsResult
    from inngest._context import ContextSync
    from inngest._event import Event
    from inngest._function import Function
    from inngest._protocol.opcodes import Opcode
    from inngest._step import StepMemos


class MiddlewareSync:
    """Base class of synchronous middleware; override the hooks you need."""

    def __init__(self, client: Inngest, raw_request: object) -> None:
        self.client = client
        self.raw_request = raw_request

    def transform_input(
        self, ctx: ContextSync, function: Function[typing.Any], steps: StepMemos
    ) -> None:
        """Before the handler runs; may replace ctx.event/events/logger and memo data."""

    def before_execution(self) -> None:
        """Once per request, when code that was not memoized is about to run."""

    def after_execution(self) -> None:
        """After the handler returned or a step interrupted it."""

    def transform_output(self, result: TransformOutputResult) -> None:
        """After the call; may replace ``result.output`` or ``result.error``."""

    def before_response(self) -> None:
        """Last hook before the response is built."""

    def before_send_events(self, events: list[Event]) -> None:
        """Before events are sent; may change the list in place."""

    def after_send_events(self, result: SendEventsResult) -> None:
        """After events were sent (also on failure, with ``result.error`` set)."""


MiddlewareFactory = typing.Callable[["Inngest", object], MiddlewareSync]


class _NoOutput:
    def __repr__(self) -> str:
        return "NO_OUTPUT"


NO_OUTPUT: typing.Any = _NoOutput()


@dataclasses.dataclass
class TransformOutputStepInfo:
    """The step a result belongs to; ``opts`` is the reported step's own dict."""

    id: str
    op: Opcode
    opts: dict[str, object] | None


@dataclasses.dataclass
class TransformOutputResult:
    """What a function or step produced; middleware may replace error and output."""

    error: Exception | None
    output: object
    step: TransformOutputStepInfo | None

    def has_output(self) -> bool:
        return self.output is not NO_OUTPUT


_ASYNC_UNSUPPORTED = "encountered async middleware in non-async context"


class MiddlewareManager:
    """The middleware of one request or send, called in the documented order."""

    def __init__(
        self,
        client: Inngest,
        raw_request: object,
        factories: typing.Sequence[MiddlewareFactory],
    ) -> None:
        # Any: a factory may return async middleware, which the hooks turn away.
        middleware: list[typing.Any] = [factory(client, raw_request) for factory in factories]
        self._middleware: list[object] = middleware
        # Each hook is checked for being synchronous when called (a hook may be replaced on
        # the instance); with no middleware there is nothing to call or check.
        self._checked: list[MiddlewareSync] | None = None if middleware else []

    @classmethod
    def for_send(cls, client: Inngest) -> MiddlewareManager:
        return cls(client, None, client.middleware)

    @classmethod
    def for_request(
        cls, client: Inngest, function: Function[typing.Any], raw_request: object
    ) -> MiddlewareManager:
        """The request's middleware: the client's, then the function's. (A request with none
        needs no manager: see ``_execution.run``.)"""
        return cls(client, raw_request, [*client.middleware, *function.middleware])

    def transform_input(
        self, ctx: ContextSync, function: Function[typing.Any], steps: StepMemos
    ) -> None:
        for middleware in self._hooks("transform_input"):
            middleware.transform_input(ctx, function, steps)

    def before_execution(self) -> None:
        for middleware in self._hooks("before_execution"):
            middleware.before_execution()

    def after_execution(self) -> None:
        for middleware in self._hooks("after_execution", reverse=True):
            middleware.after_execution()

    def transform_output(self, result: TransformOutputResult) -> None:
        for middleware in self._hooks("transform_output", reverse=True):
            middleware.transform_output(result)

    def before_response(self) -> None:
        for middleware in self._hooks("before_response"):
            middleware.before_response()

    def before_send_events(self, events: list[Event]) -> list[Event]:
        for middleware in self._hooks("before_send_events"):
            middleware.before_send_events(events)
        return events

    def after_send_events(self, result: SendEventsResult) -> None:
        for middleware in self._hooks("after_send_events", reverse=True):
            middleware.after_send_events(result)

    def _hooks(self, hook: str, reverse: bool = False) -> typing.Iterable[MiddlewareSync]:
        if self._checked is not None:
            return reversed(self._checked) if reverse else self._checked
        ordered = reversed(self._middleware) if reverse else iter(self._middleware)
        checked: list[MiddlewareSync] = []
        for middleware in ordered:
            if not isinstance(middleware, MiddlewareSync) or inspect.iscoroutinefunction(
                getattr(middleware, hook, None)
            ):
                raise _errors.AsyncUnsupportedError(_ASYNC_UNSUPPORTED)
            checked.append(middleware)
        return checked
