"""Errors raised by ``inngest.experimental.mocked``."""

from inngest import _errors


class UnstubbedStepError(_errors.Error):
    """A step that only a server can complete (wait, invoke) has no stub."""

    code = "unstubbed_step"
