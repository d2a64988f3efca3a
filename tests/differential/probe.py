"""What a user or a tool sees of one server: events sent, GraphQL and REST answers."""

from __future__ import annotations

import json
import time
import typing

import urllib3

_HTTP = urllib3.PoolManager(retries=False, maxsize=32)
POLL_SECONDS = 0.2
T = typing.TypeVar("T")


class Probe:
    """Talks to one server at ``origin``; ``name`` is ``real`` or ``ours``."""

    def __init__(self, name: str, origin: str) -> None:
        self.name = name
        self.origin = origin

    def request(self, method: str, path: str, body: object = None) -> tuple[int, typing.Any]:
        data = None if body is None else json.dumps(body).encode()
        response = _HTTP.request(
            method, self.origin + path, body=data, timeout=30.0,
            headers={"content-type": "application/json"},
        )
        try:
            return response.status, json.loads(response.data)
        except ValueError:
            return response.status, response.data.decode(errors="replace")

    def raw(self, method: str, path: str, body: bytes | None) -> tuple[int, typing.Any]:
        """Send ``body`` as it is (for malformed requests); answer the status and JSON body."""
        response = _HTTP.request(method, self.origin + path, body=body, timeout=30.0,
                                 headers={"content-type": "application/json"})
        try:
            return response.status, json.loads(response.data)
        except ValueError:
            return response.status, None

    def exchange(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request as given; the answer's status, headers (lower-cased) and bytes."""
        response = _HTTP.request(method, self.origin + path, body=body, timeout=30.0,
                                 headers=headers or {})
        return (response.status, {key.lower(): value for key, value in response.headers.items()},
                response.data)

    def send(self, name: str, data: dict[str, typing.Any], **fields: object) -> str:
        """Send one event; return its id."""
        status, answer = self.request("POST", "/e/test", [{"name": name, "data": data, **fields}])
        assert status == 200, f"{self.name}: sending {name} answered {status}: {answer}"
        return str(answer["ids"][0])

    def gql(self, query: str, **variables: object) -> dict[str, typing.Any]:
        status, answer = self.request("POST", "/v0/gql", {"query": query, "variables": variables})
        assert status == 200, f"{self.name}: GraphQL answered {status}: {answer}"
        return typing.cast("dict[str, typing.Any]", answer)

    def data(self, query: str, **variables: object) -> dict[str, typing.Any]:
        answer = self.gql(query, **variables)
        assert not answer.get("errors"), f"{self.name}: GraphQL errors {answer['errors']}"
        return typing.cast("dict[str, typing.Any]", answer["data"])

    def run_ids(self, event_id: str, count: int = 1, timeout: float = 20) -> list[str]:
        """Ids of the runs ``event_id`` started, once there are ``count``; oldest first."""

        def found() -> list[str]:
            event = self.data(_EVENT_RUNS, id=event_id)["event"]
            runs = (event or {}).get("functionRuns") or []
            assert len(runs) >= count, f"{self.name}: {len(runs)} runs of {event_id}"
            return sorted(str(run["id"]) for run in runs)

        return wait_for(found, timeout)

    def run(self, run_id: str) -> dict[str, typing.Any]:
        return typing.cast("dict[str, typing.Any]", self.data(_RUN, id=run_id)["run"])

    def ended_run(self, run_id: str, timeout: float = 30) -> dict[str, typing.Any]:
        """``run { status output }`` once the run has ended."""

        def ended() -> dict[str, typing.Any]:
            run = self.run(run_id)
            assert run and run["status"] not in ("RUNNING", "QUEUED", "WAITING"), (
                f"{self.name}: run {run_id} is {run and run['status']}"
            )
            return run

        return wait_for(ended, timeout)

    def run_of(self, event_id: str, timeout: float = 30) -> dict[str, typing.Any]:
        """The one run ``event_id`` started, once it has ended."""
        return self.ended_run(self.run_ids(event_id, timeout=timeout)[0], timeout)


_EVENT_RUNS = "query($id: ID!) { event(query: {eventId: $id}) { functionRuns { id } } }"
_RUN = "query($id: String!) { run(runID: $id) { status output } }"


def wait_for(check: typing.Callable[[], T], timeout: float = 20) -> T:
    """Call ``check`` until it stops failing an assertion; the last failure propagates."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(POLL_SECONDS)
