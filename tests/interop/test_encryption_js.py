"""Envelopes made here open in the JS @inngest/middleware-encryption, and the other way round."""

from __future__ import annotations

import json
import logging
import pathlib
import shutil
import subprocess
import typing

import pytest

from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._event import Event
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._middleware import NO_OUTPUT, TransformOutputResult, TransformOutputStepInfo
from inngest._step import Opcode, StepMemos
from inngest_encryption import DecryptionFailedError, EncryptionMiddleware

pytestmark = [pytest.mark.interop, pytest.mark.timeout(600)]

SCRIPT = pathlib.Path(__file__).with_name("js_crypto.mjs")
JS_PACKAGES = ["@inngest/middleware-encryption", "inngest", "libsodium-wrappers"]

KEY = "interop-key"
OLD_KEY = "interop-old-key"
VALUES: list[object] = [
    "hello",
    "",
    0,
    42,
    -3.25,
    True,
    [1, "two", None, {"three": 3}],
    {"nested": {"list": [1, 2, {"deep": "ü"}], "none": None, "flag": False}},
    "emoji 😀 ✓ 日本語 \u2028 \"quoted\" \\ back",
    {"ключ": "значение", "中文": ["字"]},
]
RunJs = typing.Callable[..., list[typing.Any]]


@pytest.fixture(scope="module")
def run_js(tmp_path_factory: pytest.TempPathFactory) -> RunJs:
    """Install the JS middleware into a temp dir; return a function that drives it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the JS interop tests")
    deps = tmp_path_factory.mktemp("js")
    (deps / "package.json").write_text('{"name": "interop", "private": true}')
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *JS_PACKAGES],
        cwd=deps, timeout=540, capture_output=True,
    )
    if installed.returncode != 0:
        pytest.fail(f"npm install failed:\n{installed.stderr.decode()}")

    def run(key: str, requests: list[dict[str, object]], *,
            fallback_keys: list[str] | None = None, field: str | None = None) -> list[typing.Any]:
        request = {"key": key, "fallbackKeys": fallback_keys or [],
                   "eventEncryptionField": field, "requests": requests}
        done = subprocess.run(
            [node, str(SCRIPT), str(deps)], input=json.dumps(request).encode(),
            capture_output=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()
        results: list[typing.Any] = json.loads(done.stdout)["results"]
        return results

    return run


def middleware(secret: str = KEY, **kwargs: typing.Any) -> EncryptionMiddleware:
    client = Inngest(app_id="interop", is_production=False)
    return EncryptionMiddleware.factory(secret, **kwargs)(client, None)


def ctx_for(event: Event) -> ContextSync:
    none = typing.cast(typing.Any, None)
    return ContextSync(
        attempt=0, event=event, events=[event], group=none, job_id=None,
        logger=logging.getLogger("interop"), request_id=None, run_id="run", step=none,
    )


def function() -> Function:
    client = Inngest(app_id="interop", is_production=False)
    return client.create_function(fn_id="fn", trigger=TriggerEvent(event="e"))(lambda ctx: None)


def python_step_output(value: object, secret: str = KEY) -> object:
    result = TransformOutputResult(
        error=None, output=value,
        step=TransformOutputStepInfo(id="s", op=Opcode.STEP_RUN, opts=None),
    )
    middleware(secret).transform_output(result)
    return result.output


def python_memos(envelopes: list[object], **kwargs: typing.Any) -> list[object]:
    memos = StepMemos.from_dict({f"h{i}": {"data": e} for i, e in enumerate(envelopes)})
    middleware(**kwargs).transform_input(ctx_for(Event(name="e")), function(), memos)
    return [memo.data for memo in memos.values()]


def is_envelope(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"__ENCRYPTED__", "__STRATEGY__", "data"}
        and value["__STRATEGY__"] == "inngest/libsodium"
    )


def same_json(left: object, right: object) -> bool:
    # json text comparison tells True from 1 and 1.0 from 1, which == does not.
    return json.dumps(left) == json.dumps(right)


def test_python_step_outputs_decrypt_in_js(run_js: RunJs) -> None:
    envelopes = [python_step_output(value) for value in VALUES]
    assert all(is_envelope(e) for e in envelopes)
    opened = run_js(KEY, [{"op": "open_value", "value": e} for e in envelopes])
    assert same_json(opened, VALUES)


def test_js_step_outputs_decrypt_in_python(run_js: RunJs) -> None:
    envelopes = run_js(KEY, [{"op": "seal_value", "value": value} for value in VALUES])
    assert all(is_envelope(e) for e in envelopes)
    assert same_json(python_memos(envelopes), VALUES)


def test_python_sent_events_decrypt_in_js(run_js: RunJs) -> None:
    events = [Event(name="app/e", data={"encrypted": value, "public": i})
              for i, value in enumerate(VALUES)]
    middleware().before_send_events(events)
    assert all(is_envelope(e.data["encrypted"]) for e in events)
    opened = run_js(KEY, [{"op": "open_event", "value": e.to_dict()} for e in events])
    assert same_json([e["data"] for e in opened],
                     [{"encrypted": value, "public": i} for i, value in enumerate(VALUES)])


def test_js_sent_events_decrypt_in_python(run_js: RunJs) -> None:
    sent = run_js(KEY, [{"op": "seal_event", "value": {"name": "app/e", "data": {
        "secret": value, "public": 1}}} for value in VALUES], field="secret")
    assert all(is_envelope(raw["data"]["secret"]) for raw in sent)
    opened = []
    for raw in sent:
        ctx = ctx_for(Event.from_dict(raw))
        middleware(event_encryption_field="secret").transform_input(
            ctx, function(), StepMemos.from_dict({})
        )
        opened.append(dict(ctx.event.data))
    assert same_json(opened, [{"secret": value, "public": 1} for value in VALUES])


def test_invoke_payloads_cross_both_ways(run_js: RunJs) -> None:
    payload_data = {"encrypted": {"card": "4242", "name": "Zoë"}, "public": "yes"}
    opts: dict[str, object] = {"function_id": "a-f", "payload": {"data": dict(payload_data)}}
    middleware().transform_output(TransformOutputResult(
        error=None, output=NO_OUTPUT,
        step=TransformOutputStepInfo(id="call", op=Opcode.INVOKE, opts=opts),
    ))
    python_sent = typing.cast(dict[str, typing.Any], opts["payload"])["data"]
    js_sent = run_js(KEY, [{"op": "seal_invoke", "value": {"payload": {"data": payload_data}}}])
    js_data = js_sent[0]["payload"]["data"]
    assert is_envelope(python_sent["encrypted"]) and is_envelope(js_data["encrypted"])
    opened_in_js = run_js(KEY, [{"op": "open_event", "value": {"name": "inngest/function.invoked",
                                                               "data": python_sent}}])
    ctx = ctx_for(Event(name="inngest/function.invoked", data=js_data))
    middleware().transform_input(ctx, function(), StepMemos.from_dict({}))
    assert same_json(opened_in_js[0]["data"], payload_data)
    assert same_json(dict(ctx.event.data), payload_data)


def test_rotated_keys_work_both_ways(run_js: RunJs) -> None:
    js_old = run_js(OLD_KEY, [{"op": "seal_value", "value": {"v": "old"}}])
    assert python_memos(js_old, fallback_decryption_keys=[OLD_KEY]) == [{"v": "old"}]
    python_old = python_step_output({"v": "py-old"}, OLD_KEY)
    assert is_envelope(js_old[0]) and is_envelope(python_old)
    opened = run_js(KEY, [{"op": "open_value", "value": python_old}], fallback_keys=[OLD_KEY])
    assert opened == [{"v": "py-old"}]


def test_js_envelope_with_another_key_fails_clearly(run_js: RunJs) -> None:
    js_other = run_js("some-other-key", [{"op": "seal_value", "value": "secret"}])
    with pytest.raises(DecryptionFailedError, match="could not decrypt"):
        python_memos(js_other)
