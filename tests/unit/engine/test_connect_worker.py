"""A worker of the official JS SDK that uses ``connect()`` (tests/js_app/connect.mjs) syncs
its app through the engine's connect gateway and runs its functions over that WebSocket:
steps, a sleep, a failing step retried, a non-retriable error. The outputs and step spans
are the real dev server's for the same worker."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import shutil
import subprocess
import threading
import typing

import pytest
from engine_fakes import Client

from inngest._engine.http.server import DevServer

JS_APP_DIR = pathlib.Path(__file__).resolve().parents[2] / "js_app"
TRACE = """query Q($id: String!) { run(runID: $id) { status output
  trace { childrenSpans { name status stepOp attempts } } } }"""

pytestmark = pytest.mark.timeout(120)


class Worker(typing.NamedTuple):
    client: Client
    output: list[str]


@pytest.fixture(scope="module")
def worker() -> typing.Iterator[Worker]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the JS SDK worker in tests/js_app")
    if not (JS_APP_DIR / "node_modules" / "inngest").is_dir():
        pytest.skip("tests/js_app/node_modules is missing (run npm ci in tests/js_app)")
    dev = DevServer(port=0, poll=False, retry_interval=0.05)
    dev.start()
    env = {**os.environ, "INNGEST_BASE_URL": dev.url, "CONNECT_INSTANCE_ID": "test-worker"}
    process = subprocess.Popen([node, "--experimental-websocket", "connect.mjs"],
                               cwd=JS_APP_DIR, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            while not lines.get(timeout=30).startswith("ready"):
                pass
        except queue.Empty:
            pytest.fail("the worker did not connect:\n" + "".join(output))
        yield Worker(Client(dev), output)
    finally:
        process.terminate()
        process.wait(10)
        dev.stop()


def trace(client: Client, run_id: str) -> dict[str, typing.Any]:
    status, body = client.request("POST", "/v0/gql", {"query": TRACE,
                                                      "variables": {"id": run_id}})
    assert status == 200, body
    return dict(body["data"]["run"])


def spans(run: dict[str, typing.Any]) -> list[tuple[str, str, str | None, int]]:
    return [(span["name"], span["status"], span["stepOp"], span["attempts"])
            for span in run["trace"]["childrenSpans"]]


def test_the_worker_syncs_its_app_through_its_connection(worker: Worker) -> None:
    query = "{ apps { externalID url method sdkLanguage sdkVersion functionCount } }"
    status, body = worker.client.request("POST", "/v0/gql", {"query": query})
    assert status == 200, body
    assert body["data"]["apps"] == [{
        "externalID": "js-connect", "url": "ws://connect?app_name=js-connect",
        "method": "CONNECT", "sdkLanguage": "typescript", "sdkVersion": "v3.54.2",
        "functionCount": 2,
    }]
    status, functions = worker.client.request("GET", "/v1/apps/js-connect/functions")
    assert status == 200
    # The real server's ids for these functions (derived from their names and URLs).
    assert {fn["id"]: fn["internal_id"] for fn in functions} == {
        "js-connect-steps": "a4c275e1-f800-5e09-983f-b8f346feb8c3",
        "js-connect-fail": "98503dae-d4ec-52f4-a2c1-abdca7b6beff",
    }


def test_steps_and_a_sleep_run_over_the_connection(worker: Worker) -> None:
    [event_id] = worker.client.send({"name": "connect/steps", "data": {"n": 5, "sleep": "1s"}})
    run = worker.client.wait_for_run(event_id, timeout=30)
    assert run["status"] == "Completed", (run, "".join(worker.output))
    assert run["output"] == {"doubled": 10, "result": 11}
    assert spans(trace(worker.client, run["run_id"]))[:3] == [
        ("double", "COMPLETED", "RUN", 0), ("nap", "COMPLETED", "SLEEP", 0),
        ("add", "COMPLETED", "RUN", 0),
    ]


def test_a_failing_step_is_retried_over_the_connection(worker: Worker) -> None:
    [event_id] = worker.client.send({"name": "connect/fail", "data": {}})
    run = worker.client.wait_for_run(event_id, timeout=30)
    assert run["status"] == "Completed", (run, "".join(worker.output))
    assert run["output"] == "recovered"
    assert spans(trace(worker.client, run["run_id"]))[0] == ("flaky", "COMPLETED", "RUN", 1)


def test_a_non_retriable_error_fails_the_run(worker: Worker) -> None:
    [event_id] = worker.client.send({"name": "connect/fail",
                                     "data": {"fatal": True, "message": "boom"}})
    run = worker.client.wait_for_run(event_id, timeout=30)
    assert run["status"] == "Failed", (run, "".join(worker.output))
    traced = trace(worker.client, run["run_id"])
    error = json.loads(traced["output"])
    assert (error["name"], error["message"]) == ("Error", "boom")
    assert error["stack"].startswith("NonRetriableError: boom")
    assert spans(traced)[0] == ("flaky", "COMPLETED", "RUN", 1)


def test_the_worker_is_listed_with_the_dev_servers_worker_group(worker: Worker) -> None:
    # The real server's hash of this worker's app (its SDK, functions and version).
    group = "7bcc9f4765e94275abcbe55e9fc848dca4a3b2b8071f5563f299ee2cd27fc605"
    query = """{ workerConnections(orderBy: [], filter: {}) { edges { node {
        instanceId status groupHash appName sdkLang sdkVersion functionCount } } } }"""
    status, body = worker.client.request("POST", "/v0/gql", {"query": query})
    assert status == 200, body
    assert [edge["node"] for edge in body["data"]["workerConnections"]["edges"]] == [{
        "instanceId": "test-worker", "status": "READY", "groupHash": group,
        "appName": "js-connect", "sdkLang": "typescript", "sdkVersion": "v3.54.2",
        "functionCount": 2}]
    status, listed = worker.client.request("GET", "/v0/connect/envs/dev/conns")
    assert status == 200
    assert [conn["all_worker_groups"] for conn in listed["data"]] == [{"js-connect": group}]
