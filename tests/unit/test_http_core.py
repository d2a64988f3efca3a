"""The HTTP core under both the SDK's stdlib server and the engine, over real loopback sockets:
slow, idle, oversized and malformed clients get bounded answers and starve no one."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
import time
import typing

import pytest

import inngest
from inngest import _http_core, http_server
from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.http.api import Api, Server
from inngest._engine.http.server import DevServer
from inngest._engine.store import Store
from inngest._http_core import (
    CoreServer, HTTPRequest, HTTPResponse, Limits, Takeover, after_response,
)

pytestmark = pytest.mark.sockets

Serving = typing.Callable[..., int]
T = typing.TypeVar("T")


@pytest.fixture
def app() -> typing.Iterator[Serving]:
    """Start the SDK's stdlib server with the given ``serve`` options; return its port."""
    servers: list[http_server.InngestServer] = []

    def start(**options: typing.Any) -> int:
        client = inngest.Inngest(app_id="core-test", is_production=False)
        server = http_server.serve(client, [], port=0, **options)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def engine_port() -> typing.Iterator[int]:
    store = Store()
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), max_workers=2)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    store.close()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


_unread: dict[int, bytes] = {}


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response, read by its Content-Length (bytes past it wait for the next call)."""
    data = _unread.pop(id(sock), b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    length = int(headers["content-length"])
    _unread[id(sock)] = body[length:]
    return int(lines[0].split()[1]), headers, body[:length]


def ask(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(port) as sock:
        sock.sendall(raw)
        return read_response(sock)


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


INSPECT = b"GET /api/inngest HTTP/1.1\r\nHost: app\r\n\r\n"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_slow_clients_do_not_starve_the_app(app: Serving) -> None:
    """Finding 1: 8 clients trickling a request head held all 8 workers for minutes."""
    port = app(max_workers=2)
    slow = [connect(port) for _ in range(8)]
    try:
        for sock in slow:
            sock.sendall(b"POST /api/inngest HTTP/1.1\r\nHost: app\r\n")
        status, _, body = ask(port, INSPECT)  # times out (5 s) if a slow client holds a worker
        assert status == 200 and json.loads(body)["function_count"] == 0
    finally:
        for sock in slow:
            sock.close()


def test_idle_connections_do_not_delay_engine_health(engine_port: int) -> None:
    """Finding 1: 40 idle connections delayed the engine's /health by 29 s."""
    idle = [connect(engine_port) for _ in range(40)]
    try:
        status, _, body = ask(engine_port, HEALTH)
        assert status == 200 and json.loads(body)["status"] == 200
    finally:
        for sock in idle:
            sock.close()


def test_request_deadline_covers_the_whole_request(app: Serving) -> None:
    """A client sending a byte more often than any per-read timeout is still cut off."""
    port = app(request_timeout=0.3)
    with connect(port) as sock:
        started = time.monotonic()
        answer = b""
        for byte in b"POST /api/inngest HTTP/1.1\r\nHost: app\r\nX-Slow: " + b"a" * 200:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            # Until the server answers (it then drains what is still sent for a while).
            if select.select([sock], [], [], 0.05)[0] or time.monotonic() - started > 2:
                break
        try:
            answer = sock.recv(65536)
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"code": "request_timeout"' in answer


def test_oversized_body_is_refused_before_it_is_read(app: Serving) -> None:
    """Finding 2: an unsigned 400 MB POST was read whole into memory before any check."""
    port = app()
    with connect(port) as sock:
        sock.sendall(b"POST /api/inngest?fnId=x HTTP/1.1\r\nHost: app\r\n"
                     b"Content-Length: 400000000\r\n\r\n" + b"{" * 1024)
        status, headers, body = read_response(sock)
        assert closed_by_server(sock)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body) == {
        "code": "body_too_large", "message": "request body over 16777216 bytes"}


def test_body_limit_is_configurable(app: Serving) -> None:
    port = app(max_body_bytes=10)
    status, _, _ = ask(port, b"POST /api/inngest HTTP/1.1\r\nHost: app\r\n"
                             b"Content-Length: 11\r\n\r\n")
    assert status == 413


def test_engine_refuses_oversized_bodies_before_reading(engine_port: int) -> None:
    status, _, body = ask(engine_port, b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       b"Content-Length: 400000000\r\n\r\n[]")
    assert status == 413 and json.loads(body)["code"] == "body_too_large"


