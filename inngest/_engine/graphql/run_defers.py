"""A run's deferred runs in GraphQL (``FunctionRunV2``'s ``defers``, ``siblingDefers``,
``deferredFrom`` and ``isDeferred``), as the dev server answers them (measured).

``defers`` lists the defers a run holds, in the order they came: a defer still to run or
started is ``SCHEDULED`` (with the run it started once the run has ended), an aborted one
``ABORTED``, a refused one ``REJECTED``. A run a defer started names the run that deferred
it in ``deferredFrom`` and that run's other defers in ``siblingDefers``. ``isDeferred`` is
true in run lists only: the dev server's ``run(runID)`` leaves it false.
"""

from __future__ import annotations

import typing

from inngest._engine import defers
from inngest._engine.graphql.context import engine_of
from inngest._engine.graphql.typesystem import Field
from inngest._engine.models import Run
from inngest._engine.payload import Object
from inngest._engine.store import Store

Node = dict[str, object]
_STATUSES = {defers.AFTER_RUN: "SCHEDULED", defers.ABORTED: "ABORTED",
             defers.REJECTED: "REJECTED"}
ENUMS = {"RunDeferStatus": ("SCHEDULED", "ABORTED", "REJECTED")}
TYPES = {
    "RunDefer": {
        "hashedDeferID": Field("String!"), "userlandDeferID": Field("String!"),
        "fnSlug": Field("String!"), "status": Field("RunDeferStatus!"),
        "function": Field("Function"), "runID": Field("ULID"), "run": Field("FunctionRunV2"),
    },
    "RunDeferredFrom": {
        "runID": Field("ULID!"), "function": Field("Function!"), "run": Field("FunctionRunV2"),
    },
}


def fields(listed: type[Run]) -> dict[str, Field]:
    """The fields of ``FunctionRunV2``; runs of the ``listed`` class come from run lists."""
    return {
        "defers": Field("[RunDefer!]!", lambda run, a, ctx: _defers(_store(ctx), _run(run))),
        "siblingDefers": Field("[RunDefer!]!", lambda run, a, ctx: _siblings(
            _store(ctx), _run(run))),
        "deferredFrom": Field("[RunDeferredFrom!]!", lambda run, a, ctx: _deferred_from(
            _store(ctx), _run(run))),
        "isDeferred": Field("Boolean!", lambda run, a, ctx: isinstance(run, listed)
                            and defers.started_by_defer(_store(ctx), _run(run))),
    }


def _store(ctx: object) -> Store:
    return engine_of(ctx).store


def _run(parent: object) -> Run:
    assert isinstance(parent, Run)
    return parent


def _defers(store: Store, run: Run) -> list[Node]:
    return [_node(store, hashed_id, defer) for hashed_id, defer in store.defers(run.id)]


def _node(store: Store, hashed_id: str, defer: Object) -> Node:
    slug = str(defer.get("fn_slug") or "")
    event_id = defer.get("event_id")
    started = store.runs_for_event(event_id) if isinstance(event_id, str) else []
    return {
        "hashedDeferID": hashed_id, "userlandDeferID": str(defer.get("name") or ""),
        "fnSlug": slug, "status": _STATUSES.get(str(defer.get("status")), "REJECTED"),
        "function": store.function_by_slug(slug) if slug else None,
        "runID": started[0].id if started else None,
        "run": started[0] if started else None,
    }


def _parent(store: Store, run: Run) -> tuple[Run, str] | None:
    """The run whose defer started ``run``, and that defer's event."""
    if not defers.started_by_defer(store, run):
        return None
    stored = store.event(run.event_ids[0])
    data = stored.event.get("data") if stored else None
    meta = data.get("_inngest") if isinstance(data, typing.Mapping) else None
    parent_id = meta.get("parent_run_id") if isinstance(meta, typing.Mapping) else None
    parent = store.run(parent_id) if isinstance(parent_id, str) else None
    return (parent, run.event_ids[0]) if parent is not None else None


def _deferred_from(store: Store, run: Run) -> list[Node]:
    found = _parent(store, run)
    if found is None:
        return []
    parent = found[0]
    return [{"runID": parent.id, "function": store.function(parent.function_id),
             "run": parent}]


def _siblings(store: Store, run: Run) -> list[Node]:
    found = _parent(store, run)
    if found is None:
        return []
    parent, event_id = found
    return [_node(store, hashed_id, defer) for hashed_id, defer in store.defers(parent.id)
            if defer.get("event_id") != event_id]
