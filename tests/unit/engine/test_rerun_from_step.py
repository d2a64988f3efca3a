"""Rerunning from a step, over REST v2 (``POST runs/{id}/rerun`` with ``fromStep``) and
GraphQL (``rerun(runID, fromStep)``): the new run starts with the results of the steps
before the chosen one, the SDK is asked to run that step, and the errors are the dev
server's (measured against it; see docs/compatibility.md)."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash
from test_graphql import gql

LOOPBACK = True
Body = dict[str, typing.Any]
VALUES = {"a": {"a": 1}, "b": 2, "c": "c3"}
RERUN = ("mutation Rerun($id: ULID!, $from: RerunFromStepInput) "
         "{ rerun(runID: $id, fromStep: $from) }")


class ThreeSteps:
    """A fake SDK's ``step.run`` a, b and c: each request runs the first step without a
    result (or the one the URL targets), with the step's new input when it has one."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, list[typing.Any]]] = []

    def __call__(self, call: Call) -> Reply:
        steps = call.body["steps"]
        for name in VALUES:
            memo = steps.get(step_hash(name))
            targeted = call.step_id == step_hash(name)
            if memo is None or targeted or "input" in memo:
                args = memo["input"] if memo and "input" in memo else []
                self.ran.append((name, args))
                value = {"args": args} if args else VALUES[name]
                return ops(op("StepRun", name, data=value))
        return ok({name: steps[step_hash(name)]["data"] for name in VALUES})


@pytest.fixture
def three(client: Client, app: FakeApp) -> ThreeSteps:
    handler = ThreeSteps()
    dup = [op("StepRun", "s", data=1), {**op("StepRun", "s", data=2), "id": step_hash("s:1")}]
    client.register(app, [
        app.function("three", handler=handler),
        app.function("dup", handler=lambda call: ops(*dup[len(call.body["steps"]):])
                     if len(call.body["steps"]) < 2 else ok(None)),
    ])
    return handler


def finished(client: Client, name: str) -> str:
    [event_id] = client.send({"name": name, "data": {}})
    return str(client.wait_for_run(event_id, "Completed")["run_id"])


def rerun(client: Client, run_id: str, body: object) -> tuple[int, Body]:
    return client.request("POST", f"/api/v2/runs/{run_id}/rerun", body)


def output(client: Client, run_id: str) -> typing.Any:
    def ended() -> Body | None:
        run = client.request("GET", f"/api/v2/runs/{run_id}?includeOutput=true")[1]["data"]
        return run if run["status"] == "COMPLETED" else None
    return client.wait(ended)["output"]


def error(code: str, message: str) -> Body:
    return {"errors": [{"code": code, "message": message}]}


@pytest.mark.parametrize("step", ["b", step_hash("b")])
def test_steps_before_the_chosen_one_are_not_run_again(
        client: Client, app: FakeApp, three: ThreeSteps, step: str) -> None:
    original = finished(client, "test/three")
    assert [name for name, _ in three.ran] == ["a", "b", "c"]
    status, body = rerun(client, original, {"fromStep": {"stepId": step}})
    assert status == 200
    again = body["data"]["runId"]
    assert output(client, again) == VALUES
    assert [name for name, _ in three.ran] == ["a", "b", "c", "b", "c"]
    first = [call for call in app.posts("app-three") if call.body["ctx"]["run_id"] == again][0]
    assert first.body["steps"] == {step_hash("a"): {"data": {"a": 1}}}
    assert first.body["ctx"]["stack"] == {"stack": [step_hash("a")], "current": 1}
    assert first.step_id == step_hash("b")


def test_the_chosen_step_gets_the_new_input(client: Client, app: FakeApp,
                                            three: ThreeSteps) -> None:
    original = finished(client, "test/three")
    status, body = rerun(client, original, {"fromStep": {"stepId": "b", "input": [5, {"z": 6}]}})
    assert status == 200
    again = body["data"]["runId"]
    assert output(client, again) == {"a": {"a": 1}, "b": {"args": [5, {"z": 6}]}, "c": "c3"}
    assert three.ran[3:] == [("b", [5, {"z": 6}]), ("c", [])]
    first = [call for call in app.posts("app-three") if call.body["ctx"]["run_id"] == again][0]
    assert first.body["steps"][step_hash("b")] == {"input": [5, {"z": 6}]}


def test_graphql_rerun_from_a_step(client: Client, three: ThreeSteps) -> None:
    original = finished(client, "test/three")
    body = gql(client, RERUN, id=original, **{"from": {"stepID": "c", "input": "[7]"}})
    again = body["data"]["rerun"]
    assert output(client, again) == {"a": {"a": 1}, "b": 2, "c": {"args": [7]}}
    assert three.ran[3:] == [("c", [7])]
    body = gql(client, RERUN, id=original, **{"from": {"stepID": ""}})
    assert output(client, body["data"]["rerun"]) == VALUES
    assert [name for name, _ in three.ran[4:]] == ["a", "b", "c"]


