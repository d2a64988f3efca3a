"""The REST API v2 under ``/api/v2`` and ``/v2``: statuses and bodies as the real dev server
answers them (measured against it; see docs/compatibility.md for what differs)."""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, LoopbackDev, Reply, ok, op, ops, step_hash

from inngest._engine import ulid
from inngest._engine.http.server import DevServer

LOOPBACK = True
Body = dict[str, typing.Any]


def get(client: Client, path: str) -> tuple[int, Body]:
    return client.request("GET", "/api/v2" + path)


def post(client: Client, path: str, body: object = None) -> tuple[int, Body]:
    return client.request("POST", "/api/v2" + path, body)


def error(code: str, message: str) -> Body:
    return {"errors": [{"code": code, "message": message}]}


def without_times(body: Body) -> Body:
    assert body["metadata"]["fetchedAt"].endswith("Z")
    return {key: value for key, value in body.items() if key != "metadata"}


def hello(call: Call) -> Reply:
    if not call.body["steps"]:
        return ops(op("StepRun", "first", data=1))
    if len(call.body["steps"]) == 1:
        return ops(op("StepRun", "second", data={"n": 2}))
    return ok({"ok": 1, "data": call.body["event"]["data"]})


def fails(call: Call) -> Reply:
    return 500, {}, {"name": "Error", "message": "boom"}


@pytest.fixture
def synced(client: Client, app: FakeApp) -> FakeApp:
    status, _ = client.register(app, [
        app.function("hello", handler=hello),
        app.function("fails", handler=fails, retries=0),
        app.function("sleepy", handler=lambda call: ops(op("Sleep", "nap", opts={
            "duration": "1h"})), triggers=[{"event": "test/sleepy", "expression": "true"}]),
    ])
    assert status == 200
    return app


def finished_run(client: Client, name: str) -> tuple[str, Body]:
    [event_id] = client.send({"name": name, "data": {"x": 1}})
    client.wait_for_run(event_id)
    _, body = get(client, f"/events/{event_id}/runs")
    return event_id, body["data"][0]


@pytest.mark.parametrize("prefix", ["/api/v2", "/v2"])
def test_health_under_both_prefixes(client: Client, prefix: str) -> None:
    status, body = client.request("GET", prefix + "/health")
    assert status == 200 and without_times(body) == {"data": {"status": "ok"}}


@pytest.mark.sockets
def test_served_by_the_http_listener(client: Client) -> None:
    status, body = client.request("GET", "/api/v2/health")
    assert status == 200 and body["data"] == {"status": "ok"}
    assert client.request("GET", "/v2/nothing") == (404, error("api_error", "Not Found"))


@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/api/v2/nothing", 404, "Not Found"),
    ("GET", "/api/v2/health/", 404, "Not Found"),
    ("GET", "/api/v2", 400, "Bad Request"),
    ("DELETE", "/api/v2/runs/01M8NXEFDE41VBG6ZJQBHHHAEN", 501, "Method Not Allowed"),
    ("GET", "/v2/runs/01M8NXEFDE41VBG6ZJQBHHHAEN/cancel", 501, "Method Not Allowed"),
])
def test_unrouted_requests(client: Client, method: str, path: str, status: int,
                           message: str) -> None:
    assert client.request(method, path) == (status, error("api_error", message))


def test_get_run_and_its_output(client: Client, synced: FakeApp) -> None:
    event_id, listed = finished_run(client, "test/hello")
    status, body = get(client, f"/runs/{listed['id']}")
    assert status == 200
    run = body["data"]
    assert run == {
        "id": listed["id"], "app": {"id": "app"}, "function": {"id": "hello", "name": "hello"},
        "status": "COMPLETED", "trigger": {"eventIds": [event_id]},
        "queuedAt": run["queuedAt"], "startedAt": run["startedAt"], "endedAt": run["endedAt"],
        "durationMs": run["durationMs"],
    }
    assert isinstance(run["durationMs"], str) and run["durationMs"].isdigit()
    assert listed == run
    _, body = get(client, f"/runs/{listed['id']}?includeOutput=true")
    assert body["data"]["output"] == {"ok": 1, "data": {"x": 1}}


