"""App sync: ``/fn/register``, removal, pings and URL normalisation."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import uuid

import pytest
from engine_fakes import Call, Client, FakeApp, ok, wait
from test_graphql import data

from inngest._engine import discovery, registration
from inngest._engine.http.server import DevServer
from inngest._engine.models import App
from inngest._engine.store import Store
from inngest._transport import OutboundRequest, Response

LOOPBACK = True
FUNCTION_BY_SLUG = "query($slug: String!) { functionBySlug(query: {functionSlug: $slug}) { slug } }"
INVALID = {"error": "At least one function is invalid", "data": None, "status": 400,
           "code": "bad_request"}


@pytest.mark.sockets
def test_sync_and_resync_is_a_no_op(dev: DevServer, client: Client, app: FakeApp) -> None:
    functions = [app.function("fn")]
    status, first = client.register(app, functions)
    assert status == 200 and first["ok"] is True and first["modified"] is True
    assert first["app_id"] == str(uuid.uuid5(uuid.NAMESPACE_OID, "app"))
    status, again = client.register(app, functions, featureObservations={"x": 1})
    assert status == 200 and again["modified"] is False and again["app_id"] == first["app_id"]
    fn_id = dev.engine.store.functions()[0].id
    status, changed = client.register(app, [app.function("fn", retries=1)])
    assert changed["modified"] is True
    [fn] = dev.engine.store.functions()
    assert fn.id == fn_id and fn.version == 2 and fn.max_attempts == 2
    [stored_app] = dev.engine.store.apps()
    port = app.url.split(":")[2].split("/")[0]
    assert stored_app.url == f"http://localhost:{port}/api/inngest" and stored_app.error is None


def test_functions_missing_from_a_sync_are_archived(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function("a"), app.function("b")])
    client.register(app, [app.function("a")])
    assert [fn.slug for fn in dev.engine.store.functions()] == ["app-a"]
    client.register(app, [])
    assert dev.engine.store.functions() == []


@pytest.mark.parametrize("throttle, message", [
    ({"limit": 1, "period": "abc"}, 'time: invalid duration "abc"'),
    ({"limit": 1}, 'time: invalid duration ""'),
    ({"limit": 1, "period": "99999999999999h"}, 'time: invalid duration "99999999999999h"'),
    ({"limit": 1, "period": "1"}, 'time: missing unit in duration "1"'),
    ({"limit": 1, "period": "1s "}, 'time: unknown unit "s " in duration "1s "'),
    ({"limit": 1, "period": 5}, "json: cannot unmarshal number into Go struct field "
                                "SDKFunction.functions.throttle.period of type string"),
])
def test_a_throttle_period_go_cannot_parse_refuses_the_request(
    dev: DevServer, client: Client, app: FakeApp, throttle: dict[str, object], message: str
) -> None:
    """Measured: the real server parses the period while decoding the request, so the
    request is refused in Go's words and the app not synced (periods Go parses, under a
    second, zero or over a week, all sync, here as there)."""
    status, body = client.register(app, [{**app.function("fn"), "throttle": throttle}])
    error = f"Invalid request: {message}"
    assert (status, body) == (400, {"error": error, "code": "bad_request", "message": error})
    assert dev.engine.store.apps() == []


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "A function name is required"),
    ({"steps": {}}, "Functions must contain one step"),
    ({"triggers": [{"event": "a", "cron": "* * * * *"}]},
     "A trigger cannot have both an event and a cron"),
    ({"triggers": [{"event": "a"}] * 2}, "This function has duplicate triggers"),
    ({"triggers": [{"event": f"e{i}"} for i in range(11)]},
     "This function exceeds the max number of triggers: 10"),
    ({"triggers": [{"cron": "@daily"}]}, "descriptors such as @daily are not supported"),
    ({"triggers": [{"event": "a", "expression": "event.data.x =="}]},
     "ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>'"),
    ({"batchEvents": {"maxSize": 1, "timeout": "5s"}}, "batchEvents.maxSize must be at least 2"),
    ({"rateLimit": {"limit": 0, "period": "1h"}}, "The rate limit must be greater than 0"),
    ({"debounce": {"period": "8d"}}, "The debounce period must be between 1s and 7d"),
    ({"cancel": [{"event": "a"}] * 6}, "This function exceeds the max number of cancellations"),
    # Wrong shapes are refused with a message, not a 500.
    ({"triggers": [{"cron": "* * * * *", "jitter": 5}]}, "invalid cron jitter 5"),
    ({"concurrency": {"fn": 2}}, "concurrency.fn and concurrency.step must be arrays"),
    ({"debounce": "1s"}, "debounce must be an object"),
    ({"rateLimit": ["1/h"]}, "rateLimit must be an object"),
    ({"priority": "event.data.p"}, "priority must be an object"),
    # Timeouts that could never apply: the real server takes them and ignores them.
    ({"cancel": [{"event": "a", "timeout": "zz"}]}, "cancel.timeout is not a duration: 'zz'"),
    ({"timeouts": {"start": "zz"}}, "timeouts.start is not a duration: 'zz'"),
    ({"timeouts": {"finish": "1 hour"}}, "timeouts.finish is not a duration: '1 hour'"),
    ({"debounce": {"period": "1s", "timeout": "zz"}},
     "debounce.timeout is not a duration: 'zz'"),
    # Values the real server refuses (most at decoding) and ours ignored or crashed runs on.
    ({"steps": {"step": {"name": "step", "runtime": "x"}}},
     "steps.step.runtime must be an object, not a string"),
    ({"steps": {"step": {"name": "step", "runtime": {"url": "http://a/"}, "retries": "x"}}},
     "steps.step.retries must be an object, not a string"),
    ({"steps": {"step": {"name": "step", "runtime": {"url": "http://a/"},
                         "retries": {"attempts": "x"}}}},
     "steps.step.retries.attempts must be an integer, not a string"),
    ({"retries": {"attempts": 2}}, "retries must be an integer, not an object"),
    ({"throttle": "x"}, "throttle must be an object, not a string"),
    ({"throttle": {"limit": -1, "period": "1s"}},
     f"throttle.limit must be an integer from 0 to {2**64 - 1}, not -1"),
    ({"throttle": {"limit": 10**30, "period": "1s"}},
     f"throttle.limit must be an integer from 0 to {2**64 - 1}, not {10**30}"),
    ({"concurrency": [{"limit": "abc"}]}, "concurrency.limit must be an integer, not a string"),
    ({"timeouts": {"finish": 5}}, "timeouts.finish must be a string, not a number"),
    ({"singleton": {"mode": "explode"}}, 'singleton.mode must be "skip" or "cancel"'),
    ({"idempotency": 5}, "idempotency must be a string, not a number"),
    ({"idempotency": "(("}, "\n | ((\n"),
    ({"cancel": [{"event": 5}]}, "cancel.event must be a string, not a number"),
    ({"rateLimit": {"limit": 10**30, "period": "1h"}},
     f"rateLimit.limit must be an integer from 0 to {2**64 - 1}, not {10**30}"),
    ({"batchEvents": {"maxSize": 10**30, "timeout": "5s"}},
     f"batchEvents.maxSize must be at most {2**63 - 1}"),
])
def test_invalid_functions_are_refused_and_kept_on_the_app(
    dev: DevServer, client: Client, app: FakeApp, change: dict[str, object], message: str
) -> None:
    status, body = client.register(app, [{**app.function("fn"), **change}])
    detail = body.pop("message")
    assert (status, body) == (400, INVALID)
    assert detail.startswith("At least one function is invalid: function 'app-fn': ")
    assert message in detail
    [stored] = dev.engine.store.apps()
    assert stored.error is not None and message in stored.error
    assert dev.engine.store.functions() == []
    assert client.register(app, [{**app.function("fn"), **change}])[0] == 400


def test_missing_step_url(dev: DevServer, client: Client, app: FakeApp) -> None:
    fn = app.function("fn")
    fn["steps"]["step"]["runtime"] = {"type": "http"}
    assert client.register(app, [fn]) == (400, {**INVALID, "message": (
        "At least one function is invalid: function 'app-fn': "
        "No SDK URL provided for function 'fn'")})
    assert dev.engine.store.apps()[0].error == \
        "1 errors occurred: * No SDK URL provided for function 'fn'"


def test_request_level_errors(client: Client, app: FakeApp) -> None:
    required = (400, {"error": "App ID required", "data": None, "status": 400,
                      "code": "bad_request", "message": "App ID required"})
    assert client.request("POST", "/fn/register", {"url": app.url, "functions": []}) == required
    # As the dev server's decoder: null is the empty request, and a field of the wrong type
    # is refused before the app's name is looked for.
    assert client.request("POST", "/fn/register", b"null") == required
    status, body = client.request("POST", "/fn/register", {"v": 1})
    assert status == 400 and body["error"] == "Invalid request: v must be a string, not a number"
    status, body = client.request("POST", "/fn/register", b"{bad")
    assert status == 400 and body["error"].startswith("Invalid request: ")
    headers = {"x-inngest-expected-server-kind": "cloud"}
    assert client.request("POST", "/fn/register", {"appName": "a"}, headers) == (
        400, {"error": "Expected server kind dev, got cloud", "code": "bad_request",
              "message": "Expected server kind dev, got cloud"})


@pytest.mark.parametrize("field, value, kind", [
    ("url", 5, "a number"), ("sdk", {"a": 1}, "an object"), ("framework", [], "an array"),
    ("appVersion", 1.5, "a number"),
    # Refused by the dev server's decoder (taken before).
    ("v", 1, "a number"), ("deployType", True, "a boolean"),
])
def test_app_fields_of_the_wrong_type_are_refused(
    dev: DevServer, client: Client, app: FakeApp, field: str, value: object, kind: str
) -> None:
    error = f"Invalid request: {field} must be a string, not {kind}"
    assert client.register(app, [app.function("fn")], **{field: value}) == (
        400, {"error": error, "code": "bad_request", "message": error})
    assert dev.engine.store.apps() == []


@pytest.mark.parametrize(("body", "error"), [
    # An empty string archived the app's functions.
    ({"functions": ""}, "functions must be an array, not a string"),
    ({"functions": {}}, "functions must be an array, not an object"),
    ({"capabilities": "x"}, "capabilities must be an object, not a string"),
    ({"capabilities": {"trust_probe": 1}},
     "capabilities.trust_probe must be a string, not a number"),
])
def test_a_sync_the_dev_servers_decoder_refuses_keeps_the_apps_functions(
    client: Client, app: FakeApp, body: dict[str, object], error: str
) -> None:
    assert client.register(app, [app.function("fn")])[0] == 200
    status, answer = client.request("POST", "/fn/register", {
        "url": app.url, "v": "0.1", "deployType": "ping", "sdk": "py:v0.1.0",
        "appName": app.app_id, **body})
    assert (status, answer["error"]) == (400, f"Invalid request: {error}")
    assert [fn["slug"] for fn in data(client, "{ functions { slug } }")["functions"]] == [
        "app-fn"]


def test_batch_events_that_are_no_object_make_the_function_invalid(
    client: Client, app: FakeApp
) -> None:
    status, answer = client.register(app, [{**app.function("fn"), "batchEvents": ""}])
    assert status == 400 and "batchEvents must be an object" in answer["message"]


def test_function_level_retries_count_when_the_step_has_none(
    client: Client, app: FakeApp
) -> None:
    fn = app.function("fn", handler=lambda call: (500, {}, {"name": "Error", "message": "x"}))
    del fn["steps"]["step"]["retries"]
    assert client.register(app, [{**fn, "retries": 1}])[0] == 200
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id)["status"] == "Failed"
    assert [call.body["ctx"]["max_attempts"] for call in app.posts("app-fn")] == [2, 2]


def test_remove_app(dev: DevServer, client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn")])
    assert client.request_raw("DELETE", "/fn/remove?url=" + app.url) == (200, b"")
    assert dev.engine.store.apps() == [] and dev.engine.store.functions() == []
    assert client.request("DELETE", "/fn/remove?url=" + app.url)[0] == 404
    # Its functions are archived with it (measured): no longer found by slug.
    assert data(client, FUNCTION_BY_SLUG, slug="app-fn")["functionBySlug"] is None
    assert client.register(app, [app.function("fn")])[0] == 200
    assert data(client, FUNCTION_BY_SLUG, slug="app-fn")["functionBySlug"] == {"slug": "app-fn"}


def test_remove_takes_the_url_from_the_query_only(client: Client, app: FakeApp) -> None:
    """The dev server reads ``url`` with Go's FormValue, which reads no DELETE body."""
    client.register(app, [app.function("fn")])
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert client.request("DELETE", "/fn/remove", {"url": app.url})[0] == 404
    assert client.request_raw("DELETE", "/fn/remove", f"url={app.url}".encode(), form)[0] == 404
    assert len(data(client, "{ apps { id } }")["apps"]) == 1


