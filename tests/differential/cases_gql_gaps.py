"""Cases for GraphQL and HTTP API edges: ``invokeFunction``'s ``meta`` (event sessions), the
ids of invocation events, GraphQL over ``multipart/form-data``, and numbers in event data
and outputs as the dev server's float64 keeps them. They start runs, store internal events
and sync an app of their own, so they run in a phase of their own after the others: cases
that list every run, event or app, or the newest internal events, would see theirs. They
register into ``cases.CASES``."""

from __future__ import annotations

import datetime
import http.server
import json
import re
import threading
import time
import typing

from cases import (
    CASES, Answer, Case, Side, attempt, history_shape, ids, settled, settled_run, times,
    without_locations,
)
from cases_debug import CREATE, DEBUG_RUN, DEBUG_SESSION
from cases_raw_protocol import send_reply
from probe import Probe, wait_for

# After the crowd's phases and connect's and the dev UI's (4), before dev_ui_runs (6), which
# lists every event sent while it runs and so runs alone.
_OWN_PHASE = 5
_INVOKEE = "diff-py-invokee"
_FINISHED = "inngest/function.finished"
_INVOKED = "inngest/function.invoked"
_INTERNAL = """query($from: Time!, $name: String!) { eventsV2(first: 200, filter: {from: $from,
  includeInternalEvents: true, eventNames: [$name]}) { edges { node { id raw runs { id } } } } }"""


