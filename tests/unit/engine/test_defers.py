"""Deferred runs (the JS SDK v4's ``defer()``): an SDK reports ``DeferAdd`` and ``DeferAbort``
ops; when the run ends the engine starts the deferred function by an
``inngest/deferred.schedule`` event, once per defer id, unless the defer was aborted: as the
dev server does (its behaviour measured with inngest-js 4.18.1's integration tests)."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash
from test_checkpoint import checkpoint

LOOPBACK = True
SCHEDULE = "inngest/deferred.schedule"


def defer_add(step: str, slug: str = "app-later", data: object = None,
              **opts: typing.Any) -> dict[str, typing.Any]:
    return op("DeferAdd", step, opts={"fn_slug": slug, "input": data or {}, **opts},
              userland={"id": step})


def defer_abort(step: str, slug: str = "app-later") -> dict[str, typing.Any]:
    return op("DeferAbort", f"{step_hash(step)}:abort", opts={
        "target_hashed_id": step_hash(step), "fn_slug": slug, "id": step})


def complete(value: object = "done") -> dict[str, typing.Any]:
    return op("RunComplete", "complete", data=value)


def deferred(app: FakeApp, fn_id: str = "later") -> dict[str, typing.Any]:
    """A function made by the JS SDK's ``createDefer``: triggered by its schedule event."""
    slug = f"{app.app_id}-{fn_id}"
    return app.function(fn_id, handler=lambda call: ok(call.body["event"]), triggers=[
        {"event": SCHEDULE, "expression": f"event.data._inngest.fn_slug == '{slug}'"}])


def by_calls(*replies: typing.Callable[[Call], Reply]) -> typing.Callable[[Call], Reply]:
    """A handler answering its n-th call with the n-th reply (the last one after)."""
    calls: list[Call] = []

    def handler(call: Call) -> Reply:
        calls.append(call)
        return replies[min(len(calls), len(replies)) - 1](call)

    return handler


def start(client: Client, app: FakeApp, handler: typing.Callable[[Call], Reply],
          status: str = "Completed") -> dict[str, typing.Any]:
    client.register(app, [app.function("parent", handler=handler, retries=0), deferred(app),
                          deferred(app, "other")])
    [event_id] = client.send({"name": "test/parent", "data": {"n": 1}})
    run = client.wait_for_run(event_id)
    assert run["status"] == status, run
    client.settle()
    return run


def deferred_events(app: FakeApp, slug: str = "app-later") -> list[dict[str, typing.Any]]:
    return [call.body["event"] for call in app.posts(slug)]


def test_a_defer_starts_its_function_when_the_run_ends(client: Client, app: FakeApp) -> None:
    run = start(client, app, lambda call: ops(
        defer_add("mail", data={"to": "a@b.c"}), defer_add("pay", "app-other", {"n": 100}),
        complete()))
    [event] = deferred_events(app)
    assert (event["name"], event["data"]) == (SCHEDULE, {"to": "a@b.c", "_inngest": {
        "fn_slug": "app-later", "parent_app_id": event["data"]["_inngest"]["parent_app_id"],
        "parent_fn_id": event["data"]["_inngest"]["parent_fn_id"],
        "parent_fn_slug": "app-parent", "parent_run_id": run["run_id"]}})
    assert [e["data"]["n"] for e in deferred_events(app, "app-other")] == [100]


def test_calls_list_the_defers_held_and_a_retransmit_starts_one_run(
        client: Client, app: FakeApp) -> None:
    bodies: list[dict[str, typing.Any]] = []

    def handler(call: Call) -> Reply:
        bodies.append(call.body)
        if not call.body["steps"]:
            return ops(defer_add("mail", data={"first": True}), op("StepRun", "a", data=1))
        return ops(defer_add("mail", data={"first": False}), complete())

    start(client, app, handler)
    assert [body["defers"] for body in bodies] == [{}, {step_hash("mail"): {"abortable": True}}]
    assert [event["data"]["first"] for event in deferred_events(app)] == [True]


def test_an_aborted_defer_never_runs(client: Client, app: FakeApp) -> None:
    bodies: list[dict[str, typing.Any]] = []

    def handler(call: Call) -> Reply:
        bodies.append(call.body)
        if len(bodies) == 1:
            return ops(defer_add("mail"), defer_add("kept", "app-other"),
                       op("StepRun", "a", data=1))
        if len(bodies) == 2:
            return ops(defer_abort("mail"), op("StepRun", "b", data=2))
        return ops(defer_add("mail"), complete())

    start(client, app, handler)
    assert bodies[2]["defers"] == {step_hash("mail"): {"abortable": False},
                                   step_hash("kept"): {"abortable": True}}
    assert deferred_events(app) == []
    assert len(deferred_events(app, "app-other")) == 1


def test_a_failed_run_still_starts_its_defers(client: Client, app: FakeApp) -> None:
    error = {"name": "Error", "message": "oh no"}
    # The JS SDK reports a function's error with defers as a failed step, then throws it
    # again when called back with that step's error.
    start(client, app, by_calls(
        lambda call: ops(defer_add("mail"), op("StepFailed", "complete", error=error)),
        lambda call: (500, {"x-inngest-no-retry": "true"}, error)), "Failed")
    assert len(deferred_events(app)) == 1


