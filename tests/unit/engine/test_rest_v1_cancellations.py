"""REST v1 routes the dev server serves beside runs and events: bulk cancellations
(``/v1/cancellations``), an app's functions (``/v1/apps/{name}/functions``) and the metrics
stub (``/v1/prom/{env}``). Answers are the dev server's where it gives one (measured); a valid
bulk cancellation, which makes it fail with an empty 500, is applied here (see
docs/compatibility.md)."""

from __future__ import annotations

import datetime
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops

from inngest._engine.clock import ManualClock

LOOPBACK = True
Body = dict[str, typing.Any]


def waits(call: Call) -> Reply:
    """Waits an hour for an event nobody sends."""
    if call.body["steps"]:
        return ok("matched")
    return ops(op("WaitForEvent", "wait", opts={"event": "test/never", "timeout": "1h"}))


def naps(call: Call) -> Reply:
    """Sleeps an hour: the run stays unfinished until the clock moves."""
    return ok("woke") if call.body["steps"] else ops(op("Sleep", "nap", opts={"duration": "1h"}))


def at(clock: ManualClock, seconds: float = 0) -> str:
    moment = clock.now_ms() / 1000 + seconds
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).isoformat()


def sleeping(client: Client, name: str, **data: object) -> str:
    [event_id] = client.send({"name": name, "data": data})
    return str(client.wait_for_run(event_id, "Running")["run_id"])


def status(client: Client, run_id: str) -> str:
    return str(client.request("GET", f"/v1/runs/{run_id}")[1]["data"]["status"])


def cancel(client: Client, **body: object) -> tuple[int, Body]:
    return client.request("POST", "/v1/cancellations", body)


@pytest.fixture
def synced(manual: Client, app: FakeApp) -> Client:
    manual.register(app, [app.function("nap", handler=naps),
                          app.function("other", handler=naps),
                          app.function("wait", handler=waits)])
    return manual


def test_a_bulk_cancellation_cancels_the_functions_unfinished_runs(
    synced: Client, clock: ManualClock
) -> None:
    first, second = sleeping(synced, "test/nap"), sleeping(synced, "test/nap")
    other = sleeping(synced, "test/other")
    code, body = cancel(synced, app_id="app", function_id="app-nap", started_before=at(clock))
    assert code == 200, body
    record = body["data"]
    assert list(record) == [
        "created_at", "name", "id", "account_id", "environment_id", "app_id",
        "function_internal_id", "function_id", "started_after", "started_before", "kind",
        "cause", "queue_name"]
    assert (record["function_id"], record["kind"], record["cause"]) == (
        "app-nap", "bulk_run", "API")
    assert record["started_after"] is None and record["name"] is None
    synced.settle()
    assert [status(synced, run) for run in (first, second, other)] == [
        "Cancelled", "Cancelled", "Running"]
    # A run started after the window is not touched.
    clock.advance(60)
    later = sleeping(synced, "test/nap")
    synced.settle()
    assert status(synced, later) == "Running"


def test_a_run_waiting_for_an_event_is_cancelled_and_the_event_no_longer_resumes_it(
    synced: Client, clock: ManualClock
) -> None:
    run = sleeping(synced, "test/wait")
    code, body = cancel(synced, app_id="app", function_id="app-wait", started_before=at(clock))
    assert code == 200, body
    synced.send({"name": "test/never"})
    synced.settle()
    assert status(synced, run) == "Cancelled"


def test_only_runs_started_in_the_window_whose_event_matches_if_are_cancelled(
    synced: Client, clock: ManualClock
) -> None:
    early = sleeping(synced, "test/nap", key="a")
    clock.advance(60)
    matching = sleeping(synced, "test/nap", key="a")
    other_key = sleeping(synced, "test/nap", key="b")
    code, body = cancel(synced, app_id="app", function_id="app-nap",
                        started_after=at(clock, -30), started_before=at(clock),
                        **{"if": "event.data.key == 'a'"})
    assert code == 200, body
    assert body["data"]["if"] == "event.data.key == 'a'"
    synced.settle()
    assert [status(synced, run) for run in (early, matching, other_key)] == [
        "Running", "Cancelled", "Running"]


def test_the_function_is_found_by_its_slug_alone(synced: Client, clock: ManualClock) -> None:
    """As on the dev server, app_id must be given but does not pick the function."""
    run = sleeping(synced, "test/nap")
    code, body = cancel(synced, app_id="another app", function_id="app-nap",
                        started_before=at(clock))
    assert code == 200, body
    synced.settle()
    assert status(synced, run) == "Cancelled"


