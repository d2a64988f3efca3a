"""Instructions per request of the SDK's plain WSGI path and of the floor, counted by Valgrind.

    python3 benchmarks/sdk_instructions.py [--k K] [--cloud] [--requests N]

Timings on a shared machine move by a microsecond or two between runs; the number of machine
instructions a request executes does not. This runs the request ``benchmarks/run.py`` times
(ours through ``inngest.wsgi``, k replayed steps, dev or signed) and the floor's work (parse,
HMAC, step hashes) under ``valgrind --tool=cachegrind``, each twice (10 and 10 + N requests),
and prints the difference per request: instructions, and first-level cache misses for
instructions and data. Needs ``valgrind`` on PATH; runs this checkout's ``inngest``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EVENTS = ("Ir", "I1mr", "D1mr")

# Run in the child: build the call as run.py's workers do, then make it `count` times.
CHILD = """
import sys
sys.path.insert(0, {workers!r})
import _common
which, k, cloud, count = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
body = _common.execution_body(k)
if which == "floor":
    import floor_worker
    call = floor_worker.floor_call(body, k, cloud)
else:
    import sdk_worker
    app = sdk_worker.make_app(cloud, "http://127.0.0.1:1", "wsgi")
    headers = {{"x-inngest-signature": _common.sign(body)}} if cloud else {{}}
    query = f"fnId={{_common.APP_ID}}-{{_common.fn_slug(k)}}&stepId=step"
    call = sdk_worker.checked(sdk_worker.wsgi_call(app, "POST", query, body, headers), 206)
for _ in range(count):
    call()
"""


def counts(which: str, k: int, cloud: bool, requests: int, workdir: str) -> dict[str, int]:
    """The cachegrind totals of a child making ``requests`` requests (after one warm-up)."""
    out = os.path.join(workdir, f"{which}.{requests}.out")
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": REPO}
    code = CHILD.format(workers=os.path.join(HERE, "_workers"))
    subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--cachegrind-out-file={out}",
         sys.executable, "-c", code, which, str(k), "1" if cloud else "0", str(requests)],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with open(out) as results:
        text = results.read()
    names = re.search(r"^events: (.*)$", text, re.M)
    totals = re.search(r"^summary: (.*)$", text, re.M)
    if names is None or totals is None:
        raise RuntimeError(f"no totals in {out}")
    return dict(zip(names.group(1).split(), map(int, totals.group(1).split())))


def per_request(which: str, k: int, cloud: bool, requests: int, workdir: str) -> dict[str, float]:
    base = counts(which, k, cloud, 10, workdir)
    more = counts(which, k, cloud, 10 + requests, workdir)
    return {event: (more[event] - base[event]) / requests for event in EVENTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=0, help="replayed steps (a k of run.py's)")
    parser.add_argument("--cloud", action="store_true", help="signed requests (cloud mode)")
    parser.add_argument("--requests", type=int, default=500, help="requests counted")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not on PATH (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as workdir:
        rows = {which: per_request(which, args.k, args.cloud, args.requests, workdir)
                for which in ("ours", "floor")}
    mode = "cloud" if args.cloud else "dev"
    print(f"per request, k={args.k}, {mode}: " + ", ".join(EVENTS))
    for which, row in rows.items():
        print(f"  {which:5} " + "  ".join(f"{row[event]:>9,.0f}" for event in EVENTS))
    print(f"  ours / floor instructions: {rows['ours']['Ir'] / rows['floor']['Ir']:.2f}")


if __name__ == "__main__":
    main()
