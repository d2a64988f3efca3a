"""The engine's log says why: each failure, retry and rejection with its reason."""

from __future__ import annotations

import contextlib
import logging
import pathlib
import socket
import threading
import typing

import pytest
from engine_fakes import Client, LoopbackDev, wait

import inngest
import inngest.http_server
from inngest._engine.http.server import DevServer
from inngest._handler import CommHandler
from inngest._loopback import LoopbackTransport, app_endpoint
from inngest._transport import OutboundRequest

LOOPBACK = True


@pytest.fixture(autouse=True)
def engine_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="inngest.engine")
    return caplog


def logged(caplog: pytest.LogCaptureFixture, *parts: str, dev: LoopbackDev | None = None) -> str:
    """Wait for an engine log line holding every part (letting ``dev``'s time pass);
    return it."""
    def find() -> str | None:
        return next((r.getMessage() for r in list(caplog.records)
                     if r.name == "inngest.engine" and all(p in r.getMessage() for p in parts)),
                    None)
    return dev.run_until(find) if dev else wait(find)


@contextlib.contextmanager
def serving(client: inngest.Inngest,
            functions: list[inngest.Function]) -> typing.Iterator[str]:
    """Serve the app on a free port (for an engine that finds it by itself)."""
    server = inngest.http_server.serve(client, functions, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


def mounted(dev: LoopbackDev, client: inngest.Inngest, functions: list[inngest.Function]) -> str:
    """Serve the app on the engine's loopback transport; return its URL."""
    url = "http://app.test/api/inngest"
    dev.transport.mount(url, app_endpoint(CommHandler(client, functions, "http_server")))
    return url


def sync(dev: LoopbackDev, url: str) -> int:
    """What a PUT to the app's URL (a deploy hook, say) answers."""
    return dev.transport.send(OutboundRequest("PUT", url, {})).status


def dev_client(dev: LoopbackDev, app_id: str = "app") -> inngest.Inngest:
    return inngest.Inngest(app_id=app_id, is_production=False, api_base_url=dev.url,
                           event_api_base_url=dev.url, transport=dev.transport)


def test_a_step_that_raises_is_logged_with_its_error_and_the_retry(
    dev: LoopbackDev, engine_logs: pytest.LogCaptureFixture
) -> None:
    client = dev_client(dev)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="test/risky"),
                            retries=1)
    def fn(ctx: inngest.ContextSync) -> None:
        ctx.step.run("risky", lambda: int("not a number"))

    assert sync(dev, mounted(dev, client, [fn])) == 200
    client.send_sync(inngest.Event(name="test/risky"))
    line = logged(engine_logs, "attempt 0 failed", "retrying in", dev=dev)
    assert "step risky errored: ValueError: invalid literal for int()" in line
    final = logged(engine_logs, "StepFailed risky", dev=dev)
    assert "ValueError: invalid literal for int()" in final


def test_a_wrong_signing_key_shows_the_status_and_the_apps_message(
    engine_logs: pytest.LogCaptureFixture, loopback: LoopbackTransport
) -> None:
    client = inngest.Inngest(app_id="app", is_production=True,
                             signing_key="signkey-prod-" + "aa" * 32)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="test/signed"))
    def fn(ctx: inngest.ContextSync) -> str:
        return "never"

    with LoopbackDev(loopback, signing_key="signkey-prod-" + "bb" * 32) as dev:
        url = mounted(dev, client, [fn])
        engine = Client(dev)
        status, _ = engine.request("POST", "/fn/register", {
            "url": url, "appName": "app", "functions": [{
                "id": "app-fn", "name": "fn", "triggers": [{"event": "test/signed"}],
                "steps": {"step": {"id": "step", "name": "step", "runtime": {
                    "type": "http", "url": f"{url}?fnId=app-fn&stepId=step"}}},
            }],
        })
        assert status == 200
        engine.send({"name": "test/signed", "data": {}})
        line = logged(engine_logs, "attempt 0 failed", "retrying in", dev=dev)
        assert "status 401" in line and "Unauthorized" in line and "--signing-key" in line


def test_an_invalid_function_config_names_the_function_and_the_cause(
    dev: LoopbackDev, engine_logs: pytest.LogCaptureFixture
) -> None:
    client = dev_client(dev)

    @client.create_function(fn_id="nightly", trigger=inngest.TriggerCron(cron="not a cron"))
    def nightly(ctx: inngest.ContextSync) -> None:
        return None

    assert sync(dev, mounted(dev, client, [nightly])) != 200
    line = logged(engine_logs, "app sync failed")
    assert "At least one function is invalid" in line
    assert "function 'app-nightly'" in line and "not a cron" in line


@pytest.mark.sockets
def test_an_app_unreachable_at_start_up_is_reported_with_cause_and_retry(
    engine_logs: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/inngest"
    with DevServer(port=0, poll=False, poll_interval=30, sdk_urls=[url]):
        line = logged(engine_logs, f":{port}/api/inngest", "could not be synced")
    assert "unreachable" in line and "refused" in line.lower() and "retrying every 30s" in line
    assert "HTTPConnection" not in line and "object at 0x" not in line


@pytest.mark.sockets
def test_a_production_app_refusing_the_sync_is_logged_with_its_hint(
    engine_logs: pytest.LogCaptureFixture
) -> None:
    client = inngest.Inngest(app_id="app", is_production=True,
                             signing_key="signkey-prod-" + "aa" * 32)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="e"))
    def fn(ctx: inngest.ContextSync) -> None:
        return None

    with serving(client, [fn]) as url, DevServer(port=0, poll=False, sdk_urls=[url]):
        line = logged(engine_logs, "could not be synced")
    assert "status 400" in line and "expected Cloud" in line
    assert "is_production=False" in line and "INNGEST_DEV=1" in line


def test_an_event_no_function_matches_is_logged(
    client: Client, engine_logs: pytest.LogCaptureFixture
) -> None:
    [event_id] = client.send({"name": "shop/nobody.listens", "data": {}})
    assert logged(engine_logs, "matched no function") == \
        f"event shop/nobody.listens ({event_id}) matched no function"


@pytest.mark.sockets
def test_the_log_says_where_state_is_kept(
    tmp_path: pathlib.Path, engine_logs: pytest.LogCaptureFixture
) -> None:
    with DevServer(port=0, poll=False):
        assert "in memory" in logged(engine_logs, "state:")
    with DevServer(port=0, poll=False, persist=True, sqlite_dir=str(tmp_path)):
        assert logged(engine_logs, "SQLite database at") == \
            f"state: SQLite database at {tmp_path / 'main.db'}"


@pytest.mark.sockets
def test_a_busy_port_moves_the_engine_with_a_loud_warning(
    engine_logs: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        wanted = busy.getsockname()[1]
        with DevServer(port=wanted, poll=False) as dev:
            assert dev.port != wanted
            warning = next(r for r in engine_logs.records if r.levelno == logging.WARNING)
    text = warning.getMessage()
    assert f"PORT {wanted} IS IN USE" in text and f"listens on {dev.port}" in text
    assert f"INNGEST_DEV=http://127.0.0.1:{dev.port}" in text
