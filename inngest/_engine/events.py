"""Inbound event validation and normalisation (the rules of ``POST /e/{key}``)."""

from __future__ import annotations

import json
import typing

from inngest._engine.errors import EngineError
from inngest._engine.models import JSON
from inngest._engine.payload import BodyError, go_int, load_body, load_float_texts
from inngest._engine.responses import sorted_keys
from inngest._engine.sessions import SessionsError, resolve

MAX_EVENTS = 5000
MAX_EVENT_SIZE = 3 * 1024 * 1024
# How much longer than its text in the body an event can be once re-encoded as compact
# ASCII JSON: a character becomes at most a 6-byte escape, a number such as 1e15 becomes
# 1000000000000000.0 (4.5 times its text).
_MAX_GROWTH = 6
MIN_TS_MS = 315532800000  # 1980-01-01T00:00:00Z
MAX_TS_MS = 4102444800000  # 2100-01-01T00:00:00Z
EARLIEST_DATE_MS = -62135596800000  # 0001-01-01T00:00:00Z, the first time a date can show
RESERVED_PREFIX = "inngest/"
INTERNAL_DATA_KEY = "_inngest"

FUNCTION_FINISHED = "inngest/function.finished"
FUNCTION_FAILED = "inngest/function.failed"
FUNCTION_CANCELLED = "inngest/function.cancelled"
FUNCTION_INVOKED = "inngest/function.invoked"
SCHEDULED_TIMER = "inngest/scheduled.timer"
HTTP_REQUEST = "inngest/http.request"
_NOT_EVENTS = "Request body must contain an event object or an array of event objects"


def invocation_metadata(fn_id: str, **fields: JSON) -> dict[str, JSON]:
    """``data._inngest`` of an invocation event as the real server stores it: the target as
    given (a slug or a UUID), every field with its zero value unless given, keys sorted."""
    meta: dict[str, JSON] = {
        "expire": 0, "fn_id": fn_id, "gid": "", "name": "", "source_app_id": "",
        "source_fn_id": "", "source_fn_v": 0, **fields}
    return dict(sorted(meta.items()))


class EventError(EngineError, ValueError):
    """An event the API refuses; the message is returned to the sender."""

    code = "event_invalid"


def split_body(body: bytes) -> list[JSON]:
    """The events of a request body: one object or an array of objects."""
    if not body.strip():
        return []
    if body.lstrip(b" \t\r\n")[:1] not in (b"{", b"["):
        # The dev server reads the first JSON token: anything but an object or array start
        # (text that is not JSON, a byte order mark, NaN) is this refusal.
        raise EventError(_NOT_EVENTS)
    try:
        # A session id keeps a number's text; bodies without sessions skip the cost of that.
        parsed = load_float_texts(body) if b"sessions" in body else load_body(body)
    except BodyError as err:
        raise EventError(f"Unable to parse request body: {err}") from None
    if isinstance(parsed, dict):
        return [parsed]
    if not isinstance(parsed, list):
        raise EventError(_NOT_EVENTS)
    if len(parsed) > MAX_EVENTS:
        raise EventError(f"Cannot have more than {MAX_EVENTS} events in a batch")
    return parsed


def normalize(raw: JSON, now_ms: int, internal_id: str, *,
              body_bytes: int | None = None) -> dict[str, JSON]:
    """Validate one inbound event and return it as functions will see it.

    ``body_bytes`` is the size of the request body the event came in: when it is small
    enough, no event in it can be over the size limit, and the event is not measured.
    """
    if not isinstance(raw, dict):
        raise EventError("event must be an object")
    if body_bytes is None or body_bytes * _MAX_GROWTH > MAX_EVENT_SIZE:
        size = len(json.dumps(raw, separators=(",", ":")).encode("utf-8"))
        if size > MAX_EVENT_SIZE:
            raise EventError(
                f"Event is over the max size: Max {MAX_EVENT_SIZE} bytes / Size {size} bytes"
            )
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise EventError("event name is empty")
    if name.lower().startswith(RESERVED_PREFIX):
        raise EventError(f"event name is reserved for internal use: {name}")
    data = raw.get("data")
    if isinstance(data, dict) and INTERNAL_DATA_KEY in data:
        raw = {**raw, "data": {k: v for k, v in data.items() if k != INTERNAL_DATA_KEY}}
    return internal(raw, now_ms, internal_id)


def internal(raw: typing.Mapping[str, JSON], now_ms: int, internal_id: str, *,
             lenient_ts: bool = False) -> dict[str, JSON]:
    """Shape an event (also the engine's own) without the reserved-name check. With
    ``lenient_ts`` (a durable endpoint's event, which the server keeps as sent) a timestamp
    before 1980 is kept, and one no date can show or past 2100 is the receipt time."""
    data = _optional(raw, "data", dict, "an object")
    user = _optional(raw, "user", dict, "an object")
    given = raw.get("ts")
    ts = go_int(given)  # the server decodes ts to an int64: -0 is one, 0.0 and 1e2 are not
    if given is not None and ts is None:
        raise EventError("event ts must be an integer number of milliseconds")
    if not ts:
        ts = now_ms
    elif lenient_ts and not EARLIEST_DATE_MS <= ts <= MAX_TS_MS:
        ts = now_ms
    elif ts < MIN_TS_MS and not lenient_ts:
        raise EventError("timestamp is before Jan 1, 1980")
    elif ts > MAX_TS_MS:
        raise EventError("timestamp is after Jan 1, 2100")
    event_id = _optional(raw, "id", str, "a string")
    _optional(raw, "v", str, "a string")
    meta = _meta(raw)
    # The real server keeps data and user as Go maps: it stores and shows their keys
    # sorted, at any depth, whatever order they were sent in.
    event: dict[str, JSON] = {
        "name": raw["name"],
        "data": sorted_keys(data),
        "id": event_id or internal_id,
        "ts": ts,
        "user": sorted_keys(user or {}),
    }
    if raw.get("v") is not None:
        event["v"] = raw["v"]
    if meta is not None:
        event["meta"] = meta
    return event


def _meta(raw: typing.Mapping[str, JSON]) -> JSON:
    """The event's ``meta`` as kept: its merged sessions alone (see sessions.py)."""
    meta = _optional(raw, "meta", dict, "an object")
    if meta is None:
        return None
    try:
        return resolve(typing.cast(dict[str, JSON], meta))
    except SessionsError as err:
        raise EventError(str(err)) from None


def _optional(raw: typing.Mapping[str, JSON], field: str, kind: type, what: str) -> JSON:
    """``raw[field]``, None when absent; refused when present and not of ``kind``."""
    value = raw.get(field)
    if value is not None and not isinstance(value, kind):
        raise EventError(f"event {field} must be {what}")
    return value
