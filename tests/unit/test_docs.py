"""README and docs/ stay true: every snippet marked runnable runs, and links work on PyPI.

Mark a ```python block by putting ``<!-- snippet: run -->`` (it must exit 0; code under
``if __name__ == "__main__":`` is skipped) or ``<!-- snippet: serve -->`` (run as a script
with ``port=8000`` swapped for a free port; it must answer as an Inngest endpoint) on the
line before it.
"""

from __future__ import annotations

import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import typing

import pytest
import urllib3

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_SNIPPET = re.compile(r"^<!-- snippet: (run|serve) -->\n```python\n(.*?)^```$", re.M | re.S)
_RUN_AS_MODULE = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='snippet')"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_readme_marks_its_snippets() -> None:
    readme = [s for s in snippets() if s.where.startswith("README.md")]
    assert {s.mode for s in readme} == {"run", "serve"} and len(readme) >= 3


@pytest.mark.parametrize("snippet", [s for s in snippets() if s.mode == "run"],
                         ids=lambda s: s.where)
def test_snippet_runs(snippet: Snippet, tmp_path: pathlib.Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code, encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", _RUN_AS_MODULE, str(script)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{snippet.where} failed:\n{result.stderr}"


@pytest.mark.parametrize("snippet", [s for s in snippets() if s.mode == "serve"],
                         ids=lambda s: s.where)
def test_snippet_serves(snippet: Snippet, tmp_path: pathlib.Path) -> None:
    assert "port=8000" in snippet.code, f"{snippet.where}: serve snippets use port=8000"
    port = free_port()
    script = tmp_path / "snippet.py"
    script.write_text(snippet.code.replace("port=8000", f"port={port}"), encoding="utf-8")
    process = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                               stderr=subprocess.PIPE, text=True)
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
