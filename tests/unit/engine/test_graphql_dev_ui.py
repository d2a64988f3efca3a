"""What the dev server's own web UI asks of GraphQL beyond the basics, each measured on the
real server (tests/differential/cases_dev_ui.py compares both): the SDK's feature readiness
of an app, the app's HTTP response on a trace's spans, runs cursors, and which spans' outputs
show the run's events as their input."""

from __future__ import annotations

import base64
import json
import typing

import pytest

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash
from test_graphql import data, run_id_for, wait_for_status

LOOPBACK = True

READINESS = """{ apps { name sdkFeatureReadiness {
  aiMetadataExtraction { ready reason } extendedTraces { ready reason } } } }"""


def readiness(client: Client) -> dict[str, typing.Any]:
    return {app["name"]: app["sdkFeatureReadiness"] for app in data(client, READINESS)["apps"]}


@pytest.mark.parametrize(("observed", "expected"), [
    # Names or numbers, either field spelling; an enum name it does not know reads as 0.
    ({"aiMetadataExtraction": {"readinessReason": "AI_METADATA_EXTRACTION_READINESS_REASON_READY"},
      "extended_traces": {"readiness_reason": 2.0}},
     {"aiMetadataExtraction": {"ready": True, "reason": 1},
      "extendedTraces": {"ready": False, "reason": 2}}),
    ({"aiMetadataExtraction": {"readinessReason": "NOPE"}, "extendedTraces": {}},
     {"aiMetadataExtraction": {"ready": False, "reason": 0},
      "extendedTraces": {"ready": False, "reason": 0}}),
    # Left out, null, or only features the API does not show.
    ({"aiMetadataExtraction": None, "sendEvents": {"readinessReason": 1}, "other": 1},
     {"aiMetadataExtraction": None, "extendedTraces": None}),
    (None, {"aiMetadataExtraction": None, "extendedTraces": None}),
])
def test_an_apps_feature_readiness_is_what_its_sdk_observed(
        client: Client, app: FakeApp, observed: object, expected: object) -> None:
    status, _ = client.register(app, [], featureObservations=observed)
    assert status == 200
    assert readiness(client) == {"app": expected}


def test_a_resync_of_an_unchanged_app_keeps_its_latest_observations(
        client: Client, app: FakeApp) -> None:
    # With a function: a sync of none leaves an error on the app, and each sync of it runs.
    functions = [app.function("fn")]
    client.register(app, functions,
                    featureObservations={"extendedTraces": {"readinessReason": 1}})
    client.register(app, functions)  # unchanged, nothing observed: kept
    assert readiness(client)["app"]["extendedTraces"] == {"ready": True, "reason": 1}
    client.register(app, functions,
                    featureObservations={"extendedTraces": {"readinessReason": 3}})
    assert readiness(client)["app"]["extendedTraces"] == {"ready": False, "reason": 3}


@pytest.mark.parametrize(("observed", "error"), [
    ("x", 'proto: syntax error: unexpected token "x"'),
    ({"aiMetadataExtraction": 5}, "proto: syntax error: unexpected token 5"),
    ({"aiMetadataExtraction": {"readinessReason": True}},
     "proto: invalid value for enum field readinessReason: true"),
    ({"extendedTraces": {"readinessReason": 4294967296}},
     "proto: invalid value for enum field readinessReason: 4294967296"),
])
def test_observations_of_the_wrong_type_refuse_the_sync(
        client: Client, app: FakeApp, observed: object, error: str) -> None:
    status, body = client.register(app, [], featureObservations=observed)
    assert (status, body["error"]) == (400, f"Invalid request: {error}")


RESPONSES = """query($id: String!) { runTrace(runID: $id) { name response { statusCode headers }
  childrenSpans { name response { statusCode headers }
    childrenSpans { name response { statusCode headers } } } } }"""


def _responses(span: dict[str, typing.Any]) -> list[typing.Any]:
    return [span["name"], span["response"],
            [_responses(child) for child in span.get("childrenSpans") or []]]


