"""EncryptionMiddleware: what the server stores is sealed, what the function sees is plain."""

from __future__ import annotations

import base64
import json

import nacl.encoding
import nacl.hash
import nacl.secret
import nacl.utils

import inngest
from inngest_encryption import EncryptionMiddleware
from test_core import base, case, helper
from test_core.helper import RunStatus

_SECRET = "integration-test-secret"


def _key() -> bytes:
    return nacl.hash.generichash(
        _SECRET.encode("utf-8"), digest_size=32, encoder=nacl.encoding.RawEncoder
    )


def seal(value: object) -> dict[str, object]:
    """An envelope made without the SDK: libsodium secretbox, nonce first, base64."""
    nonce = nacl.utils.random(24)
    sealed = nacl.secret.SecretBox(_key()).encrypt(json.dumps(value).encode("utf-8"), nonce)
    return {"__ENCRYPTED__": True, "__STRATEGY__": "inngest/libsodium",
            "data": base64.b64encode(sealed).decode("ascii")}


def open_envelope(envelope: object) -> object:
    assert isinstance(envelope, dict), f"not an envelope: {envelope!r}"
    assert envelope["__ENCRYPTED__"] is True
    assert envelope["__STRATEGY__"] == "inngest/libsodium"
    raw = base64.b64decode(str(envelope["data"]))
    return json.loads(nacl.secret.SecretBox(_key()).decrypt(raw[24:], raw[:24]))


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(
        fn_id=name,
        trigger=inngest.TriggerEvent(event=event),
        middleware=[EncryptionMiddleware.factory(_SECRET)],
    )
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        card = ctx.step.run("card", lambda: {"number": "4242 4242", "cvc": 123})
        secret = ctx.event.data["encrypted"]
        state.seen.append({"card": card, "secret": secret})
        return {"card": card, "secret": secret}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"encrypted": seal("s3cr3t")}))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        plain = {"card": {"number": "4242 4242", "cvc": 123}, "secret": "s3cr3t"}
        assert open_envelope(run.output) == plain
        stored = helper.client.get_step_output(run_id=run_id, step_id="card")["data"]
        assert "4242" not in json.dumps(stored)
        assert open_envelope(stored) == plain["card"]
        # The last request replays the step from its sealed memo; the function saw plaintext.
        assert state.seen[-1] == plain

    return case.Case(name, [fn], run_test)
