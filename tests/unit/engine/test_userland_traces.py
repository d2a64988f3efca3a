"""``POST /v1/traces/userland``: spans an app traced itself (OpenTelemetry), sent back with the
trace reference its call was given, show under that call's step in ``runTrace``.

Expected answers and trees are the dev server's, measured with the JS SDK's
``extendedTracesMiddleware`` (tests/js_app/otel.mjs) and with the payloads below.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import pathlib
import shutil
import struct
import subprocess
import typing
import urllib.parse

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, wait
from test_graphql import data
from test_parallel_once import listening

from inngest._engine.http.server import DevServer
from inngest._engine.otel.protowire import I64, LEN, VARINT, field
from inngest._transport import OutboundRequest
from inngest.experimental.dev_server import free_ports

LOOPBACK = True
JS_APP_DIR = pathlib.Path(__file__).resolve().parents[2] / "js_app"
PATH = "/v1/traces/userland"
JSON_TYPE = {"content-type": "application/json"}
PROTOBUF_TYPE = {"content-type": "application/x-protobuf"}
SPAN_FIELDS = """spanID parentSpanID name status isRoot isUserland stepOp stepID attempts
  queuedAt startedAt endedAt duration outputID stepType
  userlandSpan { spanName spanKind serviceName scopeName scopeVersion resourceAttrs spanAttrs }"""
RUN_TRACE = """query T($id: String!) {
  runTrace(runID: $id) { name childrenSpans { name %s childrenSpans { %s childrenSpans {
    %s childrenSpans { name } } } } }
  run(runID: $id) { trace { childrenSpans { name isUserland childrenSpans { name } } } }
}""" % (SPAN_FIELDS, SPAN_FIELDS, SPAN_FIELDS)
# The JS SDK's resource and scope (OTLP/JSON), as it sent them.
RESOURCE = {"attributes": [{"key": "service.name",
                            "value": {"stringValue": "unknown_service:node"}}]}
SCOPE = {"name": "inngest", "version": "3.54.2"}
T0_NS = 1796041216416000000
Answer = tuple[int, dict[str, str], bytes]


class TracedApp:
    """A fake app whose function runs step "traced" (in its first call, or its second when
    the first fails) then returns; it keeps each call's trace headers."""

    def __init__(self, fail_first: bool = False) -> None:
        self.headers: list[dict[str, str]] = []
        self.fail_first = fail_first

    def handler(self, call: Call) -> Reply:
        self.headers.append({key: call.headers[key] for key in ("traceparent", "tracestate")})
        if call.body["steps"]:
            return ok("done")
        if self.fail_first and len(self.headers) == 1:
            return ops(op("StepError", "traced", error={"name": "Error", "message": "once"}))
        return ops(op("StepRun", "traced", data="traced"))

    def state(self, call: int = 0) -> dict[str, str]:
        """A call's ``tracestate`` entries."""
        entries = self.headers[call]["tracestate"].split(",")
        return dict(entry.split("=", 1) for entry in entries)


def run_traced(client: Client, app: FakeApp, traced: TracedApp) -> str:
    client.register(app, [app.function("fn", handler=traced.handler, retries=1)])
    [event_id] = client.send({"name": "test/fn"})
    return str(client.wait_for_run(event_id, "Completed")["run_id"])


def post(client: Client, body: bytes, headers: dict[str, str]) -> Answer:
    request = OutboundRequest("POST", client.dev.url + PATH, headers, body)
    reply = client.dev.transport.send(request)  # type: ignore[union-attr]
    return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.body


def attribute(key: str, value: object) -> dict[str, object]:
    kind = "stringValue" if isinstance(value, str) else "intValue"
    return {"key": key, "value": {kind: value}}


def sdk_attributes(run_id: str, state: dict[str, str]) -> list[dict[str, object]]:
    """What the JS SDK puts on every span it exports for a call."""
    return [attribute("inngest.traceparent", "00-a4c1b2142fdb63b9ef954f72f18969e6-"
                      "5199250a6fd7f244-01"),
            attribute("sdk.run.id", run_id), attribute("sdk.app.id", state["inngest@app"]),
            attribute("sys.app.id", state["inngest@app"]),
            attribute("sys.function.id", state["inngest@fn"]),
            attribute("inngest.traceref", state["inngest@traceref"])]