def test_remove_archives_one_app_a_call_the_first_synced_first(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    """Measured: with two apps at one URL, each call removes the one synced first (a later
    sync of it does not move it back)."""
    client.register(app, [app.function("fn")], appName="first")
    client.register(app, [app.function("other")], appName="second")
    client.register(app, [app.function("fn"), app.function("more")], appName="first")
    assert client.request("DELETE", "/fn/remove?url=" + app.url)[0] == 200
    assert [listed.name for listed in dev.engine.store.apps()] == ["second"]
    assert client.request("DELETE", "/fn/remove?url=" + app.url)[0] == 200
    assert dev.engine.store.apps() == []


def test_an_app_removed_and_synced_again_keeps_its_place_at_its_url(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    """Measured: the dev server archives a removed app's row and a sync revives it there,
    so the next removal by the URL takes it again, not the app synced after it."""
    for name in ("first", "second"):
        client.register(app, [app.function(name)], appName=name)
    for _ in range(2):
        assert client.request("DELETE", "/fn/remove?url=" + app.url)[0] == 200
        assert [listed.name for listed in dev.engine.store.apps()] == ["second"]
        client.register(app, [app.function("first")], appName="first")


def test_apps_are_listed_by_id_and_filtered_by_method(client: Client, app: FakeApp) -> None:
    """The dev server's query orders apps by id (an app's id comes from its name)."""
    names = ["one", "two", "three", "four", "five"]
    for name in names:
        client.register(app, [app.function(name)], appName=name)
    by_id = sorted(names, key=lambda name: str(uuid.uuid5(uuid.NAMESPACE_OID, name)))
    assert by_id != names
    listed = "query($method: AppMethod) { apps(filter: {method: $method}) { name } }"
    for method, expected in ((None, by_id), ("SERVE", by_id), ("CONNECT", [])):
        apps = data(client, listed, method=method)["apps"]
        assert [shown["name"] for shown in apps] == expected


def test_apps_stored_before_their_places_were_kept_keep_their_order(
    tmp_path: pathlib.Path
) -> None:
    """A database of an engine that kept no places: apps at one URL are still found in the
    order they were stored, and a removed one synced again keeps its place."""
    path = tmp_path / "main.db"
    Store(str(path)).close()
    with sqlite3.connect(path) as conn:
        for table in ("apps", "removed_apps"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN place")
        for name in ("b", "a"):
            record = App(id=str(uuid.uuid5(uuid.NAMESPACE_OID, name)), name=name, url="u")
            conn.execute("INSERT INTO apps (id, name, url, data) VALUES (?, ?, ?, ?)",
                         (record.id, name, "u", json.dumps(record.to_dict())))
    conn.close()
    store = Store(str(path))
    try:
        assert [found.name for found in store.apps_by_url("u")] == ["b", "a"]
        first = store.apps_by_url("u")[0]
        store.delete_app(first.id, 1)
        store.put_app(first)
        assert [found.name for found in store.apps_by_url("u")] == ["b", "a"]
    finally:
        store.close()


def test_a_sync_of_no_functions_leaves_an_error_on_the_app(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    """Measured: the sync is accepted; the app then shows the dev server's error, unless
    the sync archived functions it had."""
    without_list = {"url": app.url, "appName": app.app_id, "functions": None}
    for status, body in (client.register(app, []), client.register(app, []),
                         client.request("POST", "/fn/register", without_list)):
        # Modified each time: the same sync of an app with an error is made again.
        assert status == 200 and body["modified"] is True
        [stored] = dev.engine.store.apps()
        assert stored.error == "No functions registered within your app"
    client.register(app, [app.function("fn")])
    assert dev.engine.store.apps()[0].error is None
    assert client.register(app, [])[1]["modified"] is True
    assert dev.engine.store.apps()[0].error is None and dev.engine.store.functions() == []


def test_an_app_url_that_does_not_parse_is_refused(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    error = "Invalid request: invalid URL 'http://[::1': the host cannot be parsed"
    assert client.register(app, [app.function("fn")], url="http://[::1") == (
        400, {"error": error, "code": "bad_request", "message": error})
    assert dev.engine.store.apps() == []


def test_an_app_url_with_a_port_out_of_range_syncs_as_on_the_real_server(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    status, body = client.register(app, [app.function("fn")], url="http://127.0.0.1:99999999/a")
    assert status == 200 and body["ok"] is True
    assert [a.url for a in dev.engine.store.apps()] == ["http://localhost:99999999/a"]
    assert client.request("DELETE", "/fn/remove?url=http://127.0.0.1:99999999/a")[0] == 200


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:5/nothing"])
def test_removing_an_unknown_or_unparsable_url_is_not_found(client: Client, url: str) -> None:
    error = f"App not found: {url}"
    assert client.request("DELETE", "/fn/remove?url=" + url) == (404, {
        "error": error, "data": None, "status": 404, "code": "not_found", "message": error})


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:3000/api/inngest?deployId=1&fnId=x",
     "http://localhost:3000/api/inngest?fnId=x"),
    ("http://0.0.0.0:3000/x", "http://localhost:3000/x"),
    ("https://example.com:443/api?probe=trust", "https://example.com/api"),
    ("http://127.0.0.1/api", "http://127.0.0.1/api"),
    # Measured: the dev server spells a local host with a default port localhost.
    ("http://127.0.0.1:80/api", "http://localhost/api"),
    ("https://0.0.0.0:443/api", "https://localhost/api"),
    # Measured: a host's case is kept (only lower-case local hosts are spelled localhost),
    # a path is percent-encoded when it holds a space, a query's keys are sorted, an IPv6
    # host keeps its brackets only with a port, and a broken escape keeps the URL as is.
    ("http://LOCALHOST:80/api", "http://LOCALHOST/api"),
    ("HTTP://Localhost:443/a", "http://Localhost:443/a"),
    ("http://0.0.0.0:1/a b?x=a b&b=2&a=1&b=1", "http://localhost:1/a%20b?a=1&b=2&b=1&x=a+b"),
    ("http://127.0.0.1:1/a%20b(c)", "http://localhost:1/a%20b(c)"),
    ("http://u:p@127.0.0.1:80/a(b) c", "http://u:p@localhost/a%28b%29%20c"),
    ("http://[::1]:80/a", "http://::1/a"),
    ("http://[::1]:5000/a", "http://[::1]:5000/a"),
    ("http://localhost:/a", "http://localhost/a"),
    ("http://127.0.0.1:7/a%zz b", "http://127.0.0.1:7/a%zz b"),
])
def test_normalize_url(url: str, expected: str) -> None:
    assert registration.normalize_url(url) == expected


@pytest.mark.sockets
def test_sdk_urls_are_pinged_and_sync(app: FakeApp) -> None:
    pings: list[Call] = []

    def on_put(call: Call) -> tuple[int, dict[str, str], object]:
        pings.append(call)
        Client(dev).register(app, [app.function("fn")])
        return ok({"message": "Successfully registered"})

    app.handlers[""] = on_put
    dev = DevServer(port=0, sdk_urls=[app.url.replace("http://", "")], poll=True,
                    poll_interval=0.1)
    with dev:
        wait(lambda: len(pings) >= 2)
        [stored] = dev.engine.store.apps()
        assert stored.name == "app" and stored.error is None
    assert pings[0].method == "PUT" and pings[0].headers["x-inngest-server-kind"] == "dev"
    assert json.loads(pings[0].raw) == {"url": registration.normalize_url(app.url)}


def test_unreachable_url_keeps_an_error(app: FakeApp) -> None:
    app.close()
    with DevServer(port=0, sdk_urls=[app.url], poll=False) as dev:
        [stored] = dev.engine.store.apps()
        assert stored.error == "unreachable"


@pytest.mark.sockets
def test_ping_errors_are_recorded(app: FakeApp) -> None:
    app.handlers[""] = lambda call: (404, {}, {})
    with DevServer(port=0, sdk_urls=[app.url], poll=False) as dev:
        wait(lambda: dev.engine.store.apps()[0].error == "url_not_found")


@pytest.mark.parametrize("name, slug", [
    ("No ID: null", "no-id-null"),
    (" Héllo & Wörld @ 'x' — y ", "hello-and-world-at-x-y"),
    ("_a__b_", "a__b"),
    ("!!!", ""),
    # The dev server transliterates (zhong-wen-fn, o_ss); ours makes other letters dashes.
    ("中文 fn", "fn"),
    ("Ω_ß", ""),
])
def test_slugify_as_the_dev_server_makes_a_function_id_from_its_name(
    name: str, slug: str
) -> None:
    assert registration.slugify(name) == slug


@pytest.mark.parametrize("given", [None, "", "<absent>"])
def test_a_function_without_an_id_is_synced_under_its_name_as_a_slug(
    dev: DevServer, client: Client, app: FakeApp, given: str | None
) -> None:
    fn = {**app.function("fn"), "name": "My Function", "id": given}
    if given == "<absent>":
        del fn["id"]
    status, body = client.register(app, [fn])
    assert status == 200 and body["modified"] is True
    assert [stored.slug for stored in dev.engine.store.functions()] == ["my-function"]


def test_a_function_id_of_another_type_is_refused(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    status, body = client.register(app, [{**app.function("fn"), "id": 5}])
    assert status == 400 and "function 'fn': id must be a string, not a number" \
        in body["message"]


def test_a_sync_keeps_the_other_named_apps_at_its_url_and_replaces_its_placeholder(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    url = registration.normalize_url(app.url)
    dev.engine.store.put_app(registration.placeholder(url))
    client.register(app, [app.function("fn")])
    client.register(app, [app.function("other")], appName="other")
    assert sorted(stored.name for stored in dev.engine.store.apps()) == ["app", "other"]


def test_two_apps_with_a_function_of_one_name_at_one_step_url_keep_their_own(
    dev: DevServer, client: Client, app: FakeApp
) -> None:
    """The dev server gives both functions one ID, so the second app's sync overwrites the
    first's function and lists none (docs/compatibility.md)."""
    fn = app.function("fn")
    client.register(app, [fn])
    client.register(app, [{**fn, "id": "other-fn"}], appName="other", url=None)
    store = dev.engine.store
    by_app = {stored.name: [f.slug for f in store.functions(stored.id)] for stored in store.apps()}
    assert by_app == {"app": ["app-fn"], "other": ["other-fn"]}
    step_url = fn["steps"]["step"]["runtime"]["url"]
    assert store.function_by_slug("app-fn").id == registration.function_uuid("fn", step_url)


class _SyncAnswers:
    """A transport answering every sync request (PUT) with ``status`` and ``body``."""

    def __init__(self, status: int, body: dict[str, object], headers: dict[str, str]) -> None:
        self.answer = Response(status, headers, json.dumps(body).encode())

    def send(self, request: OutboundRequest) -> Response:
        assert request.method == "PUT", request
        return self.answer

    def close(self) -> None:
        pass


@pytest.mark.parametrize("headers, listed", [
    ({"X-Inngest-SDK": "js:v3.0.0"}, [("http://localhost:3000/api/inngest", "no_functions")]),
    ({}, []),
])
def test_a_discovered_app_whose_sdk_refuses_the_sync_is_listed_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], listed: list[tuple[str, str]]
) -> None:
    """As the dev server's discovery does: an SDK's error answer lists the app with the
    reason; an answer from something else lists nothing."""
    store = Store(":memory:")
    answers = _SyncAnswers(400, {"message": registration.NO_FUNCTIONS}, headers)
    syncer = discovery.Syncer(store, [], poll=False, discovery=True, http=answers)
    monkeypatch.setattr(syncer, "discover", lambda: ["http://127.0.0.1:3000/api/inngest"])
    syncer.sync_once(first=True)
    assert [(app.url, app.error) for app in store.apps()] == listed
