"""The step API of the run being executed, reachable without passing ``ctx`` around."""

from __future__ import annotations

import contextvars
import functools
import typing

from inngest import _errors

if typing.TYPE_CHECKING:
    from inngest._step import StepSync

P = typing.ParamSpec("P")
R = typing.TypeVar("R")

_current: contextvars.ContextVar[StepSync] = contextvars.ContextVar("inngest_step")


class StepContextUnsetError(_errors.Error, LookupError):
    """No function run is executing here, or a step context is already set."""

    code = "step_context_unset"


def get_step_context() -> StepSync:
    """``ctx.step`` of the function run executing in this thread."""
    try:
        return _current.get()
    except LookupError:
        raise StepContextUnsetError("no Inngest function is running here") from None


def set_step_context(step: StepSync) -> typing.ContextManager[None]:
    """Make ``step`` what ``get_step_context`` returns inside the block (not nestable)."""
    return _StepContext(step)


def enter_step_context(step: StepSync) -> contextvars.Token[StepSync]:
    """Make ``step`` current until ``exit_step_context(token)`` (not nestable). Two calls
    rather than a context manager object: the SDK enters one on every request."""
    if _current.get(None) is not None:
        raise StepContextUnsetError("a step context is already set")
    return _current.set(step)


# The variable's own reset (no Python frame): undoes enter_step_context(step) with its token.
exit_step_context: typing.Callable[[contextvars.Token[StepSync]], None] = _current.reset


class _StepContext:
    def __init__(self, step: StepSync) -> None:
        self._step = step
        self._token: contextvars.Token[StepSync] | None = None

    def __enter__(self) -> None:
        self._token = enter_step_context(self._step)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            exit_step_context(self._token)
            self._token = None


def step(step_id: str) -> typing.Callable[[typing.Callable[P, R]], typing.Callable[P, R]]:
    """Decorator: inside a function run a call becomes ``step.run(step_id, ...)``; outside
    one it is a plain call."""

    def decorator(func: typing.Callable[P, R]) -> typing.Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            call = functools.partial(func, *args, **kwargs)
            current = _current.get(None)
            return call() if current is None else current.run(step_id, call)

        return wrapper

    return decorator