@pytest.mark.parametrize("lengths", [
    ["abc"], ["-1"], ["1, 1"], ["+5"], ["0x10"], ["99999999999999999999"], ["1", "2"],
])
def test_bad_content_length_is_a_400_without_traceback(
    app: Serving, lengths: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    """Finding 6: a bad Content-Length dropped the connection with a traceback on stderr."""
    port = app()
    head = "".join(f"Content-Length: {value}\r\n" for value in lengths)
    status, _, body = ask(port, f"POST /api/inngest HTTP/1.1\r\nHost: app\r\n{head}\r\n"
                                "{}".encode())
    assert status == 400 and json.loads(body)["code"] == "content_length_invalid"
    assert capfd.readouterr().err == ""


def test_malformed_request_line_is_a_400(engine_port: int) -> None:
    status, _, body = ask(engine_port, b"GARBAGE\r\n\r\n")
    assert status == 400 and json.loads(body) == {
        "code": "bad_request", "message": "malformed request line"}


@pytest.mark.parametrize("version", ["2.0", "0.9", "3.1"])
def test_an_http_major_version_other_than_1_is_a_505(engine_port: int, version: str) -> None:
    """As the real server: it was a 400 (malformed request line)."""
    status, headers, body = ask(engine_port, f"GET /health HTTP/{version}\r\n"
                                             f"Host: 127.0.0.1\r\n\r\n".encode())
    assert status == 505 and headers["connection"] == "close"
    assert json.loads(body) == {"code": "http_version_not_supported",
                                "message": f"HTTP/{version} is not supported: send HTTP/1.1"}


def test_a_later_http_1_minor_version_is_answered_as_1_1(engine_port: int) -> None:
    status, headers, _ = ask(engine_port, HEALTH.replace(b"HTTP/1.1", b"HTTP/1.2"))
    assert status == 200 and headers["connection"] == "keep-alive"


@pytest.mark.parametrize("method, target", [
    ("GET", "health"), ("POST", "e/key"), ("GET", "*"), ("GET", "127.0.0.1:8288"),
])
def test_a_request_target_that_is_not_a_path_is_a_400(
    engine_port: int, method: str, target: str
) -> None:
    """As the real server: ``GET health`` reached the routes as a path and got a 404."""
    status, _, body = ask(engine_port, f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       f"Content-Length: 2\r\n\r\n[]".encode())
    assert status == 400 and json.loads(body) == {
        "code": "bad_request", "message": "malformed request target: it must start with /"}


@pytest.mark.parametrize("request_line, expected", [
    (b"OPTIONS * HTTP/1.1", 204), (b"GET http://127.0.0.1/health HTTP/1.1", 200),
    (b"GET HTTP://127.0.0.1:8288/health HTTP/1.1", 200),
])
def test_options_star_and_absolute_urls_are_served(
    engine_port: int, request_line: bytes, expected: int
) -> None:
    status, _, _ = ask(engine_port, request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == expected


def test_an_http_1_1_request_without_host_is_a_400(engine_port: int, app: Serving) -> None:
    """As the real server: it was answered (200)."""
    for port in (engine_port, app()):
        status, headers, body = ask(port, b"GET /health HTTP/1.1\r\n\r\n")
        assert status == 400 and headers["connection"] == "close"
        assert json.loads(body) == {"code": "host_missing",
                                    "message": "an HTTP/1.1 request must have a Host header"}


def test_an_http_1_0_request_may_omit_host(engine_port: int) -> None:
    assert ask(engine_port, b"GET /health HTTP/1.0\r\n\r\n")[0] == 200


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_two_host_headers_are_a_400(engine_port: int, version: str) -> None:
    """As the real server: the first was used, and passed the engine's Host guard, while a
    proxy in front could have taken the second."""
    status, _, body = ask(engine_port, f"GET /health HTTP/{version}\r\nHost: 127.0.0.1\r\n"
                                       f"Host: evil.com\r\n\r\n".encode())
    assert status == 400 and json.loads(body) == {
        "code": "host_invalid", "message": "more than one Host header"}


@pytest.mark.parametrize("newline, last_newline", [
    (b"\n", b"\n"), (b"\r\n", b"\n"), (b"\n", b"\r\n"),
])
def test_header_lines_may_end_in_a_bare_lf(
    engine_port: int, newline: bytes, last_newline: bytes
) -> None:
    """As the real server (RFC 9112 allows it): the core waited for CRLF CRLF, and answered
    408 after the 30 s request deadline. Two requests on one connection check that the
    first's body was taken from the right place."""
    event = json.dumps({"name": "app/lf", "data": {}}).encode()
    request = newline.join([b"POST /e/key HTTP/1.1", b"Host: 127.0.0.1",
                            b"Content-Length: %d" % len(event)]) + newline + last_newline + event
    with connect(engine_port) as sock:
        sock.sendall(request + request)
        for _ in range(2):
            status, _, body = read_response(sock)
            assert status == 200 and len(json.loads(body)["ids"]) == 1
        sock.sendall(b"GET /health HTTP/1.1\nHost: 127.0.0.1\n\n")
        status, _, body = read_response(sock)
        assert status == 200 and json.loads(body)["status"] == 200


@pytest.mark.parametrize("value", [b"a\rb", b"ab\r", b"a\x00b", b"a\x01b", b"a\x1fb",
                                   b"a\x7fb"])
def test_a_header_value_with_a_control_character_is_a_400(
    engine_port: int, app: Serving, value: bytes
) -> None:
    """As the real server: it was answered (200); a bare CR or a NUL splits the line for
    some readers and not for others."""
    for port, path in ((engine_port, b"/health"), (app(), b"/api/inngest")):
        status, headers, body = ask(port, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                          b"X-A: %s\r\n\r\n" % (path, value))
        assert status == 400 and headers["connection"] == "close"
        assert json.loads(body) == {
            "code": "bad_request", "message": "invalid header value: X-A has a control character"}
        # Tabs and bytes past ASCII are allowed, as there.
        assert ask(port, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"X-A: a\tb\x80\xff\r\n\r\n" % path)[0] == 200


@pytest.mark.parametrize("name", [b"X-\x00A", b"X-\rA", b"X-\x01A", b"X A", b"X-\x7fA",
                                  b"X-\x80A", b"X-[A]", b"X-A\"", b"X/A"])
def test_a_header_name_that_is_not_a_token_is_a_400(
    engine_port: int, app: Serving, name: bytes
) -> None:
    """As the real server: it was answered (200)."""
    for port in (engine_port, app()):
        status, _, body = ask(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    b"%s: a\r\n\r\n" % name)
        assert status == 400 and json.loads(body) == {
            "code": "bad_request", "message": "invalid header name"}


def test_a_bare_cr_in_host_is_a_400_not_a_403(engine_port: int) -> None:
    status, _, body = ask(engine_port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\rx\r\n\r\n")
    assert status == 400 and json.loads(body)["message"] == (
        "invalid header value: Host has a control character")


@pytest.mark.parametrize("host", [b"127.0.0.1\xe9", b"127.0.0.1\xc3\xa9", b"a b", b"a/b",
                                  b"user@127.0.0.1", b"a{b}", b'"a"'])
def test_a_host_with_a_byte_no_host_name_has_is_a_400(
    engine_port: int, app: Serving, host: bytes
) -> None:
    """As Go's net/http refuses it (the engine answered its guard's 403, or served a
    ``127.0.0.1/x``); on an app's server too."""
    for port in (engine_port, app()):
        status, headers, body = ask(port, b"GET /health HTTP/1.1\r\nHost: %s\r\n\r\n" % host)
        assert status == 400 and headers["connection"] == "close"
        assert json.loads(body) == {"code": "host_invalid", "message": "malformed Host header"}
    assert ask(engine_port, b"GET /health HTTP/1.1\r\nHost: [::1]:8288\r\n\r\n")[0] == 200


@pytest.mark.parametrize("expectation", [b"something", b"caf\xe9", b"100-continuex"])
def test_an_expectation_other_than_100_continue_is_a_417(
    engine_port: int, expectation: bytes
) -> None:
    """RFC 9110 section 10.1.1, as the real server: it was ignored (200). 100-continue among
    other values is met."""
    event = b'{"name": "app/expect"}'
    head = b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % len(event)
    status, headers, body = ask(engine_port, head + b"Expect: %s\r\n\r\n" % expectation + event)
    assert status == 417 and headers["connection"] == "close"
    assert json.loads(body)["code"] == "expectation_failed"
    assert ask(engine_port, head + b"Expect: 100-Continue, x\r\n\r\n" + event)[0] == 200


@pytest.mark.parametrize("target", [b"/hea\x00lth", b"/health\x01", b"/health\x7f"])
def test_a_request_target_with_a_control_character_is_a_400(
    engine_port: int, target: bytes
) -> None:
    """As the real server: a NUL in the path reached the routes (404)."""
    status, _, body = ask(engine_port, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target)
    assert status == 400 and json.loads(body) == {
        "code": "bad_request", "message": "malformed request line"}


@pytest.mark.parametrize("target", [b"/health%zz", b"/health%", b"/health%2",
                                    b"/he%zzalth?x=1", b"/health#%zz",
                                    b"http://127.0.0.1/health%zz"])
def test_a_request_target_with_a_bad_escape_in_its_path_is_a_400(
    engine_port: int, target: bytes
) -> None:
    """As the real server, whose request parser refuses it (ours routed it: a 404)."""
    status, _, body = ask(engine_port, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target)
    assert status == 400 and json.loads(body) == {
        "code": "bad_request", "message": "malformed request target: invalid URL escape"}


def test_a_bad_escape_in_the_query_is_left_to_the_route(engine_port: int) -> None:
    status, _, _ = ask(engine_port, b"GET /health?x=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 200


@pytest.fixture
def echo() -> typing.Iterator[Serving]:
    """Start a core server answering each request with its body; return its port."""
    servers: list[CoreServer] = []

    def start(**limits: typing.Any) -> int:
        def handler(request: HTTPRequest) -> HTTPResponse:
            return 200, {}, request.body

        options = {"max_body_bytes": 64, "max_buffered_bytes": 1024, **limits}
        server = CoreServer(("127.0.0.1", 0), handler, Limits(**options), 2, "echo")
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


CHUNKED = b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize("chunks, body", [
    (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
    (b"0\r\n\r\n", b""),
    (b"5;name=value\r\nhello\r\n6 ; x ; y=\"z\"\r\n world\r\n0;last\r\n\r\n", b"hello world"),
    (b"3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n", b"abc"),
    (b"a\r\n0123456789\r\nB\r\n0123456789A\r\n0\r\n\r\n", b"01234567890123456789A"),
    (b"0005\nhello\n0\n\n", b"hello"),
])
def test_chunked_request_bodies_are_decoded(echo: Serving, chunks: bytes, body: bytes) -> None:
    """The real server takes chunked bodies; the core answered 411. A second request on the
    connection checks that the first ended where its last chunk did."""
    with connect(echo()) as sock:
        sock.sendall(CHUNKED + chunks + CHUNKED + b"2\r\nok\r\n0\r\n\r\n")
        assert read_response(sock)[::2] == (200, body)
        assert read_response(sock)[::2] == (200, b"ok")


def test_a_chunked_body_sent_byte_by_byte_is_decoded(echo: Serving) -> None:
    with connect(echo()) as sock:
        sock.sendall(CHUNKED.replace(b"chunked", b"Chunked"))
        for byte in b"4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n":
            sock.sendall(bytes([byte]))
            time.sleep(0.002)
        status, headers, body = read_response(sock)
    assert (status, body, headers["connection"]) == (200, b"Wikipedia", "keep-alive")


def test_the_engine_takes_a_chunked_event(engine_port: int) -> None:
    event = json.dumps({"name": "app/chunked", "data": {"n": 1}}).encode()
    status, _, body = ask(engine_port, CHUNKED.replace(b"/echo", b"/e/key")
                          + b"%x\r\n%s\r\n0\r\n\r\n" % (len(event), event))
    assert status == 200 and len(json.loads(body)["ids"]) == 1


@pytest.mark.parametrize("chunks", [
    b"40\r\n" + b"x" * 64 + b"\r\n1\r\n",  # the second chunk passes the limit
    b"ffffffffffffffff\r\n",  # refused before any data is read
])
def test_a_chunked_body_over_the_limit_is_a_413(echo: Serving, chunks: bytes) -> None:
    status, headers, body = ask(echo(), CHUNKED + chunks)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body) == {"code": "body_too_large", "message": "request body over 64 bytes"}


@pytest.mark.parametrize("chunks, message", [
    (b"zz\r\nhello\r\n0\r\n\r\n", "malformed chunk size line b'zz'"),
    (b"-5\r\nhello\r\n0\r\n\r\n", "malformed chunk size line b'-5'"),
    (b"0x5\r\nhello\r\n0\r\n\r\n", "malformed chunk size line b'0x5'"),
    (b" 5\r\nhello\r\n0\r\n\r\n", "malformed chunk size line b' 5'"),
    (b"\r\n", "malformed chunk size line b''"),
    (b"5\rx\r\nhello\r\n0\r\n\r\n", "malformed chunk size line b'5\\rx'"),
    (b"1" * 17 + b"\r\n", "malformed chunk size line b'" + "1" * 17 + "'"),
    (b"5\r\nhello world\r\n0\r\n\r\n", "chunk data is longer than its size"),
    (b"5\r\nhello\r\r\n0\r\n\r\n", "chunk data is longer than its size"),
    (b"1;" + b"x" * 5000, "a chunk line is too long"),
    (b"1;" + b"x" * 3000 + b"\r\nx\r\n" + b"1;" + b"x" * 3000 + b"\r\nx\r\n"
     + b"1;" + b"x" * 3000 + b"\r\nx\r\n" + b"1;" + b"x" * 3000 + b"\r\nx\r\n"
     + b"1;" + b"x" * 3000 + b"\r\nx\r\n" + b"1;" + b"x" * 3000 + b"\r\nx\r\n",
     "too many chunk framing bytes for the data"),
])
def test_malformed_chunking_is_a_400(echo: Serving, chunks: bytes, message: str) -> None:
    status, headers, body = ask(echo(), CHUNKED + chunks)
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body) == {"code": "chunked_body_invalid", "message": message}


def test_chunked_trailers_are_bounded(echo: Serving) -> None:
    status, _, body = ask(echo(max_head_bytes=1024),
                          CHUNKED + b"0\r\n" + b"X-Trailer: 0123456789\r\n" * 100)
    assert status == 431 and json.loads(body)["code"] == "head_too_large"


def test_transfer_encoding_with_content_length_is_a_400(echo: Serving) -> None:
    """Refused, where the real server reads the body as chunked: a proxy in front that frames
    by Content-Length would see another request boundary (request smuggling)."""
    status, _, body = ask(echo(), CHUNKED.replace(b"\r\n\r\n", b"\r\nContent-Length: 9\r\n\r\n")
                          + b"2\r\nok\r\n0\r\n\r\n")
    assert status == 400 and json.loads(body) == {
        "code": "transfer_encoding_invalid",
        "message": "a request may not have both Transfer-Encoding and Content-Length"}


@pytest.mark.parametrize("codings", [
    [b"gzip"], [b"gzip, chunked"], [b"chunked, gzip"], [b"chunked", b"gzip"], [b"identity"],
])
def test_transfer_codings_other_than_chunked_are_a_501(
    echo: Serving, codings: list[bytes]
) -> None:
    head = b"".join(b"Transfer-Encoding: %s\r\n" % coding for coding in codings)
    status, headers, body = ask(echo(), b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n" + head
                                + b"\r\n2\r\nok\r\n0\r\n\r\n")
    assert status == 501 and headers["connection"] == "close"
    assert json.loads(body)["code"] == "transfer_encoding_unsupported"


def test_transfer_encoding_in_an_http_1_0_request_is_a_400(echo: Serving) -> None:
    status, _, body = ask(echo(), CHUNKED.replace(b"HTTP/1.1", b"HTTP/1.0")
                          + b"2\r\nok\r\n0\r\n\r\n")
    assert status == 400 and json.loads(body)["code"] == "transfer_encoding_invalid"


def test_an_unfinished_chunked_body_gets_the_request_deadline(echo: Serving) -> None:
    """All its bytes read and decoded, the connection still holds a request in progress."""
    with connect(echo(request_timeout=0.3)) as sock:
        sock.sendall(CHUNKED + b"5\r\nhello\r\n")
        status, _, body = read_response(sock)
    assert status == 408 and json.loads(body)["code"] == "request_timeout"


def test_chunked_bodies_count_against_the_memory_budget(echo: Serving) -> None:
    port = echo(max_body_bytes=60, max_buffered_bytes=100)
    with connect(port) as first:
        first.sendall(CHUNKED + b"3c\r\n[")  # 60 bytes announced
        time.sleep(0.2)  # until the server has reserved them
        status, _, body = ask(port, CHUNKED + b"3c\r\n")
        assert status == 503 and json.loads(body)["code"] == "server_busy"
        first.sendall(b"x" * 59 + b"\r\n0\r\n\r\n")
        assert read_response(first)[0] == 200
    assert ask(port, CHUNKED + b"3c\r\n" + b"x" * 60 + b"\r\n0\r\n\r\n")[0] == 200


def test_connections_past_the_limit_get_a_503(echo: Serving) -> None:
    """At the limit with every connection sending a body, a newcomer is refused, and the
    bodies being sent are not cut off for it."""
    port = echo(max_connections=2)
    held = [connect(port) for _ in range(2)]
    try:
        for sock in held:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nab")
        time.sleep(0.1)  # until the server has read their heads
        status, _, body = ask(port, ECHO_HEAD)
        assert status == 503 and json.loads(body)["code"] == "server_busy"
        for sock in held:
            sock.sendall(b"cd")
            assert read_response(sock)[::2] == (200, b"abcd")
    finally:
        for sock in held:
            sock.close()


ECHO_HEAD = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def still_open(sock: socket.socket) -> bool:
    """Whether the server has neither closed ``sock`` nor answered on it (no waiting)."""
    return not select.select([sock], [], [], 0)[0]


def test_slow_heads_make_room_for_a_new_client(echo: Serving) -> None:
    """Slowloris: clients trickling request heads fill every place; a new client is still
    served (it was a 503), by closing the connection that has waited longest for its head."""
    port = echo(max_connections=4)
    slow: list[socket.socket] = []
    try:
        for _ in range(8):  # the last 4 push the first 4 out, oldest first
            slow.append(connect(port))
            slow[-1].sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            time.sleep(0.02)  # so that the server has it before the next one
        assert all(closed_by_server(sock) for sock in slow[:4])
        assert all(still_open(sock) for sock in slow[4:])
        assert ask(port, ECHO_HEAD)[0] == 200
        assert closed_by_server(slow[4])
        # A slow head that is complete before four newer ones arrive is served.
        slow[5].sendall(b"Content-Length: 2\r\n\r\nok")
        assert read_response(slow[5])[::2] == (200, b"ok")
    finally:
        for sock in slow:
            sock.close()


def test_an_idle_connection_makes_room_before_a_slow_head(echo: Serving) -> None:
    port = echo(max_connections=2)
    with connect(port) as slow, connect(port) as kept:
        slow.sendall(b"POST /echo HTTP/1.1\r\n")
        kept.sendall(ECHO_HEAD)
        assert read_response(kept)[0] == 200
        time.sleep(0.1)  # until the server has the answered connection back as idle
        assert ask(port, ECHO_HEAD)[0] == 200
        assert closed_by_server(kept)
        assert still_open(slow)
        slow.sendall(b"Host: 127.0.0.1\r\n\r\n")
        assert read_response(slow)[0] == 200


def test_slow_heads_do_not_hold_engine_health() -> None:
    store = Store()
    limits = Limits(max_body_bytes=100, max_buffered_bytes=100, max_connections=4)
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), 2, limits)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = int(server.server_address[1])
    slow = [connect(port) for _ in range(8)]
    try:
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\n")
        status, _, body = ask(port, HEALTH)
        assert status == 200 and json.loads(body)["status"] == 200
    finally:
        for sock in slow:
            sock.close()
        server.shutdown()
        server.server_close()
        store.close()


def until(attempt: typing.Callable[[], T], done: typing.Callable[[T], bool]) -> T:
    """``attempt()`` every 20 ms, for a second at most, until ``done`` with its result."""
    deadline = time.monotonic() + 1
    while not done(result := attempt()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def test_idle_keep_alive_connections_make_room_for_new_ones(app: Serving) -> None:
    port = app(max_connections=1)
    with connect(port) as kept:
        kept.sendall(INSPECT)
        assert read_response(kept)[0] == 200
        time.sleep(0.1)  # until the server has the answered connection back as idle
        assert ask(port, INSPECT)[0] == 200
        assert closed_by_server(kept)


def test_idle_keep_alive_connections_are_closed() -> None:
    store = Store()
    limits = Limits(max_body_bytes=100, max_buffered_bytes=100, keep_alive_timeout=0.05)
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), 2, limits)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with connect(int(server.server_address[1])) as sock:
            sock.sendall(HEALTH)
            assert read_response(sock)[1]["connection"] == "keep-alive"
            assert closed_by_server(sock)  # within the 5 s socket timeout
    finally:
        server.shutdown()
        server.server_close()
        store.close()


