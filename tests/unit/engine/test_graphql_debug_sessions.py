"""The console debugger's GraphQL: runs started by ``invokeFunction`` and ``rerun`` with
debug ids, listed by ``debugRun`` and ``debugSession`` (the differential suite compares
the rest with the dev server: tests/differential/cases_debug.py)."""

from __future__ import annotations

import typing

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash
from test_graphql import data

LOOPBACK = True
CREATE = ('mutation { createDebugSession(input: {functionSlug: "x"}) '
          "{ debugSessionID debugRunID } }")
INVOKE = ("mutation($slug: String!, $s: ULID, $r: ULID) "
          "{ invokeFunction(functionSlug: $slug, debugSessionID: $s, debugRunID: $r) }")
RERUN = ("mutation($id: ULID!, $from: RerunFromStepInput, $s: ULID, $r: ULID) "
         "{ rerun(runID: $id, fromStep: $from, debugSessionID: $s, debugRunID: $r) }")
DEBUG_RUN = ('query($r: String) { debugRun(query: {functionSlug: "x", debugRunID: $r}) '
             "{ debugTraces { runID status debugRunID debugSessionID "
             "childrenSpans { name debugRunID } } } }")
DEBUG_SESSION = ('query($s: String) { debugSession(query: {functionSlug: "x", '
                 "debugSessionID: $s}) { debugRuns { status debugRunID } } }")


def _ended_traces(client: Client, debug_run_id: str, count: int) -> list[dict[str, typing.Any]]:
    def listed() -> list[dict[str, typing.Any]] | None:
        traces = data(client, DEBUG_RUN, r=debug_run_id)["debugRun"]["debugTraces"]
        ended = [trace for trace in traces if trace["status"] in ("COMPLETED", "FAILED")]
        return traces if len(ended) == count else None

    return client.wait(listed)


def _session(client: Client) -> dict[str, str]:
    return typing.cast("dict[str, str]", data(client, CREATE)["createDebugSession"])


def test_a_session_lists_each_debug_run_as_its_last_run_ended(
        client: Client, app: FakeApp) -> None:
    calls: list[Call] = []

    def fails_first(call: Call) -> Reply:
        calls.append(call)
        return (500, {}, {"name": "Error", "message": "no"}) if len(calls) == 1 else ok(1)

    client.register(app, [app.function("flaky", handler=fails_first, retries=0),
                          app.function("fine", handler=lambda call: ok(2))])
    session = _session(client)
    other = _session(client)["debugRunID"]
    data(client, INVOKE, slug=f"{app.app_id}-flaky", s=session["debugSessionID"],
         r=session["debugRunID"])
    [failed] = _ended_traces(client, session["debugRunID"], 1)
    data(client, INVOKE, slug=f"{app.app_id}-fine", s=session["debugSessionID"], r=other)
    _ended_traces(client, other, 1)
    data(client, RERUN, id=failed["runID"], s=session["debugSessionID"],
         r=session["debugRunID"])
    traces = _ended_traces(client, session["debugRunID"], 2)
    assert [trace["status"] for trace in traces] == ["FAILED", "COMPLETED"]
    runs = data(client, DEBUG_SESSION, s=session["debugSessionID"])["debugSession"]
    assert runs["debugRuns"] == [
        {"status": "COMPLETED", "debugRunID": session["debugRunID"]},
        {"status": "COMPLETED", "debugRunID": other},
    ]


def test_a_rerun_from_a_step_is_in_the_debug_run_it_names(client: Client, app: FakeApp) -> None:
    def two_steps(call: Call) -> Reply:
        steps = call.body["steps"]
        for name in ("a", "b"):
            if step_hash(name) not in steps:
                return ops(op("StepRun", name, data=name))
        return ok("done")

    client.register(app, [app.function("two", handler=two_steps)])
    [event_id] = client.send({"name": "test/two", "data": {}})
    original = str(client.wait_for_run(event_id, "Completed")["run_id"])
    session = _session(client)
    lower = {"s": session["debugSessionID"].lower(), "r": session["debugRunID"].lower()}
    again = data(client, RERUN, id=original, **{"from": {"stepID": "b"}}, **lower)["rerun"]
    [trace] = _ended_traces(client, session["debugRunID"], 1)
    assert trace["runID"] == again
    assert trace["debugSessionID"] == session["debugSessionID"]
    assert {span["debugRunID"] for span in trace["childrenSpans"]} == {session["debugRunID"]}
