"""The engine refuses requests a web page elsewhere could make, and serves its console."""

from __future__ import annotations

import json
import socket
import typing

import pytest

from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.http.api import Api
from inngest._engine.store import Store

EVENT = json.dumps({"name": "app/hello", "data": {}}).encode()
QUERY = json.dumps({"query": "{ apps { id } }"}).encode()


@pytest.fixture
def api() -> typing.Iterator[Api]:
    store = Store(":memory:")
    yield Api(Engine(store, Settings()), {"host": "127.0.0.1", "port": 8288})
    store.close()


def call(api: Api, method: str, path: str, body: bytes = b"",
         **headers: str) -> tuple[int, dict[str, str], bytes]:
    return api.handle(method, path, {}, {"content-type": "application/json",
                                         **{k.replace("_", "-"): v for k, v in headers.items()}},
                      body)


@pytest.mark.parametrize("host", [
    "127.0.0.1:8288", "localhost:8288", "LOCALHOST", "[::1]:8288", "10.1.2.3:9000",
])
def test_sdk_requests_without_origin_are_served(api: Api, host: str) -> None:
    status, _, body = call(api, "POST", "/e/key", EVENT, host=host)
    assert status == 200, body
    assert len(json.loads(body)["ids"]) == 1


def test_a_request_without_host_or_origin_is_served(api: Api) -> None:
    assert call(api, "POST", "/v0/gql", QUERY)[0] == 200


@pytest.mark.parametrize("host", ["evil.example:8288", "evil.example", "127.0.0.1.nip.io",
                                  "localhost:notaport", ""])
@pytest.mark.parametrize("method, path", [("GET", "/v1/events"), ("POST", "/e/key"),
                                          ("GET", "/"), ("POST", "/v0/gql")])
def test_a_host_naming_another_site_is_refused(api: Api, host: str, method: str,
                                               path: str) -> None:
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host."""
    status, _, body = call(api, method, path, EVENT, host=host)
    assert status == 403
    assert json.loads(body)["code"] == "forbidden"
    assert api.engine.store.recent_events(10) == []


def test_verdicts_hold_across_many_host_names(api: Api) -> None:
    """Each Host value is judged once and remembered; many names do not change a verdict."""
    for index in range(600):
        assert call(api, "GET", "/health", host=f"evil{index}.example")[0] == 403
        assert call(api, "GET", "/health", host=f"127.0.0.1:{index + 1}")[0] == 200
    assert call(api, "GET", "/health", host="evil0.example")[0] == 403
    assert call(api, "POST", "/e/key", EVENT, host="localhost:8288")[0] == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:3000",
                                    "https://127.0.0.1:8288", "http://127.0.0.1:8289"])
@pytest.mark.parametrize("path, body", [("/e/key", EVENT), ("/v0/gql", QUERY),
                                        ("/fn/register", b"{}")])
def test_state_changing_requests_from_another_origin_are_refused(
        api: Api, origin: str, path: str, body: bytes) -> None:
    status, headers, _ = call(api, "POST", path, body, host="127.0.0.1:8288", origin=origin)
    assert status == 403
    assert "access-control-allow-origin" not in headers
    assert api.engine.store.recent_events(10) == []


def test_the_console_own_origin_may_change_state(api: Api) -> None:
    status, _, _ = call(api, "POST", "/e/key", EVENT, host="localhost:8288",
                        origin="http://localhost:8288")
    assert status == 200
    assert len(api.engine.store.recent_events(10)) == 1


def test_reads_from_another_origin_get_no_cors_grant(api: Api) -> None:
    status, headers, _ = call(api, "GET", "/v1/events", host="127.0.0.1:8288",
                              origin="http://evil.example")
    assert status == 200
    assert "access-control-allow-origin" not in headers
    status, headers, _ = call(api, "OPTIONS", "/v0/gql", host="127.0.0.1:8288",
                              origin="http://evil.example")
    assert not any(name.startswith("access-control-") for name in headers)


def test_a_wildcard_bound_engine_holds_only_browsers_to_its_names() -> None:
    store = Store(":memory:")
    api = Api(Engine(store, Settings()), {"host": "0.0.0.0"})
    try:
        # SDKs in other containers reach it by a service name, without an Origin.
        assert call(api, "POST", "/e/key", EVENT, host="engine:8288")[0] == 200
        # A browser page whose name was rebound to this machine sends an Origin.
        assert call(api, "POST", "/e/key", EVENT, host="evil.example:8288",
                    origin="http://evil.example:8288")[0] == 403
        assert call(api, "GET", "/v1/events", host="evil.example:8288",
                    origin="http://evil.example:8288")[0] == 403
        for name in (socket.gethostname(), "host.docker.internal", "192.168.1.20"):
            assert call(api, "POST", "/e/key", EVENT, host=f"{name}:8288",
                        origin=f"http://{name}:8288")[0] == 200
        assert len(store.recent_events(10)) == 4
    finally:
        store.close()


def test_the_console_is_served_at_the_root(api: Api) -> None:
    status, headers, body = call(api, "GET", "/", host="127.0.0.1:8288")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert b"<script type=\"module\"" in body
    status, headers, body = call(api, "GET", "/console/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("name", ["../__init__.py", "..%2f__init__.py", "missing.js",
                                  "static/app.js", ".hidden.js", "app.py"])
def test_only_console_files_are_served(api: Api, name: str) -> None:
    assert call(api, "GET", f"/console/{name}")[0] == 404


@pytest.mark.parametrize("path", ["/runs", "/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ", "/events",
                                  "/events/01HZZZZZZZZZZZZZZZZZZZZZZZ", "/functions", "/apps"])
def test_console_pages_have_paths_too(api: Api, path: str) -> None:
    status, headers, _ = call(api, "GET", path)
    assert status == 200 and headers["content-type"].startswith("text/html")


def test_other_paths_stay_json_404s(api: Api) -> None:
    for path in ("/runs/a/b", "/nope", "/v1/nope"):
        status, headers, _ = call(api, "GET", path)
        assert status == 404 and headers["content-type"] == "application/json"
