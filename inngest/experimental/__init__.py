"""Experimental modules: APIs that may change between releases."""

from inngest._step_context import get_step_context, set_step_context, step

__all__ = ["get_step_context", "set_step_context", "step"]
