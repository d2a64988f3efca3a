"""Crash durability: SIGKILL a persisting ``python -m inngest dev`` mid-way through 50 runs.

The app is served by this SDK in the test process; the engine is a real subprocess so the
kill is a real crash. After a restart on the same SQLite directory every run must finish,
and a step whose result the engine had saved before the kill must never run again.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import typing

import pytest
import urllib3

import inngest
import inngest.http_server
from inngest._engine import ulid
from inngest.experimental.dev_server import free_port
from inngest._protocol.step_ids import hash_step_id

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
RUNS = 50
STEPS = ("a", "b", "c")
KILL_AFTER_FINISHED = 5
# This run's step "b" waits until the engine has been killed: at the kill, at least one run
# has a saved step and has not finished, however the other runs happen to be timed.
HELD_RUN = RUNS // 2
HTTP = urllib3.PoolManager(retries=False)
HTTP_POLL = 0.02
# ``python -m inngest dev`` that has imported the engine before it is given its log file
# and arguments (one JSON line on its input); it exits if its input ends first.
LAUNCHER = """
import json, os, sys
from inngest._engine.cli import main
line = sys.stdin.readline()
if not line:
    sys.exit(0)
log, args = json.loads(line)
output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
os.dup2(output, 1)
os.dup2(output, 2)
sys.exit(main(args))
"""

pytestmark = pytest.mark.timeout(120)


class Ledger:
    """Every step body execution, tagged with the engine request that caused it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.executions: list[tuple[str, str, int, str]] = []
        self.finished: set[str] = set()
        self.held = threading.Event()
        self.release = threading.Event()

    def record(self, ctx: inngest.ContextSync, step: str) -> None:
        requested_at = ulid.timestamp_ms(ctx.request_id or "")
        with self._lock:
            self.executions.append((ctx.run_id, step, requested_at, ctx.job_id or ""))

    def finish(self, run_id: str) -> None:
        with self._lock:
            self.finished.add(run_id)

    def finished_count(self) -> int:
        with self._lock:
            return len(self.finished)


def build_app(engine_url: str, ledger: Ledger) -> tuple[inngest.Inngest, inngest.Function]:
    client = inngest.Inngest(app_id="crash-app", is_production=False,
                             api_base_url=engine_url, event_api_base_url=engine_url)

    @client.create_function(fn_id="three-steps", trigger=inngest.TriggerEvent(event="crash/go"),
                            retries=0)
    def three_steps(ctx: inngest.ContextSync) -> str:
        index = ctx.event.data["i"]

        def body(name: str) -> str:
            ledger.record(ctx, name)
            if index == HELD_RUN and name == "b" and not ledger.release.is_set():
                ledger.held.set()
                ledger.release.wait(60)
            return f"{name}{index}"

        outputs = [ctx.step.run(name, body, name) for name in STEPS]
        ledger.finish(ctx.run_id)
        return "-".join(outputs)

    return client, three_steps


class Launchers:
    """Engine processes started ahead: each one taken is replaced by a new one, which
    starts its interpreter and imports the engine while the test (or the next) runs."""

    def __init__(self) -> None:
        self.spare: subprocess.Popen[bytes] | None = None

    def take(self) -> subprocess.Popen[bytes]:
        process, self.spare = self.spare or self._spawn(), self._spawn()
        return process

    @staticmethod
    def _spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})

    def close(self) -> None:
        if self.spare is not None:
            self.spare.kill()
            self.spare.wait(10)


LAUNCHERS = Launchers()
atexit.register(LAUNCHERS.close)


