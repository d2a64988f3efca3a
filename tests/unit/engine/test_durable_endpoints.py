"""Durable endpoints: the checkpoint API's sync routes (``POST /v1/checkpoint``, ``POST
/v1/checkpoint/{runID}/steps``, ``/v1/checkpoint/{runID}/output?token=``), answered as the
dev server answers them (measured against it with the JS SDK's ``inngest.endpoint``).
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import subprocess
import typing

import pytest
import urllib3
from engine_fakes import (
    Client, FakeApp, LoopbackDev, Reply, list_runs, ok, op, ops, step_hash, wait,
)
from test_parallel_once import js_app_dir, listening  # noqa: F401

from inngest.experimental.dev_server import free_ports
from inngest._engine.http.server import DevServer
from inngest._engine import ulid
from inngest._engine.realtime import tokens
from inngest._loopback import LoopbackTransport
from inngest._transport import OutboundRequest

# A pool of our own: urllib3 1.26 (tox's py310) has no module-level request().
HTTP = urllib3.PoolManager()

pytestmark = pytest.mark.timeout(120)
LOOPBACK = True

RUN_ID = "01M8P6RQ5T8DKW7WYD6VH5BM6V"
RUN_2 = "01M8P6RQ5T8DKW7WYD6VH5BM6W"
RUN_3 = "01M8P6RQ5T8DKW7WYD6VH5BM6X"
DOMAIN = "http://127.0.0.1:59335"
# The ids the dev server gave this domain's app and its "GET /work" function (measured).
APP_ID = "cf8cb97b-2203-5787-9879-6ab01ecb0b2d"
FN_ID = "e400948a-05a8-5c83-a141-e5c1c99dbb39"
TRACE = """query($id: String!) { runTrace(runID: $id) { childrenSpans {
  name status stepOp attempts childrenSpans { name } } } }"""
HISTORY = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  status output history { type } } }"""


def new_run(client: Client, *steps: dict[str, typing.Any], run_id: str = RUN_ID,
            **request: str) -> tuple[int, typing.Any]:
    return client.request("POST", "/v1/checkpoint", {
        "run_id": run_id, "steps": list(steps), "ts": 1, "request_version": 2, "retries": 3,
        "event": {"name": "inngest/http.request", "data": {
            "content_type": "", "domain": DOMAIN, "ip": "", "method": "GET", "path": "/work",
            "query_params": "name=x", "body": "", "fn": "", **request}},
    })


def steps(client: Client, *ops: dict[str, typing.Any], run_id: str = RUN_ID) -> tuple[int, bytes]:
    return client.request_raw("POST", f"/v1/checkpoint/{run_id}/steps", {
        "fn_id": FN_ID, "app_id": APP_ID, "run_id": run_id, "steps": list(ops), "ts": 1})


def response(status: int, body: str) -> dict[str, typing.Any]:
    return {"op": "RunComplete", "id": step_hash("complete"), "data": {
        "headers": {"content-type": "application/json"}, "status": status, "body": body,
        "version": 2}}


def output(client: Client, token: str) -> tuple[int, bytes]:
    return client.request_raw("GET", f"/v1/checkpoint/anything/output?token={token}")


def gql(client: Client, query: str, run_id: str) -> typing.Any:
    status, body = client.request("POST", "/v0/gql", {"query": query,
                                                      "variables": {"id": run_id}})
    assert status == 200 and "errors" not in body, body
    return body["data"]


def test_a_durable_endpoint_run_from_start_to_response(client: Client) -> None:
    status, started = new_run(client, op("StepRun", "a", data="a-done"))
    assert status == 200
    data = started["data"]
    assert (data["fn_id"], data["app_id"], data["run_id"]) == (FN_ID, APP_ID, RUN_ID)
    assert list(data) == ["fn_id", "app_id", "run_id", "token", "realtime_token"]
    assert list(started["metadata"]) == ["fetched_at"]
    assert tokens.verify(data["realtime_token"], client.dev.engine.clock.now_ms()) is not None
    assert client.run(RUN_ID)["status"] == "Running"
    body = '{"hello":"x","a":"a-done"}'
    assert steps(client, op("StepRun", "b", data="b-done")) == (200, b"")
    assert steps(client, response(200, body)) == (200, b"")
    run = client.run(RUN_ID)
    assert (run["status"], run["output"]) == ("Completed", {"hello": "x", "a": "a-done"})
    assert run["function_id"] == FN_ID
    assert output(client, data["token"]) == (200, body.encode())
    found = gql(client, HISTORY, RUN_ID)["functionRun"]
    assert [item["type"] for item in found["history"]] == ["FunctionScheduled",
                                                           "FunctionCompleted"]
    spans = gql(client, TRACE, RUN_ID)["runTrace"]["childrenSpans"]
    assert spans == [{"name": name, "status": "COMPLETED", "stepOp": "RUN", "attempts": 0,
                      "childrenSpans": []} for name in ("a", "b")]
    apps = client.request("POST", "/v0/gql", {"query": "{ apps { name url method "
                                                       "functions { slug } } }"})[1]
    assert apps["data"]["apps"] == [{"name": DOMAIN, "url": "http://localhost:59335",
                                     "method": "API", "functions": [{"slug": "GET /work"}]}]


