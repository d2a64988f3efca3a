"""JSON as the real server writes it (Go's encoding/json): compact, not ASCII-only, with
``<``, ``>``, ``&``, U+2028 and U+2029 escaped, in every answer and in the JSON texts it
re-encodes (outputs, event payloads, history, a step's output in the trace). The bytes are
the ones the real server gave for the same app and event."""

from __future__ import annotations

import typing

from engine_fakes import Call, Client, FakeApp, Reply, op, ops, step_hash

LOOPBACK = True

TEXT = "<a&b>\u2028\u2029é"
ESCAPED = "\\u003ca\\u0026b\\u003e\\u2028\\u2029é"


def handler(call: Call) -> Reply:
    if step_hash("s") not in call.body["steps"]:
        return ops(op("StepRun", "s", data=TEXT))
    return 200, {}, {"out": TEXT}


def run_id(client: Client, app: FakeApp) -> tuple[str, str]:
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn", "data": {"d": TEXT}})
    return event_id, client.wait_for_run(event_id, "Completed")["run_id"]


def gql(client: Client, query: str, **variables: object) -> dict[str, typing.Any]:
    status, answer = client.request("POST", "/v0/gql", {"query": query, "variables": variables})
    assert status == 200 and not answer.get("errors"), answer
    return typing.cast("dict[str, typing.Any]", answer["data"])


def test_rest_answers_are_written_as_go_writes_them(client: Client, app: FakeApp) -> None:
    event_id, run = run_id(client, app)
    status, body = client.request_raw("GET", f"/v1/runs/{run}")
    assert status == 200
    assert f',"output":{{"out":"{ESCAPED}"}}}},"metadata":'.encode() in body
    for path in (f"/v1/events/{event_id}", "/v1/events"):
        status, body = client.request_raw("GET", path)
        assert status == 200 and f'"data":{{"d":"{ESCAPED}"}}'.encode() in body
    assert body.endswith(b"}\n")  # REST answers end in a newline; GraphQL ones do not
    status, body = client.request_raw("POST", "/e/key", {"name": "test/other"})
    assert body.startswith(b'{"ids":["') and body.endswith(b'"],"status":200}\n')


def test_graphql_answers_escape_outside_and_inside_outputs(client: Client, app: FakeApp) -> None:
    event_id, run = run_id(client, app)
    query = "query($id: String!) { run(runID: $id) { output trace { childrenSpans { name } } } }"
    status, body = client.request_raw("POST", "/v0/gql", {"query": query,
                                                          "variables": {"id": run}})
    assert body == ('{"data":{"run":{"output":"{\\"out\\":\\"%s\\"}","trace":'
                    '{"childrenSpans":[{"name":"s"},{"name":"function success"}]}}}}'
                    % ESCAPED.replace("\\", "\\\\")).encode()


def test_run_outputs_and_history_are_re_encoded(client: Client, app: FakeApp) -> None:
    _, run = run_id(client, app)
    found = gql(client, "query($id: ID!) { functionRun(query: {functionRunId: $id}) "
                        "{ output history { id type } } }", id=run)["functionRun"]
    assert found["output"] == f'{{"out":"{ESCAPED}"}}'
    query = ("query($id: ULID!, $run: ID!) { functionRun(query: {functionRunId: $run}) "
             "{ historyItemOutput(id: $id) } }")
    ended = [item["id"] for item in found["history"]
             if item["type"] in ("StepCompleted", "FunctionCompleted")]
    outputs = [gql(client, query, id=item, run=run)["functionRun"]["historyItemOutput"]
               for item in ended]
    assert outputs == [f'{{"data":"{ESCAPED}"}}'] + [f'{{"out":"{ESCAPED}"}}'] * 2


def test_a_steps_span_output_is_re_encoded_as_go_writes_it(client: Client, app: FakeApp) -> None:
    _, run = run_id(client, app)
    trace = gql(client, "query($id: String!) { run(runID: $id) { trace { childrenSpans "
                        "{ outputID } } } }", id=run)["run"]["trace"]
    step, function = (span["outputID"] for span in trace["childrenSpans"])
    query = "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data } }"
    assert gql(client, query, id=step)["runTraceSpanOutputByID"]["data"] == f'"{ESCAPED}"'
    assert gql(client, query, id=function)["runTraceSpanOutputByID"]["data"] == (
        f'{{"out":"{ESCAPED}"}}')


def test_a_steps_span_output_lists_object_keys_sorted(client: Client, app: FakeApp) -> None:
    def answer(call: Call) -> Reply:
        if step_hash("s") not in call.body["steps"]:
            return ops(op("StepRun", "s", data={"z": "<", "a": [1, {"y": 2, "b": 3}]}))
        return 200, {}, None

    client.register(app, [app.function("fn", handler=answer)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id, "Completed")["run_id"]
    trace = gql(client, "query($id: String!) { run(runID: $id) { trace { childrenSpans "
                        "{ outputID } } } }", id=run)["run"]["trace"]
    query = "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data } }"
    step = trace["childrenSpans"][0]["outputID"]
    assert gql(client, query, id=step)["runTraceSpanOutputByID"]["data"] == (
        '{"a":[1,{"b":3,"y":2}],"z":"\\u003c"}')


def test_event_payloads_are_re_encoded(client: Client, app: FakeApp) -> None:
    event_id, run = run_id(client, app)
    event = gql(client, "query($id: ID!) { event(query: {eventId: $id}) { payload raw } }",
                id=event_id)["event"]
    assert event["payload"] == f'{{"d":"{ESCAPED}"}}'
    assert f'"data":{{"d":"{ESCAPED}"}}' in event["raw"]
    [listed] = [e["payload"] for e in gql(client, "{ events(query: {}) { name payload } }")[
        "events"] if e["name"] == "test/fn"]
    assert listed == event["payload"]
    [payload] = gql(client, "query($id: String!) { runTrigger(runID: $id) { payloads } }",
                    id=run)["runTrigger"]["payloads"]
    assert f'"data":{{"d":"{ESCAPED}"}}' in payload
