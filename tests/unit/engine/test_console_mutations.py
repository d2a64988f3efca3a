"""The GraphQL mutations the console uses: ``rerun``, ``createApp`` and ``deleteApp``."""

from __future__ import annotations

import socket
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, wait
from test_graphql import data, gql

from inngest._engine.http.server import DevServer

LOOPBACK = True
RERUN = "mutation Rerun($id: ULID!) { rerun(runID: $id) }"
CREATE = "mutation Add($url: String!) { createApp(input: {url: $url}) { id name url error } }"
DELETE = "mutation Remove($id: String!) { deleteApp(id: $id) }"
APPS = "{ apps { id name url error functionCount } }"
RUNS = "query Runs($id: ID!) { event(query: {eventId: $id}) { functionRuns { id status output } } }"


def ended_runs(client: Client, event_id: str, count: int) -> list[dict[str, typing.Any]]:
    def probe() -> list[dict[str, typing.Any]] | None:
        runs = data(client, RUNS, id=event_id)["event"]["functionRuns"] or []
        done = [run for run in runs if run["status"] not in ("QUEUED", "RUNNING")]
        return done if len(done) == count else None

    return wait(probe)


def test_rerun_starts_a_new_run_from_the_same_event(client: Client, app: FakeApp) -> None:
    seen: list[object] = []

    def handler(call: Call) -> Reply:
        seen.append(call.body["event"]["data"])
        return ok(len(seen))

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn", "data": {"x": 1}})
    [first] = ended_runs(client, event_id, 1)
    second = data(client, RERUN, id=first["id"])["rerun"]
    assert second != first["id"]
    runs = {run["id"]: run for run in ended_runs(client, event_id, 2)}
    assert set(runs) == {first["id"], second}
    assert (runs[first["id"]]["output"], runs[second]["output"]) == ("1", "2")
    assert seen == [{"x": 1}, {"x": 1}]


def test_rerun_of_an_unknown_run_is_an_error(client: Client) -> None:
    body = gql(client, RERUN, id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert body["errors"][0]["message"] == "run not found"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.sockets
def test_an_app_added_at_a_dead_url_is_listed_with_the_reason(client: Client) -> None:
    port = _closed_port()
    body = gql(client, CREATE, url=f"127.0.0.1:{port}/api/inngest")
    # The reason is the mutation's error, which nulls `data` (createApp is non-null).
    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == ["unreachable"]
    [added] = data(client, APPS)["apps"]
    assert added["url"] == f"http://localhost:{port}/api/inngest"
    assert added["error"] == "unreachable" and added["functionCount"] == 0
    assert data(client, DELETE, id=added["id"])["deleteApp"] == added["id"]
    assert data(client, APPS)["apps"] == []
    # Archived, as on the dev server: removing it again answers its id again.
    assert data(client, DELETE, id=added["id"])["deleteApp"] == added["id"]


@pytest.mark.sockets
@pytest.mark.parametrize("url, message", [
    ("http://[::1", "invalid URL 'http://[::1': the host cannot be parsed"),
    ("::::", "invalid URL 'http://::::': the port is not a number"),
])
def test_adding_an_app_at_a_url_that_does_not_parse_is_a_graphql_error(
    client: Client, url: str, message: str
) -> None:
    body = gql(client, CREATE, url=url)
    assert body["data"] is None  # createApp is non-null: its error nulls `data` (measured)
    assert [error["message"] for error in body["errors"]] == [message]
    assert data(client, APPS)["apps"] == []


@pytest.mark.sockets
def test_an_app_at_a_port_out_of_range_is_listed_as_unreachable(client: Client) -> None:
    body = gql(client, CREATE, url="http://127.0.0.1:99999999/x")
    assert [error["message"] for error in body["errors"]] == ["unreachable"]
    [added] = data(client, APPS)["apps"]
    assert added["url"] == "http://localhost:99999999/x" and added["error"] == "unreachable"


@pytest.mark.sockets
def test_adding_an_app_syncs_it_now(client: Client, app: FakeApp, dev: DevServer) -> None:
    def sync(call: Call) -> Reply:
        # What an SDK does on the engine's PUT: register its functions.
        status, body = client.register(app, [app.function("fn")])
        return status, {}, body

    app.handlers[""] = sync
    added = data(client, CREATE, url=app.url)["createApp"]
    assert added["error"] is None and added["name"] == "app"
    [listed] = data(client, APPS)["apps"]
    assert listed["functionCount"] == 1 and listed["error"] is None


@pytest.mark.sockets
def test_adding_an_app_that_syncs_no_functions_lists_it_with_the_reason(
    client: Client, app: FakeApp
) -> None:
    """Measured: the sync is accepted, so the mutation answers the app, whose error says
    it has no functions."""
    def sync(call: Call) -> Reply:
        status, body = client.register(app, [])
        return status, {}, body

    app.handlers[""] = sync
    added = data(client, CREATE, url=app.url)["createApp"]
    assert added["error"] == "No functions registered within your app"
    [listed] = data(client, APPS)["apps"]
    assert listed["functionCount"] == 0 and listed["name"] == "app"
    assert listed["error"] == "No functions registered within your app"


@pytest.mark.sockets
@pytest.mark.parametrize("message, reason", [
    ("No functions registered within your app", "no_functions"),
    ("function is invalid: x", "invalid_function"),
    ("Your signing key is invalid", "invalid_signing_key"),
    ("Something else", "Something else"),
])
def test_an_sdk_refusing_the_sync_gives_the_dev_servers_reason(
    client: Client, app: FakeApp, message: str, reason: str
) -> None:
    """An SDK's 400 answer to the sync request: its message, or the dev server's code for
    the messages it knows (measured for no functions)."""
    app.handlers[""] = lambda call: (400, {}, {"message": message})
    body = gql(client, CREATE, url=app.url)
    assert [error["message"] for error in body["errors"]] == [reason]
    assert [listed["error"] for listed in data(client, APPS)["apps"]] == [reason]


def test_rerun_of_a_removed_function_is_an_error(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    [run] = ended_runs(client, event_id, 1)
    client.register(app, [])
    body = gql(client, RERUN, id=run["id"])
    assert body["errors"][0]["message"] == "the run's function or triggering events are gone"
    assert len(ended_runs(client, event_id, 1)) == 1