@pytest.mark.parametrize("opts", [
    {"fn_slug": "app-later", "input": [1]},
    {"fn_slug": "app-later", "input": {"a": 1}, "meta": "x"},
    {"fn_slug": "app-later", "input": {"big": "x" * (4 * 1024 * 1024)}},
])
def test_a_rejected_defer_is_held_but_never_runs(client: Client, app: FakeApp,
                                                 opts: dict[str, typing.Any]) -> None:
    bodies: list[dict[str, typing.Any]] = []

    def handler(call: Call) -> Reply:
        bodies.append(call.body)
        if len(bodies) == 1:
            return ops(op("DeferAdd", "mail", opts=opts), op("StepRun", "a", data=1))
        return ops(defer_add("mail"), complete())

    start(client, app, handler)
    assert bodies[1]["defers"] == {step_hash("mail"): {"abortable": False}}
    assert deferred_events(app) == []


def test_a_defer_carries_its_sessions_meta(client: Client, app: FakeApp) -> None:
    start(client, app, lambda call: ops(
        defer_add("mail", meta={"sessions": {"org": "acme"}}), complete()))
    [event] = deferred_events(app)
    assert event["meta"]["sessions"] == {"org": "acme"}


@pytest.mark.sockets
def test_checkpointed_defers_are_held(client: Client, app: FakeApp) -> None:
    answers: list[tuple[int, bytes]] = []

    def handler(call: Call) -> Reply:
        run_id = call.body["ctx"]["run_id"]
        answers.append(checkpoint(client, run_id, op("StepRun", "a", data=1),
                                  defer_add("mail"), defer_add("gone", "app-other")))
        answers.append(checkpoint(client, run_id, defer_abort("gone", "app-other")))
        return ops(complete())

    start(client, app, handler)
    assert answers == [(200, b""), (200, b"")]
    assert len(deferred_events(app)) == 1
    assert deferred_events(app, "app-other") == []


def test_run_lists_tell_deferred_runs_apart(client: Client, app: FakeApp) -> None:
    parent = start(client, app, lambda call: ops(defer_add("mail"), complete()))

    def listed(query: str) -> list[str]:
        status, body = client.request("GET", f"/api/v2/runs{query}")
        assert status == 200, body
        return [run["function"]["id"] for run in body["data"]]

    def gql_listed(deferred: str) -> list[str]:
        status, body = client.request("POST", "/v0/gql", {"query": (
            '{ runs(filter: {from: "2020-01-01T00:00:00Z", isDeferred: %s}, orderBy: '
            '[{field: QUEUED_AT, direction: DESC}]) { edges { node { id function { slug } } } '
            'totalCount } }' % deferred)})
        assert status == 200 and "errors" not in body, body
        return [edge["node"]["function"]["slug"] for edge in body["data"]["runs"]["edges"]]

    assert listed("?isDeferred=true") == ["later"]
    assert listed("?isDeferred=false") == ["parent"]
    assert sorted(listed("")) == ["later", "parent"]
    assert (gql_listed("true"), gql_listed("false")) == (["app-later"], ["app-parent"])
    assert parent["status"] == "Completed"


RUN_DEFERS = """query($id: String!) { run(runID: $id) { isDeferred
  defers { hashedDeferID userlandDeferID fnSlug status function { slug } runID run { id } }
  siblingDefers { userlandDeferID runID }
  deferredFrom { runID function { slug } run { id } } } }"""


def run_defers(client: Client, run_id: str) -> dict[str, typing.Any]:
    status, body = client.request("POST", "/v0/gql", {"query": RUN_DEFERS,
                                                      "variables": {"id": run_id}})
    assert status == 200 and "errors" not in body, body
    return dict(body["data"]["run"])


def test_graphql_runs_show_their_defers_and_where_they_came_from(
        client: Client, app: FakeApp) -> None:
    parent = start(client, app, lambda call: ops(
        defer_add("mail"), defer_add("pay", "app-other"), defer_add("gone"),
        defer_abort("gone"), op("DeferAdd", "bad", opts={"fn_slug": "app-x", "input": 1}),
        complete()))
    mail, pay = (app.posts(slug)[0].body["ctx"]["run_id"]
                 for slug in ("app-later", "app-other"))
    answer = run_defers(client, parent["run_id"])
    assert answer["isDeferred"] is False
    assert answer["defers"] == [
        {"hashedDeferID": step_hash("mail"), "userlandDeferID": "mail", "fnSlug": "app-later",
         "status": "SCHEDULED", "function": {"slug": "app-later"}, "runID": mail,
         "run": {"id": mail}},
        {"hashedDeferID": step_hash("pay"), "userlandDeferID": "pay", "fnSlug": "app-other",
         "status": "SCHEDULED", "function": {"slug": "app-other"}, "runID": pay,
         "run": {"id": pay}},
        {"hashedDeferID": step_hash("gone"), "userlandDeferID": "gone", "fnSlug": "app-later",
         "status": "ABORTED", "function": {"slug": "app-later"}, "runID": None, "run": None},
        {"hashedDeferID": step_hash("bad"), "userlandDeferID": "", "fnSlug": "app-x",
         "status": "REJECTED", "function": None, "runID": None, "run": None}]
    assert (answer["siblingDefers"], answer["deferredFrom"]) == ([], [])
    child = run_defers(client, mail)
    assert (child["isDeferred"], child["defers"]) == (False, [])
    assert child["deferredFrom"] == [{"runID": parent["run_id"],
                                      "function": {"slug": "app-parent"},
                                      "run": {"id": parent["run_id"]}}]
    assert child["siblingDefers"] == [
        {"userlandDeferID": "pay", "runID": pay}, {"userlandDeferID": "gone", "runID": None},
        {"userlandDeferID": "", "runID": None}]
