import collections
import datetime
import enum
import json
import logging
import re
import typing

import pytest

from inngest import _errors
from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._event import Event
from inngest._execution import ExecutionRequest, ExecutionResult, execute
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._protocol.step_ids import hash_step_id
from inngest.experimental import mocked

A = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"


def make_body(
    steps: typing.Mapping[str, object] | None = None, **ctx: object
) -> dict[str, object]:
    return {
        "event": {"name": "app/go", "data": {"n": 1}, "id": "ev1", "ts": 5, "user": {}},
        "events": [{"name": "app/go", "data": {"n": 1}, "id": "ev1", "ts": 5}],
        "steps": dict(steps or {}),
        "use_api": False,
        "version": 2,
        "ctx": {
            "run_id": "run-1",
            "attempt": 0,
            "disable_immediate_execution": False,
            "max_attempts": 4,
            "stack": {"stack": [], "current": 0},
            "fn_id": "uuid",
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
        request=ExecutionRequest.from_dict(make_body(steps, **ctx)),
        target_step_id=target,
        raw_request=None,
        job_id="job-1",
        request_id="req-1",
    )


def make_fn(
    client: Inngest, handler: typing.Callable[[ContextSync], object], **opts: typing.Any
) -> Function:
    return client.create_function(
        fn_id="fn", trigger=TriggerEvent(event="app/go"), **opts
    )(handler)


@pytest.fixture
def client() -> Inngest:
    return Inngest(app_id="app", is_production=False)


# ExecutionRequest.from_dict


def test_from_dict_parses_a_realistic_body() -> None:
    request = ExecutionRequest.from_dict(make_body({A: {"data": 1}}, attempt=2))
    assert request.event == Event(name="app/go", data={"n": 1}, id="ev1", ts=5, user={})
    assert request.events == [Event(name="app/go", data={"n": 1}, id="ev1", ts=5)]
    assert request.steps == {A: {"data": 1}}
    assert (request.run_id, request.attempt, request.max_attempts) == ("run-1", 2, 4)
    assert request.use_api is False
    assert request.disable_immediate_execution is False


def test_the_usual_body_parses_its_one_event_once() -> None:
    body = make_body()
    body["events"] = [dict(typing.cast(dict, body["event"]))]
    request = ExecutionRequest.from_dict(body)
    assert request.events is not None and request.events[0] is request.event


def test_events_that_differ_from_the_event_are_parsed_on_their_own() -> None:
    request = ExecutionRequest.from_dict(make_body())  # events[0] has no "user"
    assert request.events is not None and request.events[0] is not request.event
    assert (request.events[0].user, request.event.user) == (None, {})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["ctx"].update(attempt="1"), "ctx.attempt: expected int"),
        (lambda b: b["ctx"].update(attempt=True), "ctx.attempt: expected int"),
        (lambda b: b["ctx"].update(max_attempts=False), "ctx.max_attempts: expected int"),
        (lambda b: b["ctx"].update(run_id=1), "ctx.run_id: expected str"),
        (lambda b: b["ctx"].pop("run_id"), "ctx.run_id: required"),
        (lambda b: b["ctx"].update(disable_immediate_execution=0),
         "ctx.disable_immediate_execution: expected bool"),
        (lambda b: b["ctx"].update(stack=[]), "ctx.stack: expected object"),
        (lambda b: b.pop("ctx"), "ctx: required"),
        (lambda b: b.pop("event"), "event: required"),
        (lambda b: b.update(events={}), "events: expected list or null"),
        (lambda b: b.update(steps=[]), "steps: expected object"),
        (lambda b: b.pop("steps"), "steps: required"),
        (lambda b: b.update(use_api="false"), "use_api: expected bool"),
        (lambda b: b["event"].update(ts=1.5), "event: event.ts must be an integer"),
        (lambda b: b["events"].append({"data": {}}), "events[1]: event.name is required"),
    ],
)
def test_from_dict_names_the_bad_field(
    change: typing.Callable[[dict[str, typing.Any]], object], message: str
) -> None:
    body = make_body()
    change(body)
    with pytest.raises(_errors.BodyInvalidError) as caught:
        ExecutionRequest.from_dict(body)
    assert caught.value.message == message


def test_from_dict_reads_dict_subclasses_like_plain_dicts() -> None:
    # Bodies of plain JSON types take a shortcut; anything else is checked field by field.
    plain = make_body({A: {"data": 1}}, attempt=2)
    ordered = collections.OrderedDict(plain)
    ordered["ctx"] = collections.OrderedDict(typing.cast(dict[str, object], plain["ctx"]))
    assert ExecutionRequest.from_dict(ordered) == ExecutionRequest.from_dict(plain)


def test_from_dict_rejects_a_non_object() -> None:
    with pytest.raises(_errors.BodyInvalidError, match="body: expected object"):
        ExecutionRequest.from_dict([])


def test_from_dict_accepts_null_events_and_missing_max_attempts() -> None:
    body = make_body()
    body["events"] = None
    typing.cast(dict[str, object], body["ctx"]).pop("max_attempts")
    request = ExecutionRequest.from_dict(body)
    assert request.events is None
    assert request.max_attempts is None


