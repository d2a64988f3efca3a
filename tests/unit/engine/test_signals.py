"""step.waitForSignal and ``POST /v1/signals``, as the real server answers them."""

from __future__ import annotations

import typing

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait

from inngest._engine.clock import ManualClock

LOOPBACK = True

CONFLICT = "Signal conflict; signal wait already exists for another run"


def signal_waiter(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("sig") in steps:
        return ok({"got": steps[step_hash("sig")]})
    data = call.body["event"]["data"]
    return ops(op("WaitForSignal", "sig", opts={"signal": data["signal"], "timeout": "10s",
                                                **data.get("opts", {})}))


def send_signal(client: Client, body: typing.Any) -> tuple[int, typing.Any]:
    return client.request("POST", "/v1/signals", body)


def waiting_run(client: Client, app: FakeApp, signal: str, **opts: str) -> str:
    [event_id] = client.send({"name": "test/fn", "data": {"signal": signal, "opts": opts}})
    wait(lambda: client.runs(event_id))
    run_id = client.runs(event_id)[0]["run_id"]
    store = client.dev.engine.store
    wait(lambda: any(pause.run_id == run_id for pause in store.pauses_for(signal, 2**62)))
    return event_id


def test_a_signal_resumes_the_waiting_run_once(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=signal_waiter)])
    status, body = send_signal(client, {"signal": "order-1", "data": {"x": 1}})
    assert status == 404 and body["error"] == "No signal found"

    event_id = waiting_run(client, app, "order-1")
    status, body = send_signal(client, {"signal": "order-1", "data": {"x": 1}})
    run = client.wait_for_run(event_id)
    assert status == 200 and body["data"] == {"run_id": run["run_id"]}
    assert run["output"] == {"got": {"data": {"data": {"x": 1}, "signal": "order-1"}}}
    assert send_signal(client, {"signal": "order-1"})[0] == 404


def test_a_signal_wait_times_out_with_null(manual: Client, clock: ManualClock,
                                           app: FakeApp) -> None:
    manual.register(app, [app.function("fn", handler=signal_waiter)])
    event_id = waiting_run(manual, app, "late")
    clock.advance(11)
    assert manual.wait_for_run(event_id)["output"] == {"got": None}
    assert send_signal(manual, {"signal": "late"})[0] == 404


def test_a_second_wait_for_a_held_signal_fails_its_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=signal_waiter)])
    first = waiting_run(client, app, "shared")
    [second] = client.send({"name": "test/fn", "data": {"signal": "shared"}})
    run = client.wait_for_run(second)
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": f"Error: {CONFLICT}", "name": "Error",
                                       "message": CONFLICT}}
    send_signal(client, {"signal": "shared", "data": 1})
    assert client.wait_for_run(first)["output"]["got"]["data"]["data"] == 1


def test_replace_moves_the_signal_to_the_new_wait(manual: Client, clock: ManualClock,
                                                  app: FakeApp) -> None:
    manual.register(app, [app.function("fn", handler=signal_waiter)])
    first = waiting_run(manual, app, "shared")
    second = waiting_run(manual, app, "shared", conflict="replace")
    status, body = send_signal(manual, {"signal": "shared", "data": "hi"})
    run = manual.wait_for_run(second)
    assert status == 200 and body["data"]["run_id"] == run["run_id"]
    assert run["output"] == {"got": {"data": {"data": "hi", "signal": "shared"}}}
    assert manual.runs(first)[0]["status"] == "Running"
    # The replaced wait only times out.
    clock.advance(11)
    assert manual.wait_for_run(first)["output"] == {"got": None}


def test_signal_requests_that_cannot_match(client: Client) -> None:
    assert send_signal(client, b"not json") == (400, {
        "error": "Invalid signal data", "status": 400, "code": "bad_request",
        "message": "Invalid signal data"})
    assert send_signal(client, {"signal": 5})[0] == 400
    # The dev server answers these 500; a missing name is the client's mistake.
    message = "Failed to receive signal: signal must not be empty"
    for request in ({"data": 1}, {"signal": ""}, {"signal": None}):
        assert send_signal(client, request) == (400, {
            "error": message, "status": 400, "code": "bad_request", "message": message})


