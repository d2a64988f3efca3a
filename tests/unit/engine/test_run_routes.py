"""REST v1 routes about a run: ``GET /v1/runs/{id}/jobs``, ``POST /v1/runs/{id}/metadata``
and the checkpoint output route, answered as the dev server answers them (measured; see
docs/compatibility.md)."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, user_metadata
from test_graphql import data

from inngest._engine.timeparse import parse_rfc3339

LOOPBACK = True
Body = dict[str, typing.Any]
TRACE = """query T($id: String!) {
  runTrace(runID: $id) { metadata { kind scope values }
                         childrenSpans { name metadata { kind scope values } } }
}"""


def one_step(call: Call) -> Reply:
    return ops(op("StepRun", "one", data=1)) if not call.body["steps"] else ok("done")


def traced(client: Client, run_id: str) -> dict[str, typing.Any]:
    return user_metadata(data(client, TRACE, id=run_id)["runTrace"])


@pytest.fixture
def run_id(client: Client, app: FakeApp) -> str:
    client.register(app, [app.function("fn", handler=one_step)])
    [event_id] = client.send({"name": "test/fn"})
    return str(client.wait_for_run(event_id, "Completed")["run_id"])


def jobs(client: Client, run_id: str) -> tuple[int, Body]:
    return client.request("GET", f"/v1/runs/{run_id}/jobs")


def post(client: Client, run_id: str, body: object) -> tuple[int, typing.Any]:
    return client.request("POST", f"/v1/runs/{run_id}/metadata", body)


def ms(text: str) -> int:
    moment = parse_rfc3339(text)  # Python 3.10's fromisoformat takes 3 or 6 digits only
    assert moment is not None, text
    return round(moment.timestamp() * 1000)


def test_a_sleeping_run_lists_its_wake_up_as_a_job(client: Client, app: FakeApp) -> None:
    def sleeps(call: Call) -> Reply:
        return ok(1) if call.body["steps"] else ops(op("Sleep", "nap", opts={"duration": "1h"}))

    client.register(app, [app.function("fn", handler=sleeps)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = str(client.wait_for_run(event_id, "Running")["run_id"])
    [job] = client.wait(lambda: [job for job in jobs(client, run_id)[1]["data"]
                                 if job["kind"] == "sleep"])
    assert jobs(client, run_id)[1]["data"] == [job]
    assert (job["kind"], job["position"], job["attempt"]) == ("sleep", 0, 0)
    assert set(job) == {"JobID", "at", "position", "kind", "attempt", "Raw"}
    identifier = job["Raw"]["data"]["identifier"]
    assert (identifier["runID"], identifier["eventIDs"]) == (run_id, [event_id])
    assert job["Raw"]["at"] == ms(job["at"])
    status, body = jobs(client, run_id)
    # The dev server caches the answer for five seconds and says so.
    assert ms(body["metadata"]["cached_until"]) - ms(body["metadata"]["fetched_at"]) == 5000


def test_an_ended_run_has_no_jobs(client: Client, run_id: str) -> None:
    status, body = jobs(client, run_id)
    assert (status, body["data"]) == (200, [])


def test_jobs_of_a_bad_or_unknown_run_id(client: Client) -> None:
    assert jobs(client, "nope") == (400, {
        "data": None, "error": "Invalid run ID: nope", "status": 400, "code": "bad_request",
        "message": "Invalid run ID: nope"})
    unknown = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    status, body = jobs(client, unknown)
    assert (status, body["error"]) == (404, f"Unable to load function run: {unknown}")
    assert client.request("POST", f"/v1/runs/{unknown}/jobs")[0] == 405


def test_metadata_is_combined_and_shown_on_the_run_and_step_spans(
        client: Client, run_id: str) -> None:
    for body in (
            {"metadata": [{"kind": "userland.info", "op": "merge", "values": {"a": 1, "b": "x"}}]},
            {"metadata": [{"kind": "userland.info", "op": "add", "values": {"a": 2, "n": 5}}]},
            {"metadata": [{"kind": "userland.gone", "values": {"x": 1, "y": 2}},
                          {"kind": "userland.gone", "op": "DELETE", "values": {"x": None}}]},
            {"metadata": [{"kind": "userland.reset", "values": {"x": 1}},
                          {"kind": "userland.reset", "op": "set", "values": {"z": 0}}]},
            {"target": {"step_id": "one"},
             "metadata": [{"kind": "userland.step", "values": {"ok": True}}]},
            {}, b"null"):
        assert post(client, run_id, body) == (200, None), body
    trace = traced(client, run_id)
    assert trace["metadata"] == [
        {"kind": "userland.gone", "scope": "run", "values": {"y": 2}},
        {"kind": "userland.info", "scope": "run", "values": {"a": 3, "b": "x", "n": 5}},
        {"kind": "userland.reset", "scope": "run", "values": {"z": 0}}]
    step_spans = [span for span in trace["childrenSpans"] if span["metadata"]]
    assert step_spans == [{"name": "one", "metadata": [
        {"kind": "userland.step", "scope": "step", "values": {"ok": True}}]}]
    root = user_metadata(
        client.request("GET", f"/api/v2/runs/{run_id}/trace")[1]["data"]["rootSpan"], rest=True)
    assert [entry["kind"] for entry in root["metadata"]] == [
        "userland.gone", "userland.info", "userland.reset"]


def test_lone_surrogates_in_metadata_are_kept_as_replacement_characters(
        client: Client, run_id: str) -> None:
    """As Go's decoder reads ``\\ud800``: U+FFFD (they failed the store's write: a 500)."""
    assert post(client, run_id, {"metadata": [
        {"kind": "userland.\ud800", "values": {"k\udc00": "v\ud800"}}]}) == (200, None)
    assert post(client, run_id, {"target": {"step_id": "one\ud800"}, "metadata": [
        {"kind": "userland.step", "values": {"ok": True}}]}) == (200, None)
    assert traced(client, run_id)["metadata"] == [
        {"kind": "userland.\ufffd", "scope": "run", "values": {"k\ufffd": "v\ufffd"}}]


def test_allowed_inngest_kinds_and_scores_are_kept(client: Client, run_id: str) -> None:
    assert post(client, run_id, {"metadata": [
        {"kind": "inngest.warnings", "values": {"w": "slow"}},
        {"kind": "inngest.score", "values": {"quality": {"value": 0.5}}}]})[0] == 200
    kinds = {entry["kind"]: entry["values"]
             for entry in traced(client, run_id)["metadata"]}
    assert kinds == {"inngest.score": {"quality": {"value": 0.5}},
                     "inngest.warnings": {"w": "slow"}}


@pytest.mark.parametrize(("body", "message"), [
    (b"", "Invalid metadata target"),
    (b"not json", "Invalid metadata target"),
    (b"[]", "Invalid metadata target"),
    (b'{"target": {"step_index": 1}}', "Invalid metadata target"),
    (b'{"target": {"step_attempt": 0}}', "Invalid metadata target"),
    (b'{"target": {"span_id": "abc"}}', "Invalid metadata target"),
    (b'{"target": {"step_id": 5}}', "Invalid metadata target"),
    (b'{"target": {"step_id": "one", "step_index": 1.5}}', "Invalid metadata target"),
    (b'{"target": []}', "Invalid metadata target"),
    (b'{"metadata": {}}', "Invalid metadata target"),
    (b'{"metadata": [5]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": 5}]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "op": "bogus"}]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "op": 1}]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "values": [1]}]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": "inngest.secret", "values": {}}]}', "Invalid metadata"),
    (b'{"metadata": [{"kind": "' + b"k" * 129 + b'", "values": {}}]}', "Invalid metadata"),
    (b'{"metadata": [{"kind": "inngest.score", "values": {"s": {"value": "x"}}}]}',
     "Invalid metadata"),
    (b'{"metadata": [{"kind": "inngest.score", "values": {"s": {"value": 1, "x": 2}}}]}',
     "Invalid metadata"),
    (b'{"metadata": [{"kind": "inngest.score", "values": {"it\'s": {"value": 1}}}]}',
     "Invalid metadata"),
    (b"[" * 100_000, "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "values": {"a": NaN}}]}', "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "values": {"a": Infinity}}]}',
     "Invalid metadata target"),
    (b'{"metadata": [{"kind": "userland.x", "values": {"a": 1e999}}]}', "Invalid metadata target"),
])
def test_refused_metadata_gets_the_dev_servers_answer(
        client: Client, run_id: str, body: bytes, message: str) -> None:
    status, answer = client.request("POST", f"/v1/runs/{run_id}/metadata", body)
    assert (status, answer["error"], answer["data"]) == (400, message, None)
    assert traced(client, run_id)["metadata"] == []


def test_a_sum_past_the_largest_float_is_null(client: Client, run_id: str) -> None:
    for _ in range(2):  # measured: the dev server cannot write the sum and shows null
        assert post(client, run_id, {"metadata": [
            {"kind": "userland.n", "op": "add", "values": {"a": 1e308}}]})[0] == 200
    [entry] = traced(client, run_id)["metadata"]
    assert entry["values"] == {"a": None}
    status, trace = client.request("GET", f"/api/v2/runs/{run_id}/trace")
    assert status == 200 and trace["data"]["rootSpan"]["metadata"][0]["values"] == {"a": "null"}


def test_a_body_is_read_up_to_its_first_value(client: Client, run_id: str) -> None:
    body = b'{"metadata": [{"kind": "userland.a", "values": {"x": 1}}]} trailing'
    assert client.request("POST", f"/v1/runs/{run_id}/metadata", body)[0] == 200
    assert len(traced(client, run_id)["metadata"]) == 1


def test_an_update_past_64kb_is_refused_and_those_before_it_kept(
        client: Client, run_id: str) -> None:
    status, answer = post(client, run_id, {"metadata": [
        {"kind": "userland.small", "values": {"a": 1}},
        {"kind": "userland.big", "values": {"a": "x" * 70_000}}]})
    assert (status, answer["error"]) == (413, "Metadata span exceeds maximum size of 64KB")
    kinds = [entry["kind"] for entry in traced(client, run_id)["metadata"]]
    assert kinds == ["userland.small"]


def test_metadata_for_an_unknown_run_is_answered_and_dropped(client: Client) -> None:
    unknown = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    body = {"metadata": [{"kind": "userland.a", "values": {"x": 1}}]}
    assert post(client, unknown, body) == (200, None)
    status, answer = post(client, "nope", body)
    assert (status, answer["error"]) == (400, "Invalid run ID: nope")
    assert client.request("GET", f"/v1/runs/{unknown}/metadata")[0] == 405


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/v1/http/runs/{id}/output", "/v1/checkpoint/{id}/output",
                                  "/v1/http/runs/{id}/output?token=abc"])
def test_the_checkpoint_output_route_refuses_without_a_run_token(
        client: Client, run_id: str, method: str, path: str) -> None:
    status, answer = client.request(method, path.format(id=run_id))
    assert (status, answer["error"], answer["status"]) == (
        401, "Unable to find run with auth token", 401)


def test_a_step_index_names_a_later_use_of_the_step_id(client: Client, run_id: str) -> None:
    for index, kind in ((0, "userland.a"), (1, "userland.b")):
        assert post(client, run_id, {"target": {"step_id": "one", "step_index": index},
                                     "metadata": [{"kind": kind, "values": {"x": 1}}]})[0] == 200
    spans = traced(client, run_id)["childrenSpans"]
    assert [entry["kind"] for span in spans for entry in span["metadata"]] == ["userland.a"]
