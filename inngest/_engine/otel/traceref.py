"""The trace context a call gives the app, and the span each call is in the run's trace.

Each call carries ``traceparent`` and ``tracestate`` headers as the dev server sends them:
the state names the function, its app and a trace reference (``inngest@traceref``, a
URL-escaped ``{"tp": traceparent, "ts": ""}``). An SDK tracing the call (the JS SDK's
``extendedTracesMiddleware``) sends its spans back with that reference, and they show under
the call's span: one per attempt of one queue item, whatever the queue item runs.
"""

from __future__ import annotations

import functools
import hashlib

from inngest._engine.models import Function


@functools.lru_cache(maxsize=1024)  # each call of a run sends it
def trace_id(run_id: str) -> str:
    """The run's W3C trace id (32 hex digits)."""
    return hashlib.sha256(f"trace:{run_id}".encode()).hexdigest()[:32]


def call_span_id(group_id: str, attempt: int) -> str:
    """The span id (16 hex digits) of one attempt of the call grouped as ``group_id``."""
    return hashlib.sha256(f"{group_id}:{attempt}".encode()).hexdigest()[:16]


def headers(run_id: str, fn: Function, group_id: str, attempt: int) -> dict[str, str]:
    parent = f"00-{trace_id(run_id)}-{call_span_id(group_id, attempt)}-01"
    # The URL-escaped {"tp":parent,"ts":""}, written out: one per call, and the parent's
    # hex digits and dashes need no escaping.
    reference = f"%7B%22tp%22%3A%22{parent}%22%2C%22ts%22%3A%22%22%7D"
    state = f"inngest@traceref={reference},inngest@fn={fn.id},inngest@app={fn.app_id}"
    return {"traceparent": parent, "tracestate": state}
