"""inngest.testing.TestEngine: durable semantics on a virtual clock, in one process."""

from __future__ import annotations

import datetime
import typing

import pytest

import inngest
import inngest.testing
from inngest.testing import RunStatus, TestEngine, TestEngineError

DAY = datetime.timedelta(days=1)


def _client() -> inngest.Inngest:
    return inngest.Inngest(app_id="test-app", is_production=False)


def test_a_wait_resumes_with_the_matching_event_only() -> None:
    client = _client()

    @client.create_function(fn_id="checkout", trigger=inngest.TriggerEvent(event="cart/done"))
    def checkout(ctx: inngest.ContextSync) -> object:
        paid = ctx.step.wait_for_event("paid", event="pay/ok", timeout=DAY,
                                       if_exp="async.data.cart == event.data.cart")
        return None if paid is None else paid.data

    with TestEngine(client, [checkout]) as engine:
        (event_id,) = engine.send(inngest.Event(name="cart/done", data={"cart": 7}))
        engine.settle()
        engine.send(inngest.Event(name="pay/ok", data={"cart": 8, "amount": 1}))
        engine.send(inngest.Event(name="pay/ok", data={"cart": 7, "amount": 2}))
        run = engine.wait_for_run(engine.runs(event_id=event_id)[0].id)

    assert run.status is RunStatus.COMPLETED
    assert run.output == {"cart": 7, "amount": 2}


def test_invoke_returns_the_other_functions_output() -> None:
    client = _client()

    @client.create_function(fn_id="square", trigger=inngest.TriggerEvent(event="math/square"))
    def square(ctx: inngest.ContextSync) -> int:
        ctx.step.sleep("think", datetime.timedelta(hours=1))
        return int(ctx.event.data["n"]) ** 2

    @client.create_function(fn_id="sum", trigger=inngest.TriggerEvent(event="math/sum"))
    def total(ctx: inngest.ContextSync) -> int:
        return sum(ctx.step.invoke(f"square-{n}", function=square, data={"n": n})
                   for n in (2, 3))

    with TestEngine(client, [square, total]) as engine:
        run = engine.execute(inngest.Event(name="math/sum"))
        children = engine.runs(function=square)

    assert run.status is RunStatus.COMPLETED
    assert run.output == 13
    assert sorted(child.output for child in children) == [4, 9]
    assert [step.op for step in run.steps] == ["InvokeFunction", "InvokeFunction"]


def test_an_event_cancels_a_sleeping_run() -> None:
    client = _client()
    reached: list[str] = []

    @client.create_function(
        fn_id="trial", trigger=inngest.TriggerEvent(event="trial/started"),
        cancel=[inngest.Cancel(event="trial/converted", if_exp="async.data.id == event.data.id")],
    )
    def trial(ctx: inngest.ContextSync) -> None:
        ctx.step.sleep("trial-period", datetime.timedelta(days=14))
        ctx.step.run("expire", lambda: reached.append("expire"))

    with TestEngine(client, [trial]) as engine:
        (event_id,) = engine.send(inngest.Event(name="trial/started", data={"id": 1}))
        engine.advance(DAY)
        engine.send(inngest.Event(name="trial/converted", data={"id": 2}))
        engine.send(inngest.Event(name="trial/converted", data={"id": 1}))
        run = engine.wait_for_run(engine.runs(event_id=event_id)[0].id)

    assert run.status is RunStatus.CANCELLED
    assert run.reason == "CancelEvent"
    assert reached == []


def test_a_rate_limit_drops_the_second_run_and_a_throttle_spaces_starts() -> None:
    client = _client()

    hour, minute = datetime.timedelta(hours=1), datetime.timedelta(minutes=1)

    @client.create_function(fn_id="limited", trigger=inngest.TriggerEvent(event="go/limited"),
                            rate_limit=inngest.RateLimit(limit=1, period=hour))
    def limited(ctx: inngest.ContextSync) -> str:
        return "ran"

    @client.create_function(fn_id="throttled", trigger=inngest.TriggerEvent(event="go/slow"),
                            throttle=inngest.Throttle(limit=1, period=minute))
    def throttled(ctx: inngest.ContextSync) -> str:
        return "ran"

    with TestEngine(client, [limited, throttled]) as engine:
        engine.send(*[inngest.Event(name="go/limited") for _ in range(2)])
        engine.send(*[inngest.Event(name="go/slow") for _ in range(3)])
        slow = engine.wait_for_runs(function=throttled, count=3)
        engine.settle()
        limited_runs = engine.runs(function=limited)

    # As on the real server, a rate-limited event creates no run at all.
    assert [run.status for run in limited_runs] == [RunStatus.COMPLETED]
    assert [run.status for run in slow] == [RunStatus.COMPLETED] * 3
    starts = sorted(typing.cast(datetime.datetime, run.started_at) for run in slow)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    # limit + burst runs start at once; the next one waits for the period to pass.
    assert gaps[0] == datetime.timedelta(0)
    assert gaps[1] >= minute


