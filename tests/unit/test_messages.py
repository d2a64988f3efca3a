"""The SDK's errors name the URL, the cause and the fix, as a user sees them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import typing

import pytest
import urllib3

import inngest
import inngest.http_server
from inngest import _errors
from inngest._engine.http.server import DevServer

HTTP = urllib3.PoolManager()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cloud_mode_without_an_event_key_hints_at_dev_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INNGEST_EVENT_KEY", raising=False)
    client = inngest.Inngest(app_id="app", is_production=True)
    with pytest.raises(_errors.EventKeyUnspecifiedError) as caught:
        client.send_sync(inngest.Event(name="e"))
    assert "INNGEST_EVENT_KEY" in str(caught.value) and "INNGEST_DEV=1" in str(caught.value)


def test_sending_to_a_stopped_dev_server_names_the_url_and_the_cause() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = inngest.Inngest(app_id="app", is_production=False, event_api_base_url=url)
    waits: list[float] = []
    client._sleep = waits.append  # every attempt is refused: no need to wait between them
    with pytest.raises(_errors.SendEventsError) as caught:
        client.send_sync(inngest.Event(name="e"))
    message = str(caught.value)
    assert f"{url}/e/" in message and "Connection refused" in message
    assert "python -m inngest dev" in message
    assert "HTTPConnection" not in message and "object at 0x" not in message
    assert "(5 attempts)" in message and len(waits) == 4


def production_app(**options: typing.Any) -> tuple[inngest.Inngest, list[inngest.Function]]:
    client = inngest.Inngest(app_id="app", is_production=True,
                             signing_key="signkey-prod-" + "aa" * 32, **options)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="e"))
    def fn(ctx: inngest.ContextSync) -> None:
        return None

    return client, [fn]


def test_a_production_app_refuses_the_dev_servers_sync_and_says_how_to_switch() -> None:
    client, functions = production_app()
    server = inngest.http_server.serve(client, functions, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = HTTP.request("PUT", server.url, headers={"x-inngest-server-kind": "dev"})
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 400
    assert "is_production=False" in json.loads(answer.data)["message"]


def test_a_missing_encryption_extra_says_what_to_install() -> None:
    blocked = "import sys; sys.modules['nacl'] = None; import inngest_encryption"
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr
    assert "pip install 'inngest-sync[encryption]'" in result.stderr


def test_a_production_app_registering_with_a_dev_server_is_told_how_to_switch() -> None:
    with DevServer(port=0, poll=False) as dev:
        client, functions = production_app(api_base_url=dev.url)
        server = inngest.http_server.serve(client, functions, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            answer = HTTP.request("PUT", server.url, headers={"x-inngest-server-kind": "cloud"})
        finally:
            server.shutdown()
            server.server_close()
    message = json.loads(answer.data)["message"]
    assert answer.status == 500 and "Expected server kind dev, got cloud" in message
    assert "is_production=False" in message and "INNGEST_DEV=1" in message
