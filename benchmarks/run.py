"""Benchmark inngest-sync against the official ``inngest`` SDK; see benchmarks/README.md.

    python benchmarks/run.py [--venv DIR] [--skip-engine] [--quick]

Prints a table of medians and ratios (ours / official) with pass/fail per target, and writes
benchmarks/results/latest.json and latest.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import typing

import _report
from _stubs import StubServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKERS = os.path.join(HERE, "_workers")
RESULTS = os.path.join(HERE, "results")
README = os.path.join(REPO, "README.md")
README_START = "<!-- benchmarks: the table below is written by benchmarks/run.py -->"
README_END = "<!-- benchmarks: end of table -->"
# Outside the repo, so the official SDK never lands in it.
DEFAULT_VENV = os.path.expanduser("~/.cache/inngest-sync/official-sdk-venv")
WORKER_TIMEOUT_S = 240


class Sdk(typing.NamedTuple):
    name: str
    python: str
    env: dict[str, str]
    # How sdk_worker.py serves this SDK: each at its lightest WSGI entry point (the official
    # SDK has no plain WSGI adapter, so Flask; ours has inngest.wsgi.serve), and ours through
    # Flask as well for a like-for-like row; ours timed in turns with the floors.
    serve_args: tuple[str, ...] = ("--adapter", "flask")


def ensure_venv(venv: str) -> str:
    """The venv's python, with the official SDK and flask (and matplotlib, for the chart)."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"creating {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    for modules, packages, required in (("inngest, flask", ["inngest", "flask"], True),
                                        ("matplotlib", ["matplotlib"], False)):
        probe = subprocess.run([python, "-c", f"import {modules}"], capture_output=True,
                               cwd="/")
        if probe.returncode != 0:
            print(f"installing {' '.join(packages)} into {venv} ...", flush=True)
            subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=required)
    return python


def real_server_binary() -> str | None:
    """The real Go server's binary: ``$INNGEST_SERVER_BIN``, or what
    ``../shared/inngest-server/install.sh`` (next to the checkout) prints; None if neither."""
    if os.environ.get("INNGEST_SERVER_BIN"):
        return os.environ["INNGEST_SERVER_BIN"]
    for parent in (os.path.dirname(REPO), os.path.dirname(os.path.dirname(REPO))):
        script = os.path.join(parent, "shared", "inngest-server", "install.sh")
        if os.path.exists(script):
            proc = subprocess.run([script], capture_output=True, text=True)
            path = proc.stdout.strip().splitlines()[-1:] if proc.returncode == 0 else []
            return path[0] if path and os.path.exists(path[0]) else None
    return None


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without anything that would change which ``inngest`` is imported
    or how it behaves."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INNGEST_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env.update(extra or {})
    return env


def run_worker(sdk: Sdk, script: str, *args: str) -> dict[str, typing.Any]:
    """Run a worker under ``sdk``'s interpreter; return its JSON or ``{"error": ...}``."""
    command = [sdk.python, os.path.join(WORKERS, script), *args]
    try:
        proc = subprocess.run(command, env=sdk.env, cwd="/", capture_output=True, text=True,
                              timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"{script} timed out after {WORKER_TIMEOUT_S} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            result: dict[str, typing.Any] = json.loads(line[len("BENCH-JSON "):])
            if proc.stderr.strip():
                result["stderr_tail"] = proc.stderr.strip().splitlines()[-1]
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"{script} exited {proc.returncode}: {tail}"}


_HWM = ("import sys; sys.stdout.write([line for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')][0])")


def fresh_process(sdk: Sdk, code: str) -> tuple[float, str]:
    """Wall seconds and stdout of one ``python -c code`` in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.run([sdk.python, "-c", code], env=sdk.env, cwd="/", capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()
        raise RuntimeError(message[-1] if message else f"exit {proc.returncode}")
    return elapsed, proc.stdout


def peak_rss_kib(sdk: Sdk, code: str) -> int:
    """The child's own VmHWM. ru_maxrss would do, but Linux carries it across fork+exec,
    so it reports the (larger) parent's size whenever the child stays smaller."""
    _, out = fresh_process(sdk, f"{code}; {_HWM}" if code != "pass" else _HWM)
    return int(out.split()[1])


