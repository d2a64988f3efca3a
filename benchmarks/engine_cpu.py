"""CPU the engine spends per single-event send, and the best rate of 100 sends in a row.

    python3 benchmarks/engine_cpu.py [--sends N]

Starts the engine as ``benchmarks/run.py`` does (a DevServer in a child process, state in a
temporary SQLite directory, 8 queue workers), sends N single events over one keep-alive
connection, and reads the child's user and system CPU from /proc (Linux only) before and
after. Wall rates move with other load on the machine; CPU per send moves much less, which
makes this the figure to compare two versions of the engine by.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_workers"))
# The engine's child process imports this checkout's ``inngest``, as run.py's workers do.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (os.path.dirname(HERE),
                                                         os.environ.get("PYTHONPATH"))))

import engine_worker  # noqa: E402


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=3000, help="single-event sends (>= 100)")
    args = parser.parse_args()
    import urllib3

    pool = urllib3.PoolManager(maxsize=1)
    body = json.dumps({"name": "bench/ingest", "data": {"i": 0}}).encode()
    headers = {"content-type": "application/json"}
    rounds = max(1, args.sends // 100)
    with tempfile.TemporaryDirectory() as state, engine_worker.Engine(8, state) as engine:
        url = engine.url + "/e/bench-key"

        def send() -> None:
            response = pool.request("POST", url, body=body, headers=headers)
            if response.status != 200:
                raise RuntimeError(f"event API answered {response.status}: {response.data!r}")

        for _ in range(200):  # warm up
            send()
        user0, system0 = cpu_seconds(engine.pid)
        started = time.perf_counter()
        best = 0.0
        for _ in range(rounds):
            round_started = time.perf_counter()
            for _ in range(100):
                send()
            best = max(best, 100 / (time.perf_counter() - round_started))
        elapsed = time.perf_counter() - started
        user1, system1 = cpu_seconds(engine.pid)
    sends = rounds * 100
    per_send_us = 1e6 / sends
    print(f"{sends} sends: engine CPU {(user1 - user0 + system1 - system0) * per_send_us:.0f} us"
          f" per send (user {(user1 - user0) * per_send_us:.0f}, system"
          f" {(system1 - system0) * per_send_us:.0f}); wall {elapsed * per_send_us:.0f} us"
          f" per send; best 100 in a row {best:,.0f} ev/s")


if __name__ == "__main__":
    main()