def _since(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _internal(probe: Probe, name: str) -> list[dict[str, typing.Any]]:
    """The internal events named ``name`` of the last minutes, each ``raw`` decoded."""
    edges = probe.data(_INTERNAL, name=name, **{"from": _since(300)})["eventsV2"]["edges"]
    return [{**edge["node"], "raw": json.loads(edge["node"]["raw"])} for edge in edges]


# -- invokeFunction's meta ---------------------------------------------------------------------
_INVOKE_META = ("mutation($key: String!, $m: Map, $s: ULID, $r: ULID) { invokeFunction("
                'functionSlug: "%s", data: {key: $key, n: 1}, meta: $m, debugSessionID: $s, '
                "debugRunID: $r) }")
_KEPT: dict[str, object] = {
    "sessions": {"sessions": {"conv": "abc", "num": 5, "f": 1.5, "big": 9007199254740993}},
    "empty": {}, "sessions null": {"sessions": None}, "sessions empty": {"sessions": {}},
}
_REFUSED: dict[str, object] = {
    "other key": {"sessions": {"a": "b"}, "foo": 1},
    "propagated": {"propagated_sessions": {"a": "b"}},
    "sessions string": {"sessions": "x"}, "bool session": {"sessions": {"a": True}},
    "null session": {"sessions": {"a": None}}, "empty key": {"sessions": {"": "x"}},
    "empty id": {"sessions": {"a": ""}}, "six": {"sessions": {k: "x" for k in "abcdef"}},
    "meta a string": "x", "meta a list": [1], "meta a number": 5, "meta a bool": True,
}


def _sessions_seen(probe: Probe, keys: typing.Collection[str]) -> dict[str, object]:
    """Each key's invocation as its function saw its event: ``meta``, from the finish event
    (which holds that event)."""
    def finished() -> dict[str, object]:
        seen = {}
        for node in _internal(probe, _FINISHED):
            event = node["raw"]["data"].get("event") or {}
            key = (event.get("data") or {}).get("key")
            if key in keys:
                seen[key] = event.get("meta", "no meta")
        assert set(seen) == set(keys), f"{probe.name}: finished so far {sorted(seen)}"
        return seen

    return typing.cast("dict[str, object]", wait_for(finished, 30))


def _debug_traces(probe: Probe, debug_run_id: str) -> list[dict[str, typing.Any]]:
    def ended() -> list[dict[str, typing.Any]]:
        traces = probe.data(DEBUG_RUN, r=debug_run_id)["debugRun"]["debugTraces"]
        assert traces and all(trace["status"] == "COMPLETED" for trace in traces), traces
        return typing.cast("list[dict[str, typing.Any]]", traces)

    return wait_for(ended, 30)


def _invoke_meta(side: Side) -> Answer:
    """``invokeFunction`` with ``meta``: its sessions reach the function's event, what the
    server refuses is refused in its words, and a debug run and session of an invocation
    with sessions show as ones without."""
    probe = side.probe
    invoke = _INVOKE_META % _INVOKEE
    kept = {label: probe.gql(invoke, key=f"meta-{label}", m=meta)
            for label, meta in _KEPT.items()}
    refused = {label: without_locations(probe.gql(invoke, key=f"meta-bad-{label}", m=meta))
               for label, meta in _REFUSED.items()}
    session = probe.data(CREATE, slug="diff-py-steps")["createDebugSession"]
    debugged = probe.gql(_INVOKE_META % "diff-py-steps", key="meta-debug",
                         m=_KEPT["sessions"], s=session["debugSessionID"],
                         r=session["debugRunID"])
    traces = _debug_traces(probe, session["debugRunID"])
    labels = {session["debugSessionID"]: "<session>", session["debugRunID"]: "<debug run>",
              **{trace["runID"]: "<run>" for trace in traces}}
    return {
        "kept": {"answers": kept,
                 "seen": _sessions_seen(probe, [f"meta-{label}" for label in _KEPT])},
        "refused": {"answers": refused, "none_ran": _none_invoked(probe)},
        "debug_run": times(ids({
            "answer": debugged, "traces": traces,
            "session": probe.data(DEBUG_SESSION, s=session["debugSessionID"])}, labels)),
    }


def _none_invoked(probe: Probe) -> list[object]:
    """The refused invocations' events: none is stored."""
    return [node["raw"]["data"]["key"] for node in _internal(probe, _INVOKED)
            if str(node["raw"]["data"].get("key", "")).startswith("meta-bad-")]


CASES["invoke_meta"] = Case(_invoke_meta, ("kept", "refused", "debug_run"), phase=_OWN_PHASE)


# Numbers as JSON text (no encoder writes 1.50 or 1E+2): each sent in the variables, and
# written in the query itself.
_NUMBERS = ("1.50", "1e2", "1E+2", "-1E-7", "1.0", "-0", "-0.0", "9007199254740993",
            "12345678901234567890123")


def _invoke_number_sessions(side: Side) -> Answer:
    """A session id given as a number to ``invokeFunction``, in the variables and as a
    literal, and to the event API: the id the function's event carries."""
    probe = side.probe
    by_variable = ('mutation($m: Map) { invokeFunction(functionSlug: "%s", data: {key: "%s"}, '
                   'meta: $m) }')
    by_literal = ('mutation { invokeFunction(functionSlug: "%s", data: {key: "%s"}, '
                  'meta: {sessions: {a: %s}}) }')
    bodies = {}
    for index, number in enumerate(_NUMBERS):
        key = f"meta-number-var-{index}"
        bodies[key] = b'{"query": %s, "variables": {"m": {"sessions": {"a": %s}}}}' % (
            json.dumps(by_variable % (_INVOKEE, key)).encode(), number.encode())
        if number != _NUMBERS[-1]:  # past int64, the dev server answers "internal system error"
            key = f"meta-number-lit-{index}"
            bodies[key] = json.dumps({"query": by_literal % (_INVOKEE, key, number)}).encode()
    answers = {key: probe.exchange("POST", "/v0/gql", body,
                                   {"content-type": "application/json"})[2].decode()
               for key, body in bodies.items()}
    # And sent to the event API, in both layers of sessions.
    status, _, sent = probe.exchange("POST", "/e/test", (
        b'{"name": "py/steps", "data": {"key": "meta-number-event"}, "meta": {"sessions": '
        b'{"a": 1.50, "b": 1e2, "c": -0.0, "d": -0}, "propagated_sessions": {"e": 1E+2}}}'),
        {"content-type": "application/json"})
    assert status == 200, f"{probe.name}: {sent!r}"
    return {"answers": answers,
            "seen": _sessions_seen(probe, [*answers, "meta-number-event"])}


CASES["invoke_number_sessions"] = Case(_invoke_number_sessions, ("answers", "seen"),
                                       phase=_OWN_PHASE)


# -- the ids of invocation events --------------------------------------------------------------
_EVENT_ID = "query($id: ID!) { event(query: {eventId: $id}) { id functionRuns { id } } }"
_TRIGGER = "query($id: String!) { runTrigger(runID: $id) { IDs } }"


def _invocation_ids(side: Side) -> Answer:
    """The event ``POST /invoke/{slug}`` (with and without an id of its own) and
    ``invokeFunction`` store: which id the answer, ``eventsV2``, ``event``, ``runTrigger``
    and REST name."""
    probe = side.probe
    answers = {
        "rest": probe.request("POST", f"/invoke/{_INVOKEE}", {"data": {"key": "ids-rest"}})[1],
        "rest, own id": probe.request("POST", f"/invoke/{_INVOKEE}", {
            "data": {"key": "ids-rest-own"}, "id": f"ids-own-{time.time_ns()}"})[1],
        "graphql": probe.gql('mutation { invokeFunction(functionSlug: "%s", '
                             'data: {key: "ids-graphql"}) }' % _INVOKEE),
    }
    keys = {"rest": "ids-rest", "rest, own id": "ids-rest-own", "graphql": "ids-graphql"}

    def stored() -> dict[str, dict[str, typing.Any]]:
        nodes = {node["raw"]["data"].get("key"): node for node in _internal(probe, _INVOKED)}
        found = {label: nodes[key] for label, key in keys.items() if key in nodes}
        assert len(found) == len(keys) and all(node["runs"] for node in found.values()), found
        return found

    nodes = wait_for(stored, 30)
    return {label: _ids_of(probe, nodes[label], answers[label]) for label in keys}


def _ids_of(probe: Probe, node: dict[str, typing.Any], answer: object) -> object:
    node_id, raw_id = node["id"], node["raw"]["id"]
    [run] = node["runs"]
    event = probe.data(_EVENT_ID, id=node_id)["event"]
    status, rest = probe.request("GET", f"/v1/events/{node_id}")
    labels = {node_id: "<eventsV2 id>", raw_id: "<raw id>", run["id"]: "<run>"}
    return ids({
        "answer": answer, "raw id": raw_id, "event": event,
        "runTrigger": probe.data(_TRIGGER, id=run["id"])["runTrigger"]["IDs"],
        "rest": [status, rest["data"]["internal_id"], rest["data"]["id"]],
        "event by raw id": without_locations(probe.gql(_EVENT_ID, id=raw_id))["data"],
    }, labels)


CASES["invocation_ids"] = Case(_invocation_ids, ("rest", "rest, own id", "graphql"),
                               phase=_OWN_PHASE)


# -- GraphQL over multipart/form-data ----------------------------------------------------------
_FORM = "multipart/form-data; boundary=XyZ"
Part = typing.Tuple[str, bytes, typing.Optional[str]]


def _form(parts: typing.Sequence[Part]) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename
                                                     else "")
        out += f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return out + b"--XyZ--\r\n"


