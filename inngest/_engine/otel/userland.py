"""``POST /v1/traces/userland``: spans an app traced itself, sent as OTLP (protobuf, or JSON
when the content type says so), kept with the run they belong to.

Answers are as the dev server gives them: an OTLP export response (in the request's
encoding) counting the spans it could not keep, or an OTLP ``Status`` with the reason. A
span is kept when it carries the trace reference its call was given (traceref.py) and
names, in ``sys.function.id``, a function of a synced app; ``sdk.run.id`` is its run.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import typing
import urllib.parse
import uuid

from inngest._engine import ulid
from inngest._engine.http.replies import BASE_HEADERS, Response, encode
from inngest._engine.models import JSON
from inngest._engine.otel import otlp, protowire
from inngest._engine.otel.tree import SDK_EXECUTION_SPAN
from inngest._engine.payload import Object
from inngest._engine.store import Store

MAX_BODY_BYTES = 8 * 1024 * 1024
# What the server reads itself or drops: never shown among a span's attributes.
_OWN_ATTRIBUTES = frozenset((
    "sdk.run.id", "sys.function.id", "sys.app.id", "inngest.traceparent", "inngest.traceref",
    "inngest.step.parentSpanId", "inngest.step.id", "inngest.step.index",
    "inngest.step.hash", "inngest.step.attempt"))
_HIDDEN_PREFIX = "_inngest."
_NO_RUN = "0" * 26
_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUSES = {1: "COMPLETED", 2: "FAILED"}
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def handle(store: Store, headers: typing.Mapping[str, str], body: bytes) -> Response:
    as_json = "json" in headers.get("content-type", "")
    if len(body) > MAX_BODY_BYTES:
        return _status(413, "Request body too large", as_json)
    try:
        spans = otlp.parse_json(body) if as_json else otlp.from_protobuf(body)
    except (otlp.PayloadError, ValueError, RecursionError):
        return _status(400, "Invalid payload", as_json)
    rejected = sum(not _keep(store, span) for span in spans)
    return _exported(rejected, as_json, "gzip" in headers.get("accept-encoding", ""))


def _keep(store: Store, span: otlp.Span) -> bool:
    """Keep ``span`` with its run; False when it cannot be (the server counts it rejected)."""
    call = _call_span_id(span)
    ids = _run_and_function(span)
    if call is None or ids is None or len(span.span_id) < 8:
        return False
    run_id, fn_id = ids
    if not _active(store, fn_id):
        return False
    span_id = span.span_id[:8].hex()
    parent = call
    if len(span.parent_span_id) == 12 and not (
            span.scope_name == "inngest" and span.name == SDK_EXECUTION_SPAN):
        # What an OTLP/JSON exporter's hex id decodes to as base64 (see otlp.py).
        parent = span.parent_span_id[:8].hex()
    store.save_userland_span(run_id, span_id, {
        "spanID": span_id, "parentSpanID": parent, "name": span.name,
        "kind": _KINDS[span.kind] if 0 <= span.kind < len(_KINDS) else _KINDS[0],
        "status": _STATUSES.get(span.status_code, "RUNNING"),
        "startedAt": span.start_ns // 1_000_000, "endedAt": span.end_ns // 1_000_000,
        "serviceName": span.service_name, "scopeName": span.scope_name,
        "scopeVersion": span.scope_version, "attributes": _shown_attributes(span),
    })
    return True


def _active(store: Store, fn_id: str) -> bool:
    """Whether the function is known and not archived (its app synced without it)."""
    fn = store.function(fn_id)
    return fn is not None and any(active.id == fn_id for active in store.functions(fn.app_id))


def _call_span_id(span: otlp.Span) -> str | None:
    """The span id of the call named by the span's trace reference; None without one."""
    text = next((value for key, value in span.attributes if key == "inngest.traceref"), None)
    if text is None:
        return None
    if not isinstance(text, str) or _BAD_ESCAPE.search(text):
        return None
    try:
        reference = json.loads(urllib.parse.unquote_plus(text))
    except ValueError:
        return None
    if reference is None:
        return None
    parent = reference.get("tp") if isinstance(reference, dict) else None
    if not isinstance(parent, str) or not parent:
        return None
    parts = parent.split("-")
    return parts[2] if len(parts) == 4 else parent


def _run_and_function(span: otlp.Span) -> tuple[str, str] | None:
    run_id, fn_id = _NO_RUN, ""
    for key, value in span.attributes:
        text = value if isinstance(value, str) else ""
        if key == "sdk.run.id":
            if not ulid.is_ulid(text):
                return None
            run_id = text.upper()
        elif key == "sys.function.id":
            try:
                fn_id = str(uuid.UUID(text))
            except ValueError:
                return None
    return (run_id, fn_id) if fn_id else None


def _shown_attributes(span: otlp.Span) -> Object:
    shown: dict[str, JSON] = {}
    for key, value in span.attributes:
        if key not in _OWN_ATTRIBUTES and not key.startswith(_HIDDEN_PREFIX):
            shown[key] = _shown_value(value)
    return dict(sorted(shown.items()))


def _shown_value(value: otlp.Attribute) -> JSON:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        # Go's text for them (JSON has no such numbers).
        return "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
    return value


def _exported(rejected: int, as_json: bool, gzipped: bool) -> Response:
    if as_json:
        body = encode({"partialSuccess": {"rejectedSpans": str(rejected)}} if rejected else {})
    else:
        body = protowire.field(1, protowire.LEN, protowire.field(
            1, protowire.VARINT, rejected)) if rejected else b""
    headers = _headers(as_json)
    if gzipped:
        headers["content-encoding"] = "gzip"
        body = gzip.compress(body)
    return 200, headers, body


def _status(status: int, message: str, as_json: bool) -> Response:
    """An OTLP error: a ``google.rpc.Status`` with only its message."""
    body = encode({"message": message}) if as_json else protowire.field(
        2, protowire.LEN, message.encode())
    return status, _headers(as_json), body


def _headers(as_json: bool) -> dict[str, str]:
    return {**BASE_HEADERS,
            "content-type": "application/json" if as_json else "application/x-protobuf"}
