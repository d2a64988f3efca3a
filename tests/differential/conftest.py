"""Session fixtures: the real Inngest dev server and our embedded engine, each with its own
instance of the Python app (and of the JS apps, of the JS SDK v3 and v4, when node is
available), then every case run on both servers at once.

Enable the suite by setting ``DEV_SERVER_BIN`` to an ``inngest`` binary (``npx inngest-cli``
installs one) or by having ``../shared/inngest-server/install.sh`` beside the repo.
Server logs stay in ``artifacts/differential/`` after the run.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import threading
import time
import typing

import pytest
import urllib3

import cases
import py_app
import servers
from probe import Probe, wait_for

JS_APP_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "js_app"
)
_HTTP = urllib3.PoolManager(retries=False)


def js_unavailable() -> str | None:
    """Why the JS app cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the JS app cases; install Node.js 18+"
    modules = os.path.join(JS_APP_DIR, "node_modules")
    if not all(os.path.isdir(os.path.join(modules, sdk)) for sdk in ("inngest", "inngest-v4")):
        return f"run `npm ci` in {JS_APP_DIR} (tox -e differential does it)"
    return None


class _Exited(Exception):
    """A JS app's process ended before it listened."""


# Each JS app of the suite: its script in tests/js_app, its app id and its log's name.
JS_APPS = (("differential.mjs", "diff-js", "js_app"),
           ("differential_v4.mjs", "diff-js-v4", "js_v4_app"))


