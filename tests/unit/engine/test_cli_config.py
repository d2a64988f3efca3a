"""``python -m inngest dev`` as the real ``inngest dev`` takes it: configuration files
(``--config``, ``INNGEST_CONFIG``, ``inngest.json``/``.yaml``/``.yml`` found from the working
directory up and in ``~/.config/inngest``), their precedence under environment variables and
flags, and the real CLI's other flags (``--tick``, ``-l``, ``--json``, ``--verbose``, the
connect flags)."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import typing

import pytest
import urllib3

from inngest._engine import cli
from inngest._engine.http.server import DevServer


class _Started(Exception):
    pass


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """No INNGEST_* variables, a working directory and a home without configuration."""
    for name in list(os.environ):
        if name.startswith("INNGEST_") or name in ("LOG_LEVEL", "LOG_HANDLER"):
            monkeypatch.delenv(name)
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "work")


def started(argv: list[str]) -> DevServer:
    """The DevServer ``main(argv)`` starts, caught at its ``start()``."""
    servers: list[DevServer] = []

    class Recording(DevServer):
        def start(self) -> None:
            servers.append(self)
            raise _Started

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    original = cli.DevServer
    cli.DevServer = Recording  # type: ignore[misc]
    try:
        with pytest.raises(_Started):
            cli.main(argv)
    finally:
        cli.DevServer = original  # type: ignore[misc]
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return servers[0]


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


_YAML = """\
# an Inngest configuration file
sdk-url:
  - http://127.0.0.1:3000/api/inngest
  - "http://127.0.0.1:3001/api/inngest"
