"""``functionRun { history }``: the items a run records, in the Inngest server's order and shape.

``golden/real_server_history.json`` holds what the real dev server recorded for the same four
functions (see its ``_produced_by``); each test replays one of them with a fake SDK app and
compares item types, attempts, step names and which fields are set.
"""

from __future__ import annotations

import json
import pathlib
import random
import threading
import typing
import uuid

import pytest

from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash, wait
from test_graphql import data, run_id_for, wait_for_status

from inngest._engine.history import _group, interpolate
from inngest._engine.span_metadata import call_entries
from inngest._loopback import LoopbackTransport
from inngest._transport import Timing

LOOPBACK = True

HISTORY = """query H($id: ID!) { functionRun(query: {functionRunId: $id}) { history {
  id attempt type stepName stepType createdAt functionVersion groupID url
  cancel { eventID expression userID }
  result { durationMS sdkLanguage sdkVersion sizeBytes }
  sleep { until } waitForEvent { eventName expression timeout } waitResult { eventID timeout }
  invokeFunction { eventID functionID correlationID timeout }
  invokeFunctionResult { eventID timeout runID } } } }"""
OUTPUT = """query O($id: ID!, $item: ULID!) {
  functionRun(query: {functionRunId: $id}) { historyItemOutput(id: $item) } }"""


GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "real_server_history.json")
                    .read_text())


def reduced(items: list[dict[str, typing.Any]]) -> list[list[typing.Any]]:
    """The golden file's form of history items: no ids, times or sizes."""
    return [[item["type"], item["attempt"], item["stepName"], item["stepType"],
             sorted(key for key, value in item.items() if value is not None)] for item in items]


def history(client: Client, run_id: str) -> list[dict[str, typing.Any]]:
    return list(data(client, HISTORY, id=run_id)["functionRun"]["history"])


def outline(items: list[dict[str, typing.Any]]) -> list[tuple[str, int, str | None]]:
    return [(item["type"], item["attempt"], item["stepName"]) for item in items]


def output(client: Client, run_id: str, item: dict[str, typing.Any]) -> str:
    return str(data(client, OUTPUT, id=run_id, item=item["id"])["functionRun"][
        "historyItemOutput"])


def stored_compact_items(client: Client, run_id: str) -> list[dict[str, typing.Any]]:
    """The run's history items as the store keeps them, checked to be compact JSON (as
    ``json.dumps`` writes them, keys in their order)."""
    store = typing.cast(LoopbackDev, client.dev).engine.store
    texts = [str(row[0]) for row in store._rows(
        "SELECT data FROM history WHERE run_id = ? ORDER BY seq", run_id)]
    items = [json.loads(text) for text in texts]
    assert texts == [json.dumps(item, separators=(",", ":"), ensure_ascii=False)
                     for item in items]
    return items


def flaky_then_sleep(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("first") not in steps:
        return ops(op("StepRun", "first", data={"n": 1}))
    if step_hash("flaky") not in steps:
        if call.body["ctx"]["attempt"] < 2:
            # What the SDK sends for a RetryAfterError raised in the step, as when the
            # golden history was recorded: the function's error, not a StepError op.
            return 500, {}, {"name": "Error", "message": "not yet"}
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
    assert reduced(items) == GOLDEN["steps"]
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
    assert items[16]["sleep"]["until"].endswith("Z")
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
    assert reduced(items) == GOLDEN["fails"]
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
    assert reduced(items) == GOLDEN["waits"]
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


def step_then_sleep(call: Call) -> Reply:
    if step_hash("before") not in call.body["steps"]:
        return ops(op("StepRun", "before", data=1))
    return ops(op("Sleep", "long", opts={"duration": "1h"}))


def test_cancelled_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=step_then_sleep)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(lambda: outline(history(client, run_id))[-1:] == [("StepSleeping", 0, "long")])
    client.settle()
    data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    items = history(client, run_id)
    assert reduced(items) == GOLDEN["cancel"]
    assert items[-1]["cancel"] == {"eventID": None, "expression": None, "userID": None}


