"""Run a command with its own Redis and PostgreSQL on loopback: ``python itest_services.py CMD``.

Both start on free ports with their data in a temporary directory, and stop (the directory is
removed) when the command ends; the command gets ``DEV_SERVER_REDIS_URI`` and
``DEV_SERVER_POSTGRES_URI``. Needs Debian's ``redis-server`` and ``postgresql`` packages (or
the same programs elsewhere on PATH). PostgreSQL refuses to run as root, so as root its
programs run as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing

_READY_SECONDS = 30.0


class ServiceError(Exception):
    """A service is missing or did not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _program(name: str) -> str:
    """``name`` on PATH, else in Debian's versioned PostgreSQL directory."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise ServiceError(
            f"{name} not found: apt-get install redis-server postgresql (or put it on PATH)")
    return found


def _as_postgres_user() -> typing.Callable[[], None] | None:
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam("postgres")

    def drop() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return drop


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise ServiceError(f"{name} did not listen on {port} within {_READY_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_redis(stack: contextlib.ExitStack, directory: str) -> str:
    port = free_port()
    process = subprocess.Popen([
        _program("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
        "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no",
    ], stdout=subprocess.DEVNULL)
    stack.callback(_stop, process, signal.SIGTERM)
    _wait_for_port(port, process, "redis-server")
    return f"redis://127.0.0.1:{port}/0"


def start_postgres(stack: contextlib.ExitStack, directory: str) -> str:
    data = os.path.join(directory, "pg")
    os.mkdir(data)
    drop = _as_postgres_user()
    if drop is not None:
        user = pwd.getpwnam("postgres")
        os.chown(directory, user.pw_uid, user.pw_gid)
        os.chown(data, user.pw_uid, user.pw_gid)
    subprocess.run([_program("initdb"), "-D", data, "-U", "inngest", "--auth=trust",
                    "--encoding=UTF8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, preexec_fn=drop)
    port = free_port()
    process = subprocess.Popen([
        _program("postgres"), "-D", data, "-p", str(port), "-k", directory,
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=drop)
    stack.callback(_stop, process, signal.SIGINT)
    _wait_for_port(port, process, "postgres")
    return f"postgres://inngest@127.0.0.1:{port}/postgres?sslmode=disable"


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        directory = tempfile.mkdtemp(prefix="itest-services-")
        stack.callback(shutil.rmtree, directory, True)
        env = dict(os.environ)
        env["DEV_SERVER_REDIS_URI"] = start_redis(stack, directory)
        env["DEV_SERVER_POSTGRES_URI"] = start_postgres(stack, directory)
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