def test_a_failed_run_lists_its_output_under_error(client: Client, synced: FakeApp) -> None:
    event_id, listed = finished_run(client, "test/fails")
    assert listed["status"] == "FAILED" and "output" not in listed
    _, body = get(client, f"/events/{event_id}/runs?include_output=1")
    assert body["data"][0]["output"] == {"error": {"name": "Error", "message": "boom"}}
    _, body = get(client, f"/runs/{listed['id']}?includeOutput=true")
    assert body["data"]["output"] == {"name": "Error", "message": "boom"}


# Cursors nested past Python's recursion limit.
DEEP_ARRAYS = base64.b64encode(b"[" * 5000).decode()
DEEP_OBJECTS = base64.b64encode(b'{"id":' * 5000).decode()


@pytest.mark.parametrize("path, status, body", [
    ("/runs/01ABC", 400, error("invalid_field_format", "Run ID must be a valid ULID")),
    ("/runs/01M8NXEFDE41VBG6ZJQBHHHAEN", 404, error("not_found", "Run not found")),
    ("/runs/01ABC/trace", 400, error("invalid_field_format", "Run ID must be a valid ULID")),
    ("/runs/01M8NXEFDE41VBG6ZJQBHHHAEN/trace", 404, error("not_found", "Trace not found")),
    ("/events/abc/runs", 400, error("invalid_field_format", "Event ID must be a valid ULID")),
    ("/events/01M8NXEFDE41VBG6ZJQBHHHAEN/runs?limit=41", 400,
     error("invalid_field_format", "Limit cannot exceed 40")),
    ("/runs?limit=-1", 400, error("invalid_field_format", "Limit must be at least 1")),
    ("/runs?limit=101", 400, error("invalid_field_format", "Limit cannot exceed 100")),
    ("/runs?limit=abc", 400, error("api_error", 'parsing field "limit": strconv.ParseInt: '
                                                'parsing "abc": invalid syntax')),
    ("/runs?limit=99999999999", 400, error(
        "api_error", 'parsing field "limit": strconv.ParseInt: parsing "99999999999": '
                     'value out of range')),
    ("/runs?includeOutput=maybe", 400, error(
        "api_error", 'parsing field "include_output": strconv.ParseBool: parsing "maybe": '
                     'invalid syntax')),
    ("/runs?cursor=xyz", 400, error("invalid_field_format", "Cursor is invalid")),
    # A query string Go's reader refuses, in its words.
    ("/runs?limit=%zz", 400, error("api_error", 'invalid URL escape "%zz"')),
    ("/runs?x=1&limit=%", 400, error("api_error", 'invalid URL escape "%"')),
    ("/apps?limit=1;x", 400, error("api_error", "invalid semicolon separator in query")),
    # Nesting past Python's recursion was a 500.
    (f"/runs?cursor={DEEP_ARRAYS}", 400, error("invalid_field_format", "Cursor is invalid")),
    (f"/events/01M8NXEFDE41VBG6ZJQBHHHAEN/runs?cursor={DEEP_OBJECTS}", 400,
     error("invalid_field_format", "Cursor is invalid")),
    ("/runs?status=bogus", 400, error("invalid_field_format", "Status is invalid")),
    ("/runs?timeField=x", 400, error("invalid_field_format", "timeField is invalid")),
    ("/runs?order=x", 400, error("invalid_field_format", "order is invalid")),
    ("/runs?functionId=hello", 400, error("invalid_field_format",
                                          "appId is required when filtering by functionId")),
    ("/runs?from=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", 400,
     error("invalid_field_format", "from must be before until")),
    # Times as Go's RFC 3339 parser reads them, whatever Python's fromisoformat takes.
    ("/runs?from=2026-01-02T00:00:00.14Z&until=2026-01-01T21:00:00.5-02:00", 400,
     error("invalid_field_format", "from must be before until")),
    # Refused in Go's time.Parse words: which part failed, and the rest of the value.
    ("/runs?from=2026-01-02T00:00:00%2B0100", 400, error(
        "api_error", 'parsing field "from": parsing time "2026-01-02T00:00:00+0100" as '
                     '"2006-01-02T15:04:05.999999999Z07:00": cannot parse "+0100" as "Z07:00"')),
    ("/runs?from=x", 400, error(
        "api_error", 'parsing field "from": parsing time "x" as '
                     '"2006-01-02T15:04:05.999999999Z07:00": cannot parse "x" as "2006"')),
    ("/runs?until=2020-13-01T00:00:00Z", 400, error(
        "api_error", 'parsing field "until": parsing time "2020-13-01T00:00:00Z": '
                     'month out of range')),
    ("/runs?from=2020-01-01T00:00:00Zx", 400, error(
        "api_error", 'parsing field "from": parsing time "2020-01-01T00:00:00Zx": '
                     'extra text: "x"')),
    ("/apps?limit=1000", 400, error("invalid_field_format", "Limit cannot exceed 100")),
    ("/apps?cursor=abc", 400, error("invalid_field_format", "Cursor is invalid")),
    ("/apps/nope", 404, error("not_found", "App not found")),
    ("/apps/app/functions/nope", 404, error("not_found", "Function not found")),
])
def test_refused_reads(client: Client, path: str, status: int, body: Body) -> None:
    assert get(client, path) == (status, body)


