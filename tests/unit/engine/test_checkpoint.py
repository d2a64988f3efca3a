"""Async checkpointing (``POST /v1/checkpoint/{runID}/async``), as the dev server answers it.

An SDK that checkpoints runs several steps in one call and reports each to the engine while
the call goes on: the steps are memoized (no further call runs them), shown in the run's
trace and not in its history. Bodies and refusals are the dev server's (measured).
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import shutil
import subprocess
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait
from test_parallel_once import js_app_dir, ledger_entries, listening  # noqa: F401

from inngest.experimental.dev_server import free_ports
from inngest._engine.http.server import DevServer

pytestmark = pytest.mark.timeout(120)
JsApp = typing.Tuple[int, str, pathlib.Path]  # engine port, app URL, ledger

TRACE = """query($id: String!) { runTrace(runID: $id) { childrenSpans {
  name status stepOp attempts childrenSpans { name } } } }"""
DURATIONS = """query($id: String!) { runTrace(runID: $id) { childrenSpans {
  name stepOp duration } } }"""
HISTORY = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  history { type stepName } } }"""


def checkpoint(client: Client, run_id: str, *steps: dict[str, typing.Any],
               path_run_id: str = "ignored") -> tuple[int, bytes]:
    return client.request_raw("POST", f"/v1/checkpoint/{path_run_id}/async", {
        "run_id": run_id, "fn_id": "4f1c0477-0191-5e15-baea-5a4228596b21", "qi_id": "x",
        "steps": list(steps), "ts": 1,
    })


def gql(client: Client, query: str, run_id: str) -> typing.Any:
    status, body = client.request("POST", "/v0/gql", {"query": query,
                                                      "variables": {"id": run_id}})
    assert status == 200 and "errors" not in body, body
    return body["data"]


def checkpointing_app(client: Client, app: FakeApp,
                      answers: list[tuple[int, bytes]]) -> dict[str, typing.Any]:
    """A function whose first call checkpoints steps "a" and "b" and then returns."""

    def handler(call: Call) -> Reply:
        run_id = call.body["ctx"]["run_id"]
        answers.append(checkpoint(client, run_id, op("StepRun", "a", data="a-done"),
                                  op("Step", "b", data={"raw": 1})))
        saved = call.body["steps"]
        return ops(op("RunComplete", "complete", data={"saved": sorted(saved)}))

    return app.function("cp", handler=handler)


def test_checkpointed_steps_are_saved_without_another_call(client: Client,
                                                           app: FakeApp) -> None:
    answers: list[tuple[int, bytes]] = []
    client.register(app, [checkpointing_app(client, app, answers)])
    [event_id] = client.send({"name": "test/cp", "data": {}})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed", run
    assert answers == [(200, b"")]
    assert len(app.posts()) == 1
    run_id = run["run_id"]
    status, actions = client.request("GET", f"/v0/runs/{run_id}/actions")
    assert actions == {step_hash("a"): {"data": "a-done"}, step_hash("b"): {"raw": 1}}
    history = gql(client, HISTORY, run_id)["functionRun"]["history"]
    assert [item["type"] for item in history] == [
        "FunctionScheduled", "FunctionStarted", "StepStarted", "StepCompleted",
        "FunctionCompleted"]
    spans = gql(client, TRACE, run_id)["runTrace"]["childrenSpans"]
    steps = [span for span in spans if span["stepOp"] == "RUN"]
    assert steps == [{"name": name, "status": "COMPLETED", "stepOp": "RUN", "attempts": 0,
                      "childrenSpans": []} for name in ("a", "b")]


def test_a_checkpointed_step_span_has_a_duration(client: Client, app: FakeApp) -> None:
    """The dev server times a checkpointed step's span (its duration is not null), as it
    times a step's attempt (measured with the JS SDK v4, tests/differential)."""
    client.register(app, [checkpointing_app(client, app, [])])
    [event_id] = client.send({"name": "test/cp", "data": {}})
    run_id = client.wait_for_run(event_id)["run_id"]
    spans = gql(client, DURATIONS, run_id)["runTrace"]["childrenSpans"]
    steps = [span for span in spans if span["stepOp"] == "RUN"]
    assert [span["name"] for span in steps] == ["a", "b"]
    assert all(isinstance(span["duration"], int) and span["duration"] >= 0
               for span in steps), steps


def test_a_step_saved_before_keeps_its_value(client: Client, app: FakeApp) -> None:
    answers: list[tuple[int, bytes]] = []
    client.register(app, [checkpointing_app(client, app, answers)])
    [event_id] = client.send({"name": "test/cp", "data": {}})
    run_id = client.wait_for_run(event_id)["run_id"]
    # The run has ended: its state is gone, as on the dev server.
    assert checkpoint(client, run_id, op("StepRun", "a", data="again")) == (400, (
        b'{"error":"run not found in state store","data":{"run_id":"%s"},"status":400,'
        b'"code":"bad_request","message":"run not found in state store"}\n'
        % run_id.encode()))
    assert client.request("GET", f"/v0/runs/{run_id}/actions")[1][step_hash("a")] == \
        {"data": "a-done"}