@pytest.mark.parametrize("body, status, answer", [
    ({"fromStep": {"stepId": "nope"}}, 400,
     error("invalid_request", "Step not found in original run")),
    ({"fromStep": {"stepId": "s:1"}}, 400,
     error("invalid_request", "Step not found in original run")),
    ({"fromStep": {"stepId": "s"}}, 400,
     error("invalid_request", "Step name matches multiple steps in original run")),
    ({"fromStep": {"stepId": ""}}, 400, error("missing_field", "Step ID is required")),
    ({"fromStep": {}}, 400, error("missing_field", "Step ID is required")),
    ({"fromStep": {"stepId": "s", "input": {}}}, 400,
     error("api_error", "proto: syntax error (line 1:39): unexpected token {")),
    ({"fromStep": {"stepId": "s", "extra": 1}}, 400,
     error("api_error", 'proto: (line 1:30): unknown field "extra"')),
    ({"fromStep": {"step_id": 5}}, 400,
     error("api_error", "proto: (line 1:26): invalid value for string field stepId: 5")),
])
def test_rest_errors(client: Client, three: ThreeSteps, body: Body, status: int,
                     answer: Body) -> None:
    original = finished(client, "test/dup")
    assert rerun(client, original, body) == (status, answer)


def test_rest_error_order(client: Client) -> None:
    missing = "01M8NXEFDE41VBG6ZJQBHHHAEN"
    assert rerun(client, "abc", {"fromStep": {}}) == (
        400, error("invalid_field_format", "Run ID must be a valid ULID"))
    assert rerun(client, missing, {"fromStep": {}}) == (
        400, error("missing_field", "Step ID is required"))
    assert rerun(client, missing, {"fromStep": {"stepId": "b"}}) == (
        404, error("not_found", "Run not found"))


@pytest.mark.parametrize("start, message", [
    ({"stepID": "nope"}, "error reconstructing input state: rerun step not found"),
    ({"stepID": "s"}, "error reconstructing input state: rerun step name is ambiguous"),
    ({"stepID": "s", "input": "{}"}, "input is not a valid JSON array"),
    ({"stepID": "s", "input": " [1]"}, "input is not a valid JSON array"),
    ({"stepID": "s", "input": "[NaN]"}, "input is not a valid JSON array"),
    ({"stepID": "", "input": ""}, "input is not a valid JSON array"),
])
def test_graphql_errors(client: Client, three: ThreeSteps, start: Body, message: str) -> None:
    original = finished(client, "test/dup")
    body = gql(client, RERUN, id=original, **{"from": start})
    assert body["errors"][0]["message"] == message


def test_a_cron_run_can_be_rerun(client: Client, app: FakeApp) -> None:
    handler = ThreeSteps()
    client.register(app, [app.function("tick", handler=handler,
                                       triggers=[{"cron": "* * * * *"}])])
    path = "/api/v2/apps/app/functions/tick/runs"

    def completed() -> list[str] | None:
        runs = client.request("GET", path)[1].get("data", [])
        return [run["id"] for run in runs if run["status"] == "COMPLETED"] or None
    [original, *_] = client.wait(completed)
    status, body = rerun(client, original, {"fromStep": {"stepId": "c"}})
    assert status == 200 and output(client, body["data"]["runId"]) == VALUES
    assert rerun(client, original, {})[0] == 200


def test_the_new_input_is_in_the_state_read_by_api(client: Client, app: FakeApp,
                                                   three: ThreeSteps) -> None:
    original = finished(client, "test/three")
    seen: list[Body] = []

    def reading(call: Call) -> Reply:
        if not seen:
            seen.append(client.request("GET", f"/v0/runs/{call.body['ctx']['run_id']}/actions")[1])
        return three(call)
    app.handlers["app-three"] = reading
    _, body = rerun(client, original, {"fromStep": {"stepId": "b", "input": []}})
    output(client, body["data"]["runId"])
    assert seen == [{step_hash("a"): {"data": {"a": 1}}, step_hash("b"): {"input": []}}]


def test_the_new_run_s_trace_shows_only_the_steps_it_ran(
        client: Client, three: ThreeSteps) -> None:
    original = finished(client, "test/three")
    again = gql(client, RERUN, id=original, **{"from": {"stepID": "b"}})["data"]["rerun"]
    output(client, again)
    query = "query R($id: String!) { run(runID: $id) { trace { childrenSpans { name } } } }"
    spans = gql(client, query, id=again)["data"]["run"]["trace"]["childrenSpans"]
    # As on the dev server: the step whose result the run reused is not in its trace.
    assert [span["name"] for span in spans] == ["b", "c", "function success"]