def _operations(query: str, variables: object = None) -> Part:
    body: dict[str, object] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return ("operations", json.dumps(body).encode(), None)


_MAP = 'mutation($f: Map) { invokeFunction(functionSlug: "diff-form-nope", data: $f) }'
_SLUG = 'query($f: String!) { functionBySlug(query: {functionSlug: $f}) { name } }'
_FILE: Part = ("0", b"hello", "a.txt")
_TYPENAME = _operations("{ __typename }")
_FORMS: dict[str, typing.Sequence[Part]] = {
    "no files": [_TYPENAME, ("map", b"{}", None)],
    "file in a map": [_operations(_MAP, {"f": {"x": None}}),
                      ("map", b'{"0": ["variables.f.x"]}', None), _FILE],
    "file as a map": [_operations(_MAP, {"f": None}), ("map", b'{"0": ["variables.f"]}', None),
                      _FILE],
    "file as a string": [_operations(_SLUG, {"f": None}),
                         ("map", b'{"0": ["variables.f"]}', None), _FILE],
    "file in a list": [_operations(_MAP, {"f": {"x": [None, None]}}),
                       ("map", b'{"0": ["variables.f.x.1"]}', None), _FILE],
    "no parts": [],
    "map first": [("map", b"{}", None), _TYPENAME],
    "operations only": [_TYPENAME],
    "operations not JSON": [("operations", b"{nope", None), ("map", b"{}", None)],
    "a batch": [("operations", b'[{"query": "{ __typename }"}]', None), ("map", b"{}", None)],
    "operations null": [("operations", b"null", None), ("map", b"{}", None)],
    "map not JSON": [_TYPENAME, ("map", b"nope", None)],
    "map a list": [_TYPENAME, ("map", b"[]", None)],
    "path without variables": [_operations(_SLUG, {"f": None}), ("map", b'{"0": ["f"]}', None),
                               _FILE],
    "no paths": [_operations(_SLUG, {"f": None}), ("map", b'{"0": []}', None), _FILE],
    "file missing": [_operations(_SLUG, {"f": None}), ("map", b'{"0": ["variables.f"]}', None)],
    "file not in the map": [_TYPENAME, ("map", b"{}", None), ("zz", b"x", "a.txt")],
    "one key twice": [_operations(_SLUG, {"f": None}), ("map", b'{"0": ["variables.f"]}', None),
                      _FILE, _FILE],
    "no variables": [_operations(_SLUG), ("map", b'{"0": ["variables.f"]}', None), _FILE],
    "through null": [_operations(_MAP, {"f": None}), ("map", b'{"0": ["variables.f.x.y"]}', None),
                     _FILE],
}


def _posted(probe: Probe, body: bytes, content_type: str) -> object:
    status, headers, data = probe.exchange("POST", "/v0/gql", body,
                                           {"content-type": content_type})
    answer = json.loads(data)
    # Ours adds its ``code`` and ``message`` to a refusal (docs/compatibility.md, "Errors").
    return [status, headers.get("content-type"), without_locations(
        {key: answer.get(key) for key in ("data", "errors")})]


