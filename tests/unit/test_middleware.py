import json
import typing

import pytest

from inngest import _errors
from inngest._client import Inngest, SendEventsResult
from inngest._context import ContextSync
from inngest._event import Event
from inngest._execution import ExecutionRequest, ExecutionResult, execute
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._middleware import (
    MiddlewareManager,
    MiddlewareSync,
    TransformOutputResult,
)
from inngest._step import Opcode, ParallelMode, StepMemos
from inngest._protocol.step_ids import hash_step_id
from inngest.experimental import mocked


def make_body(steps: typing.Mapping[str, object], **ctx: object) -> dict[str, object]:
    return {
        "event": {"name": "app/go", "data": {"n": 1}},
        "events": [{"name": "app/go", "data": {"n": 1}}],
        "steps": dict(steps),
        "use_api": False,
        "ctx": {
            "run_id": "run-1",
            "attempt": 0,
            "disable_immediate_execution": False,
            "stack": {"stack": []},
            **ctx,
        },
    }


def run(
    client: Inngest,
    fn: Function,
    steps: typing.Mapping[str, object] | None = None,
    target: str | None = None,
    raw_request: object = None,
    **ctx: object,
) -> ExecutionResult:
    return execute(
        client=client,
        function=fn,
        handler=fn.handler,
        request=ExecutionRequest.from_dict(make_body(steps or {}, **ctx)),
        target_step_id=target,
        raw_request=raw_request,
        job_id=None,
        request_id=None,
    )


def make_fn(
    client: Inngest, handler: typing.Callable[[ContextSync], object], **opts: typing.Any
) -> Function:
    return client.create_function(
        fn_id="fn", trigger=TriggerEvent(event="app/go"), **opts
    )(handler)


def recorder(name: str, log: list[str]) -> typing.Callable[[Inngest, object], MiddlewareSync]:
    class Recorder(MiddlewareSync):
        def transform_input(
            self, ctx: ContextSync, function: Function, steps: StepMemos
        ) -> None:
            log.append(f"{name}.transform_input")

        def before_execution(self) -> None:
            log.append(f"{name}.before_execution")

        def after_execution(self) -> None:
            log.append(f"{name}.after_execution")

        def transform_output(self, result: TransformOutputResult) -> None:
            log.append(f"{name}.transform_output")

        def before_response(self) -> None:
            log.append(f"{name}.before_response")

        def before_send_events(self, events: list[Event]) -> None:
            log.append(f"{name}.before_send_events")

        def after_send_events(self, result: SendEventsResult) -> None:
            log.append(f"{name}.after_send_events")

    return Recorder


def test_hook_order_for_a_send_event_request_and_its_replay() -> None:
    log: list[str] = []
    client = mocked.Inngest(
        app_id="app", is_production=False, middleware=[recorder("1", log)])
    fn = make_fn(
        client,
        lambda ctx: ctx.step.send_event("send", Event(name="x")),
        middleware=[recorder("2", log)],
    )
    result = run(client, fn)
    assert json.loads(result.body)[0]["op"] == "StepRun"
    assert log == [
        "1.transform_input", "2.transform_input",
        "1.before_execution", "2.before_execution",
        "1.before_send_events", "2.before_send_events",
        "2.after_send_events", "1.after_send_events",
        "2.after_execution", "1.after_execution",
        "2.transform_output", "1.transform_output",
        "1.before_response", "2.before_response",
    ]
    log.clear()
    result = run(client, fn, {hash_step_id("send"): {"data": ["id"]}})
    assert result.body == b'["id"]'
    assert log == [
        "1.transform_input", "2.transform_input",
        "1.before_execution", "2.before_execution",
        "2.after_execution", "1.after_execution",
        "2.transform_output", "1.transform_output",
        "1.before_response", "2.before_response",
    ]


def test_manager_for_send_orders_send_hooks() -> None:
    log: list[str] = []
    client = Inngest(
        app_id="app", is_production=False,
        middleware=[recorder("1", log), recorder("2", log)])
    manager = MiddlewareManager.for_send(client)
    events = [Event(name="x")]
    assert manager.before_send_events(events) is events
    manager.after_send_events(SendEventsResult(ids=["a"]))
    assert log == [
        "1.before_send_events", "2.before_send_events",
        "2.after_send_events", "1.after_send_events",
    ]


def test_instances_are_made_per_request_with_the_raw_request() -> None:
    seen: list[tuple[int, object]] = []

    class Tracker(MiddlewareSync):
        def before_response(self) -> None:
            seen.append((id(self), self.raw_request))

    client = Inngest(app_id="app", is_production=False, middleware=[Tracker])
    fn = make_fn(client, lambda ctx: None)
    run(client, fn, raw_request="first")
    run(client, fn, raw_request="second")
    assert [raw for _, raw in seen] == ["first", "second"]
    assert all(isinstance(key, int) for key, _ in seen)