def json_span(span_id: str, parent: str | None, name: str, attributes: list[dict[str, object]],
              start_ns: int, end_ns: int, **extra: object) -> dict[str, object]:
    span: dict[str, object] = {
        "traceId": "2708a69506c141beef52819dc334ee55", "spanId": span_id, "name": name,
        "kind": 1, "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns),
        "attributes": attributes, "droppedAttributesCount": 0, "events": [],
        "droppedEventsCount": 0, "status": {"code": 0}, "links": [], "droppedLinksCount": 0,
        "flags": 257, **extra}
    if parent is not None:
        span["parentSpanId"] = parent
    return span


def export(*spans: dict[str, object]) -> bytes:
    return json.dumps({"resourceSpans": [{"resource": RESOURCE, "scopeSpans": [
        {"scope": SCOPE, "spans": list(spans)}]}]}).encode()


def js_sdk_export(run_id: str, state: dict[str, str]) -> list[bytes]:
    """What the JS SDK sent for a step that traced "custom-work" and, in it, "inner":
    hex ids, the SDK's ``inngest.execution`` span last, in a request of its own."""
    own = sdk_attributes(run_id, state)
    return [
        export(json_span("7383d421ad881f16", "3660fa34552e1940", "inner", own,
                         T0_NS, T0_NS + 68746),
               json_span("3660fa34552e1940", "934ab65afee18368", "custom-work",
                         own + [attribute("work.kind", "demo")], T0_NS, T0_NS + 300419)),
        export(json_span("934ab65afee18368", None, "inngest.execution",
                         [attribute("process.pid", 27999), attribute("host.name", "vm")] + own,
                         T0_NS - 9000000, T0_NS + 6238949)),
    ]


def userland(span_id: str, parent: str, name: str, started: str, ended: str, duration: int,
             attrs: str, status: str = "RUNNING", kind: str = "internal",
             scope: tuple[str, str] = ("inngest", "3.54.2"),
             service: str = "unknown_service:node") -> dict[str, object]:
    return {
        "spanID": span_id, "parentSpanID": parent, "name": name, "status": status,
        "isRoot": False, "isUserland": True, "stepOp": None, "stepID": None, "attempts": 0,
        "queuedAt": started, "startedAt": started, "endedAt": ended, "duration": duration,
        "outputID": None, "stepType": "",
        "userlandSpan": {"spanName": name, "spanKind": kind, "serviceName": service,
                         "scopeName": scope[0], "scopeVersion": scope[1],
                         "resourceAttrs": None, "spanAttrs": attrs},
    }


def step_span(trace: dict[str, typing.Any], name: str = "traced") -> dict[str, typing.Any]:
    return next(span for span in trace["runTrace"]["childrenSpans"]
                if span["name"] == name and span["stepOp"] == "RUN" and span["stepID"])


def test_calls_carry_a_trace_reference_naming_the_function_and_app(
        client: Client, app: FakeApp) -> None:
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    [fn] = client.request("POST", "/v0/gql", {"query": "{ functions { id appID } }"})[1][
        "data"]["functions"]
    assert len(traced.headers) == 2
    for call in (0, 1):
        parent = traced.headers[call]["traceparent"]
        assert parent.startswith("00-") and parent.endswith("-01")
        _, trace_id, span_id, _ = parent.split("-")
        assert (len(trace_id), len(span_id)) == (32, 16)
        state = traced.state(call)
        assert (state["inngest@fn"], state["inngest@app"]) == (fn["id"], fn["appID"])
        assert json.loads(urllib.parse.unquote(state["inngest@traceref"])) == {
            "tp": parent, "ts": ""}
    assert traced.headers[0]["traceparent"] != traced.headers[1]["traceparent"]
    assert run_id