def test_times_read_as_go_reads_them(client: Client) -> None:
    """Go's time.Parse takes a one-digit hour and a comma before the fraction."""
    for moment in ("2020-01-01T1:00:00Z", "2020-01-01T01:00:00,5Z"):
        assert get(client, f"/runs?from={moment}")[0] == 200


def test_empty_lists_leave_out_data(client: Client) -> None:
    status, body = get(client, "/events/01M8NXEFDE41VBG6ZJQBHHHAEN/runs")
    assert status == 200 and without_times(body) == {"page": {"limit": 20}}
    assert without_times(get(client, "/apps")[1]) == {"page": {"limit": 20}}


def test_trace(client: Client, synced: FakeApp) -> None:
    _, listed = finished_run(client, "test/hello")
    status, body = get(client, f"/runs/{listed['id']}/trace")
    assert status == 200
    trace = body["data"]
    assert trace["runId"] == listed["id"]
    root = trace["rootSpan"]
    assert (root["name"], root["status"], root["durationMs"]) == ("Run", "COMPLETED",
                                                                  listed["durationMs"])
    step = root["children"][0]
    assert (step["name"], step["status"], step["stepOp"], step["stepId"]) == (
        "first", "COMPLETED", "RUN", step_hash("first"))
    assert "children" not in step
    assert root["children"][1]["stepId"] == step_hash("first")
    names = [span["name"] for span in root["children"][4:]]
    assert names == ["Finalization", "executor.nonstep"]


def test_trace_outputs(client: Client, synced: FakeApp) -> None:
    event_id, listed = finished_run(client, "test/hello")
    _, body = get(client, f"/runs/{listed['id']}/trace?includeOutput=true")
    root = body["data"]["rootSpan"]
    assert root["input"]["data"][0]["id"] == event_id
    assert root["input"]["data"][0]["data"] == {"x": 1}
    assert root["output"] == {"ok": 1, "data": {"x": 1}}
    outputs = [(span["name"], span.get("output")) for span in root["children"]]
    # Measured: a step's object result as it is, another value under "data".
    assert outputs == [("first", {"data": 1}), ("first", {"data": 1}), ("second", {"n": 2}),
                       ("second", {"n": 2}), ("Finalization", None),
                       ("executor.nonstep", {"ok": 1, "data": {"x": 1}})]
    _, failed = finished_run(client, "test/fails")
    _, body = get(client, f"/runs/{failed['id']}/trace?includeOutput=true")
    [finalization, call] = body["data"]["rootSpan"]["children"]
    assert finalization["children"][0]["output"] == {"name": "Error", "message": "boom"}
    assert call["output"] == {"name": "Error", "message": "boom"}
    assert "output" not in get(client, f"/runs/{failed['id']}/trace")[1]["data"]["rootSpan"]


def test_list_runs_pages_newest_first(client: Client, synced: FakeApp) -> None:
    runs = [finished_run(client, "test/hello")[1] for _ in range(3)]
    status, body = get(client, "/runs?limit=2")
    assert status == 200
    assert [run["id"] for run in body["data"]] == [runs[2]["id"], runs[1]["id"]]
    assert body["page"]["hasMore"] is True and body["page"]["limit"] == 2
    _, rest = get(client, f"/runs?limit=2&cursor={body['page']['cursor']}")
    assert [run["id"] for run in rest["data"]] == [runs[0]["id"]]
    assert rest["page"] == {"limit": 2}
    _, ascending = get(client, "/runs?order=asc&status=COMPLETED")
    assert [run["id"] for run in ascending["data"]] == [run["id"] for run in runs]
    _, by_function = get(client, "/apps/app/functions/hello/runs")
    assert len(by_function["data"]) == 3
    assert "data" not in get(client, "/apps/app/functions/fails/runs")[1]


