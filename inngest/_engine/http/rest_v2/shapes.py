"""Apps, functions, runs and traces as the REST v2 API writes them (protobuf JSON: camelCase,
zero values left out, 64-bit integers as strings, enums without their type prefix)."""

from __future__ import annotations

import datetime
import typing

from inngest._engine import scores, span_metadata, ulid
from inngest._engine.graphql import function_config, schema, span_tree, trace
from inngest._engine.http.rest_v2.envelope import Keep, Object, proto
from inngest._engine.models import JSON, App, Function, Run, RunStatus
from inngest._engine.otel.tree import Userland
from inngest._engine.payload import load
from inngest._engine.store import Store
from inngest._protocol import jcs

# The real server maps every other status (a skipped run) to QUEUED.
_RUN_STATUSES = {RunStatus.RUNNING: "RUNNING", RunStatus.COMPLETED: "COMPLETED",
                 RunStatus.FAILED: "FAILED", RunStatus.CANCELLED: "CANCELLED"}
_SPAN_STATUSES = {"COMPLETED": "COMPLETED", "FAILED": "FAILED", "CANCELLED": "CANCELLED",
                  "SKIPPED": "SKIPPED", "WAITING": "WAITING", "QUEUED": "WAITING",
                  "RUNNING": "RUNNING"}
_OPTIONAL_FLAGS = ("isDefault", "isPlanLimit")
_STEP_OPS = ("RUN", "SLEEP", "WAIT_FOR_EVENT", "INVOKE", "AI_GATEWAY", "WAIT_FOR_SIGNAL")


def timestamp(ms: int) -> str:
    """A ``google.protobuf.Timestamp`` in JSON: whole seconds carry no fraction."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}Z" if ms % 1000 == 0 else f"{text}.{ms % 1000:03d}Z"


def _optional_time(ms: int | None) -> str | None:
    return None if ms is None else timestamp(ms)


# Apps and functions


def app_json(app: App, function_count: int) -> Object:
    language, _, version = app.sdk.partition(":")
    sync = proto(sdkLanguage=language, sdkVersion=version, framework=app.framework,
                 url=app.url, error=app.error, appVersion=app.app_version)
    return proto(id=app.name, name=app.name, method="SERVE", functionCount=function_count,
                 createdAt=timestamp(app.updated_at_ms // 1000 * 1000),
                 appVersion=app.app_version, latestSync=sync,
                 isArchived=app.archived_at_ms > 0,
                 archivedAt=_optional_time(app.archived_at_ms // 1000 * 1000 or None))


def public_function_id(fn: Function, app: App | None) -> str:
    """A function's id without its app's prefix, as the v2 API names it."""
    prefix = f"{app.name}-" if app is not None else ""
    return fn.slug[len(prefix):] if prefix and fn.slug.startswith(prefix) else fn.slug


def function_json(fn: Function, app: App | None) -> Object:
    public_id = public_function_id(fn, app)
    return proto(id=public_id, name=fn.name, slug=public_id,
                 app=proto(id=app.name if app else ""), triggers=_triggers(fn),
                 configuration=_pruned(function_config.configuration(fn)))


def _triggers(fn: Function) -> list[Object]:
    out = []
    for trigger in fn.triggers:
        if trigger.get("event"):
            out.append(proto(type="EVENT", value=trigger["event"],
                             **{"if": trigger.get("expression")}))
        elif trigger.get("cron"):
            out.append(proto(type="CRON", value=trigger["cron"]))
    return out


def _pruned(value: object) -> object:
    """A GraphQL function configuration in protobuf JSON: zero values left out, except in
    messages and in the optional flags, which are always set (``"isDefault": false``)."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items()
                if isinstance(item, dict) or key in _OPTIONAL_FLAGS
                or item not in (None, False, 0, "", [])}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


# Runs


def run_json(run: Run, fn: Function | None, app: App | None, *, output: bool,
             listed: bool = False) -> Object:
    """A run; with ``output``, its output, which a list gives a failed run under "error"."""
    started = run.started_at_ms if run.started_at_ms is not None else run.created_at_ms
    trigger = proto(eventIds=run.event_ids[:1] or ["0" * 26], isBatch=run.batch_id is not None,
                    batchId=run.batch_id, cronSchedule=run.cron)
    out = proto(
        id=run.id, status=_RUN_STATUSES.get(run.status, "QUEUED"),
        function=proto(id=public_function_id(fn, app) if fn else run.function_id,
                       name=fn.name if fn else ""),
        app=proto(id=app.name if app else ""), trigger=trigger,
        queuedAt=timestamp(ulid.timestamp_ms(run.id)), startedAt=timestamp(started),
        endedAt=_optional_time(run.ended_at_ms),
        durationMs=None if run.ended_at_ms is None else str(max(run.ended_at_ms - started, 0)),
    )
    if output and run.has_output:
        failed = listed and run.status is RunStatus.FAILED
        out["output"] = as_struct({"error": run.output} if failed else run.output)
    return out