def test_js_sdk_spans_show_under_their_step(client: Client, app: FakeApp) -> None:
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    for body in js_sdk_export(run_id, traced.state()):
        assert post(client, body, JSON_TYPE) == (200, {
            "content-type": "application/json", "x-inngest-server-kind": "dev"}, b"{}")

    trace = data(client, RUN_TRACE, id=run_id)
    app_id = traced.state()["inngest@app"]
    inner = userland("ef7f37778db569df", "dfaeb47dadf8e79d", "inner",
                     "2026-11-30T12:20:16.416Z", "2026-11-30T12:20:16.416Z", 0,
                     json.dumps({"sdk.app.id": app_id}, separators=(",", ":")))
    custom = userland("dfaeb47dadf8e79d", "f77e1a6fae5a7de7", "custom-work",
                      "2026-11-30T12:20:16.416Z", "2026-11-30T12:20:16.416Z", 0,
                      json.dumps({"sdk.app.id": app_id, "work.kind": "demo"},
                                 separators=(",", ":")))
    [shown] = step_span(trace)["childrenSpans"]
    assert {**shown, "childrenSpans": None} == {**custom, "childrenSpans": None}
    assert shown["childrenSpans"] == [{**inner, "childrenSpans": []}]
    # The run's page (run { trace }) shows no userland spans.
    assert not any(span["isUserland"] or span["childrenSpans"]
                   for span in trace["run"]["trace"]["childrenSpans"])


def test_rest_v2_trace_shows_the_spans_under_their_step(client: Client, app: FakeApp) -> None:
    """Measured with tests/js_app/otel.mjs: the v2 trace hangs the app's spans where
    ``runTrace`` does, with their names, times and status, and no step kind or output."""
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    for body in js_sdk_export(run_id, traced.state()):
        assert post(client, body, JSON_TYPE)[0] == 200
    status, answer = client.request("GET", f"/api/v2/runs/{run_id}/trace?includeOutput=true")
    assert status == 200
    step = answer["data"]["rootSpan"]["children"][0]
    assert (step["name"], step["output"]) == ("traced", {"data": "traced"})
    moment = "2026-11-30T12:20:16.416Z"
    inner = {"id": "ef7f37778db569df", "name": "inner", "status": "RUNNING",
             "durationMs": "0", "queuedAt": moment, "startedAt": moment, "endedAt": moment}
    assert step["children"] == [{
        **inner, "id": "dfaeb47dadf8e79d", "name": "custom-work", "children": [inner]}]


def protobuf_value(value: object) -> bytes:
    if isinstance(value, bool):
        return field(2, VARINT, int(value))
    if isinstance(value, int):
        return field(3, VARINT, value)
    if isinstance(value, float):
        return field(4, I64, int.from_bytes(struct.pack("<d", value), "little"))
    if isinstance(value, list):
        return field(5, LEN, b"".join(field(1, LEN, protobuf_value(v)) for v in value))
    return field(1, LEN, str(value).encode())


def protobuf_attribute(number: int, key: str, value: object) -> bytes:
    return field(number, LEN, field(1, LEN, key.encode())
                 + field(2, LEN, protobuf_value(value)))


def protobuf_span(span_id: str, parent: str | None, name: str,
                  attributes: list[tuple[str, object]], start_ns: int, end_ns: int,
                  status: int = 0, kind: int = 1) -> bytes:
    span = (field(1, LEN, bytes(16)) + field(2, LEN, bytes.fromhex(span_id))
            + (field(4, LEN, bytes.fromhex(parent)) if parent else b"")
            + field(5, LEN, name.encode()) + field(6, VARINT, kind)
            + field(7, I64, start_ns) + field(8, I64, end_ns)
            + b"".join(protobuf_attribute(9, key, value) for key, value in attributes))
    if status:
        span += field(15, LEN, field(3, VARINT, status))
    return field(2, LEN, span)


