"""The GraphQL operations the real dev server's own web UI sends (dev_ui_operations.graphql,
its documents verbatim), each sent to both servers as the UI's generated client sends it:
the operation with the fragments it spreads appended, with realistic variables, about runs
driven for the purpose. Tools built for the dev server send exactly these documents.

The cases start runs, invoke, rerun, cancel and sync apps of their own, so they run in the
last phase, after the cases that list every run or app. They register into ``cases.CASES``.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import typing

import py_app
from cases import (CASES, Answer, Case, Side, ports, push_sync, settled, settled_run,
                   sleeping, times, wait_until_ready, without_locations)
from cases_raw_protocol import RawApp, Script
from cases_raw_protocol import Reply as RawReply
from probe import Probe, wait_for

_LAST_PHASE = 4
_DOCUMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "dev_ui_operations.graphql")
_DEFINITION = re.compile(r"^(query|mutation|fragment) (\w+)", re.M)
_SPREAD = re.compile(r"\.\.\.(\w+)")


def _definitions() -> tuple[dict[str, str], dict[str, str]]:
    """The file's operations and fragments by name, each its own text."""
    text = open(_DOCUMENTS, encoding="utf-8").read()
    starts = list(_DEFINITION.finditer(text))
    operations: dict[str, str] = {}
    fragments: dict[str, str] = {}
    for n, found in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(text)
        kind, name = found.group(1), found.group(2)
        (fragments if kind == "fragment" else operations)[name] = text[found.start():end].strip()
    return operations, fragments


OPERATIONS, FRAGMENTS = _definitions()


def document(name: str) -> str:
    """The operation ``name`` with the fragments it spreads appended, as the UI sends it."""
    body = OPERATIONS[name]
    spread = dict.fromkeys(found for found in _SPREAD.findall(body) if found in FRAGMENTS)
    return "\n".join([body, *(FRAGMENTS[fragment] for fragment in spread)])


def send(probe: Probe, name: str, **variables: object) -> dict[str, typing.Any]:
    """The UI's operation ``name``: its answer, status and body (an error status too)."""
    status, body = probe.request("POST", "/v0/gql", {
        "operationName": name, "query": document(name), "variables": variables})
    answer = without_locations(body) if isinstance(body, dict) else {"body": body}
    return {"status": status, **answer}