def test_refused_checkpoints_of_a_running_run(client: Client, app: FakeApp) -> None:
    seen: list[tuple[int, typing.Any]] = []

    def handler(call: Call) -> Reply:
        run_id = call.body["ctx"]["run_id"]
        for steps in ([op("Sleep", "s")], [{"id": "x"}], [op("RunComplete", "c")],
                      [op("StepPlanned", "p")],
                      [op("StepRun", "first", data=1), op("RunComplete", "c")],
                      [op("StepRun", "first", data=2)]):
            status, body = checkpoint(client, run_id, *steps)
            seen.append((status, body and json.loads(body)["error"]))
        return ok("done")

    client.register(app, [app.function("cp", handler=handler)])
    [event_id] = client.send({"name": "test/cp", "data": {}})
    run_id = client.wait_for_run(event_id)["run_id"]
    assert seen == [
        (400, "cannot checkpoint async steps"), (400, "cannot checkpoint async steps"),
        (400, "cannot checkpoint opcode: RunComplete"), (200, b""),
        (400, "cannot checkpoint opcode: RunComplete"), (200, b""),
    ]
    # A step before a refused op stays saved; a second save keeps the first value.
    assert client.request("GET", f"/v0/runs/{run_id}/actions")[1] == \
        {step_hash("first"): {"data": 1}}