def test_apps_and_functions(client: Client, synced: FakeApp) -> None:
    status, body = get(client, "/apps/app")
    assert status == 200
    app = body["data"]
    assert app == {"id": "app", "name": "app", "method": "SERVE", "functionCount": 3,
                   "createdAt": app["createdAt"], "latestSync": {
                       "framework": "flask", "sdkLanguage": "py", "sdkVersion": "v0.1.0",
                       "url": synced.url}}
    assert get(client, "/apps")[1]["data"] == [app]
    status, body = get(client, "/apps/app/functions/app-fails")
    assert status == 200 and body["data"] == {
        "id": "fails", "name": "fails", "slug": "fails", "app": {"id": "app"},
        "triggers": [{"type": "EVENT", "value": "test/fails"}],
        "configuration": {"concurrency": [{"scope": "ACCOUNT",
                                           "limit": {"value": -1, "isPlanLimit": True}}],
                          "retries": {"isDefault": False}},
    }
    _, sleepy = get(client, "/apps/app/functions/sleepy")
    assert sleepy["data"]["triggers"] == [{"type": "EVENT", "value": "test/sleepy", "if": "true"}]
    _, page = get(client, "/apps/app/functions?limit=2")
    assert len(page["data"]) == 2 and page["page"]["hasMore"] is True
    _, rest = get(client, f"/apps/app/functions?cursor={page['page']['cursor']}")
    listed = {fn["id"] for fn in page["data"] + rest["data"]}
    assert listed == {"hello", "fails", "sleepy"} and rest["page"] == {"limit": 20}


def test_archived_apps_are_listed_only_as_archived(client: Client, synced: FakeApp) -> None:
    assert "data" not in get(client, "/apps?archived=true")[1]
    [app] = get(client, "/apps")[1]["data"]
    status, removed = client.request("DELETE", f"/fn/remove?url={synced.url}")
    assert status == 200, removed
    _, listed = get(client, "/apps?archived=true")
    [archived] = listed["data"]
    assert archived["archivedAt"].endswith("Z")
    # /fn/remove archives the app's functions too: its count is none, as on the dev server.
    expected = {key: value for key, value in app.items() if key != "functionCount"}
    assert archived == {**expected, "isArchived": True, "archivedAt": archived["archivedAt"]}
    assert "data" not in get(client, "/apps")[1]
    assert "data" not in get(client, "/apps?archived=false")[1]


def test_send_event_starts_runs(client: Client, synced: FakeApp) -> None:
    status, body = post(client, "/events", {"name": "test/hello", "data": {"x": 1}})
    assert status == 200
    event_id = body["data"]["eventId"]
    assert ulid.is_ulid(event_id)
    assert client.wait_for_run(event_id)["status"] == "Completed"


@pytest.mark.parametrize("body, status, expected", [
    ({}, 400, error("missing_field", "Event name is required")),
    (None, 400, error("missing_field", "Event name is required")),
    ([{"name": "a"}], 400, error("api_error",
                                 "proto: syntax error (line 1:1): unexpected token [")),
    ({"name": 5}, 400, error("api_error",
                             "proto: (line 1:10): invalid value for string field name: 5")),
    ({"name": "a", "user": []}, 400, error(
        "api_error", "proto: syntax error (line 1:23): unexpected token [")),
    (b"null", 400, error("api_error", "proto: syntax error (line 1:1): unexpected token null")),
    ({"Name": "a"}, 400, error("api_error", 'proto: (line 1:2): unknown field "Name"')),
    ({"name": "inngest/function.failed"}, 400, error(
        "invalid_field_format", "event name is reserved for internal use: "
                                "inngest/function.failed")),
    ({"name": "a", "ts": 5}, 400, error("validation_error", "timestamp is before Jan 1, 1980")),
    # Digits of other scripts are no int64 (str.isdigit takes "²", int() does not).
    ({"name": "a", "ts": "\u00b2"}, 400, error(
        "api_error", 'proto: (line 1:21): invalid value for int64 field ts: "\\u00b2"')),
])
def test_send_event_refusals(client: Client, body: object, status: int,
                             expected: Body) -> None:
    assert post(client, "/events", body) == (status, expected)


