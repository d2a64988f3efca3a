"""Engine throughput and latency (our SDK only): an app served with ``inngest.http_server``
in this process, driven by a ``DevServer`` running in a child process (as in real use, the
engine and the app do not share a GIL). Prints one ``BENCH-JSON`` line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
import urllib.parse
import urllib.request

import _common


def engine_child(queue_workers: int, persist_dir: str | None) -> None:
    """Child mode: run a DevServer until stdin closes (state in ``persist_dir`` if given)."""
    from inngest._engine import memory
    from inngest._engine.http.server import DevServer

    logging.getLogger("inngest").setLevel(logging.ERROR)
    memory.return_large_buffers()  # as `python -m inngest dev` does
    server = DevServer(port=0, poll=False, queue_workers=queue_workers,
                       persist=persist_dir is not None, sqlite_dir=persist_dir)
    server.start()
    print(json.dumps({"url": server.url}), flush=True)
    sys.stdin.read()
    server.stop()


class Engine:
    """A DevServer in a child process of this interpreter."""

    def __init__(self, queue_workers: int, persist_dir: str | None = None) -> None:
        persist = ["--engine-persist", persist_dir] if persist_dir else []
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--engine-child", str(queue_workers), *persist],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._proc.stdout is not None
        self.url = json.loads(self._proc.stdout.readline())["url"]
        self.pid = self._proc.pid

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class RealServer:
    """The real Go server (``inngest dev``) on four free loopback ports."""

    def __init__(self, binary: str) -> None:
        ports = _free_ports(4)
        self._proc = subprocess.Popen(
            [binary, "dev", "--no-discovery", "--no-poll", "--port", str(ports[0]),
             "--connect-gateway-port", str(ports[1]), "--connect-gateway-grpc-port",
             str(ports[2]), "--connect-executor-grpc-port", str(ports[3])],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{ports[0]}"
        deadline = time.perf_counter() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2):
                    break
            except OSError:
                if time.perf_counter() > deadline or self._proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("the real server did not come up in 60 s") from None
                time.sleep(0.2)

    def __enter__(self) -> RealServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def ingest_rates(urls: dict[str, str], rounds: int = 5,
                 settle_s: float = 0.25) -> dict[str, dict[str, float]]:
    """Events/s into each server's event API over one keep-alive connection: 300 events in
    batches of 50, and 100 single-event sends. The servers take turns, ``rounds`` times, and
    each keeps its best round, so a burst of load elsewhere hits both alike. Each timed block
    starts ``settle_s`` after the last one: the real server finishes storing events after its
    200 (about 70 ms of CPU after 300 events), and that work must not land in the next block,
    which may be ours. The client is ``http.client``: urllib3 spent more CPU per request
    (about 260 µs) than either server, so the rates measured it more than the servers. Names
    match no function."""
    batch = json.dumps([{"name": "bench/ingest", "data": {"i": i}} for i in range(50)]).encode()
    single = json.dumps({"name": "bench/ingest", "data": {"i": 0}}).encode()
    connections: dict[str, http.client.HTTPConnection] = {}

    def send(url: str, body: bytes) -> None:
        status, data = kept_exchange(connections, url, "POST", "/e/bench-key", body,
                                     {"content-type": "application/json"})
        if status != 200:
            raise RuntimeError(f"event API answered {status}: {data!r}")

    def seconds(url: str, body: bytes, sends: int) -> float:
        time.sleep(settle_s)
        start = time.perf_counter()
        for _ in range(sends):
            send(url, body)
        return time.perf_counter() - start

    try:
        best = {name: {"batch50_eps": 0.0, "single_eps": 0.0} for name in urls}
        for url in urls.values():
            seconds(url, batch, 2)
        for _ in range(rounds):
            for name, url in urls.items():
                rates = best[name]
                rates["batch50_eps"] = max(rates["batch50_eps"], 300 / seconds(url, batch, 6))
                rates["single_eps"] = max(rates["single_eps"], 100 / seconds(url, single, 100))
        return best
    finally:
        for connection in connections.values():
            connection.close()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def memory_after_large_outputs(app: App, recorder: Recorder, pid: int,
                               runs: int) -> dict[str, object]:
    """Engine RSS idle, then after ``runs`` runs of three 1 MB step outputs have ended."""
    time.sleep(0.5)
    idle = rss_mib(pid)
    tag = f"big-{time.monotonic_ns()}"
    recorder.arm(tag, runs)
    app.send_named("bench/engine-big", tag, runs)
    finished = recorder.all_done.wait(60)
    time.sleep(1.0)
    after = rss_mib(pid)
    return {"runs": runs, "capped": not finished, "idle_mib": idle, "after_mib": after,
            "growth_mib": after - idle}


class Recorder:
    """What the functions saw: step execution times per run, completion times per tag."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.step_times: dict[str, list[float]] = {}
        self.completed: dict[str, int] = {}
        self.all_done = threading.Event()
        self.expect: tuple[str, int] = ("", 0)

    def step(self, run_id: str) -> None:
        now = time.perf_counter()
        with self.lock:
            self.step_times.setdefault(run_id, []).append(now)

    def complete(self, tag: str) -> None:
        with self.lock:
            self.completed[tag] = self.completed.get(tag, 0) + 1
            if (tag, self.completed[tag]) == self.expect:
                self.all_done.set()

    def arm(self, tag: str, count: int) -> None:
        with self.lock:
            self.expect = (tag, count)
            self.all_done.clear()
            self.step_times.clear()
            if self.completed.get(tag, 0) >= count:
                self.all_done.set()