def test_debounce_and_batch_start_runs_when_their_timers_fire() -> None:
    client = _client()

    @client.create_function(
        fn_id="debounced", trigger=inngest.TriggerEvent(event="go/typing"),
        debounce=inngest.Debounce(period=datetime.timedelta(minutes=5)),
    )
    def debounced(ctx: inngest.ContextSync) -> object:
        return ctx.event.data

    @client.create_function(
        fn_id="batched", trigger=inngest.TriggerEvent(event="go/item"),
        batch_events=inngest.Batch(max_size=10, timeout=datetime.timedelta(seconds=30)),
    )
    def batched(ctx: inngest.ContextSync) -> object:
        return [event.data["n"] for event in ctx.events]

    with TestEngine(client, [debounced, batched]) as engine:
        start = engine.now()
        engine.send(inngest.Event(name="go/typing", data={"text": "he"}))
        engine.advance(datetime.timedelta(minutes=1))
        last = engine.execute(inngest.Event(name="go/typing", data={"text": "hello"}))
        engine.send(*[inngest.Event(name="go/item", data={"n": n}) for n in range(3)])
        [batch] = engine.wait_for_runs(function=batched)
        debounced_runs = engine.runs(function=debounced)

    assert last.output == {"text": "hello"}
    assert typing.cast(datetime.datetime, last.started_at) - start >= datetime.timedelta(minutes=6)
    assert len(debounced_runs) == 1
    assert batch.output == [0, 1, 2]


def _counter(client: inngest.Inngest, retries: int = 3) -> tuple[inngest.Function, list[int]]:
    attempts: list[int] = []

    @client.create_function(fn_id="count", trigger=inngest.TriggerEvent(event="go/count"),
                            retries=retries)
    def count(ctx: inngest.ContextSync) -> int:
        attempts.append(ctx.attempt)
        return ctx.attempt

    return count, attempts


def test_injected_failures_are_retried_with_backoff() -> None:
    client = _client()
    count, attempts = _counter(client)

    with TestEngine(client, [count]) as engine:
        engine.fail_next_call(count, status=503, times=2)
        run = engine.execute(inngest.Event(name="go/count"))

    assert run.status is RunStatus.COMPLETED
    assert run.output == 2
    assert attempts == [2]
    assert [(call.status, call.fault) for call in run.history] == [
        (503, "fail"), (503, "fail"), (200, None),
    ]
    assert run.history[1].at - run.history[0].at >= datetime.timedelta(seconds=15)


def test_start_and_retry_interval_make_times_exact() -> None:
    client = _client()
    count, _ = _counter(client)
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)

    with TestEngine(client, [count], start=start,
                    retry_interval=datetime.timedelta(minutes=1)) as engine:
        engine.fail_next_call(count, times=2)
        run = engine.execute(inngest.Event(name="go/count"))

    assert run.started_at == start
    assert [call.at - start for call in run.history] == [
        datetime.timedelta(minutes=minutes) for minutes in (0, 1, 2)
    ]


def test_cancel_ends_a_sleeping_run() -> None:
    client = _client()

    @client.create_function(fn_id="nap", trigger=inngest.TriggerEvent(event="go/nap"))
    def nap(ctx: inngest.ContextSync) -> None:
        ctx.step.sleep("nap", DAY)

    with TestEngine(client, [nap]) as engine:
        (event_id,) = engine.send(inngest.Event(name="go/nap"))
        engine.settle()
        [run] = engine.runs(event_id=event_id)
        engine.cancel(run.id)
        cancelled = engine.wait_for_run(run.id)

    assert cancelled.status is RunStatus.CANCELLED
    assert [call.ops for call in cancelled.history] == [("Sleep",)]


def test_a_dropped_call_fails_the_run_when_no_retries_are_left() -> None:
    client = _client()
    count, attempts = _counter(client, retries=0)

    with TestEngine(client, [count]) as engine:
        engine.drop_next_call("count")
        run = engine.execute(inngest.Event(name="go/count"))

    assert run.status is RunStatus.FAILED
    assert run.error is not None and "could not reach" in str(run.error["message"])
    assert attempts == []
    assert [call.fault for call in run.history] == ["drop"]