def test_a_failing_response_fails_the_run_and_text_stays_text(client: Client) -> None:
    token = new_run(client, op("StepRun", "a", data=1))[1]["data"]["token"]
    steps(client, response(500, "plain a"))
    run = client.run(RUN_ID)
    assert (run["status"], run["output"]) == ("Failed", "plain a")
    assert output(client, token) == (200, b"plain a")


@pytest.mark.parametrize("ts, kept", [(1, True), (-5, True), (2**63 - 1, False),
                                      (-(2**63), False)])
def test_the_request_event_keeps_a_timestamp_the_event_api_refuses(
    client: Client, ts: int, kept: bool
) -> None:
    """Measured: the dev server keeps a durable endpoint's event whatever its timestamp, and
    reruns its run from it; ours keeps one before 1980 as sent, and makes one no date can
    show (or past 2100) the receipt time."""
    status, _ = client.request("POST", "/v1/checkpoint", {
        "run_id": RUN_ID, "steps": [response(200, "{}")], "event": {
            "name": "inngest/http.request", "ts": ts,
            "data": {"domain": DOMAIN, "method": "GET", "path": "/work"}}})
    assert status == 200
    event_id = client.run(RUN_ID)["event_id"]
    event = client.request("GET", f"/v1/events/{event_id}")[1]["data"]
    if kept:
        assert event["ts"] == ts
    else:
        assert abs(event["ts"] - received_ms(event)) < 1000
    status, rerun = client.request("POST", f"/api/v2/runs/{RUN_ID}/rerun", {})
    assert status == 200 and rerun["data"]["runId"] != RUN_ID


def received_ms(event: dict[str, typing.Any]) -> int:
    """When the engine took the event in: the time in its internal ULID."""
    return ulid.timestamp_ms(event["internal_id"])


def test_tokens_and_conflicts(client: Client) -> None:
    status, started = new_run(client)
    assert status == 200 and "token" not in started["data"]
    # While the run runs, its id is taken; once it ended, the start is answered again.
    assert new_run(client)[0] == 409
    assert new_run(client)[1]["error"] == "Run already exists"
    steps(client, response(200, "1"))
    assert new_run(client)[0] == 200
    for token in ("", "abc", tokens.mint(None, client.dev.engine.clock.now_ms(), RUN_ID)):
        status, body = output(client, token)
        assert (status, json.loads(body)["error"]) == (401, "Unable to find run with auth token")
    claim = tokens.mint_run_claim(RUN_ID, client.dev.engine.clock.now_ms())
    assert output(client, claim) == (200, b"1")


def history(client: Client, run_id: str = RUN_ID) -> list[tuple[str, str | None]]:
    query = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
      history { type stepName } } }"""
    found = gql(client, query, run_id)["functionRun"]["history"]
    return [(item["type"], item["stepName"]) for item in found]


def endpoint(client: Client, app: FakeApp, *replies: Reply, run_id: str = RUN_2,
             **request: str) -> str:
    """Start a durable endpoint's run on ``app`` (with step "a" done) and have it answer
    the engine's calls with ``replies`` in turn; the run claim token."""
    answers = iter(replies)
    app.handlers[""] = lambda call: next(answers)
    origin = app.url.removesuffix("/api/inngest")
    status, started = new_run(client, op("StepRun", "a", data="a-done"), run_id=run_id,
                              domain=origin, path="/api/inngest", **request)
    assert status == 200, started
    return str(started["data"]["token"])


def api_response(status: int, body: str, **headers: str) -> dict[str, typing.Any]:
    return {**response(status, body), "data": {"headers": headers, "status": status,
                                               "body": body, "version": 2}}


