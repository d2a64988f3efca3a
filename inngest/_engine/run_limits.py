"""Per-function overrides of a run's step and state size limits, by function UUID: what the
dev server's test routes ``/fn/step-limit`` and ``/fn/state-size-limit`` set, so a test can
reach a limit without a thousand steps or 32 MiB of state."""

from __future__ import annotations

import threading


class Overrides:
    """One limit's overrides; a function without one keeps the engine's default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_function: dict[str, int] = {}

    def limit(self, function_id: str, default: int) -> int:
        """The function's limit; an override of 0 is the default, as on the dev server."""
        with self._lock:
            return self._by_function.get(function_id) or default

    def set(self, function_id: str, limit: int) -> None:
        with self._lock:
            self._by_function[function_id] = limit

    def remove(self, function_id: str) -> bool:
        """Drop the override; whether there was one."""
        with self._lock:
            return self._by_function.pop(function_id, None) is not None


class RunLimits:
    def __init__(self) -> None:
        self.steps = Overrides()
        self.state_bytes = Overrides()
