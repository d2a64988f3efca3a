"""APIs that code written for the official SDK relies on (issue #18)."""

import dataclasses
import json
import logging
import subprocess
import sys
import typing

import pytest

import inngest
import inngest.experimental
from inngest import _errors
from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._event import Event
from inngest._execution import ExecutionRequest, ExecutionResult, execute
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._protocol.step_ids import hash_step_id
from inngest.experimental import ai, mocked
from inngest.experimental.mocked.errors import UnstubbedStepError


def make_body(steps: typing.Mapping[str, object]) -> dict[str, object]:
    return {
        "event": {"name": "app/go", "data": {}},
        "events": [{"name": "app/go", "data": {}}],
        "steps": dict(steps),
        "use_api": False,
        "ctx": {"run_id": "run-1", "attempt": 0, "disable_immediate_execution": False,
                "stack": {"stack": None}},
    }


def run(
    client: Inngest, fn: Function[typing.Any], steps: typing.Mapping[str, object] | None = None
) -> ExecutionResult:
    return execute(
        client=client, function=fn, handler=fn.handler,
        request=ExecutionRequest.from_dict(make_body(steps or {})),
        target_step_id=None, raw_request=None, job_id=None, request_id=None,
    )


def make_fn(
    client: Inngest, handler: typing.Callable[[ContextSync], object]
) -> Function[typing.Any]:
    return client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(handler)


@pytest.fixture
def client() -> Inngest:
    return Inngest(app_id="app", is_production=False)


# Function is generic


def test_function_is_subscriptable_at_runtime(client: Inngest) -> None:
    alias = inngest.Function[typing.Any]
    fn = make_fn(client, lambda ctx: 1)
    assert isinstance(fn, inngest.Function)
    assert typing.get_origin(alias) is inngest.Function
    assert list[inngest.Function[int]] == list[inngest.Function[int]]


# pydantic-style model methods


def test_event_model_dump_and_validate_round_trip() -> None:
    event = Event(name="app/a", data={"n": 1, "at": [1, 2]}, id="e1", ts=5)
    dumped = event.model_dump(mode="json")
    assert dumped == {"name": "app/a", "data": {"n": 1, "at": [1, 2]}, "id": "e1", "ts": 5,
                      "user": None, "v": None}
    assert Event.model_validate(dumped) == event
    assert Event.model_validate_json(json.dumps(dumped)) == event
    assert Event.model_validate({"name": "x", "data": None, "extra": 1}) == Event(name="x")


def test_model_validate_rejects_bad_input() -> None:
    with pytest.raises(_errors.BodyInvalidError):
        Event.model_validate({"data": {}})
    with pytest.raises(_errors.BodyInvalidError):
        Event.model_validate_json("{not json")
    with pytest.raises(_errors.BodyInvalidError, match="expected an object"):
        inngest.TriggerEvent.model_validate([1])


def test_config_models_dump_nested_values() -> None:
    trigger = inngest.TriggerEvent(event="app/a", expression="event.data.x == 1")
    assert trigger.model_dump() == {"event": "app/a", "expression": "event.data.x == 1"}
    assert trigger.model_dump(exclude_none=True, mode="json") == trigger.model_dump()
    assert inngest.TriggerEvent.model_validate(trigger.model_dump()) == trigger
    cron = inngest.TriggerCron(cron="* * * * *")
    assert inngest.TriggerCron.model_validate_json(json.dumps(cron.model_dump())) == cron


def test_send_events_result_has_model_methods() -> None:
    result = inngest.SendEventsResult(ids=["a"], error=None)
    assert result.model_dump() == {"ids": ["a"], "error": None}
    assert inngest.SendEventsResult.model_validate({"ids": ["a"]}) == result


# Event.from_raw


def test_event_from_raw_accepts_dicts_and_json_text() -> None:
    assert Event.from_raw({"name": "a", "data": {"x": 1}}) == Event(name="a", data={"x": 1})
    assert Event.from_raw('{"name": "a", "ts": 3}') == Event(name="a", ts=3)
    assert Event.from_raw(b'{"name": "a"}') == Event(name="a")


@pytest.mark.parametrize("raw", [{"data": {}}, "not json", [1], {"name": 1}])
def test_event_from_raw_returns_the_error(raw: object) -> None:
    result = Event.from_raw(raw)
    assert isinstance(result, Exception)


# ctx.logger forwards each call to the user's object


class RecordingLogger(logging.Logger):
    """A Logger subclass that overrides info(); stdlib handlers never see its calls."""

    def __init__(self) -> None:
        super().__init__("recording")
        self.info_calls: list[object] = []

    def info(self, msg: object, *args: object, **kwargs: typing.Any) -> None:
        self.info_calls.append(msg)


