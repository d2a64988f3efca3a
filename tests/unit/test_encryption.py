"""The encryption middleware: envelope format, each hook, key rotation and errors."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import typing

import nacl.secret
import pytest

from inngest import _client as inngest_client, _errors, _execution
from inngest._context import ContextSync
from inngest._event import Event
from inngest._execution import ExecutionRequest
from inngest._function import Function
from inngest._function_config import TriggerEvent
from inngest._middleware import (
    NO_OUTPUT,
    MiddlewareFactory,
    MiddlewareManager,
    MiddlewareSync,
    TransformOutputResult,
    TransformOutputStepInfo,
)
from inngest._step import Opcode, StepMemos
from inngest_encryption import (
    DecryptionFailedError,
    EncryptionKeyInvalidError,
    EncryptionMiddleware,
    _crypto,
)

KEY = "test-key"
OLD_KEY = "old-test-key"
NONCE = bytes(range(24))
RANDOM_NONCE = _crypto.random_nonce
# Made by libsodium-wrappers (the JS strategy's library) with KEY and NONCE.
JS_HELLO_WORLD = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXRUeAPgxv4mbJLro56XfKH0WTn55P9L4EtMo3ZGs="
JS_UNICODE_OBJECT = (
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXJNhkgHlyiA+y3h6VLBtOkxzZm9AZwK9f6eV3IorkwhQ7veMbv2a2YM6QCQ=="
)
VALUES = [
    "hello",
    "",
    42,
    -3.25,
    True,
    None,
    [1, "two", None],
    {"nested": {"list": [1, 2, {"deep": "ü"}], "none": None}},
    "emoji 😀 ✓ 日本語",
]


def envelope(data: object) -> dict[str, object]:
    return {"__ENCRYPTED__": True, "__STRATEGY__": "inngest/libsodium", "data": data}


def fixed_cipher(secret: str | bytes = KEY, fallbacks: list[str | bytes] | None = None
                 ) -> _crypto.Cipher:
    return _crypto.Cipher(secret, fallbacks or [], nonce_source=lambda: NONCE)


def test_str_key_is_unkeyed_blake2b_256_of_utf8() -> None:
    secret = "pässwörd"
    assert _crypto.derive_key(secret) == hashlib.blake2b(
        secret.encode("utf-8"), digest_size=32
    ).digest()


def test_bytes_key_is_the_hex_encoded_key() -> None:
    raw = bytes(range(100, 132))
    assert _crypto.derive_key(raw.hex().encode("ascii")) == raw


@pytest.mark.parametrize(
    "secret",
    ["", b"not hex at all", b"abcd", bytes(range(32)).hex().encode() + b"00", 1234, None],
)
def test_unusable_key_is_rejected_with_a_named_error(secret: object) -> None:
    with pytest.raises(EncryptionKeyInvalidError) as info:
        _crypto.Cipher(secret)  # type: ignore[arg-type]
    assert info.value.code == "encryption_key_invalid"
    assert info.value.is_retriable is False


def test_seal_matches_the_js_strategy_byte_for_byte() -> None:
    assert fixed_cipher().seal("hello world") == envelope(JS_HELLO_WORLD)


def test_open_reads_a_js_envelope() -> None:
    assert fixed_cipher().open(envelope(JS_UNICODE_OBJECT)) == {"a": [1, 2], "ü": "✓ 😀"}


@pytest.mark.parametrize("value", VALUES)
def test_envelope_is_base64_nonce_then_secretbox_of_json(value: object) -> None:
    sealed = fixed_cipher().seal(value)
    assert set(sealed) == {"__ENCRYPTED__", "__STRATEGY__", "data"}
    combined = base64.b64decode(str(sealed["data"]), validate=True)
    assert combined[:24] == NONCE
    box = nacl.secret.SecretBox(hashlib.blake2b(KEY.encode(), digest_size=32).digest())
    assert box.decrypt(combined[24:], combined[:24]) == json.dumps(value).encode("utf-8")


@pytest.mark.parametrize("value", VALUES)
def test_round_trip(value: object) -> None:
    cipher = _crypto.Cipher(KEY)
    assert cipher.open(cipher.seal(value)) == value


def test_each_seal_uses_a_fresh_random_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_crypto, "random_nonce", RANDOM_NONCE)  # undo the fixed nonce
    cipher = _crypto.Cipher(KEY)
    assert cipher.seal("same")["data"] != cipher.seal("same")["data"]


def test_rotation_encrypts_with_primary_and_decrypts_with_fallbacks() -> None:
    old = _crypto.Cipher(OLD_KEY)
    rotated = _crypto.Cipher(KEY, ["unrelated-key", OLD_KEY])
    assert rotated.open(old.seal({"v": 1})) == {"v": 1}
    new_envelope = rotated.seal({"v": 2})
    assert _crypto.Cipher(KEY).open(new_envelope) == {"v": 2}
    with pytest.raises(DecryptionFailedError):
        old.open(new_envelope)


def test_wrong_key_fails_with_a_non_retriable_named_error() -> None:
    sealed = _crypto.Cipher(OLD_KEY).seal("secret")
    with pytest.raises(DecryptionFailedError) as info:
        _crypto.Cipher(KEY, ["another"]).open(sealed)
    assert isinstance(info.value, _errors.Error)
    assert info.value.code == "decryption_failed"
    assert info.value.is_retriable is False
    assert "none of the 2 configured key(s)" in info.value.message


def test_tampered_ciphertext_fails() -> None:
    combined = bytearray(base64.b64decode(JS_HELLO_WORLD))
    combined[-1] ^= 1
    tampered = envelope(base64.b64encode(bytes(combined)).decode())
    with pytest.raises(DecryptionFailedError, match="tampered"):
        fixed_cipher().open(tampered)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "must be a base64 string"),
        (12, "must be a base64 string"),
        ("not base64!", "not valid base64"),
        (base64.b64encode(bytes(39)).decode(), "too short"),
    ],
)
def test_malformed_envelope_fails(data: object, reason: str) -> None:
    with pytest.raises(DecryptionFailedError, match=reason):
        fixed_cipher().open(envelope(data))


def test_non_json_plaintext_fails() -> None:
    box = nacl.secret.SecretBox(_crypto.derive_key(KEY))
    sealed = base64.b64encode(bytes(box.encrypt(b"\xff not json", NONCE))).decode()
    with pytest.raises(DecryptionFailedError, match="not UTF-8 JSON"):
        fixed_cipher().open(envelope(sealed))


@pytest.mark.parametrize("value", [object(), float("nan"), {1j: 2}])
def test_unserializable_value_is_refused(value: object) -> None:
    with pytest.raises(_errors.OutputUnserializableError):
        fixed_cipher().seal(value)


@pytest.mark.parametrize(
    ("value", "ours", "foreign"),
    [
        (envelope("x"), True, False),
        ({"__ENCRYPTED__": True, "__STRATEGY__": "libsodium", "data": "x"}, False, True),
        ({"__ENCRYPTED__": True, "data": "x"}, False, True),
        ({"__ENCRYPTED__": "true", "__STRATEGY__": "inngest/libsodium", "data": "x"}, False, False),
        ({"data": "x"}, False, False),
        ([True, "inngest/libsodium"], False, False),
        ("inngest/libsodium", False, False),
    ],
)
def test_envelope_detection(value: object, ours: bool, foreign: bool) -> None:
    assert _crypto.is_envelope(value) is ours
    assert _crypto.is_foreign_envelope(value) is foreign


# --- the middleware hooks ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_crypto, "random_nonce", lambda: NONCE)


def open_independently(value: object, secret: str = KEY) -> object:
    """Decrypt with PyNaCl and hashlib only, so the middleware is checked against the format."""
    assert isinstance(value, dict)
    assert value["__ENCRYPTED__"] is True and value["__STRATEGY__"] == "inngest/libsodium"
    combined = base64.b64decode(value["data"], validate=True)
    assert combined[:24] == NONCE
    box = nacl.secret.SecretBox(hashlib.blake2b(secret.encode(), digest_size=32).digest())
    return json.loads(box.decrypt(combined[24:], combined[:24]))


def make_client(*factories: MiddlewareFactory) -> inngest_client.Inngest:
    return inngest_client.Inngest(app_id="app", is_production=False, middleware=list(factories))


def make_middleware(secret: str = KEY, **kwargs: typing.Any) -> EncryptionMiddleware:
    return EncryptionMiddleware.factory(secret, **kwargs)(make_client(), None)


def make_function() -> Function:
    return make_client().create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(
        lambda ctx: None
    )


def make_ctx(*events: Event) -> ContextSync:
    return ContextSync(
        attempt=0, event=events[0], events=list(events), group=typing.cast(typing.Any, None),
        job_id=None, logger=logging.getLogger("test"), request_id=None, run_id="run",
        step=typing.cast(typing.Any, None),
    )


def sealed(value: object, secret: str = KEY) -> dict[str, object]:
    return _crypto.Cipher(secret).seal(value)


def step_result(output: object, op: Opcode = Opcode.STEP_RUN,
                opts: dict[str, object] | None = None) -> TransformOutputResult:
    return TransformOutputResult(
        error=None, output=output, step=TransformOutputStepInfo(id="my-step", op=op, opts=opts)
    )


def test_factory_builds_a_sync_middleware_per_request() -> None:
    factory = EncryptionMiddleware.factory(KEY)
    first, second = factory(make_client(), None), factory(make_client(), {"raw": 1})
    assert isinstance(first, MiddlewareSync) and isinstance(first, EncryptionMiddleware)
    assert first is not second and second.raw_request == {"raw": 1}


def test_factory_rejects_a_bad_key_at_startup() -> None:
    with pytest.raises(EncryptionKeyInvalidError):
        EncryptionMiddleware.factory(KEY, fallback_decryption_keys=[b"short"])


@pytest.mark.parametrize("value", [v for v in VALUES if v is not None])
def test_step_output_is_encrypted(value: object) -> None:
    result = step_result(value)
    make_middleware().transform_output(result)
    assert open_independently(result.output) == value


def test_function_output_is_encrypted() -> None:
    result = TransformOutputResult(error=None, output={"total": 3}, step=None)
    make_middleware().transform_output(result)
    assert open_independently(result.output) == {"total": 3}


@pytest.mark.parametrize(
    "result",
    [
        TransformOutputResult(error=None, output=None, step=None),
        step_result(None),
        step_result(NO_OUTPUT, op=Opcode.SLEEP),
        TransformOutputResult(error=ValueError("boom"), output=NO_OUTPUT, step=None),
    ],
)
def test_null_absent_and_error_outputs_stay_clear(result: TransformOutputResult) -> None:
    before = (result.output, result.error)
    make_middleware().transform_output(result)
    assert (result.output, result.error) == before


@pytest.mark.parametrize(
    "envelope_in",
    [sealed("x", OLD_KEY), {"__ENCRYPTED__": True, "data": "js-v0-ciphertext"}],
)
def test_already_encrypted_output_is_not_encrypted_again(
    envelope_in: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    result = step_result(envelope_in)
    with caplog.at_level(logging.WARNING, logger="inngest"):
        make_middleware().transform_output(result)
    assert result.output == envelope_in
    assert "already encrypted" in caplog.text and "my-step" in caplog.text


def test_invoke_payload_field_is_encrypted_in_place() -> None:
    data: dict[str, object] = {"encrypted": {"card": "4242"}, "public": 1}
    opts: dict[str, object] = {"function_id": "app-other", "payload": {"data": data, "v": None}}
    result = step_result(NO_OUTPUT, op=Opcode.INVOKE, opts=opts)
    make_middleware().transform_output(result)
    assert result.step is not None and result.step.opts is opts
    assert opts["payload"] == {"data": data, "v": None}
    assert data["public"] == 1
    assert open_independently(data["encrypted"]) == {"card": "4242"}
    assert result.output is NO_OUTPUT


@pytest.mark.parametrize("data", [None, {"public": 1}])
def test_invoke_without_the_field_is_left_alone(data: object) -> None:
    opts: dict[str, object] = {"function_id": "app-other", "payload": {"data": data, "v": None}}
    make_middleware().transform_output(step_result(NO_OUTPUT, op=Opcode.INVOKE, opts=opts))
    assert opts == {"function_id": "app-other", "payload": {"data": data, "v": None}}


def test_sent_events_get_only_their_encryption_field_encrypted() -> None:
    client = make_client(EncryptionMiddleware.factory(KEY))
    plain = Event(name="app/plain", data={"public": 1})
    secret = Event(name="app/secret", data={"encrypted": {"ssn": "123"}, "public": 2}, id="e1")
    sent = MiddlewareManager.for_send(client).before_send_events([plain, secret])
    assert sent[0] == plain
    assert (sent[1].name, sent[1].id, sent[1].data["public"]) == ("app/secret", "e1", 2)
    assert open_independently(sent[1].data["encrypted"]) == {"ssn": "123"}
    assert secret.data == {"encrypted": {"ssn": "123"}, "public": 2}


def test_custom_event_field_is_the_one_encrypted() -> None:
    events = [Event(name="e", data={"encrypted": "clear", "private": [1, 2]})]
    make_middleware(event_encryption_field="private").before_send_events(events)
    assert events[0].data["encrypted"] == "clear"
    assert open_independently(events[0].data["private"]) == [1, 2]


def test_decrypt_only_encrypts_nothing() -> None:
    middleware = make_middleware(decrypt_only=True)
    events = [Event(name="e", data={"encrypted": "clear"})]
    middleware.before_send_events(events)
    result = step_result("out")
    middleware.transform_output(result)
    assert events[0].data == {"encrypted": "clear"} and result.output == "out"


def test_memos_are_decrypted() -> None:
    memos = StepMemos.from_dict({
        "h1": {"data": sealed({"a": 1})},
        "h2": {"data": "clear"},
        "h3": {"error": {"name": "ValueError", "message": "bad"}},
    })
    make_middleware().transform_input(make_ctx(Event(name="e")), make_function(), memos)
    by_id = dict(memos.items())
    assert by_id["h1"].data == {"a": 1}
    assert by_id["h2"].data == "clear"
    assert by_id["h3"].data is None and by_id["h3"].error is not None


def test_memo_made_with_a_fallback_key_is_decrypted() -> None:
    memos = StepMemos.from_dict({"h1": {"data": sealed("old", OLD_KEY)}})
    middleware = make_middleware(fallback_decryption_keys=[OLD_KEY])
    middleware.transform_input(make_ctx(Event(name="e")), make_function(), memos)
    assert [memo.data for memo in memos.values()] == ["old"]


def test_undecryptable_memo_names_the_step() -> None:
    memos = StepMemos.from_dict({"abc123": {"data": sealed("x", OLD_KEY)}})
    with pytest.raises(DecryptionFailedError) as info:
        make_middleware().transform_input(make_ctx(Event(name="e")), make_function(), memos)
    assert "abc123" in info.value.message and "key" in info.value.message
    assert info.value.is_retriable is False and info.value.code == "decryption_failed"


def test_foreign_envelope_memo_passes_through_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    legacy = {"__ENCRYPTED__": True, "data": "v0-ciphertext"}
    memos = StepMemos.from_dict({"h1": {"data": legacy}})
    with caplog.at_level(logging.WARNING, logger="inngest"):
        make_middleware().transform_input(make_ctx(Event(name="e")), make_function(), memos)
    assert [memo.data for memo in memos.values()] == [legacy]
    assert "h1" in caplog.text


def test_event_field_is_decrypted_and_other_fields_kept() -> None:
    event = Event(name="app/secret", data={"encrypted": sealed({"ssn": "1"}), "public": 2})
    ctx = make_ctx(event)
    make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert ctx.event.data == {"encrypted": {"ssn": "1"}, "public": 2}
    assert ctx.event.name == "app/secret"
    assert [e.data for e in ctx.events] == [ctx.event.data]


def test_configured_field_is_decrypted_first_and_only_once() -> None:
    other = sealed("other")
    event = Event(name="e", data={"other": other, "encrypted": sealed("mine")})
    ctx = make_ctx(event)
    make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert ctx.event.data == {"other": other, "encrypted": "mine"}


def test_without_the_configured_field_the_first_envelope_field_is_decrypted() -> None:
    second = sealed(2)
    event = Event(name="e", data={"plain": 0, "first": sealed(1), "second": second})
    ctx = make_ctx(event)
    make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert ctx.event.data == {"plain": 0, "first": 1, "second": second}


def test_whole_data_envelope_is_decrypted_and_merged_with_the_other_keys() -> None:
    data = {**sealed({"a": 1, "_inngest": "inner"}), "_inngest": {"source": "invoke"}}
    ctx = make_ctx(Event(name="inngest/function.invoked", data=data))
    make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert ctx.event.data == {"a": 1, "_inngest": {"source": "invoke"}}


def test_whole_data_envelope_must_hold_an_object() -> None:
    ctx = make_ctx(Event(name="app/odd", data=sealed([1, 2])))
    with pytest.raises(DecryptionFailedError, match="app/odd"):
        make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))


def test_every_batched_event_is_decrypted() -> None:
    events = [Event(name=f"e{i}", data={"encrypted": sealed(i, OLD_KEY)}) for i in range(3)]
    ctx = make_ctx(*events)
    middleware = make_middleware(fallback_decryption_keys=[OLD_KEY])
    middleware.transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert [e.data for e in ctx.events] == [{"encrypted": i} for i in range(3)]


def test_undecryptable_event_names_the_event_and_field() -> None:
    tampered = {**sealed("x"), "data": base64.b64encode(bytes(60)).decode()}
    ctx = make_ctx(Event(name="app/tampered", data={"encrypted": tampered}))
    with pytest.raises(DecryptionFailedError) as info:
        make_middleware().transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert "app/tampered" in info.value.message and "'encrypted'" in info.value.message


def test_sent_event_decrypts_back_in_the_receiving_function() -> None:
    sender = make_middleware(OLD_KEY)
    events = [Event(name="e", data={"encrypted": {"deep": ["ü", 1.5]}, "public": True})]
    sender.before_send_events(events)
    receiver = make_middleware(KEY, fallback_decryption_keys=[OLD_KEY])
    ctx = make_ctx(*events)
    receiver.transform_input(ctx, make_function(), StepMemos.from_dict({}))
    assert ctx.event.data == {"encrypted": {"deep": ["ü", 1.5]}, "public": True}


# --- through a whole execution request (the bytes the server receives) -----------------------


def execute_request(
    handler: typing.Callable[[ContextSync], object],
    steps: dict[str, object],
    event: Event = Event(name="app/go"),
    **factory_kwargs: typing.Any,
) -> tuple[int, typing.Any, bool]:
    client = make_client(EncryptionMiddleware.factory(KEY, **factory_kwargs))
    function = client.create_function(fn_id="fn", trigger=TriggerEvent(event="app/go"))(handler)
    request = ExecutionRequest(
        event=event, events=[event], steps=steps, use_api=False, run_id="run", attempt=0,
        disable_immediate_execution=False,
    )
    result = _execution.execute(
        client=client, function=function, handler=handler, request=request,
        target_step_id=None, raw_request=None, job_id=None, request_id=None,
    )
    return result.status, json.loads(result.body), result.no_retry


def test_step_output_leaves_encrypted_and_returns_decrypted() -> None:
    seen: list[object] = []

    def handler(ctx: ContextSync) -> object:
        card = ctx.step.run("charge", lambda: {"card": "4242"})
        seen.append((card, dict(ctx.event.data)))
        return {"charged": card}

    event = Event(name="app/go", data={"encrypted": sealed("pii"), "public": 1})
    status, body, _ = execute_request(handler, {}, event)
    assert status == 206
    assert (body[0]["op"], body[0]["displayName"]) == ("StepRun", "charge")
    assert open_independently(body[0]["data"]) == {"card": "4242"}

    status, body, _ = execute_request(handler, {body[0]["id"]: {"data": body[0]["data"]}}, event)
    assert status == 200
    assert open_independently(body) == {"charged": {"card": "4242"}}
    assert seen == [({"card": "4242"}, {"encrypted": "pii", "public": 1})]


def test_sleep_and_null_returns_go_out_clear() -> None:
    def handler(ctx: ContextSync) -> None:
        ctx.step.sleep("nap", 1000)

    status, body, _ = execute_request(handler, {})
    assert (status, body[0]["op"], body[0]["data"]) == (206, "Sleep", None)
    status, body, _ = execute_request(handler, {body[0]["id"]: {"data": None}})
    assert (status, body) == (200, None)


def test_invoke_payload_field_is_encrypted_on_the_wire() -> None:
    def handler(ctx: ContextSync) -> object:
        return ctx.step.invoke_by_id(
            "call", function_id="other", data={"encrypted": ["secret"], "public": 1}
        )

    status, body, _ = execute_request(handler, {})
    payload = body[0]["opts"]["payload"]
    assert (status, body[0]["op"], body[0]["data"]) == (206, "InvokeFunction", None)
    assert payload["data"]["public"] == 1
    assert open_independently(payload["data"]["encrypted"]) == ["secret"]


def test_undecryptable_memo_fails_the_run_without_retries() -> None:
    def handler(ctx: ContextSync) -> object:
        return ctx.step.run("charge", lambda: 1)

    hashed = hashlib.sha1(b"charge").hexdigest()
    status, body, no_retry = execute_request(handler, {hashed: {"data": sealed(1, OLD_KEY)}})
    assert (status, no_retry, body["code"], body["name"]) == (
        500, True, "decryption_failed", "DecryptionFailedError"
    )
    assert hashed in body["message"]