def protobuf_export(*spans: bytes) -> bytes:
    resource = field(1, LEN, protobuf_attribute(1, "service.name", "svc"))
    scope = field(1, LEN, field(1, LEN, b"my-scope") + field(2, LEN, b"1.2.3"))
    return field(1, LEN, resource + field(2, LEN, scope + b"".join(spans)))


def test_protobuf_spans_hang_on_the_call_and_rejected_ones_are_counted(
        client: Client, app: FakeApp) -> None:
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    state = traced.state()
    own: list[tuple[str, object]] = [
        ("sdk.run.id", run_id), ("sys.function.id", state["inngest@fn"]),
        ("inngest.traceref", state["inngest@traceref"])]
    t0 = 1796041216_000_000_000
    body = protobuf_export(
        protobuf_span("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "pb-root", own + [
            ("n", 7), ("ok", True), ("f", 1.5), ("whole", 2.0), ("arr", ["x"]),
            ("_inngest.x", "hidden"), ("inngest.step.id", "z"), ("h", "<&>")],
            t0, t0 + 1_500_000_000, status=2, kind=3),
        protobuf_span("cccccccccccccccc", "aaaaaaaaaaaaaaaa", "pb-child", own,
                      t0 + 5_000_000, t0 + 6_000_000, status=1),
        protobuf_span("dddd", None, "short-id", own, t0, t0),
        protobuf_span("eeeeeeeeeeeeeeee", None, "no-reference", own[:2], t0, t0))
    # Two rejected: ExportTraceServiceResponse{partial_success: {rejected_spans: 2}}.
    assert post(client, body, PROTOBUF_TYPE) == (200, {
        "content-type": "application/x-protobuf", "x-inngest-server-kind": "dev"},
        b"\n\x02\x08\x02")

    call = traced.headers[0]["traceparent"].split("-")[2]
    scope, service = ("my-scope", "1.2.3"), "svc"
    assert step_span(data(client, RUN_TRACE, id=run_id))["childrenSpans"] == [
        {**userland("aaaaaaaaaaaaaaaa", call, "pb-root", "2026-11-30T12:20:16Z",
                    "2026-11-30T12:20:17.5Z", 1500,
                    '{"arr":"","f":1.5,"h":"\\u003c\\u0026\\u003e","n":7,"ok":true,'
                    '"whole":2}', "FAILED", "client", scope, service), "childrenSpans": []},
        # A protobuf parent id is 8 bytes: the server hangs the span on the call.
        {**userland("cccccccccccccccc", call, "pb-child", "2026-11-30T12:20:16.005Z",
                    "2026-11-30T12:20:16.006Z", 1, "{}", "COMPLETED", "internal", scope,
                    service), "childrenSpans": []},
    ]


def test_a_retried_steps_spans_stay_with_their_attempt(client: Client, app: FakeApp) -> None:
    traced = TracedApp(fail_first=True)
    run_id = run_traced(client, app, traced)
    for attempt, name in enumerate(("first", "second")):
        state = traced.state(attempt)
        own = sdk_attributes(run_id, state)
        # Each call's spans have their own ids.
        execution = f"{attempt}34ab65afee18368"
        assert post(client, export(
            json_span(execution, None, "inngest.execution", own, T0_NS, T0_NS),
            json_span(f"{attempt}660fa34552e1940", execution, name, own, T0_NS, T0_NS)),
            JSON_TYPE)[0] == 200
    attempts = step_span(data(client, RUN_TRACE, id=run_id))["childrenSpans"]
    assert [(span["name"], [child["name"] for child in span["childrenSpans"]])
            for span in attempts] == [("Attempt 0", ["first"]), ("Attempt 1", ["second"])]


