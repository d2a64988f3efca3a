"""Durable endpoints: the checkpoint API's sync routes (``POST /v1/checkpoint``, ``POST
/v1/checkpoint/{runID}/steps``, ``/v1/checkpoint/{runID}/output?token=``), answered as the
dev server answers them (measured against it with the JS SDK's ``inngest.endpoint``).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import typing

import pytest
import urllib3
from engine_fakes import Client, list_runs, op, step_hash, wait
from test_parallel_once import js_app_dir, listening  # noqa: F401

from inngest.experimental.dev_server import free_ports
from inngest._engine.http.server import DevServer
from inngest._engine.realtime import tokens

pytestmark = pytest.mark.timeout(120)
LOOPBACK = True

RUN_ID = "01M8P6RQ5T8DKW7WYD6VH5BM6V"
DOMAIN = "http://127.0.0.1:59335"
# The ids the dev server gave this domain's app and its "GET /work" function (measured).
APP_ID = "cf8cb97b-2203-5787-9879-6ab01ecb0b2d"
FN_ID = "e400948a-05a8-5c83-a141-e5c1c99dbb39"
TRACE = """query($id: String!) { runTrace(runID: $id) { childrenSpans {
  name status stepOp attempts childrenSpans { name } } } }"""
HISTORY = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  status output history { type } } }"""


def new_run(client: Client, *steps: dict[str, typing.Any],
            run_id: str = RUN_ID) -> tuple[int, typing.Any]:
    return client.request("POST", "/v1/checkpoint", {
        "run_id": run_id, "steps": list(steps), "ts": 1, "request_version": 2, "retries": 3,
        "event": {"name": "inngest/http.request", "data": {
            "content_type": "", "domain": DOMAIN, "ip": "", "method": "GET", "path": "/work",
            "query_params": "name=x", "body": "", "fn": ""}},
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


def test_an_endpoint_going_async_fails_its_run(client: Client) -> None:
    new_run(client, op("StepRun", "a", data=1))
    assert steps(client, op("Sleep", "nap", opts={"duration": "1s"})) == (200, b"")
    run = client.run(RUN_ID)
    assert run["status"] == "Failed"
    assert "only within their request" in run["output"]["error"]["message"]
    # Steps of a run that ended are dropped, answered as the server answers them.
    assert steps(client, op("StepRun", "late", data=2)) == (200, b"")
    assert step_hash("late") not in client.request("GET", f"/v0/runs/{RUN_ID}/actions")[1]


@pytest.mark.parametrize(("path", "body", "error"), [
    ("/v1/checkpoint", b"nope", "Invalid request body"),
    ("/v1/checkpoint", b'{"run_id":5}', "Invalid request body"),
    ("/v1/checkpoint", b'{"retries":"x"}', "Invalid request body"),
    ("/v1/checkpoint", b'{"event":{"data":{"body":"!!"}}}', "Invalid request body"),
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
        # PoolManager: urllib3 1.26 (tox's py310) has no module-level request().
        reply = urllib3.PoolManager().request(
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