no-discovery: true
poll-interval: 7
retry-interval: 3
queue-workers: 12
tick: 300
port: 9000
host: 0.0.0.0
"""


def test_a_yaml_file_in_a_parent_directory_is_found_and_read(tmp_path: pathlib.Path) -> None:
    write(tmp_path / "inngest.yaml", _YAML)
    server = started(["dev"])
    assert server.sdk_urls == ["http://127.0.0.1:3000/api/inngest",
                               "http://127.0.0.1:3001/api/inngest"]
    assert (server.discovery, server.poll, server.poll_interval) == (False, True, 7)
    assert (server.retry_interval, server.queue_workers, server.tick_ms) == (3, 12, 300)
    assert (server.port, server.host) == (9000, "0.0.0.0")


def test_the_nearest_directory_wins_and_json_before_yaml_before_yml(
    tmp_path: pathlib.Path
) -> None:
    write(tmp_path / "inngest.json", '{"port": 9001}')
    write(tmp_path / "work" / "inngest.yml", "port: 9003\n")
    assert started(["dev"]).port == 9003
    write(tmp_path / "work" / "inngest.yaml", "port: 9002\n")
    assert started(["dev"]).port == 9002
    write(tmp_path / "work" / "inngest.json", '{"port": 9004, "no-poll": true}')
    server = started(["dev"])
    assert server.port == 9004 and server.poll is False


def test_the_home_configuration_directory_comes_last(tmp_path: pathlib.Path) -> None:
    write(tmp_path / "home" / ".config" / "inngest" / "inngest.yml",
          "sdk-url: http://127.0.0.1:3000/api/inngest\npersist: true\n")
    server = started(["dev"])
    assert server.sdk_urls == ["http://127.0.0.1:3000/api/inngest"]
    assert server.persist is True


def test_config_flag_and_variable_name_a_file_with_or_without_extension(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "work" / "inngest.json", '{"port": 9001}')
    named = write(tmp_path / "settings", '{"port": 9005, "sdk-url": ["http://a:1/api"]}')
    server = started(["dev", "--config", str(named)])
    assert server.port == 9005 and server.sdk_urls == ["http://a:1/api"]
    monkeypatch.setenv("INNGEST_CONFIG", str(write(tmp_path / "other", "port: 9006\n")))
    assert started(["dev"]).port == 9006


def test_flags_beat_variables_beat_the_file(tmp_path: pathlib.Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "work" / "inngest.yaml", _YAML)
    monkeypatch.setenv("INNGEST_POLL_INTERVAL", "9")
    monkeypatch.setenv("INNGEST_SDK_URL", "http://x:1/a,http://y:2/b")
    monkeypatch.setenv("INNGEST_TICK", "250")
    server = started(["dev"])
    assert server.poll_interval == 9 and server.tick_ms == 250
    assert server.sdk_urls == ["http://x:1/a", "http://y:2/b"]
    assert server.queue_workers == 12
    server = started(["dev", "--poll-interval", "11", "-u", "http://z:3/c", "--tick", "50",
                      "--queue-workers", "2"])
    assert (server.poll_interval, server.tick_ms, server.queue_workers) == (11, 50, 2)
    assert server.sdk_urls == ["http://z:3/c"]


def test_a_found_file_that_does_not_parse_is_skipped_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "inngest.yaml", "port: 9007\n")
    bad = write(tmp_path / "work" / "inngest.json", '{"port": 90')
    with caplog.at_level(logging.WARNING, "inngest.engine"):
        assert started(["dev"]).port == 9007
    assert f"error reading config file {bad}: invalid JSON" in caplog.text


@pytest.mark.parametrize(("text", "message"), [
    ("port: 9000\n  urls: [\n", "invalid YAML: line 2: unexpected indentation"),
    ("port: &anchor 9000\n", "invalid YAML: line 1: unsupported YAML syntax '&anchor 9000'"),
    ("port: 1\nport: 2\n", "invalid YAML: line 2: key 'port' is already defined"),
    ("sdk-url:\n  - a\n    - b\n", "invalid YAML: line 3: only one level of nesting"),
    ("port:\tx\n\tother: 1\n", "invalid YAML: line 2: tabs cannot indent YAML"),
])
def test_a_named_file_that_does_not_parse_is_a_usage_error_naming_the_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = write(tmp_path / "bad.yaml", text)
    err = usage_error(["dev", "--config", str(path)], capsys)
    assert err.splitlines()[-1].startswith(
        f"python -m inngest dev: error: error reading config file {path}: {message}")


@pytest.mark.parametrize(("values", "message"), [
    ({"poll-interval": "abc"}, "poll-interval: must be a positive number of seconds: abc"),
    ({"port": [1, 2]}, "port: must be a single value, not [1, 2]"),
    ({"no-poll": "maybe"}, "no-poll: must be true or false: maybe"),
    ({"queue-workers": 1.5}, "queue-workers: must be a positive number of workers: 1.5"),
    ({"sdk-url": {"a": 1}}, 'sdk-url: must be a URL or a list of URLs, not {"a": 1}'),
    ({"connect-gateway-grpc-ip": "localhost"},
     "connect-gateway-grpc-ip: must be an IP address: localhost"),
])
def test_a_bad_value_in_a_file_is_a_one_line_usage_error(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str],
    values: dict[str, typing.Any], message: str
) -> None:
    path = write(tmp_path / "work" / "inngest.json", json.dumps(values))
    err = usage_error(["dev"], capsys)
    assert err.splitlines()[-1] == f"python -m inngest dev: error: config file {path}: {message}"


def test_a_missing_named_file_is_a_usage_error(tmp_path: pathlib.Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(["dev", "--config", str(tmp_path / "nope.json")], capsys)
    assert f"error reading config file {tmp_path / 'nope.json'}: " in err
    assert "No such file or directory" in err


def test_a_bad_environment_value_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INNGEST_PORT", "eighty")
    err = usage_error(["dev"], capsys)
    assert err.strip() == "python -m inngest dev: error: INNGEST_PORT: must be a port " \
        "number (0-65535): eighty"


def test_the_real_clis_flags_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    server = started([
        "--json", "dev", "-l", "warn", "--verbose", "--tick", "20",
        "--connect-gateway-port", "1", "--connect-gateway-grpc-port", "2",
        "--connect-executor-grpc-port", "3", "--connect-gateway-grpc-ip", "::1",
        "--connect-executor-grpc-ip", "10.0.0.1", "--retry-interval", "2",
    ])
    assert server.tick_ms == 20 and server.retry_interval == 2
    assert server.connect_gateway_port == 1
    assert started(["dev"]).connect_gateway_port == 8289  # the real server's default
    for level in ("trace", "debug", "info", "warn", "warning", "error"):
        started(["dev", "--log-level", level])


@pytest.mark.parametrize(("argv", "message"), [
    (["--tick", "0"], "argument --tick: must be a positive number of milliseconds: 0"),
    (["-l", "loud"], "argument -l/--log-level: must be one of trace, debug, info, warn, "
                     "error: loud"),
    (["--retry-interval", "-1"], "argument --retry-interval: must be 0 (backoff) or a "
                                 "positive number of seconds: -1"),
    (["--connect-executor-grpc-ip", "host"], "must be an IP address: host"),
    (["--connect-gateway-port", "70000"], "must be a port number (0-65535): 70000"),
])
def test_bad_flag_values_are_usage_errors(argv: list[str], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert message in usage_error(["dev", *argv], capsys)


def test_json_logs_at_the_chosen_level_and_the_reported_tick(tmp_path: pathlib.Path) -> None:
    write(tmp_path / "work" / "inngest.yml", "tick: 300\nno-discovery: true\nno-poll: true\n"
          "typo-key: 1\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "inngest", "dev", "-p", "0", "--json", "-l", "warn"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split("Inngest console: ")[1].strip()
        info = urllib3.PoolManager().request("GET", f"{url}dev")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    options = json.loads(info.data)["startOpts"]
    assert options["tick"] == 300_000_000 and options["autodiscover"] is False
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert [(line["level"], line["msg"]) for line in lines] == [
        ("WARN", f"config file {tmp_path / 'work' / 'inngest.yml'}: unknown key "
                 "'typo-key' ignored"),
    ]
    assert lines[0]["time"].endswith("Z")


@pytest.mark.parametrize(("poll_interval", "retry_interval", "shown"), [
    (7.0, 3.0, b'"poll_interval":7,"tick":150000000,"retry_interval":3,'),
    (2.5, 0.05, b'"poll_interval":2.5,"tick":150000000,"retry_interval":0.05,'),
])
def test_start_opts_write_whole_intervals_as_the_real_server_does(
        poll_interval: float, retry_interval: float, shown: bytes) -> None:
    with DevServer(port=0, poll=False, poll_interval=poll_interval,
                   retry_interval=retry_interval) as server:
        info = urllib3.PoolManager().request("GET", f"{server.url}/dev")
    assert shown in info.data.replace(b" ", b"")
