"""A step body runs once: parallel fan-out never runs a finished or in-flight step again.

The SDK that answers a discovery request plans every step whose result it was not sent; a
step that finished while that request was in flight gets planned again. The engine must
drop such plans (as the real server does), for apps of this SDK and of the JS SDK, through
step retries and across an engine crash.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import shutil
import socket
import subprocess
import threading
import time
import typing

import pytest
import urllib3
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait

import inngest
import inngest.http_server
import inngest.testing
from inngest.experimental.dev_server import free_port, free_ports
from inngest._engine import ulid
from inngest._engine.http.server import DevServer

STEPS = [f"p{i}" for i in range(6)]
JS_APP_DIR = pathlib.Path(__file__).resolve().parents[2] / "js_app"
HTTP = urllib3.PoolManager(retries=False)
LOOPBACK = True  # the fake-app tests; the SDK and JS SDK apps below use real processes

pytestmark = pytest.mark.timeout(120)


class Counter:
    """Step body executions per (run id, step name), from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.requested_at: dict[tuple[str, str], list[int]] = collections.defaultdict(list)

    def add(self, run_id: str, step: str, requested_at_ms: int = 0) -> None:
        with self._lock:
            self.counts[(run_id, step)] += 1
            self.requested_at[(run_id, step)].append(requested_at_ms)

    def runs_of(self, step: str) -> list[int]:
        with self._lock:
            return [n for (_, name), n in self.counts.items() if name == step]


def replanning_app(app: FakeApp, counter: Counter, fail_once: str,
                   version: str) -> dict[str, typing.Any]:
    """An SDK that plans every step on each discovery request, finished or not.

    That is what an SDK answering from stale state does at worst: the engine alone must
    keep each body to one execution (two for the step that fails once).
    """
    app.sdk_headers["x-inngest-req-version"] = version
    failed: set[str] = set()

    def handler(call: Call) -> Reply:
        run_id = call.body["ctx"]["run_id"]
        saved = call.body["steps"]
        by_hash = {step_hash(name): name for name in STEPS}
        if call.step_id in by_hash:
            name = by_hash[call.step_id]
            counter.add(run_id, name)
            if name == fail_once and (run_id, name) not in failed:
                failed.add((run_id, name))
                return ops(op("StepError", name, error={"name": "Error", "message": "once"}))
            return ops(op("StepRun", name, data=name))
        if all(step_hash(name) in saved for name in STEPS):
            return ok(",".join(saved[step_hash(name)]["data"] for name in STEPS))
        return ops(*[op("StepPlanned", name) for name in STEPS])

    return app.function("fan", handler=handler)


@pytest.mark.parametrize("version", ["1", "2"])
def test_steps_planned_again_by_the_sdk_run_once(client: Client, app: FakeApp,
                                                 version: str) -> None:
    counter = Counter()
    client.register(app, [replanning_app(app, counter, "p2", version)])
    event_ids = client.send(*[{"name": "test/fan", "data": {"i": i}} for i in range(5)])
    for event_id in event_ids:
        run = client.wait_for_run(event_id, timeout=30)
        assert run["status"] == "Completed", run
        assert run["output"] == ",".join(STEPS)
    for name in STEPS:
        expected = 2 if name == "p2" else 1
        assert counter.runs_of(name) == [expected] * 5, (name, counter.counts)


# This SDK's ctx.group.parallel, and a crash in the middle


def build_app(engine_url: str, counter: Counter,
              fail_once: str | None) -> tuple[inngest.Inngest, inngest.Function]:
    client = inngest.Inngest(app_id="fan-app", is_production=False,
                             api_base_url=engine_url, event_api_base_url=engine_url)

    @client.create_function(fn_id="fan", trigger=inngest.TriggerEvent(event="fan/go"),
                            retries=2)
    def fan(ctx: inngest.ContextSync) -> str:
        def body(name: str) -> str:
            counter.add(ctx.run_id, name, ulid.timestamp_ms(ctx.request_id or ""))
            if name == fail_once and ctx.attempt == 0:
                raise ValueError(f"{name} fails once")
            return name

        steps = [lambda name=name: ctx.step.run(name, body, name) for name in STEPS]
        return ",".join(ctx.group.parallel(steps))

    return client, fan