def as_struct(value: JSON) -> JSON:
    """A ``google.protobuf.Struct`` holds an object; any other value is put under "data"."""
    return value if isinstance(value, typing.Mapping) else {"data": value}


# Traces


def trace_json(run: Run, store: Store, *, outputs: bool) -> Object:
    """A run's raw span tree (as GraphQL's ``runTrace``, with the spans the app traced);
    with ``outputs``, the run's events and output on the root and each step's or call's
    output on its span."""
    spans = span_tree.children(run, store.history(run.id), dict(store.steps(run.id)),
                               store.step_info(run.id), Userland(store.userland_spans(run.id)))
    skipped = run.status is RunStatus.SKIPPED
    # Measured: a skipped run's span is the run span as stored, never started.
    root: dict[str, object] = {
        "spanID": run.id, "name": "executor.run" if skipped else "Run",
        "status": run.status.value.upper(), "stepOp": None, "stepID": None,
        "queuedAt": run.created_at_ms, "startedAt": None if skipped else run.started_at_ms,
        "endedAt": run.ended_at_ms, "childrenSpans": spans,
    }
    scores.attach(store, run.id, root)
    span_metadata.attach_usage(root)
    read = _Outputs(run, store) if outputs else None
    out = _span_json(root, read)
    # Measured: an ended run shows its events, a cancelled one without an output.
    if read is not None and (run.status.ended or run.has_output):
        events = [store.event(event_id) for event_id in run.event_ids]
        out["input"] = {"data": [schema.wire_event(e.event) for e in events if e]}
    if read is not None and run.has_output and run.status is not RunStatus.CANCELLED:
        out["output"] = as_struct(run.output)
    return proto(runId=run.id, rootSpan=out)


class _Outputs:
    """Span outputs by output id: a step's result (measured: an object as it is, another
    value under "data") or its error, a failed call's recorded error, or (ids ``<run>:``
    and ``<run>:o:``) the run's output."""

    def __init__(self, run: Run, store: Store) -> None:
        self.run = run
        self.memos = dict(store.steps(run.id))
        self.errors = {item.get("id"): item.get("output") for item in store.history(run.id)}

    def of(self, span: typing.Mapping[str, object]) -> JSON:
        output_id = span.get("outputID")
        # Measured: the dev server's Finalization span shows no output; its calls do.
        if not isinstance(output_id, str) or span.get("name") == "Finalization":
            return None
        step_id = output_id.partition(":")[2]
        if step_id.startswith("h:"):
            text = self.errors.get(step_id[2:])
            return as_struct(load(text)) if isinstance(text, str) and text else None
        if step_id in ("", trace.RUN_OUTPUT):
            return as_struct(self.run.output) if self.run.has_output else None
        step_id = step_id.removeprefix(trace.RAW_INVOKE)
        if step_id not in self.memos:
            return None
        memo = self.memos[step_id]
        if isinstance(memo, typing.Mapping) and memo.get("error") is not None:
            return as_struct(memo["error"])
        if isinstance(memo, typing.Mapping) and set(memo) == {"data"}:
            memo = memo["data"]
        return as_struct(memo)


def _span_json(span: typing.Mapping[str, object], outputs: _Outputs | None) -> Object:
    times = {key: value if isinstance(value, int) else None
             for key in ("queuedAt", "startedAt", "endedAt") for value in [span.get(key)]}
    started, ended = times["startedAt"], times["endedAt"]
    op = span.get("stepOp")
    children = span.get("childrenSpans")
    return proto(
        id=span.get("spanID"), name=span.get("name"),
        status=_SPAN_STATUSES.get(str(span.get("status")), "UNKNOWN"),
        durationMs=None if started is None or ended is None else Keep(str(max(ended - started, 0))),
        queuedAt=Keep(timestamp(times["queuedAt"] or 0)),
        startedAt=_optional_time(started), endedAt=_optional_time(ended),
        stepOp=None if op is None else (op if op in _STEP_OPS else "UNSPECIFIED"),
        stepId=span.get("stepID") or None,
        output=None if outputs is None else outputs.of(span),
        metadata=[_metadata_json(entry) for entry in typing.cast(
            list[scores.Metadata], span.get("metadata") or [])],
        children=[_span_json(child, outputs) for child in typing.cast(
            list[typing.Mapping[str, object]], children or [])],
    )


def _metadata_json(entry: scores.Metadata) -> Object:
    """A span's metadata entry: each value as its JSON text, as the dev server stores it."""
    values = typing.cast(typing.Mapping[str, JSON], entry["values"])
    return {"kind": entry["kind"], "scope": entry["scope"],
            "updatedAt": timestamp(typing.cast(int, entry["updatedAt"])),
            "values": {name: jcs.canonicalize(value).decode() for name, value in values.items()}}
