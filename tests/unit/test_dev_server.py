"""The test launcher: what command line and environment each dev server gets."""

import json
import pathlib
import stat
import sys

import pytest

from inngest.experimental import dev_server

# A stand-in for the inngest binary: records its argv and INNGEST_* variables, then answers
# /health on --port until it is stopped.
_FAKE_BINARY = """#!{python}
import http.server, json, os, sys
with open({record!r}, "w") as out:
    json.dump({{"argv": sys.argv[1:],
               "env": sorted(k for k in os.environ if k.startswith("INNGEST_"))}}, out)
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
port = int(sys.argv[sys.argv.index("--port") + 1])
print("listening on", port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.fixture
def fake_binary(tmp_path: pathlib.Path) -> tuple[str, pathlib.Path]:
    record = tmp_path / "record.json"
    binary = tmp_path / "inngest"
    binary.write_text(_FAKE_BINARY.format(python=sys.executable, record=str(record)))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return str(binary), record


def test_cli_runs_the_given_binary_with_free_ports_and_whole_second_retries(
    monkeypatch: pytest.MonkeyPatch, fake_binary: tuple[str, pathlib.Path],
    tmp_path: pathlib.Path,
) -> None:
    binary, record = fake_binary
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEV_SERVER_LOGS", "1")
    monkeypatch.setenv("DEV_SERVER_IMPL", "cli")
    monkeypatch.setenv("DEV_SERVER_BIN", binary)
    monkeypatch.setenv("INNGEST_RETRY_INTERVAL", "0.2")
    server = dev_server._Server()
    server.port = dev_server.free_port()
    server.retry_interval = 0.2
    server.start()
    try:
        recorded = json.loads(record.read_text())
    finally:
        server.stop()
    argv = recorded["argv"]
    assert argv[:3] == ["dev", "--no-discovery", "--no-poll"]
    assert _flag(argv, "--port") == str(server.port)
    assert _flag(argv, "--retry-interval") == "1"
    ports = {_flag(argv, name) for name in (
        "--connect-gateway-port", "--connect-gateway-grpc-port", "--connect-executor-grpc-port")}
    assert len(ports | {str(server.port)}) == 4
    assert recorded["env"] == []
    log = tmp_path / "artifacts" / "dev_server.cli.log"
    assert log.read_text() == f"listening on {server.port}\n"


def test_cli_without_a_binary_uses_npx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEV_SERVER_IMPL", "cli")
    monkeypatch.delenv("DEV_SERVER_BIN", raising=False)
    monkeypatch.delenv("DEV_SERVER_NPX", raising=False)
    monkeypatch.setenv("DEV_SERVER_VERSION", "1.43.0")
    command = dev_server._Server().command()
    assert command[0] == "npx" and "inngest-cli@1.43.0" in command
    assert command[command.index("inngest-cli@1.43.0") + 1] == "dev"


def test_embedded_keeps_a_fractional_retry_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEV_SERVER_IMPL", raising=False)
    server = dev_server._Server()
    server.retry_interval = 0.2
    command = server.command()
    assert command[:3] == [sys.executable, "-m", "inngest"]
    assert _flag(command, "--retry-interval") == "0.2"
    assert "--connect-gateway-port" not in command


def test_unknown_impl_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEV_SERVER_IMPL", "cloud")
    with pytest.raises(dev_server.DevServerError, match="DEV_SERVER_IMPL"):
        dev_server._Server().command()


def test_cli_without_a_binary_and_without_npx_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEV_SERVER_IMPL", "cli")
    monkeypatch.delenv("DEV_SERVER_BIN", raising=False)
    monkeypatch.setenv("DEV_SERVER_NPX", "0")
    server = dev_server._Server()
    reason = server.unavailable()
    assert reason is not None and "DEV_SERVER_BIN" in reason and "DEV_SERVER_NPX=1" in reason
    with pytest.raises(dev_server.DevServerError, match="DEV_SERVER_BIN"):
        server.start()


def test_start_runs_production_mode_with_generated_keys_and_a_temporary_sqlite_dir(
    monkeypatch: pytest.MonkeyPatch, fake_binary: tuple[str, pathlib.Path],
) -> None:
    binary, record = fake_binary
    monkeypatch.setenv("DEV_SERVER_IMPL", "start")
    monkeypatch.setenv("DEV_SERVER_BIN", binary)
    monkeypatch.setenv("DEV_SERVER_REDIS_URI", "redis://127.0.0.1:1/0")
    monkeypatch.delenv("DEV_SERVER_POSTGRES_URI", raising=False)
    monkeypatch.setenv("INNGEST_SIGNING_KEY", "signkey-prod-00")
    server = dev_server._Server()
    server.port = dev_server.free_port()
    server.retry_interval = 0.2
    server.start()
    try:
        argv = json.loads(record.read_text())["argv"]
        sqlite_dir = pathlib.Path(_flag(argv, "--sqlite-dir"))
        assert sqlite_dir.is_dir()
        env = json.loads(record.read_text())["env"]
    finally:
        server.stop()
    assert argv[0] == "start" and "--no-discovery" not in argv
    assert _flag(argv, "--signing-key") == server.signing_key
    assert server.app_signing_key == f"signkey-prod-{server.signing_key}"
    assert len(bytes.fromhex(server.signing_key or "")) == 32
    assert _flag(argv, "--event-key") == server.event_key
    assert _flag(argv, "--redis-uri") == "redis://127.0.0.1:1/0"
    assert "--postgres-uri" not in argv
    assert _flag(argv, "--retry-interval") == "1"
    ports = {_flag(argv, name) for name in (
        "--connect-gateway-port", "--connect-gateway-grpc-port", "--connect-executor-grpc-port")}
    assert len(ports | {str(server.port)}) == 4
    assert env == []
    assert not sqlite_dir.exists()


def test_a_restart_keeping_state_reuses_the_sqlite_dir_with_a_new_key(
    monkeypatch: pytest.MonkeyPatch, fake_binary: tuple[str, pathlib.Path],
) -> None:
    binary, record = fake_binary
    monkeypatch.setenv("DEV_SERVER_IMPL", "start")
    monkeypatch.setenv("DEV_SERVER_BIN", binary)
    server = dev_server._Server()
    server.port = dev_server.free_port()
    server.start()
    first = json.loads(record.read_text())["argv"]
    server.stop(keep_state=True)
    server.signing_key = "ab" * 32
    server.start()
    try:
        second = json.loads(record.read_text())["argv"]
    finally:
        server.stop()
    assert _flag(second, "--sqlite-dir") == _flag(first, "--sqlite-dir")
    assert _flag(second, "--signing-key") == "ab" * 32 != _flag(first, "--signing-key")
    assert _flag(second, "--event-key") == _flag(first, "--event-key")
    assert not pathlib.Path(_flag(first, "--sqlite-dir")).exists()