# -- normalization ---------------------------------------------------------------------------
_ID = re.compile(r"\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b|"
                 r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
# A span's id (16 hex digits) and its output's (base64 JSON naming run and span ids): each
# server's own; which span's output is which is compared by reading the outputs. Span
# ``groupID`` and ``scheduledAt`` are null on every span of ours (docs/compatibility.md,
# Engine, "Span groupID and scheduledAt"): whether there is one is not compared.
_OPAQUE = ("spanID", "outputID")
_UNCOMPARED = ("groupID", "scheduledAt")
# An event's ``ts`` in the JSON texts (``raw``, trigger payloads, span inputs): each server's
# own receipt.
_TS = re.compile(r'"ts":\d+')
# Timings each server measures for itself.
_TIMING_KINDS = ("inngest.http.timing", "inngest.timing", "inngest.usage")


class Labels:
    """Ids (ULIDs and UUIDs, random per server) replaced by labels: the names given, else
    ``<id>``. Which answer refers to which run, event or app is what must match."""

    def __init__(self, **named: str) -> None:
        self.seen = {value: f"<{label}>" for label, value in named.items()}

    def name(self, label: str, value: str) -> None:
        self.seen[value] = f"<{label}>"

    def _label(self, found: re.Match[str]) -> str:
        return self.seen.get(found.group(0), "<id>")

    def plain(self, value: object) -> object:
        if isinstance(value, dict):
            return {key: self._field(key, item) for key, item in value.items()
                    if key not in _UNCOMPARED}
        if isinstance(value, list):
            return [self.plain(item) for item in value]
        if isinstance(value, str):
            return ports(_TS.sub('"ts":"<ms>"', _ID.sub(self._label, value)))
        return value

    def _field(self, key: str, value: object) -> object:
        if key in _OPAQUE and isinstance(value, str):
            return f"<{key}>"
        if key == "metadata" and isinstance(value, list):
            return [self._metadata(entry) for entry in value]
        if key == "Server-Timing" and isinstance(value, str):
            # How long the app took, by its own clock.
            return re.sub(r"dur=\d+", "dur=<ms>", value)
        if key == "Date" and isinstance(value, str):
            return "<date>"  # when the app answered
        return self.plain(value)

    def _metadata(self, entry: object) -> object:
        if not isinstance(entry, dict) or entry.get("kind") not in _TIMING_KINDS:
            return self.plain(entry)
        values = entry.get("values")
        return {**typing.cast("dict[str, object]", self.plain(entry)),
                "values": sorted(values) if isinstance(values, dict) else values}

    def __call__(self, value: object) -> object:
        return times(self.plain(value))


def _since(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(seconds: float) -> str:
    """Now plus ``seconds``, in milliseconds."""
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _by(key: str, items: object) -> object:
    return sorted(items, key=lambda item: str(item.get(key))) if isinstance(items, list) \
        else items


# -- the runs --------------------------------------------------------------------------------
_TAG = "dev-ui"
# Runs the UI shows: steps, a failed step, an invocation, a sleep cancelled.
_RUNS = {"steps": ("py/steps", {"n": 1}), "fails": ("py/step-fails-now", {}),
         "invoker": ("py/invoker", {"n": 5}), "three": ("py/three-steps", {})}


_EVENT_NAMES = {name for name, _ in _RUNS.values()} | {"py/cancellable"}


def _event_data(label: str, extra: dict[str, object]) -> dict[str, object]:
    return {"key": f"{_TAG}-{label}", "tag": _TAG, **extra}


def _drive_runs(side: Side) -> tuple[dict[str, str], dict[str, str]]:
    """Every run ended (the cancellable one cancelled by the UI's CancelRun): events and
    runs by label."""
    probe = side.probe
    events = {label: probe.send(name, _event_data(label, extra))
              for label, (name, extra) in _RUNS.items()}
    events["cancelled"] = probe.send("py/cancellable", _event_data("cancelled", {}))
    runs = {label: probe.run_ids(event_id)[0] for label, event_id in events.items()}
    for label, run_id in runs.items():
        if label != "cancelled":
            settled_run(probe, run_id)
    wait_until_ready(side, "py", f"{_TAG}-cancelled")
    sleeping(probe, runs["cancelled"])
    return events, runs


def _cancel(probe: Probe, run_id: str) -> object:
    answer = send(probe, "CancelRun", runID=run_id)
    probe.ended_run(run_id)
    return answer


def _traces(probe: Probe, runs: dict[str, str]) -> dict[str, object]:
    """Each run's page (GetRun, with preview, the raw tree, and without), its raw trace
    (GetRunTrace), its links (GetRunLinkage) and trigger (GetTrigger); the output of each
    span (GetTraceResult), by the span's path of names."""
    answer: dict[str, object] = {}
    for label, run_id in runs.items():
        page = settled(probe, lambda r=run_id: send(probe, "GetRun", runID=r, preview=True))
        trace = settled(probe, lambda r=run_id: send(probe, "GetRunTrace", runID=r))
        plain = send(probe, "GetRun", runID=run_id, preview=False)
        answer[label] = {
            "page": page, "trace": trace, "page_plain": plain,
            "plain_outputs": _as_values(_outputs(
                probe, ((plain.get("data") or {}).get("run") or {}).get("trace"))),
            "linkage": send(probe, "GetRunLinkage", runID=run_id),
            "trigger": send(probe, "GetTrigger", runID=run_id),
            "outputs": _outputs(probe, (trace.get("data") or {}).get("runTrace")),
        }
    # The dev server's attempt span of a cancelled run's sleep shows an output, and its
    # sleep's span the step's id, or not, from one run to the next (seen in two runs):
    # which spans there are is compared.
    cancelled = typing.cast("dict[str, typing.Any]", answer["cancelled"])
    cancelled["page_plain"] = _shape(((cancelled["page_plain"].get("data") or {}).get("run")
                                      or {}).get("trace"))
    cancelled.pop("plain_outputs")
    return answer


def _shape(span: object) -> object:
    if not isinstance(span, dict):
        return span
    return [span.get("name"), span.get("status"), span.get("stepOp"),
            [_shape(child) for child in span.get("childrenSpans") or []]]


def _as_values(outputs: dict[str, object]) -> dict[str, object]:
    """Outputs compared as JSON values: in the page's tree (``run { trace }`` without
    preview) the dev server shows a step's output as the SDK wrote it, ours re-encoded
    (docs/compatibility.md, Engine, "JSON is written as the dev server writes it")."""
    def value(answer: object) -> object:
        output = ((answer or {}).get("data") or {}).get("runTraceSpanOutputByID") \
            if isinstance(answer, dict) else None
        if isinstance(output, dict) and isinstance(output.get("data"), str):
            try:
                output["data"] = {"JSON value": json.loads(output["data"])}
            except ValueError:
                pass
        return answer

    return {path: value(answer) for path, answer in outputs.items()}


def _outputs(probe: Probe, span: object, path: str = "") -> dict[str, object]:
    """GetTraceResult of each span with an output, by the span's path of names."""
    if not isinstance(span, dict):
        return {}
    here = f"{path}/{span.get('name')}"
    found: dict[str, object] = {}
    if span.get("outputID"):
        found[here] = send(probe, "GetTraceResult", traceID=span["outputID"])
    for n, child in enumerate(span.get("childrenSpans") or []):
        found.update(_outputs(probe, child, f"{here}[{n}]"))
    return found


def _run_ui(side: Side) -> Answer:
    """The runs list, one run's pages and the actions on a run: cancel, rerun, rerun from a
    step; the runs of the event list and an event's pages."""
    probe = side.probe
    start = _moment(-0.2)
    events, runs = _drive_runs(side)
    labels = Labels(**{f"event {k}": v for k, v in events.items()},
                    **{f"run {k}": v for k, v in runs.items()})
    cancelled = _cancel(probe, runs["cancelled"])
    answer: Answer = {"cancel": cancelled}
    answer["traces"] = _traces(probe, runs)
    answer["rerun"] = _reruns(probe, runs, labels)
    answer["runs_list"] = _runs_list(probe, start, labels)
    answer["events"] = _events(probe, start, events, labels)
    return {key: labels(value) for key, value in answer.items()}


_STEP_IDS = "query($id: String!) { runTrace(runID: $id) { childrenSpans { name stepID } } }"


def _reruns(probe: Probe, runs: dict[str, str], labels: Labels) -> object:
    """Rerun of the steps run; rerun of the three-step run from its second step (the step
    id its trace shows)."""
    rerun = send(probe, "Rerun", runID=runs["steps"])
    trace = probe.data(_STEP_IDS, id=runs["three"])["runTrace"]
    [second] = [span["stepID"] for span in trace["childrenSpans"] if span["name"] == "two"][:1]
    from_step = send(probe, "RerunFromStep", runID=runs["three"],
                     fromStep={"stepID": second, "input": None})
    for answer, label in ((rerun, "rerun"), (from_step, "rerun from step")):
        new_id = (answer.get("data") or {}).get("rerun")
        if isinstance(new_id, str):
            labels.name(label, new_id)
            settled_run(probe, new_id)
    return {"rerun": rerun, "from_step": from_step}


_STATUSES = ["COMPLETED", "FAILED", "CANCELLED", "RUNNING", "QUEUED"]


def _runs_list(probe: Probe, start: str, labels: Labels) -> object:
    """The runs page: this case's runs (by a CEL query on their events), of the py app,
    newest first; CountRuns, which every case's runs add to, as whether it counts them."""
    [app] = [app for app in probe.data("{ apps { id name } }")["apps"]
             if app["name"] == py_app.APP_ID]
    listed = send(probe, "GetRuns", appIDs=[app["id"]], startTime=start, status=_STATUSES,
                  timeField="QUEUED_AT", celQuery=f'event.data.tag == "{_TAG}"')
    count = send(probe, "CountRuns", startTime=start, status=_STATUSES, timeField="QUEUED_AT")
    total = ((count.get("data") or {}).get("runs") or {}).get("totalCount")
    mine = len(((listed.get("data") or {}).get("runs") or {}).get("edges") or [])
    return {
        "runs": _listed(listed, "runs", labels),
        "count": {**count, "data": isinstance(total, int) and total >= mine > 0},
        "count_later": send(probe, "CountRuns", startTime=_since(-3600), status=None,
                            timeField="STARTED_AT"),
    }


def _listed(listed: dict[str, typing.Any], field: str, labels: Labels) -> object:
    """A connection's nodes in a set order: runs queued (or events received) in one moment
    are listed in either order (the dev server queues an event's runs a moment after the
    send that started them); the cursors decoded, their times each server's own."""
    connection = (listed.get("data") or {}).get(field)
    if not isinstance(connection, dict):
        return listed
    edges = sorted(connection["edges"],
                   key=lambda edge: json.dumps(labels(edge), sort_keys=True))
    listed_ids = {edge["node"]["id"] for edge in edges}
    page = {key: _cursor(value, listed_ids) if key.endswith("Cursor") else value
            for key, value in connection["pageInfo"].items()}
    return {**listed, "data": {field: {**connection, "edges": edges, "pageInfo": page}}}


def _cursor(text: object, listed_ids: set[str]) -> object:
    """A cursor: base64 JSON of a node's id (and a run's time in each order field); which
    node's, of those listed in one moment, depends on the order they were taken in."""
    try:
        cursor = json.loads(base64.b64decode(str(text), validate=True))
    except ValueError:
        return {"not base64 JSON": text}
    for key in ("id", "ID"):
        if isinstance(cursor, dict) and cursor.get(key) in listed_ids:
            cursor[key] = "<a node listed>"
    for field in (cursor.get("c") or {}).values() if isinstance(cursor, dict) else ():
        field["v"] = "<ms>" if isinstance(field.get("v"), int) else field.get("v")
    return cursor


def _events(probe: Probe, start: str, events: dict[str, str], labels: Labels) -> object:
    """The events page (this case's events: by the names it sends, since it began; both
    servers accept a CEL query there but apply none. The dev server was seen listing a
    failed batch's events, received long before, among them), one event's pages and the
    legacy event query."""
    event_id = events["steps"]
    return {
        "list": _listed(send(probe, "GetEventsV2", startTime=start, endTime=None,
                             celQuery=f'event.data.tag == "{_TAG}"',
                             eventNames=sorted(_EVENT_NAMES), includeInternalEvents=False),
                        "eventsV2", labels),
        "event": send(probe, "GetEventV2", eventID=event_id),
        "payload": send(probe, "GetEventV2Payload", eventID=event_id),
        "runs": send(probe, "GetEventV2Runs", eventID=event_id),
        "legacy": send(probe, "GetEvent", id=event_id),
    }


# Alone, after every other phase (cases_gql_gaps.py's is _LAST_PHASE + 1): the events page
# lists every event since the case began.
CASES["dev_ui_runs"] = Case(_run_ui, ("cancel", "traces", "rerun", "runs_list", "events"),
                            phase=_LAST_PHASE + 2)


# -- apps and functions ------------------------------------------------------------------------
# Functions whose configuration pages differ: plain steps, a cancellation, flow control,
# batching, a failure handler.
_SLUGS = ("diff-py-steps", "diff-py-cancellable", "diff-py-rate-limited", "diff-py-debounced",
          "diff-py-throttled", "diff-py-singleton", "diff-py-batched", "diff-py-one-at-a-time",
          "diff-py-with-on-failure", "diff-py-idempotent", "diff-py-concurrency-key")
_APP = "dev-ui-app"
_URL = "http://127.0.0.1:1/api/dev-ui"


def _apps_ui(side: Side) -> Answer:
    """The apps page (GetApps, GetApp), the functions page and one function's (GetFunction),
    an app added at a URL nothing serves and at the py app's own, an app's URL changed and
    the app removed; the workers page of an app that is no Connect worker's."""
    probe = side.probe
    labels = Labels()
    apps = send(probe, "GetApps")
    listed = [app for app in (apps.get("data") or {}).get("apps") or []
              if app["name"] == py_app.APP_ID]
    app_id = listed[0]["id"] if listed else "00000000-0000-0000-0000-000000000000"
    labels.name("py app", app_id)
    if listed:
        listed[0]["functions"] = _by("slug", listed[0]["functions"])
    functions = send(probe, "GetFunctions")
    mine = [fn for fn in (functions.get("data") or {}).get("functions") or []
            if fn["slug"].startswith(f"{py_app.APP_ID}-")]
    app = send(probe, "GetApp", id=app_id)
    if (app.get("data") or {}).get("app"):
        app["data"]["app"]["functions"] = _by("slug", app["data"]["app"]["functions"])
    answer: Answer = {
        "apps": {"status": apps["status"], "errors": apps.get("errors"), "py app": listed},
        "app": app,
        "functions": {"status": functions["status"], "errors": functions.get("errors"),
                      "py app": _by("slug", mine)},
        "function": {slug: send(probe, "GetFunction", functionSlug=slug) for slug in _SLUGS},
        "app_actions": _app_actions(probe, side, labels),
        "workers": {
            "list": send(probe, "GetWorkerConnections", appID=app_id, startTime=_since(3600),
                         status=None, timeField="CONNECTED_AT", first=40,
                         orderBy=[{"field": "CONNECTED_AT", "direction": "DESC"}]),
            "count": send(probe, "CountWorkerConnections", appID=app_id,
                          startTime=_since(3600), status=["READY"]),
        },
    }
    return {key: labels(value) for key, value in answer.items()}


def _app_actions(probe: Probe, side: Side, labels: Labels) -> object:
    pushed = str(push_sync(probe, _URL, _APP, f"{_APP}-fn", "dev-ui/e")["app_id"])
    labels.name("pushed app", pushed)
    return {
        "create_unreachable": send(probe, "CreateApp", input={"url": _URL + "/other"}),
        "create_served": send(probe, "CreateApp", input={"url": _py_app_url(probe)}),
        "update": send(probe, "UpdateApp", input={"id": pushed, "url": _URL + "/moved"}),
        "delete": send(probe, "DeleteApp", id=pushed),
    }


def _py_app_url(probe: Probe) -> str:
    [url] = [app["url"] for app in probe.data("{ apps { name url } }")["apps"]
             if app["name"] == py_app.APP_ID]
    return str(url)


CASES["dev_ui_apps"] = Case(_apps_ui, (
    "apps", "app", "functions", "function", "app_actions", "workers"), phase=_LAST_PHASE)


_JS_APPS = ("diff-js", "diff-js-v4")


def _js_apps_ui(side: Side) -> Answer:
    """The apps page for the JS SDK's apps: the v4 SDK reports its features' readiness when
    it syncs; its functions' records (``config``)."""
    labels = Labels()
    apps = send(side.probe, "GetApps")
    listed = sorted((app for app in (apps.get("data") or {}).get("apps") or []
                     if app["name"] in _JS_APPS), key=lambda app: str(app["name"]))
    for app in listed:
        app["functions"] = _by("slug", app["functions"])
    return {"js_apps": labels({"status": apps["status"], "errors": apps.get("errors"),
                               "apps": listed})}


CASES["dev_ui_js_apps"] = Case(_js_apps_ui, ("js_apps",), js=True, phase=_LAST_PHASE)


# -- invoking, and debugging -----------------------------------------------------------------
def _invoke_ui(side: Side) -> Answer:
    """The invoke button (InvokeFunction), then a debug session: CreateDebugSession, an
    invocation in it, GetDebugRun and GetDebugSession once its run ended."""
    probe = side.probe
    labels = Labels()
    invoked = send(probe, "InvokeFunction", functionSlug="diff-py-steps",
                   data={"key": f"{_TAG}-invoked", "n": 2}, meta=None, user={"who": "ui"})
    session = send(probe, "CreateDebugSession",
                   input={"functionSlug": "diff-py-steps", "runID": None})
    ids_ = (session.get("data") or {}).get("createDebugSession") or {}
    session_id, debug_run_id = ids_.get("debugSessionID"), ids_.get("debugRunID")
    labels.name("session", str(session_id))
    labels.name("debug run", str(debug_run_id))
    debug_invoked = send(probe, "InvokeFunction", functionSlug="diff-py-steps",
                         data={"key": f"{_TAG}-debug", "n": 3}, meta=None, user=None,
                         debugSessionID=session_id, debugRunID=debug_run_id)
    query = {"functionSlug": "diff-py-steps", "debugRunID": debug_run_id}

    def debug_ended() -> dict[str, typing.Any]:
        found = send(probe, "GetDebugRun", query=query)
        traces = ((found.get("data") or {}).get("debugRun") or {}).get("debugTraces") or []
        assert traces and all(trace["status"] == "COMPLETED" for trace in traces), \
            f"{probe.name}: {found}"
        return found

    return {key: labels(value) for key, value in {
        "invoke": invoked,
        "debug": {
            "created": {"status": session["status"], "ids": sorted(ids_)},
            "invoked": debug_invoked,
            "run": settled(probe, lambda: wait_for(debug_ended, 30)),
            "session": send(probe, "GetDebugSession", query={
                "functionSlug": "diff-py-steps", "debugSessionID": session_id}),
        },
    }.items()}


CASES["dev_ui_invoke"] = Case(_invoke_ui, ("invoke", "debug"), phase=_LAST_PHASE)


# -- waits for a signal ------------------------------------------------------------------------
_SIGNAL_STEP = "5a1d0c3e7b9f2a4c6e8d0b1f3a5c7e9d1b3f5a7c"


def _signal_script(signal: str, timeout: str) -> Script:
    def script(n: int, steps: dict[str, object]) -> RawReply:
        """A wait for ``signal``, then the results sent."""
        if n == 0:
            return 206, [{"op": "WaitForSignal", "id": _SIGNAL_STEP, "name": "signal",
                          "displayName": "signal",
                          "opts": {"signal": signal, "timeout": timeout}}]
        return 200, steps

    return script


def _run_pages(probe: Probe, run_id: str) -> dict[str, object]:
    trace = send(probe, "GetRunTrace", runID=run_id)
    return {"trace": trace, "page": send(probe, "GetRun", runID=run_id, preview=False),
            "outputs": _outputs(probe, (trace.get("data") or {}).get("runTrace"))}


_UNENDED = (None, "RUNNING", "QUEUED", "WAITING")


def _page_status(found: dict[str, object]) -> object:
    """The status the run page shows for the run's root span."""
    page = found["page"]
    run = ((page.get("data") or {}).get("run") or {}) if isinstance(page, dict) else {}
    return (run.get("trace") or {}).get("status")


def _signal_wait(signalled: bool) -> typing.Callable[[Side], Answer]:
    def drive(side: Side) -> Answer:
        """A step waiting for a signal (its span while it waits), then signalled or timed
        out: the run's pages, trace and span outputs."""
        probe = side.probe
        name = "dev-ui-signalled" if signalled else "dev-ui-signal-timeout"
        app = RawApp(name, _signal_script(name, "30s" if signalled else "2s"))
        try:
            app.sync(probe)
            event_id = probe.send(f"raw/{app.fn_id}", {})
            run_id = probe.run_ids(event_id)[0]

            def waiting() -> dict[str, object]:
                found = _run_pages(probe, run_id)
                assert "WAIT_FOR_SIGNAL" in json.dumps(found["trace"]), f"{probe.name}: {found}"
                # The real server can show the waiting span before its run page reads the
                # run back (CI: "error retrieving run: sql: no rows in result set").
                page = found["page"]
                assert isinstance(page, dict) and "errors" not in page, f"{probe.name}: {page}"
                assert "WAIT_FOR_SIGNAL" in json.dumps(page), f"{probe.name}: {page}"
                return found

            def ended() -> dict[str, object]:
                # The real server writes spans after the run's status: its run page can
                # still say RUNNING once `run { status }` has ended (CI, 86e6fd3).
                found = _run_pages(probe, run_id)
                assert _page_status(found) not in _UNENDED, f"{probe.name}: {found}"
                return found

            answer: Answer = {"waiting": wait_for(waiting, 20)}
            if signalled:
                answer["signal"] = probe.request("POST", "/v1/signals", {
                    "signal": name, "data": {"answer": 42}})[0]
            probe.ended_run(run_id)
            answer["ended"] = settled(probe, lambda: wait_for(ended, 20))
        finally:
            app.stop()
        labels = Labels(event=event_id, run=run_id)
        return {key: labels(value) for key, value in answer.items()}

    return drive


CASES["dev_ui_signalled"] = Case(_signal_wait(True), ("waiting", "signal", "ended"),
                                 phase=_LAST_PHASE)
CASES["dev_ui_signal_timeout"] = Case(_signal_wait(False), ("waiting", "ended"),
                                      phase=_LAST_PHASE)
