"""``functionRun { history }``: the items a run records, in the Inngest server's order and shape.

The expected sequences were read off the real dev server (same functions, same replies).
"""

from __future__ import annotations

import json
import pathlib
import typing

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait
from test_graphql import data, run_id_for, wait_for_status

from inngest._engine.server import DevServer

HISTORY = """query H($id: ID!) { functionRun(query: {functionRunId: $id}) { history {
  id attempt type stepName stepType createdAt functionVersion groupID url
  cancel { eventID expression userID }
  result { durationMS sdkLanguage sdkVersion sizeBytes }
  sleep { until } waitForEvent { eventName expression timeout } waitResult { eventID timeout }
  invokeFunction { eventID functionID correlationID timeout }
  invokeFunctionResult { eventID timeout runID } } } }"""
OUTPUT = """query O($id: ID!, $item: ULID!) {
  functionRun(query: {functionRunId: $id}) { historyItemOutput(id: $item) } }"""


def history(client: Client, run_id: str) -> list[dict[str, typing.Any]]:
    return list(data(client, HISTORY, id=run_id)["functionRun"]["history"])


def outline(items: list[dict[str, typing.Any]]) -> list[tuple[str, int, str | None]]:
    return [(item["type"], item["attempt"], item["stepName"]) for item in items]


def output(client: Client, run_id: str, item: dict[str, typing.Any]) -> str:
    return str(data(client, OUTPUT, id=run_id, item=item["id"])["functionRun"][
        "historyItemOutput"])


def flaky_then_sleep(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("first") not in steps:
        return ops(op("StepRun", "first", data={"n": 1}))
    if step_hash("flaky") not in steps:
        if call.body["ctx"]["attempt"] == 0:
            return ops(op("StepError", "flaky", error={"name": "Error", "message": "not yet"}))
        return ops(op("StepRun", "flaky", data="ok"))
    if step_hash("nap") not in steps:
        return ops(op("Sleep", "nap", opts={"duration": "10ms"}))
    return ok({"done": True})


def test_steps_retries_and_sleep(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=flaky_then_sleep)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    items = history(client, run_id)
    assert outline(items) == [
        ("FunctionScheduled", 0, None), ("FunctionStarted", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "first"), ("StepScheduled", 0, None),
        ("StepStarted", 0, "step"), ("StepErrored", 0, "step"), ("StepScheduled", 1, "step"),
        ("StepStarted", 1, "step"), ("StepCompleted", 1, "flaky"), ("StepScheduled", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"), ("StepSleeping", 0, "nap"),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"),
        ("FunctionCompleted", 0, None),
    ]
    assert [item["stepType"] for item in items if item["stepName"] in ("first", "flaky")] == [
        "Run", "Run"]
    assert len({item["id"] for item in items}) == len(items)
    assert all(item["createdAt"].endswith("Z") and item["functionVersion"] == 1
               and item["groupID"] for item in items)
    started = items[2]
    assert started["url"] == f"{app.url}?fnId=app-fn&stepId=step"
    completed = items[3]
    assert completed["result"]["sdkLanguage"] == "sync"
    assert completed["result"]["sdkVersion"] == "v0.1.0"
    assert completed["result"]["sizeBytes"] > 0
    assert json.loads(output(client, run_id, completed)) == {"data": {"n": 1}}
    assert json.loads(output(client, run_id, items[6])) == {"name": "Error", "message": "not yet"}
    assert items[13]["sleep"]["until"].endswith("Z")
    assert items[-1]["result"]["sdkLanguage"] == ""
    assert json.loads(output(client, run_id, items[-1])) == {"done": True}
    assert output(client, run_id, items[0]) == ""


def test_failed_function_attempts(client: Client, app: FakeApp) -> None:
    error = {"name": "Error", "message": "always"}
    client.register(app, [app.function("fn", retries=1,
                                       handler=lambda call: (500, {}, error))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    items = history(client, run_id)
    assert outline(items) == [
        ("FunctionScheduled", 0, None), ("FunctionStarted", 0, None),
        ("StepStarted", 0, "step"), ("StepErrored", 0, "step"), ("StepScheduled", 1, "step"),
        ("StepStarted", 1, "step"), ("StepFailed", 1, "step"), ("FunctionFailed", 1, None),
    ]
    assert json.loads(output(client, run_id, items[-1])) == error


def wait_then_invoke(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("wait") not in steps:
        return ops(op("WaitForEvent", "wait", name="test/never",
                      opts={"event": "test/never", "timeout": "10ms"}))
    if step_hash("call") not in steps:
        return ops(op("InvokeFunction", "call", opts={
            "function_id": "app-child", "payload": {"data": {"x": 5}}}))
    return ok(steps[step_hash("call")])


def test_wait_and_invoke(client: Client, app: FakeApp) -> None:
    client.register(app, [
        app.function("fn", handler=wait_then_invoke),
        app.function("child", handler=lambda call: ok({"child": call.body["event"]["data"]["x"]})),
    ])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    items = history(client, run_id)
    assert outline(items) == [
        ("FunctionScheduled", 0, None), ("FunctionStarted", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"), ("StepWaiting", 0, "wait"),
        ("StepCompleted", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"), ("StepInvoking", 0, "call"),
        ("StepCompleted", 0, "call"),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"),
        ("FunctionCompleted", 0, None),
    ]
    waiting = items[4]["waitForEvent"]
    assert waiting["eventName"] == "test/never" and waiting["expression"] is None
    assert waiting["timeout"].endswith("Z")
    assert items[5]["waitResult"] == {"eventID": None, "timeout": True}
    invoking = items[8]["invokeFunction"]
    assert invoking["functionID"] == "app-child"
    assert invoking["correlationID"] == f"{run_id}.{step_hash('call')}"
    child_runs = data(client, """query Q($id: ID!) { event(query: {eventId: $id}) {
        name functionRuns { id } } }""", id=invoking["eventID"])["event"]
    assert child_runs["name"] == "inngest/function.invoked"
    result = items[9]["invokeFunctionResult"]
    assert result["timeout"] is False and result["eventID"]
    assert result["runID"] == child_runs["functionRuns"][0]["id"]
    assert json.loads(output(client, run_id, items[9])) == {"child": 5}


def test_cancelled_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(lambda: outline(history(client, run_id))[-1:] == [("StepSleeping", 0, "long")])
    data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    items = history(client, run_id)
    assert outline(items)[-2:] == [("StepSleeping", 0, "long"), ("FunctionCancelled", 0, None)]
    assert items[-1]["cancel"] == {"eventID": None, "expression": None, "userID": None}


def test_history_survives_a_restart(tmp_path: pathlib.Path, app: FakeApp) -> None:
    with DevServer(port=0, poll=False, persist=True, sqlite_dir=str(tmp_path)) as first:
        client = Client(first)
        client.register(app, [app.function("fn", handler=lambda call: ok(1))])
        [event_id] = client.send({"name": "test/fn"})
        run_id = run_id_for(client, event_id)
        wait_for_status(client, run_id, "COMPLETED")
        before = history(client, run_id)
    with DevServer(port=0, poll=False, persist=True, sqlite_dir=str(tmp_path)) as second:
        assert history(Client(second), run_id) == before
    assert outline(before)[-1] == ("FunctionCompleted", 0, None)
