"""``python -m inngest dev`` as a process, and its flag/environment parsing."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import time
import typing

import pytest
import urllib3

from inngest._engine import cli
from inngest.experimental.dev_server import free_ports


def test_dev_process_serves_and_stops_on_sigterm() -> None:
    port, gateway_port = free_ports(2)
    process = subprocess.Popen(
        [sys.executable, "-m", "inngest", "dev", "-p", str(port), "--no-discovery",
         "--no-poll", "--connect-gateway-port", str(gateway_port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                response = urllib3.PoolManager().request(
                    "GET", f"http://127.0.0.1:{port}/health", retries=False)
                break
            except urllib3.exceptions.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.01)
        assert response.status == 200
        assert response.headers["x-inngest-server-kind"] == "dev"
        console = urllib3.PoolManager().request("GET", f"http://127.0.0.1:{port}/")
        assert console.status == 200 and b"<title>Inngest dev console" in console.data
        # The connect gateway listens on its own port, as the real server's.
        ready = urllib3.PoolManager().request("GET", f"http://127.0.0.1:{gateway_port}/ready")
        assert ready.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"Inngest console: http://127.0.0.1:{port}/" in stdout
    assert f"listening on http://127.0.0.1:{port}" in stderr and "shutting down" in stderr


# `python -m inngest dev` whose main thread gets a SIGTERM at each of its next calls once the
# server is up: inside the main loop's wait, inside locks it holds, inside the handlers of the
# earlier signals. A handler that took a lock deadlocked there (it used Event.set).
_SIGNAL_STORM = """
import signal, sys
from inngest._engine import cli
from inngest._engine.http import server

raised = 0

def storm(_frame, _event, _arg):
    global raised
    raised += 1
    if raised == 40:
        sys.setprofile(None)
    signal.raise_signal(signal.SIGTERM)

start = server.DevServer.start

def start_then_storm(self):
    start(self)
    sys.setprofile(storm)

server.DevServer.start = start_then_storm
sys.exit(cli.main(["dev", "-p", "0", "--no-discovery", "--no-poll"]))
"""


def test_dev_process_stops_whenever_the_signals_come() -> None:
    process = subprocess.Popen([sys.executable, "-c", _SIGNAL_STORM],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("a stop signal deadlocked the dev server: it was still running after 20 s")
    assert process.returncode == 0, stderr
    assert "shutting down" in stderr


def _settings(argv: list[str]) -> dict[str, typing.Any]:
    return cli.resolve(cli.build_parser().parse_args(argv))


def test_environment_fallbacks(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INNGEST_PORT", "9999")
    monkeypatch.setenv("INNGEST_NO_POLL", "true")
    monkeypatch.setenv("INNGEST_SDK_URL", "http://a:1/api, http://b:2/api")
    monkeypatch.setenv("INNGEST_RETRY_INTERVAL", "0.5")
    settings = _settings(["dev"])
    assert settings["port"] == 9999 and settings["no_poll"] is True
    assert settings["no_discovery"] is False and settings["retry_interval"] == 0.5
    assert settings["sdk_urls"] == ["http://a:1/api", "http://b:2/api"]
    settings = _settings(["dev", "-p", "1", "-u", "x:3"])
    assert settings["port"] == 1 and settings["sdk_urls"] == ["x:3"]


def test_an_sdk_url_that_does_not_parse_is_a_usage_error(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["dev", "-u", "http://[::1"])
    assert exited.value.code == 2
    assert "invalid URL 'http://[::1': the host cannot be parsed" in capsys.readouterr().err


def test_max_body_size_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: pathlib.Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert _settings(["dev"])["max_body_size"] == 32 * 1024 * 1024
    monkeypatch.setenv("INNGEST_MAX_BODY_SIZE", "2048")
    assert _settings(["dev"])["max_body_size"] == 2048
    assert _settings(["dev", "--max-body-size", "512"])["max_body_size"] == 512
    for bad in ("0", "-1", "1e3", "lots"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["dev", "--max-body-size", bad])
