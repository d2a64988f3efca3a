"""What a run in progress keeps in memory while other runs come and go: each of its calls
reads its memos, defers and pauses, and reading them back from the database on every call
cost a query each."""

from __future__ import annotations

from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash

from inngest._engine.models import Run
from inngest._engine.store import TEMPORARY, Store

LOOPBACK = True


def _run(run_id: str) -> Run:
    return Run(id=run_id, function_id="fn", function_version=1, event_ids=[],
               created_at_ms=1, event_seq=0)


def test_a_sleeping_run_wakes_without_reading_its_state_back_after_hundreds_of_runs(
    client: Client, app: FakeApp, dev: LoopbackDev
) -> None:
    def sleeper(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("a") not in steps:
            return ops(op("StepRun", "a", data={"n": 1}))
        if step_hash("nap") not in steps:
            return ops(op("Sleep", "nap", opts={"duration": "1h"}))
        return ok({"a": steps[step_hash("a")]["data"]["n"]})

    client.register(app, [app.function("sleeper", handler=sleeper),
                          app.function("quick", handler=lambda call: ok(1))])
    [sleeping] = client.send({"name": "test/sleeper"})
    client.wait(lambda: len(app.posts("app-sleeper")) == 2)
    for _ in range(6):  # in batches: the runs in progress at once stay few
        quick = client.send(*[{"name": "test/quick"}] * 50)
        # Until they have run, the clock standing still (the sleeper sleeps on).
        assert dev.engine.queue.wait_idle(10)[0]
        assert {client.runs(event_id)[0]["status"] for event_id in quick} == {"Completed"}
    assert client.runs(sleeping)[0]["status"] == "Running"
    statements: list[str] = []
    dev.engine.store._conn.set_trace_callback(statements.append)
    dev.clock.set(dev.clock.now_ms() + 3_600_000)
    assert client.wait_for_run(sleeping, timeout=10)["output"] == {"a": 1}
    dev.engine.store._conn.set_trace_callback(None)
    read_back = [sql for sql in statements
                 if sql.startswith("SELECT") and (" FROM steps " in sql or " FROM defers " in sql)]
    assert read_back == []


def test_a_run_in_progress_is_not_read_back_while_hundreds_of_others_start_and_end() -> None:
    store = Store(TEMPORARY)
    statements: list[str] = []
    try:
        store.add_run(_run("live"))
        store.save_step("live", "a", {"data": 1})
        for index in range(600):
            store.add_run(_run(f"other-{index}"))
            store.forget_run(f"other-{index}")  # as each one's end does
        store._conn.set_trace_callback(statements.append)
        assert store.canonical_steps("live") == [("a", '{"data":1}')]
        assert store.has_step("live", "a") and not store.has_step("live", "b")
        assert store.step_count("live") == 1
        assert store.defers("live") == []
        store.delete_run_pauses("live")
        assert statements == []
    finally:
        store.close()


def test_an_ended_run_forgotten_is_read_from_the_database() -> None:
    store = Store(TEMPORARY)
    try:
        store.add_run(_run("done"))
        store.save_step("done", "a", {"data": "ü"})
        store.add_defer("done", "h1", {"status": "AfterRun"})
        store.forget_run("done")
        assert store.canonical_steps("done") == [("a", '{"data":"ü"}')]
        assert store.has_step("done", "a") and store.step_count("done") == 1
        assert [hashed for hashed, _ in store.defers("done")] == ["h1"]
    finally:
        store.close()
