"""The dev server's GraphQL API (``POST /v0/gql``): the queries test helpers and the CLI use."""

from __future__ import annotations

import base64
import dataclasses
import json
import typing
import uuid

from inngest._engine import (
    cel, defers, events, feature_observations, function_record, registration, scores,
    sessions, span_metadata, timeparse, ulid, uuids,
)
from inngest._engine.engine import Engine
from inngest._engine.graphql.context import engine_of
from inngest._engine.from_step import FromStep, RerunStepError, input_from_text
from inngest._engine.graphql import (
    debug_sessions, events_v2, function_config, run_defers, run_query, span_tree, stream, trace,
    unreached_types, worker_connections,
)
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.history import CHECKPOINTED
from inngest._engine.graphql.execution import execute as execute_document
from inngest._engine.graphql.introspection import with_introspection
from inngest._engine.graphql.typesystem import Field, Resolver, Schema, is_list, is_mapping
from inngest._engine.graphql.uploads import Upload
from inngest._engine.models import (
    CONNECT_METHOD, JSON, App, DebugIds, Function, Run, RunStatus, StoredEvent,
)
from inngest._engine.otel.tree import Userland
from inngest._engine.payload import (
    Object, PayloadError, as_object, dump_escaped, first_number_text, from_object, load,
    optional_int, to_int,
)
from inngest._engine.responses import sorted_keys
from inngest._engine.timeparse import rfc3339

Args = dict[str, object]

RECENT_EVENTS = 51  # how many events the real dev server's `events` query lists (measured)
# The real server's page of runs: `first` when 0 < first < 400, else 40 (measured).
RUNS_PAGE, RUNS_PAGE_LIMIT = 40, 400
_ORDER_FIELDS: dict[str, typing.Callable[[Run], int | None]] = {
    "QUEUED_AT": lambda run: run.created_at_ms, "STARTED_AT": lambda run: run.started_at_ms,
    "ENDED_AT": lambda run: run.ended_at_ms}


def _dumps(value: JSON) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def wire_event(event: dict[str, JSON]) -> dict[str, JSON]:
    """An event with the server's key order, leaving out empty optional fields."""
    out = {key: event.get(key) for key in ("id", "name", "data", "ts", "v", "meta", "user")}
    return {key: value for key, value in out.items()
            if value or key in ("name", "data")}


def _mapping(value: object, what: str) -> Object:
    """An object argument, from a literal or a variable, as JSON."""
    if value is None:
        return {}
    if not is_mapping(value):
        raise GraphQLError(f"{what} must be an object")
    try:
        return as_object(from_object(value, what), what)
    except PayloadError as err:
        raise GraphQLError(str(err)) from None


# ---------------------------------------------------------------------------- runs


def _status(run: Run) -> str:
    return run.status.value.upper()


def _run_output(run: Run) -> str | None:
    return run.shown_output() if run.has_output else None


def _function_of(run: object, ctx: object) -> Function | None:
    assert isinstance(run, Run)
    return engine_of(ctx).store.function(run.function_id)


def _get_run(run_id: object, ctx: object, *, skipped: bool = True) -> Run:
    """The run ``run_id`` names; a skipped one only with ``skipped`` (the legacy queries,
    cancelRun and rerun know none: measured)."""
    run = engine_of(ctx).store.run(str(run_id))
    if run is None or (not skipped and run.status is RunStatus.SKIPPED):
        raise GraphQLError("run not found")
    return run


_Model = typing.TypeVar("_Model", Run, App, Function)


def _field_of(kind: type[_Model],
              read: typing.Callable[[_Model], object]) -> Resolver:
    """A resolver reading one field of a ``kind`` parent."""
    def resolve(parent: object, args: Args, ctx: object) -> object:
        assert isinstance(parent, kind)
        return read(parent)

    return resolve


def _run_field(read: typing.Callable[[Run], object]) -> Resolver:
    return _field_of(Run, read)


def _in_order(fields: dict[str, Field], order: tuple[str, ...]) -> dict[str, Field]:
    """``fields`` in the order introspection lists the real server's (ours alone last)."""
    return {**{name: fields[name] for name in order}, **fields}


def _none(parent: object, args: Args, ctx: object) -> None:
    return None


# gqlgen's words for a non-null object field whose resolver gave nothing (measured on
# RunTraceSpan.run, which the dev server never resolves): the span is nulled.
_NULL_OBJECT = "the requested element is null which the schema does not allow"


def _null_object(parent: object, args: Args, ctx: object) -> None:
    raise GraphQLError(_NULL_OBJECT)


def _no_workspace(parent: object, args: Args, ctx: object) -> None:
    """The dev server has no workspace: ``workspace`` is null on events and runs (measured)."""
    return None


def _legacy_output(run: Run) -> str | None:
    if run.status is RunStatus.CANCELLED:
        return "{}"
    return run.listed_output() if run.has_output else None


def _reason_when(status: RunStatus) -> typing.Callable[[Run], str | None]:
    """The run's flow-control reason, shown only on runs with ``status``."""
    return lambda run: run.reason if run.status is status else None


def _batch_created_at(run: Run) -> str | None:
    return rfc3339(ulid.timestamp_ms(run.batch_id)) if run.batch_id else None


def _legacy_status(run: Run) -> str:
    return "RUNNING" if run.status is RunStatus.QUEUED else _status(run)


_RUN_FIELDS = {
    "id": Field("ID!", _run_field(lambda run: run.id)),
    "functionID": Field("String!", _run_field(lambda run: run.function_id)),
    "function": Field("Function", lambda run, a, ctx: _function_of(run, ctx)),
    "output": Field("String", _run_field(_run_output)),
    "status": Field("FunctionRunStatus", _run_field(_status)),
    "startedAt": Field("Time", _run_field(lambda run: rfc3339(run.started_at_ms))),
    # Ours alone (docs/compatibility.md, "GraphQL introspection"): why a run was cancelled.
    "cancellationReason": Field("String", _run_field(_reason_when(RunStatus.CANCELLED))),
}


def _ended_at(run: Run) -> str | None:
    """Among its event's runs, a run that started but has not ended (a skipped run never
    ends) shows an end about its start (measured; the real server's trace run ends with the
    spans exported so far)."""
    if isinstance(run, events_v2.EventRun) and run.ended_at_ms is None:
        return rfc3339(run.started_at_ms)
    return rfc3339(run.ended_at_ms)


def _trace(run: object, args: Args, ctx: object) -> dict[str, object] | None:
    """With preview, the tree ``runTrace`` answers (measured), metadata and all; a run the
    ``runs`` list shows has no trace without preview (measured)."""
    preview = args.get("preview") is True
    if isinstance(run, _ListedRun) and not preview:
        return None
    return _root_span(run, ctx, raw=preview)


