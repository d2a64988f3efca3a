"""Durations for the ``server-timing`` response header."""

from __future__ import annotations

import time


class ServerTimings:
    """Named spans, reported in the order they started; spans never stopped are left out."""

    def __init__(self) -> None:
        self._spans: dict[str, tuple[float, float | None]] = {}

    def start(self, name: str) -> None:
        self._spans[name] = (time.perf_counter(), None)

    def stop(self, name: str) -> None:
        started, ended = self._spans[name]
        if ended is None:
            self._spans[name] = (started, time.perf_counter())

    def header(self) -> str:
        entries = []
        for name, (started, ended) in self._spans.items():
            if ended is not None:
                entries.append(f"{name};dur={round((ended - started) * 1000)}")
        return ", ".join(entries)
