"""Run scores: ``POST /api/v2/runs/{id}/scores`` answers and checks as the dev server does,
and the scores show as span metadata in the run's REST v2 trace and GraphQL ``runTrace``
(measured against it; see docs/compatibility.md)."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, user_metadata
from test_graphql import data

LOOPBACK = True
Body = dict[str, typing.Any]
RUN_TRACE = """query T($id: String!) {
  runTrace(runID: $id) { metadata { kind scope values updatedAt }
                         childrenSpans { name stepID metadata { kind scope values } } }
  run(runID: $id) { trace { metadata { kind } childrenSpans { metadata { kind } } } }
}"""


def two_steps(call: Call) -> Reply:
    done = len(call.body["steps"])
    return ops(op("StepRun", "ab"[done], data=done)) if done < 2 else ok("done")


@pytest.fixture
def run_id(client: Client, app: FakeApp) -> str:
    client.register(app, [app.function("fn", handler=two_steps)])
    [event_id] = client.send({"name": "test/fn"})
    return str(client.wait_for_run(event_id, "Completed")["run_id"])


def score(client: Client, run_id: str, body: object) -> tuple[int, Body]:
    status, answer = client.request("POST", f"/api/v2/runs/{run_id}/scores", body)
    if status == 200:
        assert answer.pop("metadata")["fetchedAt"].endswith("Z")
    return status, answer


def error(message: str, code: str = "invalid_field_format") -> Body:
    return {"errors": [{"code": code, "message": message}]}


def test_scores_are_answered_and_shown_on_the_trace(client: Client, run_id: str) -> None:
    status, body = score(client, run_id, [
        {"name": "quality", "value": 0.5}, {"name": "speed", "value": 3.0},
        {"name": "exp", "value": False, "experiment": {"id": "e1", "variant": "v1"}},
        {"name": "ok", "value": True, "stepId": "b"},
        {"name": "big", "value": 1e20, "stepId": "a"},
        {"name": "lost", "value": 1, "stepId": "nope"},
    ])
    assert (status, body["data"][1:3]) == (200, [
        {"runId": run_id, "name": "speed", "value": 3},
        {"runId": run_id, "name": "exp", "value": False,
         "experiment": {"id": "e1", "variant": "v1"}}])
    assert body["data"][3] == {"runId": run_id, "name": "ok", "value": True, "stepId": "b"}
    assert score(client, run_id, [{"name": "quality", "value": 0.75}])[0] == 200

    root = user_metadata(
        client.request("GET", f"/api/v2/runs/{run_id}/trace")[1]["data"]["rootSpan"], rest=True)
    assert [{k: v for k, v in entry.items() if k != "updatedAt"}
            for entry in root["metadata"]] == [
        {"kind": "inngest.experiment", "scope": "run",
         "values": {"name": '"e1"', "variant": '"v1"'}},
        {"kind": "inngest.score", "scope": "run",
         "values": {"exp": '{"value":false}', "quality": '{"value":0.75}',
                    "speed": '{"value":3}'}}]
    steps = {span["name"]: span["metadata"] for span in root["children"] if "metadata" in span}
    assert steps == {
        "a": [{"kind": "inngest.score", "scope": "step", "updatedAt": root["metadata"][0][
            "updatedAt"], "values": {"big": '{"value":100000000000000000000}'}}],
        "b": [{"kind": "inngest.score", "scope": "step", "updatedAt": root["metadata"][0][
            "updatedAt"], "values": {"ok": '{"value":true}'}}]}

    traced = data(client, RUN_TRACE, id=run_id)
    traced["runTrace"] = user_metadata(traced["runTrace"])
    assert traced["runTrace"]["metadata"][1]["values"] == {
        "exp": {"value": False}, "quality": {"value": 0.75}, "speed": {"value": 3}}
    on_steps = [(span["name"], span["metadata"]) for span in traced["runTrace"]["childrenSpans"]
                if span["metadata"]]
    assert on_steps == [
        ("a", [{"kind": "inngest.score", "scope": "step",
                "values": {"big": {"value": 100000000000000000000}}}]),
        ("b", [{"kind": "inngest.score", "scope": "step", "values": {"ok": {"value": True}}}])]
    assert traced["run"]["trace"]["metadata"] == []


@pytest.mark.parametrize("body, answer", [
    ({}, error("json: cannot unmarshal object into Go value of type []json.RawMessage",
               "api_error")),
    ("x", error("json: cannot unmarshal string into Go value of type []json.RawMessage",
                "api_error")),
    ([], error("At least one score is required")),
    (None, error("At least one score is required")),
    ([{"name": " ", "value": 1}], error("scores[0]: Score name is required")),
    ([{}], error("scores[0]: Score name is required")),
    ([{"name": "a"}], error("scores[0]: Score value is required")),
    ([{"name": "a", "value": None}],
     error("scores[0]: Score value must be a finite number or boolean")),
    ([{"name": "a", "value": "1"}],
     error("scores[0]: Score value must be a finite number or boolean")),
    ([{"name": "a", "value": 1, "stepId": " "}],
     error("scores[0]: Step ID must not be empty when provided")),
    ([{"name": "a", "value": 1, "stepId": "b", "experiment": {"id": "e", "variant": "v"}}],
     error("scores[0]: Experiment scores must be run-scoped")),
    ([{"name": "a", "value": 1}, {"name": "a'b", "value": 1}],
     error("scores[1]: Score name or value is invalid; names must be at most 128 UTF-8 "
           "bytes, must not contain control characters or single quotes, and values must "
           "be a finite number or boolean")),
    ([{"name": "é" * 65, "value": 1}],
     error("scores[0]: Score name or value is invalid; names must be at most 128 UTF-8 "
           "bytes, must not contain control characters or single quotes, and values must "
           "be a finite number or boolean")),
    ([{"name": "a", "value": 1, "experiment": {"id": "", "variant": "v"}}],
     error("scores[0]: Experiment ID is required when experiment is provided")),
    ([{"name": "a", "value": 1, "experiment": {"id": "e", "variant": "v" * 129}}],
     error("scores[0]: Experiment variant must be at most 128 UTF-8 bytes")),
    ([{"name": "a", "value": 1, "x": 2}],
     error('proto: (line 1:27): unknown field "x"', "api_error")),
    ([1], error("proto: syntax error (line 1:1): unexpected token 1", "api_error")),
    ([{"name": "a", "value": 1}] * 101, error("At most 100 scores are allowed")),
])
def test_refused_scores(client: Client, run_id: str, body: object, answer: Body) -> None:
    assert score(client, run_id, body) == (400, answer)
    root = user_metadata(
        client.request("GET", f"/api/v2/runs/{run_id}/trace")[1]["data"]["rootSpan"], rest=True)
    assert "metadata" not in root


def test_run_ids(client: Client) -> None:
    assert score(client, "abc", [{"name": "a", "value": 1}]) == (
        400, error("Run ID must be a valid ULID"))
    # As on the dev server, the score of a run it does not have is answered, and lost.
    missing = "01M8NXEFDE41VBG6ZJQBHHHAEN"
    assert score(client, missing, [{"name": "a", "value": 1}]) == (
        200, {"data": [{"runId": missing, "name": "a", "value": 1}]})


PREVIEW = """query T($id: String!) {
  runTrace(runID: $id) { ...Span childrenSpans { ...Span } }
  run(runID: $id) { trace(preview: true) { ...Span childrenSpans { ...Span } } }
}
fragment Span on RunTraceSpan { name stepID status outputID metadata { kind scope values } }"""


def test_a_preview_run_trace_is_the_run_trace(client: Client, run_id: str) -> None:
    """Measured: ``run { trace(preview: true) }`` answers the stored span tree, scores and
    all, as ``runTrace`` does (JS SDK v4's tests read scores through it)."""
    assert score(client, run_id, [{"name": "quality", "value": 0.5},
                                  {"name": "ok", "value": True, "stepId": "b"}])[0] == 200
    traced = data(client, PREVIEW, id=run_id)
    assert traced["run"]["trace"] == traced["runTrace"]
    assert traced["run"]["trace"]["name"] == "Run"
    assert [entry["values"] for entry in traced["run"]["trace"]["metadata"]
            if entry["kind"] == "inngest.score"] == [{"quality": {"value": 0.5}}]
