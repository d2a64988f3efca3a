"""The context a function handler receives, and its replay-quiet logger."""

from __future__ import annotations

import dataclasses
import logging
import typing

if typing.TYPE_CHECKING:
    from inngest._event import Event
    from inngest._step import GroupSync, StepSync

Logger = typing.Union[
    logging.Logger, "logging.LoggerAdapter[logging.Logger]", "ReplayQuietLogger"
]


_METHOD_NAMES = (
    "debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"
)
_STDLIB_METHODS = frozenset(
    getattr(cls, name)
    for cls in (logging.Logger, logging.LoggerAdapter)
    for name in _METHOD_NAMES
    if hasattr(cls, name)
)


class ReplayQuietLogger:
    """Forwards each call (``info``, ``warning``, ...) to the user's logger object, as is,
    except while memoized code replays. Forwarding the method itself (not ``log(level)``)
    keeps logger subclasses and non-stdlib loggers (structlog and the like) working.
    """

    def __init__(self, logger: object) -> None:
        self.logger = logger
        # Set by RunState._start_execution once code that was not memoized runs (an
        # attribute, not a method: it is set on every request). Private, so that
        # ``ctx.logger.live`` still reaches the user's logger.
        self._live = False

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.logger, name)

    def _forward(self, method: str, args: tuple[object, ...], kwargs: dict[str, object]) -> None:
        if not self._live:
            return
        if getattr(type(self.logger), method, None) in _STDLIB_METHODS:
            # Records name the user's line, not this proxy's two frames.
            kwargs = {**kwargs, "stacklevel": typing.cast(int, kwargs.get("stacklevel", 1)) + 2}
        getattr(self.logger, method)(*args, **kwargs)

    def debug(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("debug", args, kwargs)

    def info(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("info", args, kwargs)

    def warning(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("warning", args, kwargs)

    def warn(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("warn", args, kwargs)

    def error(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("error", args, kwargs)

    def exception(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("exception", args, kwargs)

    def critical(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("critical", args, kwargs)

    def fatal(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("fatal", args, kwargs)

    def log(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._forward("log", args, kwargs)


@dataclasses.dataclass
class ContextSync:
    """What a function handler receives; middleware may replace event, events and logger."""

    attempt: int
    event: Event
    events: list[Event]
    group: GroupSync
    job_id: str | None
    logger: Logger
    request_id: str | None
    run_id: str
    step: StepSync