def test_an_endpoint_that_sleeps_is_called_again_with_its_request(
        client: Client, app: FakeApp) -> None:
    # A response of any status completes a run continued so (measured).
    done = api_response(500, "made", **{"content-type": "text/plain", "x-custom": "yes"})
    token = endpoint(client, app, ops(op("StepRun", "b", data="b-done")), (206, {}, done),
                     method="PUT", content_type="text/plain",
                     body=base64.b64encode(b"hello").decode())
    assert steps(client, op("Sleep", "nap", opts={"duration": "1s"}), run_id=RUN_2) == (200, b"")
    assert client.run(RUN_2)["status"] == "Running"
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["status"] == "Completed"
    assert run["output"] == {"id": step_hash("complete"), "op": "RunComplete",
                             "data": done["data"]}
    calls = app.calls
    assert [(c.method, c.path, c.query, c.raw) for c in calls] == \
        [("PUT", "/api/inngest", {"name": "x"}, b"hello")] * 2
    headers = calls[0].headers
    assert (headers["x-run-id"], headers["x-inngest-signature"], headers["content-type"],
            headers["x-inngest-req-version"]) == (RUN_2, "", "text/plain", "2")
    assert "x-inngest-step-id" not in headers
    assert history(client, RUN_2) == [
        ("FunctionScheduled", None), ("StepSleeping", "nap"), ("StepStarted", "step"),
        ("StepCompleted", "b"), ("StepScheduled", None), ("StepStarted", "step"),
        ("StepCompleted", "step"), ("FunctionCompleted", None)]
    # The output route answers with the endpoint's response.
    loop = typing.cast(LoopbackDev, client.dev)
    answer = loop.transport.send(OutboundRequest(
        "GET", f"{loop.url}/v1/http/runs/{RUN_2}/output?token={token}", {}))
    assert (answer.status, answer.body) == (500, b"made")
    assert (answer.headers["content-type"], answer.headers["x-custom"]) == ("text/plain", "yes")


@pytest.mark.sockets
def test_the_output_route_writes_an_endpoints_headers_safely(
        client: Client, app: FakeApp) -> None:
    done = api_response(200, "ok", **{"x-split": "a\r\nx-injected: 1", "bad name": "x",
                                      "x-utf": "é中", "content-length": "99"})
    token = endpoint(client, app, (206, {}, done))
    steps(client, op("Sleep", "nap", opts={"duration": "1s"}), run_id=RUN_2)
    client.wait(lambda: client.run(RUN_2)["status"] == "Completed")
    reply = HTTP.request("GET", f"{client.dev.url}/v1/http/runs/{RUN_2}/output?token={token}",
                         retries=False)
    assert (reply.status, reply.data) == (200, b"ok")
    assert reply.headers["x-split"] == "a  x-injected: 1" and "x-injected" not in reply.headers
    assert reply.headers["x-utf"].encode("latin-1").decode() == "é中"


def test_an_informational_status_is_answered_as_200(client: Client, app: FakeApp) -> None:
    token = endpoint(client, app, (206, {}, api_response(101, "up")))
    steps(client, op("Sleep", "nap", opts={"duration": "1s"}), run_id=RUN_2)
    client.wait(lambda: client.run(RUN_2)["status"] == "Completed")
    assert output(client, token) == (200, b"up")


def test_an_endpoint_that_waits_for_an_event(client: Client, app: FakeApp) -> None:
    endpoint(client, app, (206, {}, api_response(200, '{"got":1}')))
    wait_op = op("WaitForEvent", "wait", opts={"event": "test/go", "timeout": "1h"})
    steps(client, wait_op, run_id=RUN_2)
    client.settle()
    assert client.run(RUN_2)["status"] == "Running" and not app.calls
    client.send({"name": "test/go", "data": {"value": 1}})
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["status"] == "Completed" and len(app.calls) == 1
    assert history(client, RUN_2) == [
        ("FunctionScheduled", None), ("StepWaiting", "wait"), ("StepCompleted", "wait"),
        ("StepStarted", "step"), ("StepCompleted", "step"), ("FunctionCompleted", None)]


