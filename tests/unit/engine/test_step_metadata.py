"""Metadata an SDK sends with a step's op (its ``metadata``: AI usage, scores), shown on the
run's trace as the dev server shows it (measured with the JS SDK v4's scoring and AI
metadata tests): ``run``-scoped entries on the run's span, ``step``-scoped ones on the step's,
``inngest.ai`` with an estimated cost; ``run { trace(preview: true) }`` is the tree
``runTrace`` answers, metadata and all."""

from __future__ import annotations

import pathlib
import sqlite3
import typing

import pytest
from engine_fakes import (
    Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash, user_metadata,
)
from test_checkpoint import checkpoint
from test_graphql import data

from inngest._loopback import LoopbackTransport

LOOPBACK = True
FRAGMENT = "fragment F on RunTraceSpan { name stepID metadata { kind scope values } }"
PREVIEW = FRAGMENT + """ query T($id: String!) {
  runTrace(runID: $id) { ...F childrenSpans { ...F } }
  run(runID: $id) { trace(preview: true) { ...F childrenSpans { ...F } }
                    legacy: trace { metadata { kind } childrenSpans { metadata { kind } } } }
}"""
AI_CALL = {"operation_name": "chat", "request_model": "gpt-5.4-nano",
           "response_model": "gpt-5.4-nano-2026-03-17", "provider": "openai",
           "input_tokens": 18, "output_tokens": 39, "latency_ms": 0.2}
Metadata = list[dict[str, typing.Any]]


def entry(kind: str, scope: str, values: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"kind": kind, "scope": scope, "op": "merge", "values": values}


def traced(client: Client, run_id: str) -> dict[str, Metadata]:
    """The metadata sent to the run, by span name ("" for the run's span), from ``runTrace``
    (checked to be what ``run { trace(preview: true) }`` answers)."""
    answer = data(client, PREVIEW, id=run_id)
    assert answer["run"]["trace"] == answer["runTrace"]
    assert answer["run"]["legacy"]["metadata"] == []
    root = user_metadata(answer["runTrace"])
    spans = {"": root["metadata"]}
    for child in root["childrenSpans"]:
        if child["metadata"]:
            spans[child["name"]] = child["metadata"]
    return spans


def run_with(client: Client, app: FakeApp, handler: typing.Callable[[Call], Reply]) -> str:
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed", run
    return str(run["run_id"])


