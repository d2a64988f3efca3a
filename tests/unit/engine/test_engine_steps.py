"""The executor loop: call requests, opcodes and run outcomes."""

from __future__ import annotations

import json

import pytest

from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash

from inngest import _signing
from inngest._protocol import jcs
from inngest._engine import ulid
from inngest._loopback import LoopbackTransport

LOOPBACK = True


def test_step_run_then_complete(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if not call.body["steps"]:
            return ops(op("StepRun", "first", data={"n": 1}))
        return ok({"result": call.body["steps"][step_hash("first")]["data"]["n"]})

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn", "data": {"x": 1}})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed"
    assert run["output"] == {"result": 1}

    first, second = app.posts()
    assert first.step_id == "step"
    assert first.raw == jcs.canonicalize(first.body)
    assert first.headers["x-run-id"] == run["run_id"]
    assert first.headers["x-inngest-step-id"] == "step"
    assert first.headers["content-type"] == "application/json"
    assert "x-inngest-signature" not in first.headers
    assert ulid.is_ulid(first.headers["x-request-id"]) and first.headers["x-inngest-job-id"]
    body = first.body
    assert body["event"]["name"] == "test/fn"
    assert body["event"]["data"] == {"x": 1}
    assert body["event"]["user"] == {}
    assert body["events"] == [body["event"]]
    assert body["version"] == -1 and body["use_api"] is False
    ctx = body["ctx"]
    assert ctx["run_id"] == run["run_id"] and ctx["fn_id"] == run["function_id"]
    assert ctx["env"] == "" and ctx["step_id"] == "step"
    assert ctx["attempt"] == 0 and ctx["max_attempts"] == 4
    assert ctx["stack"] == {"stack": [], "current": 0}
    assert ctx["disable_immediate_execution"] is False
    assert second.body["steps"] == {step_hash("first"): {"data": {"n": 1}}}
    assert second.body["ctx"]["stack"] == {"stack": [step_hash("first")], "current": 1}
    assert second.body["version"] == 2


def test_request_bodies_stay_canonical_as_step_results_pile_up(
        client: Client, app: FakeApp) -> None:
    # Floats, keys out of order and step ids whose UTF-16 order differs from their code
    # point order: each later body pastes the earlier results, and must still be JCS.
    results = [
        ("\uff61", {"z": 1.0, "a": [1e21, 0.1, -0.0], "\U0001f600": "x", "\u00e9": 2}),
        ("\U0001f600", {"b": {"y": 2.50, "x": None}, "a": "\u2028\n"}),
        ("plain", [1.5, {"k": 1e-7}]),
    ]

    def handler(call: Call) -> Reply:
        done = len(call.body["steps"])
        if done == len(results):
            return ok(call.body["steps"])
        step_id, value = results[done]
        return ops({**op("StepRun", "s", data=value), "id": step_id})

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn", "data": {"f": 2.0, "b": 1, "a": 0.5}})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed"
    assert run["output"] == {step_id: {"data": value} for step_id, value in results}
    posts = app.posts()
    assert len(posts) == len(results) + 1
    for post in posts:
        assert post.raw == jcs.canonicalize(post.body)


def test_function_errors_retry_then_succeed(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if call.body["ctx"]["attempt"] < 2:
            return 500, {"x-inngest-no-retry": "false"}, {"name": "Error", "message": "boom"}
        return ok("fine")

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] == "fine"
    assert [c.body["ctx"]["attempt"] for c in app.posts()] == [0, 1, 2]


def test_retries_exhausted_fail_the_run(client: Client, app: FakeApp) -> None:
    error = {"name": "Error", "message": "always", "stack": "trace"}
    client.register(app, [app.function("fn", retries=1, handler=lambda call: (500, {}, error))])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Failed" and run["output"] == error
    assert [c.body["ctx"]["max_attempts"] for c in app.posts()] == [2, 2]


def test_no_retry_header_fails_at_once(client: Client, app: FakeApp) -> None:
    error = {"name": "NonRetriableError", "message": "stop"}
    client.register(app, [app.function(
        "fn", handler=lambda call: (400, {"x-inngest-no-retry": "true"}, error))])
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id)["status"] == "Failed"
    assert len(app.posts()) == 1