def test_an_endpoint_that_waits_for_a_signal_or_an_invoked_function(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("child", handler=lambda call: ok({"child": 1}))])
    endpoint(client, app, (206, {}, api_response(200, "signalled")))
    steps(client, op("WaitForSignal", "sig", opts={"signal": "s-1", "timeout": "1h"}),
          run_id=RUN_2)
    assert client.request("POST", "/v1/signals", {"signal": "s-1", "data": 1})[0] == 200
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["output"]["data"]["body"] == "signalled"

    endpoint(client, app, (206, {}, api_response(200, "invoked")), run_id=RUN_3)
    steps(client, op("InvokeFunction", "call", opts={"function_id": "app-child",
                                                     "payload": {"data": {}}}), run_id=RUN_3)
    run = client.wait(lambda: (found := client.run(RUN_3))["status"] != "Running" and found)
    assert run["output"]["data"]["body"] == "invoked"
    actions = client.request("GET", f"/v0/runs/{RUN_3}/actions")[1]
    assert actions[step_hash("call")] == {"data": {"child": 1}}


def test_a_step_error_is_retried_by_calling_the_endpoint_again(
        client: Client, app: FakeApp) -> None:
    endpoint(client, app, (206, {}, api_response(200, "ok")))
    error = {"name": "Error", "message": "first attempt fails"}
    steps(client, op("StepError", "flaky", error=error), run_id=RUN_2)
    assert history(client, RUN_2)[-1] == ("StepScheduled", "flaky")
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["status"] == "Completed" and len(app.calls) == 1


def test_a_function_that_keeps_throwing_fails_after_its_retries(
        client: Client, app: FakeApp) -> None:
    thrown = {"name": "Error", "message": "function fails"}
    endpoint(client, app, *[(500, {}, thrown)] * 3)  # the start's "retries": 3
    steps(client, {"op": "StepError", "id": step_hash("complete"), "error": thrown},
          run_id=RUN_2)
    assert history(client, RUN_2)[-1] == ("StepScheduled", "")
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert (run["status"], run["output"]) == ("Failed", thrown)
    assert len(app.calls) == 3


def test_a_step_that_failed_in_the_request_is_shown_and_the_endpoint_called(
        client: Client, app: FakeApp) -> None:
    endpoint(client, app, (400, {"x-inngest-no-retry": "true"}, {"message": "never"}))
    error = {"name": "Error", "message": "never"}
    steps(client, op("StepFailed", "x", error=error), run_id=RUN_2)
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["status"] == "Failed" and len(app.calls) == 1
    assert client.request("GET", f"/v0/runs/{RUN_2}/actions")[1][step_hash("x")] == \
        {"error": error}
    assert history(client, RUN_2) == [
        ("FunctionScheduled", None), ("StepScheduled", None), ("StepStarted", "step"),
        ("StepFailed", "step"), ("FunctionFailed", None)]
    spans = gql(client, TRACE, RUN_2)["runTrace"]["childrenSpans"]
    assert [(span["name"], span["status"], span["stepOp"]) for span in spans][:2] == [
        ("a", "COMPLETED", "RUN"), ("x", "FAILED", None)]


def test_a_gateway_call_is_made_in_the_checkpoint_then_the_endpoint_called(
        client: Client, app: FakeApp, loopback: LoopbackTransport) -> None:
    target = FakeApp("target", loopback=loopback)
    target.handlers[""] = lambda call: (200, {"content-type": "text/plain"}, b"target-body")
    endpoint(client, app, (206, {}, api_response(200, "fetched")))
    fetch = op("Gateway", "fetch", opts={"url": target.url, "method": "GET", "headers": {}})
    assert steps(client, fetch, run_id=RUN_2) == (200, b"")
    assert [call.method for call in target.calls] == ["GET"]
    run = client.wait(lambda: (found := client.run(RUN_2))["status"] != "Running" and found)
    assert run["output"]["data"]["body"] == "fetched"
    saved = client.request("GET", f"/v0/runs/{RUN_2}/actions")[1][step_hash("fetch")]
    assert (saved["data"]["status_code"], saved["data"]["body"]) == (200, "target-body")
    spans = gql(client, TRACE, RUN_2)["runTrace"]["childrenSpans"]
    assert [(span["name"], span["status"]) for span in spans][:2] == [
        ("a", "COMPLETED"), ("fetch", "COMPLETED")]


def test_steps_of_an_ended_run_are_dropped(client: Client) -> None:
    new_run(client, op("StepRun", "a", data=1))
    steps(client, response(200, "1"))
    # Answered as the server answers them.
    assert steps(client, op("StepRun", "late", data=2)) == (200, b"")
    assert step_hash("late") not in client.request("GET", f"/v0/runs/{RUN_ID}/actions")[1]


