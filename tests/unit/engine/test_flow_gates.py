"""Flow control decided when runs are created: rate limit, idempotency, singleton, timeouts."""

from __future__ import annotations

import threading
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, list_runs, ok, op, ops, step_hash, wait

from inngest._engine.clock import ManualClock
from inngest._engine.http.server import DevServer

LOOPBACK = True


def runs(client: Client) -> list[dict[str, typing.Any]]:
    return list_runs(client, "id status triggerIDs cancellationReason")


def with_status(client: Client, status: str, count: int) -> list[dict[str, typing.Any]]:
    return wait(lambda: (lambda found: found if len(found) >= count else None)(
        [run for run in runs(client) if run["status"] == status]))


def echo(call: Call) -> Reply:
    return ok(call.body["event"]["data"])


# Rate limit and idempotency


def test_rate_limited_burst_starts_only_the_allowed_runs(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    client.register(app, [app.function("fn", handler=echo,
                                       rateLimit={"limit": 10, "period": "1h"})])
    event_ids = client.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(100)])
    # GCRA with burst floor(10 / 10) = 1: two back-to-back, then one per 6 minutes.
    done = with_status(client, "COMPLETED", 2)
    # As on the real server, a rate-limited event starts no run at all (no skipped run).
    assert len(runs(client)) == 2
    assert {run["triggerIDs"][0] for run in done} == set(event_ids[:2])
    assert client.runs(event_ids[2]) == [] and client.runs(event_ids[99]) == []
    assert len(app.posts()) == 2
    clock.advance(359)
    [early] = client.send({"name": "test/fn", "data": {"n": "early"}})
    clock.advance(1)
    [late] = client.send({"name": "test/fn", "data": {"n": "late"}})
    assert client.wait_for_run(late)["status"] == "Completed"
    assert client.runs(early) == [] and len(runs(client)) == 3
    assert [c.body["event"]["data"]["n"] for c in app.posts()][2:] == ["late"]


def test_rate_limit_is_per_key_and_off_when_the_key_is_false(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function("fn", handler=echo, rateLimit={
        "limit": 1, "period": "1h", "key": "event.data.user"})])
    event_ids = client.send(*[{"name": "test/fn", "data": {"user": user}}
                              for user in ["a", "a", "b", False, False, False]])
    assert len(with_status(client, "COMPLETED", 5)) == 5
    assert len(runs(client)) == 5 and client.runs(event_ids[1]) == []
    users = sorted(str(c.body["event"]["data"]["user"]) for c in app.posts())
    assert users == ["False", "False", "False", "a", "b"]


def test_idempotency_key_allows_one_run_per_value(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=echo, idempotency="event.data.order")])
    event_ids = client.send(*[{"name": "test/fn", "data": {"order": order}}
                              for order in [1, 1, 2, 1]])
    done = with_status(client, "COMPLETED", 2)
    # As on the real server, a duplicate creates no run at all (not even a skipped one).
    assert len(runs(client)) == 2
    assert {run["triggerIDs"][0] for run in done} == {event_ids[0], event_ids[2]}
    assert client.runs(event_ids[1]) == [] and client.runs(event_ids[3]) == []
    assert sorted(c.body["event"]["data"]["order"] for c in app.posts()) == [1, 2]


def test_idempotency_takes_the_place_of_the_rate_limit(client: Client, app: FakeApp) -> None:
    """As on the real server, which keeps an idempotency key as the function's rate limit:
    the rate limit of one an hour given beside it does not apply."""
    client.register(app, [app.function("fn", handler=echo, idempotency="event.data.order",
                                       rateLimit={"limit": 1, "period": "1h"})])
    event_ids = client.send(*[{"name": "test/fn", "data": {"order": order}}
                              for order in [1, 2, 1]])
    assert len(with_status(client, "COMPLETED", 2)) == 2
    assert client.runs(event_ids[2]) == []
    assert sorted(c.body["event"]["data"]["order"] for c in app.posts()) == [1, 2]


@pytest.mark.parametrize("limit", [{"idempotency": "event.data.order"}, {
    "rateLimit": {"limit": 1, "period": "1h", "key": "event.data.order"}}])