def test_response_without_sdk_header_is_retried(client: Client, app: FakeApp) -> None:
    app.sdk_headers = {}
    client.register(app, [app.function("fn", retries=1, handler=lambda call: ok("x"))])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Failed" and "Inngest SDK" in run["output"]["message"]
    assert len(app.posts()) == 2


def test_retry_after_is_honoured(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if call.body["ctx"]["attempt"] == 0:
            return 500, {"retry-after": "1"}, {"name": "RetryAfterError", "message": "later"}
        return ok("ok")

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    client.wait_for_run(event_id)
    first, second = app.posts()
    gap = ulid.timestamp_ms(second.headers["x-request-id"]) - \
        ulid.timestamp_ms(first.headers["x-request-id"])
    assert gap >= 950


def test_step_error_retries_then_step_failed_memo(client: Client, app: FakeApp) -> None:
    error = {"name": "ValueError", "message": "bad", "stack": "s"}

    def handler(call: Call) -> Reply:
        memo = call.body["steps"].get(step_hash("flaky"))
        if memo is None:
            return ops(op("StepError", "flaky", error=error))
        return ok({"caught": memo["error"]["message"]})

    client.register(app, [app.function("fn", retries=2, handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] == {"caught": "bad"}
    posts = app.posts()
    assert [c.body["ctx"]["attempt"] for c in posts] == [0, 1, 2, 0]
    assert posts[-1].body["steps"] == {step_hash("flaky"): {"error": error}}


def test_parallel_steps_fan_in_once(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if call.step_id != "step":
            name = {step_hash(n): n for n in ("a", "b", "c")}[call.step_id]
            return ops(op("StepRun", name, data=name.upper()))
        if not steps:
            return ops(*(op("StepPlanned", n) for n in ("a", "b", "c")))
        return ok(sorted(value["data"] for value in steps.values()))

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] == ["A", "B", "C"]
    posts = app.posts()
    targeted = [c for c in posts if c.step_id != "step"]
    assert sorted(c.step_id for c in targeted) == sorted(step_hash(n) for n in "abc")
    assert all(c.headers["x-inngest-step-id"] == c.step_id for c in targeted)
    assert all(c.body["ctx"]["disable_immediate_execution"] for c in targeted)
    assert all(c.body["ctx"]["stack"]["current"] == 0 for c in targeted)
    discoveries = [c for c in posts if c.step_id == "step"]
    assert len(discoveries) == 2
    assert discoveries[1].body["ctx"]["disable_immediate_execution"] is False


def test_sleep_wakes_with_null_memo(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        if step_hash("nap") not in call.body["steps"]:
            return ops(op("Sleep", "nap", opts={"duration": "300ms"}))
        return ok(call.body["steps"][step_hash("nap")])

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] is None
    first, second = app.posts()
    gap = ulid.timestamp_ms(second.headers["x-request-id"]) - \
        ulid.timestamp_ms(first.headers["x-request-id"])
    assert gap >= 290


def test_large_state_switches_to_use_api(client: Client, app: FakeApp) -> None:
    big = "x" * (3 * 1024 * 1024)

    def handler(call: Call) -> Reply:
        done = len(call.body["ctx"]["stack"]["stack"])
        if done < 2:
            return ops(op("StepRun", f"s{done}", data=big))
        return ok({"use_api": call.body["use_api"], "steps": call.body["steps"],
                   "events": call.body["events"]})

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["output"] == {"use_api": True, "steps": {}, "events": []}
    last = app.posts()[-1]
    assert last.body["ctx"]["use_api"] is True
    assert last.body["event"]["name"] == "test/fn"  # the SDK still gets the trigger event
    assert last.raw == jcs.canonicalize(last.body)
    _, actions = client.request("GET", f"/v0/runs/{run['run_id']}/actions")
    assert actions == {step_hash("s0"): {"data": big}, step_hash("s1"): {"data": big}}
    _, batch = client.request("GET", f"/v0/runs/{run['run_id']}/batch")
    assert [e["name"] for e in batch] == ["test/fn"]


def test_unknown_opcode_is_a_retriable_error(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", retries=0, handler=lambda call: ops({"op": "StepNotFound", "id": "x"}))])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Failed" and "StepNotFound" in run["output"]["error"]["message"]


def test_streamed_response_is_unwrapped(client: Client, app: FakeApp) -> None:
    wrapper = {"status": 200, "body": json.dumps({"streamed": True}), "headers": {}}
    client.register(app, [app.function("fn", handler=lambda call: (201, {}, wrapper))])
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id)["output"] == {"streamed": True}


def test_signing_key_signs_requests(loopback: LoopbackTransport, app: FakeApp) -> None:
    key = "signkey-test-" + "ab" * 32
    dev = LoopbackDev(loopback, signing_key=key)
    try:
        client = Client(dev)
        client.register(app, [app.function("fn", handler=lambda call: ok(1))])
        client.wait_for_run(client.send({"name": "test/fn"})[0])
    finally:
        dev.stop()
    [call] = app.posts()
    signature = call.headers["x-inngest-signature"]
    timestamp = signature.split("&")[0][2:]
    assert _signing.verify_request(call.raw, signature, [key])[1] == key and timestamp.isdigit()


def test_ai_gateway_call_is_made_by_the_engine(
    client: Client, app: FakeApp, loopback: LoopbackTransport
) -> None:
    provider = FakeApp("provider", loopback=loopback)
    provider.handlers[""] = lambda call: ok({"answer": call.body["q"]})
    opts = {"url": provider.url, "headers": {"x-extra": "1"}, "body": {"q": "hi"},
            "format": "openai-chat", "auth_key": "sk-test", "type": "step.ai.infer"}

    def handler(call: Call) -> Reply:
        memo = call.body["steps"].get(step_hash("ask"))
        return ok(memo) if memo else ops(op("AIGateway", "ask", opts=opts))

    try:
        client.register(app, [app.function("fn", handler=handler)])
        run = client.wait_for_run(client.send({"name": "test/fn"})[0])
        assert run["output"] == {"data": {"answer": "hi"}}
        [request] = provider.calls
        assert request.headers["authorization"] == "Bearer sk-test"
        assert request.headers["x-extra"] == "1"
    finally:
        provider.close()


def test_ai_gateway_sends_header_names_as_the_real_server_does(
    client: Client, app: FakeApp, loopback: LoopbackTransport
) -> None:
    # The real server's Go client canonicalizes names: x-api-key goes out as X-Api-Key.
    provider = FakeApp("provider", loopback=loopback)
    provider.handlers[""] = lambda call: ok({"answer": 1})
    opts = {"url": provider.url, "headers": {"anthropic-version": "2023-06-01"}, "body": {},
            "format": "anthropic", "auth_key": "sk-test", "type": "step.ai.infer"}

    def handler(call: Call) -> Reply:
        memo = call.body["steps"].get(step_hash("ask"))
        return ok(memo) if memo else ops(op("AIGateway", "ask", opts=opts))

    try:
        client.register(app, [app.function("fn", handler=handler)])
        client.wait_for_run(client.send({"name": "test/fn"})[0])
        [request] = provider.calls
        assert {"X-Api-Key", "Anthropic-Version", "Content-Type"} <= set(request.header_names)
        assert request.headers["x-api-key"] == "sk-test"
    finally:
        provider.close()


def test_step_limit_fails_the_run(client: Client, app: FakeApp) -> None:
    many = [op("StepPlanned", f"s{i}") for i in range(1001)]
    client.register(app, [app.function("fn", handler=lambda call: ops(*many))])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    message = "The function run exceeded the step limit of 1000 steps."
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": f"InngestErrFunctionOverflowed: {message}",
                                       "name": "InngestErrFunctionOverflowed",
                                       "message": message}}


def test_step_output_over_4_mib_fails_after_one_execution(client: Client, app: FakeApp) -> None:
    # The limit applies to the stored value, {"data": ...}: 4 MiB of data is too much.
    big = "x" * (4 * 1024 * 1024 - len('{"data":""}') + 1)
    client.register(app, [app.function(
        "fn", retries=1, handler=lambda call: ops(op("StepRun", "big", data=big)))])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    message = (f"error validating generator opcode {step_hash('big')}: "
               "step output size is greater than the limit")
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": message, "name": "Error", "message": message}}
    assert [call.body["ctx"]["attempt"] for call in app.posts()] == [0]


def test_reply_over_8_mib_fails_the_run_after_one_execution(client: Client, app: FakeApp) -> None:
    """Finding 7: a reply past the response limit was retried, so its step ran twice."""
    big = "x" * (8 * 1024 * 1024 + 1)
    client.register(app, [app.function(
        "fn", retries=3, handler=lambda call: ops(op("StepRun", "big", data=big)))])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    assert run["status"] == "Failed"
    assert run["output"] == {"error": "OutputTooLarge: output_too_large",
                             "name": "OutputTooLarge", "message": "output_too_large"}
    assert len(app.posts()) == 1


def test_step_output_of_exactly_4_mib_is_saved(client: Client, app: FakeApp) -> None:
    data = "x" * (4 * 1024 * 1024 - len('{"data":""}'))

    def handler(call: Call) -> Reply:
        if call.body["ctx"]["stack"]["stack"]:
            return ok(call.body["ctx"]["stack"]["stack"])
        return ops(op("StepRun", "big", data=data))

    client.register(app, [app.function("fn", handler=handler)])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    assert run["status"] == "Completed" and run["output"] == [step_hash("big")]


def test_run_state_over_32_mib_fails_the_run(client: Client, app: FakeApp) -> None:
    # Each step result is under the 4 MiB step limit; the ninth takes the run past 32 MiB.
    chunk = "x" * (39 * 1024 * 1024 // 10)
    calls: list[int] = []

    def handler(call: Call) -> Reply:
        calls.append(len(calls))
        return ops(op("StepRun", f"s{len(calls)}", data=chunk))

    client.register(app, [app.function("fn", handler=handler)])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0], timeout=30)
    message = "The function run exceeded the state size limit of 33554432 bytes."
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": f"InngestErrStateOverflowed: {message}",
                                       "name": "InngestErrStateOverflowed", "message": message}}
    assert len(calls) == 9