def test_transform_output_replaces_step_data_and_edits_opts() -> None:
    class Rewriter(MiddlewareSync):
        def transform_output(self, result: TransformOutputResult) -> None:
            assert result.step is not None
            if result.step.op is Opcode.STEP_RUN:
                assert result.has_output()
                result.output = {"wrapped": result.output}
            else:
                assert not result.has_output()
                assert result.step.opts is not None
                result.step.opts["extra"] = True

    client = Inngest(app_id="app", is_production=False, middleware=[Rewriter])

    def handler(ctx: ContextSync) -> None:
        ctx.step.run("a", lambda: 1)
        ctx.step.wait_for_event("w", event="e", timeout=1000)

    fn = make_fn(client, handler)
    assert json.loads(run(client, fn).body)[0]["data"] == {"wrapped": 1}
    opts = json.loads(run(client, fn, {hash_step_id("a"): {"data": 1}}).body)[0]["opts"]
    assert opts == {"if": None, "timeout": "1s", "extra": True}


def test_transform_output_sees_function_output_and_errors() -> None:
    seen: list[tuple[object, object, bool]] = []

    class Watcher(MiddlewareSync):
        def transform_output(self, result: TransformOutputResult) -> None:
            seen.append((result.step, result.output, result.has_output()))
            if result.error is not None:
                result.error = _errors.NonRetriableError("replaced")
            else:
                result.output = "changed"

    client = Inngest(app_id="app", is_production=False, middleware=[Watcher])
    assert run(client, make_fn(client, lambda ctx: "original")).body == b'"changed"'
    assert seen[0] == (None, "original", True)

    def boom(ctx: ContextSync) -> None:
        raise ValueError("x")

    result = run(client, make_fn(client, boom))
    assert (result.status, result.no_retry) == (500, True)
    assert json.loads(result.body)["message"] == "replaced"
    assert seen[1][2] is False


def test_transform_input_can_change_memos_and_event() -> None:
    class Decoder(MiddlewareSync):
        def transform_input(
            self, ctx: ContextSync, function: Function, steps: StepMemos
        ) -> None:
            for memo in steps.values():
                memo.data = f"decoded:{memo.data}"
            ctx.event = Event(name=ctx.event.name, data={"n": 2})

    client = Inngest(app_id="app", is_production=False, middleware=[Decoder])

    def handler(ctx: ContextSync) -> object:
        return [ctx.step.run("a", lambda: "new"), ctx.event.data["n"]]

    result = run(client, make_fn(client, handler), {hash_step_id("a"): {"data": "enc"}})
    assert result.body == b'["decoded:enc", 2]'


def test_parallel_results_pass_transform_output_only_when_single() -> None:
    seen: list[tuple[str, str, object]] = []

    class Observer(MiddlewareSync):
        def transform_output(self, result: TransformOutputResult) -> None:
            assert result.step is not None
            seen.append((result.step.id, result.step.op.value, result.output))

    client = Inngest(app_id="app", is_production=False, middleware=[Observer])

    def handler(ctx: ContextSync) -> object:
        return ctx.group.parallel(
            (lambda: ctx.step.run("p1", lambda: 1), lambda: ctx.step.run("p2", lambda: 2)),
            parallel_mode=ParallelMode.RACE,
        )

    fn = make_fn(client, handler)
    assert len(json.loads(run(client, fn).body)) == 2
    assert seen == []
    [element] = json.loads(run(client, fn, target=hash_step_id("p1")).body)
    assert element["opts"] == {"parallelMode": "race"}
    assert seen == [("p1", "StepRun", 1)]


def test_failing_hook_becomes_the_function_error() -> None:
    class Broken(MiddlewareSync):
        def before_execution(self) -> None:
            raise _errors.NonRetriableError("hook broke")

    client = Inngest(app_id="app", is_production=False, middleware=[Broken])
    result = run(client, make_fn(client, lambda ctx: ctx.step.run("a", lambda: 1)),
                 {hash_step_id("a"): {"data": 1}})
    assert (result.status, result.no_retry) == (500, True)
    assert json.loads(result.body)["message"] == "hook broke"


def test_failing_hook_inside_user_code_cannot_be_swallowed() -> None:
    class Broken(MiddlewareSync):
        def before_execution(self) -> None:
            raise RuntimeError("hook broke")

    client = Inngest(app_id="app", is_production=False, middleware=[Broken])

    def handler(ctx: ContextSync) -> str:
        try:
            ctx.step.run("a", lambda: 1)
        except Exception:
            return "swallowed"
        return "done"

    result = run(client, make_fn(client, handler), {hash_step_id("a"): {"data": 1}})
    assert result.status == 500
    assert json.loads(result.body)["name"] == "RuntimeError"


class AsyncHooks(MiddlewareSync):
    async def transform_input(  # type: ignore[override]
        self, ctx: ContextSync, function: Function, steps: StepMemos
    ) -> None:
        return None

    async def before_send_events(self, events: list[Event]) -> None:  # type: ignore[override]
        return None


class NotMiddleware:
    def __init__(self, client: Inngest, raw_request: object) -> None:
        pass


@pytest.mark.parametrize("factory", [AsyncHooks, NotMiddleware])
def test_async_middleware_is_refused(factory: typing.Any) -> None:
    client = Inngest(app_id="app", is_production=False, middleware=[factory])
    result = run(client, make_fn(client, lambda ctx: "ok"))
    assert result.status == 500
    body = json.loads(result.body)
    assert (body["code"], body["message"]) == (
        "async_unsupported", "encountered async middleware in non-async context")
    with pytest.raises(_errors.AsyncUnsupportedError):
        MiddlewareManager.for_send(client).before_send_events([])
