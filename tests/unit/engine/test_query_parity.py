"""Traces, events and the REST v1 API answer as the Inngest dev server does.

The expected trees, fields and error bodies were read off the real dev server running the same
kinds of functions (see docs/compatibility.md, "Engine", for what still differs).
"""

from __future__ import annotations

import json
import re
import time
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, list_runs, ok, op, ops, step_hash, wait
from test_graphql import data, gql, run_id_for, wait_for_status
from test_parallel_once import JsApp, js_app, js_app_dir  # noqa: F401 (fixtures)

from inngest._engine.clock import ManualClock
from inngest._engine.http.server import DevServer

LOOPBACK = True

SPAN = "name status stepOp stepID attempts outputID isRoot duration"
TRACE = """query T($id: String!) {
  run(runID: $id) { eventName sourceID hasAI trace { %s childrenSpans { %s
    childrenSpans { %s } } } }
  runTrace(runID: $id) { name outputID childrenSpans { name } } }""" % (SPAN, SPAN, SPAN)
OUTPUT = """query O($id: String!) {
  runTraceSpanOutputByID(outputID: $id) { data input error { message name } } }"""
ERROR = {"name": "Error", "message": "not yet"}


def trace(client: Client, run_id: str) -> dict[str, typing.Any]:
    return dict(data(client, TRACE, id=run_id))


def shape(span: dict[str, typing.Any]) -> list[typing.Any]:
    return [span["name"], span["status"], span["stepOp"], span["attempts"],
            [shape(child) for child in span.get("childrenSpans") or []]]


def span_output(client: Client, output_id: str) -> dict[str, typing.Any]:
    return dict(data(client, OUTPUT, id=output_id)["runTraceSpanOutputByID"])


def flaky(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("first") not in steps:
        return ops(op("StepRun", "first", data={"n": 1}))
    if step_hash("flaky") not in steps:
        if call.body["ctx"]["attempt"] < 2:
            return ops(op("StepError", "flaky", error=ERROR))
        return ops(op("StepRun", "flaky", data="ok"))
    if step_hash("nap") not in steps:
        return ops(op("Sleep", "nap", opts={"duration": "10ms"}))
    return ok({"done": True})


def test_trace_of_retried_step_and_sleep(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=flaky)])
    [event_id] = client.send({"name": "test/fn", "data": {"k": 1}})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    found = trace(client, run_id)
    run = found["run"]
    assert (run["eventName"], run["sourceID"], run["hasAI"]) == (None, None, False)
    [listed] = list_runs(client, "id eventName output")
    assert listed == {"id": run_id, "eventName": "test/fn", "output": None}
    root = run["trace"]
    assert shape(root) == ["app-fn", "COMPLETED", None, 0, [
        ["first", "COMPLETED", "RUN", 0, []],
        ["flaky", "COMPLETED", "RUN", 2, [
            ["Attempt 0", "FAILED", "RUN", 0, []], ["Attempt 1", "FAILED", "RUN", 1, []],
            ["Attempt 2", "COMPLETED", "RUN", 2, []]]],
        ["nap", "COMPLETED", "SLEEP", 0, []],
        ["function success", "COMPLETED", None, 0, []],
    ]]
    assert root["isRoot"] is True and root["duration"] >= 0
    first, retried, nap, end = root["childrenSpans"]
    assert first["stepID"] == step_hash("first") and retried["stepID"] is None
    assert retried["childrenSpans"][2]["stepID"] == step_hash("flaky")
    assert nap["outputID"] is None
    assert span_output(client, first["outputID"]) == {
        "data": '{"n":1}', "input": None, "error": None}
    failed = span_output(client, retried["childrenSpans"][0]["outputID"])
    assert failed == {"data": None, "input": None, "error": ERROR}
    assert span_output(client, retried["childrenSpans"][2]["outputID"])["data"] == '"ok"'
    success = span_output(client, end["outputID"])
    assert json.loads(success["data"]) == {"done": True}
    # Measured: only the raw trace's root shows the run's events as its input.
    assert success["input"] is None
    assert span_output(client, root["outputID"])["input"] is None
    raw_root = span_output(client, found["runTrace"].pop("outputID"))
    assert json.loads(raw_root["data"]) == {"done": True}
    [sent] = json.loads(raw_root["input"])
    assert list(sent) == ["id", "name", "data", "ts"] and sent["data"] == {"k": 1}
    # runTrace is the raw tree the real server stores: a step span and one span per attempt
    # of it, then the function's own call summed up (Finalization) and itself.
    assert found["runTrace"] == {"name": "Run", "childrenSpans": [{"name": name} for name in (
        "first", "first", "flaky", "flaky", "flaky", "flaky", "nap", "Finalization",
        "executor.nonstep")]}


