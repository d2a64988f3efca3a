import datetime
import json
import logging
import typing

import pytest

from inngest import _errors
from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._event import Event
from inngest._execution import ExecutionRequest, ExecutionResult, execute
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._step import ParallelMode, StepMemos
from inngest._protocol.step_ids import hash_step_id

A = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
A1 = "de89bfaf06245091a7873290a793604612302247"


def make_body(steps: typing.Mapping[str, object], **ctx: object) -> dict[str, object]:
    return {
        "event": {"name": "app/go", "data": {}},
        "events": [{"name": "app/go", "data": {}}],
        "steps": dict(steps),
        "use_api": False,
        "ctx": {
            "run_id": "run-1",
            "attempt": 0,
            "disable_immediate_execution": False,
            "stack": {"stack": None},
            **ctx,
        },
    }


def run(
    client: Inngest,
    fn: Function,
    steps: typing.Mapping[str, object] | None = None,
    target: str | None = None,
    **ctx: object,
) -> ExecutionResult:
    return execute(
        client=client,
        function=fn,
        handler=fn.handler,
        request=ExecutionRequest.from_dict(make_body(steps or {}, **ctx)),
        target_step_id=target,
        raw_request=None,
        job_id=None,
        request_id=None,
    )


def make_fn(client: Inngest, handler: typing.Callable[[ContextSync], object]) -> Function:
    return client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(handler)


def elements(result: ExecutionResult) -> list[dict[str, typing.Any]]:
    assert result.status == 206
    body = json.loads(result.body)
    assert isinstance(body, list)
    return body


@pytest.fixture
def client() -> Inngest:
    return Inngest(app_id="app", is_production=False)


def two_steps(ctx: ContextSync) -> object:
    first = ctx.step.run("a", lambda: "one")
    second = ctx.step.run("a", lambda: "two")
    return [first, second]


# Step ids and memo replay


def test_first_step_runs_immediately_with_exact_bytes(client: Inngest) -> None:
    result = run(client, make_fn(client, two_steps))
    assert result == ExecutionResult(
        status=206,
        body=(
            b'[{"displayName": "a", "id": "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", '
            b'"name": "a", "op": "StepRun", "opts": null, '
            b'"userland": {"id": "a", "index": null}, "data": "one"}]'
        ),
    )


def test_repeated_id_hashes_with_a_counter_suffix(client: Inngest) -> None:
    # The hash and userland.index carry the repeat; the names stay the user's id.
    [element] = elements(run(client, make_fn(client, two_steps), {A: {"data": "one"}}))
    assert element == {
        "id": A1,
        "displayName": "a",
        "name": "a",
        "op": "StepRun",
        "opts": None,
        "userland": {"id": "a", "index": 1},
        "data": "two",
    }


def test_all_memoized_steps_finish_the_function(client: Inngest) -> None:
    result = run(client, make_fn(client, two_steps), {A: {"data": "x"}, A1: {"data": "y"}})
    assert (result.status, result.body) == (200, b'["x", "y"]')


def test_each_memo_is_consumed_once(client: Inngest) -> None:
    calls: list[str] = []

    def handler(ctx: ContextSync) -> object:
        def fresh(label: str) -> str:
            calls.append(label)
            return "fresh"

        first = ctx.step.run("a", fresh, "first")
        second = ctx.step.run("a", fresh, "second")
        return [first, second]

    [element] = elements(run(client, make_fn(client, handler), {A: {"data": "memo"}}))
    assert calls == ["second"]
    assert element["id"] == A1


def test_unknown_memos_are_ignored(client: Inngest) -> None:
    memos = {A: {"data": "x"}, A1: {"data": "y"}, hash_step_id("gone"): {"data": 1}}
    assert run(client, make_fn(client, two_steps), memos).body == b'["x", "y"]'


