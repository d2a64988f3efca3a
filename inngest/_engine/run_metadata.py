"""Run metadata sent with ``POST /v1/runs/{id}/metadata``, read and refused as the dev server
does (measured), then combined into the run's metadata of its kind: ``merge`` (the
default), ``set``, ``delete`` or ``add`` (numbers summed by key). Traces show it with the
run's scores (``scores.attach``): on the run's span, or with a ``target.step_id`` on the
step's span. An SDK also sends metadata with a step's op (``from_op``), for the run or for
that step. ``inngest.ai`` metadata without a cost gets one (ai_cost.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math

from inngest._engine import ai_cost, scores
from inngest._engine.models import JSON
from inngest._engine.payload import BodyError, Object, dump, load_first
from inngest._engine.store import Store
from inngest._protocol.step_ids import hash_step_id

OPS = ("merge", "set", "delete", "add")
AI = "inngest.ai"
MAX_KIND_BYTES = 128
MAX_SPAN_BYTES = 64 * 1024
# The inngest.* kinds an SDK may send; userland.* and others are free.
ALLOWED_INNGEST_KINDS = frozenset((
    AI, "inngest.http", "inngest.http.timing", "inngest.response_headers",
    "inngest.warnings", scores.EXPERIMENT, scores.SCORE))

INVALID_TARGET = "Invalid metadata target"
INVALID_METADATA = "Invalid metadata"
TOO_LARGE = "Metadata span exceeds maximum size of 64KB"
# The scopes of an op's metadata the engine shows: on the run's span, or on the step's.
_OP_SCOPES = {"run": False, "step": True, "step_attempt": True}
# The target fields that need a step_id, in the order the dev server checks them.
_STEP_PARTS = ("step_index", "step_attempt", "span_id")


class MetadataError(ValueError):
    """A request the dev server refuses: its status and its message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Update:
    kind: str
    op: str
    values: dict[str, JSON]


@dataclasses.dataclass(frozen=True)
class Request:
    # The step's hashed id (of "id", or "id:index" past its first use); "" for the run.
    target: str
    updates: list[Update]


def read(body: bytes) -> Request:
    """The request in ``body``; MetadataError with the dev server's answer if refused."""
    raw = _first_json_value(body)
    if raw is None:
        return Request("", [])
    if not isinstance(raw, dict):
        raise MetadataError(400, INVALID_TARGET)
    request = Request(_target(raw.get("target")), _updates(raw.get("metadata")))
    if any(not _allowed(update) for update in request.updates):
        raise MetadataError(400, INVALID_METADATA)
    return request


def apply(store: Store, run_id: str, request: Request, now_ms: int) -> None:
    """Combine each update into the run's metadata, in order; an update larger than the
    dev server's span limit stops there (those before it are kept, as there)."""
    for update in request.updates:
        if update.kind == AI:
            values = dict(update.values)
            ai_cost.backfill(values)
            update = dataclasses.replace(update, values=values)
        if _size(update.values) > MAX_SPAN_BYTES:
            raise MetadataError(413, TOO_LARGE)
        store.update_metadata(run_id, request.target, update.kind,
                              functools.partial(combine, update=update), now_ms)


def from_op(store: Store, run_id: str, op: Object, now_ms: int) -> None:
    """Keep the metadata an SDK sent with a step's op (its ``metadata``: each a ``kind``,
    ``scope``, ``op`` and ``values``). An entry the API would refuse, or too large, is left
    out and the others are kept, as the dev server does for a checkpoint's steps; so is one
    of a scope the engine has no span for (a request's, an extended trace's)."""
    raw = op.get("metadata")
    for item in raw if isinstance(raw, list) else []:
        scope = item.get("scope") if isinstance(item, dict) else None
        if not isinstance(scope, str) or scope not in _OP_SCOPES:
            continue
        try:
            update = _update(item)
            if not _allowed(update):
                continue
            # The step's span is the op's, by its hashed id, with or without ``userland``.
            target = str(op.get("id") or "") if _OP_SCOPES[scope] else ""
            apply(store, run_id, Request(target, [update]), now_ms)
        except MetadataError:
            continue


