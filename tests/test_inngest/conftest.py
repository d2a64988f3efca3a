"""Start the dev server (embedded engine, or ``inngest-cli dev`` with DEV_SERVER_IMPL=cli)
for the whole integration session."""

from __future__ import annotations

import os
import socket
import sys

import pytest

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from inngest.experimental import dev_server  # noqa: E402

# Seconds between retries, so retry cases stay fast (inngest-cli takes whole seconds only).
_RETRY_INTERVAL = {"embedded": "0.2", "cli": "1"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pytest_configure(config: pytest.Config) -> None:
    server = dev_server.server
    if server.enabled and not os.environ.get("DEV_SERVER_PORT"):
        # A free port, so a busy 8288 (e.g. a developer's own dev server) cannot interfere.
        server.port = _free_port()
    previous = os.environ.get("INNGEST_RETRY_INTERVAL")
    os.environ["INNGEST_RETRY_INTERVAL"] = previous or _RETRY_INTERVAL.get(server.impl, "1")
    try:
        server.start()
    finally:
        if previous is None:
            del os.environ["INNGEST_RETRY_INTERVAL"]


def pytest_unconfigure(config: pytest.Config) -> None:
    dev_server.server.stop()