def test_memo_shapes(client: Inngest) -> None:
    seen: list[object] = []

    def handler(ctx: ContextSync) -> None:
        seen.append(ctx.step.run("wrapped", lambda: None))
        seen.append(ctx.step.run("bare", lambda: None))
        seen.append(ctx.step.run("null", lambda: None))
        seen.append(ctx.step.run("extra", lambda: None))

    memos = {
        hash_step_id("wrapped"): {"data": {"k": 1}},
        hash_step_id("bare"): {"name": "x", "data": {}},
        hash_step_id("null"): None,
        hash_step_id("extra"): {"data": 1, "other": 2},
    }
    assert run(client, make_fn(client, handler), memos).status == 200
    assert seen == [{"k": 1}, {"name": "x", "data": {}}, None, {"data": 1, "other": 2}]


def test_step_memos_api() -> None:
    memos = StepMemos.from_dict({A: {"data": 1}, A1: {"error": {"name": "E", "message": "m"}}})
    assert memos.size == 2
    values = list(memos.values())
    assert values[0].data == 1
    assert values[1].error is not None and values[1].error.stack is None
    values[0].data = 5
    popped = memos.pop(A)
    assert popped is not None and popped.data == 5
    assert memos.pop(A) is None
    assert memos.size == 1


def test_handler_args_are_passed(client: Inngest) -> None:
    fn = make_fn(client, lambda ctx: ctx.step.run("add", lambda x, y: x + y, 2, 3))
    assert elements(run(client, fn))[0]["data"] == 5


# Planned vs immediate, targeting


def test_disable_immediate_execution_plans_the_step(client: Inngest) -> None:
    calls: list[int] = []
    fn = make_fn(client, lambda ctx: ctx.step.run("a", lambda: calls.append(1)))
    [element] = elements(run(client, fn, disable_immediate_execution=True))
    assert calls == []
    assert element == {
        "id": A,
        "displayName": "a",
        "name": "a",
        "op": "StepPlanned",
        "opts": None,
        "userland": {"id": "a", "index": None},
        "data": None,
    }


def test_targeted_step_runs_even_with_immediate_execution_disabled(client: Inngest) -> None:
    fn = make_fn(client, lambda ctx: ctx.step.run("a", lambda: 1))
    [element] = elements(run(client, fn, target=A, disable_immediate_execution=True))
    assert (element["op"], element["data"]) == ("StepRun", 1)


# Other opcodes


def test_sleep_reports_the_utc_wake_time(client: Inngest) -> None:
    wake = datetime.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)
    fn = make_fn(client, lambda ctx: ctx.step.sleep_until("nap", wake))
    [element] = elements(run(client, fn))
    assert element == {
        "id": hash_step_id("nap"),
        "displayName": "nap",
        "name": "2030-01-02T03:04:05.678Z",
        "op": "Sleep",
        "opts": None,
        "userland": {"id": "nap", "index": None},
        "data": None,
    }


def test_sleep_until_treats_naive_datetimes_as_local(client: Inngest) -> None:
    naive = datetime.datetime(2030, 6, 1, 12, 0, 0)
    expected = naive.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fn = make_fn(client, lambda ctx: ctx.step.sleep_until("nap", naive))
    assert elements(run(client, fn))[0]["name"] == expected


def test_sleep_duration_is_added_to_now(client: Inngest) -> None:
    fn = make_fn(client, lambda ctx: ctx.step.sleep("nap", datetime.timedelta(days=2)))
    name = elements(run(client, fn))[0]["name"]
    wake = datetime.datetime.strptime(name, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    delta = wake - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=1) < delta <= datetime.timedelta(days=2)