def make_functions(inngest: typing.Any, client: typing.Any, recorder: Recorder,
                   step_counts: typing.Iterable[int]) -> list[typing.Any]:
    functions = []
    for steps in step_counts:
        @client.create_function(
            fn_id=f"engine-{steps}", trigger=inngest.TriggerEvent(event=f"bench/engine-{steps}")
        )
        def fn(ctx: typing.Any, _steps: int = steps) -> int:
            for i in range(_steps):
                ctx.step.run(f"s{i}", recorder.step, ctx.run_id)
            recorder.complete(ctx.event.data["tag"])
            return _steps

        functions.append(fn)

    @client.create_function(fn_id="engine-big",
                            trigger=inngest.TriggerEvent(event="bench/engine-big"))
    def big(ctx: typing.Any) -> int:
        for i in range(3):
            ctx.step.run(f"big{i}", lambda: "x" * 1_000_000)
        recorder.complete(ctx.event.data["tag"])
        return 3

    functions.append(big)
    return functions


class App:
    """Our SDK's http_server with the bench functions, synced to ``engine_url``."""

    STEP_COUNTS = (1, 3, 10)

    def __init__(self, engine_url: str, recorder: Recorder) -> None:
        import inngest
        import inngest.http_server

        self.inngest = inngest
        self.engine_url = engine_url
        self.client = inngest.Inngest(
            app_id="bench-engine", is_production=False,
            api_base_url=engine_url, event_api_base_url=engine_url,
        )
        functions = make_functions(inngest, self.client, recorder, self.STEP_COUNTS)
        self.server = inngest.http_server.serve(self.client, functions, port=0, max_workers=8)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        request = urllib.request.Request(self.server.url, method="PUT", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"sync failed: {response.status}")

    def send(self, steps: int, tag: str, count: int) -> list[str]:
        return self.send_named(f"bench/engine-{steps}", tag, count)

    def send_named(self, name: str, tag: str, count: int) -> list[str]:
        events = [self.inngest.Event(name=name, data={"tag": tag}) for _ in range(count)]
        ids: list[str] = []
        for start in range(0, count, 100):
            ids.extend(self.client.send_sync(events[start:start + 100]))
        return ids

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_REST: dict[str, http.client.HTTPConnection] = {}


def run_status(engine_url: str, event_id: str) -> str | None:
    """The run's status over REST, on one kept connection (as a client polling a server
    would). http.client, not urllib3: the poll runs in the app's process, and urllib3's
    per-request work there competed with the app for the GIL."""
    status, data = kept_exchange(_REST, engine_url, "GET", f"/v1/events/{event_id}/runs")
    if status != 200:
        raise RuntimeError(f"REST answered {status}: {data!r}")
    runs = json.loads(data)["data"]
    return runs[0]["status"] if runs else None


