import io
import json
import socket
import threading
import types
import typing
import urllib.error
import urllib.request
import wsgiref.simple_server

import pytest
from fake_api import FakeAPI
from test_core import apps as test_core_apps

from inngest import http_server, wsgi
from inngest._client import Inngest
from inngest._function import Function
from inngest._function_config import TriggerEvent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INNGEST_DEV", "INNGEST_SIGNING_KEY", "INNGEST_SIGNING_KEY_FALLBACK",
                 "INNGEST_SERVE_ORIGIN", "INNGEST_SERVE_PATH", "INNGEST_API_BASE_URL",
                 "INNGEST_BASE_URL", "INNGEST_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI({"/fn/register": [(200, {"ok": True})]})


@pytest.fixture
def client(api: FakeAPI) -> Inngest:
    return Inngest(app_id="adapters", is_production=False, api_base_url=api.url, transport=api)


def registered(api: FakeAPI) -> list[dict[str, typing.Any]]:
    """The bodies the app registered with."""
    return [json.loads(call.body) for call in api.calls
            if call.path.split("?")[0] == "/fn/register"]


def thread_name_function(client: Inngest) -> Function:
    def handler(ctx: typing.Any) -> object:
        return threading.current_thread().name

    return client.create_function(fn_id="where", trigger=TriggerEvent(event="app/where"))(handler)


def execution_body() -> bytes:
    event = {"name": "app/where", "data": {}, "id": "evt-1", "ts": 1}
    return json.dumps({
        "event": event,
        "events": [event],
        "steps": {},
        "use_api": False,
        "ctx": {"run_id": "run-1", "attempt": 0, "disable_immediate_execution": False,
                "stack": {"stack": []}},
    }).encode()


def call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


# http_server


