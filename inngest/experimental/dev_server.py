"""Start and stop a local Inngest dev server for tests: the embedded engine or ``inngest-cli``.

``from inngest.experimental import dev_server; dev_server.server.start()``. Environment:
``DEV_SERVER_PORT`` (8288), ``DEV_SERVER_IMPL`` (``embedded`` or ``cli``),
``DEV_SERVER_VERSION`` (``latest``, for ``cli``), ``DEV_SERVER_LOGS=1`` (write
``artifacts/dev_server.log``), ``DEV_SERVER_ENABLED=0`` (use a server started elsewhere).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import typing

import urllib3

from inngest import _errors

_READY_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 10.0
_LOG_PATH = os.path.join("artifacts", "dev_server.log")


class DevServerError(_errors.Error):
    code = "dev_server_failed"


class _Server:
    def __init__(self) -> None:
        self.port = int(os.environ.get("DEV_SERVER_PORT") or "8288")
        self.enabled = os.environ.get("DEV_SERVER_ENABLED") != "0"
        self.impl = os.environ.get("DEV_SERVER_IMPL") or "embedded"
        self.version = os.environ.get("DEV_SERVER_VERSION") or "latest"
        self.write_logs = os.environ.get("DEV_SERVER_LOGS") == "1"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: typing.BinaryIO | None = None

    @property
    def origin(self) -> str:
        return f"http://0.0.0.0:{self.port}"

    def command(self) -> list[str]:
        flags = ["dev", "--no-discovery", "--no-poll", "--port", str(self.port)]
        if self.impl == "embedded":
            return [sys.executable, "-m", "inngest", *flags]
        if self.impl == "cli":
            return ["npx", "--ignore-scripts=false", "--yes", f"inngest-cli@{self.version}", *flags]
        raise DevServerError(f"DEV_SERVER_IMPL must be 'embedded' or 'cli', got {self.impl!r}")

    def start(self) -> None:
        if not self.enabled or self._process is not None:
            return
        command = self.command()
        output: int | typing.BinaryIO = subprocess.DEVNULL
        if self.write_logs:
            os.makedirs(os.path.dirname(_LOG_PATH), exist_ok=True)
            self._log = open(_LOG_PATH, "wb")
            output = self._log
        self._process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        http = urllib3.PoolManager(retries=False)
        deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                self._close_log()
                raise DevServerError(
                    f"dev server exited with code {self._process.returncode} before it was ready"
                    + (f"; see {_LOG_PATH}" if self.write_logs else "")
                )
            try:
                if http.request("GET", url, timeout=1.0).status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise DevServerError(
            f"dev server did not answer {url} within {_READY_TIMEOUT_SECONDS:.0f} seconds"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


server = _Server()