def test_spans_naming_an_unknown_function_or_a_bad_reference_are_rejected(
        client: Client, app: FakeApp) -> None:
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    state = traced.state()
    good = sdk_attributes(run_id, state)
    # The last run and function ids count, and the first trace reference.
    cases = [
        good + [attribute("sys.function.id", "00000000-0000-0000-0000-000000000001")],
        good + [attribute("sys.function.id", "not-a-uuid")],
        good + [attribute("sdk.run.id", "not-a-ulid")],
        [attribute("inngest.traceref", "%7B%7D")] + good,
        [attribute("inngest.traceref", "%zz")] + good,
        [attribute("inngest.traceref", 5)] + good,
        [attribute("inngest.traceref", "null")] + good,
        [attribute("inngest.traceref", '{"tp":1}')] + good,
    ]
    spans = [json_span("1111111111111111", None, "x", attributes, T0_NS, T0_NS)
             for attributes in cases]
    status, _, body = post(client, export(*spans), JSON_TYPE)
    assert (status, json.loads(body)) == (200, {"partialSuccess": {"rejectedSpans": "8"}})
    assert step_span(data(client, RUN_TRACE, id=run_id))["childrenSpans"] == []


def test_spans_of_an_archived_function_are_rejected(client: Client, app: FakeApp) -> None:
    traced = TracedApp()
    run_id = run_traced(client, app, traced)
    client.register(app, [app.function("other", handler=traced.handler)])
    body = export(json_span("1111111111111111", None, "x", sdk_attributes(
        run_id, traced.state()), T0_NS, T0_NS))
    assert post(client, body, JSON_TYPE)[2] == b'{"partialSuccess":{"rejectedSpans":"1"}}'


@pytest.mark.parametrize("headers, body, status, answer", [
    (JSON_TYPE, b"{}", 200, b"{}"),
    (JSON_TYPE, b'{"resource_spans": []}', 200, b"{}"),
    (PROTOBUF_TYPE, b"", 200, b""),
    ({}, b"", 200, b""),
    (JSON_TYPE, b"", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b"{bad", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b"[]", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"unknownField":1}', 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"%"}]}]}]}', 400,
     b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"NOPE"}]}]}]}', 400,
     b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"},{}]}]}]}', 200,
     b'{"partialSuccess":{"rejectedSpans":"2"}}'),
    (JSON_TYPE, b"\xff", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b"NaN", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":null}', 200, b"{}"),
    (JSON_TYPE, b'{"resourceSpans":[],"resourceSpans":[]}', 400,
     b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"AAAA===="}]}]}]}',
     400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"-_-_"}]}]}]}',
     200, b'{"partialSuccess":{"rejectedSpans":"1"}}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1.5}]}]}]}',
     400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"1e3"}]}]}]}',
     200, b'{"partialSuccess":{"rejectedSpans":"1"}}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a",'
     b'"value":{"stringValue":"x","intValue":1}}]}]}]}]}', 400,
     b'{"message":"Invalid payload"}'),
    # Taken before, refused by protojson: members of the wrong type read as absent, and a
    # byte order mark or UTF-16 that Python's reader of bytes took.
    (JSON_TYPE, b'{"resourceSpans":[{"resource":""}]}', 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"scope":0}]}]}', 400,
     b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":""}]}]}]}', 400,
     b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"a",'
     b'"value":""}]}]}]}]}', 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b"\xef\xbb\xbf{}", 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, "{}".encode("utf-16"), 400, b'{"message":"Invalid payload"}'),
    (JSON_TYPE, b'{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[{"name":"a",'
     b'"attributes":[{"key":"a","value":null}]}]}]}]}', 200,
     b'{"partialSuccess":{"rejectedSpans":"1"}}'),
    ({"content-type": "application/JSON"}, b"{}", 400, b"\x12\x0fInvalid payload"),
    # google.rpc.Status{message: "Invalid payload"}
    (PROTOBUF_TYPE, b"xyz", 400, b"\x12\x0fInvalid payload"),
    ({}, b"{}", 400, b"\x12\x0fInvalid payload"),
    (PROTOBUF_TYPE, b"\x0a\x05\x12", 400, b"\x12\x0fInvalid payload"),
    (PROTOBUF_TYPE, b"\x0b", 400, b"\x12\x0fInvalid payload"),
    # A group (an obsolete kind of field) is skipped whole, as an unknown field.
    (PROTOBUF_TYPE, b"\x0b\x0c", 200, b""),
    (PROTOBUF_TYPE, b"\x0a\x02\x0b\x0c", 200, b""),
    (PROTOBUF_TYPE, b"\x0a\x00", 200, b""),
])
def test_answers_as_the_dev_server(client: Client, headers: dict[str, str], body: bytes,
                                   status: int, answer: bytes) -> None:
    got_status, got_headers, got_body = post(client, body, headers)
    expected_type = "application/json" if "json" in headers.get("content-type", "") \
        else "application/x-protobuf"
    assert (got_status, got_headers["content-type"], got_body) == (
        status, expected_type, answer)


