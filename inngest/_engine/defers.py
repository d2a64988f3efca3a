"""Deferred runs: functions a run starts when it ends (the JS SDK's ``defer()``).

An SDK reports a ``DeferAdd`` op (the deferred function's slug, its input and the sessions
meta the deferred run inherits) or a ``DeferAbort`` op along with the ops that move its run
on, in a call's reply or a checkpoint. The engine keeps the first defer of each hashed id
(SDK retransmits are dropped), turns an abort into a final status, and lists the defers it
holds in every call's request (``defers``) so that the SDK does not report them again.
When the run ends, whatever its status, each defer still to run becomes an
``inngest/deferred.schedule`` event, which the deferred function's trigger expression
(``event.data._inngest.fn_slug == '<slug>'``) matches: as the dev server does.

A defer the server would refuse (no object input, input or meta too large) is kept as
rejected: it never runs, and its retransmits are dropped too. Past the count limit a defer
is not kept at all.
"""

from __future__ import annotations

import hashlib
import logging
import typing

from inngest._engine import events, ulid
from inngest._engine.models import JSON, Function, Run
from inngest._engine.payload import Object, dump
from inngest._engine.store import Store
from inngest._protocol.opcodes import Opcode

log = logging.getLogger("inngest.engine")
Publish = typing.Callable[[list[dict[str, JSON]]], list[str]]

SCHEDULE_EVENT = "inngest/deferred.schedule"
OPS = (Opcode.DEFER_ADD.value, Opcode.DEFER_ABORT.value)
AFTER_RUN = "AfterRun"
ABORTED = "Aborted"
REJECTED = "Rejected"
MAX_PER_RUN = 20
MAX_INPUT_BYTES = 4 * 1024 * 1024
MAX_META_BYTES = 32 * 1024


def record(store: Store, run_id: str, op: str, op_id: str,
           raw: typing.Mapping[str, JSON]) -> None:
    """Keep what a ``DeferAdd`` or ``DeferAbort`` op (``raw``, as the SDK sent it) says."""
    opts = raw.get("opts")
    if not isinstance(opts, typing.Mapping):
        log.warning("run %s: %s %s has no options; ignored", run_id, op, op_id)
        return
    if op == Opcode.DEFER_ADD:
        userland = raw.get("userland")
        name = userland.get("id") if isinstance(userland, typing.Mapping) else None
        _add(store, run_id, op_id, opts, name if isinstance(name, str) else "")
    elif op == Opcode.DEFER_ABORT:
        _abort(store, run_id, opts.get("target_hashed_id"))


def _add(store: Store, run_id: str, hashed_id: str, opts: typing.Mapping[str, JSON],
         name: str) -> None:
    slug = opts.get("fn_slug")
    if not hashed_id or not isinstance(slug, str):
        log.warning("run %s: defer %s names no function; ignored", run_id, hashed_id)
        return
    held = dict(store.defers(run_id))
    if hashed_id in held:
        return
    if len(held) >= MAX_PER_RUN:
        log.warning("run %s: defer %s ignored: a run holds at most %d defers", run_id,
                    hashed_id, MAX_PER_RUN)
        return
    refusal = _refusal(slug, opts, sum(_input_bytes(d) for d in held.values()))
    if refusal is not None:
        log.warning("run %s: defer %s rejected (%s); the run goes on without it", run_id,
                    hashed_id, refusal)
        store.add_defer(run_id, hashed_id, {"fn_slug": slug, "name": name, "status": REJECTED})
        return
    store.add_defer(run_id, hashed_id, {
        "fn_slug": slug, "name": name, "status": AFTER_RUN, "input": opts["input"],
        "meta": opts.get("meta"),
    })