_RUN_V2_FIELDS = {  # the types the real server declares, where they differ from FunctionRun's
    **_RUN_FIELDS,
    "id": Field("ULID!", _run_field(lambda run: run.id)),
    "functionID": Field("UUID!", _run_field(lambda run: run.function_id)),
    "function": Field("Function!", lambda run, a, ctx: _function_of(run, ctx)),
    "status": Field("FunctionRunStatus!", _run_field(_status)),
    "endedAt": Field("Time", _run_field(_ended_at)),
    "appID": Field("UUID!", lambda run, a, ctx: _app_id_of_run(run, ctx)),
    "app": Field("App!", lambda run, a, ctx: _app_of_run(run, ctx)),
    "traceID": Field("String!", _run_field(lambda run: run.id)),
    "queuedAt": Field("Time!", _run_field(lambda run: rfc3339(run.created_at_ms))),
    "sourceID": Field("String", _run_field(lambda run: None)),
    # Measured: an event's runs list no trigger ids (event_v2.go sets none).
    "triggerIDs": Field("[ULID!]!", _run_field(
        lambda run: [] if isinstance(run, events_v2.EventRun) else run.event_ids)),
    "isBatch": Field("Boolean!", _run_field(lambda run: len(run.event_ids) > 1)),
    "cronSchedule": Field("String", _run_field(lambda run: run.cron)),
    "trace": Field("RunTraceSpan", lambda run, a, ctx: _trace(run, a, ctx),
                   {"preview": "Boolean"}),
    "eventName": Field("String", lambda run, a, ctx: _event_name(run, ctx)),
    "output": Field("Bytes", _run_field(
        lambda run: None if isinstance(run, _ListedRun) else _run_output(run))),
    "hasAI": Field("Boolean!", _run_field(lambda run: False)),
    "batchCreatedAt": Field("Time", _run_field(_batch_created_at)),
}
_LEGACY_RUN_FIELDS = {
    **_RUN_FIELDS,
    "output": Field("String", _run_field(_legacy_output)),
    "status": Field("FunctionRunStatus", _run_field(_legacy_status)),
    "finishedAt": Field("Time", _run_field(lambda run: rfc3339(run.ended_at_ms))),
    "workspace": Field("Workspace", _no_workspace),
    "eventID": Field("ID!", _run_field(lambda run: run.event_ids[0] if run.event_ids else None)),
    "cron": Field("String", _run_field(lambda run: run.cron)),
    "events": Field("[Event!]!", lambda run, a, ctx: _run_events(run, ctx)),
    "event": Field("Event", lambda run, a, ctx: next(iter(_run_events(run, ctx)), None)),
    # Measured: the dev server keeps no batch of one event and shows no batch id here.
    "batchID": Field("ULID", _run_field(lambda run: None)),
    "batchCreatedAt": Field("Time", _run_field(
        lambda run: _batch_created_at(run) if len(run.event_ids) > 1 else None)),
    "waitingFor": Field("StepEventWait", _run_field(lambda run: None)),
    "pendingSteps": Field("Int", lambda run, a, ctx: _pending_jobs(run, ctx), deprecated=True),
    "history": Field("[RunHistoryItem!]!", lambda run, a, ctx: _run_history(run, a, ctx)),
    "historyItemOutput": Field("String", lambda run, a, ctx: _history_output(run, a, ctx),
                               {"id": "ULID!"}),
}


def _app_id_of_run(run: object, ctx: object) -> str | None:
    fn = _function_of(run, ctx)
    return None if fn is None else fn.app_id


def _app_of_run(run: object, ctx: object) -> App | None:
    fn = _function_of(run, ctx)
    return None if fn is None else engine_of(ctx).store.app_of_runs(fn.app_id)


def _run_events(run: object, ctx: object) -> list[StoredEvent]:
    assert isinstance(run, Run)
    stored = (engine_of(ctx).store.event(event_id) for event_id in run.event_ids)
    return [event for event in stored if event is not None]


def _pending_jobs(run: object, ctx: object) -> int:
    """Queued work of the run (calls, sleeps, pause timeouts), as the legacy field counts it."""
    assert isinstance(run, Run)
    return sum(item.run_id == run.id for item in engine_of(ctx).store.items())


@dataclasses.dataclass(frozen=True)
class _ListedRun(Run):
    """A run as the ``runs`` list shows it: with its event's name, without its output."""

    @classmethod
    def of(cls, run: Run) -> _ListedRun:
        return cls(**{field.name: getattr(run, field.name) for field in dataclasses.fields(run)})


def _event_name(run: object, ctx: object) -> str | None:
    if not isinstance(run, _ListedRun):
        return None
    stored = _run_events(run, ctx)
    return stored[0].name if stored else None


def _run_trigger(parent: object, args: Args, ctx: object) -> dict[str, object]:
    run = _get_run(args.get("runID"), ctx)
    stored = _run_events(run, ctx)
    return {
        "payloads": [dump_escaped(wire_event(event.event)) for event in stored],
        "IDs": list(run.event_ids),
        "eventName": stored[0].name if stored and len(stored) == 1 else None,
        "timestamp": rfc3339(stored[0].received_at_ms if stored else run.created_at_ms),
        "isBatch": len(run.event_ids) > 1,
        "batchID": run.batch_id,
        "cron": run.cron,
    }


# ---------------------------------------------------------------------------- history

_HISTORY_TIMES = (("sleep", "until"), ("waitForEvent", "timeout"), ("invokeFunction", "timeout"))


def _history_item(item: dict[str, JSON]) -> dict[str, object]:
    out: dict[str, object] = {
        "cancel": None, "result": None, "sleep": None, "stepName": None, "stepType": None,
        "url": None, "waitForEvent": None, "waitResult": None, "invokeFunction": None,
        "invokeFunctionResult": None, **item,
        "createdAt": rfc3339(optional_int(item.get("createdAt"), "createdAt")),
    }
    for key, time_key in _HISTORY_TIMES:
        value = item.get(key)
        if isinstance(value, typing.Mapping):
            out[key] = {**value, time_key: rfc3339(optional_int(value.get(time_key), time_key))}
    return out


def _run_history(parent: object, args: Args, ctx: object) -> list[dict[str, object]]:
    assert isinstance(parent, Run)
    return [_history_item(item) for item in engine_of(ctx).store.history(parent.id)
            if not item.get(CHECKPOINTED)]


def _history_output(parent: object, args: Args, ctx: object) -> str | None:
    assert isinstance(parent, Run)
    for item in engine_of(ctx).store.history(parent.id):
        if item.get("id") == args.get("id"):
            return _listed_output(item)
    return None


def _listed_output(item: dict[str, JSON]) -> str:
    """A history item's output as the server lists it. The trace shows a failing step's
    error as the SDK reported it; this list names only its name, message and stack, under
    "error", and gives the step's last attempt (a StepCompleted of "step") none."""
    output = str(item.get("output") or "")
    if item.get("stepFailed"):
        return ""
    if item.get("type") == "StepErrored" and item.get("stepID") and output:
        error = load(output)
        if isinstance(error, dict):
            fields = {key: error[key] for key in ("name", "message", "stack") if key in error}
            return dump_escaped({"error": fields})
    return output


# ---------------------------------------------------------------------------- trace


