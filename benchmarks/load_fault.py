"""Load under faults: N events to a three-step function while the engine and the app are
SIGKILLed and restarted, then what became of every accepted event.

Loopback only, bounded in time. The engine is ``python -m inngest dev --persist`` and the
app is served by ``inngest.http_server``, each a separate process on a free port. Each step
body appends ``exec <run> <step> <token>`` to a record file when it has run to completion,
with a fresh token as its result; after each ``step.run`` returns, the function appends
``seen <run> <step> <token>``, the result the engine saved and handed back.

Reported:
- accepted: event ids the event API answered 200 for (a send cut off by a kill is retried
  with the same id seed, so it is stored once);
- completed / failed / lost: runs that completed, runs that failed, and accepted events with
  no completed run when the wait ends;
- steps executed more than once: a step body that ran to completion twice. At-least-once
  execution allows this when the app (or the engine) was killed after the body ran and
  before its result was saved;
- steps whose saved result changed: a step for which the function was handed two different
  results. This must never happen: a saved result is final.

    python3 benchmarks/load_fault.py            # 2,000 events, 4 kills (about 2-4 minutes)
    python3 benchmarks/load_fault.py --quick    # 300 events, 2 kills
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENT = "bench/load-fault"
STEPS = ("s0", "s1", "s2")
BATCH = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# ---------------------------------------------------------------------------- app process


def app_main(port: int, engine_url: str, records: str) -> None:
    import uuid

    import inngest
    import inngest.http_server

    fd = os.open(records, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(kind: str, run_id: str, step: str, token: str) -> None:
        os.write(fd, f"{kind} {run_id} {step} {token}\n".encode())  # one write: whole lines

    def body(run_id: str, step: str) -> str:
        time.sleep(0.002)  # a window for a kill between the body and the saved result
        token = uuid.uuid4().hex
        record("exec", run_id, step, token)
        return token

    client = inngest.Inngest(app_id="load-fault", is_production=False,
                             api_base_url=engine_url, event_api_base_url=engine_url)

    @client.create_function(fn_id="load-fault", trigger=inngest.TriggerEvent(event=EVENT))
    def fn(ctx: inngest.Context) -> list[str]:
        tokens = []
        for step in STEPS:
            token = ctx.step.run(step, body, ctx.run_id, step)
            record("seen", ctx.run_id, step, token)
            tokens.append(token)
        return tokens

    server = inngest.http_server.serve(client, [fn], port=port, max_workers=8)
    server.serve_forever()


# ---------------------------------------------------------------------------- orchestration


class Child:
    """A process started from this script's arguments; killed with SIGKILL, restarted."""

    def __init__(self, name: str, argv: list[str], log: pathlib.Path) -> None:
        self.name, self.argv, self.log = name, argv, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, env=env)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_until(probe: typing.Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def answers(url: str, method: str = "GET") -> bool:
    try:
        return http(method, url, b"" if method == "PUT" else None, timeout=2)[0] == 200
    except OSError:
        return False


class Sender:
    """Sends the events in batches; a batch that fails is retried with the same body and id
    seed until the engine answers 200 (or ``give_up`` seconds pass)."""

    def __init__(self, engine_url: str, count: int, give_up: float) -> None:
        self.url = f"{engine_url}/e/load-fault-key"
        self.count, self.give_up = count, give_up
        self.accepted: list[str] = []
        self.refused = 0
        self.retries = 0
        self.sent = 0

    def run(self) -> None:
        for start in range(0, self.count, BATCH):
            now_ms = int(time.time() * 1000)
            events = [{"name": EVENT, "data": {"i": i}, "ts": now_ms}
                      for i in range(start, min(start + BATCH, self.count))]
            seed = f"{now_ms},{base64.b64encode(os.urandom(10)).decode()}"
            ids = self._send(json.dumps(events).encode(), seed)
            if ids is None:
                self.refused += len(events)
            else:
                self.accepted.extend(ids)
            self.sent += len(events)

    def _send(self, body: bytes, seed: str) -> list[str] | None:
        deadline = time.monotonic() + self.give_up
        while time.monotonic() < deadline:
            try:
                status, reply = http("POST", self.url, body, {
                    "content-type": "application/json", "x-inngest-event-id-seed": seed})
                if status == 200:
                    return list(json.loads(reply)["ids"])
            except OSError:
                pass
            self.retries += 1
            time.sleep(0.2)
        return None


def faults(engine: Child, app: Child, sender: Sender, kills: int, engine_url: str,
           app_url: str, done_sending: threading.Event) -> None:
    """Kill the engine and the app in turn, spread over the sending (the last kill lands
    after the last send, while runs are still going), and restart each after a pause."""
    for index in range(kills):
        target = engine if index % 2 == 0 else app
        if index < kills - 1:
            threshold = sender.count * (index + 1) // kills
            while sender.sent < threshold and not done_sending.is_set():
                time.sleep(0.05)
        else:
            done_sending.wait()
        target.kill()
        time.sleep(0.5)
        target.start()
        url = f"{engine_url}/health" if target is engine else app_url
        wait_until(lambda: answers(url), 60, f"{target.name} to restart")


def run_statuses(engine_url: str, event_ids: list[str]) -> dict[str, list[dict[str, typing.Any]]]:
    runs: dict[str, list[dict[str, typing.Any]]] = {}
    for event_id in event_ids:
        status, reply = http("GET", f"{engine_url}/v1/events/{event_id}/runs")
        runs[event_id] = list(json.loads(reply).get("data") or []) if status == 200 else []
    return runs


def read_records(path: pathlib.Path) -> dict[str, dict[tuple[str, str], list[str]]]:
    records: dict[str, dict[tuple[str, str], list[str]]] = {
        "exec": collections.defaultdict(list), "seen": collections.defaultdict(list)}
    for line in path.read_text().splitlines():
        kind, run_id, step, token = line.split()
        records[kind][(run_id, step)].append(token)
    return records


def report(sender: Sender, runs: dict[str, list[dict[str, typing.Any]]],
           records: dict[str, dict[tuple[str, str], list[str]]], elapsed: float,
           kills: dict[str, int]) -> dict[str, typing.Any]:
    statuses = collections.Counter(run.get("status") for found in runs.values() for run in found)
    completed = {event_id for event_id, found in runs.items()
                 if any(run.get("status") == "Completed" for run in found)}
    executions, seen = records["exec"], records["seen"]
    foreign = [key for key, tokens in seen.items() if not set(tokens) <= set(executions[key])]
    return {
        "events_sent": sender.count, "accepted": len(sender.accepted),
        "refused_after_retries": sender.refused, "send_retries": sender.retries,
        "kills": kills, "runs": sum(len(found) for found in runs.values()),
        "run_statuses": dict(statuses), "completed": len(completed),
        "lost": len(set(sender.accepted) - completed),
        "events_with_more_than_one_run": sum(len(found) > 1 for found in runs.values()),
        "step_executions": sum(len(tokens) for tokens in executions.values()),
        "steps_executed_more_than_once": sum(len(t) > 1 for t in executions.values()),
        "steps_whose_saved_result_changed": sum(len(set(t)) > 1 for t in seen.values()),
        "saved_results_from_no_execution": len(foreign),
        "seconds": round(elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=4,
                        help="SIGKILLs, alternating engine and app (default 4)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait for the runs after the last send")
    parser.add_argument("--quick", action="store_true", help="300 events, 2 kills")
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.add_argument("--app-child", nargs=3, metavar=("PORT", "ENGINE_URL", "RECORDS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_child:
        app_main(int(args.app_child[0]), args.app_child[1], args.app_child[2])
        return 0
    if args.quick:
        args.events, args.kills, args.timeout = 300, 2, 120
    with tempfile.TemporaryDirectory(prefix="inngest-load-fault-") as tmp:
        return orchestrate(args, pathlib.Path(tmp))


def orchestrate(args: argparse.Namespace, tmp: pathlib.Path) -> int:
    engine_port, app_port = free_port(), free_port()
    engine_url = f"http://127.0.0.1:{engine_port}"
    app_url = f"http://127.0.0.1:{app_port}/api/inngest"
    records = tmp / "records.txt"
    records.touch()
    engine = Child("engine", [
        sys.executable, "-m", "inngest", "dev", "--persist", "--sqlite-dir", str(tmp / "db"),
        "--port", str(engine_port), "--no-discovery", "--no-poll", "--retry-interval", "1",
        "--log-level", "warning"], tmp / "engine.log")
    app = Child("app", [sys.executable, __file__, "--app-child", str(app_port), engine_url,
                        str(records)], tmp / "app.log")
    try:
        engine.start()
        app.start()
        wait_until(lambda: answers(f"{engine_url}/health"), 60, "the engine")
        wait_until(lambda: answers(app_url, "PUT"), 60, "the app to sync")
        started = time.monotonic()
        sender = Sender(engine_url, args.events, give_up=60)
        done_sending = threading.Event()
        fault_thread = threading.Thread(target=faults, args=(
            engine, app, sender, args.kills, engine_url, app_url, done_sending))
        fault_thread.start()
        sender.run()
        done_sending.set()
        fault_thread.join()
        expected = len(sender.accepted)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            done = {run for (run, step) in read_records(records)["seen"] if step == STEPS[-1]}
            if len(done) >= expected:
                break
            time.sleep(1)
        time.sleep(1)  # let the last results be saved before reading statuses
        result = report(sender, run_statuses(engine_url, sender.accepted),
                        read_records(records), time.monotonic() - started,
                        {"engine": engine.kills, "app": app.kills})
    finally:
        app.stop()
        engine.stop()
    print(json.dumps(result, indent=None if args.json else 2))
    bad = result["lost"] or result["steps_whose_saved_result_changed"] or result[
        "saved_results_from_no_execution"]
    if bad and not args.json:
        print("engine log:", (tmp / "engine.log").read_text()[-3000:], sep="\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
