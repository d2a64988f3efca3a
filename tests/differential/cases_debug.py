"""Cases for the console debugger's GraphQL (``createDebugSession``, the debug ids of
``invokeFunction`` and ``rerun``, ``debugRun``, ``debugSession``) and the app mutations
``updateApp`` and ``deleteAppByName``. They start runs of their own and sync an app of
their own, so they run in the last phase, after the cases that list every run or app.
They register into ``cases.CASES``."""

from __future__ import annotations

import re
import typing

from cases import CASES, Answer, Case, Side, ids, push_sync, times, without_locations
from probe import Probe, wait_for

_LAST_PHASE = 4
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")

CREATE = ("mutation($slug: String!, $run: String) { createDebugSession(input: "
          "{functionSlug: $slug, runID: $run}) { debugSessionID debugRunID } }")
INVOKE = ("mutation($key: String!, $s: ULID, $r: ULID) { invokeFunction(functionSlug: "
          '"diff-py-steps", data: {key: $key}, debugSessionID: $s, debugRunID: $r) }')
RERUN = ("mutation($id: ULID!, $s: ULID, $r: ULID) "
         "{ rerun(runID: $id, debugSessionID: $s, debugRunID: $r) }")
_SPAN = "name status stepOp debugRunID debugSessionID debugPaused"
DEBUG_RUN = """query($r: String) { debugRun(query: {functionSlug: "diff-py-steps",
  debugRunID: $r}) { debugTraces { runID isRoot queuedAt startedAt endedAt %s
    childrenSpans { %s } } } }""" % (_SPAN, _SPAN)
DEBUG_SESSION = """query($s: String) { debugSession(query: {functionSlug: "diff-py-steps",
  debugSessionID: $s}) { debugRuns { status queuedAt startedAt endedAt debugRunID tags
  versions } } }"""
RUN_TRACE = "query($id: String!) { runTrace(runID: $id) { %s childrenSpans { %s } } }" % (
    _SPAN, _SPAN)
PAGE_TRACE = ("query($id: String!) { run(runID: $id) { trace { %s childrenSpans { %s } } } }"
              % (_SPAN, _SPAN))


def _session(probe: Probe) -> dict[str, str]:
    return typing.cast("dict[str, str]",
                       probe.data(CREATE, slug="diff-py-steps")["createDebugSession"])


def _created(probe: Probe) -> object:
    """Two new ids each time, whatever the function and run named (none is looked up)."""
    answers = [probe.gql(CREATE, slug="diff-py-steps"),
               probe.gql(CREATE, slug="no-such-function", run="no-such-run")]
    shapes = []
    for answer in answers:
        created = answer["data"]["createDebugSession"]
        shapes.append({key: bool(_ULID.fullmatch(value)) for key, value in created.items()})
        shapes.append(len(set(created.values())))
    return shapes


def _debug_traces(probe: Probe, debug_run_id: str, count: int) -> list[dict[str, typing.Any]]:
    """The debug run's traces once ``count`` runs are listed and every one has ended."""
    def ended() -> list[dict[str, typing.Any]]:
        traces = probe.data(DEBUG_RUN, r=debug_run_id)["debugRun"]["debugTraces"]
        assert len(traces) == count, f"{probe.name}: {len(traces)} runs listed"
        assert all(trace["status"] == "COMPLETED" for trace in traces), traces
        return typing.cast("list[dict[str, typing.Any]]", traces)

    return wait_for(ended, 30)


def _debugging(side: Side) -> Answer:
    """A function invoked in a debug session, then rerun in it and rerun plainly: the debug
    run lists both runs of the session with their traces, the session its debug run."""
    probe = side.probe
    session = _session(probe)
    invoked = probe.gql(INVOKE, key="debug-invoked", s=session["debugSessionID"],
                        r=session["debugRunID"])
    first = _debug_traces(probe, session["debugRunID"], 1)[0]["runID"]
    again = probe.data(RERUN, id=first, s=session["debugSessionID"],
                       r=session["debugRunID"])["rerun"]
    plain = probe.data(RERUN, id=first)["rerun"]
    traces = _debug_traces(probe, session["debugRunID"], 2)
    probe.ended_run(plain)
    labels = {session["debugSessionID"]: "<session>", session["debugRunID"]: "<debug run>",
              first: "<invoked run>", again: "<rerun>", plain: "<plain rerun>"}
    answer: Answer = {
        "invoked": invoked,
        "debug_run": traces,
        "debug_session": probe.data(DEBUG_SESSION, s=session["debugSessionID"]),
        "other_traces": {
            "plain rerun": probe.data(RUN_TRACE, id=plain),
            "invoked, run page": probe.data(PAGE_TRACE, id=first),
        },
    }
    return typing.cast(Answer, times(ids(answer, labels)))


def _partial_ids(side: Side) -> Answer:
    """A run with a debug run id only is listed by its debug run, with no session; one with
    a session id only is in no debug run, and its session lists none."""
    probe = side.probe
    run_only, session_only = _session(probe), _session(probe)
    probe.data(INVOKE, key="debug-run-only", r=run_only["debugRunID"])
    probe.data(INVOKE, key="debug-session-only", s=session_only["debugSessionID"])
    traces = _debug_traces(probe, run_only["debugRunID"], 1)

    def session_listed() -> dict[str, typing.Any]:
        return probe.data(DEBUG_SESSION, s=session_only["debugSessionID"])

    labels = {run_only["debugRunID"]: "<debug run>", traces[0]["runID"]: "<run>",
              session_only["debugSessionID"]: "<session>"}
    return typing.cast(Answer, times(ids({
        "run_only": [{key: trace[key] for key in ("runID", "debugRunID", "debugSessionID")}
                     for trace in traces],
        "session_only": session_listed(),
        "session_only_as_debug_run": probe.data(DEBUG_RUN, r=session_only["debugSessionID"]),
    }, labels)))