def test_an_event_named_like_a_signal_does_not_resume_it(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=signal_waiter)])
    event_id = waiting_run(client, app, "test/lookalike")
    client.send({"name": "test/lookalike"})
    assert send_signal(client, {"signal": "test/lookalike", "data": 2})[0] == 200
    assert client.wait_for_run(event_id)["output"]["got"]["data"]["data"] == 2


WAIT_SPANS = """query($id: String!, $legacy: ID!) {
  functionRun(query: {functionRunId: $legacy}) { history { type stepName } }
  runTrace(runID: $id) { childrenSpans { name status stepOp outputID stepInfo {
    __typename ... on WaitForSignalStepInfo { signal timedOut } } } }
  run(runID: $id) { trace { childrenSpans { name stepOp stepInfo {
    __typename ... on WaitForSignalStepInfo { signal timedOut } } } } } }"""


def _wait_spans(client: Client, event_id: str) -> dict[str, typing.Any]:
    run_id = client.runs(event_id)[0]["run_id"]
    status, body = client.request("POST", "/v0/gql", {
        "query": WAIT_SPANS, "variables": {"id": run_id, "legacy": run_id}})
    assert status == 200 and "errors" not in body, body
    return dict(body["data"])


def test_a_signal_wait_is_listed_and_traced_as_the_server_does(
        client: Client, app: FakeApp) -> None:
    # Measured: a StepWaiting item, then a StepCompleted named after the step; a span of
    # kind WAIT_FOR_SIGNAL with WaitForSignalStepInfo, waiting, then completed.
    client.register(app, [app.function("fn", handler=signal_waiter)])
    event_id = waiting_run(client, app, "traced")
    [waiting] = [span for span in _wait_spans(client, event_id)["runTrace"]["childrenSpans"]
                 if span["stepOp"] == "WAIT_FOR_SIGNAL"]
    info = {"__typename": "WaitForSignalStepInfo", "signal": "traced", "timedOut": None}
    assert waiting == {"name": "sig", "status": "WAITING", "stepOp": "WAIT_FOR_SIGNAL",
                       "outputID": None, "stepInfo": info}
    send_signal(client, {"signal": "traced", "data": {"x": 1}})
    client.wait_for_run(event_id)
    found = _wait_spans(client, event_id)
    history = [(item["type"], item["stepName"]) for item in found["functionRun"]["history"]]
    assert ("StepWaiting", "sig") in history and ("StepCompleted", "sig") in history
    [ended] = [span for span in found["runTrace"]["childrenSpans"] if span["name"] == "sig"]
    assert ended["status"] == "COMPLETED" and ended["outputID"] is not None
    assert ended["stepInfo"] == {**info, "timedOut": False}
    [page] = found["run"]["trace"]["childrenSpans"][:1]
    assert page == {"name": "sig", "stepOp": "WAIT_FOR_SIGNAL",
                    "stepInfo": {**info, "timedOut": False}}


def test_a_timed_out_signal_wait_shows_no_output(manual: Client, clock: ManualClock,
                                                 app: FakeApp) -> None:
    manual.register(app, [app.function("fn", handler=signal_waiter)])
    event_id = waiting_run(manual, app, "never")
    clock.advance(11)
    manual.wait_for_run(event_id)
    found = _wait_spans(manual, event_id)
    history = [(item["type"], item["stepName"]) for item in found["functionRun"]["history"]]
    assert ("StepCompleted", None) in history  # measured: unnamed, as a wait's timeout
    [ended] = [span for span in found["runTrace"]["childrenSpans"] if span["name"] == "sig"]
    assert (ended["outputID"], ended["stepInfo"]["timedOut"]) == (None, True)
