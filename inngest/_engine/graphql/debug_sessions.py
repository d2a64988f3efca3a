"""The console debugger's sessions in GraphQL, as the dev server answers them (measured).

``createDebugSession`` hands out a new debug session id and debug run id and records
nothing. ``invokeFunction`` and ``rerun`` take them (``debugSessionID``, ``debugRunID``,
each optional) and the runs they start carry them on every span of their trace.
``debugRun`` lists the trace of each run of a debug run, by start time;
``debugSession`` lists each debug run of a session (runs without a debug run id are left
out) as its last started run shows it. The queries' ``functionSlug`` and ``runID`` are
not read, as there.
"""

from __future__ import annotations

import typing

from inngest._engine import ulid
from inngest._engine.graphql.context import engine_of
from inngest._engine.graphql import uploads
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.uploads import Upload
from inngest._engine.graphql.typesystem import Field, is_mapping
from inngest._engine.models import DebugIds, Run

Args = dict[str, object]
Span = dict[str, object]
# The root span of a run's trace as ``runTrace`` answers it.
TraceOf = typing.Callable[[Run, object], Span]

ENUMS = {"RunTraceSpanStatus": (
    "FAILED", "QUEUED", "RUNNING", "COMPLETED", "WAITING", "CANCELLED", "SKIPPED")}
INPUTS = {
    "CreateDebugSessionInput": {
        "workspaceId": 'ID! = "local"', "functionSlug": "String!", "runID": "String"},
    "DebugRunQuery": {"workspaceId": 'ID! = "local"', "functionSlug": "String!",
                      "debugRunID": "String", "runID": "String"},
    "DebugSessionQuery": {"workspaceId": 'ID! = "local"', "functionSlug": "String!",
                          "debugSessionID": "String", "runID": "String"},
}
TYPES = {
    "CreateDebugSessionResponse": {
        "debugSessionID": Field("ULID!"), "debugRunID": Field("ULID!")},
    "DebugRun": {"debugTraces": Field("[RunTraceSpan!]")},
    "DebugSessionRun": {
        "status": Field("RunTraceSpanStatus!"), "queuedAt": Field("Time!"),
        "startedAt": Field("Time"), "endedAt": Field("Time"), "debugRunID": Field("ULID"),
        "tags": Field("[String!]"), "versions": Field("[String!]"),
    },
    "DebugSession": {"debugRuns": Field("[DebugSessionRun!]")},
}
# The arguments ``invokeFunction`` and ``rerun`` take, in the order the server reads them.
ARGS = {"debugSessionID": "ULID", "debugRunID": "ULID"}


def debug_ids(args: Args) -> DebugIds:
    """The ``debugSessionID`` and ``debugRunID`` arguments; an error names the first that
    is no ULID, as the server's argument parsing does."""
    session_id, run_id = (ulid_argument(args.get(name), name) for name in ARGS)
    return DebugIds(session_id, run_id)


def ulid_argument(value: object, name: str) -> str | None:
    """An argument of type ULID, read as the server's scalar reads it; an error names the
    argument in its path."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise GraphQLError(f"{go_type(value)} is not a ULID", path=[name])
    try:
        return ulid.parse(value)
    except ValueError as err:
        raise GraphQLError(str(err), path=[name]) from None


def go_type(value: object) -> str:
    """The Go type the server's JSON decoding gives a value (its numbers are ``json.Number``)."""
    if isinstance(value, Upload):
        return uploads.GO_TYPE
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "json.Number"
    return "map[string]interface {}" if is_mapping(value) else "[]interface {}"


def create_debug_session(parent: object, args: Args, ctx: object) -> dict[str, object]:
    ids = engine_of(ctx).runner.life.ids
    now = engine_of(ctx).runner.life.clock.now_ms()
    return {"debugSessionID": ids.new(now), "debugRunID": ids.new(now)}


def debug_run(trace_of: TraceOf) -> typing.Callable[[object, Args, object], object]:
    def resolve(parent: object, args: Args, ctx: object) -> dict[str, object]:
        wanted = _query_id(args, "debugRunID")
        if wanted is None:
            return {"debugTraces": None}
        runs = [run for run in engine_of(ctx).store.runs() if run.debug_run_id == wanted]
        return {"debugTraces": [trace_of(run, ctx) for run in _by_start(runs)]}

    return resolve


def debug_session(trace_of: TraceOf) -> typing.Callable[[object, Args, object], object]:
    def resolve(parent: object, args: Args, ctx: object) -> dict[str, object]:
        wanted = _query_id(args, "debugSessionID")
        if wanted is None:
            raise GraphQLError("debug session not found")
        debug_runs: dict[str, list[Run]] = {}
        for run in engine_of(ctx).store.runs():
            if run.debug_session_id == wanted and run.debug_run_id is not None:
                debug_runs.setdefault(run.debug_run_id, []).append(run)
        # The server lists them in no set order; ours by their first run.
        listed = sorted(debug_runs.values(), key=lambda runs: min(run.id for run in runs))
        return {"debugRuns": [_session_run(trace_of(_by_start(runs)[-1], ctx))
                              for runs in listed] or None}

    return resolve


def _query_id(args: Args, name: str) -> str | None:
    query = args.get("query")
    value = query.get(name) if is_mapping(query) else None
    if value is None:
        return None
    try:
        return ulid.parse(str(value))
    except ValueError as err:
        raise GraphQLError(f"invalid {name}: {err}") from None


def _by_start(runs: list[Run]) -> list[Run]:
    """Runs in start order, those not started yet first."""
    return sorted(runs, key=lambda run: (run.started_at_ms is not None,
                                         run.started_at_ms or 0, run.id))


def _session_run(last: Span) -> dict[str, object]:
    """A debug run as its last started run's root span shows it."""
    return {"status": last["status"], "queuedAt": last["queuedAt"],
            "startedAt": last["startedAt"], "endedAt": last["endedAt"],
            "debugRunID": last["debugRunID"], "tags": [], "versions": []}
