"""Time sources: the wall clock, and a manual clock that tests move by hand."""

from __future__ import annotations

import threading
import time
import typing


class Clock(typing.Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""

    def subscribe(self, callback: typing.Callable[[], None]) -> None:
        """Call ``callback`` whenever time jumps (not for the steady passing of time)."""

    def seconds_until(self, at_ms: int) -> float | None:
        """Real seconds to wait for the clock to reach ``at_ms``; None when only a jump
        (which calls the subscribers) will get it there."""


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def subscribe(self, callback: typing.Callable[[], None]) -> None:
        pass

    def seconds_until(self, at_ms: int) -> float | None:
        # Capped: a condition's wait refuses a longer timeout (OverflowError).
        return min(max(0.0, (at_ms - self.now_ms()) / 1000), threading.TIMEOUT_MAX)


class ManualClock:
    """A clock that only moves when ``advance`` or ``set`` is called."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms
        self._lock = threading.Lock()
        self._callbacks: list[typing.Callable[[], None]] = []

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def subscribe(self, callback: typing.Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def seconds_until(self, at_ms: int) -> float | None:
        return 0.0 if at_ms <= self.now_ms() else None

    def advance(self, seconds: float) -> None:
        self.set(self.now_ms() + round(seconds * 1000))

    def set(self, now_ms: int) -> None:
        with self._lock:
            self._now = now_ms
        for callback in self._callbacks:
            callback()