def test_cancellations_are_listed_and_deleted(synced: Client, clock: ManualClock) -> None:
    assert synced.request("GET", "/v1/cancellations")[1]["data"] == []
    created = cancel(synced, app_id="app", function_id="app-nap", started_before=at(clock))[1]
    listed = synced.request("GET", "/v1/cancellations")[1]["data"]
    assert listed == [created["data"]]
    path = f"/v1/cancellations/{created['data']['id']}"
    code, body = synced.request("DELETE", path)
    assert (code, body["data"]) == (200, {"ok": True})
    assert synced.request("GET", "/v1/cancellations")[1]["data"] == []
    code, body = synced.request("DELETE", path)
    assert (code, body["error"]) == (404, "Cancellation not found")
    code, body = synced.request("DELETE", "/v1/cancellations/xyz")
    assert (code, body["error"]) == (400, "Invalid cancellation ID")


@pytest.mark.parametrize(("body", "code", "error"), [
    (b"{}", 400, "app_id is required\nfunction_id is required\nstarted_before is required"),
    (b"null", 400, "app_id is required\nfunction_id is required\nstarted_before is required"),
    (b"", 400, "Invalid cancellation request"),
    (b"[]", 400, "Invalid cancellation request"),
    # Nesting past Python's recursion was a 500.
    (b"[" * 100_000 + b"]" * 100_000, 400, "Invalid cancellation request"),
    (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, 400, "Invalid cancellation request"),
    (b'{"app_id": 1}', 400, "Invalid cancellation request"),
    (b'{"app_id": "app", "function_id": "app-nap", "started_before": "yesterday"}', 400,
     "Invalid cancellation request"),
    (b'{"app_id": "app", "function_id": "app-nap", "started_before": "2026-01-01T00:01:00Z"}',
     400, "started_before must be in the past"),
    (b'{"app_id": "app", "function_id": "app-nap", "started_before": "2025-01-01T00:00:00Z",'
     b' "started_after": "2025-02-01T00:00:00Z"}', 400,
     "started_after must be before started_before"),
    (b'{"started_after": "2025-02-01T00:00:00Z"} trailing', 400,
     "app_id is required\nfunction_id is required\nstarted_before is required\n"
     "started_after must be before started_before"),
    (b'{"app_id": "app", "function_id": "nap", "started_before": "2025-01-01T00:00:00Z"}', 404,
     "function not found"),
    (b'{"app_id": "app", "function_id": "app-gone", "started_before": "2025-01-01T00:00:00Z"}',
     404, "function not found"),
])
def test_refused_cancellations_answer_as_the_dev_server(
    synced: Client, body: bytes, code: int, error: str
) -> None:
    answer = synced.request("POST", "/v1/cancellations", body)
    assert answer == (code, {"error": error, "data": None, "status": code,
                             "code": answer[1]["code"], "message": error})
    assert synced.request("GET", "/v1/cancellations")[1]["data"] == []


@pytest.mark.parametrize("expression", [
    "event.data.key ==",
    "\ud800",  # read as U+FFFD, as Go reads it (the error quoting it could not be written)
])
def test_an_if_that_does_not_compile_is_refused(
    synced: Client, clock: ManualClock, expression: str
) -> None:
    run = sleeping(synced, "test/nap")
    code, body = cancel(synced, app_id="app", function_id="app-nap", started_before=at(clock),
                        **{"if": expression})
    assert code == 400 and body["error"].startswith("invalid expression: "), body
    synced.settle()
    assert status(synced, run) == "Running"


def test_an_apps_functions_are_listed_by_internal_id(synced: Client, app: FakeApp) -> None:
    code, listed = synced.request("GET", "/v1/apps/app/functions")
    assert code == 200
    assert sorted(fn["id"] for fn in listed) == ["app-nap", "app-other", "app-wait"]
    assert [fn["internal_id"] for fn in listed] == sorted(fn["internal_id"] for fn in listed)
    [nap] = [fn for fn in listed if fn["id"] == "app-nap"]
    assert list(nap) == ["internal_id", "env_id", "app_id", "id", "name", "config",
                         "created_at", "archived_at"]
    assert (nap["name"], nap["env_id"], nap["archived_at"], nap["created_at"]) == (
        "nap", "00000000-0000-0000-0000-000000000000", "0001-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z")
    assert nap["config"]["triggers"] == [{"event": "test/nap"}]
    assert synced.request("GET", "/v1/apps//functions")[1] == listed
    assert synced.request_raw("GET", "/v1/apps/nope/functions") == (200, b"[]\n")


def test_a_resync_keeps_a_functions_created_at(
    synced: Client, app: FakeApp, clock: ManualClock
) -> None:
    clock.advance(3600)
    synced.register(app, [app.function("nap", handler=naps, retries=1)])
    [nap] = synced.request("GET", "/v1/apps/app/functions")[1]
    assert nap["created_at"] == "2026-01-01T00:00:00Z"


def test_prometheus_scrapes_are_not_implemented(client: Client) -> None:
    assert client.request_raw("GET", "/v1/prom/dev") == (
        200, b'{"error":"not implemented","data":null,"status":501}\n')