def test_a_body_over_8_mib_is_refused(client: Client) -> None:
    body = b" " * (8 * 1024 * 1024 + 1)
    assert post(client, body, JSON_TYPE)[::2] == (413, b'{"message":"Request body too large"}')


def test_an_answer_is_gzipped_when_the_exporter_accepts_it(client: Client) -> None:
    status, headers, body = post(client, b"{}", {**JSON_TYPE, "accept-encoding": "gzip"})
    assert (status, headers["content-encoding"], gzip.decompress(body)) == (200, "gzip", b"{}")


def test_random_bytes_never_fail_the_server(client: Client) -> None:
    for seed in range(200):
        body = os.urandom(seed % 40)
        for headers in (PROTOBUF_TYPE, JSON_TYPE):
            assert post(client, body, headers)[0] in (200, 400), base64.b64encode(body)


# The JS SDK app (node), on an engine listening on a socket.

@pytest.fixture(scope="module")
def js_app_dir() -> pathlib.Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the JS SDK app in tests/js_app")
    if not (JS_APP_DIR / "node_modules" / "inngest").is_dir():
        installed = subprocess.run(["npm", "ci", "--ignore-scripts"], cwd=JS_APP_DIR,
                                   capture_output=True, timeout=300)
        if installed.returncode != 0:
            pytest.skip(f"npm ci in tests/js_app failed:\n{installed.stderr.decode()}")
    return JS_APP_DIR


@pytest.mark.sockets
@pytest.mark.timeout(60)
def test_js_sdk_extended_traces_show_in_run_trace(js_app_dir: pathlib.Path) -> None:
    engine_port, app_port = free_ports(2)
    env = {**os.environ, "PORT": str(app_port), "INNGEST_DEV": "1",
           "INNGEST_BASE_URL": f"http://127.0.0.1:{engine_port}"}
    node = subprocess.Popen([str(shutil.which("node")), "otel.mjs"], cwd=js_app_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dev = DevServer(port=engine_port, poll=False, retry_interval=0.05,
                    sdk_urls=[f"http://127.0.0.1:{app_port}/api/inngest"])
    try:
        wait(lambda: listening(app_port), 15)
        dev.start()
        client = Client(dev)
        wait(lambda: client.request("GET", "/dev")[1]["functions"], 15)
        [event_id] = client.send({"name": "js/otel"})
        run_id = str(client.wait_for_run(event_id, "Completed", timeout=30)["run_id"])
        [custom] = step_span(data(client, RUN_TRACE, id=run_id))["childrenSpans"]
        assert (custom["name"], custom["isUserland"], custom["status"]) == (
            "custom-work", True, "RUNNING")
        assert json.loads(custom["userlandSpan"]["spanAttrs"])["work.kind"] == "demo"
        assert custom["userlandSpan"]["scopeName"] == "inngest"
        assert [child["name"] for child in custom["childrenSpans"]] == ["inner"]
        assert custom["childrenSpans"][0]["parentSpanID"] == custom["spanID"]
        # The REST v2 trace shows them where runTrace does.
        root = client.request("GET", f"/api/v2/runs/{run_id}/trace")[1]["data"]["rootSpan"]
        step = next(span for span in root["children"] if span.get("children"))
        assert [(span["name"], span["status"], [child["name"] for child in span["children"]])
                for span in step["children"]] == [("custom-work", "RUNNING", ["inner"])]
    finally:
        dev.stop()
        node.terminate()
        node.wait(10)