def test_send_event_with_an_unreadable_body(client: Client) -> None:
    status, body = post(client, "/events", b"notjson")
    assert status == 400 and body["errors"][0]["code"] == "api_error"


def test_invoke(client: Client, synced: FakeApp) -> None:
    status, body = post(client, "/apps/app/functions/hello/invoke", {"data": {"x": 2}})
    assert status == 200
    run_id = body["data"]["runId"]
    client.wait(lambda: get(client, f"/runs/{run_id}")[1]["data"]["status"] == "COMPLETED")
    _, run = get(client, f"/runs/{run_id}?includeOutput=true")
    assert run["data"]["output"]["data"]["x"] == 2
    assert post(client, "/apps/app/functions/hello/invoke", {}) == (
        400, error("missing_field", "Input data is required"))
    assert post(client, "/apps/app/functions/nope/invoke", {"data": {}}) == (
        404, error("not_found", "Function not found"))


def test_invoke_with_a_used_idempotency_key_answers_409_with_the_first_run(
        client: Client, synced: FakeApp) -> None:
    def invoke(fn: str, body: Body) -> tuple[int, Body]:
        status, answer = post(client, f"/apps/app/functions/{fn}/invoke", body)
        return status, without_times(answer)

    status, body = invoke("hello", {"data": {"x": 1}, "idempotencyKey": "k"})
    first = body["data"]["runId"]
    assert status == 200
    assert invoke("hello", {"data": {"x": 2}, "idempotencyKey": "k"}) == (
        409, {"data": {"runId": first}})
    assert invoke("app-hello", {"data": {}, "idempotencyKey": "k"}) == (
        409, {"data": {"runId": first}})
    for key in ("other", ""):
        status, body = invoke("hello", {"data": {}, "idempotencyKey": key})
        assert status == 200 and body["data"]["runId"] != first
        assert invoke("hello", {"data": {}, "idempotencyKey": key}) == (409, body)
    status, body = invoke("fails", {"data": {}, "idempotencyKey": "k"})
    assert status == 200 and body["data"]["runId"] != first
    assert invoke("hello", {"data": {}})[0] == invoke("hello", {"data": {}})[0] == 200
    assert post(client, "/apps/app/functions/hello/invoke", {"data": {}, "idempotencyKey": 5}) == (
        400, error("api_error",
                   "proto: (line 1:32): invalid value for string field idempotencyKey: 5"))
    client.wait(lambda: len(get(client, "/apps/app/functions/hello/runs")[1]["data"]) == 5)
    clock = typing.cast(LoopbackDev, client.dev).clock
    clock.set(clock.now_ms() + 24 * 3600 * 1000)  # the key is kept for a day
    status, body = invoke("hello", {"data": {}, "idempotencyKey": "k"})
    assert status == 200 and body["data"]["runId"] != first


def test_cancel(client: Client, synced: FakeApp) -> None:
    [event_id] = client.send({"name": "test/sleepy"})
    running = client.wait_for_run(event_id, "Running")
    run_id = running["run_id"]
    client.settle()
    status, body = post(client, f"/runs/{run_id}/cancel", {})
    assert status == 200 and without_times(body) == {"data": {"runId": run_id}}
    assert get(client, f"/runs/{run_id}")[1]["data"]["status"] == "CANCELLED"
    assert post(client, f"/runs/{run_id}/cancel") == (
        409, error("run_already_cancelled", "Run is already cancelled"))
    _, done = finished_run(client, "test/hello")
    assert post(client, f"/runs/{done['id']}/cancel") == (
        409, error("run_already_ended", "Cannot cancel an ended run"))
    assert post(client, "/runs/abc/cancel") == (
        400, error("invalid_field_format", "Run ID must be a valid ULID"))


def test_rerun(client: Client, synced: FakeApp) -> None:
    event_id, done = finished_run(client, "test/hello")
    status, body = post(client, f"/runs/{done['id']}/rerun", {})
    assert status == 200
    again = body["data"]["runId"]
    assert again != done["id"]
    client.wait(lambda: len(get(client, f"/events/{event_id}/runs")[1]["data"]) == 2)
    assert post(client, "/runs/01M8NXEFDE41VBG6ZJQBHHHAEN/rerun") == (
        404, error("not_found", "Run not found"))