def test_a_traces_calls_show_the_apps_response(client: Client, app: FakeApp) -> None:
    app.sdk_headers = {"x-inngest-sdk": "js:v4", "Set-Cookie": "secret",
                       "Connection": "keep-alive", "server-timing": "function;dur=1"}

    def handler(call: Call) -> Reply:
        if step_hash("first") not in call.body["steps"]:
            return ops(op("StepRun", "first", data=1))
        return ok("done")

    client.register(app, [app.function("fn", handler=handler)])
    run_id = run_id_for(client, client.send({"name": "test/fn"})[0])
    wait_for_status(client, run_id, "COMPLETED")
    trace = data(client, RESPONSES, id=run_id)["runTrace"]

    # Go's names, sorted; secrets masked; no connection framing.
    headers = {"Server-Timing": "function;dur=1", "Set-Cookie": "[REDACTED]",
               "X-Inngest-Sdk": "js:v4"}
    step = {"statusCode": 206, "headers": headers}
    end = {"statusCode": 200, "headers": headers}
    # The step's span and the function's last call show their response; the run's span
    # that of the call that ended it; the step's attempt and the call itself none.
    assert _responses(trace) == ["Run", end, [
        ["first", step, []], ["first", None, []], ["Finalization", end, []],
        ["executor.nonstep", None, []]]]


def test_a_cancelled_runs_span_shows_no_response(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        return ops(op("Sleep", "nap", opts={"duration": "1h"}))

    client.register(app, [app.function("fn", handler=handler)])
    run_id = run_id_for(client, client.send({"name": "test/fn"})[0])
    client.wait(lambda: [span for span in data(client, RESPONSES, id=run_id)["runTrace"][
        "childrenSpans"] if span["name"] == "nap"])
    data(client, "mutation($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)
    trace = data(client, RESPONSES, id=run_id)["runTrace"]
    assert trace["response"] == {"statusCode": 0, "headers": {}}


RUNS = """query($after: String) { runs(first: 1, after: $after, filter: {
  from: "2000-01-01T00:00:00Z"}, orderBy: [{field: QUEUED_AT, direction: ASC},
  {field: STARTED_AT, direction: ASC}]) {
  edges { cursor node { id queuedAt startedAt } } pageInfo { startCursor endCursor } } }"""


def test_runs_cursors_are_the_dev_servers(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    ids = [run_id_for(client, event_id)
           for event_id in client.send({"name": "test/fn"}, {"name": "test/fn"})]
    for run_id in ids:
        wait_for_status(client, run_id, "COMPLETED")
    first = data(client, RUNS)["runs"]
    [edge] = first["edges"]
    cursor = json.loads(base64.b64decode(edge["cursor"]))
    # Measured: {"id":…,"c":{"queued_at":{"f":"queued_at","v":<ms>}}}, one per order field.
    assert list(cursor) == ["id", "c"] and cursor["id"] == ids[0]
    assert list(cursor["c"]) == ["queued_at", "started_at"]
    assert cursor["c"]["queued_at"]["f"] == "queued_at"
    assert isinstance(cursor["c"]["started_at"]["v"], int)
    assert first["pageInfo"] == {"startCursor": edge["cursor"], "endCursor": edge["cursor"]}
    after = data(client, RUNS, after=edge["cursor"])["runs"]["edges"]
    assert [edge["node"]["id"] for edge in after] == ids[1:]
    # A cursor that is not the server's starts at the first, as there.
    assert data(client, RUNS, after=ids[0])["runs"]["edges"][0]["node"]["id"] == ids[0]


OUTPUTS = """query($id: String!) {
  run(runID: $id) { trace { name outputID childrenSpans { name outputID } } }
  runTrace(runID: $id) { name outputID childrenSpans { name outputID } } }"""
OUTPUT = """query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data input } }"""


def _outputs(client: Client, span: dict[str, typing.Any]) -> list[typing.Any]:
    spans = [span, *span["childrenSpans"]]
    return [[each["name"], data(client, OUTPUT, id=each["outputID"])["runTraceSpanOutputByID"]]
            for each in spans if each["outputID"]]


def test_only_the_raw_root_span_shows_the_runs_events(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok({"b": 1}))])
    [event_id] = client.send({"name": "test/fn", "data": {"k": 1}})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    found = data(client, OUTPUTS, id=run_id)
    result = {"data": '{"b":1}', "input": None}
    assert _outputs(client, found["run"]["trace"]) == [
        ["app-fn", result], ["function success", result]]
    [root, nonstep] = _outputs(client, found["runTrace"])
    assert nonstep == ["executor.nonstep", result]
    [sent] = json.loads(root[1]["input"])
    assert (root[0], root[1]["data"], sent["id"]) == ("Run", '{"b":1}', event_id)