@pytest.mark.parametrize(("path", "body", "error"), [
    ("/v1/checkpoint", b"nope", "Invalid request body"),
    ("/v1/checkpoint", b'{"run_id":5}', "Invalid request body"),
    ("/v1/checkpoint", b'{"retries":"x"}', "Invalid request body"),
    ("/v1/checkpoint", b'{"event":{"data":{"body":"!!"}}}', "Invalid request body"),
    # Base64 with characters beyond ASCII was a 500.
    ("/v1/checkpoint", '{"event":{"data":{"body":"\u00e9A=="}}}'.encode(),
     "Invalid request body"),
    ("/v1/checkpoint", b'{"event":{"data":{"body":"\\ud800"}}}', "Invalid request body"),
    # Refused there, accepted here before.
    ("/v1/checkpoint", b'{"event":""}', "Invalid request body"),
    ("/v1/checkpoint", b'{"event":{"data":""}}', "Invalid request body"),
    ("/v1/checkpoint", b'{"retries":9223372036854775808}', "Invalid request body"),
    ("/v1/checkpoint", b'{"event":{"ts":-9223372036854775809}}', "Invalid request body"),
    ("/v1/checkpoint/x/steps", b"", "invalid request body: EOF"),
    ("/v1/checkpoint/x/steps", b"[]", "invalid request body: json: cannot unmarshal array into"
                                      " Go value of type apiv1.checkpointSyncSteps"),
    ("/v1/checkpoint/x/steps", b'{"run_id":5}', "invalid request body: json: cannot unmarshal"
     " number into Go struct field checkpointSyncSteps.run_id of type ulid.ULID"),
    ("/v1/checkpoint/x/steps", b'{"app_id":"x"}', "invalid request body: invalid UUID length: 1"),
    ("/v1/checkpoint/x/steps", b'{"steps":[{"op":"Bogus"}]}',
     "invalid request body: Bogus does not belong to Opcode values"),
])
def test_bad_bodies_get_the_dev_servers_400(
        client: Client, path: str, body: bytes, error: str) -> None:
    status, answer = client.request("POST", path, body)
    assert (status, answer["error"], answer["data"]) == (400, error, None)


def test_an_empty_start_makes_a_run_with_the_zero_id(client: Client) -> None:
    status, answer = client.request("POST", "/v1/checkpoint", b"{}")
    assert status == 200
    assert answer["data"]["run_id"] == "0" * 26
    assert client.run("0" * 26)["status"] == "Running"


# The official JS SDK's durable endpoint


@pytest.fixture(scope="module")
def endpoint_app(js_app_dir: pathlib.Path) -> typing.Iterator[tuple[int, int]]:  # noqa: F811
    engine_port, app_port = free_ports(2)
    env = {**os.environ, "PORT": str(app_port),
           "INNGEST_BASE_URL": f"http://127.0.0.1:{engine_port}", "INNGEST_DEV": "1"}
    node = subprocess.Popen([str(shutil.which("node")), "endpoint.mjs"], cwd=js_app_dir,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: listening(app_port), 15)
        yield engine_port, app_port
    finally:
        node.terminate()
        node.wait(10)


@pytest.mark.sockets
@pytest.mark.parametrize(("query", "status", "body", "run_status"), [
    ("name=x", 200, b'{"hello":"x","a":"a-done","b":"a-done+b"}', "COMPLETED"),
    ("text=1&fail=1", 500, b"plain a-done a-done+b", "FAILED"),
])
def test_js_sdk_durable_endpoint(endpoint_app: tuple[int, int], query: str, status: int,
                                 body: bytes, run_status: str) -> None:
    engine_port, app_port = endpoint_app
    with DevServer(port=engine_port, poll=False) as dev:
        reply = HTTP.request(
            "GET", f"http://127.0.0.1:{app_port}/work?{query}", retries=False)
        assert (reply.status, reply.data) == (status, body)
        api = Client(dev)
        [run] = list_runs(api, "id")
        history = gql(api, HISTORY, run["id"])["functionRun"]
        spans = gql(api, TRACE, run["id"])["runTrace"]["childrenSpans"]
    assert (history["status"], history["output"]) == (run_status, body.decode())
    assert [item["type"] for item in history["history"]] == [
        "FunctionScheduled", "FunctionCompleted" if status == 200 else "FunctionFailed"]
    assert [(span["name"], span["stepOp"]) for span in spans] == [("a", "RUN"), ("b", "RUN")]