class StructuredLogger:
    """Not a stdlib logger at all (structlog-like): methods with keyword fields."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict[str, object]]] = []

    def info(self, event: object, **fields: object) -> None:
        self.calls.append(("info", event, fields))

    def warning(self, event: object, **fields: object) -> None:
        self.calls.append(("warning", event, fields))


def logging_handler(ctx: ContextSync) -> None:
    ctx.logger.info("start")
    ctx.step.run("a", lambda: 1)
    ctx.logger.info("after a")


def test_logger_subclass_override_receives_each_call_once() -> None:
    logger = RecordingLogger()
    client = Inngest(app_id="app", is_production=False, logger=logger)
    fn = make_fn(client, logging_handler)
    run(client, fn)
    run(client, fn, {hash_step_id("a"): {"data": 1}})
    assert logger.info_calls == ["start", "after a"]


def test_non_stdlib_logger_receives_calls_with_their_arguments() -> None:
    logger = StructuredLogger()
    client = Inngest(app_id="app", is_production=False)
    client.set_logger(logger)  # type: ignore[arg-type]

    def handler(ctx: ContextSync) -> None:
        ctx.logger.info("hello", user="u1")
        ctx.logger.warning("careful")

    run(client, make_fn(client, handler))
    assert logger.calls == [("info", "hello", {"user": "u1"}), ("warning", "careful", {})]


# inngest.experimental.step and get_step_context


def test_step_decorator_makes_a_step_inside_a_run(client: Inngest) -> None:
    calls: list[str] = []

    @inngest.experimental.step("greet")
    def greet(name: str, punctuation: str = "!") -> str:
        calls.append(name)
        return f"hi {name}{punctuation}"

    fn = make_fn(client, lambda ctx: greet("ann", punctuation="?"))
    result = run(client, fn)
    assert result.status == 206
    [report] = json.loads(result.body)
    assert (report["id"], report["op"], report["data"]) == (
        hash_step_id("greet"), "StepRun", "hi ann?"
    )
    done = run(client, fn, {hash_step_id("greet"): {"data": "hi ann?"}})
    assert (done.status, json.loads(done.body)) == (200, "hi ann?")
    assert calls == ["ann"]  # the replay used the memo


def test_step_decorator_is_a_plain_call_outside_a_run() -> None:
    @inngest.experimental.step("double")
    def double(x: int) -> int:
        return 2 * x

    assert double(4) == 8


def test_get_step_context_is_the_running_functions_step(client: Inngest) -> None:
    seen: list[object] = []

    def handler(ctx: ContextSync) -> object:
        step = inngest.experimental.get_step_context()
        seen.append(step is ctx.step)
        return step.run("a", lambda: "out")

    result = run(client, make_fn(client, handler), {hash_step_id("a"): {"data": "out"}})
    assert (result.status, json.loads(result.body), seen) == (200, "out", [True])


def test_get_step_context_outside_a_run_raises_a_lookup_error() -> None:
    with pytest.raises(LookupError) as caught:
        inngest.experimental.get_step_context()
    assert getattr(caught.value, "code") == "step_context_unset"


# mocked.errors


def test_mocked_unstubbed_wait_raises_unstubbed_step_error(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        return ctx.step.wait_for_event("w", event="app/other", timeout=1000)

    fn = make_fn(client, handler)
    with pytest.raises(UnstubbedStepError) as caught:
        mocked.trigger(fn, Event(name="app/go"), mocked.Inngest(app_id="test"))
    assert caught.value.code == "unstubbed_step"


# PydanticSerializer


def test_importing_inngest_does_not_import_pydantic() -> None:
    code = (
        "import sys, inngest, inngest.experimental, inngest.experimental.ai, inngest.flask,"
        " inngest.experimental.realtime, inngest.experimental.remote_state_middleware;"
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_pydantic_serializer_round_trips_models_through_steps() -> None:
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        name: str
        age: int

    client = Inngest(app_id="app", is_production=False, serializer=inngest.PydanticSerializer())
    got: list[object] = []

    def handler(ctx: ContextSync) -> object:
        user = ctx.step.run("u", lambda: User(name="ann", age=3), output_type=User)
        got.append(user)
        return user

    fn = client.create_function(
        fn_id="fn", trigger=TriggerEvent(event="app/go"), output_type=User
    )(handler)
    first = run(client, fn)
    [report] = json.loads(first.body)
    assert report["data"] == {"name": "ann", "age": 3}
    done = run(client, fn, {hash_step_id("u"): {"data": {"name": "ann", "age": 3}}})
    assert json.loads(done.body) == {"name": "ann", "age": 3}
    assert isinstance(got[-1], User) and got[-1].age == 3


def test_pydantic_serializer_validates_declared_types() -> None:
    pydantic = pytest.importorskip("pydantic")
    serializer = inngest.PydanticSerializer()
    assert serializer.deserialize(["1", 2], list[int]) == [1, 2]
    with pytest.raises(pydantic.ValidationError):
        serializer.deserialize({"x": 1}, list[int])


# step.ai.infer


def test_ai_infer_reports_an_ai_gateway_step(client: Inngest) -> None:
    adapter = ai.anthropic.Adapter(auth_key="sk-1", base_url="http://llm/v1/", model="m1")

    def handler(ctx: ContextSync) -> object:
        return ctx.step.ai.infer("ask", adapter=adapter, body={"messages": []})

    fn = make_fn(client, handler)
    result = run(client, fn)
    assert result.status == 206
    [report] = json.loads(result.body)
    assert report == {
        "data": None,
        "displayName": "ask",
        "id": hash_step_id("ask"),
        "name": "ask",
        "op": "AIGateway",
        "opts": {
            "auth_key": "sk-1",
            "body": {"messages": [], "model": "m1"},
            "format": "anthropic",
            "headers": {"anthropic-version": "2023-06-01"},
            "type": "step.ai.infer",
            "url": "http://llm/v1/messages",
        },
        "userland": {"id": "ask", "index": None},
    }
    assert list(report["opts"]) == ["auth_key", "body", "format", "headers", "type", "url"]
    answer = {"content": [{"type": "text", "text": "hi"}]}
    done = run(client, fn, {hash_step_id("ask"): {"data": answer}})
    assert (done.status, json.loads(done.body)) == (200, answer)


@dataclasses.dataclass
class AdapterCase:
    adapter: ai.BaseAdapter
    format: str
    url: str


@pytest.mark.parametrize("case", [
    AdapterCase(ai.openai.Adapter(auth_key="k", model="g"), "openai-chat",
                "https://api.openai.com/v1/chat/completions"),
    AdapterCase(ai.grok.Adapter(auth_key="k", model="g"), "openai-chat",
                "https://api.x.ai/v1/chat/completions"),
    AdapterCase(ai.deepseek.Adapter(auth_key="k", model="g"), "openai-chat",
                "https://api.deepseek.com/v1/chat/completions"),
    AdapterCase(ai.gemini.Adapter(auth_key="k", model="g"), "gemini",
                "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=k"),
    AdapterCase(ai.anthropic.Adapter(auth_key="k", model="g", headers={"x": "y"}), "anthropic",
                "https://api.anthropic.com/v1/messages"),
])
def test_adapters_formats_and_urls(case: AdapterCase) -> None:
    body: dict[str, typing.Any] = {"model": "explicit"}
    case.adapter.on_call(body)
    assert body == {"model": "explicit"}  # a given model is kept
    assert (case.adapter.format(), case.adapter.url_infer()) == (case.format, case.url)


def test_given_headers_replace_the_anthropic_default() -> None:
    assert ai.anthropic.Adapter(auth_key="k", model="m", headers={"x": "y"}).headers() == {
        "x": "y"
    }


def test_pydantic_serializer_serializes_on_failure_output_without_output_type() -> None:
    pydantic = pytest.importorskip("pydantic")

    class User(pydantic.BaseModel):  # type: ignore[misc,name-defined]
        name: str

    client = Inngest(app_id="app", is_production=False, serializer=inngest.PydanticSerializer())

    def on_failure(ctx: ContextSync) -> object:
        return [User(name="ann")]

    fn = client.create_function(
        fn_id="fn", trigger=TriggerEvent(event="app/go"), on_failure=on_failure
    )(lambda ctx: None)
    result = execute(
        client=client, function=fn, handler=on_failure,
        request=ExecutionRequest.from_dict(make_body({})),
        target_step_id=None, raw_request=None, job_id=None, request_id=None,
    )
    assert (result.status, json.loads(result.body)) == (200, [{"name": "ann"}])


def test_stdlib_records_name_the_callers_line(caplog: pytest.LogCaptureFixture) -> None:
    client = Inngest(app_id="app", is_production=False)

    def handler_that_logs(ctx: ContextSync) -> None:
        ctx.logger.info("here")
        ctx.logger.log(logging.WARNING, "there")

    with caplog.at_level(logging.INFO, logger="inngest"):
        run(client, make_fn(client, handler_that_logs))
    assert [(r.getMessage(), r.funcName) for r in caplog.records] == [
        ("here", "handler_that_logs"), ("there", "handler_that_logs")
    ]