def _graphql_multipart(side: Side) -> Answer:
    """Forms of the GraphQL multipart request spec, with and without files, in order and
    not: each answer, and what a file kept inside a ``Map`` is stored as."""
    probe = side.probe
    answers = {label: _posted(probe, _form(parts), _FORM) for label, parts in _FORMS.items()}
    answers["no boundary"] = _posted(probe, b"x", "multipart/form-data")
    answers["not a form"] = _posted(probe, b"garbage", _FORM)

    def stored() -> list[object]:
        found = [node["raw"]["data"] for node in _internal(probe, _INVOKED)
                 if node["raw"]["data"].get("_inngest", {}).get("fn_id") == "diff-form-nope"]
        assert len(found) == 2, f"{probe.name}: {found}"
        return sorted((data for data in found), key=json.dumps)

    return {"answers": answers, "stored": wait_for(stored, 20)}


CASES["graphql_multipart"] = Case(_graphql_multipart, ("answers", "stored"), phase=_OWN_PHASE)


# -- numbers as the server's float64 keeps them ------------------------------------------------
_EVENT_DATA = (b'{"a":-0,"b":-0.0,"c":[-0,-0.0,0.0,-0e0,-0.000],"d":0.0,"e":-0E+2,"f":1.0,'
               b'"g":-1.50,"big":9007199254740993,"huge":123456789012345678901234,"small":1e-5,'
               b'"s6":-1.5e-6,"tiny":1e-7,"exp":1e2,"f16":1e16,"f21":1e21,"p":0.1}')
_STEP_REPLY = (b'[{"op":"StepRun","id":"A","name":"A","displayName":"A",'
               b'"data":{"x":-0,"y":1.0,"z":[-0,0.0,2e2]}}]')
_FINAL_REPLY = b'{"out":-0,"o2":-0.0,"o3":[-0.0,2.0,1e-5]}'
_SPAN_OUTPUT = "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data } }"


class _BytesApp:
    """An app of one function answering its first call with ``first`` (a step), then with
    ``final``: bytes as given (no encoder writes ``-0``)."""

    def __init__(self, fn_id: str, first: bytes = _STEP_REPLY, final: bytes = _FINAL_REPLY
                 ) -> None:
        self.fn_id = fn_id
        self.steps_sent: list[object] = []
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                steps = body.get("steps") or {}
                app.steps_sent.append(steps)
                status, data = (200, final) if steps else (206, first)
                send_reply(self, status, data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/inngest"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def sync(self, probe: Probe) -> None:
        url = f"{self.url}?fnId={self.fn_id}&stepId=step"
        status, answer = probe.request("POST", "/fn/register", {
            "url": self.url, "v": "0.1", "deployType": "ping", "sdk": "raw:v0.0.1",
            "framework": "raw", "appName": f"diff-raw-{self.fn_id}", "functions": [{
                "id": self.fn_id, "name": self.fn_id,
                "triggers": [{"event": f"raw/{self.fn_id}"}],
                "steps": {"step": {"id": "step", "name": "step",
                                   "runtime": {"type": "http", "url": url}}}}]})
        assert status == 200, f"{probe.name}: syncing answered {status}: {answer}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _text_after(body: bytes, key: str, past: str = "") -> str:
    """The JSON text of ``key``'s object value in an answer, as written (the first after
    ``past``)."""
    text = body.decode()
    start = text.index(f'"{key}":{{', text.index(past)) + len(key) + 3
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end + 1]
    raise AssertionError(f"no {key} in {text}")


def _event_numbers(probe: Probe, event_id: str) -> object:
    event = probe.data("query($id: ID!) { event(query: {eventId: $id}) { payload raw } }",
                       id=event_id)["event"]
    v2 = probe.data("query($id: ULID!) { eventV2(id: $id) { raw } }", id=event_id)["eventV2"]
    run_id = probe.run_ids(event_id)[0]
    trigger = probe.data("query($id: String!) { runTrigger(runID: $id) { payloads } }",
                         id=run_id)["runTrigger"]["payloads"]
    _, _, rest = probe.exchange("GET", f"/v1/events/{event_id}")
    return {"payload": event["payload"], "raw": _text_after(event["raw"].encode(), "data"),
            "eventsV2": _text_after(v2["raw"].encode(), "data"),
            "runTrigger": [_text_after(text.encode(), "data") for text in trigger],
            "rest": _text_after(rest, "data", '"name"')}


def _output_numbers(probe: Probe, run_id: str, app: _BytesApp) -> object:
    run = settled_run(probe, run_id)
    trace = probe.data("query($id: String!) { runTrace(runID: $id) { outputID "
                       "childrenSpans { name outputID } } }", id=run_id)["runTrace"]
    step = next(span for span in trace["childrenSpans"] if span["name"] == "A")
    _, _, rest = probe.exchange("GET", f"/v1/runs/{run_id}")
    return {
        "run": [run["status"], run["output"]], "rest": _text_after(rest, "output"),
        "run span": probe.data(_SPAN_OUTPUT, id=trace["outputID"])["runTraceSpanOutputByID"],
        "step span": probe.data(_SPAN_OUTPUT, id=step["outputID"])["runTraceSpanOutputByID"],
        "steps sent": app.steps_sent[-1],
    }