def bench_imports(sdks: typing.Sequence[Sdk], runs: int) -> dict[str, dict[str, typing.Any]]:
    """Import time and memory per SDK. The fresh processes of every SDK and of the bare
    interpreter take turns (one of each per run), so that a slower minute on the machine
    lands on all of them alike rather than on whichever was timed then. An SDK whose
    process fails gets an error and leaves the turns; the others go on."""
    codes = (("bare", "pass"), ("import", "import inngest"))
    walls: dict[str, dict[str, list[float]]] = {sdk.name: {} for sdk in sdks}
    results: dict[str, dict[str, typing.Any]] = {}
    for turn in range(runs + 1):  # turn 0 warms the byte-code cache and the page cache
        for sdk in sdks:
            if sdk.name in results:
                continue
            try:
                for label, code in codes:
                    wall = fresh_process(sdk, code)[0]
                    if turn:
                        walls[sdk.name].setdefault(label, []).append(wall)
            except RuntimeError as err:
                results[sdk.name] = {"error": str(err)}
    for sdk in sdks:
        if sdk.name in results:
            continue
        try:
            results[sdk.name] = {label: {
                "wall_ms": statistics.median(walls[sdk.name][label]) * 1000,
                "maxrss_kib": statistics.median(peak_rss_kib(sdk, code) for _ in range(3)),
            } for label, code in codes}
        except RuntimeError as err:
            results[sdk.name] = {"error": str(err)}
    return results


def best_of(results: list[dict[str, typing.Any]]) -> dict[str, typing.Any]:
    """Merge repeated worker results: the lowest median (and highest rate) per metric, which
    discounts rounds disturbed by other load on the machine; cells timed in turns with each
    other are kept from one round (``_keep_together``)."""
    usable = [r for r in results if "error" not in r] or results[:1]
    merged: dict[str, typing.Any] = dict(usable[0])
    for other in usable[1:]:
        merged = _merge(merged, other)
    _keep_together(merged, usable)
    return merged


# Cells a worker times in turns with each other, per k: a row's ratio or difference of two of
# them compares timings made together only if both come from the same round.
_TIMED_TOGETHER = tuple(
    keys for mode in ("dev", "cloud") for keys in (
        (f"post_{mode}", f"floor_{mode}", f"protocol_floor_{mode}", f"wsgi_noop_{mode}"),
        (f"post_{mode}_flask", f"post_{mode}_flask_noop"),
        (f"post_{mode}", f"post_{mode}_noop"),
    )
)


def _keep_together(merged: dict[str, typing.Any], rounds: list[dict[str, typing.Any]]) -> None:
    """For each k of each group of ``_TIMED_TOGETHER``, every cell from the one round whose
    cells of that group add up to the least (the least disturbed round), not each cell's
    lowest from whichever round had it."""
    for keys in _TIMED_TOGETHER:
        timed = [r for r in rounds if all(_cells(r.get(key)) for key in keys)]
        if not timed:
            continue
        for key in keys:
            merged[key] = dict(merged[key])
        for k in timed[0][keys[0]]:
            candidates = [r for r in timed if all(k in _cells(r[key]) for key in keys)]
            if candidates:
                best = min(candidates,
                           key=lambda r: sum(r[key][k]["median_us"] for key in keys))
                for key in keys:
                    merged[key][k] = best[key][k]


def _cells(section: typing.Any) -> dict[str, typing.Any]:
    """A section's timed cells by k ({} for an error or anything else)."""
    if not isinstance(section, dict) or "error" in section:
        return {}
    return {k: cell for k, cell in section.items()
            if isinstance(cell, dict) and "median_us" in cell}