def _root_span(parent: object, ctx: object, *, raw: bool = False) -> dict[str, object]:
    """``run { trace }``: the tree a run's page shows; with ``raw``, ``runTrace``: the span
    tree as the server stores it (span_tree.py)."""
    assert isinstance(parent, Run)
    run = parent
    store = engine_of(ctx).store
    fn = _function_of(run, ctx)
    if run.status is RunStatus.SKIPPED:
        return _skipped_root(run, fn, raw=raw)
    if raw:
        history = store.history(run.id)
        children = span_tree.children(run, history, dict(store.steps(run.id)),
                                      store.step_info(run.id),
                                      Userland(store.userland_spans(run.id)))
        name = "Run"
        response = span_tree.root_response(run, history)
    else:
        children = trace.children(run, store.history(run.id), dict(store.steps(run.id)),
                                  store.step_info(run.id), fn.max_attempts if fn else None)
        name = fn.slug if fn else run.function_id
    root: dict[str, object] = {
        "spanID": run.id, "name": name, "isRoot": True,
        "parentSpanID": _root_parent(raw), "status": _status(run), "attempts": 0, "stepOp": None,
        "stepID": None, "outputID": _root_output_id(run, raw=raw),
        "queuedAt": run.created_at_ms, "startedAt": run.started_at_ms,
        "endedAt": run.ended_at_ms,
        "duration": None if run.started_at_ms is None or run.ended_at_ms is None
        else run.ended_at_ms - run.started_at_ms,
        "childrenSpans": children,
    }
    if raw:
        root["response"] = response
    debug = DebugIds()
    # Measured: the dev server's run { trace } without preview shows no metadata and no
    # debug ids.
    if raw:
        scores.attach(store, run.id, root)
        span_metadata.attach_usage(root)
        debug = DebugIds(run.debug_session_id, run.debug_run_id)
    return _span_fields(run, fn, root, debug)


def _root_parent(raw: bool) -> str | None:
    """The root span's parent: none in the page's tree; stored, the zero span id
    (measured)."""
    return "0" * 16 if raw else None


def _skipped_root(run: Run, fn: Function | None, *, raw: bool) -> dict[str, object]:
    """A skipped run's only span (measured). Stored, it is the run span, never renamed,
    queued and skipped, with the reason and the run its singleton kept; the page's tree
    shows it as a run that started and ended at once, still RUNNING, without a reason."""
    root: dict[str, object] = {
        "spanID": run.id, "isRoot": True, "attempts": 0, "stepOp": None, "stepID": None,
        "queuedAt": run.created_at_ms, "childrenSpans": [],
    }
    if not raw:
        root.update(name=fn.slug if fn else run.function_id, status="RUNNING",
                    parentSpanID=None, outputID=None, startedAt=run.started_at_ms,
                    endedAt=run.started_at_ms, duration=0)
        return _span_fields(run, fn, root, DebugIds())
    root.update(name="executor.run", status=_status(run), parentSpanID=_root_parent(raw),
                outputID=trace.run_output_id(run.id, with_input=True), startedAt=None,
                endedAt=None, duration=None, skipReason=run.reason,
                skipExistingRunID=run.skip_existing_run_id)
    return {**_span_fields(run, fn, root, DebugIds()),
            "scheduledAt": rfc3339(run.created_at_ms)}


def _root_output_id(run: Run, *, raw: bool) -> str | None:
    """The run's span's output: in the raw trace with the run's events as its input, there
    while the run has no output too (a running or cancelled one's: its data empty;
    measured)."""
    if raw:
        return trace.run_output_id(run.id, with_input=True)
    return trace.run_output_id(run.id) if run.has_output else None


def _span_fields(run: Run, fn: Function | None, span: dict[str, object],
                 debug: DebugIds) -> dict[str, object]:
    """Fill in what every span shares and render its times; children likewise."""
    times = {key: rfc3339(value if isinstance(value, int) else None)
             for key in ("queuedAt", "startedAt", "endedAt")
             for value in [span.get(key)]}
    children = span.get("childrenSpans")
    return {
        **span, **times, "runID": run.id, "traceID": run.id, "functionID": run.function_id,
        "appID": fn.app_id if fn else None, "groupID": None,
        "scheduledAt": None, "stepType": span.get("stepType", ""),
        "isUserland": span.get("isUserland", False),
        "debugSessionID": debug.session_id, "debugRunID": debug.run_id, "debugPaused": False,
        "metadata": [{**entry, "updatedAt": rfc3339(typing.cast(int, entry["updatedAt"]))}
                     for entry in typing.cast(list[scores.Metadata], span.get("metadata") or [])],
        "childrenSpans": [_span_fields(run, fn, typing.cast(dict[str, object], child), debug)
                          for child in _list(children)],
    }


def _debug_trace(run: Run, ctx: object) -> dict[str, object]:
    """A run's trace as ``debugRun`` lists it: ``runTrace``'s."""
    return _root_span(run, ctx, raw=True)


def _span_output(parent: object, args: Args, ctx: object) -> dict[str, object]:
    run_id, _, step_id = str(args.get("outputID")).partition(":")
    run = _get_run(run_id, ctx)
    store = engine_of(ctx).store
    if step_id.startswith("h:"):
        outputs = {item.get("id"): item.get("output") for item in store.history(run.id)}
        text = outputs.get(step_id[2:])
        if not isinstance(text, str) or not text:
            raise GraphQLError("output not found")
        return _error_output(_loaded(text), text)
    if not step_id:
        inputs = [wire_event(event.event) for event in _run_events(run, ctx)]
        output = _run_span_output(run) if run.has_output else {"data": "", "error": None}
        return {**output, "input": _dumps(inputs)}
    if step_id == trace.RUN_OUTPUT:
        return _run_span_output(run)
    raw = step_id.startswith(trace.RAW_INVOKE)
    step_id = step_id.removeprefix(trace.RAW_INVOKE)
    values = dict(store.steps(run.id))
    if step_id not in values:
        raise GraphQLError("output not found")
    record = store.step_info(run.id).get(step_id)
    # An invoke span shows the child's result as stored, {"data": ...}, like the real server
    # (in the raw trace, the result itself).
    invoke = record is not None and trace.STEP_OPS.get(record[1]) == "INVOKE"
    return _output_of(values[step_id], unwrap=raw or not invoke)


def _run_span_output(run: Run) -> dict[str, object]:
    """The run's output as the server stores it: re-encoded, or the app's text."""
    if run.status is RunStatus.FAILED and run.output is not None:
        return _error_output(None if run.output_is_text else run.output, run.shown_output())
    return {"data": run.shown_output(), "input": None, "error": None}


def _output_of(value: JSON, *, unwrap: bool = True) -> dict[str, object]:
    """A step's output, re-encoded as the server's Go decoding and encoding write it: keys
    sorted, HTML characters escaped."""
    if isinstance(value, typing.Mapping) and value.get("error") is not None:
        return _error_output(value["error"], _dumps(value["error"]))
    data = value.get("data") if unwrap and isinstance(value, typing.Mapping) and set(value) == {
        "data"} else value
    return {"data": dump_escaped(sorted_keys(data)), "input": None, "error": None}


def _error_output(error: JSON, text: str) -> dict[str, object]:
    """A failure, read as the server reads the stored error (``text``): the string fields
    of an error object, and the stored text itself as the stack when there is no message
    (an error that is not an object, or that has no message)."""
    fields = error if isinstance(error, typing.Mapping) else {}
    message = _string(fields.get("message")) or ""
    return {"data": None, "input": None, "error": {
        "message": message, "name": _string(fields.get("name")),
        "stack": _string(fields.get("stack")) if message else text,
        "cause": _cause(fields.get("cause")),
    }}


def _string(value: JSON) -> str | None:
    return value if isinstance(value, str) else None


def _loaded(text: str) -> JSON:
    """A stored output's JSON value; None for an app's reply that was not JSON."""
    try:
        return load(text)
    except ValueError:
        return None


