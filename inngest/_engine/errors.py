"""The engine's errors: one base class, and a stable ``code`` on each kind; and the failed
calls of its own transport, which are transport errors."""

from __future__ import annotations

from inngest._transport import TransportError


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"

    @property
    def message(self) -> str:
        return str(self)


class CallFailed(TransportError):
    """The engine's own transport failed a call the way the dev server fails it: the
    attempt's error is this one, named by the server's system code when it has one (else a
    plain ``Error``), not the app being out of reach."""

    code = "call_failed"

    def __init__(self, message: str, system_code: str | None = None) -> None:
        super().__init__(message)
        self.system_code = system_code