def _merge(left: typing.Any, right: typing.Any) -> typing.Any:
    if isinstance(left, dict) and isinstance(right, dict):
        if "error" in left:
            return right
        if "median_us" in left and "median_us" in right:
            return min(left, right, key=lambda r: r["median_us"])
        return {key: _merge(value, right[key]) if key in right else value
                for key, value in left.items()}
    if isinstance(left, float) and isinstance(right, float):
        return max(left, right)  # only rates (events/s) are bare floats here
    return left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=DEFAULT_VENV,
                        help="throwaway venv for the official SDK (created if missing)")
    parser.add_argument("--ours-python", default=sys.executable,
                        help="interpreter for our SDK; needs urllib3 and flask")
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2,
                        help="alternating runs of each SDK's request worker (best kept)")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smaller engine run counts")
    parser.add_argument("--out", default=RESULTS, help="directory for latest.json/.png")
    parser.add_argument("--no-readme", dest="readme", action="store_false",
                        help="leave the table in README.md as it is")
    args = parser.parse_args()

    started = time.perf_counter()
    official = Sdk("official", ensure_venv(args.venv), clean_env())
    ours = Sdk("ours", args.ours_python, clean_env({"PYTHONPATH": REPO}),
               ("--adapter", "wsgi", "--also-flask", "--with-floors"))
    raw: dict[str, typing.Any] = {"ours": {}, "official": {}}
    rounds: dict[str, list[dict[str, typing.Any]]] = {"ours": [], "official": []}
    with StubServer() as stub:
        for round_number in range(1, args.rounds + 1):
            for sdk in (official, ours):
                print(f"[{sdk.name}] request handling, sync, event send "
                      f"(round {round_number}/{args.rounds}) ...", flush=True)
                rounds[sdk.name].append(run_worker(
                    sdk, "sdk_worker.py", "--api-url", stub.url, "--event-url", stub.url,
                    *sdk.serve_args))
    for name, results in rounds.items():
        raw[name]["sdk"] = best_of(results)
    print("[official, ours] import time/memory, in turns; installed size ...", flush=True)
    for name, result in bench_imports((official, ours), args.import_runs).items():
        raw[name]["import"] = result
    raw["official"]["size"] = run_worker(official, "size_worker.py")
    raw["ours"]["size"] = run_worker(
        ours, "size_worker.py", "--package-dir", os.path.join(REPO, "inngest"),
        "--requires", "urllib3")
    if args.skip_engine:
        raw["engine"] = {"error": "skipped (--skip-engine)"}
    else:
        print("[ours] engine (and the real server, when its binary is there) ...", flush=True)
        real = real_server_binary()
        raw["engine"] = run_worker(ours, "engine_worker.py",
                                   "--scale", "0.3" if args.quick else "1",
                                   *(("--real-server", real) if real else ()))
    raw["meta"] = {
        "seconds": time.perf_counter() - started,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ours_python": ours.python,
        "official_python": official.python,
        "official_version": _official_version(official),
        "cpus": os.cpu_count(),
    }
    rows = _report.build_rows(raw)
    table = _report.format_table(rows, raw)
    print()
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.txt"), "w") as out:
        command = " ".join(["python3", "benchmarks/run.py", *sys.argv[1:]])
        out.write(f"$ {command}\n# {raw['meta']['when']}, {raw['meta']['cpus']} CPUs\n"
                  f"{table}\n")
    if args.readme:
        _update_readme(command, raw["meta"], table)
        print(f"updated the table in {README}")
    json_path = os.path.join(args.out, "latest.json")
    with open(json_path, "w") as out:
        json.dump({"rows": rows, "raw": raw}, out, indent=2)
    png_path = os.path.join(args.out, "latest.png")
    chart = subprocess.run([official.python, os.path.join(HERE, "_chart.py"), json_path,
                            png_path], env=official.env, capture_output=True, text=True)
    print(f"\nwrote {json_path}")
    if chart.returncode == 0:
        print(f"wrote {png_path}")
    else:
        print(f"chart failed: {chart.stderr.strip().splitlines()[-1:]}")
    print(f"total {time.perf_counter() - started:.0f} s")


def _update_readme(command: str, meta: dict[str, typing.Any], table: str) -> None:
    """Put this run's table between the README's benchmark markers."""
    with open(README) as f:
        text = f.read()
    start = text.index(README_START) + len(README_START)
    end = text.index(README_END)
    block = (f"\n```\n$ {command}\n# {meta['when']}, {meta['cpus']} CPUs, Python "
             f"{platform.python_version()}\n{table.rstrip()}\n```\n")
    with open(README, "w") as f:
        f.write(text[:start] + block + text[end:])


def _official_version(sdk: Sdk) -> str:
    proc = subprocess.run(
        [sdk.python, "-c", "import importlib.metadata as m; print(m.version('inngest'))"],
        env=sdk.env, cwd="/", capture_output=True, text=True)
    return proc.stdout.strip()


if __name__ == "__main__":
    main()
