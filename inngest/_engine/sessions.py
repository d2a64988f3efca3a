"""An event's sessions (``meta``): the two layers an event may carry, merged at ingest.

``meta.sessions`` is set by the sender; ``meta.propagated_sessions`` is stamped by an SDK on
events sent from inside a run (the run's own sessions). The server folds the second into the
first as it takes the event in, and the event keeps only the merged ``meta.sessions``: the
sender's keys win and are all kept, a ``null`` value cuts that inherited key, a ``null``
``sessions`` cuts them all, and inherited keys fill what is left of the 5 places in
byte order of their keys. A number is kept as its text.
"""

from __future__ import annotations

import decimal
import json
import typing

from inngest._engine.models import JSON
from inngest._engine.payload import number_text

MAX_SESSIONS = 5
MAX_KEY_BYTES = 128
MAX_ID_BYTES = 512


class SessionsError(ValueError):
    """Sessions the event API refuses; the message is the server's."""


def resolve(meta: typing.Mapping[str, JSON]) -> dict[str, JSON] | None:
    """The ``meta`` an event keeps (None for none), or SessionsError."""
    propagated = _propagated(meta.get("propagated_sessions"))
    manual, cuts, clear_all = _manual(meta)
    if clear_all:
        propagated = {}
    for key in cuts:
        propagated.pop(key, None)
    merged = dict(manual)
    inherited = sorted((key for key in propagated if key not in merged), key=_utf8)
    for key in inherited[:max(0, MAX_SESSIONS - len(merged))]:
        merged[key] = propagated[key]
    _validate(merged)
    return {"sessions": typing.cast(JSON, merged)} if merged else None


def from_invocation(meta: typing.Mapping[str, JSON]) -> dict[str, JSON] | None:
    """The ``meta`` an event sent by GraphQL ``invokeFunction`` keeps, read from its ``meta``
    argument as the dev server reads it (measured): ``sessions`` is its only key, each
    session a string or a number, no layers to merge. A number from the variables is kept
    as its text; one written in the query is a Go float64 or int64, written as Go writes it
    (``1e2`` is ``100``). SessionsError
    carries the server's message; with several faults it names the first in key order."""
    for key in sorted(meta, key=_utf8):
        if key != "sessions":
            raise SessionsError(f"event meta {_quote(key)} is not supported")
    raw = meta.get("sessions")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SessionsError("event meta sessions must be an object")
    sessions = {}
    for key in sorted(raw, key=_utf8):
        text = _invocation_id(raw[key])
        if text is None:
            raise SessionsError(f"session {_quote(key)} must be a string or number")
        sessions[key] = text
    try:
        _validate(sessions)
    except SessionsError as err:
        raise SessionsError(f"invalid sessions: {err}") from None
    return {"sessions": typing.cast(JSON, sessions)} if sessions else None


def _manual(meta: typing.Mapping[str, JSON]) -> tuple[dict[str, str], list[str], bool]:
    """The sender's sessions, the inherited keys it cuts, and whether it cuts them all."""
    if "sessions" not in meta:
        return {}, [], False
    raw = meta["sessions"]
    if raw is None:
        return {}, [], True
    sessions: dict[str, str] = {}
    cuts = []
    for key, value in _object(raw).items():
        if value is None:
            cuts.append(key)
        elif (text := _id(value)) is not None:
            sessions[key] = text
        else:
            raise SessionsError(f"event session {_quote(key)} must be a string, number, or null")
    return sessions, cuts, False


def _propagated(raw: JSON) -> dict[str, str]:
    if raw is None:
        return {}
    sessions = {}
    for key, value in _object(raw).items():
        text = _id(value)
        if text is None:
            raise SessionsError(f"event session {_quote(key)} must be a string or number")
        sessions[key] = text
    return sessions


def _object(raw: JSON) -> dict[str, JSON]:
    if not isinstance(raw, dict):
        kind = {str: "string", list: "array", bool: "bool"}.get(type(raw), "number")
        raise SessionsError(
            f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")
    return raw


def _id(value: JSON) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    return None


def _invocation_id(value: JSON) -> str | None:
    # A plain float is a literal of the query; the variables' floats are FloatText.
    if type(value) is float:
        return _go_fixed(value)
    return _id(value)


def _go_fixed(value: float) -> str:
    """``value`` as Go's ``strconv.FormatFloat(v, 'f', -1, 64)`` writes it: the fewest
    digits that read back as it, never an exponent."""
    text = format(decimal.Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _validate(sessions: dict[str, str]) -> None:
    if len(sessions) > MAX_SESSIONS:
        raise SessionsError(f"event sessions can include at most {MAX_SESSIONS} entries")
    for key in sorted(sessions, key=_utf8):
        value = sessions[key]
        if not key:
            raise SessionsError("event session keys cannot be empty")
        if len(_utf8(key)) > MAX_KEY_BYTES:
            raise SessionsError(f"event session key {_quote(key)} exceeds {MAX_KEY_BYTES} bytes")
        if not value:
            raise SessionsError(f"event session {_quote(key)} cannot have an empty ID")
        if len(_utf8(value)) > MAX_ID_BYTES:
            raise SessionsError(f"event session {_quote(key)} exceeds {MAX_ID_BYTES} bytes")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
