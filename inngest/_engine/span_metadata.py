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


class CallMetadata(typing.NamedTuple):
    """A call's entries, and their JSON text (``dump(entries)``), which its history item
    stores: written out from the numbers, as every call has entries to store."""

    entries: list[Metadata]
    text: str


_HTTP_NAMES = ("content_transfer_ms", "dns_lookup_ms", "server_processing_ms",
               "tcp_connection_ms", "tls_handshake_ms", "total_ms")
_WAITED_NAMES = ("queue_delay_ms", "system_latency_ms", "total_inngest_ms")
_NETWORK_TOTAL = "network_total_ms"


def _text_format(kind: str, names: tuple[str, ...]) -> str:
    """A ``str.format`` template of an entry's JSON text: its values (whole numbers, in
    ``names``' order), then its ``updatedAt``. Kinds and names need no escaping."""
    values = ",".join(f'"{name}":{{}}' for name in names)
    return '{{"kind":"%s","scope":"request","values":{{%s}},"updatedAt":{}}}' % (kind, values)


_HTTP_TEXT = _text_format(HTTP_TIMING, _HTTP_NAMES)
_WAITED_TEXT = _text_format(TIMING, _WAITED_NAMES)
_NETWORK_WAITED_TEXT = _text_format(TIMING, (_NETWORK_TOTAL, *_WAITED_NAMES))


def call_entries(timing: Timing | None, *, due_ms: int, held_ms: int | None,
                 started_ms: int, now_ms: int) -> CallMetadata:
    """A call's entries: its request's phases (when measured) and its time in the engine,
    from when it was due to when it started, split at the moment flow control first held it
    back (``held_ms``; the queue delay is the time after it)."""
    admitted = started_ms if held_ms is None else held_ms
    queue_delay = max(started_ms - admitted, 0)
    system_latency = max(admitted - due_ms, 0)
    waited = [queue_delay, system_latency, queue_delay + system_latency]
    if timing is None:
        return CallMetadata([_entry(TIMING, dict(zip(_WAITED_NAMES, waited)), now_ms)],
                            f"[{_WAITED_TEXT.format(*waited, now_ms)}]")
    phases = [_ms(timing.total - timing.start_transfer), _ms(timing.dns_lookup),
              _ms(timing.server_processing), _ms(timing.tcp_connection),
              _ms(timing.tls_handshake), _ms(timing.total)]
    waited.insert(0, phases[-1])  # network_total_ms, first in name order
    entries = [_entry(HTTP_TIMING, dict(zip(_HTTP_NAMES, phases)), now_ms),
               _entry(TIMING, dict(zip((_NETWORK_TOTAL, *_WAITED_NAMES), waited)), now_ms)]
    text = f"[{_HTTP_TEXT.format(*phases, now_ms)},{_NETWORK_WAITED_TEXT.format(*waited, now_ms)}]"
    return CallMetadata(entries, text)


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