def test_memoized_sleep_returns_none_and_continues(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        ctx.step.sleep("nap", 1000)
        return "after"

    fn = make_fn(client, handler)
    assert run(client, fn, {hash_step_id("nap"): None}).body == b'"after"'


def test_wait_for_event_opts_keep_nulls(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        return ctx.step.wait_for_event("wait", event="app/ok", timeout=90_000)

    [element] = elements(run(client, make_fn(client, handler)))
    assert element == {
        "id": hash_step_id("wait"),
        "displayName": "wait",
        "name": "app/ok",
        "op": "WaitForEvent",
        "opts": {"if": None, "timeout": "90s"},
        "userland": {"id": "wait", "index": None},
        "data": None,
    }


def test_wait_for_event_returns_an_event_or_none(client: Inngest) -> None:
    seen: list[object] = []

    def handler(ctx: ContextSync) -> None:
        seen.append(ctx.step.wait_for_event(
            "w1", event="app/ok", if_exp="async.data.x == 1",
            timeout=datetime.timedelta(hours=1)))
        seen.append(ctx.step.wait_for_event("w2", event="app/ok", timeout=1000))
        seen.append(ctx.step.wait_for_event("w3", event="app/ok", timeout=1000))

    memos = {
        hash_step_id("w1"): {"name": "app/ok", "data": {"x": 1}, "id": "e1", "ts": 7},
        hash_step_id("w2"): None,
        hash_step_id("w3"): {"data": {"name": "app/ok", "data": {}, "ts": 8}},
    }
    assert run(client, make_fn(client, handler), memos).status == 200
    assert seen == [
        Event(name="app/ok", data={"x": 1}, id="e1", ts=7),
        None,
        Event(name="app/ok", ts=8),
    ]


def test_invoke_reports_function_id_and_payload(client: Inngest) -> None:
    other = client.create_function(fn_id="child", trigger=TriggerEvent(event="x"))(
        lambda ctx: None)

    def handler(ctx: ContextSync) -> object:
        return ctx.step.invoke("call", function=other, data={"n": 1}, timeout=60_000, v="2")

    [element] = elements(run(client, make_fn(client, handler)))
    assert element == {
        "id": hash_step_id("call"),
        "displayName": "call",
        "name": "call",
        "op": "InvokeFunction",
        "opts": {
            "function_id": "app-child",
            "payload": {"data": {"n": 1}, "v": "2"},
            "timeout": "1m",
        },
        "userland": {"id": "call", "index": None},
        "data": None,
    }


def test_invoke_by_id_keeps_null_opts_and_returns_the_memo(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        return ctx.step.invoke_by_id("call", app_id="other", function_id="fn")

    fn = make_fn(client, handler)
    [element] = elements(run(client, fn))
    assert element["opts"] == {
        "function_id": "other-fn", "payload": {"data": None, "v": None}, "timeout": None}
    assert run(client, fn, {hash_step_id("call"): {"data": {"r": 1}}}).body == b'{"r": 1}'


def test_invoke_failure_raises_step_error(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        try:
            ctx.step.invoke_by_id("call", function_id="fn")
        except _errors.StepError as err:
            return [err.name, err.message, err.stack]
        return None

    memos = {hash_step_id("call"): {"error": {
        "name": "InngestInvokeTimeoutError",
        "message": "Timed out waiting for invoked function to complete",
        "stack": None,
    }}}
    assert json.loads(run(client, make_fn(client, handler), memos).body) == [
        "InngestInvokeTimeoutError", "Timed out waiting for invoked function to complete", None]


# Errors


def failing_step(ctx: ContextSync) -> None:
    def explode() -> None:
        raise KeyError("missing")

    ctx.step.run("a", explode)


def test_step_error_is_reported_retriably(client: Inngest) -> None:
    result = run(client, make_fn(client, failing_step), attempt=0, max_attempts=3)
    [element] = elements(result)
    assert result.no_retry is False
    assert element["op"] == "StepError"
    assert element["data"] is None
    error = element["error"]
    assert (error["code"], error["message"], error["name"]) == ("unknown", "'missing'", "KeyError")
    assert error["stack"].startswith("Traceback (most recent call last):\n")
    assert "in explode" in error["stack"]
    assert "inngest/_step.py" not in error["stack"]


def test_step_failed_on_the_last_attempt(client: Inngest) -> None:
    fn = make_fn(client, failing_step)
    assert elements(run(client, fn, attempt=2, max_attempts=3))[0]["op"] == "StepFailed"
    assert elements(run(client, fn, attempt=1, max_attempts=3))[0]["op"] == "StepError"
    assert elements(run(client, fn, attempt=9))[0]["op"] == "StepError"


def test_memoized_step_error_can_be_caught(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        try:
            ctx.step.run("a", lambda: None)
        except _errors.StepError as err:
            return {"caught": err.message, "code": err.code}
        return None

    memos = {A: {"error": {"name": "KeyError", "message": "'missing'", "stack": "tb"}}}
    result = run(client, make_fn(client, handler), memos)
    assert result.body == b'{"caught": "\'missing\'", "code": "step_errored"}'


def test_uncaught_memoized_step_error_fails_without_retry(client: Inngest) -> None:
    memos = {A: {"error": {"name": "KeyError", "message": "'missing'", "stack": "tb"}}}
    result = run(client, make_fn(client, failing_step), memos)
    assert result == ExecutionResult(
        status=500,
        body=b'{"code": "step_errored", "message": "\'missing\'", "name": "KeyError", '
        b'"stack": "tb"}',
        no_retry=True,
    )


@pytest.mark.parametrize(
    ("error", "no_retry", "code"),
    [
        (_errors.NonRetriableError("stop"), True, "non_retriable_error"),
        (_errors.RetryAfterError("later", 5000), False, "retry_after_error"),
    ],
)
def test_flow_errors_in_a_step_fail_the_function(
    client: Inngest, error: Exception, no_retry: bool, code: str
) -> None:
    def handler(ctx: ContextSync) -> None:
        def raiser() -> None:
            raise error

        ctx.step.run("a", raiser)

    result = run(client, make_fn(client, handler))
    assert (result.status, result.no_retry) == (500, no_retry)
    assert json.loads(result.body)["code"] == code
    assert (result.retry_after is not None) is isinstance(error, _errors.RetryAfterError)


def test_nested_step_is_a_non_retriable_step_error(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        ctx.step.run("outer", lambda: ctx.step.run("inner", lambda: 1))

    result = run(client, make_fn(client, handler))
    [element] = elements(result)
    assert result.no_retry is True
    assert element["op"] == "StepError"
    assert element["displayName"] == "outer"
    assert element["error"] == {
        "code": "step_nested",
        "message": "Nested steps are not supported.",
        "name": "CodedError",
        "stack": "inngest._internal.errors.CodedError: Nested steps are not supported.\n",
    }


def test_except_exception_does_not_swallow_interrupts(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> str:
        for step_id in ("a", "nap"):
            try:
                if step_id == "a":
                    ctx.step.run(step_id, lambda: 1)
                else:
                    ctx.step.sleep(step_id, 1000)
            except Exception:
                return "swallowed"
        return "done"

    assert elements(run(client, make_fn(client, handler)))[0]["op"] == "StepRun"
    assert elements(run(client, make_fn(client, handler), {A: {"data": 1}}))[0]["op"] == "Sleep"
    result = run(client, make_fn(client, handler), target=hash_step_id("x"))
    assert json.loads(result.body)["code"] == "step_unexpected"


# Parallel


def parallel_fn(mode: ParallelMode) -> typing.Callable[[ContextSync], object]:
    def handler(ctx: ContextSync) -> object:
        return ctx.group.parallel(
            (lambda: ctx.step.run("p1", lambda: "one"),
             lambda: ctx.step.run("p2", lambda: "two"),
             lambda: ctx.step.sleep("p3", 1000)),
            parallel_mode=mode,
        )

    return handler


def test_parallel_plans_every_new_step(client: Inngest) -> None:
    result = run(client, make_fn(client, parallel_fn(ParallelMode.WAIT)))
    body = elements(result)
    assert [(e["displayName"], e["op"], e["opts"], e["data"]) for e in body] == [
        ("p1", "StepPlanned", None, None),
        ("p2", "StepPlanned", None, None),
        ("p3", "Sleep", None, None),
    ]


def test_parallel_race_marks_each_step(client: Inngest) -> None:
    body = elements(run(client, make_fn(client, parallel_fn(ParallelMode.RACE))))
    assert [e["opts"] for e in body] == [{"parallelMode": "race"}] * 3
    assert ParallelMode.RACE.value == "race" and ParallelMode.WAIT.value == "wait"


def test_parallel_targeting_runs_only_the_target(client: Inngest) -> None:
    result = run(client, make_fn(client, parallel_fn(ParallelMode.WAIT)),
                 target=hash_step_id("p2"), disable_immediate_execution=True)
    [element] = elements(result)
    assert (element["displayName"], element["op"], element["data"]) == ("p2", "StepRun", "two")


def test_parallel_reports_only_unmemoized_steps(client: Inngest) -> None:
    memos = {hash_step_id("p1"): {"data": "one"}}
    body = elements(run(client, make_fn(client, parallel_fn(ParallelMode.WAIT)), memos))
    assert [e["displayName"] for e in body] == ["p2", "p3"]


def test_parallel_returns_outputs_when_all_memoized(client: Inngest) -> None:
    memos = {hash_step_id("p1"): {"data": "one"}, hash_step_id("p2"): {"data": "two"},
             hash_step_id("p3"): None}
    result = run(client, make_fn(client, parallel_fn(ParallelMode.WAIT)), memos)
    assert result.body == b'["one", "two", null]'


# Logger


def test_logger_is_quiet_during_replay(
    client: Inngest, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(ctx: ContextSync) -> None:
        ctx.logger.info("start")
        ctx.step.run("a", lambda: 1)
        ctx.logger.warning("after %s", "a", extra={"tag": "t"})
        ctx.step.run("b", lambda: 2)

    fn = make_fn(client, handler)
    with caplog.at_level(logging.INFO, logger="inngest"):
        run(client, fn)
        assert [r.getMessage() for r in caplog.records] == ["start"]
        caplog.clear()
        run(client, fn, {A: {"data": 1}})
        assert [r.getMessage() for r in caplog.records] == ["after a"]
        assert getattr(caplog.records[0], "tag") == "t"
        caplog.clear()
        run(client, fn, {A: {"data": 1}, hash_step_id("b"): {"data": 2}})
        assert caplog.records == []


# Public surface


def public_names(obj: object) -> set[str]:
    return {name for name in dir(obj) if not name.startswith("_")}


def test_objects_a_handler_reaches_expose_only_their_documented_api(client: Inngest) -> None:
    reached: dict[str, object] = {}

    def handler(ctx: ContextSync) -> None:
        reached.update(ctx=ctx, step=ctx.step, group=ctx.group, ai=ctx.step.ai)

    run(client, make_fn(client, handler))
    assert public_names(reached["step"]) == {
        "ai", "invoke", "invoke_by_id", "run", "send_event", "sleep", "sleep_until",
        "wait_for_event",
    }
    assert public_names(reached["group"]) == {"parallel"}
    assert public_names(reached["ai"]) == {"infer"}
    assert public_names(reached["ctx"]) == {
        "attempt", "event", "events", "group", "job_id", "logger", "request_id", "run_id",
        "step",
    }


def test_one_step_id_reported_as_different_ops_keeps_each_ops_bytes(client: Inngest) -> None:
    # Report texts are kept per step: the same id as a sleep and as a wait must not share one.
    def sleeps(ctx: ContextSync) -> object:
        until = datetime.datetime(2030, 1, 2, tzinfo=datetime.timezone.utc)
        return ctx.step.sleep_until("s", until)

    def waits(ctx: ContextSync) -> object:
        return ctx.step.wait_for_event("s", event="app/ready", timeout=1000)

    for _ in range(2):  # the second time from what was kept
        assert run(client, make_fn(client, sleeps)).body == (
            b'[{"displayName": "s", "id": "a0f1490a20d0211c997b44bc357e1972deab8ae3", '
            b'"name": "2030-01-02T00:00:00.000Z", "op": "Sleep", "opts": null, '
            b'"userland": {"id": "s", "index": null}, "data": null}]'
        )
        assert run(client, make_fn(client, waits)).body == (
            b'[{"displayName": "s", "id": "a0f1490a20d0211c997b44bc357e1972deab8ae3", '
            b'"name": "app/ready", "op": "WaitForEvent", "opts": {"if": null, "timeout": "1s"}, '
            b'"userland": {"id": "s", "index": null}, "data": null}]'
        )