def test_history_survives_a_restart(tmp_path: pathlib.Path, app: FakeApp,
                                    loopback: LoopbackTransport) -> None:
    db_path = str(tmp_path / "main.db")
    with LoopbackDev(loopback, db_path=db_path) as first:
        client = Client(first)
        client.register(app, [app.function("fn", handler=lambda call: ok(1))])
        [event_id] = client.send({"name": "test/fn"})
        run_id = run_id_for(client, event_id)
        wait_for_status(client, run_id, "COMPLETED")
        before = history(client, run_id)
    with LoopbackDev(loopback, db_path=db_path) as second:
        assert history(Client(second), run_id) == before
    assert outline(before)[-1] == ("FunctionCompleted", 0, None)


def parallel(call: Call) -> Reply:
    replies = {step_hash("pa"): ops(op("StepRun", "pa", data=1)),
               step_hash("pb"): ops(op("StepRun", "pb", data=2))}
    if call.step_id in replies:
        return replies[call.step_id]
    if all(step in call.body["steps"] for step in replies):
        return ok(3)
    return ops(op("StepPlanned", "pa"), op("StepPlanned", "pb"))


def test_parallel_steps(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=parallel)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    items = history(client, run_id)
    assert outline(items)[3:6] == [
        ("StepCompleted", 0, "step"), ("StepScheduled", 0, "pa"), ("StepScheduled", 0, "pb")]
    assert sorted(name for kind, _, name in outline(items) if kind == "StepCompleted") == [
        "pa", "pb", "step", "step"]
    assert {item["url"] for item in items if item["type"] == "StepStarted"} == {
        f"{app.url}?fnId=app-fn&stepId=step"}
    spans = data(client, """query T($id: String!) { run(runID: $id) { trace {
        childrenSpans { name status stepOp } } } }""", id=run_id)["run"]["trace"]
    assert spans["childrenSpans"] == [
        {"name": "pa", "status": "COMPLETED", "stepOp": "RUN"},
        {"name": "pb", "status": "COMPLETED", "stepOp": "RUN"},
        {"name": "function success", "status": "COMPLETED", "stepOp": None}]


def test_cancelled_by_an_event(client: Client, app: FakeApp) -> None:
    cancel = [{"event": "test/cancel", "if": "async.data.id == event.data.id"}]
    client.register(app, [app.function("fn", handler=step_then_sleep, cancel=cancel)])
    [event_id] = client.send({"name": "test/fn", "data": {"id": "a"}})
    run_id = run_id_for(client, event_id)
    wait(lambda: outline(history(client, run_id))[-1:] == [("StepSleeping", 0, "long")])
    client.settle()
    [cancel_id] = client.send({"name": "test/cancel", "data": {"id": "a"}})
    wait_for_status(client, run_id, "CANCELLED")
    assert history(client, run_id)[-1]["cancel"] == {
        "eventID": cancel_id, "expression": 'async.data.id == "a"', "userID": None}


def test_cancel_expression_shows_the_trigger_values() -> None:
    event = {"data": {"id": "a", "n": 3, "nested": {"ok": True}}}
    assert interpolate(
        'async.data.id == event.data.id && "event.data.id" != event.data.n'
        " && event.data.nested.ok && event.data.missing == 1 && myevent.data.id", event,
    ) == ('async.data.id == "a" && "event.data.id" != 3'
          " && true && event.data.missing == 1 && myevent.data.id")