def kept_exchange(connections: dict[str, http.client.HTTPConnection], origin: str, method: str,
                  path: str, body: bytes | None = None,
                  headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request on the kept ``http.client`` connection to ``origin`` in ``connections``
    (opened when there is none, and once more if the server had closed it); status, body."""
    for attempt in range(2):
        connection = connections.get(origin)
        if connection is None:
            parts = urllib.parse.urlsplit(origin)
            connection = connections[origin] = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            # The server closed the kept connection while it was idle: open a new one once.
            connection.close()
            del connections[origin]
            if attempt:
                raise
            continue
        if response.will_close:
            connection.close()
            del connections[origin]
        return response.status, data
    raise AssertionError("unreachable")


def settled_status(engine_url: str, event_id: str, wait_s: float = 3.0) -> str | None:
    """The run's status once the engine has recorded the end (the functions count a run done
    when its last request returns, a moment before the engine stores the outcome)."""
    deadline = time.perf_counter() + wait_s
    status = run_status(engine_url, event_id)
    while status not in ("Completed", "Failed", "Cancelled") and time.perf_counter() < deadline:
        time.sleep(0.01)
        status = run_status(engine_url, event_id)
    return status


def throughput(engine_url: str, app: App, recorder: Recorder, steps: int, runs: int,
               cap_s: float) -> dict[str, object]:
    tag = f"tp-{steps}-{time.monotonic_ns()}"
    recorder.arm(tag, runs)
    start = time.perf_counter()
    ids = app.send(steps, tag, runs)
    finished = recorder.all_done.wait(cap_s)
    elapsed = time.perf_counter() - start
    done = recorder.completed.get(tag, 0)
    status = settled_status(engine_url, ids[-1]) if finished else None
    return {
        "runs": runs, "completed": done, "seconds": elapsed, "capped": not finished,
        "runs_per_s": done / elapsed, "steps_per_s": done * steps / elapsed,
        "calls_per_s": done * (steps + 1) / elapsed,  # each step, then the return
        "last_run_status": status,  # a check that runs really complete
    }


def completion_latency(engine_url: str, app: App, recorder: Recorder,
                       samples: int) -> dict[str, object]:
    """Event sent -> REST reports the run Completed, one run at a time. REST is polled (every
    1 ms) once the function has returned its result, so polls do not load the engine while
    the run is going."""
    latencies: list[float] = []
    for index in range(samples):
        tag = f"lat-{index}-{time.monotonic_ns()}"
        recorder.arm(tag, 1)
        start = time.perf_counter()
        (event_id,) = app.send(3, tag, 1)
        if not recorder.all_done.wait(10):
            raise RuntimeError(f"run for event {event_id} did not return in 10 s")
        while run_status(engine_url, event_id) != "Completed":
            if time.perf_counter() - start > 10:
                raise RuntimeError(f"run for event {event_id} did not complete in 10 s")
            time.sleep(0.001)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {
        "samples": samples,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(0, round(len(latencies) * 0.99) - 1)],
    }


def step_latency(app: App, recorder: Recorder, in_flight: int, cap_s: float) -> dict[str, object]:
    """Time between consecutive step executions of a 3-step run, ``in_flight`` runs at once."""
    tag = f"sl-{in_flight}-{time.monotonic_ns()}"
    recorder.arm(tag, in_flight)
    start = time.perf_counter()
    app.send(3, tag, in_flight)
    finished = recorder.all_done.wait(cap_s)
    elapsed = time.perf_counter() - start
    with recorder.lock:
        gaps = sorted(
            (later - earlier) * 1000
            for times in recorder.step_times.values()
            for earlier, later in zip(times, times[1:])
        )
    if not gaps:
        return {"in_flight": in_flight, "error": "no step completed"}
    return {
        "in_flight": in_flight, "seconds": elapsed, "capped": not finished,
        "completed": recorder.completed.get(tag, 0), "gaps": len(gaps),
        "p50_ms": statistics.median(gaps),
        "p99_ms": gaps[max(0, round(len(gaps) * 0.99) - 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine-persist", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply run counts")
    parser.add_argument("--real-server", help="the real server's binary (rows skipped without)")
    args = parser.parse_args()
    if args.engine_child is not None:
        engine_child(args.engine_child, args.engine_persist)
        return
    logging.getLogger("inngest").setLevel(logging.ERROR)
    recorder = Recorder()
    results: dict[str, object] = {}
    runs_for = {1: max(20, int(300 * args.scale)), 10: max(5, int(100 * args.scale))}
    for workers in (1, 2, 8):
        with Engine(workers) as engine:
            app = App(engine.url, recorder)
            try:
                for steps, runs in runs_for.items():
                    key = f"throughput_w{workers}_s{steps}"
                    results[key] = throughput(engine.url, app, recorder, steps, runs, 20.0)
            finally:
                app.close()
    with Engine(8) as engine:
        app = App(engine.url, recorder)
        try:
            results["latency_3step"] = completion_latency(engine.url, app, recorder, 200)
            for in_flight in (10, 100, 1000):
                count = max(10, int(in_flight * args.scale))
                results[f"step_latency_{in_flight}"] = step_latency(app, recorder, count, 30.0)
        finally:
            app.close()
    _section(results, "memory_large_outputs", lambda: _memory(recorder))
    with tempfile.TemporaryDirectory() as state, Engine(8, state) as engine:
        if args.real_server:
            _section(results, "real",
                     lambda: _real(args.real_server, engine.url, recorder, args.scale, results))
        else:
            results["real"] = {"error": "no real server binary (../shared/inngest-server)"}
            _section(results, "ingest_ours", lambda: ingest_rates({"ours": engine.url})["ours"])
    _common.emit(results)


def _section(results: dict[str, object], name: str,
             run: typing.Callable[[], dict[str, object]]) -> None:
    try:
        results[name] = run()
    except Exception as err:  # report and keep the other sections
        results[name] = {"error": f"{type(err).__name__}: {err}"}


def _memory(recorder: Recorder) -> dict[str, object]:
    with Engine(8) as engine:
        app = App(engine.url, recorder)
        try:
            return memory_after_large_outputs(app, recorder, engine.pid, 40)
        finally:
            app.close()


def _real(binary: str, ours_url: str, recorder: Recorder, scale: float,
          results: dict[str, object]) -> dict[str, object]:
    """Ingest into ours (``ours_url``, durable) and the real server in turns, then the same
    app's runs on a fresh engine of ours (8 queue workers, as the rows above) and on the real
    server, in turns too: each keeps its best of two rounds. (Ours timed minutes before the
    real server let the machine's drift in speed, up to 2x here, into the ratio.)"""
    real_results: dict[str, object] = {}
    with RealServer(binary) as real, Engine(8) as fresh:
        rates = ingest_rates({"ours": ours_url, "real": real.url})
        results["ingest_ours"], real_results["ingest"] = rates["ours"], rates["real"]
        apps = {"ours": App(fresh.url, recorder), "real": App(real.url, recorder)}
        try:
            for steps, runs in ((1, max(20, int(100 * scale))), (10, max(5, int(30 * scale)))):
                best = _best_throughputs(apps, recorder, steps, runs)
                real_results[f"throughput_s{steps}"] = best["real"]
                real_results[f"ours_throughput_s{steps}"] = best["ours"]
        finally:
            for app in apps.values():
                app.close()
    return real_results


def _best_throughputs(apps: dict[str, App], recorder: Recorder, steps: int, runs: int,
                      rounds: int = 2) -> dict[str, dict[str, object]]:
    """Each app's best throughput (runs/s) of ``rounds``, the apps taking turns."""
    best: dict[str, dict[str, object]] = {}
    for _ in range(rounds):
        for name, app in apps.items():
            result = throughput(app.engine_url, app, recorder, steps, runs, 60.0)
            if name not in best or _rate(result) > _rate(best[name]):
                best[name] = result
    return best


def _rate(result: dict[str, object]) -> float:
    rate = result["runs_per_s"]
    assert isinstance(rate, float)
    return rate


if __name__ == "__main__":
    main()