def combine(old: Object, update: Update) -> dict[str, JSON]:
    if update.op == "set":
        return dict(update.values)
    if update.op == "delete":
        return {key: value for key, value in old.items() if key not in update.values}
    if update.op == "add":
        return {**old, **{key: _sum(old.get(key), value)
                          for key, value in update.values.items()
                          if key not in old or _number(old[key]) is None
                          or _number(value) is not None}}
    return {**old, **update.values}


def _sum(old: JSON, new: JSON) -> JSON:
    """Go's reading: a missing or non-number old value is replaced, null counts as 0."""
    base, extra = _number(old), _number(new)
    if base is None or extra is None:
        return new
    total = base + extra
    if isinstance(total, float) and not math.isfinite(total):
        return None  # Go cannot write the sum: the value becomes null there
    return int(total) if isinstance(total, float) and total.is_integer() else total


def _number(value: JSON) -> float | int | None:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _first_json_value(body: bytes) -> JSON:
    """The body's first JSON value (the rest is not read, as by Go's decoder). A number
    beyond a 64-bit float is refused (the dev server keeps it as written, which no JSON
    reader of ours could show)."""
    try:
        return load_first(body)
    except BodyError:
        raise MetadataError(400, INVALID_TARGET) from None


def _target(raw: JSON) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, dict):
        raise MetadataError(400, INVALID_TARGET)
    step_id, index = raw.get("step_id"), raw.get("step_index")
    for name, kind in (("step_id", str), ("span_id", str)):
        if raw.get(name) is not None and not isinstance(raw[name], kind):
            raise MetadataError(400, INVALID_TARGET)
    for name in ("step_index", "step_attempt"):
        if raw.get(name) is not None and not _is_int(raw[name]):
            raise MetadataError(400, INVALID_TARGET)
    if step_id is None:
        if any(raw.get(name) is not None for name in _STEP_PARTS):
            raise MetadataError(400, INVALID_TARGET)
        return ""
    assert isinstance(step_id, str)
    return hash_step_id(f"{step_id}:{index}" if isinstance(index, int) and index else step_id)


def _is_int(value: JSON) -> bool:
    """An integer as Go reads one into an int: ``1.0`` is not."""
    return isinstance(value, int) and not isinstance(value, bool)


def _updates(raw: JSON) -> list[Update]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MetadataError(400, INVALID_TARGET)
    return [_update(item) for item in raw]


def _update(raw: JSON) -> Update:
    if raw is None:
        return Update("", "merge", {})
    if not isinstance(raw, dict):
        raise MetadataError(400, INVALID_TARGET)
    kind, op, values = raw.get("kind"), raw.get("op"), raw.get("values")
    if (kind is not None and not isinstance(kind, str)) or (
            values is not None and not isinstance(values, dict)):
        raise MetadataError(400, INVALID_TARGET)
    if op is not None and (not isinstance(op, str) or op.lower() not in OPS):
        raise MetadataError(400, INVALID_TARGET)
    return Update(kind or "", (op or "merge").lower(), dict(values or {}))


def _allowed(update: Update) -> bool:
    if len(update.kind.encode()) > MAX_KIND_BYTES:
        return False
    if update.kind.startswith("inngest.") and update.kind not in ALLOWED_INNGEST_KINDS:
        return False
    return update.kind != scores.SCORE or all(
        _is_score(name, value) for name, value in update.values.items())


def _is_score(name: str, value: JSON) -> bool:
    """An ``inngest.score`` entry: ``{"value": <finite number or boolean>}`` only."""
    if not isinstance(value, dict) or set(value) - {"value"}:
        return False
    return scores.is_score_value(value.get("value")) and _score_name_ok(name)


def _score_name_ok(name: str) -> bool:
    return len(name.encode()) <= scores.MAX_NAME_BYTES and not any(
        ord(char) < 0x20 or char in "\x7f'" for char in name)


def _size(values: Object) -> int:
    """The dev server's measure: each key's bytes plus its value's JSON bytes."""
    return sum(len(key.encode()) + len(dump(value).encode()) for key, value in values.items())
