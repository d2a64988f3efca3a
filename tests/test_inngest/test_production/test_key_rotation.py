"""Signing-key rotation on a self-hosted `inngest start`, as an operator does it.

Every adapter at once, one app each.

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
import time
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

    def run_all(self, clients: typing.Iterable[inngest.Inngest], n: int,
                expected: RunStatus) -> list[typing.Any]:
        """Send each app its event, then wait for every run: their outputs."""
        event_ids = [
            client.send_sync(inngest.Event(name=_event(client.app_id), data={"n": n}))[0]
            for client in clients
        ]
        runs = []
        for event_id in event_ids:
            [run_id] = self.inspect.get_run_ids_from_event_id(event_id, timeout=20)
            runs.append(self.inspect.wait_for_run_status(run_id, expected, timeout=30).output)
        return runs

    def wait_for_event_intake(self, client: inngest.Inngest) -> None:
        """Until an event sent is stored. A restarted `inngest start` answers HTTP before its
        runner subscribes to the event stream and drops the events published in between (its
        log says "message sent to topic with no subscribers")."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            [probe] = client.send_sync(inngest.Event(name=f"rotation/probe.{case.SESSION}"))
            if self.inspect.event_stored(probe):
                return
        raise AssertionError("the restarted server stored no event in 20 s")


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


def test_the_server_moves_to_a_new_key_while_apps_hold_both(rotation: _Rotation) -> None:
    server = rotation.server
    old_key = server.app_signing_key
    new_hex = secrets.token_hex(32)
    new_key = f"signkey-prod-{new_hex}"
    count = len(apps.FRAMEWORKS)
    with contextlib.ExitStack() as stack:

        def deploy(primary: str, fallback: str | None = None,
                   suffix: str = "") -> tuple[list[inngest.Inngest], list[apps.App]]:
            deployed = [rotation.deploy(framework, f"{framework}-rotation{suffix}", primary,
                                        fallback) for framework in apps.FRAMEWORKS]
            for _, app in deployed:
                stack.enter_context(app)
            return [client for client, _ in deployed], [app for _, app in deployed]

        def sync(deployed: list[apps.App]) -> list[int]:
            return [_sync(app).status for app in deployed]

        clients, deployed = deploy(old_key)
        stale_clients, stale = deploy(old_key, suffix="-stale")
        assert sync(deployed) == sync(stale) == [200] * count
        assert rotation.run_all(clients, 1, RunStatus.COMPLETED) == [1] * count
        for app in deployed:
            app.stop()

        clients, deployed = deploy(old_key, fallback=new_key)
        assert sync(deployed) == [200] * count
        assert rotation.run_all(clients, 2, RunStatus.COMPLETED) == [2] * count

        server.stop(keep_state=True)
        server.signing_key = new_hex
        server.start()
        rotation.wait_for_event_intake(clients[0])
        assert rotation.run_all(clients, 3, RunStatus.COMPLETED) == [3] * count
        assert sync(deployed) == [200] * count
        assert rotation.run_all(clients, 4, RunStatus.COMPLETED) == [4] * count
        for app in deployed:
            app.stop()

        clients, deployed = deploy(new_key)
        assert sync(deployed) == [200] * count
        assert rotation.run_all(clients, 5, RunStatus.COMPLETED) == [5] * count

        refused = [_sync(app) for app in stale]
        assert [response.status for response in refused] == [500] * count
        assert {cloud.json_body(response)["code"] for response in refused} == {
            "registration_failed"}
        rotation.run_all(stale_clients, 6, RunStatus.FAILED)
