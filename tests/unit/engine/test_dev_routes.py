"""The dev server's own routes: the Prometheus scrape at ``/metrics``, the test hooks
``/fn/step-limit`` and ``/fn/state-size-limit`` and GraphQL over ``GET`` (the answers are
compared with the dev server's in tests/differential/cases_dev_api.py)."""

from __future__ import annotations

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops

LOOPBACK = True


def depth(client: Client) -> int:
    status, text = client.request_raw("GET", "/metrics")
    assert status == 200
    [line] = [line for line in text.decode().splitlines() if not line.startswith("#")]
    name, value = line.split(" ")
    assert name == "inngest_queue_depth"
    return int(value)


def test_the_queue_depth_counts_a_sleeping_runs_wake_up(client: Client, app: FakeApp) -> None:
    def sleeps(call: Call) -> Reply:
        return ok(1) if call.body["steps"] else ops(op("Sleep", "nap", opts={"duration": "1h"}))

    client.register(app, [app.function("fn", handler=sleeps)])
    assert depth(client) == 0
    [event_id] = client.send({"name": "test/fn"})
    run_id = str(client.wait_for_run(event_id, "Running")["run_id"])
    client.wait(lambda: depth(client) == 1 or None)
    assert client.request("DELETE", f"/v1/runs/{run_id}")[0] == 200
    client.wait(lambda: depth(client) == 0 or None)


def test_a_step_limit_override_fails_the_next_step_and_goes_with_delete(
        client: Client, app: FakeApp) -> None:
    def two_steps(call: Call) -> Reply:
        done = call.body["steps"]
        if len(done) == 2:
            return ok("done")
        return ops(op("StepRun", f"s{len(done)}", data=len(done)))

    client.register(app, [app.function("fn", handler=two_steps)])
    [fn] = client.request("GET", "/v1/apps/app/functions")[1]
    query = f"functionId={fn['internal_id']}"
    assert client.request_raw("POST", f"/fn/step-limit?{query}&limit=1") == (200, b"")
    [event_id] = client.send({"name": "test/fn"})
    failed = client.wait_for_run(event_id, "Failed")
    assert failed["output"]["error"] == {
        "error": "function has too many steps", "name": "InngestErrFunctionOverflowed",
        "message": "The function run exceeded the step limit of 1 steps."}
    assert len(app.posts()) == 1  # the run has its one step: the app is not called again
    assert client.request_raw("DELETE", f"/fn/step-limit?{query}") == (200, b"")
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id, "Completed")["output"] == "done"


def test_a_query_sent_by_get_runs_and_a_mutation_is_refused(client: Client) -> None:
    assert client.request("GET", "/v0/gql?query=%7B__typename%7D") == \
        (200, {"data": {"__typename": "Query"}})
    status, body = client.request("GET", "/v0/gql?query=mutation%7BdeleteApp(id:%22x%22)%7D")
    assert (status, body["errors"]) == \
        (406, [{"message": "GET requests only allow query operations"}])
    status, body = client.request("GET", "/v0/gql?query=%7B__typename%7D&variables=%5B%5D")
    assert (status, body["errors"]) == (400, [{"message": "variables could not be decoded"}])
