"""Debounce and batching: events held back and released as one run, also across restarts."""

from __future__ import annotations

import pathlib
import typing

from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, T0, list_runs, ok, wait

from inngest._engine import timeparse
from inngest._engine.clock import ManualClock
from inngest._loopback import LoopbackTransport

LOOPBACK = True


def runs(client: Client) -> list[dict[str, typing.Any]]:
    return list_runs(client, "id status queuedAt batchCreatedAt")


def queued_ms(run: dict[str, typing.Any]) -> int:
    moment = timeparse.parse_date(run["queuedAt"])
    assert moment is not None
    return round(moment.timestamp() * 1000)


def echo(call: Call) -> Reply:
    return ok({"event": call.body["event"]["data"],
               "events": [e["data"] for e in call.body["events"]]})


def calls(app: FakeApp, count: int) -> list[Call]:
    return wait(lambda: (lambda posts: posts if len(posts) >= count else None)(app.posts()))


# Debounce


def test_debounce_runs_once_with_the_last_event_after_the_quiet_period(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """As on the dev server, the run starts 1.05 s after the period (its job's delay)."""
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={"period": "10s"})])
    client.send({"name": "test/fn", "data": {"n": 1}})
    client.settle()  # handled at this moment
    clock.advance(5)
    client.send({"name": "test/fn", "data": {"n": 2}})
    client.settle()  # handled at this moment
    clock.advance(11)
    client.settle()
    assert not runs(client)
    clock.advance(0.05)
    [call] = calls(app, 1)
    assert call.body["event"]["data"] == {"n": 2}
    assert call.body["events"] == [call.body["event"]]
    [run] = runs(client)
    assert queued_ms(run) == T0 + 16_050


def test_debounce_timeout_caps_the_window_for_events(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """Events at 0, 4, 8 and 12 s: from 8 s on, the window closes at the timeout (15 s) and
    the run starts 1.05 s later with the last event."""
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={
        "period": "10s", "timeout": "15s"})])
    for n in range(4):
        clock.advance(4 if n else 0)
        client.send({"name": "test/fn", "data": {"n": n}})
        client.settle()  # handled at this moment
    clock.advance(4)
    client.settle()
    assert not runs(client)
    clock.advance(0.05)
    [call] = calls(app, 1)
    assert call.body["event"]["data"] == {"n": 3}
    assert queued_ms(runs(client)[0]) == T0 + 16_050


def test_an_event_after_the_timeout_window_starts_a_debounce_of_its_own(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """Period 2 s, timeout 3 s, events at 0, 1.2 and 2.6 s (measured on the dev server): the
    event at 1.2 s keeps the window open for the whole second left, to 2.2 s, so the one at
    2.6 s opens a new debounce while the first waits for its timer (3.25 s)."""
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={
        "period": "2s", "timeout": "3s"})])
    for n, step in enumerate((0, 1.2, 1.4)):
        clock.advance(step)
        client.send({"name": "test/fn", "data": {"n": n}})
        client.settle()  # handled at this moment
    clock.advance(0.65)
    [first] = calls(app, 1)
    assert first.body["event"]["data"] == {"n": 1}
    clock.advance(2.4)
    second = calls(app, 2)[1]
    assert second.body["event"]["data"] == {"n": 2}
    assert sorted(queued_ms(run) for run in runs(client)) == [T0 + 3_250, T0 + 5_650]


def test_an_event_older_than_the_one_held_changes_nothing(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """As on the dev server, the debounce keeps the event with the latest ``ts``, and an
    older one does not push its window out."""
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={"period": "10s"})])
    client.send({"name": "test/fn", "data": {"n": 0}})
    client.settle()  # handled at this moment
    clock.advance(5)
    client.send({"name": "test/fn", "data": {"n": 1}, "ts": T0 - 60_000})
    client.settle()  # handled at this moment
    clock.advance(6.05)
    [call] = calls(app, 1)
    assert call.body["event"]["data"] == {"n": 0}


def test_debounce_keys_are_independent(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={
        "period": "10s", "key": "event.data.user"})])
    client.send(*[{"name": "test/fn", "data": {"user": user, "n": n}}
                  for n, user in enumerate(["a", "b", "a"])])
    clock.advance(11.05)
    posts = calls(app, 2)
    assert sorted((c.body["event"]["data"]["user"], c.body["event"]["data"]["n"])
                  for c in posts) == [("a", 2), ("b", 1)]


