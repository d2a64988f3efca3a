"""Cases driven by a raw app: an HTTP server answering each call with canned protocol
replies no SDK would send on its own, synced by each case to its server (in a phase after
the crowd: the apps and functions cases would see it). They register into ``cases.CASES``.

A step reported again after its result was saved (an SDK retrying a request whose reply was
acted on, an app answering from older state): measured, the dev server keeps the saved
result and counts the repeated op's metadata again, and when the reply reports nothing
else the run waits for good (the next call's job id is the one of the call answered, so its
queue drops it); ours asks the app again (docs/compatibility.md, Engine, "A step reported
again").
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import typing

from cases import CASES, HISTORY_OUTPUT, Answer, Case, Side, attempt, ids, inspect
from probe import Probe, wait_for

COUNTED = [{"kind": "userland.counter", "scope": "run", "op": "add", "values": {"n": 1}}]
STEP_REPLIES = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  history { id type stepName } } }"""
RUN_METADATA = """query($id: String!) { runTrace(runID: $id) {
  metadata { kind scope values } } }"""
# How long a run that should go on is given to make its next call.
NEXT_CALL_SECONDS = 5.0
Reply = typing.Tuple[int, object]
# A function's answer to the run's call number ``n`` (0 first), given the results sent.
Script = typing.Callable[[int, typing.Dict[str, object]], Reply]


def step_run(step_id: str, data: str) -> dict[str, object]:
    return {"op": "StepRun", "id": step_id, "name": step_id, "displayName": step_id,
            "data": data, "metadata": COUNTED}


# A step's metadata sent by an app whose ops carry no ``userland`` (the step's id as the
# function gave it): the op's id is the hashed one, its display name the step's name.
HASHED_ID = "c2f3a1d6e8b94f0a7d1c3e5b2a4f6d8e0c1b3a5f"
STEP_SCOPED = [{"kind": "userland.step", "scope": "step", "op": "merge", "values": {"k": "v"}}]
STEP_METADATA = """query($id: String!) { runTrace(runID: $id) { metadata { kind scope values }
  childrenSpans { name stepID metadata { kind scope values } } }
  run(runID: $id) { trace(preview: true) { metadata { kind scope values }
    childrenSpans { name stepID metadata { kind scope values } } } } }"""


def step_metadata(n: int, steps: dict[str, object]) -> Reply:
    """One step reported with step-scoped metadata and no ``userland``, then the results."""
    if n == 0:
        return 206, [{"op": "StepRun", "id": HASHED_ID, "name": "step one",
                      "displayName": "step one", "data": "one", "metadata": STEP_SCOPED}]
    return 200, steps


def repeat_alone(n: int, steps: dict[str, object]) -> Reply:
    """Step A, then A again (another value), then the results sent."""
    if n < 2:
        return 206, [step_run("A", ("first", "second")[n])]
    return 200, steps


def repeat_beside(n: int, steps: dict[str, object]) -> Reply:
    """Step A, then A again beside a new step B, then the results sent."""
    if n < 2:
        return 206, [step_run("A", "first")] if n == 0 else \
            [step_run("A", "second"), step_run("B", "b")]
    return 200, steps


def send_reply(handler: http.server.BaseHTTPRequestHandler, status: int, data: bytes, *,
               request_version: bool = True) -> None:
    """Answer ``handler``'s request with ``data`` (JSON) as a raw SDK answers: its
    ``x-inngest-sdk`` header and, with ``request_version``, ``x-inngest-req-version``."""
    handler.send_response(status)
    headers = [("content-type", "application/json"), ("x-inngest-sdk", "raw:v0.0.1")]
    if request_version:
        headers.append(("x-inngest-req-version", "1"))
    for name, value in (*headers, ("content-length", str(len(data)))):
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class RawApp:
    """A raw app of one function on a free port, each call answered by ``script``; the ids
    of the step results each call was sent are kept, per run. Each case syncs its own app:
    cases run at once, and a sync of one app at another URL would move all its functions."""

    def __init__(self, fn_id: str, script: Script) -> None:
        self.fn_id = fn_id
        self.script = script
        self.calls: dict[str, list[list[str]]] = {}
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/inngest"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                status, reply = app.answer(body)
                send_reply(self, status, json.dumps(reply).encode())

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def answer(self, body: dict[str, typing.Any]) -> Reply:
        run_id, steps = body["ctx"]["run_id"], dict(body.get("steps") or {})
        with self._lock:
            calls = self.calls.setdefault(run_id, [])
            calls.append(sorted(steps))
            n = len(calls) - 1
        return self.script(n, steps)

    def sync(self, probe: Probe) -> None:
        url = f"{self.url}?fnId={self.fn_id}&stepId=step"
        function = {"id": self.fn_id, "name": self.fn_id,
                    "triggers": [{"event": f"raw/{self.fn_id}"}],
                    "steps": {"step": {"id": "step", "name": "step",
                                       "runtime": {"type": "http", "url": url}}}}
        status, answer = probe.request("POST", "/fn/register", {
            "url": self.url, "v": "0.1", "deployType": "ping", "sdk": "raw:v0.0.1",
            "framework": "raw", "appName": f"diff-raw-{self.fn_id}", "functions": [function]})
        assert status == 200, f"{probe.name}: syncing the raw app answered {status}: {answer}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _started(side: Side, app: RawApp) -> tuple[str, str]:
    app.sync(side.probe)
    event_id = side.probe.send(f"raw/{app.fn_id}", {})
    return event_id, side.probe.run_ids(event_id)[0]


