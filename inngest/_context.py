"""The context a function handler receives, and its replay-quiet logger."""

from __future__ import annotations

import dataclasses
import logging
import typing

if typing.TYPE_CHECKING:
    from inngest._event import Event
    from inngest._step import GroupSync, StepSync

Logger = typing.Union[logging.Logger, "logging.LoggerAdapter[logging.Logger]"]


class ReplayQuietLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Drops records while memoized code replays; logs once new code runs."""

    def __init__(self, logger: Logger) -> None:
        super().__init__(logger, None)
        self._live = False

    def go_live(self) -> None:
        self._live = True

    def isEnabledFor(self, level: int) -> bool:
        return self._live and self.logger.isEnabledFor(level)

    def process(
        self, msg: object, kwargs: typing.MutableMapping[str, typing.Any]
    ) -> tuple[object, typing.MutableMapping[str, typing.Any]]:
        # The default would overwrite the caller's ``extra`` with ours (None).
        return msg, kwargs


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