def test_metadata_of_a_step_op_shows_on_the_run_and_the_step(client: Client,
                                                             app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if call.body["steps"]:
            return ok("done")
        return ops(op("StepRun", "my-step", userland={"id": "my-step"}, metadata=[
            entry("inngest.ai", "step", AI_CALL),
            entry("inngest.score", "step", {"implicit": {"value": 1}}),
            entry("inngest.score", "run", {"explicit_run": {"value": 2}}),
            entry("inngest.score", "step", {"explicit_step": {"value": 3}}),
        ]))

    assert traced(client, run_with(client, app, handler)) == {
        "": [{"kind": "inngest.score", "scope": "run",
              "values": {"explicit_run": {"value": 2}}}],
        "my-step": [
            {"kind": "inngest.ai", "scope": "step",
             "values": {**AI_CALL, "estimated_cost": 5.2e-05}},
            {"kind": "inngest.score", "scope": "step",
             "values": {"explicit_step": {"value": 3}, "implicit": {"value": 1}}}]}


def test_step_metadata_of_an_op_without_userland_shows_on_its_step(client: Client,
                                                                   app: FakeApp) -> None:
    # The step's span is found by the op's hashed id, not by its display name.
    def handler(call: Call) -> Reply:
        if call.body["steps"]:
            return ok("done")
        return ops(op("StepRun", "my-step", displayName="My step", metadata=[
            entry("userland.mine", "step", {"k": "v"})]))

    assert traced(client, run_with(client, app, handler)) == {
        "": [], "My step": [{"kind": "userland.mine", "scope": "step", "values": {"k": "v"}}]}


def test_metadata_of_checkpointed_steps_shows_on_their_spans(client: Client,
                                                             app: FakeApp) -> None:
    answers: list[tuple[int, bytes]] = []

    def handler(call: Call) -> Reply:
        double = {**AI_CALL, "input_tokens": 36, "output_tokens": 78}
        answers.append(checkpoint(
            client, call.body["ctx"]["run_id"],
            op("StepRun", "a", userland={"id": "a"},
               metadata=[entry("inngest.ai", "step", double)]),
            op("StepRun", "b", userland={"id": "b"})))
        return ops(op("RunComplete", "complete", data=None), op(
            "StepRun", "c", userland={"id": "c"},
            metadata=[entry("userland.mine", "step_attempt", {"k": "v"})]))

    spans = traced(client, run_with(client, app, handler))
    assert answers == [(200, b"")]
    assert spans == {
        "": [],
        "a": [{"kind": "inngest.ai", "scope": "step",
               "values": {**AI_CALL, "input_tokens": 36, "output_tokens": 78,
                          "estimated_cost": 0.000105}}],
        "c": [{"kind": "userland.mine", "scope": "step", "values": {"k": "v"}}]}


def test_a_repeated_step_id_gets_the_metadata_of_its_own_use(client: Client,
                                                             app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        done = len(call.body["steps"])
        if done == 2:
            return ok("done")
        uses = [("a", {"id": "a"}), ("a:1", {"id": "a", "index": 1})]
        step, userland = uses[done]
        return ops(op("StepRun", step, displayName="a", userland=userland,
                      metadata=[entry("inngest.score", "step", {"use": {"value": done}})]))

    answer = data(client, PREVIEW, id=run_with(client, app, handler))
    steps = [(span["stepID"], user_metadata(span)["metadata"])
             for span in answer["runTrace"]["childrenSpans"]
             if span["stepID"] and user_metadata(span)["metadata"]]
    assert steps == [
        (step_hash(step), [{"kind": "inngest.score", "scope": "step",
                            "values": {"use": {"value": use}}}])
        for use, step in enumerate(("a", "a:1"))]


def test_entries_the_server_would_refuse_are_left_out(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if call.body["steps"]:
            return ok("done")
        return ops(op("StepRun", "s", userland={"id": "s"}, metadata=[
            entry("inngest.timing", "step", {"spoofed": 1}),
            entry("inngest.score", "step", {"bad": {"value": "high"}}),
            entry("userland.request", "request", {"no": "span"}),
            entry("userland.nowhere", "elsewhere", {"no": "span"}),
            "not an entry",
            {"kind": "userland.bad_op", "scope": "step", "op": "replace", "values": {}},
            entry("userland.kept", "step", {"yes": True}),
        ]))

    assert traced(client, run_with(client, app, handler)) == {
        "": [], "s": [{"kind": "userland.kept", "scope": "step", "values": {"yes": True}}]}


@pytest.mark.parametrize("values, cost", [
    ({"request_model": "gpt-4o-2024-08-06", "input_tokens": 1000, "output_tokens": 100},
     0.0035),
    ({"request_model": "GPT-4o-mini", "input_tokens": 10}, 2e-06),
    ({"response_model": "gpt-4.1", "request_model": "gpt-5", "output_tokens": 1}, 8e-06),
    # Rounded to 6 decimals, halves away from zero.
    ({"request_model": "gpt-4o", "input_tokens": 1, "estimated_cost": None}, 3e-06),
    ({"request_model": "gpt-4o", "input_tokens": 1.5, "output_tokens": "3"}, 0.0),
    ({"request_model": "gpt-4o", "input_tokens": 1, "estimated_cost": 7}, 7),
    ({"request_model": "no-such-model", "input_tokens": 1}, None),
    ({"input_tokens": 1}, None),
])
def test_ai_metadata_sent_to_the_run_gets_an_estimated_cost(
        client: Client, app: FakeApp, values: dict[str, typing.Any],
        cost: float | None) -> None:
    run_id = run_with(client, app, lambda call: ok("done"))
    status, _ = client.request("POST", f"/v1/runs/{run_id}/metadata", {
        "target": {"run_id": run_id}, "metadata": [entry("inngest.ai", "run", values)]})
    assert status == 200
    [shown] = traced(client, run_id)[""]
    assert shown["values"].get("estimated_cost") == cost
    assert {key: value for key, value in shown["values"].items()
            if key != "estimated_cost"} == {k: v for k, v in values.items()
                                            if k != "estimated_cost"}


def _repeated_step_run(client: Client, app: FakeApp) -> tuple[str, list[tuple[str, Metadata]]]:
    """A run of step "a" used twice, each use with step metadata: its id, and the
    metadata its trace shows per step span."""
    run_id = run_with(client, app, _repeated_step_handler)
    return run_id, _step_metadata(client, run_id)


def _repeated_step_handler(call: Call) -> Reply:
    done = len(call.body["steps"])
    if done == 2:
        return ok("done")
    step, userland = [("a", {"id": "a"}), ("a:1", {"id": "a", "index": 1})][done]
    return ops(op("StepRun", step, displayName="a", userland=userland,
                  metadata=[entry("userland.use", "step", {"use": done})]))


def _step_metadata(client: Client, run_id: str) -> list[tuple[str, Metadata]]:
    answer = data(client, PREVIEW, id=run_id)
    return [(span["stepID"], user_metadata(span)["metadata"])
            for span in answer["runTrace"]["childrenSpans"]
            if span["stepID"] and user_metadata(span)["metadata"]]


@pytest.mark.parametrize("hashed", [False, True])
def test_step_metadata_of_a_database_written_by_an_older_engine_shows_on_its_step(
    tmp_path: pathlib.Path, app: FakeApp, loopback: LoopbackTransport, hashed: bool
) -> None:
    """Engines before kept step metadata under the step's id as given ("a", "a:1") and
    marked no version in the database: opened now, it shows on its step's span.
    Targets already hashed (by an engine that hashed them but marked no version) are kept."""
    db_path = tmp_path / "main.db"
    with LoopbackDev(loopback, db_path=str(db_path)) as first:
        run_id, shown = _repeated_step_run(Client(first), app)
    assert [step for step, _ in shown] == [step_hash("a"), step_hash("a:1")]
    with sqlite3.connect(db_path) as conn:  # as an older engine left it
        if not hashed:
            for given in ("a", "a:1"):
                conn.execute("UPDATE run_metadata SET target = ? WHERE target = ?",
                             (given, step_hash(given)))
        conn.execute("PRAGMA user_version = 0")
    conn.close()
    with LoopbackDev(loopback, db_path=str(db_path)) as second:
        assert _step_metadata(Client(second), run_id) == shown
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    conn.close()