def _run_counter(probe: Probe, run_id: str) -> object:
    entries = probe.data(RUN_METADATA, id=run_id)["runTrace"]["metadata"]
    return [entry for entry in entries if entry["kind"] == "userland.counter"]


def _replies_for_a(probe: Probe, run_id: str) -> object:
    """The outputs of the history's replies reporting step A, once there are two (sorted:
    the dev server's list order is not reliable)."""
    history = probe.data(STEP_REPLIES, id=run_id)["functionRun"]["history"]
    replies = [item for item in history
               if item["type"] == "StepCompleted" and item["stepName"] == "A"]
    assert len(replies) == 2, f"{probe.name}: {len(replies)} replies for A"
    return sorted(probe.data(HISTORY_OUTPUT, id=item["id"], run=run_id)["functionRun"][
        "historyItemOutput"] for item in replies)


def _repeat_alone(side: Side) -> Answer:
    """A reply reporting only a saved step again: what the history shows of the two
    replies, the counter their metadata adds to, then whether the run went on."""
    app = RawApp("repeat-alone", repeat_alone)
    try:
        event_id, run_id = _started(side, app)
        probe = side.probe
        answer: Answer = {"replies": attempt(lambda: wait_for(
            lambda: _replies_for_a(probe, run_id), 20))}
        answer["run_counter"] = attempt(lambda: _run_counter(probe, run_id))
        deadline = time.monotonic() + NEXT_CALL_SECONDS
        while len(app.calls.get(run_id, [])) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        answer["went_on"] = {"calls": app.calls.get(run_id), "status": probe.run(run_id)}
    finally:
        app.stop()
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


def _repeat_beside(side: Side) -> Answer:
    """A saved step reported again beside a new one: the run goes on by the new one's
    result, once, keeping A's first value; the repeated op's metadata counts again."""
    app = RawApp("repeat-beside", repeat_beside)
    try:
        event_id, run_id = _started(side, app)
        answer = inspect(side, run_id, ("run", "history"), event_id)
        answer["run_counter"] = attempt(lambda: _run_counter(side.probe, run_id))
        answer["calls"] = app.calls.get(run_id)
    finally:
        app.stop()
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


def _userland_only(span: dict[str, typing.Any]) -> list[object]:
    """A span's ``userland.*`` metadata (the others are the call's timings)."""
    return [entry for entry in span.get("metadata") or []
            if str(entry["kind"]).startswith("userland.")]


def _metadata_by_span(trace: dict[str, typing.Any]) -> object:
    return {"run": _userland_only(trace),
            "steps": sorted([span["name"], span["stepID"], _userland_only(span)]
                            for span in trace.get("childrenSpans") or [])}


def _step_metadata(side: Side) -> Answer:
    """Step-scoped metadata of an op without ``userland``: on which span the trace shows it
    (``runTrace`` and the run page's preview trace)."""
    app = RawApp("step-metadata", step_metadata)
    try:
        event_id, run_id = _started(side, app)
        answer = inspect(side, run_id, ("run",), event_id)
        traces = side.probe.data(STEP_METADATA, id=run_id)
        answer["trace"] = _metadata_by_span(traces["runTrace"])
        answer["preview"] = _metadata_by_span(traces["run"]["trace"])
    finally:
        app.stop()
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


CASES["raw_step_metadata"] = Case(
    _step_metadata, ("run", "trace", "preview"), phase=1)
CASES["raw_repeat_alone"] = Case(
    _repeat_alone, ("replies", "run_counter", "went_on"), phase=1)
CASES["raw_repeat_beside"] = Case(
    _repeat_beside, ("run", "history", "run_counter", "calls"), phase=1)