def test_debounce_keys_of_one_value_as_go_writes_it_share_a_debounce(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """Measured on the dev server, which writes a key's value as Go's %v does: a missing
    field and false are one key ("false"), null another ("NULL_VALUE"), 1 and "1" one; keys
    that fail ("s" * 2, false * 2) are one too, "<invalid>"."""
    client = manual
    client.register(app, [
        app.function("fn", handler=echo, debounce={"period": "10s", "key": "event.data.k"}),
        app.function("mul", handler=echo,
                     debounce={"period": "10s", "key": "event.data.k * 2"}),
    ])
    groups: list[list[typing.Any]] = [
        [{}, {"k": False}, {"k": "false"}], [{"k": None}, {"k": "NULL_VALUE"}],
        [{"k": 1}, {"k": "1"}, {"k": 1.0}], [{"k": [1.0, None]}, {"k": "[1 <nil>]"}]]
    client.send(*[{"name": "test/fn", "data": {**one, "group": g}}
                  for g, group in enumerate(groups) for one in group])
    client.send(*[{"name": "test/mul", "data": {"k": k}} for k in ("s", False)])
    clock.advance(11.05)
    calls(app, len(groups) + 1)
    client.settle()
    assert sorted(c.body["event"]["data"].get("group", -1) for c in app.posts()) == [
        -1, 0, 1, 2, 3]


def test_events_closer_than_a_second_keep_a_debounce_open_past_its_timeout(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """Measured on the dev server: past the timeout each event keeps the window open for
    1 s more, so a stream of events 0.5 s apart makes one run, after the last of them."""
    client = manual
    client.register(app, [app.function("fn", handler=echo, debounce={
        "period": "2s", "timeout": "3s"})])
    for n in range(8):
        clock.advance(0.5 if n else 0)
        client.send({"name": "test/fn", "data": {"n": n}})
        client.settle()  # handled at this moment
    clock.advance(2)
    client.settle()
    assert not runs(client)
    clock.advance(0.05)
    [call] = calls(app, 1)
    assert call.body["event"]["data"] == {"n": 7}
    assert queued_ms(runs(client)[0]) == T0 + 5_550


# Batching


def test_full_batch_runs_at_once_with_every_event(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=echo, batchEvents={
        "maxSize": 3, "timeout": "60s"})])
    client.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(7)])
    posts = sorted(calls(app, 2), key=lambda c: c.body["event"]["data"]["n"])
    assert [[e["data"]["n"] for e in c.body["events"]] for c in posts] == [[0, 1, 2], [3, 4, 5]]
    assert [c.body["event"]["data"]["n"] for c in posts] == [0, 3]
    assert all(run["batchCreatedAt"] for run in runs(client))


def test_partial_batch_runs_when_the_timeout_fires(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    client.register(app, [app.function("fn", handler=echo, batchEvents={
        "maxSize": 5, "timeout": "10s"})])
    client.send({"name": "test/fn", "data": {"n": 0}})
    clock.advance(4)
    client.send({"name": "test/fn", "data": {"n": 1}})
    clock.advance(5)
    assert not runs(client)
    clock.advance(1)
    [call] = calls(app, 1)
    assert [e["data"]["n"] for e in call.body["events"]] == [0, 1]
    assert queued_ms(runs(client)[0]) == T0 + 10_000


def test_batch_keys_as_go_writes_them_and_a_failing_key_drops_the_event(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    """Measured on the dev server: batch keys group as debounce keys do, and an event whose
    key fails ("s" * 2) joins no batch and starts no run."""
    client = manual
    batch = {"maxSize": 10, "timeout": "10s"}
    client.register(app, [
        app.function("fn", handler=echo, batchEvents={**batch, "key": "event.data.k"}),
        app.function("mul", handler=echo, batchEvents={**batch, "key": "event.data.k * 2"}),
    ])
    data: list[dict[str, typing.Any]] = [
        {}, {"k": False}, {"k": "false"}, {"k": 1}, {"k": "1"}, {"k": None}, {"k": 8.0},
        {"k": "8"}]
    client.send(*[{"name": "test/fn", "data": {**one, "n": n}} for n, one in enumerate(data)])
    client.send({"name": "test/mul", "data": {"k": "s", "n": 10}},
                {"name": "test/mul", "data": {"n": 11}})
    clock.advance(10)
    calls(app, 5)
    client.settle()
    assert sorted([e["data"]["n"] for e in c.body["events"]] for c in app.posts()) == [
        [0, 1, 2], [3, 4], [5], [6, 7], [11]]


def test_batch_key_partitions_and_if_runs_others_alone(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=echo, batchEvents={
        "maxSize": 2, "timeout": "60s", "key": "event.data.user", "if": "event.data.batch"})])
    client.send({"name": "test/fn", "data": {"user": "a", "batch": True, "n": 0}},
                {"name": "test/fn", "data": {"user": "b", "batch": True, "n": 1}},
                {"name": "test/fn", "data": {"user": "a", "batch": False, "n": 2}},
                {"name": "test/fn", "data": {"user": "a", "batch": True, "n": 3}})
    posts = calls(app, 2)
    assert sorted([e["data"]["n"] for e in c.body["events"]] for c in posts) == [[0, 3], [2]]
    assert len(runs(client)) == 2


# Restarts


def test_pending_debounce_and_batch_survive_a_restart(
    tmp_path: pathlib.Path, clock: ManualClock, app: FakeApp, loopback: LoopbackTransport
) -> None:
    def server() -> LoopbackDev:
        return LoopbackDev(loopback, db_path=str(tmp_path / "main.db"), clock=clock)

    with server() as first:
        client = Client(first)
        client.register(app, [
            app.function("deb", handler=echo, debounce={"period": "10s"}),
            app.function("bat", handler=echo, batchEvents={"maxSize": 2, "timeout": "1h"}),
        ])
        client.send({"name": "test/deb", "data": {"n": "debounced"}},
                    {"name": "test/bat", "data": {"n": "first"}})
    assert not app.posts()
    with server() as second:
        client = Client(second)
        client.send({"name": "test/bat", "data": {"n": "second"}})
        [batch] = wait(lambda: app.posts("app-bat"))
        assert [e["data"]["n"] for e in batch.body["events"]] == ["first", "second"]
        clock.advance(11.05)
        [debounced] = wait(lambda: app.posts("app-deb"))
        assert debounced.body["event"]["data"] == {"n": "debounced"}