def test_a_crashing_queue_item_fails_its_run(
    client: Client, app: FakeApp, dev: LoopbackDev, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 5: an item whose processing raised was dropped, leaving its run Running."""

    def crash(*args: object) -> bytes:
        raise ValueError("NaN and Infinity are not JSON numbers")

    monkeypatch.setattr(dev.engine.executor, "request_body", crash)
    client.register(app, [app.function("fn", handler=lambda call: ok("never"))])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    message = ("the engine failed while processing this run (start item): "
               "ValueError: NaN and Infinity are not JSON numbers")
    assert run["status"] == "Failed"
    assert run["output"] == {"error": f"InternalError: {message}", "name": "InternalError",
                             "message": message}
    assert app.posts() == []


def test_a_reply_holding_nan_is_an_opcode_response_that_cannot_be_read(
        client: Client, app: FakeApp) -> None:
    # Python's json writes NaN. The real server's decoder cannot read it (measured): the call
    # fails as any unreadable reply does, and no step is stored.
    def handler(call: Call) -> Reply:
        return ops(op("StepRun", "a", data=float("nan"))) if not call.body["steps"] else ok(1)

    client.register(app, [app.function("fn", retries=0, handler=handler)])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    message = "error reading generator opcode response: NaN is not a JSON value"
    assert run["status"] == "Failed"
    assert run["output"] == {"error": {"error": message, "name": "Error", "message": message}}
    assert len(app.posts()) == 1


def test_an_output_that_is_not_json_is_kept_as_text(client: Client, app: FakeApp) -> None:
    # Python's json writes Infinity for float("inf"); the real server keeps such a body as a
    # string (measured), so the REST API answers JSON.
    client.register(app, [app.function("fn", handler=lambda call: (200, {}, b"Infinity"))])
    run = client.wait_for_run(client.send({"name": "test/fn"})[0])
    assert (run["status"], run["output"]) == ("Completed", "Infinity")
