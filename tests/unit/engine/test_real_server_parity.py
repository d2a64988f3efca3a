"""Answers the real Inngest dev server gives, found by the differential suite
(tests/differential), checked here without the real server."""

from __future__ import annotations

import typing

from engine_fakes import Client, FakeApp, ok, op, ops, step_hash


def data(client: Client, query: str, **variables: object) -> dict[str, typing.Any]:
    status, answer = client.request("POST", "/v0/gql", {"query": query, "variables": variables})
    assert status == 200 and not answer.get("errors"), answer
    return typing.cast("dict[str, typing.Any]", answer["data"])


OUTPUT = "query($id: String!) { run(runID: $id) { status output } }"


def test_run_output_lists_object_keys_sorted(client: Client, app: FakeApp) -> None:
    returned = {"z": 1, "a": {"y": [{"d": 1, "c": 2}], "b": None}}
    client.register(app, [app.function("fn", handler=lambda call: ok(returned))])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id, "Completed")
    answer = data(client, OUTPUT, id=run["run_id"])["run"]
    assert answer["output"] == '{"a":{"b":null,"y":[{"c":2,"d":1}]},"z":1}'


def test_failed_and_run_complete_outputs_are_sorted_too(client: Client, app: FakeApp) -> None:
    def fails(call: object) -> object:
        return 400, {"x-inngest-no-retry": "true"}, {"stack": "s", "name": "E", "message": "m"}

    def completes(call: typing.Any) -> object:
        if step_hash("s") not in call.body["steps"]:
            return ops(op("StepRun", "s", data=1))
        return ops({"op": "RunComplete", "id": "done", "data": {"b": 1, "a": 2}})

    client.register(app, [app.function("fails", handler=fails),
                          app.function("completes", handler=completes)])
    [failed, completed] = client.send({"name": "test/fails"}, {"name": "test/completes"})
    failed_id = client.wait_for_run(failed, "Failed")["run_id"]
    completed_id = client.wait_for_run(completed, "Completed")["run_id"]
    assert data(client, OUTPUT, id=failed_id)["run"]["output"] == (
        '{"message":"m","name":"E","stack":"s"}')
    assert data(client, OUTPUT, id=completed_id)["run"]["output"] == '{"a":2,"b":1}'
