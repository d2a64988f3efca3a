"""State that must survive: cron schedules (with a manual clock) and restarts with --persist."""

from __future__ import annotations

import datetime
import pathlib
import sqlite3

from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash, wait

from inngest._engine.clock import ManualClock
from inngest._engine.models import Kind
from inngest._loopback import LoopbackTransport
from inngest._protocol import jcs

LOOPBACK = True

START = datetime.datetime(2026, 1, 1, 0, 0, 30, tzinfo=datetime.timezone.utc)


def test_cron_fires_on_the_injected_clock(app: FakeApp, loopback: LoopbackTransport) -> None:
    clock = ManualClock(round(START.timestamp() * 1000))
    with LoopbackDev(loopback, clock=clock) as dev:
        client = Client(dev)
        client.register(app, [app.function(
            "tick", [{"cron": "TZ=UTC * * * * *"}],
            handler=lambda call: ok(call.body["event"]))])
        [item] = [i for i in dev.engine.store.items() if i.kind is Kind.CRON]
        assert item.available_at_ms == clock.now_ms() + 30_000
        clock.advance(29)
        assert not app.posts()
        clock.advance(1)
        [call] = wait(app.posts)
        event = call.body["event"]
        assert event["name"] == "inngest/scheduled.timer"
        assert event["id"] == "2026-01-01T00:01:00Z"
        assert event["data"] == {"cron": "TZ=UTC * * * * *",
                                 "scheduledAt": "2026-01-01T00:01:00Z",
                                 "fireAt": "2026-01-01T00:01:00Z"}
        assert event["ts"] == clock.now_ms()
        [next_item] = wait(lambda: [i for i in dev.engine.store.items() if i.kind is Kind.CRON])
        assert next_item.available_at_ms == clock.now_ms() + 60_000


def test_run_resumes_after_restart_without_rerunning_steps(
    tmp_path: pathlib.Path, app: FakeApp, loopback: LoopbackTransport
) -> None:
    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("a") not in steps:
            return ops(op("StepRun", "a", data="A"))
        if step_hash("nap") not in steps:
            return ops(op("Sleep", "nap", opts={"duration": "500ms"}))
        return ok(steps[step_hash("a")]["data"] + "!")

    db_path = str(tmp_path / "main.db")
    first = LoopbackDev(loopback, db_path=db_path)
    client = Client(first)
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    wait(lambda: len(app.posts()) == 2)
    run_id = client.runs(event_id)[0]["run_id"]
    first.stop()
    assert (tmp_path / "main.db").exists()

    with LoopbackDev(loopback, db_path=db_path) as second:
        client = Client(second)
        run = client.wait_for_run(event_id)
        assert run["run_id"] == run_id and run["status"] == "Completed"
        assert run["output"] == "A!"
    assert len(app.posts()) == 3
    assert app.posts()[-1].body["steps"] == {step_hash("a"): {"data": "A"},
                                             step_hash("nap"): None}


def test_steps_saved_by_an_engine_without_canonical_texts_are_sent_canonical(
    tmp_path: pathlib.Path, app: FakeApp, loopback: LoopbackTransport
) -> None:
    value = {"z": 1.0, "a": [0.5, {"y": 1, "x": 2}]}

    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("a") not in steps:
            return ops(op("StepRun", "a", data=value))
        if step_hash("nap") not in steps:
            return ops(op("Sleep", "nap", opts={"duration": "300ms"}))
        return ok(steps[step_hash("a")]["data"])

    db_path = tmp_path / "main.db"
    first = LoopbackDev(loopback, db_path=str(db_path))
    client = Client(first)
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    wait(lambda: len(app.posts()) == 2)
    first.stop()
    with sqlite3.connect(db_path) as conn:  # as an engine before the canon column left it
        conn.execute("ALTER TABLE steps DROP COLUMN canon")
    conn.close()

    with LoopbackDev(loopback, db_path=str(db_path)) as second:
        run = Client(second).wait_for_run(event_id)
        assert run["status"] == "Completed" and run["output"] == value
    last = app.posts()[-1]
    assert last.body["steps"][step_hash("a")] == {"data": value}
    assert last.raw == jcs.canonicalize(last.body)
