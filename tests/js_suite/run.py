"""Run the official JS SDK (v4) repository's integration tests against our engine.

Usage (from the repo root, in an environment where inngest-sync is installed)::

    JS_SDK_SRC=/path/to/inngest-js python tests/js_suite/run.py \
        [--server all|embedded|real] [--keep-json DIR] [-- vitest args]

``JS_SDK_SRC`` is a prepared checkout of github.com/inngest/inngest-js: ``pnpm install``
done at its root and ``pnpm run pb:version`` in ``packages/inngest`` (it writes
``src/version.ts``); nothing of it is kept in this repository. The suite is
``packages/inngest/src/test/integration`` run by its own vitest config (type checks off),
with ``DEV_SERVER_ENABLED=0`` so that its harness uses the server started here instead of
starting one. That harness talks to ``http://localhost:8288``, and its connect tests reach
the gateway through a WebSocket proxy to the next port, so the server is started on 8288
with its connect gateway on 8289 (both must be free when the connect files run; ``unshare
-n`` gives a run a loopback of its own), with the flags the harness would use: ``embedded``
is our engine (``python -m inngest dev`` with this interpreter), ``real`` the
Go server from ``DEV_SERVER_BIN`` or ``../shared/inngest-server/install.sh``; ``all`` (the
default) runs on the embedded engine, then on the real server when one is available.
The ``connect/**`` files start their worker with ``--no-experimental-strip-types``, which
Node older than 22 refuses: they run only when the ``node`` on ``PATH`` is 22 or newer, and
are deselected (saying so) otherwise. Vitest arguments after ``--`` (file paths,
``-t NAME``) narrow the run. Prints each file's passed/total and the failing tests; exit
status: the worst of vitest's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import typing

HERE = pathlib.Path(__file__).resolve().parent
PORT = 8288  # fixed in the JS harness (its DEV_SERVER_URL)
GATEWAY_PORT = PORT + 1  # where the harness's WebSocket proxy (connect tests) forwards to
SUITE = "src/test/integration"
FLAGS = ["dev", "--no-discovery", "--no-poll", "--port", str(PORT),
         "--retry-interval", "1", "--tick", "10",
         "--connect-gateway-port", str(GATEWAY_PORT)]
CONNECT = f"{SUITE}/connect/**"
CONNECT_NODE_MAJOR = 22


def node_major() -> int:
    """The major version of the ``node`` on PATH (0 when there is none)."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return 0
    return int(out.stdout.strip().lstrip("v").split(".")[0])


def deselected(node: int) -> dict[str, str]:
    """Files of the suite that are not run under Node ``node``, and why (paths under
    packages/inngest)."""
    if node >= CONNECT_NODE_MAJOR:
        return {}
    return {
        CONNECT: f"needs Node >= {CONNECT_NODE_MAJOR} (node on PATH: {node}): its worker "
                 "is started with --no-experimental-strip-types, which older Node refuses",
    }


def _official() -> typing.Any:
    """tests/official_suite/run.py, for its real-server lookup and process helpers."""
    spec = importlib.util.spec_from_file_location(
        "official_suite_run", HERE.parent / "official_suite" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


official = _official()


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def server_command(kind: str) -> list[str]:
    if kind == "embedded":
        return [sys.executable, "-m", "inngest", *FLAGS]
    return [
        official.real_server_bin(), *FLAGS,
        "--connect-gateway-grpc-port", str(official.free_port()),
        "--connect-executor-grpc-port", str(official.free_port()),
    ]


def describe(skipped: dict[str, str]) -> None:
    print("deselected (not run on any server):" if skipped else "deselected: none")
    for path, reason in skipped.items():
        print(f"  {path}: {reason}")


def report(results: pathlib.Path) -> None:
    """Each file's passed/total and its failing tests, then the totals."""
    files = json.loads(results.read_text())["testResults"]
    passed = failed = 0
    for entry in sorted(files, key=lambda entry: str(entry["name"])):
        tests = entry["assertionResults"]
        ok = sum(test["status"] == "passed" for test in tests)
        bad = [test["fullName"] for test in tests if test["status"] == "failed"]
        passed, failed = passed + ok, failed + len(bad)
        name = str(entry["name"]).split(f"{SUITE}/")[-1]
        print(f"  {name}: {ok}/{len(tests)}")
        for test in bad:
            print(f"      failed: {test}")
        if not tests and entry.get("message"):
            print(f"      file error: {str(entry['message']).splitlines()[0]}")
    print(f"{passed} passed, {failed} failed")


def run_suite(kind: str, package: pathlib.Path, keep: pathlib.Path | None,
              extra: list[str], skipped: dict[str, str]) -> int:
    # Without the connect files, a busy gateway port only moves the gateway (on both servers).
    for port in (PORT,) if CONNECT in skipped else (PORT, GATEWAY_PORT):
        if not port_free(port):
            raise SystemExit(f"port {port} is in use; the JS harness needs it for the dev server")
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="js-suite-"))
    results = workdir / f"{kind}.json"
    log = open(workdir / "dev_server.log", "wb")
    server = subprocess.Popen(server_command(kind), stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True, cwd=workdir)
    try:
        official.wait_ready(server, PORT)
        command = [
            "npx", "vitest", "run", "--config", "vitest.config.integration.ts",
            "--typecheck.enabled=false", "--reporter=default", "--reporter=json",
            f"--outputFile.json={results}",
            *[f"--exclude={path}" for path in skipped], *extra,
        ]
        print(f"== {kind} dev server on port {PORT}", flush=True)
        env = {**os.environ, "DEV_SERVER_ENABLED": "0"}
        code = subprocess.run(command, cwd=package, env=env).returncode
        print(f"== {kind}: per file")
        if results.exists():
            report(results)
            if keep:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(results, keep / results.name)
        return code
    finally:
        official.stop(server)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    official.add_server_option(parser)
    parser.add_argument("--keep-json", type=pathlib.Path,
                        help="copy vitest's JSON report (KIND.json) into this directory")
    parser.add_argument("vitest_args", nargs="*")
    args = parser.parse_args()
    src = os.environ.get("JS_SDK_SRC")
    package = pathlib.Path(src or ".") / "packages" / "inngest"
    if not src or not (package / "vitest.config.integration.ts").is_file():
        raise SystemExit("set JS_SDK_SRC to a prepared checkout of github.com/inngest/inngest-js")
    if not (package / "src" / "version.ts").is_file():
        raise SystemExit("run `pnpm install` at JS_SDK_SRC and `pnpm run pb:version` in "
                         "packages/inngest first")
    skipped = deselected(node_major())
    describe(skipped)
    return max(run_suite(kind, package, args.keep_json, args.vitest_args, skipped)
               for kind in official.server_kinds(args.server))


if __name__ == "__main__":
    sys.exit(main())