@pytest.mark.parametrize(("body", "status", "answer"), [
    (b"", 400, {"error": "invalid request body: EOF", "data": None}),
    (b"[]", 400, {"error": "invalid request body: json: cannot unmarshal array into Go value"
                           " of type apiv1.checkpointAsyncSteps", "data": None}),
    (b"{}", 400, {"error": "run not found in state store",
                  "data": {"run_id": "00000000000000000000000000"}}),
    (b'{"run_id":"x"}', 400, {
        "error": "invalid request body: ulid: bad data size when unmarshaling", "data": None}),
    (b'{"run_id":"81M8P6E4Z9W4CQE0CJ3368VTG1"}', 400, {
        "error": "invalid request body: ulid: overflow when unmarshaling", "data": None}),
    (b'{"run_id":5}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "checkpointAsyncSteps.run_id of type ulid.ULID", "data": None}),
    (b'{"fn_id":""}', 400, {"error": "invalid request body: invalid UUID length: 0",
                            "data": None}),
    (b'{"steps":{}}', 400, {
        "error": "invalid request body: json: cannot unmarshal object into Go struct field "
                 "checkpointAsyncSteps.steps of type []state.GeneratorOpcode", "data": None}),
    (b'{"steps":[1]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "checkpointAsyncSteps.steps of type state.GeneratorOpcode", "data": None}),
    (b'{"steps":[{"op":"Bogus"}]}', 400, {
        "error": "invalid request body: Bogus does not belong to Opcode values", "data": None}),
    (b'{"steps":[{"op":5}]}', 400, {
        "error": "invalid request body: Opcode should be a string, got 5", "data": None}),
    (b'{"steps":[{"op":"StepRun","id":5}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "GeneratorOpcode.steps.id of type string", "data": None}),
    (b'{"ts":"x"}', 400, {
        "error": "invalid request body: json: cannot unmarshal string into Go struct field "
                 "checkpointAsyncSteps.ts of type int", "data": None}),
    (b'{"run_id":"01M8P6E4Z9W4CQE0CJ3368VTG1"}', 400, {
        "error": "run not found in state store",
        "data": {"run_id": "01M8P6E4Z9W4CQE0CJ3368VTG1"}}),
    # Measured in a sweep of hostile bodies: all were accepted.
    (b'{"steps":[{"op":null}]}', 400, {
        "error": "invalid request body:  does not belong to Opcode values", "data": None}),
    (b'{"generation_id":9223372036854775808}', 400, {
        "error": "invalid request body: json: cannot unmarshal number 9223372036854775808 into "
                 "Go struct field checkpointAsyncSteps.generation_id of type int", "data": None}),
    # Measured: -0 is an int's 0 to Go's decoder (read on to the run), -0.0 is not.
    (b'{"ts":-0,"generation_id":-0}', 400, {
        "error": "run not found in state store",
        "data": {"run_id": "00000000000000000000000000"}}),
    (b'{"ts":-0.0}', 400, {
        "error": "invalid request body: json: cannot unmarshal number -0.0 into Go struct field "
                 "checkpointAsyncSteps.ts of type int", "data": None}),
    # Measured: the number as written, not as a float prints it.
    (b'{"ts":1e2}', 400, {
        "error": "invalid request body: json: cannot unmarshal number 1e2 into Go struct field "
                 "checkpointAsyncSteps.ts of type int", "data": None}),
    (b'{"generation_id":-1E-7}', 400, {
        "error": "invalid request body: json: cannot unmarshal number -1E-7 into Go struct "
                 "field checkpointAsyncSteps.generation_id of type int", "data": None}),
    (b'{"ts":-9223372036854775809}', 400, {
        "error": "invalid request body: json: cannot unmarshal number -9223372036854775809 into"
                 " Go struct field checkpointAsyncSteps.ts of type int", "data": None}),
    (b'{"steps":[{"op":"StepRun","timing":"x"}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal string into Go struct field "
                 "GeneratorOpcode.steps.timing of type interval.Interval", "data": None}),
    (b'{"steps":[{"op":"StepRun","timing":{"a":"x"}}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal string into Go struct field "
                 "Interval.steps.timing.a of type int64", "data": None}),
    (b'{"steps":[{"op":"StepRun","error":5}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "GeneratorOpcode.steps.error of type state.UserError", "data": None}),
    (b'{"steps":[{"op":"StepRun","error":{"name":5}}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "UserError.steps.error.name of type string", "data": None}),
    (b'{"steps":[{"op":"StepRun","userland":5}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 'GeneratorOpcode.steps.userland of type struct { ID string "json:\\"id\\""; '
                 'Index int "json:\\"index,omitempty\\"" }', "data": None}),
    (b'{"steps":[{"op":"StepRun","metadata":[5]}]}', 400, {
        "error": "invalid request body: json: cannot unmarshal number into Go struct field "
                 "GeneratorOpcode.steps.metadata of type metadata.ScopedUpdate", "data": None}),
])
def test_bodies_are_read_as_the_dev_server_reads_them(
        client: Client, body: bytes, status: int, answer: dict[str, typing.Any]) -> None:
    got_status, got = client.request("POST", "/v1/http/runs/01M8P6E4Z9W4CQE0CJ3368VTG1/async",
                                     body)
    assert got_status == status
    assert {key: got[key] for key in ("error", "data", "status")} == {**answer,
                                                                      "status": status}
    assert got["code"] == "bad_request"


# The official JS SDK, with checkpointing on


@pytest.fixture(scope="module")
def checkpoint_app(js_app_dir: pathlib.Path,  # noqa: F811
                   tmp_path_factory: pytest.TempPathFactory) -> typing.Iterator[JsApp]:
    engine_port, app_port = free_ports(2)
    ledger = tmp_path_factory.mktemp("js_checkpoint") / "ledger.jsonl"
    env = {**os.environ, "PORT": str(app_port), "JS_APP_LEDGER": str(ledger),
           "INNGEST_BASE_URL": f"http://127.0.0.1:{engine_port}", "INNGEST_DEV": "1"}
    node = subprocess.Popen([str(shutil.which("node")), "checkpoint.mjs"], cwd=js_app_dir,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: listening(app_port), 15)
        yield engine_port, f"http://127.0.0.1:{app_port}/api/inngest", ledger
    finally:
        node.terminate()
        node.wait(10)


@pytest.mark.parametrize(("event", "data", "calls"), [
    ("js/checkpoint", {}, 1),
    ("js/checkpoint-buffer", {}, 1),
    ("js/checkpoint", {"sleep": "1s"}, 2),
])
def test_js_sdk_checkpointing_runs_its_steps_in_one_call(
        checkpoint_app: JsApp, event: str, data: dict[str, str],
        calls: int) -> None:
    engine_port, url, ledger = checkpoint_app
    with DevServer(port=engine_port, poll=False, retry_interval=0.05, sdk_urls=[url]) as dev:
        api = Client(dev)
        wait(lambda: api.request("GET", "/dev")[1]["functions"], 15)
        [event_id] = api.send({"name": event, "data": data})
        run = api.wait_for_run(event_id, timeout=30)
        assert run["status"] == "Completed", run
        assert run["output"] == {"a": "a-done", "b": "b-done", "c": "c-done"}
        run_id = run["run_id"]
        history = gql(api, HISTORY, run_id)["functionRun"]["history"]
        spans = gql(api, TRACE, run_id)["runTrace"]["childrenSpans"]
    # Each step body ran once, and without the checkpoint API it would take a call each.
    counts = collections.Counter(entry["step"] for entry in ledger_entries(ledger)
                                 if entry["run"] == run_id)
    assert counts == {"a": 1, "b": 1, "c": 1, "call": calls}
    assert [item["stepName"] for item in history if item["type"] == "StepCompleted"] == \
        ["step"] * calls
    assert [(span["name"], span["status"]) for span in spans if span["stepOp"] == "RUN"] == \
        [("a", "COMPLETED"), ("b", "COMPLETED"), ("c", "COMPLETED")]