def test_trace_of_failed_function(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", retries=1, handler=lambda call: (500, {}, ERROR))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    root = trace(client, run_id)["run"]["trace"]
    assert shape(root) == ["app-fn", "FAILED", None, 0, [
        ["execute", "FAILED", None, 2, [
            ["Attempt 0", "FAILED", None, 0, []], ["Attempt 1", "FAILED", None, 1, []]]]]]
    for attempt in root["childrenSpans"][0]["childrenSpans"]:
        assert span_output(client, attempt["outputID"])["error"] == ERROR
    assert span_output(client, root["outputID"])["error"] == ERROR


def test_cancelled_run_keeps_its_sleep_span(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(lambda: shape(trace(client, run_id)["run"]["trace"])[4] == [
        ["long", "WAITING", "SLEEP", 0, []]])
    data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    root = trace(client, run_id)["run"]["trace"]
    # Measured: the sleep shows its one attempt, running.
    assert shape(root) == ["app-fn", "CANCELLED", None, 0, [
        ["long", "RUNNING", "SLEEP", 0, [["Attempt 0", "RUNNING", "SLEEP", 0, []]]]]]
    assert root["outputID"] is None


def test_queued_run_shows_a_queued_step(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    later = int(time.time() * 1000) + 3_600_000
    [event_id] = client.send({"name": "test/fn", "ts": later})
    root = trace(client, run_id_for(client, event_id))["run"]["trace"]
    assert shape(root) == ["app-fn", "QUEUED", None, 0, [["Queued step", "QUEUED", None, 0, []]]]
    assert root["childrenSpans"][0]["outputID"] is None
    assert not app.posts()


def test_run_trace_of_unknown_run_is_an_error(client: Client) -> None:
    body = gql(client, '{ runTrace(runID: "01HZZZZZZZZZZZZZZZZZZZZZZZ") { name } }')
    assert body["errors"][0]["message"] == "run not found"


def test_event_fields_and_events_list(client: Client, app: FakeApp) -> None:
    client.register(app, [
        app.function("bad", [{"event": "test/both"}], retries=0,
                     handler=lambda call: (500, {}, ERROR)),
        app.function("slow", [{"event": "test/both"}],
                     handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"}))),
    ])
    [first, second] = client.send({"name": "test/other", "data": {"a": 1}},
                                  {"name": "test/both", "data": {"b": 2}, "id": "my-id"})
    query = """query E($id: ID!) { event(query: {eventId: $id}) {
        id externalID name payload raw schema status totalRuns pendingRuns } }"""

    def partially_failed() -> dict[str, typing.Any] | None:
        event = data(client, query, id=second)["event"]
        return event if event["status"] == "PARTIALLY_FAILED" else None

    event = wait(partially_failed)
    assert event["payload"] == '{"b":2}' and event["schema"] is None
    assert (event["id"], event["externalID"], event["name"]) == (second, "my-id", "test/both")
    assert list(json.loads(event["raw"])) == ["id", "name", "data", "ts"]
    assert (event["totalRuns"], event["pendingRuns"]) == (2, 1)
    other = data(client, query, id=first)["event"]
    assert (other["status"], other["totalRuns"]) == ("NO_FUNCTIONS", 0)
    listed = data(client, "{ events(query: {}) { id name payload } }")["events"]
    assert [e["id"] for e in listed[:2]] == [second, first]
    assert not [e for e in listed if e["name"].startswith("inngest/")]


def test_rest_events(client: Client, app: FakeApp) -> None:
    ids = client.send(*({"name": f"test/e{i % 2}", "data": {"i": i}} for i in range(4)))
    status, body = client.request("GET", f"/v1/events/{ids[0]}")
    assert status == 200 and set(body) == {"data", "metadata"}
    assert body["data"] == {
        "account_id": "00000000-0000-0000-0000-000000000000", "data": {"i": 0},
        "environment_id": "00000000-0000-0000-0000-000000000000", "id": ids[0],
        "internal_id": ids[0], "name": "test/e0", "received_at": body["data"]["received_at"],
        "source": "", "source_id": None, "ts": body["data"]["ts"],
    }
    status, body = client.request("GET", "/v1/events?name=test/e1&limit=1")
    assert status == 200 and [e["internal_id"] for e in body["data"]] == [ids[3]]
    assert set(body["metadata"]) == {"fetched_at"}
    status, body = client.request("GET", f"/v1/events?cursor={ids[2]}")
    assert [e["internal_id"] for e in body["data"]] == [ids[1], ids[0]]
    assert client.request("GET", "/v1/events?cursor=nope")[1]["error"] == (
        "Invalid cursor query parameter")
    # A part with a bad escape or a semicolon is left out, as Go's reader leaves it out.
    status, body = client.request("GET", "/v1/events?name=test/e0&cursor=%zz&limit=1;x")
    assert status == 200 and [e["internal_id"] for e in body["data"]] == [ids[2], ids[0]]


def test_rest_errors_have_the_server_shape(client: Client) -> None:
    missing = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    cases = [
        ("GET", f"/v1/runs/{missing}", 404, f"Unable to load function run: {missing}"),
        ("GET", "/v1/runs/nope", 400, "Invalid run ID: nope"),
        ("DELETE", f"/v1/runs/{missing}", 404, f"Unable to load function run: {missing}"),
        ("DELETE", "/v1/runs/nope", 400, "Invalid run ID: nope"),
        ("GET", f"/v1/events/{missing}", 404, "Event not found"),
        ("GET", "/v1/events/nope", 400, "Invalid event ID: nope"),
        ("GET", "/v1/events/nope/runs", 400, "Invalid event ID: nope"),
    ]
    for method, path, status, message in cases:
        got, body = client.request(method, path)
        assert (got, body["data"], body["error"], body["status"]) == (
            status, None, message, status), path
    assert client.request("GET", f"/v1/events/{missing}/runs")[1]["data"] == []


def test_rest_cancel_and_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(app.posts)
    assert client.request("DELETE", f"/v1/runs/{run_id}") == (200, None)
    run = client.run(run_id)
    assert run["status"] == "Cancelled" and run["output"] == {}
    assert run["function_version"] == 0 and "batch_id" not in run and "cron" not in run
    assert run["environment_id"] == "00000000-0000-4000-b000-000000000000"
    [listed] = client.runs(event_id)
    assert listed["environment_id"] == "00000000-0000-0000-0000-000000000000"
    assert client.request("DELETE", f"/v1/runs/{run_id}") == (200, None)


def test_legacy_function_run_fields(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    query = """query Q($id: ID!) { functionRun(query: {functionRunId: $id}) {
        status pendingSteps waitingFor { eventName } batchCreatedAt } }"""
    found = wait(lambda: data(client, query, id=run_id)["functionRun"]["pendingSteps"] == 1
                 and data(client, query, id=run_id)["functionRun"])
    assert found == {"status": "RUNNING", "pendingSteps": 1, "waitingFor": None,
                     "batchCreatedAt": None}
    client.settle()  # the engine is done with the app's reply: the run is asleep
    data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    assert data(client, query, id=run_id)["functionRun"]["pendingSteps"] == 0


RAW = """query R($id: String!) { runTrace(runID: $id) { name status stepOp
  childrenSpans { name status stepOp childrenSpans { name status stepOp } } } }"""


def raw_shape(span: dict[str, typing.Any]) -> list[typing.Any]:
    return [span["name"], span["status"], span["stepOp"],
            [raw_shape(child) for child in span.get("childrenSpans") or []]]


def raw_trace(client: Client, run_id: str) -> list[typing.Any]:
    return raw_shape(data(client, RAW, id=run_id)["runTrace"])


def test_run_trace_of_failed_function_sums_up_its_calls(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", retries=1, handler=lambda call: (500, {}, ERROR))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    assert raw_trace(client, run_id) == ["Run", "FAILED", None, [
        ["Finalization", "FAILED", None, [
            ["Attempt 0", "FAILED", None, []], ["Attempt 1", "FAILED", None, []]]],
        ["executor.nonstep", "FAILED", None, []], ["executor.nonstep", "FAILED", None, []]]]
    spans = data(client, RAW_OUTPUTS, id=run_id)["runTrace"]["childrenSpans"]
    for span in spans[1:]:
        assert span_output(client, span["outputID"])["error"] == ERROR


RAW_OUTPUTS = "query R($id: String!) { runTrace(runID: $id) { childrenSpans { name outputID } } }"


def test_run_trace_outputs_of_completed_calls(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=flaky)])
    [event_id] = client.send({"name": "test/fn", "data": {"k": 1}})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    spans = data(client, RAW_OUTPUTS, id=run_id)["runTrace"]["childrenSpans"]
    outputs = [span_output(client, span["outputID"]) if span["outputID"] else None
               for span in spans]
    # Measured: the Finalization span has no output, its call has the function's.
    assert [output and (output["data"], output["error"]) for output in outputs] == [
        ('{"n":1}', None), ('{"n":1}', None), ('"ok"', None), (None, ERROR), (None, ERROR),
        ('"ok"', None), None, None, ('{"done":true}', None)]


RAW_TYPES = """query R($id: String!) { runTrace(runID: $id) { childrenSpans {
  name stepType duration childrenSpans { name stepType duration } } } }"""


def types(span: dict[str, typing.Any]) -> list[typing.Any]:
    return [span["name"], span["stepType"], span["duration"] is not None,
            [types(child) for child in span.get("childrenSpans") or []]]


def test_run_trace_span_types_and_durations(client: Client, app: FakeApp) -> None:
    """Measured: a span is typed with its step kind (Finalization with FINALIZATION); a
    step's span and the Finalization span have no duration, their attempts and calls do."""
    client.register(app, [app.function("fn", retries=1, handler=fails_in_step)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    spans = data(client, RAW_TYPES, id=run_id)["runTrace"]["childrenSpans"]
    assert [types(span) for span in spans] == [
        ["bad", "RUN", False, [["Attempt 0", "RUN", True, []], ["Attempt 1", "", True, []]]],
        ["bad", "RUN", True, []], ["bad", "", True, []],
        ["Finalization", "FINALIZATION", False, []], ["executor.nonstep", "", True, []]]


def fails_in_step(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("bad") not in steps:
        kind = "StepFailed" if call.body["ctx"]["attempt"] else "StepError"
        return ops(op(kind, "bad", error=ERROR))
    return ok("caught")


def test_run_trace_of_step_that_fails_for_good(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", retries=1, handler=fails_in_step)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    # The last attempt, which failed the step for good, has no step kind on the real server.
    assert raw_trace(client, run_id) == ["Run", "COMPLETED", None, [
        ["bad", "FAILED", "RUN", [
            ["Attempt 0", "FAILED", "RUN", []], ["Attempt 1", "FAILED", None, []]]],
        ["bad", "FAILED", "RUN", []], ["bad", "FAILED", None, []],
        ["Finalization", "COMPLETED", None, []], ["executor.nonstep", "COMPLETED", None, []]]]
    # The run's page (measured, Python SDK): the step with no step kind, both attempts named.
    assert shape(trace(client, run_id)["run"]["trace"])[4] == [
        ["bad", "FAILED", None, 2, [
            ["Attempt 0", "FAILED", None, 0, []], ["Attempt 1", "FAILED", None, 1, []]]],
        ["function success", "COMPLETED", None, 0, []]]


def fails_at_once(call: Call) -> Reply:
    if step_hash("bad") not in call.body["steps"]:
        return ops(op("StepFailed", "bad", displayName="Bad step", error=ERROR))
    # The SDKs raise the step's error, not to be retried.
    return 500, {"x-inngest-no-retry": "true"}, ERROR


RAW_STEP = """query R($id: String!) { runTrace(runID: $id) { childrenSpans {
  name status stepOp stepID attempts stepInfo { __typename } outputID
  childrenSpans { name } } } }"""


def test_run_trace_of_step_that_fails_on_its_only_attempt(client: Client, app: FakeApp) -> None:
    """Measured (JS and Python SDKs, retries 0): the step's one failing attempt is a single
    span named after the step, with no step kind and no attempt spans."""
    client.register(app, [app.function("fn", retries=0, handler=fails_at_once)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    assert raw_trace(client, run_id) == ["Run", "FAILED", None, [
        ["Bad step", "FAILED", None, []],
        ["Finalization", "FAILED", None, [["Attempt 0", "FAILED", None, []]]],
        ["executor.nonstep", "FAILED", None, []]]]
    step = data(client, RAW_STEP, id=run_id)["runTrace"]["childrenSpans"][0]
    assert (step["stepID"], step["attempts"], step["stepInfo"]) == (step_hash("bad"), 0, None)
    assert span_output(client, step["outputID"])["error"] == ERROR
    # The run's page: the step and the function's error, each with its one attempt.
    page = trace(client, run_id)["run"]["trace"]
    assert shape(page) == ["app-fn", "FAILED", None, 0, [
        ["Bad step", "FAILED", None, 1, [["Attempt 0", "FAILED", None, 0, []]]],
        ["function error", "FAILED", None, 1, [["Attempt 0", "FAILED", None, 0, []]]]]]
    assert {page["childrenSpans"][0]["stepID"],
            page["childrenSpans"][0]["childrenSpans"][0]["stepID"]} == {step_hash("bad")}


def fails_in_step_for_good(call: Call) -> Reply:
    if step_hash("bad") in call.body["steps"]:
        return 500, {"x-inngest-no-retry": "true"}, ERROR
    return fails_in_step(call)


def test_run_page_of_a_step_that_fails_after_a_retry(client: Client, app: FakeApp) -> None:
    """Measured (JS SDK, retries 1): the function's error, not retried, shows the retry
    it would have had as queued."""
    client.register(app, [app.function("fn", retries=1, handler=fails_in_step_for_good)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "FAILED")
    assert shape(trace(client, run_id)["run"]["trace"]) == ["app-fn", "FAILED", None, 0, [
        ["bad", "FAILED", None, 2, [
            ["Attempt 0", "FAILED", None, 0, []], ["Attempt 1", "FAILED", None, 1, []]]],
        ["function error", "FAILED", None, 0, [
            ["Attempt 0", "FAILED", None, 0, []], ["Attempt 1", "QUEUED", None, 1, []]]]]]


@pytest.mark.sockets
@pytest.mark.timeout(60)
def test_run_trace_of_a_js_sdk_step_that_fails_on_its_only_attempt(
        js_app: JsApp) -> None:  # noqa: F811
    dev = DevServer(port=js_app.engine_port, poll=False, retry_interval=0.05,
                    sdk_urls=[js_app.urls["1"]])
    dev.start()
    try:
        api = Client(dev)
        wait(lambda: api.request("GET", "/dev")[1]["functions"], 15)
        [event_id] = api.send({"name": "js/fail", "data": {"in_step": True, "message": "no"}})
        run_id = api.wait_for_run(event_id, "Failed", timeout=30)["run_id"]
        assert raw_trace(api, run_id) == ["Run", "FAILED", None, [
            ["failing", "FAILED", None, []],
            ["Finalization", "FAILED", None, [["Attempt 0", "FAILED", None, []]]],
            ["executor.nonstep", "FAILED", None, []]]]
        assert shape(trace(api, run_id)["run"]["trace"])[4] == [
            ["failing", "FAILED", None, 1, [["Attempt 0", "FAILED", None, 0, []]]],
            ["function error", "FAILED", None, 1, [["Attempt 0", "FAILED", None, 0, []]]]]
    finally:
        dev.stop()


def nap_wait_invoke(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("nap") not in steps:
        return ops(op("Sleep", "nap", opts={"duration": "10ms"}))
    if step_hash("wait") not in steps:
        return ops(op("WaitForEvent", "wait", opts={"event": "test/never", "timeout": "20ms"}))
    if step_hash("call") not in steps:
        return ops(op("InvokeFunction", "call", opts={
            "function_id": "app-child", "payload": {"data": {}}}))
    return ok("done")


RAW_WAITS = """query R($id: String!) { runTrace(runID: $id) { childrenSpans {
  name status stepOp startedAt endedAt duration outputID } } }"""


def test_run_trace_of_sleeps_waits_and_invokes_that_ended(client: Client, app: FakeApp) -> None:
    """Measured: a sleep, wait or invoke that is over has its end (the sleep's, the wait's
    timeout, the invoked run's answer) and duration; a wait that timed out has no output."""
    client.register(app, [app.function("fn", handler=nap_wait_invoke),
                          app.function("child", [], handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    spans = {span["name"]: span
             for span in data(client, RAW_WAITS, id=run_id)["runTrace"]["childrenSpans"]}
    nap, wait, call = spans["nap"], spans["wait"], spans["call"]
    assert (nap["status"], nap["duration"], nap["outputID"]) == ("COMPLETED", 10, None)
    assert (wait["status"], wait["duration"], wait["outputID"]) == ("COMPLETED", 20, None)
    assert (call["status"], call["outputID"] is not None) == ("COMPLETED", True)
    assert call["endedAt"] is not None and call["duration"] is not None


def invoke_child(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("call") not in steps:
        return ops(op("InvokeFunction", "call", opts={
            "function_id": "app-child", "payload": {"data": {}}}))
    return ok(steps[step_hash("call")])


def test_run_trace_of_an_invoke_its_target_refused_at_once(
        client: Client, app: FakeApp) -> None:
    """Measured (differential ``flow_invoke_limited``): an invoke of a rate-limited function
    fails as soon as it is made, and its span still has its end, as on the dev server."""
    client.register(app, [app.function("fn", handler=invoke_child),
                          app.function("child", [], handler=lambda call: ok(1),
                                       rateLimit={"limit": 1, "period": "1h"})])
    for expected in ("COMPLETED", "FAILED"):
        [event_id] = client.send({"name": "test/fn"})
        run_id = run_id_for(client, event_id)
        wait_for_status(client, run_id, "COMPLETED")
        [call] = [span for span in data(client, RAW_WAITS, id=run_id)["runTrace"]["childrenSpans"]
                  if span["name"] == "call"]
        assert call["status"] == expected
        assert call["endedAt"] is not None and call["duration"] is not None


def test_run_trace_of_cancelled_sleep_is_waiting(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "long", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(lambda: raw_trace(client, run_id)[3] == [["long", "WAITING", "SLEEP", []]])
    data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    assert raw_trace(client, run_id) == ["Run", "CANCELLED", None, [
        ["long", "WAITING", "SLEEP", []]]]


TIMES = """query T($id: String!, $run: ID!, $event: ID!) {
  runTrace(runID: $id) { queuedAt startedAt endedAt childrenSpans {
    queuedAt startedAt endedAt childrenSpans { queuedAt startedAt endedAt } } }
  run(runID: $id) { queuedAt startedAt endedAt trace { queuedAt startedAt endedAt
    childrenSpans { queuedAt startedAt endedAt stepInfo { ... on SleepStepInfo {
      sleepUntil } } childrenSpans { queuedAt startedAt endedAt } } } }
  functionRun(query: {functionRunId: $run}) { startedAt finishedAt history { createdAt } }
  event(query: {eventId: $event}) { createdAt }
}"""
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def time_texts(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in time_texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in time_texts(item)]
    return [value] if isinstance(value, str) and _TIME.fullmatch(value) else []


def test_times_drop_trailing_zeros_as_the_dev_server_writes_them(
        manual: Client, clock: ManualClock, app: FakeApp) -> None:
    """Measured: the dev server writes GraphQL times as Go's RFC 3339 with nanoseconds, which
    drops a fraction's trailing zeros (``…:16Z``, ``…:16.1Z``)."""

    def steps(call: Call) -> Reply:
        clock.advance(0.1)
        return flaky(call)

    manual.register(app, [app.function("fn", handler=steps)])
    [event_id] = manual.send({"name": "test/fn"})
    run_id = run_id_for(manual, event_id)
    wait_for_status(manual, run_id, "COMPLETED")
    texts = time_texts(data(manual, TIMES, id=run_id, run=run_id, event=event_id))
    assert "2026-01-01T00:00:00Z" in texts and "2026-01-01T00:00:00.1Z" in texts
    assert [text for text in texts if re.search(r"\.\d*0Z$", text)] == []


def sends(call: Call) -> Reply:
    if step_hash("send") not in call.body["steps"]:
        return ops(op("StepRun", "send", data={"ids": ["x"]}, opts={"type": "step.sendEvent"}))
    return ok("sent")


def test_run_trace_types_a_step_with_the_kind_of_run_the_sdk_named(
        client: Client, app: FakeApp) -> None:
    """Measured (JS SDK, step.sendEvent): the call's span is typed with the op's
    ``opts.type``, which its step info shows too; the step's span keeps RUN."""
    client.register(app, [app.function("fn", handler=sends)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    query = """query R($id: String!) { runTrace(runID: $id) { childrenSpans {
      name stepType stepInfo { ... on RunStepInfo { type } } } } }"""
    spans = data(client, query, id=run_id)["runTrace"]["childrenSpans"]
    info = {"type": "step.sendEvent"}
    assert spans[:2] == [{"name": "send", "stepType": "RUN", "stepInfo": info},
                         {"name": "send", "stepType": "step.sendEvent", "stepInfo": info}]
