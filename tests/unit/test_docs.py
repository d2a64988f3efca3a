"""README and docs/ stay true: every snippet marked runnable runs, and links work on PyPI.

Mark a ```python block by putting ``<!-- snippet: run -->`` (it must exit 0; code under
``if __name__ == "__main__":`` is skipped) or ``<!-- snippet: serve -->`` (run as a script
with ``port=8000`` swapped for a free port; it must answer as an Inngest endpoint) on the
line before it.

``<!-- snippet: file NAME -->`` before a ```python block writes it to ``NAME`` for the shell
snippets of the same page; ``<!-- snippet: sh -->`` before a ```sh block runs it with
``bash -euo pipefail`` in a temporary directory holding those files, with ``8288`` and
``8000`` swapped for free ports (in those files too) and ``inngest`` on PATH being the real
server (``DEV_SERVER_BIN``, an ``inngest`` on PATH, or npx with ``DEV_SERVER_NPX=1``; skipped
without one) with free ports for its other listeners. Whatever the block leaves running in
the background is stopped after it.
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import typing

import pytest
import urllib3

from inngest.experimental import dev_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SNIPPET = re.compile(
    r"^<!-- snippet: (run|serve|sh|file [\w.]+) -->\n```(?:python|sh)\n(.*?)^```$", re.M | re.S)
_SERVER_LISTENERS = (
    "--connect-gateway-port", "--connect-gateway-grpc-port", "--connect-executor-grpc-port")
# Runs each script named on its input in a child forked after importing inngest (what every
# snippet imports first), so that a snippet does not pay for an interpreter start; the child
# then runs the script as ``python -c "runpy.run_path(script)"`` would, exits the same way
# (waiting for its threads), and the runner prints its exit code.
_RUNNER = """
import os, runpy, sys
import inngest
for line in sys.stdin:
    script = line.rstrip("\\n")
    child = os.fork()
    if child == 0:
        break
    print(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]), flush=True)
else:
    sys.exit(0)
directory = os.path.dirname(script)
os.chdir(directory)
for fd, name in ((0, os.devnull), (1, os.path.join(directory, "stdout"))
                 , (2, os.path.join(directory, "stderr"))):
    os.dup2(os.open(name, os.O_RDWR | os.O_CREAT), fd)
