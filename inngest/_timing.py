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

    def header(self, ended: float | None = None) -> str:
        """The header value, with ``comm_handler`` ending now (or at ``ended``)."""
        ended = now() if ended is None else ended
        entry = f"comm_handler;dur={round((ended - self.started) * 1000)}"
        if not self._spans:
            return entry
        return ", ".join([entry] + [
            f"{name};dur={round((end - start) * 1000)}" for name, start, end in self._spans
        ])