def test_step_error_names_the_step(client: Client, app: FakeApp) -> None:
    """A StepError op names its step in StepErrored and in the retry's StepScheduled; the
    StepFailed op of the last attempt is listed as a StepCompleted of "step" (as the real
    server lists them for an app of this SDK, see tests/differential)."""

    def handler(call: Call) -> Reply:
        if step_hash("bad") not in call.body["steps"]:
            kind = "StepFailed" if call.body["ctx"]["attempt"] else "StepError"
            return ops(op(kind, "bad", error={"name": "Error", "message": "no"}))
        return ok("caught")

    client.register(app, [app.function("fn", retries=1, handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    assert outline(history(client, run_id))[2:7] == [
        ("StepStarted", 0, "step"), ("StepErrored", 0, "bad"), ("StepScheduled", 1, "bad"),
        ("StepStarted", 1, "step"), ("StepCompleted", 1, "step")]


def test_step_error_outputs_are_listed_as_the_real_server_lists_them(
    client: Client, app: FakeApp
) -> None:
    """Measured on the real server (a step raising ValueError, retries=1): a retried step's
    error is listed by name, message and stack under "error", its last attempt with no
    output; the function's own failure keeps the error as the SDK sent it."""
    error = {"name": "ValueError", "message": "no", "stack": "trace", "code": "unknown"}

    def handler(call: Call) -> Reply:
        if step_hash("bad") in call.body["steps"]:  # the SDK raises the step's error
            return 500, {}, {**error, "code": "step_errored"}
        kind = "StepFailed" if call.body["ctx"]["attempt"] else "StepError"
        return ops(op(kind, "bad", error=error))

    client.register(app, [app.function("fn", retries=1, handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    outputs = {(item["type"], item["stepName"]): output(client, run_id, item)
               for item in history(client, run_id)}
    assert json.loads(outputs["StepErrored", "bad"]) == {
        "error": {"name": "ValueError", "message": "no", "stack": "trace"}}
    assert outputs["StepCompleted", "step"] == ""
    assert json.loads(outputs["FunctionFailed", None])["code"] == "step_errored"


def test_an_invoke_that_times_out_is_not_named(client: Client, app: FakeApp) -> None:
    """As a wait that times out: the real server names the step only when an event ends it."""

    def handler(call: Call) -> Reply:
        if step_hash("call") not in call.body["steps"]:
            return ops(op("InvokeFunction", "call", opts={
                "function_id": "app-child", "payload": {"data": {}}, "timeout": "10ms"}))
        return ok("done")

    client.register(app, [app.function("fn", handler=handler),
                          app.function("child", [], handler=lambda call: ops(
                              op("Sleep", "nap", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    ended = [item for item in history(client, run_id) if item["invokeFunctionResult"]]
    assert [(item["type"], item["stepName"]) for item in ended] == [("StepFailed", None)]
    assert ended[0]["invokeFunctionResult"]["timeout"] is True


def test_a_plan_dropped_is_not_listed_again(client: Client, app: FakeApp) -> None:
    """Request version 1: once pa is done the SDK is asked again while pb still runs, and
    plans both again; the server drops both plans and lists neither again."""
    app.sdk_headers["x-inngest-req-version"] = "1"
    asked_again = threading.Event()

    def handler(call: Call) -> Reply:
        if call.step_id == step_hash("pb"):
            asked_again.wait(5)  # pb is in flight while the SDK plans it again
        elif step_hash("pa") in call.body["steps"]:
            asked_again.set()
        return parallel(call)

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    assert sorted(name for kind, _, name in outline(history(client, run_id))
                  if kind == "StepScheduled" and name) == ["pa", "pb"]


@pytest.mark.parametrize("parts", [("01M8N31RFTK7XRXX9CKN3B75HJ",), ("01M8N31RFT", 121),
                                   ("r\u00e9", "\U0001f600", None)])
def test_group_ids_are_uuid5_of_the_joined_parts(parts: tuple[object, ...]) -> None:
    name = ":".join(map(str, parts))
    assert _group(*parts) == str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def test_reply_items_are_stored_as_compact_json_in_the_order_of_their_fields(
        client: Client, app: FakeApp) -> None:
    """A call's items are written from parts (its StepStarted written out, its reply's
    response headers' text kept between replies): the stored text is still each item's
    compact JSON, a reply's response after its metadata and before the fields its outcome
    adds."""
    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("a") not in steps:
            return ops(op("StepRun", "a", data={"n": "<1>"}, opts={"type": "step"}))
        if call.body["ctx"]["attempt"] == 0:
            return ops(op("StepError", "b", error={"name": "Error", "message": "again"}))
        return 400, {"x-inngest-no-retry": "true"}, {"name": "Error", "message": "stop"}

    client.register(app, [app.function("fn", retries=2, handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    items = stored_compact_items(client, run_id)
    head = ["id", "type", "attempt", "createdAt", "functionVersion", "groupID", "stepName",
            "url", "result", "output", "metadata", "response"]
    replies = [list(item) for item in items if "response" in item]
    assert replies == [head + ["stepType", "stepID", "runType"],
                       head + ["stepID"],
                       head + ["nonRetriable"]]
    assert [list(item) for item in items if item["type"] == "StepStarted"] == 3 * [[
        "id", "type", "attempt", "createdAt", "functionVersion", "groupID", "output", "url",
        "stepName"]]
    assert items[3]["response"]["statusCode"] == 206
    assert items[3]["output"] == '{"data":{"n":"\\u003c1\\u003e"}}'  # as Go writes it
    assert items[3]["result"]["sdkLanguage"] == "sync"


def test_a_completed_reply_item_is_stored_as_compact_json(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok({"done": "\"<\u00e9>"}))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    items = stored_compact_items(client, run_id)
    [reply] = [item for item in items if "response" in item]
    assert list(reply)[-3:] == ["output", "metadata", "response"]
    assert json.loads(reply["output"]) == {"done": "\"<\u00e9>"}


@pytest.mark.parametrize("reply, status, kind", [
    (ok({"done": "\"<\u00e9>\u2028"}), "COMPLETED", "FunctionCompleted"),
    ((400, {"x-inngest-no-retry": "true"}, {"name": "Error", "message": "<stop\u00e9>"}),
     "FAILED", "FunctionFailed"),
])
def test_the_end_item_of_a_run_that_ends_on_a_call_is_stored_as_compact_json(
        client: Client, app: FakeApp, reply: Reply, status: str, kind: str) -> None:
    """The run's end item, written out from parts when the run ends on its SDK call: its
    fields in their order, its output as the run lists it, the call's result (no SDK)."""
    client.register(app, [app.function("fn", handler=lambda call: reply)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, status)
    items = stored_compact_items(client, run_id)
    [end] = [item for item in items if item["type"] == kind]
    [started] = [item for item in items if item["type"] == "StepStarted"]
    assert list(end) == ["id", "type", "attempt", "createdAt", "functionVersion", "groupID",
                         "output", "result"]
    assert end["groupID"] == started["groupID"] and end["attempt"] == 0
    assert list(end["result"]) == ["durationMS", "errorCode", "framework", "platform",
                                   "sdkLanguage", "sdkVersion", "sizeBytes"]
    assert end["result"]["sdkLanguage"] == end["result"]["sdkVersion"] == ""
    assert end["result"]["sizeBytes"] > 0 and end["result"]["durationMS"] >= 0
    store = typing.cast(LoopbackDev, client.dev).engine.store
    run = store.run(run_id)
    assert run is not None and end["output"] == run.listed_output()
    assert "\\u003c" in json.dumps(end["output"])  # as Go writes the output


def test_call_metadata_text_is_the_json_of_its_entries() -> None:
    """A call's metadata is stored from the text written out beside its entries."""
    chooser = random.Random(7)
    for _ in range(2000):
        timing = None if chooser.random() < 0.3 else Timing(
            *(chooser.choice([0.0, chooser.random() * 3, -0.001]) for _ in range(6)))
        due = chooser.randint(0, 10**13)
        started = due + chooser.randint(-5, 5000)
        held = None if chooser.random() < 0.5 else started - chooser.randint(-3, 100)
        metadata = call_entries(timing, due_ms=due, held_ms=held, started_ms=started,
                                now_ms=started + chooser.randint(0, 9))
        assert metadata.text == json.dumps(metadata.entries, separators=(",", ":"))
