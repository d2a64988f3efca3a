"""inngest.experimental.remote_state_middleware and sentry_middleware, seen from the wire."""

import io
import json
import sys
import types
import typing

import pytest

from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._execution import ExecutionRequest, ExecutionResult, execute
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._protocol.step_ids import hash_step_id
from inngest.experimental.remote_state_middleware import (
    InMemoryDriver,
    RemoteStateMiddleware,
    S3Driver,
)

A = hash_step_id("a")
BIG = {"rows": list(range(50))}


def run(client: Inngest, fn: Function[typing.Any], steps: dict[str, object]) -> ExecutionResult:
    body = {
        "event": {"name": "app/go", "data": {}, "id": "ev1"},
        "events": [{"name": "app/go", "data": {}, "id": "ev1"}],
        "steps": steps,
        "use_api": False,
        "ctx": {"run_id": "run-1", "attempt": 0, "disable_immediate_execution": False,
                "stack": {"stack": None}},
    }
    return execute(
        client=client, function=fn, handler=fn.handler, request=ExecutionRequest.from_dict(body),
        target_step_id=None, raw_request=None, job_id=None, request_id=None,
    )


def remote_fn(client: Inngest, seen: list[object]) -> Function[typing.Any]:
    def handler(ctx: ContextSync) -> object:
        value = ctx.step.run("a", lambda: BIG)
        seen.append(value)
        return "done"

    return client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(handler)


def test_in_memory_driver_sends_a_reference_and_loads_the_value_back() -> None:
    driver = InMemoryDriver()
    client = Inngest(app_id="app", is_production=False,
                     middleware=[RemoteStateMiddleware.factory(driver)])
    seen: list[object] = []
    fn = remote_fn(client, seen)
    [report] = json.loads(run(client, fn, {}).body)
    reference = report["data"]
    assert set(reference) == {"__REMOTE_STATE__", "__STRATEGY__", "key"}
    assert reference["__STRATEGY__"] == "inngest/memory"
    done = run(client, fn, {A: {"data": reference}})
    assert (done.status, seen) == (200, [BIG])


def test_other_drivers_references_are_left_alone() -> None:
    client = Inngest(app_id="app", is_production=False,
                     middleware=[RemoteStateMiddleware.factory(InMemoryDriver())])
    seen: list[object] = []
    foreign = {"__REMOTE_STATE__": True, "__STRATEGY__": "inngest/s3", "key": "k"}
    run(client, remote_fn(client, seen), {A: {"data": foreign}})
    assert seen == [foreign]


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], str] = {}

    def put_object(self, *, Body: str, Bucket: str, Key: str) -> object:
        self.objects[(Bucket, Key)] = Body
        return {}

    def get_object(self, *, Bucket: str, Key: str) -> typing.Mapping[str, typing.Any]:
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)].encode())}


def test_s3_driver_stores_json_under_the_run_and_loads_it() -> None:
    s3 = FakeS3()
    client = Inngest(app_id="app", is_production=False,
                     middleware=[RemoteStateMiddleware.factory(S3Driver(bucket="b", client=s3))])
    seen: list[object] = []
    fn = remote_fn(client, seen)
    [report] = json.loads(run(client, fn, {}).body)
    reference = report["data"]
    assert reference["__STRATEGY__"] == "inngest/s3" and reference["bucket"] == "b"
    assert reference["key"].startswith("inngest/remote_state/run-1/")
    assert json.loads(s3.objects[("b", reference["key"])]) == BIG
    run(client, fn, {A: {"data": reference}})
    assert seen == [BIG]


def test_sentry_middleware_tags_the_run_and_captures_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, object]] = []
    fake = types.ModuleType("sentry_sdk")
    fake.is_initialized = lambda: True  # type: ignore[attr-defined]
    fake.set_tag = lambda name, value: calls.append((name, value))  # type: ignore[attr-defined]
    capture = lambda err: calls.append(("capture", str(err)))  # noqa: E731
    fake.capture_exception = capture  # type: ignore[attr-defined]
    fake.flush = lambda: calls.append(("flush", None))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    from inngest.experimental.sentry_middleware import SentryMiddleware

    client = Inngest(app_id="app", is_production=False, middleware=[SentryMiddleware])

    def handler(ctx: ContextSync) -> None:
        raise ValueError("boom")

    fn = client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(handler)
    assert run(client, fn, {}).status == 500
    assert dict(calls)["inngest.function.id"] == "fn"
    assert ("inngest.run.id", "run-1") in calls and ("inngest.event.id", "ev1") in calls
    assert calls[-2:] == [("capture", "boom"), ("flush", None)]
