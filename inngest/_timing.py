"""Durations for the ``server-timing`` response header."""

from __future__ import annotations

import time

now = time.perf_counter


class ServerTimings:
    """The spans of one request after ``comm_handler`` (which encloses them all), each added
    when it ends; spans run one after another, so they are kept in the order they started."""

    __slots__ = ("started", "spans")

    def __init__(self) -> None:
        self.started = now()
        # (name, start, end) of each span, appended when it ends.
        self.spans: list[tuple[str, float, float]] = []

    def header(self) -> str:
        """The header value, with ``comm_handler`` ending now. Durations are whole
        milliseconds as ``round`` gives them; most spans take well under half of one."""
        milliseconds = (now() - self.started) * 1000
        value = "comm_handler;dur=" + ("0" if milliseconds <= 0.5 else str(round(milliseconds)))
        for name, started, ended in self.spans:
            milliseconds = (ended - started) * 1000
            duration = "0" if milliseconds <= 0.5 else str(round(milliseconds))
            value += ", " + name + ";dur=" + duration
        return value