HAND_BACKS = pytest.mark.parametrize("shared", [True, False],
                                     ids=["registered-by-worker", "woken-by-pipe"])


def hand_back(shared: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Have workers hand answered connections back into an epoll selector themselves (where
    there is one), or through the wake-up pipe (as with any other selector)."""
    if not shared:
        monkeypatch.setattr(_http_core, "_SHARED_SELECTORS", ())


def serving(limits: Limits, poll_interval: float) -> tuple[Server, Store]:
    store = Store()
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), 2, limits)
    threading.Thread(target=server.serve_forever, args=(poll_interval,), daemon=True).start()
    return server, store


@HAND_BACKS
def test_an_idle_connection_is_closed_on_time_whatever_the_poll_interval(
    shared: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The selector thread, waiting an hour for events, still closes a connection handed
    back once it is idle past its keep-alive timeout."""
    hand_back(shared, monkeypatch)
    limits = Limits(max_body_bytes=100, max_buffered_bytes=100, keep_alive_timeout=0.05)
    server, store = serving(limits, 3600)
    try:
        with connect(int(server.server_address[1])) as sock:
            sock.sendall(HEALTH)
            assert read_response(sock)[1]["connection"] == "keep-alive"
            sock.settimeout(1)
            assert closed_by_server(sock)
    finally:
        server.shutdown()
        server.server_close()
        store.close()


@HAND_BACKS
def test_a_connection_handed_back_serves_again(
    shared: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hand_back(shared, monkeypatch)
    server, store = serving(Limits(max_body_bytes=100, max_buffered_bytes=100), 3600)
    try:
        port = int(server.server_address[1])
        with connect(port) as kept:
            for _ in range(3):
                kept.sendall(HEALTH)
                assert read_response(kept)[0] == 200
                time.sleep(0.01)  # past the worker's wait for a next request: handed back
                assert ask(port, HEALTH)[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def test_keep_alive_serves_several_requests_on_one_connection(engine_port: int) -> None:
    with connect(engine_port) as sock:
        sock.sendall(HEALTH + HEALTH)
        assert read_response(sock)[0] == 200
        assert read_response(sock)[0] == 200
        sock.sendall(HEALTH.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        status, headers, _ = read_response(sock)
        assert status == 200 and headers["connection"] == "close"
        assert closed_by_server(sock)


def test_bodies_in_flight_share_one_memory_budget() -> None:
    """Many clients each under the body limit cannot together buffer more than the budget."""
    store = Store()
    limits = Limits(max_body_bytes=60, max_buffered_bytes=100)
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), 2, limits)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = int(server.server_address[1])
    try:
        with connect(port) as first:
            first.sendall(b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 60\r\n\r\n[")
            time.sleep(0.2)  # until the server has reserved the first body
            status, _, body = ask(port, b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                        b"Content-Length: 60\r\n\r\n")
            assert status == 503 and json.loads(body)["code"] == "server_busy"
            first.sendall(b"]" + b" " * 58)
            assert read_response(first)[0] == 200
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def test_dev_server_body_limit_comes_from_its_option() -> None:
    dev = DevServer(port=0, max_body_bytes=100)
    dev.start()
    try:
        port = int(dev.url.rsplit(":", 1)[1])
        request = b"POST /e/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
        status, _, body = ask(port, request % 101 + b"x" * 101)
        assert status == 413
        assert json.loads(body) == {"code": "body_too_large",
                                    "message": "request body over 100 bytes"}
        status, _, _ = ask(port, request % 2 + b"[]")
        assert status == 200
    finally:
        dev.stop()


def test_next_request_on_a_kept_connection_meets_the_same_limits(app: Serving) -> None:
    """The request that follows an answer at once (served by the answering worker) is
    refused before its body is read, like any other."""
    port = app(max_body_bytes=10)
    with connect(port) as sock:
        sock.sendall(INSPECT)
        assert read_response(sock)[0] == 200
        sock.sendall(b"POST /api/inngest HTTP/1.1\r\nHost: app\r\nContent-Length: 11\r\n\r\n")
        status, headers, body = read_response(sock)
        assert status == 413 and headers["connection"] == "close"
        assert json.loads(body)["code"] == "body_too_large"
        assert closed_by_server(sock)


def test_a_kept_connection_serves_a_request_sent_in_pieces(app: Serving) -> None:
    """A next request slower than the answering worker waits for is still served whole."""
    port = app()
    with connect(port) as sock:
        for _ in range(3):
            sock.sendall(INSPECT[:10])
            time.sleep(0.05)
            sock.sendall(INSPECT[10:])
            status, headers, _ = read_response(sock)
            assert status == 200 and headers["connection"] == "keep-alive"


def test_a_kept_connection_gets_the_request_deadline(app: Serving) -> None:
    port = app(request_timeout=0.3)
    with connect(port) as sock:
        sock.sendall(INSPECT)
        assert read_response(sock)[0] == 200
        sock.sendall(INSPECT[:10])  # and no more
        status, _, body = read_response(sock)
    assert status == 408 and json.loads(body)["code"] == "request_timeout"


def test_connections_closed_after_their_answer_free_their_places(app: Serving) -> None:
    """Clients that close right after an answer (while its worker may still wait for a next
    request) do not use up the connection limit."""
    port = app(max_connections=2)

    def answered_then_closed() -> int:
        with connect(port) as sock:
            sock.sendall(INSPECT)
            return read_response(sock)[0]

    for _ in range(10):
        assert until(answered_then_closed, lambda status: status == 200) == 200


def test_closing_the_server_closes_a_connection_just_answered() -> None:
    """A client keeping its connection must see it closed once the server is, even when the
    answering worker still held it (else the client's next request waits forever)."""
    for _ in range(5):
        client = inngest.Inngest(app_id="core-test", is_production=False)
        server = http_server.serve(client, [], port=0)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        with connect(int(server.server_address[1])) as sock:
            sock.sendall(INSPECT)
            assert read_response(sock)[0] == 200
            server.shutdown()
            server.server_close()
            assert closed_by_server(sock)


def test_no_request_is_handled_once_the_server_is_closed() -> None:
    """A request sent on a kept connection after server_close() has returned never reaches
    the handler, whose owner closes what it uses next (the engine closes its database): the
    client finds the connection closed. The worker that had answered on it, still waiting
    for the client's next request, used to handle it (a 500 from a closed database)."""
    for _ in range(5):
        handled_after_close: list[str] = []
        closed = threading.Event()

        def handler(request: HTTPRequest) -> HTTPResponse:
            if closed.is_set():
                handled_after_close.append(request.target)
            return 200, {}, b"{}"

        server = CoreServer(("127.0.0.1", 0), handler,
                            Limits(max_body_bytes=1024, max_buffered_bytes=4096), 2, "close")
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        with connect(int(server.server_address[1])) as sock:
            sock.sendall(HEALTH)
            assert read_response(sock)[0] == 200
            server.shutdown()
            server.server_close()
            closed.set()
            try:
                sock.sendall(HEALTH)
            except OSError:
                pass
            assert closed_by_server(sock)
        assert handled_after_close == []


def test_work_left_for_after_the_answer_runs_once_the_answer_is_sent() -> None:
    """What a handler leaves for after its answer (``after_response``) runs once the answer
    has gone out: its client reads the answer while that work is still waiting. On a thread
    that answers no request, it runs at once."""
    answer_read = threading.Event()
    waited: list[bool] = []

    def handler(request: HTTPRequest) -> HTTPResponse:
        after_response(lambda: waited.append(answer_read.wait(5)))
        return 200, {}, b"{}"

    server = CoreServer(("127.0.0.1", 0), handler,
                        Limits(max_body_bytes=1024, max_buffered_bytes=4096), 2, "after",
                        work_after_answer=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with connect(int(server.server_address[1])) as sock:
            for _ in range(2):
                sock.sendall(HEALTH)
                assert read_response(sock)[0] == 200
                answer_read.set()
                assert until(lambda: len(waited), lambda count: count > 0) == 1
                assert waited.pop() is True
                answer_read.clear()
    finally:
        server.shutdown()
        server.server_close()
    outside: list[str] = []
    after_response(lambda: outside.append("ran"))
    assert outside == ["ran"]


def test_a_server_that_does_not_opt_in_runs_work_left_for_after_the_answer_at_once() -> None:
    """An app's own server: a step that sends an event to an in-process engine may wait for
    the run it starts, so that run must not wait for the step's answer."""
    ran_before_answer: list[bool] = []

    def handler(request: HTTPRequest) -> HTTPResponse:
        done: list[str] = []
        after_response(lambda: done.append("ran"))
        ran_before_answer.append(done == ["ran"])
        return 200, {}, b"{}"

    server = CoreServer(("127.0.0.1", 0), handler,
                        Limits(max_body_bytes=1024, max_buffered_bytes=4096), 2, "app")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with connect(int(server.server_address[1])) as sock:
            sock.sendall(HEALTH)
            assert read_response(sock)[0] == 200
        assert ran_before_answer == [True]
    finally:
        server.shutdown()
        server.server_close()


def test_a_takeover_answer_hands_the_connection_to_its_handler() -> None:
    """A ``Takeover``: its head goes out as it is, its ``run`` gets the socket and the bytes
    sent past the request, the connection no longer counts as open, and closing the server
    ends the connections still taken."""
    runs: list[bytes] = []

    def run(sock: socket.socket, leftover: bytes) -> None:
        sock.settimeout(5)
        sock.sendall(b"hello " + leftover)
        runs.append(sock.recv(64))  # b"" once server_close() shuts the connection down

    def handler(request: HTTPRequest) -> HTTPResponse | Takeover:
        return Takeover(101, {"Upgrade": "x"}, run)

    server = CoreServer(("127.0.0.1", 0), handler,
                        Limits(max_body_bytes=64, max_buffered_bytes=1024, max_connections=1),
                        2, "takeover")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = int(server.server_address[1])
    with connect(port) as sock:
        sock.sendall(HEALTH + b"early")
        received = b""
        while not received.endswith(b"hello early"):
            received += sock.recv(1024)
        assert received == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nhello early"
        with connect(port) as other:  # max_connections=1: the taken one is not counted
            other.sendall(HEALTH)
            received = b""
            while not received.endswith(b"hello "):  # its run is past its write
                received += other.recv(1024)
            assert received.startswith(b"HTTP/1.1 101")
        server.shutdown()
        server.server_close()
        deadline = time.monotonic() + 5
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert runs == [b"", b""]
        assert closed_by_server(sock)


class Recorder:
    """A sink keeping what it is handed, piece by piece; its answer counts them."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.abandoned = False

    def write(self, data: bytes) -> None:
        self.pieces.append(data)

    def finish(self) -> HTTPResponse:
        return 201, {}, b"%d bytes" % sum(map(len, self.pieces))

    def abandon(self) -> None:
        self.abandoned = True


@pytest.fixture
def sinking() -> typing.Iterator[tuple[Serving, list[Recorder]]]:
    """A core server whose sinks claim ``POST /sink`` bodies; others are echoed."""
    servers: list[CoreServer] = []
    sinks: list[Recorder] = []

    def claim(method: str, target: str, headers: dict[str, str]) -> Recorder | None:
        if (method, target) != ("POST", "/sink"):
            return None
        sinks.append(Recorder())
        return sinks[-1]

    def start(**limits: typing.Any) -> int:
        def handler(request: HTTPRequest) -> HTTPResponse:
            return 200, {}, request.body

        options = {"max_body_bytes": 64, "max_buffered_bytes": 1024, **limits}
        server = CoreServer(("127.0.0.1", 0), handler, Limits(**options), 2, "sink",
                            sinks=claim)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start, sinks
    for server in servers:
        server.shutdown()
        server.server_close()


SINK = b"POST /sink HTTP/1.1\r\nHost: 127.0.0.1\r\n"


class Broken(Recorder):
    def write(self, data: bytes) -> None:
        raise RuntimeError("the sink failed")


def test_a_sink_that_fails_costs_its_request_a_500_and_nothing_else() -> None:
    def claim(method: str, target: str, headers: dict[str, str]) -> Recorder | None:
        return Broken() if target == "/sink" else None

    server = CoreServer(("127.0.0.1", 0), lambda request: (200, {}, request.body),
                        Limits(max_body_bytes=64, max_buffered_bytes=1024), 2, "broken",
                        sinks=claim)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = int(server.server_address[1])
    try:
        assert ask(port, SINK + b"Content-Length: 2\r\n\r\nhi")[0] == 500
        echo = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
        assert ask(port, echo)[::2] == (200, b"ok")  # the listener goes on
    finally:
        server.shutdown()
        server.server_close()


def test_a_claimed_body_goes_to_its_sink_as_it_arrives(
        sinking: tuple[Serving, list[Recorder]]) -> None:
    start, sinks = sinking
    with connect(start()) as sock:
        sock.sendall(SINK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        until(lambda: list(sinks[0].pieces) if sinks else [], bool)
        assert sinks[0].pieces == [b"hello"]
        sock.sendall(b"6\r\n world\r\n0\r\n\r\n")
        assert read_response(sock)[::2] == (201, b"11 bytes")  # the sink's answer
        assert sinks[0].pieces == [b"hello", b" world"]
        # The connection goes on; an unclaimed request's body is kept and handled as before.
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        assert read_response(sock)[::2] == (200, b"ok")
        sock.sendall(SINK + b"Content-Length: 6\r\n\r\nabc")
        until(lambda: list(sinks[1].pieces) if len(sinks) > 1 else [], bool)
        sock.sendall(b"def")
        assert read_response(sock)[::2] == (201, b"6 bytes")
        assert sinks[1].pieces == [b"abc", b"def"]


def test_a_claimed_body_is_not_bounded_by_the_body_limit(
        sinking: tuple[Serving, list[Recorder]]) -> None:
    start, sinks = sinking
    port = start(max_body_bytes=64, max_buffered_bytes=100)
    status, _, body = ask(port, SINK + b"Content-Length: 1000\r\n\r\n" + b"x" * 1000)
    assert (status, body) == (201, b"1000 bytes")
    chunks = b"".join(chunk_of(b"y" * 200) for _ in range(5)) + b"0\r\n\r\n"
    status, _, body = ask(port, SINK + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    assert (status, body) == (201, b"1000 bytes")
    assert ask(port, CHUNKED + chunk_of(b"z" * 65) + b"0\r\n\r\n")[0] == 413


def test_a_claimed_body_times_out_only_when_its_bytes_stop(
        sinking: tuple[Serving, list[Recorder]]) -> None:
    start, sinks = sinking
    with connect(start(request_timeout=1.0)) as sock:
        sock.sendall(SINK + b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(8):  # 2 s in all, twice the request deadline
            sock.sendall(b"1\r\n.\r\n")
            time.sleep(0.25)
        sock.sendall(b"0\r\n\r\n")
        assert read_response(sock)[::2] == (201, b"8 bytes")
        sock.sendall(SINK + b"Transfer-Encoding: chunked\r\n\r\n1\r\n.\r\n")
        status, _, body = read_response(sock)  # then silence: the deadline passes
    assert status == 408 and json.loads(body)["code"] == "request_timeout"


def chunk_of(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_a_claimed_body_that_never_ends_abandons_its_sink(
        sinking: tuple[Serving, list[Recorder]]) -> None:
    start, sinks = sinking
    port = start(request_timeout=0.5)
    with connect(port) as sock:
        sock.sendall(SINK + b"Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n")
        until(lambda: list(sinks[0].pieces) if sinks else [], bool)
    assert until(lambda: sinks[0].abandoned, bool)  # the client hung up
    with connect(port) as sock:
        sock.sendall(SINK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n")
        assert read_response(sock)[0] == 400  # malformed chunking
    assert sinks[1].abandoned
    with connect(port) as sock:
        sock.sendall(SINK + b"Content-Length: 5\r\n\r\nab")
        assert read_response(sock)[0] == 408  # the rest never came
    assert sinks[2].abandoned and sinks[2].pieces == [b"ab"]
    assert not any(sink.abandoned for sink in sinks[3:])


@pytest.fixture
def mirror() -> typing.Iterator[int]:
    """A core server answering each request with its method, target and headers (in order,
    as the handler sees them) in JSON, and with the headers a request's ``X-Answer`` lists
    (``name=value;...``) before the framing ones; return its port."""
    def handler(request: HTTPRequest) -> HTTPResponse:
        answer = dict(pair.split("=", 1) for pair in
                      request.headers.get("x-answer", "").split(";") if pair)
        seen = [request.method, request.target, list(request.headers.items())]
        return 200, answer, json.dumps(seen).encode()

    server = CoreServer(("127.0.0.1", 0), handler,
                        Limits(max_body_bytes=64, max_buffered_bytes=1024), 2, "mirror")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_the_handler_sees_lower_case_names_and_the_first_of_repeated_ones(mirror: int) -> None:
    status, _, body = ask(mirror, b"PUT /a?b=c HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  b"X-One: \t first value \t\r\nx-ONE: second\r\n"
                                  b"Content-Length: 2\r\ncontent-length: 2\r\nX-Empty:\r\n"
                                  b"X-Colon: a:b\r\n\r\n[]")
    assert status == 200 and json.loads(body) == ["PUT", "/a?b=c", [
        ["host", "127.0.0.1"], ["x-one", "first value"], ["content-length", "2"],
        ["x-empty", ""], ["x-colon", "a:b"]]]


def test_repeated_transfer_encodings_code_the_body_in_turn(mirror: int) -> None:
    """Each Transfer-Encoding header codes the body again: ``chunked`` then ``gzip`` is
    ``chunked, gzip``, which is not served."""
    status, _, body = ask(mirror, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert status == 501 and json.loads(body)["message"] == (
        "Transfer-Encoding 'chunked, gzip' is not supported: send chunked or a Content-Length")


def test_the_answer_keeps_the_handler_headers_in_order_with_the_core_framing(
        mirror: int) -> None:
    with connect(mirror) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"X-Answer: B=2;Content-Length=99;a=1;Connection=close;x=\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
    head = data.partition(b"\r\n\r\n")[0].decode("iso-8859-1").split("\r\n")
    body = json.dumps(["GET", "/", [["host", "127.0.0.1"], [
        "x-answer", "B=2;Content-Length=99;a=1;Connection=close;x="]]]).encode()
    assert head == ["HTTP/1.1 200 OK", "B: 2", "a: 1", "x: ",
                    f"content-length: {len(body)}", "connection: keep-alive"]


def test_header_lines_read_before_are_checked_again_in_their_request(mirror: int) -> None:
    """Lines are read once and remembered: a line seen alone before still counts as a
    repeat, and a line refused before is refused again."""
    host = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    assert ask(mirror, host + b"Content-Length: 0\r\n\r\n")[0] == 200
    status, _, body = ask(mirror, host + b"Host: 127.0.0.1\r\n\r\n")
    assert status == 400 and json.loads(body)["message"] == "more than one Host header"
    status, _, body = ask(mirror, host + b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n")
    assert status == 200 and ["content-length", "0"] in json.loads(body)[2]
    for _ in range(2):
        status, _, body = ask(mirror, b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
        assert status == 400 and json.loads(body)["message"] == "malformed Host header"
        status, _, body = ask(mirror, host + b"X-Bad : 1\r\n\r\n")
        assert status == 400 and json.loads(body)["message"] == "malformed header line"


_EXITING_SERVER = """
import sys, threading, time
from inngest._http_core import CoreServer, Limits

def handler(request):
    print("answering", flush=True)
    time.sleep(0.5)
    return 200, {}, b"answered after the exit began"

server = CoreServer(("127.0.0.1", 0), handler, Limits(max_body_bytes=1024, max_buffered_bytes=4096),
                    2, "exiting")
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.readline()
"""


def test_a_request_being_answered_when_the_process_exits_gets_its_answer() -> None:
    """The pool's threads are daemons; an app whose main thread ends (a Ctrl-C, a script
    that returns) without server_close() still sends the answers it was working on."""
    child = subprocess.Popen([sys.executable, "-c", _EXITING_SERVER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        port = int(child.stdout.readline())
        with connect(port) as sock:
            sock.sendall(HEALTH)
            assert child.stdout.readline() == "answering\n"
            child.stdin.close()  # the main thread returns: the interpreter exits
            status, _, body = read_response(sock)
        assert (status, body) == (200, b"answered after the exit began")
        assert child.wait(10) == 0
    finally:
        child.kill()
        child.wait()
