"""Answers the real Inngest dev server gives, found by the differential suite
(tests/differential), checked here without the real server."""

from __future__ import annotations

import typing

from engine_fakes import Client, FakeApp, ok, op, ops, step_hash

LOOPBACK = True


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


def test_app_sdk_version_keeps_its_v(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [found] = data(client, "{ apps { sdkLanguage sdkVersion } }")["apps"]
    assert found == {"sdkLanguage": "py", "sdkVersion": "v0.1.0"}


def test_event_without_runs_has_null_function_runs(client: Client) -> None:
    [event_id] = client.send({"name": "test/nobody-listens"})
    query = "query($id: ID!) { event(query: {eventId: $id}) { name functionRuns { id } } }"
    event = data(client, query, id=event_id)["event"]
    assert event == {"name": "test/nobody-listens", "functionRuns": None}


def test_events_lists_the_newest_51(client: Client) -> None:
    for n in range(55):
        client.send({"name": "test/many", "data": {"n": n}})
    listed = data(client, "{ events(query: {}) { name } }")["events"]
    assert len(listed) == 51


def test_events_lists_the_newest_first(client: Client) -> None:
    sent = [client.send({"name": f"test/listed.{n}", "data": {"n": n}})[0] for n in range(3)]
    listed = data(client, "{ events(query: {}) { id name } }")["events"]
    assert [event["id"] for event in listed] == sent[::-1]
    assert [event["name"] for event in listed] == ["test/listed.2", "test/listed.1",
                                                   "test/listed.0"]


def test_function_failure_handler_is_its_failure_function(client: Client, app: FakeApp) -> None:
    main = app.function("main", handler=lambda call: ok(1))
    handler = app.function("main-failure", triggers=[{"event": "inngest/function.failed"}],
                           handler=lambda call: ok(1))
    client.register(app, [main, handler])
    found = data(client, "{ functions { slug failureHandler { slug name } } }")["functions"]
    assert sorted(found, key=lambda fn: fn["slug"]) == [
        {"slug": "app-main", "failureHandler": {"slug": "app-main-failure",
                                                "name": "main-failure"}},
        {"slug": "app-main-failure", "failureHandler": None},
    ]


def test_a_batch_run_belongs_to_its_first_event(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(len(call.body["events"])),
                                       batchEvents={"maxSize": 3, "timeout": "5s"})])
    sent = client.send(*({"name": "test/fn", "data": {"n": n}} for n in range(3)))
    run = client.wait_for_run(sent[0], "Completed")
    assert run["output"] == 3
    query = "query($id: ID!) { event(query: {eventId: $id}) { functionRuns { id } } }"
    linked = [data(client, query, id=event_id)["event"]["functionRuns"] for event_id in sent]
    assert linked == [[{"id": run["run_id"]}], None, None]
    for event_id in sent[1:]:
        assert client.request("GET", f"/v1/events/{event_id}/runs")[1]["data"] == []
