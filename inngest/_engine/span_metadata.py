"""The metadata the engine records on a run's spans itself, in the dev server's kinds and
fields: for each call to the app, ``inngest.http.timing`` (the phases of its HTTP request)
and ``inngest.timing`` (how long the call waited in the engine before it went out); on the
run's span, ``inngest.usage`` (the size of all its spans' metadata).

Only what the engine measures is recorded: a request sent by a transport that does not time
its phases (HTTPS, a redirect, an in-process app) gets no ``inngest.http.timing`` and no
``network_total_ms``, as on the dev server when it has no HTTP timing.
"""

from __future__ import annotations

import json
import typing

from inngest._engine.models import JSON
from inngest._transport import Timing

HTTP_TIMING = "inngest.http.timing"
TIMING = "inngest.timing"
USAGE = "inngest.usage"

Metadata = dict[str, JSON]
"""One entry as spans carry it: ``kind``, ``scope``, ``values`` and ``updatedAt`` (ms)."""


def call_entries(timing: Timing | None, *, due_ms: int, held_ms: int | None,
                 started_ms: int, now_ms: int) -> list[Metadata]:
    """A call's entries: its request's phases (when measured) and its time in the engine,
    from when it was due to when it started, split at the moment flow control first held it
    back (``held_ms``; the queue delay is the time after it)."""
    entries: list[Metadata] = []
    waited: dict[str, JSON] = {}
    if timing is not None:
        entries.append(_entry(HTTP_TIMING, {
            "content_transfer_ms": _ms(timing.total - timing.start_transfer),
            "dns_lookup_ms": _ms(timing.dns_lookup),
            "server_processing_ms": _ms(timing.server_processing),
            "tcp_connection_ms": _ms(timing.tcp_connection),
            "tls_handshake_ms": _ms(timing.tls_handshake),
            "total_ms": _ms(timing.total),
        }, now_ms))
        waited["network_total_ms"] = _ms(timing.total)
    admitted = started_ms if held_ms is None else held_ms
    queue_delay = max(started_ms - admitted, 0)
    system_latency = max(admitted - due_ms, 0)
    waited.update(queue_delay_ms=queue_delay, system_latency_ms=system_latency,
                  total_inngest_ms=queue_delay + system_latency)  # still in name order
    entries.append(_entry(TIMING, waited, now_ms))
    return entries


def _ms(seconds: float) -> int:
    """Whole milliseconds, truncated as Go's ``Duration.Milliseconds``; never negative."""
    return max(int(seconds * 1000), 0)


def _entry(kind: str, values: dict[str, JSON], now_ms: int) -> Metadata:
    """``values`` must be in name order, as the dev server lists them."""
    return {"kind": kind, "scope": "request", "values": values, "updatedAt": now_ms}


def attach_usage(root: dict[str, object]) -> None:
    """Add ``inngest.usage`` to the run's span: the bytes of every span's metadata values
    (each name plus its JSON value, as the dev server counts them), when there are any."""
    total = _size(root)
    if total <= 0:
        return
    moment = next((root[key] for key in ("endedAt", "startedAt", "queuedAt")
                   if isinstance(root.get(key), int)), 0)
    entry: Metadata = {"kind": USAGE, "scope": "run", "values": {"metadata_bytes": total},
                       "updatedAt": typing.cast(int, moment)}
    root["metadata"] = [*_entries(root), entry]


def _size(span: dict[str, object]) -> int:
    own = sum(len(name.encode()) + len(_json(value).encode())
              for entry in _entries(span)
              for name, value in typing.cast(dict[str, JSON], entry["values"]).items())
    children = typing.cast(list[dict[str, object]], span.get("childrenSpans") or [])
    return own + sum(_size(child) for child in children)


def _entries(span: dict[str, object]) -> list[Metadata]:
    return typing.cast(list[Metadata], span.get("metadata") or [])


def _json(value: JSON) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