def _refusal(slug: str, opts: typing.Mapping[str, JSON], held_bytes: int) -> str | None:
    """Why the server would reject a defer's options (None when it takes them)."""
    value = opts.get("input")
    meta = opts.get("meta")
    if not slug:
        return "invalid_opts"
    if not isinstance(value, typing.Mapping):
        return "invalid_input"
    size = len(dump(value).encode())
    if size > MAX_INPUT_BYTES:
        return "per_defer_size"
    if meta is not None and not isinstance(meta, typing.Mapping):
        return "invalid_meta"
    if len(dump(meta).encode()) > MAX_META_BYTES:
        return "meta_size"
    if held_bytes + size > MAX_INPUT_BYTES:
        return "aggregate_size"
    return None


def _input_bytes(defer: Object) -> int:
    return len(dump(defer["input"]).encode()) if "input" in defer else 0


def _abort(store: Store, run_id: str, target: JSON) -> None:
    held = dict(store.defers(run_id))
    defer = held.get(target) if isinstance(target, str) else None
    if defer is None:
        log.info("run %s: abort of defer %s, which the run does not hold", run_id, target)
        return
    store.set_defer(run_id, typing.cast(str, target), {
        "fn_slug": defer.get("fn_slug"), "name": defer.get("name"), "status": ABORTED})


def entries(store: Store, run_id: str) -> dict[str, JSON]:
    """The ``defers`` of a call's request: each defer held, and whether it may be aborted."""
    return {hashed_id: {"abortable": defer.get("status") == AFTER_RUN}
            for hashed_id, defer in store.defers(run_id)}


def schedule(store: Store, publish: Publish, run: Run, fn: Function, now_ms: int) -> None:
    """Publish the ``inngest/deferred.schedule`` events of an ended run's defers still to
    run. The defers are kept (without their input) for the run's GraphQL ``defers``, with
    the id of the event that starts each."""
    for hashed_id, defer in store.defers(run.id):
        if defer.get("status") != AFTER_RUN or "event_id" in defer:
            continue
        kept: dict[str, JSON] = {"fn_slug": defer["fn_slug"], "name": defer.get("name"),
                                 "status": AFTER_RUN}
        try:
            [kept["event_id"]] = publish([_event(run, fn, hashed_id, defer, now_ms)])
        except events.EventError as err:
            # An event the engine refuses (sessions invalid once merged, at ingest) drops
            # that deferred run only, as the server drops one whose sessions it refuses.
            log.warning("run %s: defer %s not scheduled: %s", run.id, hashed_id, err)
        store.set_defer(run.id, hashed_id, kept)


def _event(run: Run, fn: Function, hashed_id: str, defer: Object,
           now_ms: int) -> dict[str, JSON]:
    data = dict(typing.cast(Object, defer["input"]))
    data["_inngest"] = {
        "fn_slug": defer["fn_slug"],
        "parent_app_id": fn.app_id,
        "parent_fn_id": fn.id,
        "parent_fn_slug": fn.slug,
        "parent_run_id": run.id,
    }
    event: dict[str, JSON] = {"name": SCHEDULE_EVENT, "id": event_id(run.id, hashed_id, now_ms),
                              "ts": now_ms, "data": data}
    if isinstance(defer.get("meta"), typing.Mapping):
        event["meta"] = defer["meta"]
    return event


def event_id(run_id: str, hashed_id: str, now_ms: int) -> str:
    """The same ULID for the same run and defer (at the run's time, or now for a run id
    that is no ULID): an event published twice starts one run."""
    seed = hashlib.sha256(f"defer-event:{run_id}:{hashed_id}".encode()).digest()
    at = ulid.timestamp_ms(run_id) if ulid.is_ulid(run_id) else now_ms
    return ulid.encode(at, int.from_bytes(seed[:10], "big"))


def started_by_defer(store: Store, run: Run) -> bool:
    """Whether a defer started ``run`` (its trigger is a schedule event)."""
    first = store.event(run.event_ids[0]) if run.event_ids else None
    return first is not None and first.name == SCHEDULE_EVENT
