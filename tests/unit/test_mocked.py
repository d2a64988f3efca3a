import typing

import pytest

from inngest import _errors
from inngest._context import ContextSync
from inngest._event import Event
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest.experimental import mocked

client = mocked.Inngest(app_id="app", is_production=False)
EVENT = Event(name="app/go", data={"n": 2})


def make_fn(handler: typing.Callable[[ContextSync], object], **opts: typing.Any) -> Function:
    return client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"), **opts)(
        handler)


def test_runs_steps_to_completion() -> None:
    def handler(ctx: ContextSync) -> object:
        doubled = ctx.step.run("double", lambda: ctx.event.data["n"] * 2)
        ctx.step.sleep("nap", 60_000)
        again = ctx.step.run("double", lambda: doubled * 2)
        return [doubled, again]

    result = mocked.trigger(make_fn(handler), EVENT, client)
    assert (result.status, result.output, result.error) == (mocked.Status.COMPLETED, [4, 8], None)
    assert mocked.Status.COMPLETED.value == "Completed"


def test_stubs_complete_waits_and_invokes() -> None:
    def handler(ctx: ContextSync) -> object:
        got = ctx.step.wait_for_event("wait", event="app/ok", timeout=60_000)
        missed = ctx.step.wait_for_event("miss", event="app/ok", timeout=60_000)
        child = ctx.step.invoke_by_id("call", function_id="child")
        return [got.data if got else None, missed, child]

    result = mocked.trigger(
        make_fn(handler),
        EVENT,
        client,
        step_stubs={
            "wait": Event(name="app/ok", data={"k": 1}),
            "miss": mocked.Timeout,
            "call": {"r": 5},
        },
    )
    assert result.status is mocked.Status.COMPLETED
    assert result.output == [{"k": 1}, None, {"r": 5}]


def test_stub_replaces_a_step_run() -> None:
    fn = make_fn(lambda ctx: ctx.step.run("fetch", lambda: "real"))
    result = mocked.trigger(fn, EVENT, client, step_stubs={"fetch": "stubbed"})
    assert result.output == "stubbed"


def test_unstubbed_wait_raises() -> None:
    fn = make_fn(lambda ctx: ctx.step.wait_for_event("wait", event="x", timeout=1000))
    with pytest.raises(mocked.UnstubbedStepError, match="step wait is not stubbed"):
        mocked.trigger(fn, EVENT, client)


def test_function_error_is_retried_then_fails() -> None:
    attempts: list[int] = []

    def handler(ctx: ContextSync) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("nope")

    result = mocked.trigger(make_fn(handler, retries=2), EVENT, client)
    assert result.status is mocked.Status.FAILED
    assert isinstance(result.error, ValueError)
    assert attempts == [0, 1, 2]


def test_flaky_step_succeeds_on_retry() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("flaky")
        return "ok"

    result = mocked.trigger(make_fn(lambda ctx: ctx.step.run("s", flaky)), EVENT, client)
    assert (result.status, result.output, len(calls)) == (mocked.Status.COMPLETED, "ok", 3)


def test_step_failing_every_attempt_fails_the_run() -> None:
    def always() -> None:
        raise RuntimeError("down")

    result = mocked.trigger(make_fn(lambda ctx: ctx.step.run("s", always)), [EVENT], client)
    assert result.status is mocked.Status.FAILED
    assert str(result.error) == "down"


def test_non_retriable_error_fails_at_once() -> None:
    attempts: list[int] = []

    def handler(ctx: ContextSync) -> None:
        attempts.append(ctx.attempt)
        raise _errors.NonRetriableError("stop")

    result = mocked.trigger(make_fn(handler), EVENT, client)
    assert result.status is mocked.Status.FAILED
    assert attempts == [0]


def test_parallel_steps_and_send_event() -> None:
    def handler(ctx: ContextSync) -> object:
        pair = ctx.group.parallel((lambda: ctx.step.run("a", lambda: 1),
                                   lambda: ctx.step.run("b", lambda: 2)))
        ids = ctx.step.send_event("send", [Event(name="x"), Event(name="y")])
        return [list(pair), ids, len(ctx.events)]

    result = mocked.trigger(make_fn(handler), [EVENT, EVENT], client)
    assert result.output == [[1, 2], ["00000000000000000000000000"] * 2, 2]


def test_mocked_client_sends_without_network() -> None:
    assert client.send_sync(Event(name="x")) == ["00000000000000000000000000"]
