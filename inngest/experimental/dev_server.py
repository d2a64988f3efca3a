"""Start and stop a local Inngest server for tests: the embedded engine or ``inngest-cli``.

``from inngest.experimental import dev_server; dev_server.server.start()``. Environment:

- ``DEV_SERVER_IMPL``: ``embedded`` (default, ``python -m inngest dev``), ``cli`` (the real
  Inngest dev server) or ``start`` (the real server in production mode, ``inngest start``:
  requests are signed, keys are generated at start, SQLite sits in a temporary directory and
  the queue in the server's own in-memory Redis, unless ``DEV_SERVER_REDIS_URI`` and
  ``DEV_SERVER_POSTGRES_URI`` name external ones).
- ``DEV_SERVER_BIN``: for ``cli`` and ``start``, the path of a local ``inngest`` binary;
  without it they run ``npx inngest-cli@DEV_SERVER_VERSION`` (``latest`` by default), unless
  ``DEV_SERVER_NPX=0``: then ``unavailable()`` says why and ``start`` refuses.
- ``DEV_SERVER_PORT``: the API port (8288). For ``cli`` and ``start`` the connect gateway and
  its two gRPC ports are free ports chosen at start, so two servers or a busy 8289 cannot
  collide.
- ``DEV_SERVER_LOGS=1``: write the server's output to ``artifacts/dev_server.<impl>.log``
  (``dev_server.start.<port>.log`` for ``start``, of which a test may run several).
- ``DEV_SERVER_ENABLED=0``: start nothing; use a server started elsewhere.

``server.retry_interval`` (seconds, set before ``start``) is passed as ``--retry-interval``;
the real server takes whole seconds of at least 1, so it is rounded up for ``cli`` and
``start``. For ``start``, ``server.signing_key`` (hex, as ``inngest start`` takes it: it
refuses the ``signkey-prod-`` prefix) and ``server.event_key`` are generated unless set before
``start``; ``server.app_signing_key`` is the same key as an app holds it. All servers also
read ``INNGEST_*`` variables (the real one exits on a fractional ``INNGEST_RETRY_INTERVAL``),
so none reaches the server: its settings are these flags alone.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing

import urllib3

from inngest import _errors

_READY_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 10.0
_IMPLS = ("embedded", "cli", "start")
_REAL_IMPLS = ("cli", "start")
# The real server's listeners besides --port; each gets a free port.
_CLI_PORT_FLAGS = (
    "--connect-gateway-port",
    "--connect-gateway-grpc-port",
    "--connect-executor-grpc-port",
)


class DevServerError(_errors.Error):
    code = "dev_server_failed"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now: each
    socket stays bound until all are, or the system may hand out one port twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                   for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


class _Server:
    def __init__(self) -> None:
        self.port = int(os.environ.get("DEV_SERVER_PORT") or "8288")
        self.enabled = os.environ.get("DEV_SERVER_ENABLED") != "0"
        self.impl = os.environ.get("DEV_SERVER_IMPL") or "embedded"
        self.binary = os.environ.get("DEV_SERVER_BIN") or None
        self.version = os.environ.get("DEV_SERVER_VERSION") or "latest"
        self.allow_npx = os.environ.get("DEV_SERVER_NPX") != "0"
        self.write_logs = os.environ.get("DEV_SERVER_LOGS") == "1"
        self.retry_interval: float | None = None
        self.signing_key: str | None = None
        self.event_key: str | None = None
        self.redis_uri = os.environ.get("DEV_SERVER_REDIS_URI") or None
        self.postgres_uri = os.environ.get("DEV_SERVER_POSTGRES_URI") or None
        self._state_dir: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: typing.BinaryIO | None = None

    @property
    def origin(self) -> str:
        return f"http://0.0.0.0:{self.port}"

    @property
    def production(self) -> bool:
        """Whether this is ``inngest start``: apps must sign and hold its keys."""
        return self.impl == "start"

    @property
    def app_signing_key(self) -> str:
        """The signing key as an app holds it: ``inngest start`` takes the bare hex."""
        if self.signing_key is None:
            raise DevServerError("the server has no signing key: it is not an `inngest start`")
        return f"signkey-prod-{self.signing_key}"

    @property
    def log_path(self) -> str:
        return os.path.join("artifacts", f"dev_server.{self.impl}.{self.port}.log"
                            if self.production else f"dev_server.{self.impl}.log")

    def unavailable(self) -> str | None:
        """Why the real server cannot be started here (no binary, no npx), or None."""
        if self.impl in _REAL_IMPLS and self.binary is None and not self.allow_npx:
            return (
                "the real Inngest server is not available: set DEV_SERVER_BIN=/path/to/inngest,"
                f" or DEV_SERVER_NPX=1 to run npx inngest-cli@{self.version}"
            )
        return None

    def command(self) -> list[str]:
        if self.impl not in _IMPLS:
            raise DevServerError(
                f"DEV_SERVER_IMPL must be 'embedded', 'cli' or 'start', got {self.impl!r}")
        reason = self.unavailable()
        if reason is not None:
            raise DevServerError(reason)
        if self.production:
            flags = ["start", "--port", str(self.port), *self._production_flags()]
        else:
            flags = ["dev", "--no-discovery", "--no-poll", "--port", str(self.port)]
        if self.impl == "embedded":
            if self.retry_interval is not None:
                flags += ["--retry-interval", str(self.retry_interval)]
            return [sys.executable, "-m", "inngest", *flags]
        if self.retry_interval is not None:
            flags += ["--retry-interval", str(max(1, math.ceil(self.retry_interval)))]
        ports = [port for port in free_ports(len(_CLI_PORT_FLAGS) + 1) if port != self.port]
        for flag, port in zip(_CLI_PORT_FLAGS, ports):
            flags += [flag, str(port)]
        if self.binary is not None:
            return [self.binary, *flags]
        return ["npx", "--ignore-scripts=false", "--yes", f"inngest-cli@{self.version}", *flags]

    def _production_flags(self) -> list[str]:
        if self.signing_key is None:
            self.signing_key = secrets.token_hex(32)
        if self.event_key is None:
            self.event_key = secrets.token_hex(16)
        if self._state_dir is None:
            self._state_dir = tempfile.mkdtemp(prefix="inngest-start-")
        flags = ["--signing-key", self.signing_key, "--event-key", self.event_key,
                 "--sqlite-dir", self._state_dir]
        if self.redis_uri is not None:
            flags += ["--redis-uri", self.redis_uri]
        if self.postgres_uri is not None:
            flags += ["--postgres-uri", self.postgres_uri]
        return flags

    def start(self) -> None:
        if not self.enabled or self._process is not None:
            return
        command = self.command()
        output: int | typing.BinaryIO = subprocess.DEVNULL
        if self.write_logs:
            os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
            self._log = open(self.log_path, "wb")
            output = self._log
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("INNGEST_")}
        self._process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
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
                    + (f"; see {self.log_path}" if self.write_logs else "")
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

    def stop(self, *, keep_state: bool = False) -> None:
        """Stop the server; ``keep_state`` keeps an ``inngest start``'s SQLite directory for
        a restart (with another signing key, say)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._close_log()
        if not keep_state and self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


server = _Server()
