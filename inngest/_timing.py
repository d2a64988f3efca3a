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
        """The header value, with ``comm_handler`` ending now."""
        value = f"comm_handler;dur={round((now() - self.started) * 1000)}"
        for name, started, ended in self.spans:
            value += f", {name};dur={round((ended - started) * 1000)}"
        return value