@pytest.mark.parametrize("method, path, status, body", [
    ("GET", "/sessions", 501, error("not_implemented", "Sessions not implemented in OSS")),
    ("GET", "/sandboxes", 501, error("api_error", "method ListSandboxes not implemented")),
    ("POST", "/apps/app/syncs", 501, error("not_implemented",
                                           "App sync not implemented in OSS")),
    ("GET", "/env/webhooks", 400, error("missing_field", "X-Inngest-Env header is required")),
    ("POST", "/envs", 400, error("missing_field", "Environment name is required")),
])
def test_cloud_only_routes(client: Client, method: str, path: str, status: int,
                           body: Body) -> None:
    assert client.request(method, "/api/v2" + path) == (status, body)


def test_dev_account_and_environment(client: Client) -> None:
    _, account = get(client, "/account")
    assert account["data"]["name"] == "Dev Server"
    _, envs = get(client, "/envs")
    assert envs["data"][0]["name"] == "dev" and envs["page"] == {}
    assert without_times(get(client, "/keys/events")[1]) == {"page": {}}


def ids_of(client: Client, path: str) -> list[str]:
    status, body = get(client, path)
    assert status == 200, body
    return [run["id"] for run in body.get("data", [])]


def test_run_filters_take_repeated_values(client: Client, synced: FakeApp) -> None:
    _, done = finished_run(client, "test/hello")
    _, failed = finished_run(client, "test/fails")
    both = [failed["id"], done["id"]]
    assert ids_of(client, "/runs?status=COMPLETED&status=failed") == both
    assert ids_of(client, "/runs?status=FAILED") == [failed["id"]]
    assert get(client, "/runs?status=FAILED&status=bogus") == (
        400, error("invalid_field_format", "Status is invalid"))
    assert get(client, "/runs?status=") == (
        400, error("invalid_field_format", "Status is invalid"))
    assert ids_of(client, "/runs?appId=nope&appId=app") == both
    assert ids_of(client, "/runs?appId=app&functionId=nope&functionId=hello") == [done["id"]]
    assert ids_of(client, "/runs?app_id=app&function_id=fails&functionId=hello") == both


def test_run_filters_name_a_function_without_its_apps_prefix(
        client: Client, synced: FakeApp) -> None:
    _, done = finished_run(client, "test/hello")
    assert ids_of(client, "/runs?appId=app&functionId=hello") == [done["id"]]
    assert ids_of(client, "/runs?appId=app&functionId=app-hello") == []
    assert ids_of(client, "/apps/app/functions/app-hello/runs") == []


def test_no_run_is_deferred(client: Client, synced: FakeApp) -> None:
    _, done = finished_run(client, "test/hello")
    assert ids_of(client, "/runs?isDeferred=true") == []
    assert ids_of(client, "/apps/app/functions/hello/runs?is_deferred=1") == []
    assert ids_of(client, "/runs?isDeferred=false") == [done["id"]]
    assert get(client, "/runs?isDeferred=x") == (400, error(
        "api_error", 'parsing field "is_deferred": strconv.ParseBool: parsing "x": '
                     'invalid syntax'))


@pytest.mark.parametrize("path, field, given", [
    ("/runs?limit=1&limit=2", "limit", "1, 2"),
    ("/runs?includeOutput=true&includeOutput=false", "include_output", "true, false"),
    ("/runs?order=asc&order=desc", "order", "asc, desc"),
    ("/apps?cursor=a&cursor=b", "cursor", "a, b"),
    ("/runs/01M8NXEFDE41VBG6ZJQBHHHAEN?include_output=1&include_output=0", "include_output",
     "1, 0"),
])
def test_a_single_valued_parameter_given_twice_is_refused(
        client: Client, path: str, field: str, given: str) -> None:
    assert get(client, path) == (
        400, error("api_error", f'too many values for field "{field}": {given}'))


def _cursor(body: Body) -> typing.Any:
    return json.loads(base64.b64decode(body["page"]["cursor"]))


def _micros(moment: str) -> int:
    parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return round(parsed.timestamp() * 1000) * 1000


