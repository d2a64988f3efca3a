"""Flow control enforced by the queue: step concurrency, throttled starts and priority."""

from __future__ import annotations

import pathlib
import threading
import typing

import pytest
from engine_fakes import (
    Call, Client, FakeApp, LoopbackDev, Reply, T0, list_runs, ok, op, ops, step_hash, wait,
)

from inngest._engine import timeparse
from inngest._engine.clock import ManualClock
from inngest._loopback import LoopbackTransport

LOOPBACK = True


def runs(client: Client) -> list[dict[str, typing.Any]]:
    return list_runs(client, "id status startedAt triggerIDs cancellationReason")


def completed(client: Client, count: int) -> list[dict[str, typing.Any]]:
    return wait(lambda: (lambda done: done if len(done) >= count else None)(
        [run for run in runs(client) if run["status"] == "COMPLETED"]))


def started_ms(run: dict[str, typing.Any]) -> int:
    moment = timeparse.parse_date(run["startedAt"])
    assert moment is not None
    return round(moment.timestamp() * 1000)


class Gate:
    """A handler that blocks until opened, recording how many calls overlap."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.active: list[typing.Any] = []
        self.most = 0

    def __call__(self, call: Call) -> Reply:
        data = call.body["event"]["data"]
        with self.lock:
            self.active.append(data)
            self.most = max(self.most, len(self.active))
        self.open.wait(5)
        with self.lock:
            self.active.remove(data)
        return ok(data)

    def inflight(self, client: Client, count: int) -> list[typing.Any]:
        """Wait for ``count`` overlapping calls and for the engine to have nothing more it
        may start, then check no more joined them."""
        wait(lambda: len(self.active) >= count)
        client.settle(running=count)
        with self.lock:
            assert len(self.active) == count, self.active
            return list(self.active)


# Concurrency


@pytest.mark.parametrize("limit", [2, {"step": [{"limit": 2}]}], ids=["number", "step"])
def test_number_limits_steps_running_at_once(
    client: Client, app: FakeApp, limit: typing.Any
) -> None:
    gate = Gate()
    client.register(app, [app.function("fn", handler=gate, concurrency=limit)])
    client.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(6)])
    assert len(gate.inflight(client, 2)) == 2
    gate.open.set()
    assert len(completed(client, 6)) == 6
    assert gate.most == 2


def test_keyed_limit_applies_per_key_value(client: Client, app: FakeApp) -> None:
    gate = Gate()
    client.register(app, [app.function(
        "fn", handler=gate, concurrency=[{"limit": 1, "key": "event.data.user"}])])
    client.send(*[{"name": "test/fn", "data": {"user": u, "n": n}}
                  for n, u in enumerate(["a", "a", "b"])])
    running = gate.inflight(client, 2)
    assert sorted(d["user"] for d in running) == ["a", "b"]
    gate.open.set()
    assert len(completed(client, 3)) == 3


def test_keys_of_one_value_as_go_writes_it_share_a_limit(client: Client, app: FakeApp) -> None:
    """Measured on the dev server, which writes a key's value as Go's %v does: a missing
    field, false and "false" are one key, 7 and "7" another."""
    gate = Gate()
    client.register(app, [app.function(
        "fn", handler=gate, concurrency=[{"limit": 1, "key": "event.data.k"}])])
    client.send(*[{"name": "test/fn", "data": data} for data in [
        {}, {"k": False}, {"k": "false"}, {"k": 7}, {"k": "7"}]])
    running = gate.inflight(client, 2)
    assert len({str(data.get("k", "false")).lower() for data in running}) == 2
    gate.open.set()
    assert len(completed(client, 5)) == 5


def test_env_scoped_key_is_shared_across_functions(client: Client, app: FakeApp) -> None:
    gate = Gate()
    shared = {"limit": 1, "key": '"openai"', "scope": "env"}
    client.register(app, [app.function("one", handler=gate, concurrency=[shared]),
                          app.function("two", handler=gate, concurrency=[shared])])
    client.send({"name": "test/one", "data": {"fn": 1}}, {"name": "test/two", "data": {"fn": 2}})
    gate.inflight(client, 1)
    gate.open.set()
    assert len(completed(client, 2)) == 2
    assert gate.most == 1


@pytest.mark.parametrize("limit", [1, {"step": [{"limit": 1}]}], ids=["number", "step"])
def test_sleeping_runs_hold_no_capacity(
    client: Client, app: FakeApp, limit: typing.Any
) -> None:
    def handler(call: Call) -> Reply:
        if call.body["event"]["data"]["sleep"]:
            return ops(op("Sleep", "nap", opts={"duration": "1h"}))
        return ok("done")

    client.register(app, [app.function("fn", handler=handler, concurrency=limit)])
    [sleeper] = client.send({"name": "test/fn", "data": {"sleep": True}})
    wait(lambda: app.posts())
    [worker] = client.send({"name": "test/fn", "data": {"sleep": False}})
    assert client.wait_for_run(worker)["status"] == "Completed"
    assert client.runs(sleeper)[0]["status"] == "Running"


def napper(call: Call) -> Reply:
    """Sleeps an hour on its first call, then completes."""
    if step_hash("nap") in call.body["steps"]:
        return ok("done")
    return ops(op("Sleep", "nap", opts={"duration": "1h"}))


RUN_LIMIT = {"fn": [{"limit": 1, "key": "event.data.user"}]}


def register_run_limited(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=napper, concurrency=RUN_LIMIT),
                          app.function("probe", handler=lambda call: ok("probe"))])


def started(app: FakeApp) -> list[str]:
    return [c.body["event"]["data"]["name"] for c in app.posts("app-fn")]


def scanned(client: Client) -> None:
    """Return once the queue has looked at every item queued before this call."""
    [probe] = client.send({"name": "test/probe"})
    client.wait_for_run(probe)


def test_fn_limit_holds_a_run_slot_until_the_run_ends(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    register_run_limited(client, app)
    [first] = client.send({"name": "test/fn", "data": {"name": "a", "user": "u"}})
    wait(lambda: started(app))
    client.send({"name": "test/fn", "data": {"name": "b", "user": "u"}},
                {"name": "test/fn", "data": {"name": "other", "user": "v"}})
    # "a" sleeps, yet keeps its slot: another key's run starts, while "b" waits. The probe
    # can finish before the call for "other" reaches the app, so that call is waited for.
    wait(lambda: "other" in started(app))
    scanned(client)
    assert started(app) == ["a", "other"]
    clock.advance(3600)
    assert client.wait_for_run(first)["status"] == "Completed"
    order = wait(lambda: (lambda names: names if "b" in names else None)(started(app)))
    # "b" started only after "a" had woken up and finished.
    assert order.index("b") > order.index("a", 1)


def test_cancelling_a_run_frees_its_fn_limit_slot(client: Client, app: FakeApp) -> None:
    register_run_limited(client, app)
    [first] = client.send({"name": "test/fn", "data": {"name": "a", "user": "u"}})
    wait(lambda: started(app))
    client.send({"name": "test/fn", "data": {"name": "b", "user": "u"}})
    scanned(client)
    assert started(app) == ["a"]
    run_id = client.runs(first)[0]["run_id"]
    assert client.request("DELETE", f"/v1/runs/{run_id}")[0] == 200
    wait(lambda: started(app) == ["a", "b"])


def test_fn_limit_slots_survive_a_restart(tmp_path: pathlib.Path, app: FakeApp,
                                          loopback: LoopbackTransport) -> None:
    db_path = str(tmp_path / "main.db")
    with LoopbackDev(loopback, db_path=db_path) as dev:
        client = Client(dev)
        register_run_limited(client, app)
        [first] = client.send({"name": "test/fn", "data": {"name": "a", "user": "u"}})
        wait(lambda: started(app))
    with LoopbackDev(loopback, db_path=db_path) as dev:
        client = Client(dev)
        client.send({"name": "test/fn", "data": {"name": "b", "user": "u"}})
        scanned(client)
        assert started(app) == ["a"]
        run_id = client.runs(first)[0]["run_id"]
        assert client.request("DELETE", f"/v1/runs/{run_id}")[0] == 200
        wait(lambda: started(app) == ["a", "b"])


# Throttle


def test_throttled_burst_starts_every_run_at_the_configured_rate(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    limit, burst, period_s = 10, 2, 10
    client = manual
    client.register(app, [app.function("fn", handler=lambda call: ok("ok"), throttle={
        "limit": limit, "period": f"{period_s}s", "burst": burst})])
    event_ids = client.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(100)])
    # limit + burst back-to-back, then one per period/limit: `limit` more per advance.
    expected = limit + burst
    while True:
        done = completed(client, min(expected, 100))
        assert len(done) == min(expected, 100)
        if expected >= 100:
            break
        clock.advance(period_s)
        expected += limit
    by_event = {run["triggerIDs"][0]: run for run in runs(client)}
    starts = [started_ms(by_event[event_id]) for event_id in event_ids]
    for index, start in enumerate(starts):
        windows = 0 if index < limit + burst else (index - limit - burst) // limit + 1
        assert start == T0 + windows * period_s * 1000, index
    assert len(app.posts()) == 100


def test_throttle_keys_of_one_value_as_go_writes_it_share_a_throttle(
    manual: Client, app: FakeApp
) -> None:
    """As for concurrency keys: three events whose keys Go writes alike start as many runs
    at once as three of one key."""
    client = manual
    client.register(app, [app.function("fn", handler=lambda call: ok("ok"), throttle={
        "limit": 1, "period": "1h", "key": "event.data.k"})])
    groups = [[{"k": "z"}] * 3, [{}, {"k": False}, {"k": "false"}],
              [{"k": 7}, {"k": "7"}, {"k": 7.0}]]
    client.send(*[{"name": "test/fn", "data": {**data, "g": g}}
                  for g, group in enumerate(groups) for data in group])
    client.settle()
    started = [sum(c.body["event"]["data"]["g"] == g for c in app.posts()) for g in range(3)]
    assert started[0] < 3 and started == [started[0]] * 3


# Priority


def test_priority_orders_queued_runs(manual: Client, clock: ManualClock, app: FakeApp) -> None:
    client = manual
    gate = Gate()
    client.register(app, [app.function("fn", handler=gate, concurrency=1,
                                       priority={"run": "event.data.p"})])
    client.send({"name": "test/fn", "data": {"name": "blocker", "p": 0}})
    gate.inflight(client, 1)
    client.send({"name": "test/fn", "data": {"name": "plain", "p": 0}},
                {"name": "test/fn", "data": {"name": "fraction", "p": 100.5}},
                {"name": "test/fn", "data": {"name": "urgent", "p": 60}})
    clock.advance(30)
    client.send({"name": "test/fn", "data": {"name": "later", "p": 0}},
                {"name": "test/fn", "data": {"name": "later-urgent", "p": 31}})
    gate.open.set()
    completed(client, 6)
    order = [c.body["event"]["data"]["name"] for c in app.posts()]
    assert order == ["blocker", "urgent", "later-urgent", "plain", "fraction", "later"]


def test_priority_is_clamped_to_twelve_hours(
    manual: Client, clock: ManualClock, app: FakeApp
) -> None:
    client = manual
    gate = Gate()
    client.register(app, [app.function("fn", handler=gate, concurrency=1,
                                       priority={"run": "event.data.p"})])
    client.send({"name": "test/fn", "data": {"name": "blocker", "p": 0}})
    gate.inflight(client, 1)
    client.send({"name": "test/fn", "data": {"name": "early", "p": 0}})
    clock.advance(43_300)
    client.send({"name": "test/fn", "data": {"name": "huge", "p": 50_000}})
    gate.open.set()
    completed(client, 3)
    assert [c.body["event"]["data"]["name"] for c in app.posts()] == ["blocker", "early", "huge"]


# Handing a run's next call on to the worker that made its last one


def three_steps(calls: list[tuple[int, int]]) -> typing.Callable[[Call], Reply]:
    """A function of three steps that records (run's event n, steps done) per call."""

    def handler(call: Call) -> Reply:
        done = len(call.body["steps"])
        calls.append((call.body["event"]["data"]["n"], done))
        return ops(op("StepRun", f"s{done}")) if done < 3 else ok(done)

    return handler


def test_a_run_in_progress_goes_on_before_runs_not_started(
    loopback: LoopbackTransport, app: FakeApp, clock: ManualClock
) -> None:
    calls: list[tuple[int, int]] = []
    with LoopbackDev(loopback, clock=clock, queue_workers=1) as dev:
        client = Client(dev)
        client.register(app, [app.function("fn", handler=three_steps(calls))])
        client.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(3)])
        assert len(completed(client, 3)) == 3
    assert calls == [(n, done) for n in range(3) for done in range(4)]


def test_a_full_concurrency_limit_goes_to_the_waiting_run_not_the_next_step(
    manual: Client, app: FakeApp
) -> None:
    calls: list[tuple[int, int]] = []
    manual.register(app, [app.function("fn", handler=three_steps(calls), concurrency=1)])
    manual.send(*[{"name": "test/fn", "data": {"n": n}} for n in range(2)])
    assert len(completed(manual, 2)) == 2
    assert calls == [(n, done) for done in range(4) for n in range(2)]
