"""The step API of the run being executed, reachable without passing ``ctx`` around."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def set_step_context(step: StepSync) -> typing.Iterator[None]:
    """Make ``step`` what ``get_step_context`` returns inside the block (not nestable)."""
    if _current.get(None) is not None:
        raise StepContextUnsetError("a step context is already set")
    token = _current.set(step)
    try:
        yield
    finally:
        _current.reset(token)


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