def _cause(cause: JSON) -> JSON:
    """The error's cause as it was sent (an object stays an object), keys sorted."""
    return sorted_keys(cause)


# ---------------------------------------------------------------------------- run lists


def _runs(parent: object, args: Args, ctx: object) -> dict[str, object]:
    store = engine_of(ctx).store
    flt = _mapping(args.get("filter"), "filter")
    app_ids = flt.get("appIDs")
    if isinstance(app_ids, list) and app_ids:
        allowed = {fn.id for fn in store.functions() if fn.app_id in app_ids}
        flt = {**flt, "functionIDs": [i for i in _list(flt.get("functionIDs")) if i in allowed]
               or sorted(allowed) or [""]}
    runs = _filtered_runs(store.runs(), flt)
    deferred = flt.get("isDeferred")
    if isinstance(deferred, bool):
        runs = [run for run in runs if defers.started_by_defer(store, run) == deferred]
    matches = _run_query(flt.get("query"))
    if matches is not None:
        runs = [run for run in runs if _trigger_matches(run, matches, ctx)]
    runs = _ordered(runs, args.get("orderBy"))
    ids = [run.id for run in runs]
    after = _cursor_run_id(args.get("after"))
    # A cursor that names no run starts at the first, as the real server's does.
    start = ids.index(after) + 1 if after in ids else 0
    limit = _page_size(args.get("first"))
    page = runs[start:start + limit]
    fields = list(dict.fromkeys(str(_mapping(order, "orderBy").get("field"))
                                for order in _list(args.get("orderBy"))))
    cursors = [_run_cursor(run, fields) for run in page]
    return {
        "edges": [{"cursor": cursor, "node": _ListedRun.of(run)}
                  for run, cursor in zip(page, cursors)],
        "pageInfo": {
            "hasNextPage": start + limit < len(runs), "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
        "totalCount": len(runs),
    }


def _run_cursor(run: Run, fields: list[str]) -> str:
    """The dev server's runs cursor: base64 of the run's id and, for each field the runs are
    ordered by, its time in milliseconds (``{"id": …, "c": {"queued_at": {"f": "queued_at",
    "v": 1796073046440}}}``)."""
    times: dict[str, JSON] = {
        field.lower(): {"f": field.lower(), "v": _ORDER_FIELDS[field](run) or 0}
        for field in fields if field in _ORDER_FIELDS}
    text = dump_escaped({"id": run.id, "c": dict(sorted(times.items()))})
    return base64.b64encode(text.encode()).decode()


def _cursor_run_id(cursor: object) -> str | None:
    """The run id a cursor names; None for one that is not the server's base64 JSON."""
    try:
        decoded = load(base64.b64decode(str(cursor), validate=True))
    except ValueError:
        return None
    found = decoded.get("id") if isinstance(decoded, dict) else None
    return found if isinstance(found, str) else None


def _page_size(first: object) -> int:
    return first if isinstance(first, int) and 0 < first < RUNS_PAGE_LIMIT else RUNS_PAGE


def _run_query(query: object) -> run_query.Condition | None:
    if not isinstance(query, str) or not query:
        return None
    try:
        return run_query.compile_run_query(query)
    except cel.ExpressionSyntaxError as err:
        raise GraphQLError(f"error retrieving runs: {err.run_query_message}") from None
    except (cel.ExpressionError, run_query.RunQueryError) as err:
        raise GraphQLError(f"error retrieving runs: {err}") from None


def _trigger_matches(run: Run, matches: run_query.Condition, ctx: object) -> bool:
    """The query reads the run's (first) triggering event. As on the dev server, an event
    whose id is not its internal id (one its sender gave, an invocation's) matches no run."""
    stored = engine_of(ctx).store.event(run.event_ids[0]) if run.event_ids else None
    return (stored is not None and stored.event.get("id") == stored.internal_id
            and matches(stored.event) is True)


def _list(value: object) -> typing.Sequence[object]:
    return value if is_list(value) else []


def _filtered_runs(runs: list[Run], flt: typing.Mapping[str, object]) -> list[Run]:
    time_of = _time_of(flt.get("timeField"))
    since, until = _ms(flt.get("from")), _ms(flt.get("until"))
    # Measured: the dev server drops SKIPPED from the filter (runs_v2.go, "unknown status"),
    # so asking for skipped runs alone asks for every run.
    statuses = [status for status in _list(flt.get("status")) if status != "SKIPPED"]
    function_ids = _list(flt.get("functionIDs"))

    def keep(run: Run) -> bool:
        moment = time_of(run)
        return not (
            (since is not None and (moment is None or moment < since))
            or (until is not None and (moment is None or moment >= until))
            or (statuses and _status(run) not in statuses)
            or (function_ids and run.function_id not in function_ids)
        )

    return [run for run in runs if keep(run)]


def _time_of(field: object) -> typing.Callable[[Run], int | None]:
    """The run's time a filter or an order names (``QUEUED_AT`` by default)."""
    return _ORDER_FIELDS.get(str(field), _ORDER_FIELDS["QUEUED_AT"])


def _ms(value: object) -> int | None:
    if value is None:
        return None
    moment = timeparse.parse_date(value) if isinstance(value, str) else None
    if moment is None:
        raise GraphQLError(f"invalid time: {value}")
    return int(moment.timestamp() * 1000)


def _ordered(runs: list[Run], order_by: object) -> list[Run]:
    orders = _list(order_by) or [{"field": "QUEUED_AT", "direction": "DESC"}]
    for order in reversed(orders):
        order = _mapping(order, "orderBy")
        time_of = _time_of(order.get("field"))
        key: typing.Callable[[Run], tuple[int, str]] = lambda run: (time_of(run) or 0, run.id)
        runs = sorted(runs, key=key,
                      reverse=order.get("direction") != "ASC")
    return runs


# ---------------------------------------------------------------------------- events


def _event_fields(stored: StoredEvent) -> dict[str, object]:
    event = stored.event
    return {
        "id": stored.internal_id, "name": stored.name,
        "createdAt": rfc3339(to_int(event.get("ts") or stored.received_at_ms, "ts")),
        "payload": dump_escaped(event.get("data")), "raw": dump_escaped(wire_event(event)),
        "schema": None, "externalID": event.get("id") or None,
    }


def _event_object(field: str) -> Resolver:
    def resolve(parent: object, args: Args, ctx: object) -> object:
        assert isinstance(parent, StoredEvent)
        return _event_fields(parent)[field]

    return resolve


def _event_runs(parent: object, args: Args, ctx: object) -> list[Run]:
    assert isinstance(parent, StoredEvent)
    return engine_of(ctx).store.runs_for_event(parent.internal_id)


def _event_function_runs(parent: object, args: Args, ctx: object) -> list[Run] | None:
    """The real server answers null, not an empty list, for an event that started no run."""
    return _event_runs(parent, args, ctx) or None


def _recent_events(parent: object, args: Args, ctx: object) -> list[StoredEvent] | None:
    """The newest events first; like the real dev server, ``lastEventId`` does not page,
    and no event is a null list."""
    return engine_of(ctx).store.recent_events(RECENT_EVENTS) or None


def _event_status(parent: object, args: Args, ctx: object) -> str:
    runs = _event_runs(parent, args, ctx)
    if not runs:
        return "NO_FUNCTIONS"
    failed = [run for run in runs if run.status is RunStatus.FAILED]
    if failed:
        return "FAILED" if len(failed) == len(runs) else "PARTIALLY_FAILED"
    return "RUNNING" if any(not run.status.ended for run in runs) else "COMPLETED"


def _get_event(event_id: object, ctx: object) -> StoredEvent:
    stored = engine_of(ctx).store.event(str(event_id))
    if stored is None:
        raise GraphQLError("event not found")
    return stored


_EVENT_FIELDS = {  # the real server's fields, types and order
    "id": Field("ULID!", _event_object("id")),
    "externalID": Field("String", _event_object("externalID")),
    "workspace": Field("Workspace", _no_workspace),
    **{name: Field(kind, _event_object(name)) for name, kind in (
        ("name", "String"), ("createdAt", "Time"), ("payload", "String"), ("schema", "String"))},
    "status": Field("EventStatus", _event_status),
    "pendingRuns": Field("Int", lambda e, a, ctx: sum(
        not run.status.ended for run in _event_runs(e, a, ctx))),
    "totalRuns": Field("Int", lambda e, a, ctx: len(_event_runs(e, a, ctx))),
    "raw": Field("String", _event_object("raw")),
    "functionRuns": Field("[FunctionRun!]", _event_function_runs),
}


# ---------------------------------------------------------------------------- apps, functions


def _app_functions(parent: object, args: Args, ctx: object) -> list[Function]:
    assert isinstance(parent, App)
    return engine_of(ctx).store.functions(parent.id)


def _function_app(parent: object, args: Args, ctx: object) -> App | None:
    assert isinstance(parent, Function)
    return engine_of(ctx).store.app_of_runs(parent.app_id)


def _triggers(parent: object, args: Args, ctx: object) -> list[dict[str, object]]:
    assert isinstance(parent, Function)
    return [
        {"type": "EVENT" if "event" in trigger else "CRON",
         "value": trigger.get("event") or trigger.get("cron"),
         "condition": trigger.get("expression")}
        for trigger in parent.triggers
    ]


def _function_by_slug(parent: object, args: Args, ctx: object) -> Function | None:
    query = _mapping(args.get("query"), "query")
    # Functions of an archived app too, as there.
    return engine_of(ctx).store.function_by_slug(str(query.get("functionSlug")), synced=True)


def _app_field(read: typing.Callable[[App], object]) -> Resolver:
    return _field_of(App, read)


def _function_field(read: typing.Callable[[Function], object]) -> Resolver:
    return _field_of(Function, read)


def _function_record(parent: object, args: Args, ctx: object) -> str:
    """The dev server's record of the function (as ``GET /dev`` lists it), in Go's JSON: the
    config it stored when the app synced."""
    assert isinstance(parent, Function)
    app = engine_of(ctx).store.app_of_runs(parent.app_id)
    connect = app is not None and app.method == CONNECT_METHOD
    return dump_escaped(function_record.record(parent, connect=connect))


def _failure_handler(parent: object, args: Args, ctx: object) -> Function | None:
    """The SDK registers a function's on_failure handler as ``<slug>-failure``."""
    assert isinstance(parent, Function)
    return engine_of(ctx).store.function_by_slug(f"{parent.slug}-failure")


# ---------------------------------------------------------------------------- mutations


def _run_id_argument(args: Args) -> str | None:
    """``runID`` as the server's ULID scalar reads it (any case, its parse errors)."""
    return debug_sessions.ulid_argument(args.get("runID"), "runID")


def _cancel_run(parent: object, args: Args, ctx: object) -> Run:
    engine = engine_of(ctx)
    run = _get_run(_run_id_argument(args), ctx, skipped=False)
    engine.runner.cancel(run.id)
    return _get_run(run.id, ctx)


def _invoke_function(parent: object, args: Args, ctx: object) -> bool:
    """Publish the invocation event, as the dev server does whatever the slug names: its
    runner starts the function, or sends the invocation's failure when none is synced."""
    engine = engine_of(ctx)
    given = {name: _map_argument(args.get(name), name) for name in ("data", "meta", "user")}
    for name in ("data", "user"):
        _refuse_number_text(given[name], name)
    debug = debug_sessions.debug_ids(args)
    try:
        meta = sessions.from_invocation(given["meta"])
    except sessions.SessionsError as err:
        raise GraphQLError(str(err)) from None
    slug = str(args.get("functionSlug"))
    data = {**given["data"], events.INTERNAL_DATA_KEY:
            events.invocation_metadata(slug, **_debug_metadata(debug))}
    now = engine.clock.now_ms()
    # Its id is not its internal id there (the event is stored as newly received).
    invoked: dict[str, JSON] = {"name": events.FUNCTION_INVOKED, "id": engine.ids.new(now),
                                "ts": now, "data": data}
    if args.get("user") is not None:
        invoked["user"] = given["user"]
    if meta is not None:
        invoked["meta"] = meta
    try:
        engine.runner.publish([invoked])
    except events.EventError as err:
        raise GraphQLError(str(err)) from None
    return True


def _refuse_number_text(value: Object, name: str) -> None:
    """A number past a float64 in the variables: the dev server answers true and then loses
    the invocation (measured); refused here instead (docs/compatibility.md)."""
    number = first_number_text(value)
    if number is not None:
        raise GraphQLError(f"{name}: number {number} is out of range", path=[name])


def _map_argument(value: object, name: str) -> Object:
    """A ``Map`` argument as the server's scalar reads it, in its words when it is none."""
    if value is not None and (not is_mapping(value) or isinstance(value, Upload)):
        raise GraphQLError(f"{debug_sessions.go_type(value)} is not a map", path=[name])
    return _mapping(value, name)


def _debug_metadata(debug: DebugIds) -> dict[str, JSON]:
    """The debug ids an invocation event carries (the runner reads them from there)."""
    ids = {"debug_run_id": debug.run_id, "debug_session_id": debug.session_id}
    return {key: value for key, value in ids.items() if value is not None}


def _rerun(parent: object, args: Args, ctx: object) -> str:
    run_id = _run_id_argument(args)
    debug = debug_sessions.debug_ids(args)
    original = _get_run(run_id, ctx, skipped=False)
    start = _from_step(args.get("fromStep"))
    try:
        run = engine_of(ctx).runner.rerun(original, start, debug)
    except RerunStepError as err:
        raise GraphQLError(f"error reconstructing input state: {err}") from None
    if run is None:
        raise GraphQLError("the run's function or triggering events are gone")
    return run.id


def _from_step(value: object) -> FromStep | None:
    """The ``fromStep`` argument; without a step id it is a plain rerun, as on the dev
    server, which still refuses an input that is not a JSON array."""
    if value is None:
        return None
    fields = _mapping(value, "fromStep")
    text = fields.get("input")
    try:
        step_input = None if text is None else input_from_text(str(text))
    except ValueError as err:
        raise GraphQLError(str(err)) from None
    step_id = str(fields.get("stepID") or "")
    return FromStep(step_id, step_input) if step_id else None


def _create_app(parent: object, args: Args, ctx: object) -> App:
    """Sync the app at a URL now; it is listed (with the reason) even when that fails, and
    the reason is the mutation's error, as on the real server."""
    url = str(_mapping(args.get("input"), "input").get("url") or "").strip()
    engine = engine_of(ctx)
    if not url:
        raise GraphQLError("url is required")
    if engine.sync_app is None:
        raise GraphQLError("this engine does not sync apps")
    try:
        synced_url, problem = engine.sync_app(url)
    except registration.UrlError as err:
        raise GraphQLError(str(err)) from None
    if problem is not None:
        raise GraphQLError(problem)
    apps = engine.store.apps_by_url(synced_url)
    if not apps:
        raise GraphQLError("app not found")
    return apps[0]


def _update_app(parent: object, args: Args, ctx: object) -> App:
    """Change an app's URL, as given (normalized), without syncing it (an archived app
    stays archived); the dev server's words for an id that is no UUID (its resolver
    panics) and for an unknown one."""
    fields = _mapping(args.get("input"), "input")
    try:
        app_id = str(uuid.UUID(str(fields.get("id"))))
    except ValueError:
        raise GraphQLError("internal system error") from None
    store = engine_of(ctx).store
    app = store.app_of_runs(app_id)
    if app is None:
        raise GraphQLError("sql: no rows in result set")
    url = str(fields.get("url"))
    try:
        url = registration.normalize_url(url)
    except registration.UrlError:
        pass  # kept as written, as there
    updated = app.replace(url=url)
    store.put_app(updated, archived=store.app(app_id) is None)
    return updated


def _delete_app_by_name(parent: object, args: Args, ctx: object) -> bool:
    """Archive the first app listed with the name; false when none is."""
    engine = engine_of(ctx)
    name = args.get("name")
    for app in engine.store.apps():
        if app.name == name:
            engine.store.delete_app(app.id, engine.clock.now_ms())
            return True
    return False


def _delete_app(parent: object, args: Args, ctx: object) -> str:
    """Archive the app (store.delete_app); any UUID is answered back as given, an app or
    not, as the dev server does."""
    app_id = str(args.get("id"))
    engine = engine_of(ctx)
    engine.store.delete_app(_uuid(app_id), engine.clock.now_ms())
    return app_id


def _uuid(text: str, *path: str) -> str:
    try:
        return uuids.parse(text)
    except ValueError as err:
        raise GraphQLError(str(err), path=list(path)) from None


def _apps(parent: object, args: Args, ctx: object) -> list[App]:
    """The apps by id (the store's order, the dev server's), of the filter's method."""
    method = _mapping(args.get("filter"), "filter").get("method")
    apps = engine_of(ctx).store.apps()
    return apps if method is None else [app for app in apps if app.method == method]


def _app(parent: object, args: Args, ctx: object) -> App | None:
    """An app by id, archived ones too."""
    return engine_of(ctx).store.app_of_runs(_uuid(str(args.get("id")), "id"))


# ---------------------------------------------------------------------------- schema

_RUN_ID = {"runID": "String!"}
# Input types of the real server's schema (its introspection) that our fields take.
_ENUMS = {  # values in the real server's order (its introspection lists them so)
    "AppMethod": ("SERVE", "CONNECT", "API"),
    "FunctionRunStatus": ("COMPLETED", "FAILED", "CANCELLED", "RUNNING", "QUEUED", "SKIPPED"),
    "RunsOrderByDirection": ("ASC", "DESC"),
    "RunsV2OrderByField": tuple(_ORDER_FIELDS),
    "ConcurrencyScope": ("ACCOUNT", "ENVIRONMENT", "FUNCTION"),
    "SingletonMode": ("SKIP", "CANCEL"),
    "EventStatus": ("RUNNING", "COMPLETED", "PAUSED", "FAILED", "PARTIALLY_FAILED",
                    "NO_FUNCTIONS"),
    "FunctionTriggerTypes": ("EVENT", "CRON"),
    "HistoryType": (
        "FunctionCancelled", "FunctionCompleted", "FunctionFailed", "FunctionScheduled",
        "FunctionStarted", "FunctionStatusUpdated", "None", "StepCompleted", "StepErrored",
        "StepFailed", "StepScheduled", "StepSleeping", "StepStarted", "StepWaiting"),
    "HistoryStepType": ("Run", "Send", "Sleep", "Wait"),
    "StepOp": ("INVOKE", "RUN", "SLEEP", "WAIT_FOR_EVENT", "AI_GATEWAY", "WAIT_FOR_SIGNAL"),
    **stream.ENUMS,
    **worker_connections.ENUMS,
    **run_defers.ENUMS,
    **debug_sessions.ENUMS,
    **unreached_types.ENUMS,
}
_INPUTS = {
    **unreached_types.INPUTS,
    "AppsFilterV1": {"method": "AppMethod"},
    "EventQuery": {"workspaceId": 'ID! = "local"', "eventId": "ID!"},
    "EventsFilter": events_v2.FILTER,
    "EventsQuery": {"workspaceId": 'ID! = "local"', "lastEventId": "ID"},
    "FunctionQuery": {"workspaceId": 'ID! = "local"', "functionSlug": "String!"},
    "FunctionRunQuery": {"workspaceId": 'ID! = "local"', "functionRunId": "ID!"},
    "RunsV2OrderBy": {"field": "RunsV2OrderByField!", "direction": "RunsOrderByDirection!"},
    "RunsFilterV2": {
        "from": "Time!", "until": "Time", "timeField": "RunsV2OrderByField = QUEUED_AT",
        "status": "[FunctionRunStatus!]", "functionIDs": "[UUID!]", "appIDs": "[UUID!]",
        "isDeferred": "Boolean", "query": "String"},
    "CreateAppInput": {"url": "String!"},
    "UpdateAppInput": {"id": "String!", "url": "String!"},
    **debug_sessions.INPUTS,
    "StreamQuery": stream.INPUT,
    "RerunFromStepInput": {"stepID": "String!", "input": "Bytes"},
    **worker_connections.INPUTS,
}

# Read from the mappings function_config builds; the real server's introspection.
_FUNCTION_CONFIGURATION_TYPES = {
    "FunctionConfiguration": {
        "cancellations": Field("[CancellationConfiguration!]!"),
        "retries": Field("RetryConfiguration!"), "priority": Field("String"),
        "eventsBatch": Field("EventsBatchConfiguration"),
        "concurrency": Field("[ConcurrencyConfiguration!]!"),
        "rateLimit": Field("RateLimitConfiguration"), "debounce": Field("DebounceConfiguration"),
        "throttle": Field("ThrottleConfiguration"), "singleton": Field("SingletonConfiguration"),
    },
    "CancellationConfiguration": {
        "event": Field("String!"), "timeout": Field("String"), "condition": Field("String")},
    "RetryConfiguration": {"value": Field("Int!"), "isDefault": Field("Boolean")},
    "EventsBatchConfiguration": {
        "maxSize": Field("Int!"), "timeout": Field("String!"), "key": Field("String")},
    "ConcurrencyConfiguration": {
        "scope": Field("ConcurrencyScope!"), "limit": Field("ConcurrencyLimitConfiguration!"),
        "key": Field("String")},
    "ConcurrencyLimitConfiguration": {"value": Field("Int!"), "isPlanLimit": Field("Boolean")},
    "RateLimitConfiguration": {
        "limit": Field("Int!"), "period": Field("String!"), "key": Field("String")},
    "DebounceConfiguration": {"period": Field("String!"), "key": Field("String")},
    "ThrottleConfiguration": {
        "burst": Field("Int!"), "key": Field("String"), "limit": Field("Int!"),
        "period": Field("String!")},
    "SingletonConfiguration": {"mode": Field("SingletonMode!"), "key": Field("String")},
}

SCHEMA = with_introspection(Schema(
    types={
        "Query": {
            "apps": Field("[App!]!", _apps, {"filter": "AppsFilterV1"}),
            "app": Field("App", _app, {"id": "UUID!"}),
            "stream": Field("[StreamItem!]!", stream.stream, stream.ARGS),
            "event": Field("Event", lambda p, a, ctx: _get_event(
                _mapping(a.get("query"), "query").get("eventId"), ctx),
                {"query": "EventQuery!"}),
            "events": Field("[Event!]", _recent_events, {"query": "EventsQuery!"}),
            "eventV2": Field("EventV2!", lambda p, a, ctx: _get_event(a.get("id"), ctx),
                             {"id": "ULID!"}),
            "eventsV2": Field("EventsConnection!", events_v2.events_v2, events_v2.ARGS),
            "functionBySlug": Field("Function", _function_by_slug, {"query": "FunctionQuery!"}),
            "functions": Field("[Function!]", lambda p, a, ctx: engine_of(ctx).store.functions()),
            "functionRun": Field("FunctionRun", lambda p, a, ctx: _get_run(
                _mapping(a.get("query"), "query").get("functionRunId"), ctx, skipped=False),
                {"query": "FunctionRunQuery!"}),
            "runs": Field("RunsV2Connection!", _runs, {
                "first": "Int! = 100", "after": "String", "orderBy": "[RunsV2OrderBy!]!",
                "filter": "RunsFilterV2!", "preview": "Boolean"}),
            "run": Field("FunctionRunV2", lambda p, a, ctx: _get_run(a.get("runID"), ctx),
                         _RUN_ID),
            "runTraceSpanOutputByID": Field("RunTraceSpanOutput!", _span_output,
                                            {"outputID": "String!"}),
            "runTrigger": Field("RunTraceTrigger!", _run_trigger, _RUN_ID),
            "runTrace": Field("RunTraceSpan!", lambda p, a, ctx: _root_span(
                _get_run(a.get("runID"), ctx), ctx, raw=True), _RUN_ID),
            "debugRun": Field("DebugRun", debug_sessions.debug_run(_debug_trace),
                              {"query": "DebugRunQuery!"}),
            "debugSession": Field("DebugSession", debug_sessions.debug_session(_debug_trace),
                                  {"query": "DebugSessionQuery!"}),
            "workerConnections": Field("ConnectV1WorkerConnectionsConnection!",
                                       worker_connections.worker_connections,
                                       worker_connections.ARGS),
            "workerConnection": Field("ConnectV1WorkerConnection",
                                      worker_connections.worker_connection,
                                      {"connectionId": "ULID!"}),
        },
        "Mutation": {
            "createApp": Field("App!", _create_app, {"input": "CreateAppInput!"}),
            "updateApp": Field("App!", _update_app, {"input": "UpdateAppInput!"}),
            "deleteApp": Field("String!", _delete_app, {"id": "String!"}),
            "deleteAppByName": Field("Boolean!", _delete_app_by_name, {"name": "String!"}),
            "invokeFunction": Field("Boolean", _invoke_function, {
                "data": "Map", "functionSlug": "String!", "meta": "Map", "user": "Map",
                **debug_sessions.ARGS}),
            "cancelRun": Field("FunctionRun!", _cancel_run, {"runID": "ULID!"}),
            "rerun": Field("ULID!", _rerun, {
                "runID": "ULID!", "fromStep": "RerunFromStepInput", **debug_sessions.ARGS}),
            "createDebugSession": Field("CreateDebugSessionResponse!",
                                        debug_sessions.create_debug_session,
                                        {"input": "CreateDebugSessionInput!"}),
        },
        "FunctionRunV2": _in_order({**_RUN_V2_FIELDS, **run_defers.fields(_ListedRun)}, (
            "id", "appID", "app", "functionID", "function", "traceID", "queuedAt", "startedAt",
            "endedAt", "status", "sourceID", "triggerIDs", "eventName", "isBatch",
            "batchCreatedAt", "cronSchedule", "output", "trace", "hasAI", "defers",
            "siblingDefers", "deferredFrom", "isDeferred")),
        **run_defers.TYPES,
        "FunctionRun": _in_order(_LEGACY_RUN_FIELDS, (
            "id", "functionID", "function", "workspace", "event", "events", "batchID",
            "batchCreatedAt", "status", "waitingFor", "pendingSteps", "startedAt", "finishedAt",
            "output", "history", "historyItemOutput", "eventID", "cron")),
        "RunTraceTrigger": {
            "eventName": Field("String"), "IDs": Field("[ULID!]!"),
            "payloads": Field("[Bytes!]!"), "timestamp": Field("Time!"),
            "isBatch": Field("Boolean!"), "batchID": Field("ULID"), "cron": Field("String"),
        },
        "RunTraceSpan": {  # the real server's fields, types and order
            "appID": Field("UUID!"), "functionID": Field("UUID!"), "runID": Field("ULID!"),
            "run": Field("FunctionRun!", _null_object),
            "spanID": Field("String!"), "traceID": Field("String!"), "groupID": Field("String"),
            "name": Field("String!"), "status": Field("RunTraceSpanStatus!"),
            "attempts": Field("Int"), "duration": Field("Int"), "outputID": Field("String"),
            "queuedAt": Field("Time!"), "scheduledAt": Field("Time"), "startedAt": Field("Time"),
            "endedAt": Field("Time"), "childrenSpans": Field("[RunTraceSpan!]!"),
            "stepOp": Field("StepOp"), "stepID": Field("String"), "stepInfo": Field("StepInfo"),
            "stepType": Field("String!"), "isRoot": Field("Boolean!"),
            "parentSpanID": Field("String"), "parentSpan": Field("RunTraceSpan", _none),
            "isUserland": Field("Boolean!"),
            # Spans an app traced itself (OpenTelemetry, sent to /v1/traces/userland).
            "userlandSpan": Field("UserlandSpan"),
            "debugRunID": Field("ULID"), "debugSessionID": Field("ULID"),
            "debugPaused": Field("Boolean!"),
            # Why a run was skipped (singleton, a paused function): ours skips none so.
            "skipReason": Field("String"), "skipExistingRunID": Field("String"),
            "metadata": Field("[SpanMetadata!]!"),
            # The app's HTTP reply to the call the span stands for.
            "response": Field("RunTraceSpanResponseInfo"),
        },
        "RunTraceSpanResponseInfo": {
            "statusCode": Field("Int!"), "headers": Field("HTTPHeaders!")},
        "UserlandSpan": {
            **{name: Field("String") for name in ("spanName", "spanKind", "serviceName")},
            "resourceAttrs": Field("Bytes"),
            **{name: Field("String") for name in ("scopeName", "scopeVersion")},
            "spanAttrs": Field("Bytes"),
        },
        "SpanMetadata": {
            "scope": Field("SpanMetadataScope!"), "kind": Field("SpanMetadataKind!"),
            "values": Field("SpanMetadataValues!"), "updatedAt": Field("Time!"),
        },
        "StepInfo": {},
        "RunStepInfo": {"type": Field("String")},
        "SleepStepInfo": {"sleepUntil": Field("Time!")},
        "WaitForEventStepInfo": {
            "eventName": Field("String!"), "expression": Field("String"),
            "timeout": Field("Time!"), "foundEventID": Field("ULID"),
            "timedOut": Field("Boolean"),
        },
        "WaitForSignalStepInfo": {
            "signal": Field("String!"), "timeout": Field("Time!"), "timedOut": Field("Boolean")},
        "InvokeStepInfo": {
            "triggeringEventID": Field("ULID!"), "functionID": Field("String!"),
            "timeout": Field("Time!"), "returnEventID": Field("ULID"), "runID": Field("ULID"),
            "timedOut": Field("Boolean"),
        },
        "RunTraceSpanOutput": {
            "input": Field("Bytes"), "data": Field("Bytes"), "error": Field("StepError"),
        },
        "StepError": {"message": Field("String!"), "name": Field("String"),
                      "stack": Field("String"), "cause": Field("Unknown")},
        "RunsV2Connection": {
            "edges": Field("[FunctionRunV2Edge!]!"), "pageInfo": Field("PageInfo!"),
            "totalCount": Field("Int!", args={"preview": "Boolean"}),
        },
        "FunctionRunV2Edge": {"node": Field("FunctionRunV2!"), "cursor": Field("String!")},
        "PageInfo": {
            "hasNextPage": Field("Boolean!"), "hasPreviousPage": Field("Boolean!"),
            "startCursor": Field("String"), "endCursor": Field("String"),
        },
        "Event": _EVENT_FIELDS,
        **stream.TYPES,
        **events_v2.TYPES,
        **worker_connections.TYPES,
        **debug_sessions.TYPES,
        "App": {
            "id": Field("ID!", _app_field(lambda app: app.id)),
            "externalID": Field("String!", _app_field(lambda app: app.name)),
            "name": Field("String!", _app_field(lambda app: app.name)),
            "sdkLanguage": Field("String!", _app_field(lambda app: app.sdk.split(":")[0])),
            "sdkVersion": Field("String!", _app_field(lambda app: app.sdk.partition(":")[2])),
            "framework": Field("String", _app_field(lambda app: app.framework or None)),
            "url": Field("String", _app_field(lambda app: app.url)),
            "checksum": Field("String", _app_field(lambda app: app.checksum)),
            "error": Field("String", _app_field(lambda app: app.error)),
            "functions": Field("[Function!]!", _app_functions),
            "method": Field("AppMethod!", _app_field(lambda app: app.method)),
            "appVersion": Field("String", _app_field(lambda app: app.app_version)),
            "sdkFeatureReadiness": Field("SDKFeatureReadiness!",
                                         _app_field(lambda app: feature_observations.readiness(
                                             typing.cast(dict[str, int], app.feature_reasons)))),
            "connected": Field("Boolean!", _app_field(lambda app: app.error is None)),
            "functionCount": Field("Int!", lambda app, a, ctx: len(_app_functions(app, a, ctx))),
            "autodiscovered": Field("Boolean!", _app_field(lambda app: False)),
        },
        "SDKFeatureReadiness": {"aiMetadataExtraction": Field("SDKFeatureStatus"),
                                "extendedTraces": Field("SDKFeatureStatus")},
        "SDKFeatureStatus": {"ready": Field("Boolean!"), "reason": Field("Int")},
        "Function": {
            "id": Field("String!", _function_field(lambda fn: fn.id)),
            "name": Field("String!", _function_field(lambda fn: fn.name)),
            "slug": Field("String!", _function_field(lambda fn: fn.slug)),
            "failureHandler": Field("Function", _failure_handler),
            "config": Field("String!", _function_record),
            "configuration": Field("FunctionConfiguration!",
                                   _function_field(function_config.configuration)),
            "concurrency": Field("Int!", _function_field(function_config.function_scope_limit)),
            "triggers": Field("[FunctionTrigger!]", _triggers),
            "url": Field("String!", _function_field(lambda fn: function_record.step_uri(fn.url))),
            "appID": Field("String!", _function_field(lambda fn: fn.app_id)),
            "app": Field("App!", _function_app),
        },
        "StepEventWait": {"eventName": Field("String"), "expression": Field("String"),
                          "expiryTime": Field("Time!")},
        "RunHistoryItem": {
            "attempt": Field("Int!"), "cancel": Field("RunHistoryCancel"),
            "createdAt": Field("Time!"), "functionVersion": Field("Int!"),
            "groupID": Field("UUID"), "id": Field("ULID!"), "result": Field("RunHistoryResult"),
            "sleep": Field("RunHistorySleep"), "stepName": Field("String"),
            "stepType": Field("HistoryStepType"), "type": Field("HistoryType!"),
            "url": Field("String"), "waitForEvent": Field("RunHistoryWaitForEvent"),
            "waitResult": Field("RunHistoryWaitResult"),
            "invokeFunction": Field("RunHistoryInvokeFunction"),
            "invokeFunctionResult": Field("RunHistoryInvokeFunctionResult"),
        },
        "RunHistoryCancel": {"eventID": Field("ULID"), "expression": Field("String"),
                             "userID": Field("UUID")},
        "RunHistoryResult": {
            "durationMS": Field("Int!"),
            **{name: Field("String") for name in ("errorCode", "framework", "platform")},
            "sdkLanguage": Field("String!"), "sdkVersion": Field("String!"),
            "sizeBytes": Field("Int!"),
        },
        "RunHistorySleep": {"until": Field("Time!")},
        "RunHistoryWaitForEvent": {"eventName": Field("String!"), "expression": Field("String"),
                                   "timeout": Field("Time!")},
        "RunHistoryWaitResult": {"eventID": Field("ULID"), "timeout": Field("Boolean!")},
        "RunHistoryInvokeFunction": {
            "eventID": Field("ULID!"), "functionID": Field("String!"),
            "correlationID": Field("String!"), "timeout": Field("Time!")},
        "RunHistoryInvokeFunctionResult": {
            "eventID": Field("ULID"), "timeout": Field("Boolean!"), "runID": Field("ULID"),
        },
        "FunctionTrigger": {"type": Field("FunctionTriggerTypes!"), "value": Field("String!"),
                            "condition": Field("String")},
        "Workspace": {"id": Field("ID!")},
        **unreached_types.TYPES,
        **_FUNCTION_CONFIGURATION_TYPES,
    },
    query="Query",
    mutation="Mutation",
    unions={"StepInfo": ("InvokeStepInfo", "SleepStepInfo", "WaitForEventStepInfo",
                         "RunStepInfo", "WaitForSignalStepInfo"),
            **unreached_types.UNIONS},
    enums=_ENUMS,
    inputs=_INPUTS,
    scalars=frozenset(("Time", "ULID", "UUID", "Map", "Bytes", "Int64", "Uint", "Unknown",
                       "SpanMetadataKind", "SpanMetadataScope", "SpanMetadataValues",
                       "HTTPHeaders", *unreached_types.SCALARS)),
))


def execute(engine: Engine, query: str, variables: typing.Mapping[str, object],
            operation_name: str | None = None, *, queries_only: bool = False
            ) -> dict[str, object]:
    """Answer one GraphQL request against ``engine``; errors are reported, never raised,
    but a mutation when ``queries_only`` (``OperationNotAllowed``)."""
    return execute_document(SCHEMA, query, variables, operation_name, engine,
                            queries_only=queries_only)