def test_with_api_data_replaces_events_and_steps() -> None:
    request = ExecutionRequest.from_dict(make_body(use_api=True))
    replaced = request.with_api_data([{"name": "big", "data": {}}], {A: {"data": 2}})
    assert replaced.events == [Event(name="big")]
    assert replaced.steps == {A: {"data": 2}}
    assert replaced.event == request.event
    with pytest.raises(_errors.BodyInvalidError, match="events: expected list"):
        request.with_api_data({}, {})


# 200


def test_function_output_is_the_raw_json_body(client: Inngest) -> None:
    fn = make_fn(client, lambda ctx: {"ok": True, "word": "héllo", "pair": (1, 2)})
    result = run(client, fn)
    assert result == ExecutionResult(
        status=200,
        body=b'{"ok": true, "word": "h\\u00e9llo", "pair": [1, 2]}',
        no_retry=False,
        retry_after=None,
    )


def test_function_returning_none_answers_null(client: Inngest) -> None:
    result = run(client, make_fn(client, lambda ctx: None))
    assert (result.status, result.body) == (200, b"null")


def test_context_carries_request_facts(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> object:
        return [ctx.attempt, ctx.run_id, ctx.job_id, ctx.request_id, ctx.event.name,
                len(ctx.events)]

    result = run(client, make_fn(client, handler), attempt=3)
    assert json.loads(result.body) == [3, "run-1", "job-1", "req-1", "app/go", 1]


# 500


def boom(ctx: ContextSync) -> None:
    raise ValueError("bad input")


def test_user_exception_is_a_retriable_500_with_a_python_traceback(client: Inngest) -> None:
    result = run(client, make_fn(client, boom))
    body = json.loads(result.body)
    assert result.status == 500
    assert result.no_retry is False
    assert list(body) == ["code", "message", "name", "stack"]
    assert (body["code"], body["message"], body["name"]) == ("unknown", "bad input", "ValueError")
    assert body["stack"].startswith("Traceback (most recent call last):\n")
    assert "in boom" in body["stack"]
    assert "inngest/_execution.py" not in body["stack"]
    assert body["stack"].endswith("ValueError: bad input\n")


def test_non_retriable_error_sets_no_retry(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        raise _errors.NonRetriableError()

    result = run(client, make_fn(client, handler))
    body = json.loads(result.body)
    assert (result.status, result.no_retry) == (500, True)
    assert (body["code"], body["message"], body["name"]) == (
        "non_retriable_error", "None", "NonRetriableError")


def test_retry_after_error_carries_the_absolute_time(client: Inngest) -> None:
    moment = datetime.datetime(2030, 11, 23, 2, 2, 3, 597123, tzinfo=datetime.timezone.utc)

    def handler(ctx: ContextSync) -> None:
        raise _errors.RetryAfterError("later", moment)

    result = run(client, make_fn(client, handler))
    body = json.loads(result.body)
    assert (result.status, result.no_retry, result.retry_after) == (500, False, moment)
    assert (body["code"], body["message"], body["name"]) == (
        "retry_after_error", "later", "RetryAfterError")
    from inngest._handler import format_retry_after

    assert format_retry_after(moment) == "2030-11-23T02:02:03.597Z"


def test_retry_after_in_milliseconds_is_from_now(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        raise _errors.RetryAfterError("later", 60_000)

    before = datetime.datetime.now(datetime.timezone.utc)
    result = run(client, make_fn(client, handler))
    assert result.retry_after is not None
    assert before + datetime.timedelta(seconds=59) < result.retry_after
    assert result.retry_after < before + datetime.timedelta(seconds=120)


def test_unserializable_function_output_is_500_without_retry(client: Inngest) -> None:
    result = run(client, make_fn(client, lambda ctx: object()))
    assert result == ExecutionResult(
        status=500,
        body=b'{"code": "output_unserializable", "message": "returned unserializable data", '
        b'"name": "OutputUnserializableError"}',
        no_retry=True,
    )


def test_unserializable_step_output_names_the_step(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        ctx.step.run("make", lambda: {1, 2})

    result = run(client, make_fn(client, handler))
    assert (result.status, result.no_retry) == (500, True)
    assert json.loads(result.body) == {
        "code": "output_unserializable",
        "message": '"make" returned unserializable data',
        "name": "OutputUnserializableError",
    }


class Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize("output", [
    "plain", "t\u00e9xt \U0001f600 \"quoted\"\n", 1.5, 10**30, -0.0, True, None, Level.HIGH,
    {"nested": [1, {"b": None, "a": [2.25, "x"]}], "": {}}, [], ("a", 1),
])
def test_outputs_are_encoded_as_json_dumps_encodes_them(client: Inngest, output: object) -> None:
    result = run(client, make_fn(client, lambda ctx: output))
    assert (result.status, result.body) == (200, json.dumps(output).encode("utf-8"))


@pytest.mark.parametrize("output", [
    "plain", "t\u00e9xt \U0001f600 \"quoted\"\n", 1.5, 10**30, -0.0, True, False, None,
    Level.HIGH, {"nested": [1, {"b": None, "a": [2.25, "x"]}], "": {}}, [], ("a", 1),
])
def test_step_outputs_are_encoded_as_json_dumps_encodes_them(
    client: Inngest, output: object
) -> None:
    step_id = "st\u00e9p \"one\""

    def handler(ctx: ContextSync) -> None:
        ctx.step.run(step_id, lambda: output)

    result = run(client, make_fn(client, handler))
    element = {
        "displayName": step_id, "id": hash_step_id(step_id), "name": step_id, "op": "StepRun",
        "opts": None, "userland": {"id": step_id, "index": None}, "data": output,
    }
    assert (result.status, result.body) == (206, json.dumps([element]).encode("utf-8"))


def test_outputs_holding_themselves_are_unserializable(client: Inngest) -> None:
    looped: list[object] = []
    looped.append(looped)
    result = run(client, make_fn(client, lambda ctx: looped))
    assert json.loads(result.body)["message"] == "returned unserializable data"

    def handler(ctx: ContextSync) -> None:
        ctx.step.run("loop", lambda: looped)

    result = run(client, make_fn(client, handler))
    assert json.loads(result.body)["message"] == '"loop" returned unserializable data'
    assert run(client, make_fn(client, lambda ctx: [looped[:1], "ok"])).status == 500
    assert run(client, make_fn(client, lambda ctx: "after")).body == b'"after"'


def test_step_unexpected_when_targeting_another_step(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        ctx.step.run("a", lambda: 1)

    result = run(client, make_fn(client, handler), target=hash_step_id("other"))
    assert (result.status, result.no_retry) == (500, False)
    assert result.body == (
        b'{"code": "step_unexpected", "message": "found step \\"a\\" when targeting a '
        b'different step", "name": "StepUnexpectedError", "stack": null}'
    )


# Serializer and output_type


class TaggedSerializer:
    def serialize(self, obj: object, typ: object) -> object:
        assert typ is Point
        assert isinstance(obj, Point)
        return {"x": obj.x}

    def deserialize(self, obj: object, typ: object) -> object:
        assert typ is Point
        return Point(typing.cast(dict[str, int], obj)["x"])


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


def test_serializer_applies_only_with_output_type() -> None:
    client = Inngest(app_id="app", is_production=False, serializer=TaggedSerializer())
    typed = make_fn(client, lambda ctx: Point(3), output_type=Point)
    untyped = make_fn(client, lambda ctx: Point(3))
    assert run(client, typed).body == b'{"x": 3}'
    assert json.loads(run(client, untyped).body)["code"] == "output_unserializable"


def test_step_output_type_round_trips_through_the_serializer() -> None:
    client = Inngest(app_id="app", is_production=False, serializer=TaggedSerializer())
    seen: list[object] = []

    def handler(ctx: ContextSync) -> None:
        point = ctx.step.run("p", lambda: Point(7), output_type=Point)
        seen.append(point)

    fn = make_fn(client, handler)
    first = json.loads(run(client, fn).body)
    assert first[0]["data"] == {"x": 7}
    assert run(client, fn, {hash_step_id("p"): {"data": {"x": 9}}}).status == 200
    assert isinstance(seen[0], Point) and seen[0].x == 9


def test_without_serializer_output_type_is_ignored(client: Inngest) -> None:
    fn = make_fn(client, lambda ctx: ctx.step.run("p", lambda: 1, output_type=int) + 1)
    assert run(client, fn, {hash_step_id("p"): {"data": 41}}).body == b"42"


# Sending events as a step


def test_send_event_step_reports_the_ids() -> None:
    client = mocked.Inngest(app_id="app", is_production=False)

    def handler(ctx: ContextSync) -> list[str]:
        return ctx.step.send_event("send", [Event(name="a"), Event(name="b")])

    fn = make_fn(client, handler)
    body = json.loads(run(client, fn).body)
    assert body[0]["op"] == "StepRun"
    assert body[0]["data"] == ["00000000000000000000000000"] * 2
    memo = {hash_step_id("send"): {"data": ["x", "y"]}}
    assert json.loads(run(client, fn, memo).body) == ["x", "y"]


def test_retry_after_header_value_is_iso_utc_with_milliseconds(client: Inngest) -> None:
    def handler(ctx: ContextSync) -> None:
        raise _errors.RetryAfterError("later", datetime.timedelta(hours=1))

    from inngest._handler import format_retry_after

    result = run(client, make_fn(client, handler))
    assert result.retry_after is not None
    value = format_retry_after(result.retry_after)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value)


def test_function_errors_are_logged_unless_quiet(
    client: Inngest, caplog: pytest.LogCaptureFixture
) -> None:
    def loud(ctx: ContextSync) -> None:
        raise _errors.NonRetriableError("loud failure")

    def quiet(ctx: ContextSync) -> None:
        raise _errors.NonRetriableError("quiet failure", quiet=True)

    with caplog.at_level(logging.ERROR, logger="inngest"):
        for handler in (loud, quiet):
            assert run(client, make_fn(client, handler)).status == 500
    assert [record.getMessage() for record in caplog.records] == [
        "non_retriable_error: loud failure"
    ]
