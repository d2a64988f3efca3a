"""Signing-key rotation on a self-hosted `inngest start`, as an operator does it.

1. The server signs with key 1; apps hold key 1.
2. Apps are redeployed with key 1 as primary and key 2 as ``INNGEST_SIGNING_KEY_FALLBACK``.
3. The server restarts with key 2 (same database): those apps keep running functions and
   syncing (their sync retries with the fallback) without a redeploy.
4. Apps are redeployed with key 2 alone. An app still holding key 1 alone can no longer sync,
   and its functions fail: the server's requests do not verify.
"""

from __future__ import annotations

import contextlib
import secrets
import typing

import pytest

import inngest
from inngest.experimental import dev_server
from test_core import apps, case, cloud, helper
from test_core.helper import RunStatus


class _Rotation:
    """An `inngest start` of its own (the session's keeps its key) and apps to deploy on it."""

    def __init__(self, server: dev_server._Server) -> None:
        self.server = server
        self.inspect = helper.Client(lambda: f"http://127.0.0.1:{server.port}")

    def deploy(
        self, framework: str, app_id: str, primary: str, fallback: str | None = None
    ) -> tuple[inngest.Inngest, apps.App]:
        """Start an app holding these keys (as a deployment's environment gives them)."""
        origin = f"http://127.0.0.1:{self.server.port}"
        with cloud.scoped_env({
            "INNGEST_SIGNING_KEY": primary,
            "INNGEST_SIGNING_KEY_FALLBACK": fallback,
            "INNGEST_EVENT_KEY": self.server.event_key,
            "INNGEST_BASE_URL": origin,
        }):
            client = inngest.Inngest(app_id=app_id, is_production=True)

        @client.create_function(fn_id="echo", trigger=inngest.TriggerEvent(event=_event(app_id)))
        def echo(ctx: inngest.ContextSync) -> object:
            return ctx.step.run("echo", lambda: ctx.event.data["n"])

        return client, apps.start(framework, client, [echo])

    def run(self, client: inngest.Inngest, n: int, expected: RunStatus) -> helper.Run:
        [event_id] = client.send_sync(inngest.Event(name=_event(client.app_id), data={"n": n}))
        [run_id] = self.inspect.get_run_ids_from_event_id(event_id, timeout=20)
        return self.inspect.wait_for_run_status(run_id, expected, timeout=30)


def _event(app_id: str) -> str:
    return f"{app_id}/rotate.{case.SESSION}"


def _sync(app: apps.App) -> typing.Any:
    return cloud.request("PUT", app.url)


@pytest.fixture
def rotation() -> typing.Iterator[_Rotation]:
    if not dev_server.server.production:
        pytest.skip("key rotation needs the real server in production mode: tox -e itest-prod")
    server = dev_server._Server()
    server.port = dev_server.free_port()
    server.retry_interval = 1
    server.start()
    try:
        yield _Rotation(server)
    finally:
        server.stop()


@pytest.mark.parametrize("framework", apps.FRAMEWORKS)
def test_the_server_moves_to_a_new_key_while_apps_hold_both(
    framework: str, rotation: _Rotation
) -> None:
    server = rotation.server
    old_key = server.app_signing_key
    new_hex = secrets.token_hex(32)
    new_key = f"signkey-prod-{new_hex}"
    app_id = f"{framework}-rotation"
    with contextlib.ExitStack() as stack:
        client, app = rotation.deploy(framework, app_id, old_key)
        stack.enter_context(app)
        assert _sync(app).status == 200
        assert rotation.run(client, 1, RunStatus.COMPLETED).output == 1
        stale_client, stale = rotation.deploy(framework, f"{app_id}-stale", old_key)
        stack.enter_context(stale)
        assert _sync(stale).status == 200
        app.stop()

        client, app = rotation.deploy(framework, app_id, old_key, fallback=new_key)
        stack.enter_context(app)
        assert _sync(app).status == 200
        assert rotation.run(client, 2, RunStatus.COMPLETED).output == 2

        server.stop(keep_state=True)
        server.signing_key = new_hex
        server.start()
        assert rotation.run(client, 3, RunStatus.COMPLETED).output == 3
        assert _sync(app).status == 200
        assert rotation.run(client, 4, RunStatus.COMPLETED).output == 4
        app.stop()

        client, app = rotation.deploy(framework, app_id, new_key)
        stack.enter_context(app)
        assert _sync(app).status == 200
        assert rotation.run(client, 5, RunStatus.COMPLETED).output == 5

        refused = _sync(stale)
        assert refused.status == 500
        assert cloud.json_body(refused)["code"] == "registration_failed"
        rotation.run(stale_client, 6, RunStatus.FAILED)
