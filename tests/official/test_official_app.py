"""Differential: the same app source, served by the official SDK and by this one, driven by
this repository's engine, must reach the same run outputs.

Neither SDK is imported here. The engine always runs this repository's code
(``PYTHONPATH=<repo>``); the app runs ``official_app.py`` either with site-packages only
(the official ``inngest``, installed by the ``official`` tox env) or with this repository
first on PYTHONPATH.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import typing

import pytest
import urllib3

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_SOURCE = pathlib.Path(__file__).with_name("official_app.py")
SLUG = "diff-app-"
HTTP = urllib3.PoolManager(retries=False)
IMPLEMENTATIONS = ("official", "ours")
RESULTS: dict[str, dict[str, list[tuple[str, typing.Any]]]] = {}

pytestmark = pytest.mark.timeout(120)

RUNS_QUERY = """
query {
  runs(first: 100, filter: {from: "2000-01-01T00:00:00Z"},
       orderBy: [{field: QUEUED_AT, direction: ASC}]) {
    edges { node { id status function { slug } } }
  }
}
"""
# The runs list carries no output (as on the real server); run(runID) does.
OUTPUT_QUERY = "query ($id: String!) { run(runID: $id) { output } }"

EXPECTED: dict[str, list[tuple[str, typing.Any]]] = {
    "steps": [("COMPLETED", {"greet": "hello Ada", "shout": "HELLO ADA"})],
    "sleeper": [("COMPLETED", "woke up")],
    "waiter": [("COMPLETED", {"key": "matched", "value": 42}),
               ("COMPLETED", {"key": "unmatched", "value": None})],
    "invoker": [("COMPLETED", {"child": 42})],
    "child": [("COMPLETED", 42)],
    "fan-out": [("COMPLETED", {"parallel": ["L", "R"]})],
    "flaky": [("COMPLETED", "ok on attempt 2")],
    "doomed": [("FAILED", {"code": "non_retriable_error", "name": "NonRetriableError",
                           "message": "doomed on purpose"})],
    "doomed-failure": [("COMPLETED", {"handled": "doomed on purpose",
                                      "name": "NonRetriableError"})],
}


def official_sdk_installed() -> bool:
    try:
        importlib.metadata.distribution("inngest")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def free_ports(count: int) -> list[int]:
    """Distinct free ports: each socket stays bound until all are (one at a time, the same
    port can come back twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until(probe: typing.Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        HTTP.request("GET", url, timeout=1)
    except urllib3.exceptions.HTTPError:
        return False
    return True


class Processes:
    def __init__(self, log_dir: pathlib.Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.started.append(subprocess.Popen(
                args, env=env, stdout=log, stderr=log, cwd=self.log_dir))

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")
                         for path in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Deployment:
    """The engine and the app for one SDK implementation."""

    def __init__(self, implementation: str, processes: Processes) -> None:
        engine_port, app_port = free_ports(2)
        self.engine_url = f"http://127.0.0.1:{engine_port}"
        self.app_url = f"http://127.0.0.1:{app_port}/api/inngest"
        base_env = {k: v for k, v in os.environ.items()
                    if k != "PYTHONPATH" and not k.startswith("INNGEST_")}
        ours_env = {**base_env, "PYTHONPATH": str(REPO_ROOT)}
        app_env = base_env if implementation == "official" else ours_env
        processes.start("engine", [
            sys.executable, "-m", "inngest", "dev", "--port", self.engine_url.rsplit(":", 1)[1],
            "--no-discovery", "--no-poll", "--retry-interval", "0.1"], ours_env)
        processes.start("app", [sys.executable, str(APP_SOURCE), str(app_port),
                                self.engine_url], app_env)
        wait_until(lambda: answers(self.engine_url + "/health"), 15, "engine did not start")
        wait_until(lambda: answers(self.app_url), 15, "app did not start")
        served_by = (processes.log_dir / "app.log").read_text()
        ours_package = REPO_ROOT / "inngest" / "__init__.py"
        assert (f"serving {ours_package}" in served_by) == (implementation == "ours"), served_by

    def sync(self) -> None:
        response = HTTP.request("PUT", self.app_url, timeout=10)
        assert response.status == 200, response.data

    def send(self, name: str, data: dict[str, typing.Any]) -> None:
        response = HTTP.request("POST", self.engine_url + "/e/key",
                                body=json.dumps({"name": name, "data": data}), timeout=10)
        assert response.status == 200, response.data

    def query(self, query: str, variables: dict[str, str] | None = None) -> typing.Any:
        response = HTTP.request("POST", self.engine_url + "/v0/gql", timeout=10,
                                body=json.dumps({"query": query, "variables": variables or {}}),
                                headers={"content-type": "application/json"})
        body = json.loads(response.data)
        assert "errors" not in body, body
        return body["data"]

    def runs(self) -> list[dict[str, typing.Any]]:
        return [edge["node"] for edge in self.query(RUNS_QUERY)["runs"]["edges"]]

    def outcomes(self) -> dict[str, list[tuple[str, typing.Any]]]:
        out: dict[str, list[tuple[str, typing.Any]]] = {}
        for run in self.runs():
            name = run["function"]["slug"].removeprefix(SLUG)
            output = self.query(OUTPUT_QUERY, {"id": run["id"]})["run"]["output"]
            out.setdefault(name, []).append((run["status"], normalized(run["status"], output)))
        return {name: sorted(found, key=json.dumps) for name, found in out.items()}

    def all_ended(self, count: int) -> bool:
        runs = self.runs()
        return len(runs) == count and all(run["status"] not in ("RUNNING", "QUEUED")
                                          for run in runs)


def normalized(status: str, text: str | None) -> typing.Any:
    """The output without a failure's traceback (its module paths name the package)."""
    output = None if text is None else json.loads(text)
    if status == "FAILED" and isinstance(output, dict):
        output.pop("stack", None)
    return output


def drive(deployment: Deployment) -> dict[str, list[tuple[str, typing.Any]]]:
    deployment.sync()
    deployment.send("diff/steps", {"name": "Ada"})
    deployment.send("diff/sleep", {})
    deployment.send("diff/wait", {"key": "matched", "timeout": 30})
    deployment.send("diff/wait", {"key": "unmatched", "timeout": 1})
    deployment.send("diff/invoke", {"n": 21})
    deployment.send("diff/parallel", {})
    deployment.send("diff/flaky", {})
    deployment.send("diff/doomed", {})
    expected_runs = sum(len(found) for found in EXPECTED.values())

    def settled() -> bool:
        # A pause only sees events sent after it was created, so keep resuming until it ends.
        deployment.send("diff/resume", {"key": "matched", "value": 42})
        return deployment.all_ended(expected_runs)

    wait_until(settled, 60, "not every run ended")
    return deployment.outcomes()


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_app_reaches_expected_outputs(implementation: str, tmp_path: pathlib.Path) -> None:
    if implementation == "official" and not official_sdk_installed():
        pytest.skip("the official inngest package is not installed (tox -e official)")
    processes = Processes(tmp_path)
    try:
        outcomes = drive(Deployment(implementation, processes))
    except AssertionError:
        print(processes.logs())
        raise
    finally:
        processes.stop()
    RESULTS[implementation] = outcomes
    assert outcomes == EXPECTED


def test_both_implementations_agree() -> None:
    missing = [name for name in IMPLEMENTATIONS if name not in RESULTS]
    if missing:
        pytest.skip(f"no results for {', '.join(missing)}")
    assert RESULTS["official"] == RESULTS["ours"]
