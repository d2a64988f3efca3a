"""Start the real Inngest dev server and this project's embedded engine side by side.

Both get free ports for everything they listen on (other test runs share the machine) and
write their logs to ``artifacts/differential/<name>.log``, kept after the run for CI to upload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import typing

import urllib3

from inngest.experimental import dev_server

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# again.py gives a second run its own directory, so the first run's logs stay.
LOG_DIR = os.environ.get("DIFFERENTIAL_LOG_DIR") or os.path.join(REPO, "artifacts", "differential")
RETRY_INTERVAL_SECONDS = 1  # the real server accepts whole seconds >= 1 only
_READY_SECONDS = 60.0
_HTTP = urllib3.PoolManager(retries=False, maxsize=16)


def free_port() -> int:
    return dev_server.free_port()


def _install_scripts() -> list[str]:
    """``../shared/inngest-server/install.sh`` beside the repo, or beside the main checkout
    when this is a git worktree (its parent differs from the main repo's)."""
    roots = [REPO]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        roots.append(os.path.dirname(common))
    except (OSError, subprocess.SubprocessError):
        pass
    return [os.path.join(root, "..", "shared", "inngest-server", "install.sh") for root in roots]


def real_server_binary() -> str | None:
    """``DEV_SERVER_BIN``, else the binary the shared install script unpacks, else None."""
    configured = os.environ.get("DEV_SERVER_BIN")
    if configured:
        return configured
    for script in _install_scripts():
        if os.path.isfile(script):
            done = subprocess.run(
                ["bash", script], capture_output=True, text=True, timeout=120, check=True
            )
            return done.stdout.strip().splitlines()[-1]
    return None


class Server:
    """One running server process; ``origin`` is its HTTP API."""

    def __init__(self, name: str, command: list[str], port: int) -> None:
        self.name = name
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.log_path = os.path.join(LOG_DIR, f"{name}.log")
        os.makedirs(LOG_DIR, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self._process = subprocess.Popen(
            # Not the repo root: ``python -m inngest`` must import the installed package.
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=LOG_DIR,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} server exited with {self._process.returncode}; "
                    f"see {self.log_path}"
                )
            try:
                if _HTTP.request("GET", self.origin + "/health", timeout=1.0).status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} server not ready in {_READY_SECONDS}s; {self.log_path}")

    def stop(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._log.close()


def start_real(binary: str, port: int, app_urls: typing.Sequence[str]) -> Server:
    gateway, gateway_grpc, executor_grpc = [
        other for other in dev_server.free_ports(4) if other != port][:3]
    command = [
        binary, "dev", "--no-discovery", "--no-poll", "--port", str(port),
        "--connect-gateway-port", str(gateway),
        "--connect-gateway-grpc-port", str(gateway_grpc),
        "--connect-executor-grpc-port", str(executor_grpc),
        "--retry-interval", str(RETRY_INTERVAL_SECONDS),
    ]
    for url in app_urls:
        command += ["-u", url]
    return Server("real", command, port)


def start_ours(port: int, app_urls: typing.Sequence[str]) -> Server:
    command = [
        sys.executable, "-m", "inngest", "dev", "--no-discovery", "--no-poll",
        "--port", str(port), "--retry-interval", str(RETRY_INTERVAL_SECONDS),
    ]
    for url in app_urls:
        command += ["-u", url]
    return Server("ours", command, port)