sys.argv = ["-c", script]
runpy.run_path(script, run_name="snippet")
"""


class Snippet(typing.NamedTuple):
    mode: str
    code: str
    where: str


def snippets() -> list[Snippet]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _SNIPPET.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(match[1], match[2], f"{path.relative_to(ROOT)}:{line}"))
    return found


def test_the_readme_marks_its_snippets() -> None:
    readme = [s for s in snippets() if s.where.startswith("README.md")]
    assert {s.mode for s in readme} == {"run", "serve"} and len(readme) >= 3


@pytest.fixture(scope="module")
def runner() -> typing.Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-c", _RUNNER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    yield process
    process.communicate(timeout=10)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("snippet", [s for s in snippets() if s.mode == "run"],
                         ids=lambda s: s.where)
def test_snippet_runs(snippet: Snippet, tmp_path: pathlib.Path,
                      runner: subprocess.Popen[str]) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    assert runner.stdin is not None and runner.stdout is not None
    runner.stdin.write(f"{script}\n")
    runner.stdin.flush()
    answer = runner.stdout.readline()
    assert answer, f"the snippet runner exited (code {runner.wait(10)})"
    exit_code = int(answer)
    stderr = (tmp_path / "stderr").read_text()
    assert exit_code == 0, f"{snippet.where} failed:\n{stderr}"


@pytest.mark.parametrize("snippet", [s for s in snippets() if s.mode == "serve"],
                         ids=lambda s: s.where)
def test_snippet_serves(snippet: Snippet, tmp_path: pathlib.Path) -> None:
    assert "port=8000" in snippet.code, f"{snippet.where}: serve snippets use port=8000"
    port = dev_server.free_port()
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code.replace("port=8000", f"port={port}"), encoding="utf-8")
    # A parent that ignores SIGINT (a background job in a script) passes that on, and
    # Python then never raises KeyboardInterrupt: give the snippet the default handling.
    process = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        response = _first_answer(f"http://127.0.0.1:{port}/api/inngest", process)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert response.status == 200 and "x-inngest-sdk" in response.headers, stderr
    assert process.returncode == 0, f"{snippet.where} did not stop cleanly:\n{stderr}"


def _first_answer(url: str, process: subprocess.Popen[str]) -> urllib3.BaseHTTPResponse:
    deadline = time.monotonic() + 30
    while True:
        try:
            return urllib3.PoolManager().request("GET", url, retries=False)
        except urllib3.exceptions.HTTPError:
            assert process.poll() is None, "the snippet exited instead of serving"
            assert time.monotonic() < deadline, "the snippet never answered"
            time.sleep(0.05)


@pytest.mark.parametrize("path", [ROOT / "README.md"], ids=lambda p: p.name)
def test_links_are_absolute_so_they_work_on_pypi(path: pathlib.Path) -> None:
    targets = re.findall(r"\]\(([^)]+)\)", path.read_text(encoding="utf-8"))
    assert targets and all(t.startswith("https://") for t in targets), targets


def _server_command() -> list[str] | None:
    binary = os.environ.get("DEV_SERVER_BIN") or shutil.which("inngest")
    if binary is not None:
        return [binary]
    if os.environ.get("DEV_SERVER_NPX") == "1":
        version = os.environ.get("DEV_SERVER_VERSION") or "latest"
        return ["npx", "--ignore-scripts=false", "--yes", f"inngest-cli@{version}"]
    return None


def _fake_inngest_on_path(directory: pathlib.Path, command: list[str]) -> None:
    """An ``inngest`` that runs the real one, giving its other listeners free ports."""
    directory.mkdir()
    listeners = " ".join(f"{flag} {port}" for flag, port
                         in zip(_SERVER_LISTENERS, dev_server.free_ports(len(_SERVER_LISTENERS))))
    real = shlex.join(command)
    script = directory / "inngest"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = start ] || [ "$1" = dev ]; then exec {real} "$@" {listeners}; fi\n'
        f'exec {real} "$@"\n'
    )
    script.chmod(0o755)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("snippet", [s for s in snippets() if s.mode == "sh"],
                         ids=lambda s: s.where)
def test_shell_snippet_runs(snippet: Snippet, tmp_path: pathlib.Path) -> None:
    command = _server_command()
    if command is None:
        pytest.skip("shell snippets run the real Inngest server: set DEV_SERVER_BIN "
                    "(tox -e itest-prod does) or DEV_SERVER_NPX=1")
    ports = dict(zip(("8288", "8000"), map(str, dev_server.free_ports(2))))

    def with_free_ports(code: str) -> str:
        for port, free in ports.items():
            code = code.replace(port, free)
        return code

    page = snippet.where.split(":")[0]
    for other in snippets():
        if other.where.split(":")[0] == page and other.mode.startswith("file "):
            name = other.mode.split(" ", 1)[1]
            (tmp_path / name).write_text(with_free_ports(other.code), encoding="utf-8")
    _fake_inngest_on_path(tmp_path / "bin", command)
    code = with_free_ports(snippet.code)
    env = {name: value for name, value in os.environ.items() if not name.startswith("INNGEST_")}
    env["PATH"] = os.pathsep.join(
        [str(tmp_path / "bin"), os.path.dirname(sys.executable), env.get("PATH", "")])
    log = tmp_path / "output.log"
    with log.open("wb") as output:  # a file: what runs in the background keeps a pipe open
        process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path,
                                   env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=60)
        finally:
            _stop_group(process.pid)
    assert process.returncode == 0, f"{snippet.where} failed:\n{log.read_text()}"


def _stop_group(pgid: int) -> None:
    """Stop what a shell snippet left running in the background (a server, an app)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