_BAD_IDS: dict[str, dict[str, object]] = {
    "short": {"s": "nope"}, "overflow": {"r": "81M8PVK37PP000BXZWX98RAG9X"},
    "number": {"r": 5}, "both": {"s": "short", "r": "also short"},
}


def _refused(side: Side) -> Answer:
    """Debug ids that are no ULID, in the arguments and in the queries; queries without
    ids, or with ids nothing ran in."""
    probe = side.probe
    session = _session(probe)
    probe.data(INVOKE, key="debug-refused", r=session["debugRunID"])
    run_id = _debug_traces(probe, session["debugRunID"], 1)[0]["runID"]
    unknown = _session(probe)
    answer = {
        "arguments": {
            label: {"invoke": without_locations(probe.gql(INVOKE, key="debug-bad", **bad)),
                    "rerun": without_locations(probe.gql(RERUN, id=run_id, **bad))}
            for label, bad in _BAD_IDS.items()},
        "queries": {
            "run without id": probe.gql(DEBUG_RUN),
            "run, bad id": without_locations(probe.gql(DEBUG_RUN, r="nope")),
            "run, unknown id": probe.gql(DEBUG_RUN, r=unknown["debugRunID"]),
            "session without id": without_locations(probe.gql(DEBUG_SESSION)),
            "session, bad id": without_locations(probe.gql(DEBUG_SESSION, s="nope")),
            "session, unknown id": probe.gql(DEBUG_SESSION, s=unknown["debugSessionID"]),
        },
    }
    return typing.cast(Answer, answer)


def _debug_case(side: Side) -> Answer:
    return {"created": _created(side.probe), **_debugging(side),
            "partial_ids": _partial_ids(side), "refused": _refused(side)}


CASES["debug_sessions"] = Case(_debug_case, (
    "created", "invoked", "debug_run", "debug_session", "other_traces", "partial_ids",
    "refused"), phase=_LAST_PHASE)

# -- updateApp, deleteAppByName ----------------------------------------------------------------
_URL = "http://127.0.0.1:1/api/debug-parity/app"
_APP = "debug-parity-app"
UPDATE = ("mutation($id: String!, $url: String!) { updateApp(input: {id: $id, url: $url}) "
          "{ name url functionCount connected error } }")
DELETE_BY_NAME = "mutation($name: String!) { deleteAppByName(name: $name) }"


def _sync(probe: Probe) -> str:
    """The app synced at a URL nothing serves (syncs are pushed); its id."""
    return str(push_sync(probe, _URL, _APP, f"{_APP}-fn", "debug/e")["app_id"])


def _listed(probe: Probe) -> list[dict[str, typing.Any]]:
    apps = probe.data("{ apps { name url functionCount } }")["apps"]
    return [app for app in apps if app["name"] == _APP]


def _app_mutations(side: Side) -> Answer:
    """An app's URL changed (normalized, not synced), an id that is no UUID or no app's,
    then the app removed by its name, and a name no app has."""
    probe = side.probe
    app_id = _sync(probe)
    moved = _URL.replace("/app", "/moved")
    return {
        "update": {
            "moved": probe.gql(UPDATE, id=app_id, url=moved),
            "default port": probe.gql(UPDATE, id=app_id, url="http://127.0.0.1:80/api/x"),
            "listed": _listed(probe),
            "not a uuid": without_locations(probe.gql(UPDATE, id="nope", url=moved)),
            "unknown": without_locations(probe.gql(
                UPDATE, id="00000000-0000-0000-0000-000000000000", url=moved)),
        },
        "delete_by_name": {
            "deleted": probe.gql(DELETE_BY_NAME, name=_APP),
            "listed": _listed(probe),
            "again": probe.gql(DELETE_BY_NAME, name=_APP),
            "unknown": probe.gql(DELETE_BY_NAME, name="no-such-app"),
        },
    }


CASES["app_mutations"] = Case(_app_mutations, ("update", "delete_by_name"),
                              phase=_LAST_PHASE)

# -- the schema of it all, as introspection describes it ------------------------------------
_TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
_INPUT = "name defaultValue type { %s }" % _TYPE_REF
_DESCRIBED = """query($name: String!) { __type(name: $name) { kind name
  fields { name args { %s } type { %s } } inputFields { %s } enumValues { name } } }""" % (
    _INPUT, _TYPE_REF, _INPUT)
_NEW_TYPES = ("CreateDebugSessionInput", "CreateDebugSessionResponse", "DebugRun",
              "DebugRunQuery", "DebugSession", "DebugSessionQuery", "DebugSessionRun",
              "RunTraceSpanStatus", "UpdateAppInput")
_NEW_FIELDS = {
    "Query": ("debugRun", "debugSession"),
    "Mutation": ("invokeFunction", "rerun", "updateApp", "deleteAppByName",
                 "createDebugSession"),
    "RunTraceSpan": ("debugRunID", "debugSessionID", "debugPaused"),
}


def _schema(side: Side) -> Answer:
    """The new types whole, and the new fields of the others (ours declares fewer)."""
    probe = side.probe
    described = {name: probe.data(_DESCRIBED, name=name)["__type"] for name in _NEW_TYPES}
    fields = {}
    for type_name, names in _NEW_FIELDS.items():
        listed = probe.data(_DESCRIBED, name=type_name)["__type"]["fields"]
        fields[type_name] = {field["name"]: field for field in listed
                             if field["name"] in names}
    return {"types": described, "fields": fields}


CASES["debug_schema"] = Case(_schema, ("types", "fields"))