@pytest.fixture
def served(client: Inngest) -> typing.Iterator[http_server.InngestServer]:
    server = http_server.serve(client, [thread_name_function(client)], port=0, max_workers=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_server_inspects(served: http_server.InngestServer) -> None:
    status, headers, body = call("GET", served.url)
    assert status == 200
    assert json.loads(body)["function_count"] == 1
    assert headers["x-inngest-framework"] == "http_server"
    assert headers["x-inngest-sdk-handled"] == "true"


@pytest.mark.timeout(10)
def test_http_server_shutdown_stops_serving_at_once_and_it_can_serve_again(
    client: Inngest,
) -> None:
    # shutdown() must not wait for the loop's poll interval: an hour here.
    server = http_server.serve(client, [thread_name_function(client)], port=0)
    try:
        for _ in range(2):
            thread = threading.Thread(target=server.serve_forever, args=(3600,), daemon=True)
            thread.start()
            assert call("GET", server.url)[0] == 200
            server.shutdown()
            thread.join()
        server.shutdown()  # before serve_forever (a stop right after a start, say)
        server.serve_forever()  # returns at once
    finally:
        server.server_close()


def test_http_server_url_reports_bound_port(served: http_server.InngestServer) -> None:
    port = served.server_address[1]
    assert served.url == f"http://127.0.0.1:{port}/api/inngest"


def test_http_server_syncs_with_its_own_url(
    served: http_server.InngestServer, api: FakeAPI
) -> None:
    status, headers, body = call("PUT", served.url + "?deployId=d1")
    assert status == 200
    assert headers["x-inngest-sync-kind"] == "out_of_band"
    assert json.loads(body) == {"ok": True}
    [register] = registered(api)
    assert register["url"] == served.url
    assert register["framework"] == "http_server"


def test_http_server_runs_functions_on_its_bounded_pool(
    served: http_server.InngestServer,
) -> None:
    url = served.url + "?fnId=adapters-where&stepId=step"
    names = {json.loads(call("POST", url, execution_body())[2]) for _ in range(3)}
    assert names == {"inngest-http_0"}


def test_http_server_passes_headers_through(served: http_server.InngestServer) -> None:
    status, _, body = call("GET", served.url, headers={"X-Inngest-Server-Kind": "cloud"})
    assert (status, body) == (403, b"{}")


def test_http_server_answers_404_elsewhere(served: http_server.InngestServer) -> None:
    port = served.server_address[1]
    status, _, body = call("GET", f"http://127.0.0.1:{port}/other")
    assert status == 404
    assert json.loads(body)["message"] == "not found"


def test_http_server_rejects_other_methods_with_405(
    served: http_server.InngestServer,
) -> None:
    status, headers, body = call("DELETE", served.url)
    assert status == 405
    assert json.loads(body)["code"] == "unknown"


# WSGI under wsgiref


class _QuietWSGIHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def wsgi_url(client: Inngest) -> typing.Iterator[str]:
    app = wsgi.serve(client, [thread_name_function(client)], serve_path="/hooks/inngest")
    server = wsgiref.simple_server.make_server(
        "127.0.0.1", 0, app, handler_class=_QuietWSGIHandler
    )
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/inngest"
    server.shutdown()
    server.server_close()


def test_wsgi_inspects(wsgi_url: str) -> None:
    status, headers, body = call("GET", wsgi_url)
    assert status == 200
    assert json.loads(body)["mode"] == "dev"
    assert headers["x-inngest-framework"] == "wsgi"


def test_wsgi_syncs_with_request_url(wsgi_url: str, api: FakeAPI) -> None:
    status, _, _ = call("PUT", wsgi_url + "?x=1")
    assert status == 200
    assert registered(api)[0]["url"] == wsgi_url


def test_wsgi_executes_posted_body(wsgi_url: str) -> None:
    status, _, body = call("POST", wsgi_url + "?fnId=adapters-where", execution_body(),
                           {"content-type": "application/json"})
    assert status == 200
    assert isinstance(json.loads(body), str)


def test_wsgi_probe_and_headers(wsgi_url: str) -> None:
    status, _, body = call("POST", wsgi_url + "?probe=trust", b"")
    assert (status, body) == (200, b"null")
    status, _, body = call("GET", wsgi_url, headers={"X-Inngest-Server-Kind": "cloud"})
    assert (status, body) == (403, b"{}")


def test_wsgi_answers_404_elsewhere(wsgi_url: str) -> None:
    status, _, _ = call("GET", wsgi_url.replace("/hooks/inngest", "/api/inngest"))
    assert status == 404


# Flask


def raw_wsgi_call(app: typing.Any, method: str, body: bytes,
                  **environ: typing.Any) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app with a hand-made environ (no server in between to tidy it)."""
    base = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": "/api/inngest",
            "QUERY_STRING": "fnId=adapters-where&stepId=step", "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(), "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
            "CONTENT_LENGTH": str(len(body)), **environ}
    answer: list[typing.Any] = []
    chunks = app(base, lambda status, headers, exc=None: answer.extend([status, headers]))
    return answer[0], {k.lower(): v for k, v in answer[1]}, b"".join(chunks)


def test_wsgi_reads_each_requests_own_query(client: Inngest, api: FakeAPI) -> None:
    # Requests to one path differ in their query only: each is answered by its function.
    def other(ctx: typing.Any) -> object:
        return "other"

    other_function = client.create_function(
        fn_id="other", trigger=TriggerEvent(event="app/other"))(other)
    app = wsgi.serve(client, [thread_name_function(client), other_function])
    for _ in range(2):
        for query, answer in (("fnId=adapters-other", "other"),
                              ("fnId=adapters-where", "MainThread")):
            status, _, body = raw_wsgi_call(app, "POST", execution_body(), QUERY_STRING=query)
            assert (status, json.loads(body)) == ("200 OK", answer)
    status, _, _ = raw_wsgi_call(app, "PUT", b"", QUERY_STRING="fnId=adapters-other")
    assert status == "200 OK"
    assert registered(api)[0]["url"] == "http://localhost/api/inngest"


def test_wsgi_makes_the_url_of_an_environ_without_optional_keys(
    client: Inngest, api: FakeAPI
) -> None:
    # PEP 3333 lets a server leave out HTTP_HOST, SCRIPT_NAME and QUERY_STRING: the URL is
    # then made of SERVER_NAME and SERVER_PORT.
    app = wsgi.serve(client, [thread_name_function(client)])

    def without_optional_keys(environ: dict[str, typing.Any], start_response: typing.Any
                              ) -> typing.Iterable[bytes]:
        for key in ("HTTP_HOST", "SCRIPT_NAME", "QUERY_STRING"):
            del environ[key]
        return app(environ, start_response)

    for _ in range(2):  # the second from the cache of URLs
        status, _, _ = raw_wsgi_call(without_optional_keys, "PUT", b"",
                                     SERVER_NAME="internal.example", SERVER_PORT="8288")
        assert status == "200 OK"
    assert [sync["url"] for sync in registered(api)] == [
        "http://internal.example:8288/api/inngest"] * 2


def flask_app(client: Inngest, **config: typing.Any) -> typing.Any:
    import flask

    import inngest.flask

    app = flask.Flask("adapters")
    app.config.update(config)
    inngest.flask.serve(app, client, [thread_name_function(client)])
    return app.wsgi_app


@pytest.mark.parametrize("adapter", ["wsgi", "flask"])
@pytest.mark.parametrize("environ, message", [
    ({"CONTENT_LENGTH": "9" * 23}, "request body could not be read (OverflowError)"),
    ({"CONTENT_LENGTH": "9999"}, "request body ended before its Content-Length"),
])
def test_a_body_that_cannot_be_read_gets_a_json_400(
    client: Inngest, adapter: str, environ: dict[str, str], message: str
) -> None:
    app = wsgi.serve(client, [thread_name_function(client)]) if adapter == "wsgi" \
        else flask_app(client)
    status, headers, body = raw_wsgi_call(app, "POST", execution_body(), **environ)
    assert status.startswith("400 ") and headers["content-type"] == "application/json"
    assert json.loads(body) == {"code": "body_invalid", "message": message,
                                "name": "BodyInvalidError"}


def test_flask_answers_a_body_over_max_content_length_with_a_json_413(client: Inngest) -> None:
    status, _, body = raw_wsgi_call(flask_app(client, MAX_CONTENT_LENGTH=10), "POST",
                                    execution_body())
    assert status.startswith("413 ") and json.loads(body)["code"] == "body_invalid"


@pytest.mark.parametrize("adapter", ["wsgi", "flask"])
def test_a_body_the_server_dechunked_is_read_to_its_end(client: Inngest, adapter: str) -> None:
    # Servers that de-chunk a body say so with wsgi.input_terminated (werkzeug, gunicorn).
    app = wsgi.serve(client, [thread_name_function(client)]) if adapter == "wsgi" \
        else flask_app(client)
    status, _, body = raw_wsgi_call(app, "POST", execution_body(), CONTENT_LENGTH="",
                                    HTTP_TRANSFER_ENCODING="chunked",
                                    **{"wsgi.input_terminated": True})
    assert status.startswith("200 "), body


def test_wsgi_answers_head_as_get_without_a_body(client: Inngest) -> None:
    app = wsgi.serve(client, [thread_name_function(client)])
    head_status, head_headers, head_body = raw_wsgi_call(app, "HEAD", b"", QUERY_STRING="")
    get_status, get_headers, get_body = raw_wsgi_call(app, "GET", b"", QUERY_STRING="")
    assert head_status == get_status == "200 OK" and head_body == b"" and get_body
    assert head_headers["content-length"] == get_headers["content-length"]


def test_flask_routes_get_put_post(client: Inngest, api: FakeAPI) -> None:
    flask = pytest.importorskip("flask")
    from inngest import flask as inngest_flask

    app = flask.Flask(__name__)
    inngest_flask.serve(app, client, [thread_name_function(client)])
    test_client = app.test_client()

    got = test_client.get("/api/inngest")
    assert got.status_code == 200
    assert got.headers["x-inngest-framework"] == "flask"
    assert json.loads(got.data)["function_count"] == 1

    put = test_client.put("/api/inngest")
    assert put.status_code == 200
    assert registered(api)[0]["url"] == "http://localhost/api/inngest"

    posted = test_client.post("/api/inngest?fnId=adapters-where", data=execution_body(),
                              content_type="application/json")
    assert posted.status_code == 200
    assert posted.headers["x-inngest-sdk-handled"] == "true"

    mismatch = test_client.get("/api/inngest", headers={"X-Inngest-Server-Kind": "cloud"})
    assert (mismatch.status_code, mismatch.data) == (403, b"{}")

    assert test_client.delete("/api/inngest").status_code == 405


def test_flask_executes_after_a_hook_read_the_body(client: Inngest) -> None:
    flask = pytest.importorskip("flask")
    from inngest import flask as inngest_flask

    app = flask.Flask(__name__)
    seen: list[bytes] = []
    app.before_request(lambda: seen.append(flask.request.get_data()) and None)
    inngest_flask.serve(app, client, [thread_name_function(client)])

    posted = app.test_client().post("/api/inngest?fnId=adapters-where", data=execution_body(),
                                    content_type="application/json")
    assert posted.status_code == 200
    assert seen == [execution_body()]
    assert json.loads(posted.data) == threading.current_thread().name


def test_flask_middleware_gets_flasks_request_proxy(api: FakeAPI) -> None:
    flask = pytest.importorskip("flask")
    import werkzeug.local

    from inngest import flask as inngest_flask
    from inngest._middleware import MiddlewareSync

    seen: list[object] = []

    class Recorder(MiddlewareSync):
        def before_response(self) -> None:
            seen.append(self.raw_request)

    client = Inngest(app_id="adapters", is_production=False, api_base_url=api.url,
                     transport=api, middleware=[Recorder])
    app = flask.Flask(__name__)
    inngest_flask.serve(app, client, [thread_name_function(client)])
    posted = app.test_client().post("/api/inngest?fnId=adapters-where", data=execution_body(),
                                    content_type="application/json")
    assert posted.status_code == 200
    assert len(seen) == 1 and isinstance(seen[0], werkzeug.local.LocalProxy)


def test_flask_honours_serve_path(client: Inngest) -> None:
    flask = pytest.importorskip("flask")
    from inngest import flask as inngest_flask

    app = flask.Flask(__name__)
    inngest_flask.serve(app, client, [thread_name_function(client)], serve_path="/custom")
    assert app.test_client().get("/custom").status_code == 200
    assert app.test_client().get("/api/inngest").status_code == 404


# Django


def url_module(patterns: list[object]) -> types.ModuleType:
    module = types.ModuleType("inngest_test_urls")
    setattr(module, "urlpatterns", patterns)
    return module


@pytest.fixture
def django_client() -> typing.Any:
    pytest.importorskip("django")
    # The one configuration of the process: tests/test_inngest's apps, run in the same
    # process, route through its middleware.
    test_core_apps.configure_django()
    from django.test import Client

    return Client


def test_django_routes_get_put_post(
    client: Inngest, api: FakeAPI, django_client: typing.Any
) -> None:
    from django.test.utils import override_settings

    from inngest import django as inngest_django

    route = inngest_django.serve(client, [thread_name_function(client)])
    assert str(route.pattern) == "api/inngest"
    with override_settings(ROOT_URLCONF=url_module([route])):
        test_client = django_client(enforce_csrf_checks=True)

        got = test_client.get("/api/inngest")
        assert got.status_code == 200
        assert got["x-inngest-framework"] == "django"

        put = test_client.put("/api/inngest")
        assert put.status_code == 200
        assert registered(api)[0]["url"] == "http://testserver/api/inngest"

        posted = test_client.post("/api/inngest?fnId=adapters-where", data=execution_body(),
                                  content_type="application/json")
        assert posted.status_code == 200

        mismatch = test_client.get("/api/inngest", HTTP_X_INNGEST_SERVER_KIND="cloud")
        assert (mismatch.status_code, mismatch.content) == (403, b"{}")

        deleted = test_client.delete("/api/inngest")
        assert deleted.status_code == 405
        assert json.loads(deleted.content)["code"] == "unknown"


def raw_put(port: int, host: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"PUT /api/inngest HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("from_env", [False, True])
def test_sync_ignores_a_forged_host_when_serve_origin_is_set(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch, from_env: bool
) -> None:
    """Finding 9: an unsigned PUT with Host: attacker.example registered the attacker's URL."""
    client = Inngest(app_id="adapters", is_production=True, signing_key="signkey-prod-12ab",
                     api_base_url=api.url, transport=api)
    options = {"serve_origin": "https://shop.example"}
    if from_env:
        monkeypatch.setenv("INNGEST_SERVE_ORIGIN", options.pop("serve_origin"))
    server = http_server.serve(client, [thread_name_function(client)], port=0, **options)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        answer = raw_put(server.server_address[1], "attacker.example")
    finally:
        server.shutdown()
        server.server_close()
    assert answer.startswith(b"HTTP/1.1 200 ")
    [register] = registered(api)
    assert register["url"] == "https://shop.example/api/inngest"
    assert all(step["runtime"]["url"].startswith("https://shop.example/api/inngest?")
               for fn in register["functions"] for step in fn["steps"].values())


def test_sync_from_the_host_header_is_logged_as_a_risk(
    api: FakeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = Inngest(app_id="adapters", is_production=True, signing_key="signkey-prod-12ab",
                     api_base_url=api.url, transport=api)
    server = http_server.serve(client, [thread_name_function(client)], port=0)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        raw_put(server.server_address[1], "attacker.example")
    finally:
        server.shutdown()
        server.server_close()
    assert registered(api)[0]["url"] == "http://attacker.example/api/inngest"
    assert any("taken from the request's Host header" in record.getMessage()
               and "serve_origin" in record.getMessage() for record in caplog.records)
