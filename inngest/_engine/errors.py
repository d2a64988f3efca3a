"""The engine's errors: one base class, and a stable ``code`` on each kind."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"

    @property
    def message(self) -> str:
        return str(self)