def test_a_delayed_call_runs_into_the_finish_timeout() -> None:
    client = _client()

    @client.create_function(fn_id="slow", trigger=inngest.TriggerEvent(event="go/slow"),
                            timeouts=inngest.Timeouts(finish=datetime.timedelta(minutes=1)))
    def slow(ctx: inngest.ContextSync) -> str:
        ctx.step.run("first", lambda: "one")
        return "done"

    with TestEngine(client, [slow]) as engine:
        engine.delay_next_call(slow, datetime.timedelta(minutes=5), times=2)
        run = engine.execute(inngest.Event(name="go/slow"))

    assert run.status is RunStatus.CANCELLED
    assert run.reason == "FinishTimeout"


def test_a_concurrency_limit_holds_the_second_run_until_the_first_ends() -> None:
    client = _client()

    @client.create_function(
        fn_id="report", trigger=inngest.TriggerEvent(event="go/report"),
        concurrency=[inngest.Concurrency(limit=1)],
    )
    def report(ctx: inngest.ContextSync) -> str:
        return "done"

    with TestEngine(client, [report]) as engine:
        engine.delay_next_call(report, datetime.timedelta(minutes=1), times=2)
        engine.send(*[inngest.Event(name="go/report") for _ in range(2)])
        first, second = sorted(engine.wait_for_runs(function=report, count=2),
                               key=lambda run: typing.cast(datetime.datetime, run.started_at))

    assert [first.status, second.status] == [RunStatus.COMPLETED] * 2
    # Each call took a virtual minute; the second run started only once the first had ended.
    assert typing.cast(datetime.datetime, second.started_at) >= \
        typing.cast(datetime.datetime, first.ended_at)
    assert second.history[0].at - first.history[0].at >= datetime.timedelta(minutes=1)


def test_frozen_time_moves_only_when_advanced() -> None:
    client = _client()

    @client.create_function(fn_id="nap", trigger=inngest.TriggerEvent(event="go/nap"))
    def nap(ctx: inngest.ContextSync) -> str:
        ctx.step.sleep("nap", datetime.timedelta(hours=2))
        return "rested"

    with TestEngine(client, [nap]) as engine:
        with engine.freeze_time():
            (event_id,) = engine.send(inngest.Event(name="go/nap"))
            engine.settle()
            run_id = engine.runs(event_id=event_id)[0].id
            with pytest.raises(TestEngineError):
                engine.wait_for_run(run_id)
            engine.advance(datetime.timedelta(hours=1))
            assert engine.run(run_id).status is RunStatus.RUNNING
            engine.advance(datetime.timedelta(hours=1))
            assert engine.run(run_id).output == "rested"


def test_a_wait_nobody_answers_times_out_on_the_virtual_clock() -> None:
    client = _client()

    @client.create_function(fn_id="forever", trigger=inngest.TriggerEvent(event="go/forever"))
    def forever(ctx: inngest.ContextSync) -> None:
        ctx.step.wait_for_event("never", event="never/sent", timeout=DAY)

    with TestEngine(client, [forever]) as engine:
        run = engine.execute(inngest.Event(name="go/forever"))

    # A wait always has a timeout, so the virtual clock gets the run to its end.
    assert run.status is RunStatus.COMPLETED
    assert run.step("never").value is None


def test_the_client_is_restored_after_the_engine_stops() -> None:
    client = _client()
    count, _ = _counter(client)
    before = (client.transport, client.event_api_origin, client.api_origin)

    with TestEngine(client, [count]):
        assert client.transport is not before[0]

    assert (client.transport, client.event_api_origin, client.api_origin) == before


def test_a_sync_the_engine_refuses_raises_and_leaves_the_client_as_it_was() -> None:
    client = _client()

    @client.create_function(fn_id="tick", trigger=inngest.TriggerCron(cron="not a cron"))
    def tick(ctx: inngest.ContextSync) -> None:
        return None

    before = (client.transport, client.event_api_origin, client.api_origin)

    with pytest.raises(TestEngineError, match="did not sync"):
        TestEngine(client, [tick]).start()

    assert (client.transport, client.event_api_origin, client.api_origin) == before


def test_functions_sending_events_start_runs_in_the_engine() -> None:
    client = _client()
    count, attempts = _counter(client)

    @client.create_function(fn_id="fan-out", trigger=inngest.TriggerEvent(event="go/fan-out"))
    def fan_out(ctx: inngest.ContextSync) -> list[str]:
        return ctx.step.send_event("send", [inngest.Event(name="go/count") for _ in range(2)])

    with TestEngine(client, [count, fan_out]) as engine:
        run = engine.execute(inngest.Event(name="go/fan-out"))
        children = [engine.wait_for_run(child.id) for child in engine.runs(function=count)]

    assert len(typing.cast(list[str], run.output)) == 2
    assert [child.status for child in children] == [RunStatus.COMPLETED] * 2
    assert attempts == [0, 0]
