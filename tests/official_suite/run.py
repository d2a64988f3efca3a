"""Run the official inngest-py repository's sync tests against the installed ``inngest``.

Usage (from the repo root, in an environment where inngest-sync is installed)::

    INNGEST_PY_SRC=/path/to/inngest-py python tests/official_suite/run.py \
        [--server all|embedded|real] [--python /path/to/python] [-- pytest args]

``INNGEST_PY_SRC`` is a checkout of github.com/inngest/inngest-py; nothing of it is kept in
this repository. The chosen test files are copied into a temp dir and run with pytest by
``--python`` (default: this interpreter; pass another venv's python to run the same tests on
the official SDK). The dev server is started here on free ports: ``embedded`` is our engine
(``python -m inngest dev`` with this interpreter), ``real`` is the Go server from
``DEV_SERVER_BIN`` or ``../shared/inngest-server/install.sh``; ``all`` (the default) runs on
the embedded engine, then on the real server when one is available. Exit status: the worst
of pytest's.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Paths in inngest-py that are copied and run; tests/X lands at X in the temp dir.
SELECTED = [
    "pkg/test_core/test_core",
    "tests/test_inngest/__init__.py",
    "tests/test_inngest/test_function/__init__.py",
    "tests/test_inngest/test_function/cases",
    "tests/test_inngest/test_function/test_flask.py",
    "tests/test_inngest/test_function/test_django.py",
    "tests/test_inngest/test_serialization/__init__.py",
    "tests/test_inngest/test_serialization/test_flask.py",
    "tests/test_inngest/test_experimental/__init__.py",
    "tests/test_inngest/test_experimental/test_remote_state_middleware/__init__.py",
    "tests/test_inngest/test_experimental/test_remote_state_middleware/cases",
    "tests/test_inngest/test_experimental/test_remote_state_middleware/test_flask.py",
    "pkg/inngest/inngest/experimental/mocked/trigger_test.py",
]
RENAMED = {
    "pkg/test_core/test_core": "test_core",
    "pkg/inngest/inngest/experimental/mocked/trigger_test.py": "test_mocked/test_trigger.py",
}

# Tests inside the selected files that are not run, and why.
DESELECTED = {
    "test_mocked/test_trigger.py::TestTriggerAsync": "async handlers (async API)",
    **{
        f"test_inngest/test_function/test_{framework}.py::TestFunctions"
        "::test_unexpected_step_during_targeting":
        "reads the private attribute ctx.step._target_hashed_id"
        for framework in ("flask", "django")
    },
}

# What is set aside in inngest-py's tests, and why (printed with every run).
SET_ASIDE = {
    "tests/test_inngest/test_function/test_fast_api.py": "FastAPI (async serve)",
    "tests/test_inngest/test_function/test_connect.py": "Connect (WebSocket workers)",
    "tests/test_inngest/test_function/test_digital_ocean.py": "DigitalOcean simulator (private)",
    "tests/test_inngest/test_connect/": "Connect",
    "tests/test_inngest/test_client/test_send.py": "private errors and const modules",
    "tests/test_inngest/test_client/test_client_middleware.py":
        "imports inngest.fast_api (async serve) at module level",
    "tests/test_inngest/test_experimental/test_remote_state_middleware/test_fast_api.py":
        "FastAPI (async serve)",
    "tests/test_inngest/test_introspection/": "private net/const modules",
    "tests/test_inngest/test_registration/": "private net/const modules",
    "tests/test_inngest/test_serve/": "private errors module and async streaming",
    "tests/test_inngest/test_serialization/test_fast_api.py": "FastAPI (async serve)",
    "tests/test_inngest/test_server_timings/": "async handler and async middleware",
    "tests/test_inngest/test_probes/": "private comm_lib probes",
    "tests/test_inngest/test_execution/": "private execution_lib",
    "tests/test_inngest/test_types.py": "static type checks only, never run",
    "tests/test_inngest_encryption/": "inngest_encryption has its own interop suite",
    "pkg/inngest/inngest/_internal/ (*_test.py)": "private modules",
    "pkg/inngest/inngest/connect/ (*_test.py)": "Connect",
}

_RELATIVE_ERRORS_IMPORT = re.compile(r"^from \.errors import", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def copy_selected(src: pathlib.Path, dest: pathlib.Path) -> None:
    for origin in SELECTED:
        source = src / origin
        out = dest / RENAMED.get(origin, origin.removeprefix("tests/"))
        out.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, out, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source, out)
    (dest / "test_mocked" / "__init__.py").write_text("")
    trigger = dest / "test_mocked" / "test_trigger.py"
    # Outside its package the test's relative import must name the module in full.
    trigger.write_text(
        _RELATIVE_ERRORS_IMPORT.sub(
            "from inngest.experimental.mocked.errors import", trigger.read_text()
        )
    )
    shutil.copyfile(HERE / "harness_conftest.py", dest / "conftest.py")


INSTALL_SCRIPT = REPO.parent / "shared" / "inngest-server" / "install.sh"


def real_server_available() -> bool:
    return bool(os.environ.get("DEV_SERVER_BIN")) or INSTALL_SCRIPT.exists()


def real_server_bin() -> str:
    explicit = os.environ.get("DEV_SERVER_BIN")
    if explicit:
        return explicit
    out = subprocess.run([str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def server_command(kind: str, port: int) -> list[str]:
    flags = ["dev", "--no-discovery", "--no-poll", "--port", str(port)]
    if kind == "embedded":
        return [sys.executable, "-m", "inngest", *flags]
    return [
        real_server_bin(),
        *flags,
        "--connect-gateway-port", str(free_port()),
        "--connect-gateway-grpc-port", str(free_port()),
        "--connect-executor-grpc-port", str(free_port()),
    ]


def wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"dev server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("dev server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def describe() -> None:
    print("selected (copied from INNGEST_PY_SRC):")
    for origin in SELECTED:
        print(f"  {origin}")
    print("deselected inside selected files:")
    for node, reason in DESELECTED.items():
        print(f"  {node}: {reason}")
    print("set aside:")
    for path, reason in SET_ASIDE.items():
        print(f"  {path}: {reason}")


def run_suite(kind: str, src: pathlib.Path, python: str, keep: bool, extra: list[str]) -> int:
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="official-suite-"))
    copy_selected(src, workdir)
    port = free_port()
    log = open(workdir / "dev_server.log", "wb")
    server = subprocess.Popen(
        server_command(kind, port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_ready(server, port)
        origin = f"http://127.0.0.1:{port}"
        env = {
            **os.environ, "DEV_SERVER_ENABLED": "0", "DEV_SERVER_PORT": str(port),
            # Some cases build clients without origins and expect the dev server's default.
            "INNGEST_API_BASE_URL": origin, "INNGEST_EVENT_API_BASE_URL": origin,
        }
        command = [
            python, "-m", "pytest", str(workdir), "-p", "no:cacheprovider",
            "--rootdir", str(workdir), "-o", "python_files=test_*.py", "-rfE",
            *[f"--deselect={node}" for node in DESELECTED],
            *extra,
        ]
        print(f"== {kind} dev server, tests run by {python}", flush=True)
        return subprocess.run(command, cwd=workdir, env=env).returncode
    finally:
        stop(server)
        log.close()
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def add_server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", choices=("all", "embedded", "real"), default="all",
        help="all: the embedded engine, then the real server when one is available",
    )


def server_kinds(choice: str) -> list[str]:
    """The servers ``--server choice`` runs on, in order (saying so when the real one is
    skipped)."""
    if choice != "all":
        return [choice]
    if real_server_available():
        return ["embedded", "real"]
    print(f"real server: skipped (no DEV_SERVER_BIN, no {INSTALL_SCRIPT})")
    return ["embedded"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_option(parser)
    parser.add_argument("--python", default=sys.executable, help="interpreter running the tests")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    src = os.environ.get("INNGEST_PY_SRC")
    if not src or not (pathlib.Path(src) / "tests" / "test_inngest").is_dir():
        raise SystemExit("set INNGEST_PY_SRC to a checkout of github.com/inngest/inngest-py")
    describe()
    codes = [
        run_suite(kind, pathlib.Path(src), args.python, args.keep, args.pytest_args)
        for kind in server_kinds(args.server)
    ]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