class JsApp:
    """``node <script>`` (in tests/js_app) on a free port, for the server at
    ``server_origin``."""

    def __init__(self, name: str, server_origin: str, script: str, log_name: str) -> None:
        self._script = script
        self._env = {**os.environ, "INNGEST_DEV": server_origin}
        self.log_path = os.path.join(servers.LOG_DIR, f"{log_name}_{name}.log")
        os.makedirs(servers.LOG_DIR, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self._spawn()

    def _spawn(self) -> None:
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/inngest"
        self._process = subprocess.Popen(
            ["node", self._script], cwd=JS_APP_DIR, env={**self._env, "PORT": str(self.port)},
            stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        """Wait until the app says it listens on its port. Another process can take the port
        between ``free_port()`` and node's listen (CI: EADDRINUSE, while a GET to the port
        was answered by another server): the app then starts again on a new port, at most
        three times in all."""
        for attempt in range(3):
            try:
                wait_for(self._listening, 30)
                return
            except _Exited:
                if attempt == 2:
                    raise AssertionError(f"JS app exited; see {self.log_path}") from None
                self._spawn()

    def _listening(self) -> None:
        if self._process.poll() is not None:
            raise _Exited()
        with open(self.log_path, "rb") as log:
            said = log.read()
        assert f"listening on {self.port}\n".encode() in said, f"{self.url}: not listening yet"

    def counts(self, key: str) -> dict[str, int]:
        response = _HTTP.request(
            "GET", f"http://127.0.0.1:{self.port}/counts", fields={"key": key}, timeout=5.0
        )
        return typing.cast("dict[str, int]", json.loads(response.data))

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


# The longest a phase holds up the next: a case still running by then is left to fail.
PHASE_SECONDS = 240


class Pair:
    """Both servers with their apps; ``outcome(case)`` is that case's (real, ours) answers."""

    def __init__(self, binary: str) -> None:
        self.js_skip = js_unavailable()
        self.sides: dict[str, cases.Side] = {}
        self._stoppers: list[typing.Callable[[], None]] = []
        try:
            self._start(binary)
        except BaseException:
            self._stop_processes()  # nothing started may outlive a failed start
            raise
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2 * len(cases.CASES))
        self._futures: dict[str, concurrent.futures.Future[object]] = {}

    def _start(self, binary: str) -> None:
        started = []
        for name in ("real", "ours"):
            port = servers.free_port()
            origin = f"http://127.0.0.1:{port}"
            app = py_app.App(origin)
            self._stoppers.append(app.stop)
            urls = [app.url]
            js: list[JsApp] = []
            if self.js_skip is None:
                for script, _, log_name in JS_APPS:
                    js.append(JsApp(name, origin, script, log_name))
                    self._stoppers.append(js[-1].stop)
                for each in js:
                    each.wait_ready()
                    urls.append(each.url)
            if name == "real":
                server = servers.start_real(binary, port, urls)
            else:
                server = servers.start_ours(port, urls)
            self._stoppers.append(server.stop)
            started.append(server)
            self.sides[name] = cases.Side(
                Probe(name, origin), app.record, js[0].counts if js else None,
                js[1].counts if js else None)
        for server in started:
            server.wait_ready()
        for side in self.sides.values():
            self._wait_synced(side.probe, expect_js=self.js_skip is None)

    @staticmethod
    def _wait_synced(probe: Probe, *, expect_js: bool) -> None:
        js_apps = {app_id for _, app_id, _ in JS_APPS}
        wanted = {py_app.APP_ID} | (js_apps if expect_js else set())

        def synced() -> None:
            apps = probe.data("{ apps { name functionCount } }")["apps"]
            ready = {app["name"] for app in apps if app["functionCount"]}
            assert wanted <= ready, f"{probe.name}: apps synced so far: {sorted(ready)}"

        wait_for(synced, 60)

    def start_all(self, names: typing.Iterable[str]) -> None:
        """Run the cases phase by phase (see ``cases.Case.phase``), every case of a phase on
        both servers at once: the suite's wall time is the sum of its phases' slowest cases."""
        runnable = [
            name for name in names if not (cases.CASES[name].js and self.js_skip is not None)
        ]
        phases = sorted({cases.CASES[name].phase for name in runnable})

        def run_phases() -> None:
            for phase in phases:
                started = [future for name in runnable if cases.CASES[name].phase == phase
                           for future in self._submit(name)]
                # A case that hangs fails its own tests (``outcome``), not every later phase.
                concurrent.futures.wait(started, timeout=PHASE_SECONDS)

        self._phases = threading.Thread(target=run_phases, daemon=True)
        self._phases.start()

    def _submit(self, name: str) -> list[concurrent.futures.Future[object]]:
        for side_name, side in self.sides.items():
            key = f"{name}/{side_name}"
            self._futures[key] = self._pool.submit(cases.CASES[name].drive, side)
        return [self._futures[f"{name}/{side_name}"] for side_name in self.sides]

    def outcome(self, name: str) -> tuple[object, object]:
        if cases.CASES[name].js and self.js_skip is not None:
            pytest.skip(self.js_skip)
        while f"{name}/ours" not in self._futures and self._phases.is_alive():
            time.sleep(0.1)  # its phase has not started yet
        return (
            self._futures[f"{name}/real"].result(timeout=120),
            self._futures[f"{name}/ours"].result(timeout=120),
        )

    def write_answers(self) -> None:
        """Both servers' answers side by side, for reading a failure after the run."""
        answers: dict[str, object] = {}
        for key, future in self._futures.items():
            if future.done():
                error = future.exception()
                answers[key] = repr(error) if error else future.result()
        with open(os.path.join(servers.LOG_DIR, "answers.json"), "w") as out:
            json.dump(answers, out, indent=1, sort_keys=True, default=repr)

    def stop(self) -> None:
        self.write_answers()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._stop_processes()

    def _stop_processes(self) -> None:
        for stop in reversed(self._stoppers):
            stop()


@pytest.fixture(scope="session")
def pair(request: pytest.FixtureRequest) -> typing.Iterator[Pair]:
    try:
        binary = servers.real_server_binary()
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"could not unpack the real Inngest server: {err}")
    if binary is None:
        pytest.skip(
            "the differential suite needs the real Inngest server: set DEV_SERVER_BIN to an "
            "`inngest` binary (e.g. from `npm i -g inngest-cli`) or provide "
            "../shared/inngest-server/install.sh beside the repo"
        )
    began = time.monotonic()
    running = Pair(binary)
    try:
        selected = {  # each case once, however many of its aspects are selected
            item.callspec.params["name"]: None for item in request.session.items
            if hasattr(item, "callspec") and "name" in item.callspec.params
        }
        running.start_all(selected)
        yield running
    finally:
        running.stop()
        print(f"\ndifferential: servers up for {time.monotonic() - began:.1f}s; "
              f"logs in {servers.LOG_DIR}")
