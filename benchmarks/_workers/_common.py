"""Stdlib-only helpers shared by the workers (they run under either SDK's interpreter)."""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import re
import statistics
import time
import typing

APP_ID = "bench"
SIGNING_KEY = "signkey-test-" + "8f3a" * 16
STEP_COUNTS = (0, 10, 100, 1000)
SERVE_PATH = "/api/inngest"


def step_id(index: int) -> str:
    return f"step-{index}"


def fn_slug(k: int) -> str:
    return f"steps-{k}"


def execution_body(k: int) -> bytes:
    """A POST body whose k memos answer the first k of the function's k + 1 steps.

    Canonical JSON (sorted keys, no spaces), as the server sends every call.
    """
    steps = {hashlib.sha1(step_id(i).encode()).hexdigest(): {"data": i} for i in range(k)}
    event = {"name": "bench/run", "data": {"k": k}, "id": "01BENCH", "ts": 1700000000000}
    payload = {
        "event": event,
        "events": [event],
        "steps": steps,
        "use_api": False,
        "ctx": {
            "run_id": "01BENCHRUN",
            "attempt": 0,
            "disable_immediate_execution": False,
            "stack": {"stack": list(steps)},
        },
    }
    return canonical(json.dumps(payload).encode("utf-8"))


def canonical(body: bytes) -> bytes:
    """JCS for the bodies used here (ASCII strings, ints, objects, arrays, bools, null)."""
    if not body:
        return b""
    loaded = json.loads(body)
    return json.dumps(loaded, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_key(signing_key: str) -> bytes:
    return re.sub(r"^signkey-\w+-", "", signing_key, count=1).encode("utf-8")


def sign(body: bytes, now: float | None = None) -> str:
    """``x-inngest-signature`` as the server makes it: HMAC over canonical body + timestamp."""
    timestamp = str(round(time.time() if now is None else now))
    digest = hmac.new(raw_key(SIGNING_KEY), canonical(body) + timestamp.encode(), "sha256")
    return f"t={timestamp}&s={digest.hexdigest()}"


def measure(
    call: typing.Callable[[], object],
    budget_s: float = 0.8,
    min_n: int = 7,
    max_n: int = 3000,
    warmup: int = 3,
) -> dict[str, float]:
    """Per-call timings in microseconds: median, p90 and the number of calls."""
    for _ in range(warmup):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < max_n and (len(samples) < min_n or time.perf_counter() < deadline):
        samples.append(_timed(call))
    gc.collect()
    return _summary(samples)


def measure_alternating(
    calls: dict[str, typing.Callable[[], object]],
    budget_s: float = 1.2,
    block: int = 25,
    min_blocks: int = 2,
    max_n: int = 3000,
    warmup: int = 3,
) -> dict[str, dict[str, float]]:
    """``measure`` for several calls at once, taking turns in blocks of ``block`` calls until
    the budget is spent, so that each is timed under the same load on the machine: the ratio
    of two medians then moves much less than when each is timed in a run of its own, minutes
    apart. (Blocks, not single calls in turn: the collector then mostly runs in the block
    whose garbage set it off.)"""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + budget_s
    blocks = 0
    while blocks < min_blocks or (time.perf_counter() < deadline
                                  and min(map(len, samples.values())) < max_n):
        for name, call in calls.items():
            samples[name].extend(_timed(call) for _ in range(block))
        blocks += 1
    gc.collect()
    return {name: _summary(values) for name, values in samples.items()}


def _timed(call: typing.Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1000


def _summary(samples: list[float]) -> dict[str, float]:
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p90_us": samples[int(len(samples) * 0.9) - 1] if len(samples) >= 10 else samples[-1],
        "n": len(samples),
    }


def emit(result: object) -> None:
    """The one line of JSON the orchestrator reads from a worker's stdout."""
    print("BENCH-JSON " + json.dumps(result), flush=True)
