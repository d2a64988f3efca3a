"""Run outputs as the real server stores them (read back over REST and GraphQL).

An SDK's output is re-encoded with sorted keys; errors the server itself raises sit under an
``error`` key. The strings are the ones the real server gives.
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, wait

LOOPBACK = True


def gql_output(client: Client, run_id: str) -> tuple[str, str]:
    status, body = client.request("POST", "/v0/gql", {
        "query": "query($id: String!) { run(runID: $id) { status output } }",
        "variables": {"id": run_id},
    })
    assert status == 200, body
    return body["data"]["run"]["status"], body["data"]["run"]["output"]


def run_once(client: Client, app: FakeApp, handler: typing.Callable[[Call], Reply]
             ) -> dict[str, typing.Any]:
    client.register(app, [app.function("fn", retries=0, handler=handler)])
    return client.wait_for_run(client.send({"name": "test/fn"})[0])


def test_a_completed_output_is_stored_with_sorted_keys(client: Client, app: FakeApp) -> None:
    run = run_once(client, app, lambda call: ok({"b": 1, "a": {"d": [{"z": 1, "y": 2}], "c": 2}}))
    assert gql_output(client, run["run_id"]) == (
        "COMPLETED", '{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}')


def test_an_sdk_error_keeps_every_field_with_sorted_keys(client: Client, app: FakeApp) -> None:
    error = {"name": "TypeError", "message": "bad thing", "stack": "s", "__serialized": True}
    run = run_once(client, app, lambda call: (500, {}, error))
    assert run["output"] == error
    assert gql_output(client, run["run_id"]) == (
        "FAILED", '{"__serialized":true,"message":"bad thing","name":"TypeError","stack":"s"}')


@pytest.mark.parametrize("sleep", [
    {"opts": {"duration": "2030-01-01T00:00:00Z"}},
    {"name": "2030-01-01T00:00:00.000Z"},
    {"opts": {"duration": "400d"}},
])
def test_a_sleep_over_a_year_fails_the_run(client: Client, app: FakeApp,
                                           sleep: dict[str, typing.Any]) -> None:
    run = run_once(client, app, lambda call: ops(op("Sleep", "far", **sleep)))
    raw = sleep.get("opts", {}).get("duration") or sleep["name"]
    message = (f'The sleep "{raw}" ends more than one year in the future; '
               "sleeps may last at most one year.")
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": f"InngestErrTimeoutTooLong: {message}",
                                       "name": "InngestErrTimeoutTooLong", "message": message}}
    assert len(app.posts()) == 1


def test_a_wait_for_event_over_a_year_fails_the_run(client: Client, app: FakeApp) -> None:
    run = run_once(client, app, lambda call: ops(
        op("WaitForEvent", "w", opts={"event": "x/y", "timeout": "400d"})))
    message = ('The wait-for-event timeout "400d" expires more than one year in the future; '
               "timeouts may last at most one year.")
    assert gql_output(client, run["run_id"]) == ("FAILED", (
        '{"error":{"error":"InngestErrTimeoutTooLong: ' + message.replace('"', '\\"')
        + '","name":"InngestErrTimeoutTooLong","message":"' + message.replace('"', '\\"')
        + '"}}'))


def test_an_unknown_opcode_is_a_driver_error(client: Client, app: FakeApp) -> None:
    run = run_once(client, app, lambda call: ops({"op": "Nope", "id": "x"}))
    message = "error reading generator opcode response: Nope does not belong to Opcode values"
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": message, "name": "Error", "message": message}}


def test_the_failed_event_carries_the_error_an_engine_error_wraps(
    client: Client, app: FakeApp
) -> None:
    main = app.function("main", retries=0, handler=lambda call: ops(
        op("Sleep", "far", opts={"duration": "400d"})))
    trigger = {"event": "inngest/function.failed",
               "expression": "event.data.function_id == 'app-main'"}
    on_failure = app.function("main-failure", [trigger], handler=lambda call: ok(None))
    client.register(app, [main, on_failure])
    [event_id] = client.send({"name": "test/main"})
    failed = client.wait_for_run(event_id)
    [handler_call] = wait(lambda: app.posts("app-main-failure"))
    data = handler_call.body["event"]["data"]
    assert data["error"] == failed["output"]["error"]
    assert data["error"]["name"] == "InngestErrTimeoutTooLong"