def test_sdk_parallel_steps_run_once_with_a_retry() -> None:
    counter = Counter()
    client, fn = build_app("http://engine.test", counter, fail_once="p1")
    with inngest.testing.TestEngine(client, [fn], queue_workers=8) as engine:
        event_ids = engine.send(*[inngest.Event(name="fan/go", data={"i": i})
                                  for i in range(6)])
        for event_id in event_ids:
            [run] = engine.wait_for_runs(event_id=event_id)
            assert run.status == "Completed", run
            assert run.output == ",".join(STEPS)
    for name in STEPS:
        assert counter.runs_of(name) == [2 if name == "p1" else 1] * 6, (name, counter.counts)


def test_parallel_steps_survive_sigkill_without_rerunning_saved_steps(
    tmp_path: pathlib.Path
) -> None:
    from test_crash_recovery import Engine, saved_state, wait_until

    counter = Counter()
    port = free_port()
    client, fn = build_app(f"http://127.0.0.1:{port}", counter, fail_once=None)
    server = inngest.http_server.serve(client, [fn], port=0, max_workers=16)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    engine = Engine(port, tmp_path, server.url)
    try:
        engine.start()
        engine.wait_for_sync()
        event_ids = client.send_sync([inngest.Event(name="fan/go", data={"i": i})
                                      for i in range(30)])
        wait_until(lambda: sum(counter.counts.values()) >= 40, 30, "no step ran")
        engine.kill()
        killed_at_ms = time.time() * 1000
        memos_at_kill, _ = saved_state(tmp_path / "main.db")
        engine.start()
        for event_id in event_ids:
            run = engine.ended_run(event_id, 60)
            assert run["status"] == "Completed" and run["output"] == ",".join(STEPS), run
    finally:
        engine.stop()
        server.shutdown()
        server.server_close()
    assert memos_at_kill, "the kill must land after some steps were saved"
    assert len(counter.counts) == 30 * len(STEPS)
    for key, times in counter.requested_at.items():
        engines = ["first" if at < killed_at_ms else "second" for at in times]
        if (key[0], step_hash(key[1])) in memos_at_kill:
            assert engines == ["first"], (key, engines)
        else:
            # In flight at the kill (result unsaved): it runs once more after the restart.
            assert engines.count("first") <= 1 and engines.count("second") == 1, (key, engines)


# The JS SDK's Promise.all


@pytest.fixture(scope="module")
def js_app_dir() -> pathlib.Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the JS SDK app in tests/js_app")
    if not (JS_APP_DIR / "node_modules" / "inngest").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_APP_DIR,
            capture_output=True, timeout=300, check=False,
        )
        if installed.returncode != 0:
            pytest.skip(f"npm ci in tests/js_app failed:\n{installed.stderr.decode()}")
    return JS_APP_DIR


class JsApp(typing.NamedTuple):
    """tests/js_app, served once for this module's tests: each runs its own engine on
    ``engine_port`` (the app syncs with that URL) and reads its runs' lines of ``ledger``."""

    engine_port: int
    ledger: pathlib.Path
    urls: dict[str, str]  # by request version: "1", and "2" (optimizeParallelism)

    def entries(self, run_ids: typing.Collection[str]) -> list[dict[str, typing.Any]]:
        """The ledger's lines for these runs."""
        if not self.ledger.exists():
            return []
        return [entry for entry in ledger_entries(self.ledger) if entry["run"] in run_ids]