def test_a_key_reading_a_missing_field_or_false_is_off(
    client: Client, app: FakeApp, limit: dict[str, typing.Any]
) -> None:
    """Measured on the real server: the value of a missing field is unknown there, taken as
    false, so events without the field are not limited (``null`` here would be one key),
    nor are those whose key is false."""
    client.register(app, [app.function("fn", handler=echo, **limit)])
    client.send(*[{"name": "test/fn", "data": data}
                  for data in [{"n": 0}, {"n": 1}, {"order": False}, {"order": False}]])
    assert len(with_status(client, "COMPLETED", 4)) == 4


def test_event_id_dedupes_runs_without_a_skipped_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=echo)])
    client.send({"name": "test/fn", "id": "same"}, {"name": "test/fn", "id": "same"})
    with_status(client, "COMPLETED", 1)
    assert len(runs(client)) == 1


def test_rate_limited_invoke_fails_the_callers_step(client: Client, app: FakeApp) -> None:
    def caller(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("child") not in steps:
            return ops(op("InvokeFunction", "child", opts={
                "function_id": "app-child", "payload": {"data": {}}}))
        return ok(steps[step_hash("child")])

    client.register(app, [
        app.function("caller", handler=caller),
        app.function("child", handler=echo, rateLimit={"limit": 1, "period": "1h"}),
    ])
    [first] = client.send({"name": "test/caller"})
    assert "data" in client.wait_for_run(first)["output"]
    [second] = client.send({"name": "test/caller"})
    output = client.wait_for_run(second)["output"]
    assert output == {"error": {"name": "Error", "message": "invoked function is rate limited"}}


def test_an_invoke_with_a_used_idempotency_key_fails_the_callers_step(
    client: Client, app: FakeApp
) -> None:
    def caller(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("child") not in steps:
            return ops(op("InvokeFunction", "child", opts={
                "function_id": "app-child", "payload": {"data": {"key": "same"}}}))
        return ok(steps[step_hash("child")])

    client.register(app, [
        app.function("caller", handler=caller),
        app.function("child", handler=echo, idempotency="event.data.key"),
    ])
    [first] = client.send({"name": "test/caller"})
    assert client.wait_for_run(first)["output"]["data"]["key"] == "same"
    [second] = client.send({"name": "test/caller"})
    output = client.wait_for_run(second)["output"]
    assert output == {"error": {"name": "Error", "message": "invoked function is rate limited"}}
    assert len(app.posts("app-child")) == 1


# Singleton


class Held:
    """A handler whose runs for ``data.hold`` block until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, call: Call) -> Reply:
        if call.body["event"]["data"].get("hold"):
            self.release.wait(5)
        return ok(call.body["event"]["data"])


def test_singleton_skip_mode_skips_while_a_run_is_in_progress(
    client: Client, app: FakeApp
) -> None:
    held = Held()
    client.register(app, [app.function("fn", handler=held, singleton={
        "key": "event.data.user", "mode": "skip"})])
    [first] = client.send({"name": "test/fn", "data": {"user": "a", "hold": True}})
    wait(app.posts)
    client.send({"name": "test/fn", "data": {"user": "a"}},
                {"name": "test/fn", "data": {"user": "b"}})
    with_status(client, "COMPLETED", 1)
    # As on the real server, the runs list leaves the skipped event's run out.
    assert sorted(run["status"] for run in runs(client)) == ["COMPLETED", "RUNNING"]
    held.release.set()
    assert client.wait_for_run(first)["status"] == "Completed"
    [after] = client.send({"name": "test/fn", "data": {"user": "a"}})
    assert client.wait_for_run(after)["status"] == "Completed"


SKIPPED_QUERY = """query($event: ULID!, $legacy: ID!) {
  eventV2(id: $event) { runs { id status triggerIDs startedAt endedAt
    trace(preview: true) { name status skipReason skipExistingRunID startedAt } } }
  event(query: {eventId: $legacy}) { functionRuns { id } totalRuns }
}"""


def skipped_run_of(client: Client, event_id: str) -> dict[str, typing.Any]:
    status, body = client.request("POST", "/v0/gql", {
        "query": SKIPPED_QUERY, "variables": {"event": event_id, "legacy": event_id}})
    assert status == 200 and "errors" not in body, body
    assert body["data"]["event"] == {"functionRuns": None, "totalRuns": 0}
    [run] = body["data"]["eventV2"]["runs"]
    return dict(run)


def test_singleton_skip_records_a_skipped_run_shown_only_among_its_events_runs(
    client: Client, app: FakeApp
) -> None:
    """Measured on the dev server: a run with status SKIPPED, its raw span naming the reason
    and the run the singleton kept; the runs list, the legacy queries and REST v1 know none,
    and no inngest/function.finished is sent for it."""
    held = Held()
    client.register(app, [
        app.function("fn", handler=held, singleton={"key": "event.data.user", "mode": "skip"}),
        app.function("watch", [{"event": "inngest/function.finished"}], handler=echo),
    ])
    [first] = client.send({"name": "test/fn", "data": {"user": "a", "hold": True}})
    wait(app.posts)
    [holder] = client.runs(first)
    [second] = client.send({"name": "test/fn", "data": {"user": "a"}})
    skipped = skipped_run_of(client, second)
    assert skipped["status"] == "SKIPPED" and skipped["triggerIDs"] == []
    assert skipped["startedAt"] == skipped["endedAt"] is not None
    assert skipped["trace"] == {"name": "executor.run", "status": "SKIPPED",
                                "skipReason": "Singleton",
                                "skipExistingRunID": holder["run_id"], "startedAt": None}
    assert client.runs(second) == []
    assert client.request("GET", f"/v1/runs/{skipped['id']}")[0] == 404
    for mutation in ("cancelRun(runID: $id) { id }", "rerun(runID: $id)"):
        answer = client.request("POST", "/v0/gql", {
            "query": "mutation($id: ULID!) { %s }" % mutation, "variables": {"id": skipped["id"]}})
        assert [error["message"] for error in answer[1]["errors"]] == ["run not found"]
    assert client.request("POST", f"/api/v2/runs/{skipped['id']}/cancel", {})[0] == 404
    assert skipped["id"] not in {run["id"] for run in runs(client)}
    held.release.set()
    client.wait_for_run(first)
    watched = with_status(client, "COMPLETED", 2)
    finished = [call.body["event"]["data"]["run_id"] for call in app.posts("app-watch")]
    assert len(watched) == 2 and finished == [holder["run_id"]]


def test_singleton_keyed_by_a_missing_field_is_no_singleton(
    client: Client, app: FakeApp
) -> None:
    """As on the real server, where the missing field's value is unknown, taken as false."""
    held = Held()
    client.register(app, [app.function("fn", handler=held, singleton={
        "key": "event.data.user", "mode": "skip"})])
    client.send({"name": "test/fn", "data": {"hold": True}})
    wait(app.posts)
    [second] = client.send({"name": "test/fn", "data": {}})
    assert client.wait_for_run(second)["status"] == "Completed"
    held.release.set()
    with_status(client, "COMPLETED", 2)


def test_singleton_cancel_mode_replaces_the_running_run(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if call.body["event"]["data"]["n"] == 1:
            return ops(op("Sleep", "nap", opts={"duration": "1h"}))
        return ok("second")

    client.register(app, [
        app.function("fn", handler=handler, singleton={"mode": "cancel"}),
        app.function("watch", [{"event": "inngest/function.cancelled"}], handler=echo),
    ])
    [first] = client.send({"name": "test/fn", "data": {"n": 1}})
    client.wait_for_run(first, status="Running")
    wait(app.posts)
    [second] = client.send({"name": "test/fn", "data": {"n": 2}})
    assert client.wait_for_run(second)["status"] == "Completed"
    assert client.runs(first)[0]["status"] == "Cancelled"
    [cancelled] = [run for run in runs(client) if run["status"] == "CANCELLED"]
    assert cancelled["cancellationReason"] == "Singleton"
    watched = wait(lambda: app.posts("app-watch"))
    assert watched[0].body["event"]["data"]["run_id"] == client.runs(first)[0]["run_id"]


# Timeouts


def test_start_timeout_cancels_a_run_that_never_started(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    held = Held()
    client.register(app, [app.function("fn", handler=held, concurrency=1,
                                       timeouts={"start": "10s"})])
    [blocker] = client.send({"name": "test/fn", "data": {"hold": True}})
    wait(app.posts)
    [waiting] = client.send({"name": "test/fn", "data": {}})
    clock.advance(10)
    assert client.wait_for_run(waiting)["status"] == "Cancelled"
    held.release.set()
    assert client.wait_for_run(blocker)["status"] == "Completed"
    [cancelled] = [run for run in runs(client) if run["status"] == "CANCELLED"]
    assert cancelled["cancellationReason"] == "StartTimeout"
    assert len(app.posts()) == 1


@pytest.mark.sockets
def test_a_call_taken_after_the_start_timeout_does_not_start_the_run(
    clock: ManualClock, app: FakeApp
) -> None:
    """The engine's one worker is busy past the run's start timeout; the run's first call,
    queued before the timeout item, is then taken first: the real server checks the
    timeout before each call, so the run is cancelled, never started."""
    held = Held()
    with DevServer(port=0, poll=False, clock=clock, queue_workers=1) as dev:
        client = Client(dev)
        client.register(app, [app.function("busy", handler=held),
                              app.function("fn", handler=echo, timeouts={"start": "10s"})])
        client.send({"name": "test/busy", "data": {"hold": True}})
        wait(app.posts)
        [late] = client.send({"name": "test/fn"})
        clock.advance(11)
        held.release.set()
        run = client.wait_for_run(late)
        assert run["status"] == "Cancelled"
        assert not app.posts("app-fn")


def test_finish_timeout_cancels_and_emits_cancelled(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    client.register(app, [
        app.function("fn", handler=lambda call: ops(op("Sleep", "nap", opts={
            "duration": "1h"})), timeouts={"finish": "30s"}),
        app.function("watch", [{"event": "inngest/function.cancelled"}], handler=echo),
    ])
    [event_id] = client.send({"name": "test/fn"})
    client.wait_for_run(event_id, status="Running")
    wait(app.posts)
    clock.advance(29)
    assert client.runs(event_id)[0]["status"] == "Running"
    clock.advance(1)
    assert client.wait_for_run(event_id)["status"] == "Cancelled"
    [cancelled] = [run for run in runs(client) if run["status"] == "CANCELLED"]
    assert cancelled["cancellationReason"] == "FinishTimeout"
    watched = wait(lambda: app.posts("app-watch"))
    assert watched[0].body["event"]["data"]["run_id"] == cancelled["id"]


def test_cancelled_runs_show_their_reason_in_the_legacy_run_query(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "nap", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = client.wait_for_run(event_id, status="Running")["run_id"]
    client.request("DELETE", f"/v1/runs/{run_id}")
    query = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
        status cancellationReason } }"""
    status, body = client.request("POST", "/v0/gql", {"query": query,
                                                      "variables": {"id": run_id}})
    assert body["data"]["functionRun"] == {"status": "CANCELLED", "cancellationReason": "Manual"}


# Durations the real server accepts at sync, however long

HUGE = "99999999999999h"


@pytest.mark.parametrize("config", [
    {"timeouts": {"start": HUGE, "finish": HUGE}},
    {"cancel": [{"event": "test/stop", "timeout": HUGE},
                {"event": "test/halt", "timeout": "2030-01-01T00:00:00Z"}]},
])
def test_huge_durations_never_fail_the_events_that_trigger_them(
    client: Client, app: FakeApp, config: dict[str, typing.Any]
) -> None:
    assert client.register(app, [app.function("fn", handler=echo, **config)])[0] == 200
    status, body = client.request("POST", "/e/key", {"name": "test/fn", "data": {"n": 1}})
    assert status == 200, body
    run = client.wait_for_run(body["ids"][0])
    assert run["status"] == "Completed" and run["output"] == {"n": 1}


# Key values as the real server writes them (measured; see cel.gofmt)

# Each group is one key on the real server: Go's %v of cel-go's value, numbers float64.
SAME_KEYS: list[list[typing.Any]] = [
    [7, "7", 7.0], [True, "true"], [None, "NULL_VALUE"], [[1, "b"], "[1 b]"],
    [{"a": 1, "b": "c"}, "map[a:1 b:c]"], [100000000, "1e+08"], [[1.0, None], "[1 <nil>]"],
]


def test_rate_limit_keys_of_one_value_as_go_writes_it_are_one_key(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function("fn", handler=echo, rateLimit={
        "limit": 1, "period": "1h", "key": "event.data.k"})])
    groups = [client.send(*[{"name": "test/fn", "data": {"k": k}} for k in group])
              for group in SAME_KEYS]
    assert len(with_status(client, "COMPLETED", len(SAME_KEYS))) == len(SAME_KEYS)
    client.settle()
    assert len(runs(client)) == len(SAME_KEYS)
    assert all(sum(len(client.runs(event_id)) for event_id in ids) == 1 for ids in groups)


def test_rate_limit_key_that_fails_starts_no_run(client: Client, app: FakeApp) -> None:
    """Measured: ``"s" * 2`` fails, and the real server then starts no run; a missing field
    in ``*`` makes the key false (off), in ``+`` leaves the other operand."""
    client.register(app, [
        app.function("mul", handler=echo, rateLimit={
            "limit": 1, "period": "1h", "key": "event.data.a * 2"}),
        app.function("add", handler=echo, rateLimit={
            "limit": 1, "period": "1h", "key": 'event.data.a + "x"'}),
    ])
    [failing] = client.send({"name": "test/mul", "data": {"a": "s"}})
    client.send(*[{"name": "test/mul", "data": {}}] * 2)
    joined = client.send(*[{"name": "test/add", "data": data}
                           for data in [{}, {"a": ""}, {"a": 1}, {"a": "1"}]])
    assert len(with_status(client, "COMPLETED", 4)) == 4
    client.settle()
    assert client.runs(failing) == [] and len(runs(client)) == 4
    assert [len(client.runs(event_id)) for event_id in joined] == [1, 0, 1, 0]


def test_singleton_keys_of_one_value_as_go_writes_it_are_one_key(
    client: Client, app: FakeApp
) -> None:
    held = Held()
    client.register(app, [app.function("fn", handler=held, singleton={
        "key": 'event.data.a + "x"', "mode": "skip"})])
    client.send({"name": "test/fn", "data": {"a": 1, "hold": True}})
    wait(app.posts)
    [same, other] = client.send({"name": "test/fn", "data": {"a": "1"}},
                                {"name": "test/fn", "data": {"a": [1], "b": True}})
    # [1] + "x" joins too ("[1]x"): a key of its own; the "1" event is skipped.
    assert client.wait_for_run(other)["status"] == "Completed"
    client.settle(running=1)
    assert client.runs(same) == []
    held.release.set()


def test_rate_limit_keys_with_non_boolean_logic_go_by_truthiness(
    client: Client, app: FakeApp
) -> None:
    """Measured on the real server: ``a || b`` is the first truthy operand, ``c ? x : y``
    takes a condition by its truthiness."""
    rate = {"limit": 1, "period": "1h"}
    client.register(app, [
        app.function("or", handler=echo, rateLimit={**rate, "key": "event.data.a || event.data.b"}),
        app.function("cond", handler=echo, rateLimit={**rate, "key": 'event.data.c ? "y" : "n"'}),
    ])
    either = client.send(*[{"name": "test/or", "data": data}
                           for data in [{"a": "", "b": "q"}, {"a": "q"}, {"a": "", "b": "z"}]])
    branch = client.send(*[{"name": "test/cond", "data": {"c": c}} for c in ["text", True, ""]])
    assert len(with_status(client, "COMPLETED", 4)) == 4
    client.settle()
    assert [len(client.runs(event_id)) for event_id in either] == [1, 0, 1]
    assert [len(client.runs(event_id)) for event_id in branch] == [1, 0, 1]