def test_runs_listed_by_end_page_by_their_end(client: Client, synced: FakeApp) -> None:
    runs = [finished_run(client, "test/hello")[1] for _ in range(3)]
    _, first = get(client, "/runs?timeField=endedAt&limit=2")
    assert [run["id"] for run in first["data"]] == [runs[2]["id"], runs[1]["id"]]
    last = first["data"][-1]
    assert _cursor(first) == {"id": last["id"], "c": {"end_time": {
        "f": "end_time", "v": _micros(last["endedAt"])}}}
    after = first["page"]["cursor"]
    assert ids_of(client, f"/runs?timeField=ENDED_AT&limit=2&cursor={after}") == [
        runs[0]["id"]]
    # Listed by start, a cursor without a start time begins the list again, as there.
    assert ids_of(client, f"/runs?limit=2&cursor={after}") == [runs[2]["id"], runs[1]["id"]]
    _, by_start = get(client, "/runs?limit=2")
    assert list(_cursor(by_start)["c"]) == ["start_time"]


def test_a_scores_body_is_read_before_the_run_id(client: Client) -> None:
    for body, answer in [
        (b"{}", error("api_error", "json: cannot unmarshal object into Go value of type "
                                   "[]json.RawMessage")),
        (b"[1]", error("api_error", "proto: syntax error (line 1:1): unexpected token 1")),
        (b'[{"name": "a", "value": 1, "bogus": 2}]',
         error("api_error", 'proto: (line 1:27): unknown field "bogus"')),
        # Whether there are scores is checked after the run id.
        (b"", error("invalid_field_format", "Run ID must be a valid ULID")),
        (b"[]", error("invalid_field_format", "Run ID must be a valid ULID")),
    ]:
        assert post(client, "/runs/x/scores", body) == (400, answer), body


_UNKNOWN_RUN = "01M8M3Q9NPQAT955XA7Y7V5HXH"


@pytest.mark.parametrize("path, body, message", [
    # The line and character (from 1) of the token, counted from the body's first token.
    ("/events", b'{"name": 1e3}', "proto: (line 1:10): invalid value for string field name: "
                                  "1e3"),
    ("/events", b' \n\t {"name" : \n false }',
     "proto: (line 2:2): invalid value for string field name: false"),
    ("/events", '{"name":"é","ts":{}}'.encode(), "proto: (line 1:18): invalid value for int64 "
                                                 "field ts: {"),
    ("/events", b'{"name":"a","user":"s\\u00e9\\\\n"}',
     'proto: syntax error (line 1:20): unexpected token "s\\u00e9\\\\n"'),
    ("/events", b'{"name":"a","data":null,"id":null,"x":null}',
     'proto: (line 1:35): unknown field "x"'),
    # A nested message's error comes first when it comes first in the text.
    (f"/runs/{_UNKNOWN_RUN}/rerun", b'{"fromStep":{"x":1},"bogus":1}',
     'proto: (line 1:14): unknown field "x"'),
    (f"/runs/{_UNKNOWN_RUN}/rerun", b'{"from_step":{"step_id":"a","input":"x"}}',
     'proto: syntax error (line 1:37): unexpected token "x"'),
    # Each score is decoded as a text of its own.
    (f"/runs/{_UNKNOWN_RUN}/scores", b'[ {"name":"a"}, {"name":2}]',
     "proto: (line 1:9): invalid value for string field name: 2"),
    (f"/runs/{_UNKNOWN_RUN}/scores", b'[\n {"x":1}]', 'proto: (line 1:2): unknown field "x"'),
    (f"/runs/{_UNKNOWN_RUN}/scores", b'[{"name":"a","value":{"x":[1,{"y":"]"}]},"bogus":1}]',
     'proto: (line 1:41): unknown field "bogus"'),
    (f"/runs/{_UNKNOWN_RUN}/scores", b'[{"name":"a","value":1,"experiment":{"id":1}}]',
     "proto: (line 1:42): invalid value for string field id: 1"),
])
def test_body_errors_say_where(client: Client, path: str, body: bytes, message: str) -> None:
    assert post(client, path, body) == (400, error("api_error", message))


@pytest.mark.sockets
def test_a_query_string_go_refuses_is_refused_over_http_too(dev: DevServer) -> None:
    # http.client sends the target as written (urllib3 would escape the "%").
    connection = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    try:
        connection.request("GET", "/api/v2/runs?limit=%zz")
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (
            400, error("api_error", 'invalid URL escape "%zz"'))
    finally:
        connection.close()