@pytest.fixture(scope="module")
def js_app(js_app_dir: pathlib.Path,
           tmp_path_factory: pytest.TempPathFactory) -> typing.Iterator[JsApp]:
    engine_port, app_port = free_ports(2)
    ledger = tmp_path_factory.mktemp("js_app") / "ledger.jsonl"
    env = {**os.environ, "PORT": str(app_port), "JS_APP_LEDGER": str(ledger),
           "INNGEST_BASE_URL": f"http://127.0.0.1:{engine_port}", "INNGEST_DEV": "1"}
    node = subprocess.Popen([str(shutil.which("node")), "app.mjs"], cwd=js_app_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(lambda: listening(app_port), 15)
        url = f"http://127.0.0.1:{app_port}/api/inngest"
        yield JsApp(engine_port, ledger, {"1": url, "2": url + "-v2"})
    finally:
        node.terminate()
        node.wait(10)


def ledger_entries(ledger: pathlib.Path) -> list[dict[str, typing.Any]]:
    """The ledger's complete lines: the app may be half-way through writing the last one."""
    complete = ledger.read_text().rpartition("\n")[0]
    return [json.loads(line) for line in complete.splitlines()]


@pytest.mark.parametrize("version", ["1", "2"])
def test_js_sdk_parallel_steps_run_once_with_a_retry(js_app: JsApp, version: str) -> None:
    dev = DevServer(port=js_app.engine_port, poll=False, retry_interval=0.05,
                    sdk_urls=[js_app.urls[version]])
    dev.start()
    try:
        api = Client(dev)
        wait(lambda: api.request("GET", "/dev")[1]["functions"], 15)
        event_ids = api.send(*[{"name": "js/parallel",
                                "data": {"n": 6, "fail_once": "p3", "delay_ms": 30}}
                               for _ in range(6)])
        run_ids = []
        for event_id in event_ids:
            run = api.wait_for_run(event_id, timeout=60)
            assert run["status"] == "Completed", run
            assert run["output"] == ",".join(STEPS)
            run_ids.append(run["run_id"])
    finally:
        dev.stop()
    counts = collections.Counter((entry["run"], entry["step"])
                                 for entry in js_app.entries(run_ids))
    assert len(counts) == 6 * len(STEPS)
    for (run_id, name), total in counts.items():
        assert total == (2 if name == "p3" else 1), (run_id, name, total)


def test_js_sdk_parallel_steps_survive_sigkill_without_rerunning_saved_steps(
    js_app: JsApp, tmp_path: pathlib.Path
) -> None:
    from test_crash_recovery import Engine, saved_state, wait_until

    engine = Engine(js_app.engine_port, tmp_path, js_app.urls["1"])
    ledger = js_app.ledger
    earlier = len(ledger_entries(ledger)) if ledger.exists() else 0
    try:
        engine.start()
        engine.wait_for_sync()
        sent = HTTP.request("POST", engine.url + "/e/key", body=json.dumps([
            {"name": "js/parallel", "data": {"n": 6, "delay_ms": 50}} for _ in range(20)]))
        event_ids = json.loads(sent.data)["ids"]
        wait_until(lambda: ledger.exists() and len(ledger_entries(ledger)) >= earlier + 30, 30,
                   "no step ran before the kill")
        engine.kill()
        memos_at_kill, _ = saved_state(tmp_path / "main.db")
        # Requests the killed engine sent before it died still reach step bodies a little
        # later; let them land, so the ledger's clock tells the engines apart.
        wait_until_quiet(ledger)
        restarted_at_ms = time.time() * 1000
        engine.start()
        run_ids = []
        for event_id in event_ids:
            run = engine.ended_run(event_id, 60)
            assert run["status"] == "Completed" and run["output"] == ",".join(STEPS), run
            run_ids.append(run["run_id"])
    finally:
        engine.stop()
    assert 0 < len(memos_at_kill) < 20 * len(STEPS), "the kill must land mid-way"
    runs: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for entry in js_app.entries(run_ids):
        engine_name = "first" if entry["at"] < restarted_at_ms else "second"
        runs[(entry["run"], entry["step"])].append(engine_name)
    assert len(runs) == 20 * len(STEPS)
    for (run_id, name), engines in runs.items():
        if (run_id, step_hash(name)) in memos_at_kill:
            assert engines == ["first"], (run_id, name, engines)
        else:
            assert engines.count("first") <= 1 and engines.count("second") == 1, \
                (run_id, name, engines)
    in_flight = sum(engines == ["first", "second"] for engines in runs.values())
    print(f"saved at kill: {len(memos_at_kill)}, bodies in flight at kill: {in_flight}")


def wait_until_quiet(ledger: pathlib.Path, quiet: float = 0.3) -> None:
    """Until no step body has started for ``quiet`` seconds."""
    size, still_since = ledger.stat().st_size, time.monotonic()
    deadline = still_since + 10
    while time.monotonic() - still_since < quiet:
        assert time.monotonic() < deadline, "step bodies kept starting after the kill"
        time.sleep(0.02)
        if ledger.stat().st_size != size:
            size, still_since = ledger.stat().st_size, time.monotonic()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
