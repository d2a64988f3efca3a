"""The Transport protocol: the client's outbound calls, the loopback, the urllib3 default."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import typing

import pytest

import inngest
from inngest._handler import CommHandler, Request
from inngest._loopback import LoopbackTransport, app_endpoint
from inngest._transport import OutboundRequest, Response, TransportError, Urllib3Transport


class Recorder:
    """A transport that answers every request with one canned response."""

    def __init__(self, answer: Response) -> None:
        self.answer = answer
        self.requests: list[OutboundRequest] = []

    def send(self, request: OutboundRequest) -> Response:
        self.requests.append(request)
        return self.answer

    def close(self) -> None:
        pass


def _json(status: int, body: object) -> Response:
    return Response(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def test_send_sync_goes_through_the_clients_transport() -> None:
    recorder = Recorder(_json(200, {"ids": ["e1"], "status": 200}))
    client = inngest.Inngest(app_id="app", is_production=False, event_key="key",
                             event_api_base_url="http://events.test:9", transport=recorder)

    assert client.send_sync(inngest.Event(name="a/b", data={"x": 1})) == ["e1"]
    [request] = recorder.requests
    assert (request.method, request.url) == ("POST", "http://events.test:9/e/key")
    [event] = json.loads(typing.cast(bytes, request.body))
    assert event["name"] == "a/b" and event["data"] == {"x": 1}


def test_an_out_of_band_sync_registers_through_the_clients_transport() -> None:
    recorder = Recorder(_json(200, {"ok": True}))
    client = inngest.Inngest(app_id="app", is_production=False,
                             api_base_url="http://api.test", transport=recorder)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="a/b"))
    def fn(ctx: inngest.ContextSync) -> None:
        return None

    handler = CommHandler(client, [fn], "wsgi")
    response = handler.handle(Request("PUT", "http://app.test/api/inngest", {}))

    assert response.status == 200
    [request] = recorder.requests
    assert request.url == "http://api.test/fn/register"
    assert json.loads(typing.cast(bytes, request.body))["url"] == "http://app.test/api/inngest"


def test_loopback_routes_by_origin_and_refuses_unknown_ones() -> None:
    client = inngest.Inngest(app_id="app", is_production=False)

    @client.create_function(fn_id="fn", trigger=inngest.TriggerEvent(event="a/b"))
    def fn(ctx: inngest.ContextSync) -> None:
        return None

    loopback = LoopbackTransport()
    loopback.mount("http://App.Test", app_endpoint(CommHandler(client, [fn], "wsgi")))

    response = loopback.send(OutboundRequest("GET", "http://app.test/api/inngest", {}))
    assert response.status == 200
    assert json.loads(response.body)["function_count"] == 1
    with pytest.raises(TransportError):
        loopback.send(OutboundRequest("GET", "http://app.test:81/api/inngest", {}))


class _Big(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"x" * 1000
        self.send_response(200)
        self.send_header("X-Mixed-Case", "yes")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def big_server() -> typing.Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Big)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_urllib3_transport_reads_at_most_one_byte_past_the_limit(big_server: str) -> None:
    transport = Urllib3Transport()
    try:
        limited = OutboundRequest("GET", big_server, {}, max_response_bytes=100)
        response = transport.send(limited)
        assert len(response.body) == 101
        assert response.headers["X-Mixed-Case"] == "yes"
        assert len(transport.send(OutboundRequest("GET", big_server, {})).body) == 1000
    finally:
        transport.close()


def test_urllib3_transport_raises_transport_error_without_a_response() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = Urllib3Transport()
    with pytest.raises(TransportError):
        transport.send(OutboundRequest("GET", f"http://127.0.0.1:{port}/", {}, timeout=2.0))
