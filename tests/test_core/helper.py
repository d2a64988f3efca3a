"""Run inspection through GraphQL, and app registration with the dev server."""

from __future__ import annotations

import dataclasses
import enum
import json
import time
import typing

import urllib3

from inngest.experimental import dev_server
from test_core import gql

POLL_SECONDS = 0.2
_HTTP = urllib3.PoolManager(retries=False)


class RunStatus(str, enum.Enum):
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    RUNNING = "RUNNING"

    @property
    def ended(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclasses.dataclass(frozen=True)
class Run:
    event: dict[str, typing.Any] | None
    id: str
    output: typing.Any
    status: str
    # False while the server has not stored the output (GraphQL null, not the JSON "null").
    has_output: bool = True


_GET_RUN = """
query GetRun($run_id: String!) {
  run(runID: $run_id) { output status }
  runTrigger(runID: $run_id) { payloads }
}
"""
_GET_TRACE = """
query GetHistory($run_id: String!) {
  run(runID: $run_id) { trace { childrenSpans { name outputID } } }
}
"""
_GET_OUTPUT = """
query GetHistory($output_id: String!) {
  runTraceSpanOutputByID(outputID: $output_id) { data error { message name stack } }
}
"""
_EVENT = """
query GetEvent($event_id: ID!) {
  event(query: {eventId: $event_id}) { id }
}
"""

_RUNS_FROM_EVENT = """
query GetRunFromEventID($event_id: ID!) {
  event(query: {eventId: $event_id}) { functionRuns { id } }
}
"""


def origin() -> str:
    return f"http://127.0.0.1:{dev_server.server.port}"


# Set by conftest when a second `inngest start` shares the first one's Redis and Postgres:
# apps then send their events to it.
event_server: dev_server._Server | None = None


def event_origin() -> str:
    port = event_server.port if event_server is not None else dev_server.server.port
    return f"http://127.0.0.1:{port}"


class Client:
    """Reads runs, triggers and step outputs from the server's GraphQL API (the session's
    server unless ``server_origin`` says otherwise)."""

    def __init__(self, server_origin: typing.Callable[[], str] = origin) -> None:
        self.gql = gql.Client(lambda: server_origin() + "/v0/gql")

    def get_run(self, run_id: str) -> Run:
        data = self.gql.query(_GET_RUN, {"run_id": run_id})
        run = data["run"]
        payloads = data["runTrigger"]["payloads"]
        output = run.get("output")
        return Run(
            event=json.loads(payloads[0]) if payloads else None,
            id=run_id,
            output=None if output is None else json.loads(output),
            status=run["status"],
            has_output=output is not None,
        )

    def wait_for_run_status(
        self, run_id: str, expected: RunStatus, *, timeout: float = 20
    ) -> Run:
        """Poll until the run has ``expected`` status; fail at once if it ended otherwise."""
        deadline = time.monotonic() + timeout
        with_output = expected in (RunStatus.COMPLETED, RunStatus.FAILED)
        last: Run | None = None
        while time.monotonic() < deadline:
            try:
                last = self.get_run(run_id)
            except gql.GraphQLError:
                last = None  # the run may not exist yet
            if last is not None:
                # The real server shows a run's end a moment before the run's output.
                if last.status == expected.value and (last.has_output or not with_output):
                    return last
                if last.status in _ENDED and last.status != expected.value:
                    raise AssertionError(
                        f"run {run_id} ended with status {last.status}, expected "
                        f"{expected.value}; output: {last.output!r}"
                    )
            time.sleep(POLL_SECONDS)
        status = last.status if last else "unknown"
        raise AssertionError(
            f"timed out waiting for run {run_id} status: expected {expected.value}, "
            f"last seen {status}"
        )

    def event_stored(self, event_id: str, *, timeout: float = 1) -> bool:
        """Whether the server has stored the event within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.gql.query(_EVENT, {"event_id": event_id})["event"]:
                    return True
            except gql.GraphQLError:
                pass
            time.sleep(POLL_SECONDS)
        return False

    def get_run_ids_from_event_id(
        self, event_id: str, *, run_count: int = 1, timeout: float = 5
    ) -> list[str]:
        deadline = time.monotonic() + timeout
        ids: list[str] = []
        while time.monotonic() < deadline:
            try:
                data = self.gql.query(_RUNS_FROM_EVENT, {"event_id": event_id})
                ids = [run["id"] for run in (data["event"] or {}).get("functionRuns") or []]
            except gql.GraphQLError:
                ids = []
            if len(ids) >= run_count:
                return ids
            time.sleep(POLL_SECONDS)
        raise AssertionError(
            f"timed out waiting for {run_count} runs of event {event_id}; found {len(ids)}"
        )

    def get_step_output(
        self, *, run_id: str, step_id: str, index: int | None = None, timeout: float = 5
    ) -> dict[str, typing.Any]:
        """``{"data": value}`` or ``{"error": {...}}`` of the step span named ``step_id``.

        ``index`` picks among spans with the same name (0 is the first). The real server
        writes a run's trace after its status: a step span can still be named ``execute``
        when the run reads Completed, so the span is waited for.
        """
        position = index or 0
        deadline = time.monotonic() + timeout
        while True:
            trace = self.gql.query(_GET_TRACE, {"run_id": run_id})["run"]["trace"]
            spans = trace["childrenSpans"]
            matching = [span for span in spans if span["name"] == step_id]
            if len(matching) > position:
                break
            if time.monotonic() >= deadline:
                names = [span["name"] for span in spans]
                raise AssertionError(
                    f"no span {step_id!r} (index {index}) in run {run_id}: {names}"
                )
            time.sleep(POLL_SECONDS)
        output_id = matching[position]["outputID"]
        if output_id is None:
            raise AssertionError(f"span {step_id!r} of run {run_id} has no output")
        output = self.gql.query(_GET_OUTPUT, {"output_id": output_id})["runTraceSpanOutputByID"]
        if output["error"] is not None:
            return {"error": output["error"]}
        return {"data": json.loads(output["data"]) if output["data"] is not None else None}


_ENDED = {status.value for status in RunStatus if status.ended}

client = Client()


def register(app_port: int, path: str = "/api/inngest", *, timeout: float = 5) -> None:
    """Sync an app out-of-band: PUT its serve URL until it answers 200."""
    url = f"http://127.0.0.1:{app_port}{path}"
    deadline = time.monotonic() + timeout
    last = "no response"
    while time.monotonic() < deadline:
        try:
            response = _HTTP.request("PUT", url, timeout=10.0)
        except urllib3.exceptions.HTTPError as err:
            last = str(err)
        else:
            if response.status == 200:
                return
            last = f"{response.status}: {response.data!r}"
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"registering {url} failed: {last}")
