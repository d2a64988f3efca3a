"""Durations for the ``server-timing`` response header."""

from __future__ import annotations

import time

now = time.perf_counter


class ServerTimings:
    """The spans of one request after ``comm_handler`` (which encloses them all), each added
    when it ends; spans run one after another, so they are kept in the order they started."""

    __slots__ = ("started", "_spans")

    def __init__(self, started: float | None = None) -> None:
        self.started = now() if started is None else started
        self._spans: list[tuple[str, float, float]] = []

    def add(self, name: str, started: float, ended: float) -> None:
        self._spans.append((name, started, ended))

    def header(self) -> str:
        """The header value, with ``comm_handler`` ending now."""
        value = f"comm_handler;dur={round((now() - self.started) * 1000)}"
        for name, started, ended in self._spans:
            value += f", {name};dur={round((ended - started) * 1000)}"
        return value
