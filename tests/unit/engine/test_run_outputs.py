"""Run outputs as the real server stores them (read back over REST and GraphQL).

An SDK's output is re-encoded with sorted keys; errors the server itself raises sit under an
``error`` key. The strings are the ones the real server gives.
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait

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


def shown_outputs(client: Client, run_id: str) -> dict[str, typing.Any]:
    """The run's output as GraphQL shows it: on the run, in its history and its span."""
    status, body = client.request("POST", "/v0/gql", {"query": """
        query($id: String!, $run: ID!) {
          run(runID: $id) { output trace { outputID } }
          functionRun(query: {functionRunId: $run}) { history { id type } }
        }""", "variables": {"id": run_id, "run": run_id}})
    assert status == 200 and "errors" not in body, body
    [ended] = [item["id"] for item in body["data"]["functionRun"]["history"]
               if item["type"] in ("FunctionCompleted", "FunctionFailed")]
    status, more = client.request("POST", "/v0/gql", {"query": """
        query($id: ULID!, $run: ID!, $output: String!) {
          functionRun(query: {functionRunId: $run}) { historyItemOutput(id: $id) }
          runTraceSpanOutputByID(outputID: $output) { data error { message name stack } }
        }""", "variables": {"id": ended, "run": run_id,
                            "output": body["data"]["run"]["trace"]["outputID"]}})
    assert status == 200 and "errors" not in more, more
    return {"output": body["data"]["run"]["output"],
            "history": more["data"]["functionRun"]["historyItemOutput"],
            "span": more["data"]["runTraceSpanOutputByID"]}


@pytest.mark.parametrize("body", [b"Infinity", b"NaN", b'{"a":NaN}', b"not json <&>"])
def test_a_reply_that_is_not_json_is_shown_as_its_text(client: Client, app: FakeApp,
                                                       body: bytes) -> None:
    run = run_once(client, app, lambda call: (200, {}, body))
    text = body.decode()
    assert run["status"] == "Completed" and run["output"] == text
    assert shown_outputs(client, run["run_id"]) == {
        "output": text, "history": text, "span": {"data": text, "error": None}}


def test_the_text_infinity_and_the_json_string_infinity_differ(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [
        app.function("text", retries=0, handler=lambda call: (200, {}, b"Infinity")),
        app.function("json", retries=0, handler=lambda call: (200, {}, b'"Infinity"')),
    ])
    text, string = (client.wait_for_run(client.send({"name": f"test/{fn}"})[0])
                    for fn in ("text", "json"))
    assert text["output"] == string["output"] == "Infinity"  # REST cannot tell them apart
    assert shown_outputs(client, text["run_id"])["output"] == "Infinity"
    assert shown_outputs(client, string["run_id"]) == {
        "output": '"Infinity"', "history": '"Infinity"',
        "span": {"data": '"Infinity"', "error": None}}


@pytest.mark.parametrize(("body", "stack"), [
    (b"oops <&>", "oops <&>"),
    (b'"oops"', '"oops"'),
    (b"42", "42"),
    (b'{"name": "E", "stack": "s"}', '{"name":"E","stack":"s"}'),
])
def test_a_failure_without_a_message_shows_what_was_stored_as_its_stack(
    client: Client, app: FakeApp, body: bytes, stack: str
) -> None:
    run = run_once(client, app, lambda call: (500, {"x-inngest-no-retry": "true"}, body))
    assert run["status"] == "Failed"
    shown = shown_outputs(client, run["run_id"])
    name = "E" if body.startswith(b"{") else None
    assert shown["span"] == {"data": None, "error": {"message": "", "name": name,
                                                     "stack": stack}}
    assert shown["output"] == shown["history"] == stack


def test_lone_surrogates_in_a_reply_become_replacement_characters(
    client: Client, app: FakeApp
) -> None:
    """As the real server's decoder reads them: the run failed with an internal error (the
    store cannot hold them)."""
    def handler(call: Call) -> Reply:
        if not call.body["steps"]:
            return 206, {}, b'[{"op": "StepRun", "id": "%s", "name": "s", "data": "\\udc00"}]' % (
                step_hash("s").encode())
        return 200, {}, b'{"x": "\\ud800a", "\\udfff": [1]}'

    run = run_once(client, app, handler)
    assert run["status"] == "Completed"
    assert run["output"] == {"x": "\ufffda", "\ufffd": [1]}
    assert len(app.posts()) == 2
    assert app.posts()[1].body["steps"][step_hash("s")] == {"data": "\ufffd"}


@pytest.mark.parametrize("cause", [
    {"name": "Error", "message": "This is the cause", "stack": "c", "__serialized": True},
    "a plain cause",
])
def test_an_errors_cause_is_shown_as_it_was_sent(client: Client, app: FakeApp,
                                                 cause: typing.Any) -> None:
    """``StepError.cause`` is the server's ``Unknown`` scalar: the cause's JSON as it was
    sent, an object staying an object (JS SDK v4's example tests read it so)."""
    error = {"name": "Error", "message": "Oh no!", "stack": "s", "cause": cause}
    run = run_once(client, app, lambda call: (500, {"x-inngest-no-retry": "true"}, error))
    status, body = client.request("POST", "/v0/gql", {
        "query": "query($id: String!) { run(runID: $id) { trace { outputID } } }",
        "variables": {"id": run["run_id"]}})
    output_id = body["data"]["run"]["trace"]["outputID"]
    status, body = client.request("POST", "/v0/gql", {
        "query": "query($o: String!) { runTraceSpanOutputByID(outputID: $o) { error { "
                 "name message cause } } }", "variables": {"o": output_id}})
    assert status == 200 and "errors" not in body, body
    assert body["data"]["runTraceSpanOutputByID"]["error"] == {
        "name": "Error", "message": "Oh no!", "cause": cause}