def _go_numbers(side: Side) -> Answer:
    """Event data and a function's step and final replies holding ``-0``, ``-0.0``, whole
    floats, integers past 2^53 and tiny floats, as each place shows them."""
    probe = side.probe
    status, _, sent = probe.exchange("POST", "/e/test", b'{"name":"py/steps","data":%s}'
                                     % _EVENT_DATA, {"content-type": "application/json"})
    assert status == 200, f"{probe.name}: {sent!r}"
    event_id = json.loads(sent)["ids"][0]
    app = _BytesApp("go-numbers")
    try:
        app.sync(probe)
        run_id = probe.run_ids(probe.send("raw/go-numbers", {}))[0]
        outputs = _output_numbers(probe, run_id, app)
    finally:
        app.stop()
    return {"event": _event_numbers(probe, event_id), "function_saw": probe.run_of(event_id),
            "outputs": outputs}


CASES["go_numbers"] = Case(_go_numbers, ("event", "function_saw", "outputs"),
                           phase=_OWN_PHASE)


# -- integers given as -0, -0.0, 1.0 or 1e2 where the server decodes a Go integer -----------
_INT_TEXTS = ("-0", "-0.0", "1.0", "1e2")
_INT_CONFIGS: dict[str, dict[str, object]] = {
    "concurrency": {"concurrency": "@"}, "concurrency.limit": {"concurrency": [{"limit": "@"}]},
    "retries.attempts": {"retries": {"attempts": "@"}},
    "rateLimit.limit": {"rateLimit": {"limit": "@", "period": "1m"}},
    "throttle.burst": {"throttle": {"limit": 1, "burst": "@", "period": "1m"}},
    "batchEvents.maxSize": {"batchEvents": {"maxSize": "@", "timeout": "1s"}},
}


def _int_sync(probe: Probe, app: _BytesApp, label: str, number: str) -> int:
    """The status of a sync of ``app``'s function with ``label``'s field given ``number``."""
    config = dict(_INT_CONFIGS[label])
    step: dict[str, object] = {"id": "step", "name": "step",
                               "runtime": {"type": "http", "url": f"{app.url}?fnId=f&stepId=step"}}
    if "retries" in config:
        step["retries"] = config.pop("retries")
    body = json.dumps({"url": app.url, "v": "0.1", "deployType": "ping", "sdk": "raw:v0.0.1",
                       "framework": "raw", "appName": "diff-raw-go-ints", "functions": [{
                           "id": "f", "name": "f", "triggers": [{"event": "raw/go-ints"}],
                           "steps": {"step": step}, **config}]})
    return probe.exchange("POST", "/fn/register", body.replace('"@"', number).encode(),
                          {"content-type": "application/json"})[0]


def _go_integers(side: Side) -> Answer:
    """Which of ``-0``, ``-0.0``, ``1.0`` and ``1e2`` each integer field takes: an event's
    ``ts`` (event API and REST v2), a sync's limits and retries, the checkpoint API's ``ts``."""
    probe = side.probe
    json_type = {"content-type": "application/json"}
    ts = {number: probe.exchange("POST", "/e/test", b'{"name":"raw/go-ints","ts":%s}'
                                 % number.encode(), json_type)[0] for number in _INT_TEXTS}
    ts_v2 = {number: probe.exchange("POST", "/api/v2/events", b'{"name":"raw/go-ints","ts":%s}'
                                    % number.encode(), json_type)[0]
             for number in (*_INT_TEXTS, "1.5")}
    checkpoint = {number: json.loads(probe.exchange(
        "POST", "/v1/checkpoint/00000000000000000000000000/async",
        b'{"ts":%s}' % number.encode(), json_type)[2])["error"] for number in ("-0", "-0.0")}
    app = _BytesApp("go-ints")
    try:
        syncs = {f"{label} {number}": _int_sync(probe, app, label, number)
                 for label in _INT_CONFIGS for number in _INT_TEXTS}
        syncs.update({f"batchEvents.maxSize {number}": _int_sync(
            probe, app, "batchEvents.maxSize", number) for number in ("2.0", "2.5", "1e20")})
    finally:
        app.stop()
    return {"ts": ts, "ts_v2": ts_v2, "syncs": syncs, "checkpoint": checkpoint}


CASES["go_integers"] = Case(_go_integers, ("ts", "ts_v2", "syncs", "checkpoint"),
                            phase=_OWN_PHASE)


