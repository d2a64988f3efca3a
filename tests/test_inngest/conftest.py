"""Start the server for the whole integration session: the embedded engine, the real dev
server (DEV_SERVER_IMPL=cli) or the real server in production mode (DEV_SERVER_IMPL=start,
then apps sign; DEV_SERVER_INSTANCES=2 adds a second `inngest start` sharing the first one's
DEV_SERVER_REDIS_URI and DEV_SERVER_POSTGRES_URI, which receives the apps' events)."""

from __future__ import annotations

import os

import pytest

from inngest.experimental import dev_server

# Case modules are not test files: register them so a failing assert shows its values.
pytest.register_assert_rewrite(
    "test_core",
    *(f"test_inngest.{feature}.cases" for feature in (
        "test_auth", "test_function", "test_introspection", "test_registration", "test_wire")),
)

from test_core import helper  # noqa: E402

# Seconds between retries, so retry cases stay fast (the real server takes whole seconds only).
_RETRY_INTERVAL = {"embedded": 0.2, "cli": 1.0, "start": 1.0}
_SUITE_DIR = os.path.dirname(os.path.abspath(__file__))
_UNAVAILABLE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    server = dev_server.server
    reason = server.unavailable() if server.enabled else None
    if reason is not None:
        config.stash[_UNAVAILABLE] = reason  # every case is skipped with this reason
        return
    if server.enabled and not os.environ.get("DEV_SERVER_PORT"):
        # A free port, so a busy 8288 (e.g. a developer's own dev server) cannot interfere.
        server.port = dev_server.free_port()
    configured = os.environ.get("INNGEST_RETRY_INTERVAL")
    server.retry_interval = (
        float(configured) if configured else _RETRY_INTERVAL.get(server.impl, 1.0)
    )
    server.start()
    if server.production and os.environ.get("DEV_SERVER_INSTANCES") == "2":
        try:
            helper.event_server = _second_instance(server)
        except BaseException:
            server.stop()  # pytest does not unconfigure after a failed configure
            raise


def _second_instance(first: dev_server._Server) -> dev_server._Server:
    if first.redis_uri is None or first.postgres_uri is None:
        raise dev_server.DevServerError(
            "DEV_SERVER_INSTANCES=2 needs DEV_SERVER_REDIS_URI and DEV_SERVER_POSTGRES_URI")
    second = dev_server._Server()
    second.port = dev_server.free_port()
    second.retry_interval = first.retry_interval
    second.signing_key, second.event_key = first.signing_key, first.event_key
    second.start()
    return second


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = config.stash.get(_UNAVAILABLE, None)
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if str(item.path).startswith(_SUITE_DIR + os.sep):
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    if helper.event_server is not None:
        helper.event_server.stop()
    dev_server.server.stop()