@pytest.mark.sockets
@pytest.mark.parametrize(("path", "body", "history_types", "step_spans"), [
    ("/sleep", b'{"a":"a-done","b":"a-done+b"}',
     ["FunctionScheduled", "StepSleeping", "StepStarted", "StepCompleted", "StepScheduled",
      "StepStarted", "StepCompleted", "FunctionCompleted"],
     [("a", "RUN"), ("nap", "SLEEP"), ("b", "RUN"), ("b", "RUN")]),
    ("/wait", b'{"a":"a-done","got":42}',
     ["FunctionScheduled", "StepWaiting", "StepCompleted", "StepStarted", "StepCompleted",
      "FunctionCompleted"],
     [("a", "RUN"), ("wait", "WAIT_FOR_EVENT")]),
    ("/flaky", b'{"flaky":"flaky-ok"}',
     ["FunctionScheduled", "StepScheduled", "StepStarted", "StepCompleted", "StepScheduled",
      "StepStarted", "StepCompleted", "FunctionCompleted"],
     [("flaky", "RUN"), ("flaky", "RUN")]),
    ("/fails", b"", ["FunctionScheduled", "StepScheduled", "StepStarted", "StepFailed",
                     "FunctionFailed"],
     [("a", "RUN")]),
])
def test_js_sdk_durable_endpoint_going_async(
        endpoint_app: tuple[int, int], path: str, body: bytes, history_types: list[str],
        step_spans: list[tuple[str, str]]) -> None:
    """The SDK redirects its caller to the output route and the engine continues the run
    by calling the endpoint. History and step spans as measured on the dev server (the
    step that failed in the request is a span of no kind, as there)."""
    engine_port, app_port = endpoint_app
    with DevServer(port=engine_port, poll=False, retry_interval=0.05) as dev:
        reply = HTTP.request("GET", f"http://127.0.0.1:{app_port}{path}", retries=False,
                             redirect=False)
        assert reply.status == 302
        location = reply.headers["location"]
        assert location.startswith(f"http://127.0.0.1:{engine_port}/v1/http/runs/")
        api = Client(dev)
        if path == "/wait":
            api.send({"name": "js/endpoint.go", "data": {"value": 42}})
        output = HTTP.request("GET", location, retries=False, timeout=30)
        assert output.status == 200
        assert output.headers["content-type"] == "application/json"
        [run] = list_runs(api, "id")
        found = gql(api, HISTORY, run["id"])["functionRun"]
        spans = gql(api, TRACE, run["id"])["runTrace"]["childrenSpans"]
    if body:
        assert output.data == body
        assert found["status"] == "COMPLETED"
        assert json.loads(found["output"])["data"]["body"] == body.decode()
    else:  # The step's error, as the route and the run give it.
        error = json.loads(output.data)
        assert (error["name"], error["message"]) == ("Error", "never")
        assert found["status"] == "FAILED" and json.loads(found["output"]) == error
    assert [item["type"] for item in found["history"]] == history_types
    assert [(span["name"], span["stepOp"]) for span in spans if span["stepOp"]] == step_spans


@pytest.mark.sockets
def test_js_sdk_durable_endpoint_with_parallel_steps(endpoint_app: tuple[int, int]) -> None:
    """Parallel steps go async: each planned step is called for, then the function's end
    (the dev server makes that last call twice, and lists two FunctionCompleted)."""
    engine_port, app_port = endpoint_app
    with DevServer(port=engine_port, poll=False, retry_interval=0.05) as dev:
        reply = HTTP.request("GET", f"http://127.0.0.1:{app_port}/parallel", retries=False,
                             redirect=False)
        assert reply.status == 302
        output = HTTP.request("GET", reply.headers["location"], retries=False, timeout=30)
        assert (output.status, output.data) == (200, b'{"p1":"one","p2":"two"}')
        api = Client(dev)
        [run] = list_runs(api, "id")
        query = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
          history { type stepName } } }"""
        found = gql(api, query, run["id"])["functionRun"]["history"]
    listed = [(item["type"], item["stepName"]) for item in found]
    assert listed[:3] == [("FunctionScheduled", None), ("StepScheduled", "p1"),
                          ("StepScheduled", "p2")]
    assert sorted(listed[3:-1], key=str) == sorted(
        [("StepStarted", "step")] * 3 + [("StepCompleted", "p1"), ("StepCompleted", "p2")]
        + [("StepScheduled", None)] * 2 + [("StepCompleted", "step")], key=str)
    assert listed[-1] == ("FunctionCompleted", None)