# -- the schema, as introspection and the fields the dev server added show it ------------------
_INTROSPECTION = """query { __schema { queryType { name } mutationType { name }
  subscriptionType { name }
  types { kind name specifiedByURL
    fields(includeDeprecated: true) { name args { name type { ...T } defaultValue }
      type { ...T } isDeprecated deprecationReason }
    shown: fields { name }
    inputFields { name type { ...T } defaultValue } interfaces { ...T }
    enumValues(includeDeprecated: true) { name isDeprecated deprecationReason }
    possibleTypes { ...T } }
  directives { name isRepeatable locations args { name type { ...T } defaultValue } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name } } } } }"""
# Ours alone (docs/compatibility.md, "GraphQL introspection"): why a run was cancelled.
_OURS_ALONE = {("FunctionRun", "cancellationReason"), ("FunctionRunV2", "cancellationReason")}
_APPS = ("diff-py", "diff-js", "diff-js-v4")
_READINESS = """{ apps { name sdkFeatureReadiness { aiMetadataExtraction { ready reason }
  extendedTraces { ready reason } } } }"""
_EVENT_FIELDS = """query($id: ID!) { event(query: {eventId: $id}) { id externalID
  workspace { id } name status pendingRuns totalRuns functionRuns { workspace { id } } } }"""
_SPAN_FIELDS = """query($id: String!) { runTrace(runID: $id) { skipReason skipExistingRunID
  parentSpan { name } childrenSpans { name skipReason skipExistingRunID parentSpan { name }
  stepOp stepType } } }"""
_SPAN_RUN = "query($id: String!) { runTrace(runID: $id) { name run { id } } }"


def _schema_seen(probe: Probe) -> object:
    """Every type of the schema, each field with its type, arguments and deprecation, in
    their order (descriptions left out: ours has the spec's only, docs/compatibility.md)."""
    schema = probe.data(_INTROSPECTION)["__schema"]
    for kind in schema["types"]:
        for key in ("fields", "shown"):
            kind[key] = [field for field in kind[key] or []
                         if (kind["name"], field["name"]) not in _OURS_ALONE] or kind[key]
    return schema


def _added_fields(probe: Probe) -> object:
    """The fields ours lacked, on an event, its run and the run's trace: null workspaces, no
    skip, a parent span never resolved, ``run`` an error; each app's feature readiness."""
    event_id = probe.send("py/steps", {"key": "schema-fields"})
    run_id = probe.run_ids(event_id)[0]
    probe.ended_run(run_id)
    apps = [app for app in probe.data(_READINESS)["apps"] if app["name"] in _APPS]
    return ids({
        "event": probe.data(_EVENT_FIELDS, id=event_id),
        "spans": settled(probe, lambda: probe.data(_SPAN_FIELDS, id=run_id)),
        "span run": without_locations(probe.gql(_SPAN_RUN, id=run_id)),
        "apps": sorted(apps, key=lambda app: app["name"]),
    }, {event_id: "<event>", run_id: "<run>"})


def _graphql_schema(side: Side) -> Answer:
    return {"introspection": _schema_seen(side.probe), "added_fields": _added_fields(side.probe)}


CASES["graphql_schema"] = Case(_graphql_schema, ("introspection", "added_fields"),
                               phase=_OWN_PHASE)


# -- a signal wait in the trace ----------------------------------------------------------------
_SIGNAL_SPANS = """query($id: String!) { runTrace(runID: $id) { status childrenSpans { name status
  stepOp stepType attempts outputID stepInfo { __typename ... on WaitForSignalStepInfo {
    signal timeout timedOut } } } }
  run(runID: $id) { trace { childrenSpans { name status stepOp outputID stepInfo { __typename
    ... on WaitForSignalStepInfo { signal timedOut } } } } } }"""