class Engine:
    """``python -m inngest dev --persist`` as a subprocess importing this repository."""

    def __init__(self, port: int, sqlite_dir: pathlib.Path, app_url: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.args = ["dev", "--persist", "--sqlite-dir", str(sqlite_dir), "--no-discovery",
                     "--no-poll", "--port", str(port), "--retry-interval", "0.1", "-u", app_url]
        self.log = sqlite_dir / "engine.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = LAUNCHERS.take()
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([str(self.log), self.args]).encode() + b"\n")
        self.process.stdin.close()
        wait_until(self.healthy, 15, "the engine did not start", HTTP_POLL)

    def healthy(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, self.log.read_text()
        try:
            return HTTP.request("GET", self.url + "/health", timeout=1).status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def wait_for_sync(self) -> None:
        try:
            wait_until(lambda: self.get("/dev")["functions"], 10, "", HTTP_POLL)
        except AssertionError:
            raise AssertionError(f"the app did not sync:\n{self.log.read_text()}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)

    def get(self, path: str) -> typing.Any:
        response = HTTP.request("GET", self.url + path, timeout=5)
        assert response.status == 200, response.data
        return json.loads(response.data)

    def ended_run(self, event_id: str, timeout: float) -> dict[str, typing.Any]:
        """The (single) run of ``event_id``, once it has ended."""
        def ended() -> bool:
            found = self.get(f"/v1/events/{event_id}/runs")["data"]
            return bool(found) and found[0]["status"] not in ("Running", "Scheduled")

        wait_until(ended, timeout, f"the run for event {event_id} did not end", HTTP_POLL)
        [run] = self.get(f"/v1/events/{event_id}/runs")["data"]
        return dict(run)


def wait_until(probe: typing.Callable[[], object], timeout: float, what: str,
               interval: float = 0.002) -> None:
    """Poll ``probe`` every ``interval`` seconds: 2 ms for the test's own counters (the kill
    must land mid-way), ``HTTP_POLL`` for an engine's HTTP API so polling does not starve it."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(interval)


def completed_runs(db_path: pathlib.Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'Completed'") \
            .fetchone()[0]
        return count
    finally:
        conn.close()


def saved_state(db_path: pathlib.Path) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """What the killed engine had durably saved: memoized (run, step hash) and run statuses.

    Read from the database file itself: it is the only witness of the moment of the crash.
    """
    conn = sqlite3.connect(db_path)
    try:
        memos = {(run_id, step_id) for run_id, step_id
                 in conn.execute("SELECT run_id, step_id FROM steps")}
        statuses = dict(conn.execute("SELECT id, status FROM runs").fetchall())
    finally:
        conn.close()
    return memos, statuses


@pytest.fixture
def served_app(tmp_path: pathlib.Path) -> typing.Iterator[tuple[Ledger, Engine]]:
    port = free_port()
    ledger = Ledger()
    client, fn = build_app(f"http://127.0.0.1:{port}", ledger)
    server = inngest.http_server.serve(client, [fn], port=0, max_workers=16)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    engine = Engine(port, tmp_path, server.url)
    try:
        yield ledger, engine
    finally:
        ledger.release.set()
        engine.stop()
        server.shutdown()
        server.server_close()


def test_sigkill_mid_run_loses_no_run_and_reruns_no_saved_step(
    served_app: tuple[Ledger, Engine], tmp_path: pathlib.Path
) -> None:
    ledger, engine = served_app
    engine.start()
    engine.wait_for_sync()
    client = inngest.Inngest(app_id="sender", is_production=False,
                             api_base_url=engine.url, event_api_base_url=engine.url)
    event_ids = client.send_sync([inngest.Event(name="crash/go", data={"i": i})
                                  for i in range(RUNS)])
    assert len(event_ids) == RUNS

    # The engine records a run's end a moment after the app returns from it (runs in flight
    # go on in step, so several can return at once): wait for both, and for the held run.
    wait_until(lambda: ledger.held.is_set() and ledger.finished_count() >= KILL_AFTER_FINISHED
               and completed_runs(tmp_path / "main.db") > 0, 30,
               "no run finished, or the held run did not reach its step b, before the kill")
    engine.kill()
    killed_at_ms = time.time() * 1000
    memos_at_kill, statuses_at_kill = saved_state(tmp_path / "main.db")
    ledger.release.set()

    completed_at_kill = sum(status == "Completed" for status in statuses_at_kill.values())
    partial_at_kill = {run for run, _ in memos_at_kill} - {
        run for run, status in statuses_at_kill.items() if status == "Completed"}
    assert len(statuses_at_kill) == RUNS
    assert 0 < completed_at_kill < RUNS, "the kill must land in the middle of the runs"
    assert partial_at_kill, "some runs must have saved steps but not finished at the kill"

    engine.start()
    runs = {}
    for index, event_id in enumerate(event_ids):
        runs[index] = engine.ended_run(event_id, 30)
    for index, run in runs.items():
        assert run["status"] == "Completed", run
        assert run["output"] == f"a{index}-b{index}-c{index}"

    by_engine: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    jobs: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for run_id, step, requested_at, job_id in ledger.executions:
        by_engine[(run_id, step)].append("first" if requested_at < killed_at_ms else "second")
        jobs[(run_id, step)].append(job_id)
    assert {run_id for run_id, _ in by_engine} == {run["run_id"] for run in runs.values()}
    in_flight = []
    for (run_id, step), engines in by_engine.items():
        if (run_id, hash_step_id(step)) in memos_at_kill:
            assert engines == ["first"], f"saved step {step} of {run_id} ran again: {engines}"
        else:
            assert engines.count("first") <= 1, f"step {step} of {run_id}: {engines}"
            assert engines.count("second") == 1, \
                f"step {step} of {run_id}: {engines}, queue jobs {jobs[(run_id, step)]}"
            if "first" in engines:
                in_flight.append((run_id, step))
    assert len(by_engine) == RUNS * len(STEPS)
    print(f"completed at kill: {completed_at_kill}, partial: {len(partial_at_kill)}, "
          f"steps in flight: {len(in_flight)}, executions: {len(ledger.executions)}")
