"""GraphQL ``stream``, the dev server's feed of events and the runs they started, as the real
dev server answers it (measured against it; see docs/compatibility.md)."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Client, FakeApp, ok
from test_graphql import data, gql

from inngest._engine.clock import ManualClock

LOOPBACK = True
STREAM = """query Stream($q: StreamQuery!) {
  stream(query: $q) { id trigger type createdAt inBatch runs { id eventID cron status } }
}"""


def stream(client: Client, **query: object) -> list[dict[str, typing.Any]]:
    return list(data(client, STREAM, q=query)["stream"])


def triggers(items: list[dict[str, typing.Any]]) -> list[str]:
    return [item["trigger"] for item in items]


def test_events_newest_first_with_the_runs_they_started(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("one", triggers=[{"event": "test/go"}],
                                       handler=lambda call: ok(1)),
                          app.function("two", triggers=[{"event": "test/go"}],
                                       handler=lambda call: ok(2))])
    [quiet] = client.send({"name": "test/quiet"})
    [go] = client.send({"name": "test/go", "ts": 1_700_000_000_000})
    client.wait_for_run(go, "Completed")
    client.settle()
    items = stream(client)
    # Ordered by the events' own times: the one sent with an old `ts` comes last.
    assert triggers(items) == ["test/quiet", "test/go"]
    first, second = items
    assert (first["id"], first["runs"], first["type"], first["inBatch"]) == (
        quiet, [], "EVENT", False)
    assert second["createdAt"] == "2023-11-14T22:13:20Z"
    runs = second["runs"]
    assert [run["id"] for run in runs] == sorted(run["id"] for run in runs)
    assert [(run["eventID"], run["status"], run["cron"]) for run in runs] == [
        (go, "COMPLETED", None)] * 2


def test_internal_events_show_when_they_started_a_run_or_when_asked(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    data(client, 'mutation { invokeFunction(functionSlug: "app-fn") }')
    [quiet] = client.send({"name": "test/quiet"})
    client.settle()
    assert triggers(stream(client)) == ["test/quiet", "inngest/function.invoked"]
    # Asked for, the engine's own events all show, and the user's only with a run.
    internal = triggers(stream(client, includeInternalEvents=True))
    assert internal == ["inngest/function.finished", "inngest/function.invoked"]
    assert internal == triggers(stream(client, includeInternalEvents=True, limit=2))


def test_limit_before_and_after_bound_the_newest_events(client: Client) -> None:
    ids = client.send(*({"name": f"test/e{n}"} for n in range(5)))
    assert len(stream(client)) == 5
    assert triggers(stream(client, limit=2)) == ["test/e4", "test/e3"]
    assert triggers(stream(client, limit=0)) == []
    assert triggers(stream(client, before=ids[3], limit=2)) == ["test/e2", "test/e1"]
    # `after` bounds from below; the newest of those still come first.
    assert triggers(stream(client, after=ids[1], limit=2)) == ["test/e4", "test/e3"]
    assert triggers(stream(client, after=ids[1], before=ids[4])) == ["test/e3", "test/e2"]
    assert triggers(stream(client, after=ids[3].lower(), before=ids[1])) == []


def test_twenty_events_by_default(client: Client) -> None:
    client.send(*({"name": "test/many"} for _ in range(21)))
    assert len(stream(client)) == 20


@pytest.mark.parametrize("query", [
    {"before": "nope"}, {"after": ""}, {"before": "8" * 26}, {"before": 5}, {"limit": -1}])
def test_a_bad_id_or_limit_is_the_real_servers_internal_error(
        client: Client, query: dict[str, object]) -> None:
    client.send({"name": "test/e"})
    body = gql(client, STREAM, q=query)
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        ("internal system error", ["stream"])]
    assert body["data"] is None


def test_a_batch_of_several_events_marks_each_and_shows_its_run_on_the_first(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1), batchEvents={
        "maxSize": 2, "timeout": "60s"})])
    ids = client.send({"name": "test/fn"}, {"name": "test/fn"})
    client.wait_for_run(ids[0], "Completed")
    items = {item["id"]: item for item in stream(client)}
    assert [items[i]["inBatch"] for i in ids] == [True, True]
    assert [len(items[i]["runs"]) for i in ids] == [1, 0]
    # The run's own fields as the real server's FunctionRun shows a batch's.
    found = data(client, '{ stream(query: {}) { runs { batchID batchCreatedAt } } }')
    [run] = [run for item in found["stream"] for run in item["runs"]]
    assert run["batchID"] is None and run["batchCreatedAt"].endswith("Z")


def test_a_batch_of_one_event_is_no_batch(manual: Client, clock: ManualClock,
                                          app: FakeApp) -> None:
    manual.register(app, [app.function("fn", handler=lambda call: ok(1), batchEvents={
        "maxSize": 5, "timeout": "10s"})])
    [event_id] = manual.send({"name": "test/fn"})
    clock.advance(10)
    manual.wait_for_run(event_id, "Completed")
    [item] = stream(manual)
    assert (item["inBatch"], len(item["runs"])) == (False, 1)
    found = data(manual, '{ stream(query: {}) { runs { batchID batchCreatedAt } } }')
    assert found["stream"][0]["runs"] == [{"batchID": None, "batchCreatedAt": None}]


def test_a_cron_runs_event_shows_as_its_schedule(manual: Client, clock: ManualClock,
                                                 app: FakeApp) -> None:
    manual.register(app, [app.function("tick", handler=lambda call: ok(1),
                                       triggers=[{"cron": "* * * * *"}])])
    clock.advance(60)

    def ticked() -> list[dict[str, typing.Any]] | None:
        return stream(manual) or None

    [item] = manual.wait(ticked)
    assert (item["trigger"], item["type"]) == ("* * * * *", "CRON")
    assert item["runs"][0]["cron"] == "* * * * *"
    internal = stream(manual, includeInternalEvents=True)
    assert "* * * * *" in triggers(internal)