_SIGNAL_HISTORY = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  history { createdAt type stepName waitForEvent { eventName } waitResult { timeout } } } }"""
# A span still pending, or the dev server's placeholder for a call it has not named yet.
_UNSETTLED = re.compile(r"'status': '(QUEUED|RUNNING|WAITING)'|'name': 'execute'")
_SETTLE_SECONDS = 10.0


def _signal_wait(signal: str, timeout: str) -> bytes:
    return json.dumps([{"op": "WaitForSignal", "id": "S", "name": "S", "displayName": "S",
                        "opts": {"signal": signal, "timeout": timeout}}]).encode()


def _spans_seen(probe: Probe, run_id: str) -> object:
    """The trace's and the run page's spans, an output id shown as whether there is one."""
    answer = probe.data(_SIGNAL_SPANS, id=run_id)

    def plain(spans: list[dict[str, typing.Any]]) -> list[object]:
        return [{**span, "outputID": span["outputID"] is not None} for span in spans]

    return times({"trace": plain(answer["runTrace"]["childrenSpans"]),
                  "page": plain(answer["run"]["trace"]["childrenSpans"])})


def _ended_spans(probe: Probe, run_id: str) -> object:
    """An ended run's spans once none is pending: the dev server's run page may show the
    run's last call as a placeholder (``Queued step``, ``QUEUED``) for a while after the run
    ended (seen under load). The last reading is the answer if they never settle."""
    seen = _spans_seen(probe, run_id)
    deadline = time.monotonic() + _SETTLE_SECONDS
    while _UNSETTLED.search(repr(seen)) and time.monotonic() < deadline:
        time.sleep(0.3)
        seen = _spans_seen(probe, run_id)
    return seen


def _signal_waits(side: Side) -> Answer:
    """Two runs waiting for a signal: one gets it, the other times out; their spans while
    waiting and once ended, and their history."""
    probe = side.probe
    apps = [_BytesApp("signal-wait", _signal_wait("diff-signal", "1h"), b'{"done":1}'),
            _BytesApp("signal-late", _signal_wait("diff-signal-late", "3s"), b'{"done":2}')]
    try:
        for app in apps:
            app.sync(probe)
        runs = [probe.run_ids(probe.send(f"raw/{app.fn_id}", {}))[0] for app in apps]

        def waiting() -> object:
            # Both trees: the dev server's page tree shows a placeholder span ("execute")
            # for a moment after its trace shows the wait (seen under load).
            seen = typing.cast("dict[str, object]", _spans_seen(probe, runs[0]))
            assert all("WAITING" in repr(seen[tree]) for tree in ("trace", "page")), seen
            return seen

        answer: Answer = {"waiting": attempt(lambda: wait_for(waiting, 10))}
        answer["signalled"] = probe.request("POST", "/v1/signals", {
            "signal": "diff-signal", "data": {"x": 1}})[0]
        ended = {}
        for label, run_id in zip(("signalled", "timed out"), runs):
            probe.ended_run(run_id, 30)
            spans = _ended_spans(probe, run_id)
            # The items and the order the calls and the wait ended in: the dev server lists
            # the items of one moment in no fixed order (seen: FunctionCompleted before the
            # last call's StepCompleted).
            history = probe.data(_SIGNAL_HISTORY, id=run_id)["functionRun"]["history"]
            ended[label] = {**typing.cast("dict[str, object]", spans),
                            "history": history_shape(history, probe.name == "ours")}
        answer["ended"] = ended
    finally:
        for app in apps:
            app.stop()
    return answer


CASES["signal_waits"] = Case(_signal_waits, ("waiting", "signalled", "ended"),
                             phase=_OWN_PHASE)


# -- the app's response on each call's span ----------------------------------------------------
_RESPONSES = """query($id: String!) { runTrace(runID: $id) { name status
  response { statusCode headers }
  childrenSpans { name status response { statusCode headers }
    childrenSpans { name response { statusCode headers } } } }
  run(runID: $id) { trace { response { statusCode } childrenSpans { response { statusCode } } } }
}"""
# Header values that vary by call: sizes and the SDK's timings.
_VARYING = ("Content-Length", "Server-Timing")


def _responses_seen(value: object) -> object:
    if isinstance(value, dict):
        return {key: "<varies>" if key in _VARYING else _responses_seen(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_responses_seen(item) for item in value]
    return value


def _span_responses(side: Side) -> Answer:
    """Runs that complete, retry a step and fail: the response on each span of their trace
    (the run page's tree shows none)."""
    probe = side.probe
    answer: Answer = {}
    for label, event in (("steps", "py/steps"), ("flaky", "py/flaky-step"),
                         ("failing", "py/step-fails-now")):
        run_id = probe.run_ids(probe.send(event, {"key": f"responses-{label}"}))[0]
        probe.ended_run(run_id, 40)
        answer[label] = _responses_seen(
            settled(probe, lambda: probe.data(_RESPONSES, id=run_id)))
    return answer


CASES["span_responses"] = Case(_span_responses, ("steps", "flaky", "failing"),
                               phase=_OWN_PHASE)


# -- numbers past a float64 in GraphQL variables, literals' text, the order of an answer's keys --
_RUNS_FIRST = ('query($n: Int!) { runs(first: $n, filter: {from: "2100-01-01T00:00:00Z"}, '
               "orderBy: []) { totalCount } }")
_RUNS_LITERAL = ('{ runs(first: %s, filter: {from: "2020-01-01T00:00:00Z"}, orderBy: []) '
                 "{ totalCount } }")
_PAST_FLOAT64 = ("1e400", "-1e400", "1" + "0" * 400)
# The bodies each sent as written, the JSON text of ``variables`` spliced in.
_NUMBER_BODIES: dict[str, tuple[str, str]] = {
    **{f"Int var {number[:12]}": (_RUNS_FIRST, '{"n": %s}' % number)
       for number in (*_PAST_FLOAT64, "1e2", "99999999999999999999", "-99999999999999999999",
                      "9223372036854775807", '"99999999999999999999"', '"1e400"')},
    "unused var 1e400": ("{ __typename }", '{"unused": 1e400}'),
    **{f"Int literal {number}": (_RUNS_LITERAL % number, "{}")
       for number in ("1e2", "1.50", "-1E-7", "1e400", "99999999999999999999")},
    "ID literal 1.50": ("{ event(query: {eventId: 1.50}) { id } }", "{}"),
    "String literal 1e400": ("{ runTrace(runID: 1e400) { name } }", "{}"),
    "enum literal 1.50": ('{ runs(first: 1, filter: {from: "2020-01-01T00:00:00Z", '
                          "status: [1.50]}, orderBy: []) { totalCount } }", "{}"),
    "unknown field": ("{ nope }", "{}"),
    "null variable": (_RUNS_FIRST, '{"n": null}'),
}
# Answered with an error worded otherwise, or with ``locations`` added (docs/compatibility.md):
# the order of the answer's keys only.
_ERROR_BODIES = {
    "parse error": ("{ functions { id } ", "{}"),
    "ID var 1e400": ("query($n: ID!) { event(query: {eventId: $n}) { id } }", '{"n": 1e400}'),
    "run not found": ('{ run(runID: "nope") { id } }', "{}"),
}
_INVOKE_NUMBERS = ('mutation($d: Map, $m: Map) { invokeFunction(functionSlug: "%s", data: $d, '
                   "meta: $m) }") % _INVOKEE


def _key_order(body: bytes) -> list[str]:
    """The keys of an answer, in the order written."""
    return [key for key, _ in json.loads(body, object_pairs_hook=lambda pairs: pairs)]


def _invoked_data(probe: Probe, keys: typing.Collection[str]) -> dict[str, str]:
    """The ``data`` of those invocation events of ``keys`` stored now, as their JSON text."""
    edges = probe.data(_INTERNAL, name=_INVOKED, **{"from": _since(300)})["eventsV2"]["edges"]
    found = {}
    for edge in edges:
        raw = edge["node"]["raw"]
        key = re.search(r'"key":"([^"]*)"', raw)
        if key and key.group(1) in keys:
            found[key.group(1)] = re.sub(r'"_inngest":\{[^}]*\},?', "",
                                         _text_after(raw.encode(), "data"))
    return found


def _data_invocations(probe: Probe, post: typing.Callable[[str, str], tuple[int, bytes]]
                      ) -> dict[str, object]:
    """``data`` holding a number past a float64: the dev server answers true and loses the
    invocation; ours refuses it (docs/compatibility.md). Neither stores it."""
    answers = {}
    for index, number in enumerate(_PAST_FLOAT64):
        status, body = post(_INVOKE_NUMBERS, '{"d": {"key": "numbers-data-%d", "n": %s}}'
                            % (index, number))
        answer = json.loads(body)
        if probe.name == "real":
            not_run = answer == {"data": {"invokeFunction": True}}
        else:
            not_run = answer["errors"][0]["message"] == f"data: number {number} is out of range"
        answers[f"numbers-data-{index}"] = [status, "not run" if not_run else body.decode()]
    return answers


def _graphql_number_texts(side: Side) -> Answer:
    """Numbers past a float64 in a GraphQL request's variables (refused only where an Int
    takes them, kept as their text in a Map), literals quoted in messages as written, and
    the order of keys in 422 and 200 answers with errors, all as the bytes sent back."""
    probe = side.probe
    json_type = {"content-type": "application/json"}

    def post(query: str, variables: str) -> tuple[int, bytes]:
        body = b'{"query": %s, "variables": %s}' % (
            json.dumps(query).encode(), variables.encode())
        status, _, answer = probe.exchange("POST", "/v0/gql", body, json_type)
        return status, answer

    answers = {label: post(*body) for label, body in _NUMBER_BODIES.items()}
    invoked = _data_invocations(probe, post)
    sessions = {f"numbers-meta-{index}": post(_INVOKE_NUMBERS, '{"d": {"key": "numbers-meta-%d"}'
                                              ', "m": {"sessions": {"a": %s}}}' % (index, number))
                for index, number in enumerate(_PAST_FLOAT64)}
    with_errors = [(label, status, body) for label, (status, body) in answers.items()
                   if b'"errors"' in body]
    with_errors += [(label, *post(*body)) for label, body in _ERROR_BODIES.items()]
    return {
        "bytes": {label: [status, body.decode()] for label, (status, body) in answers.items()},
        "invocations": {key: [status, body.decode()] for key, (status, body) in sessions.items()},
        "data_invocations": invoked,
        # Once the later invocations have finished: the earlier ones stored by then.
        "sessions": _sessions_seen(probe, list(sessions)),
        "stored": _invoked_data(probe, [*invoked, *sessions]),
        "key_order": {label: [status, _key_order(body)] for label, status, body in with_errors},
    }


CASES["graphql_number_texts"] = Case(
    _graphql_number_texts,
    ("bytes", "invocations", "data_invocations", "stored", "sessions", "key_order"),
    phase=_OWN_PHASE)
