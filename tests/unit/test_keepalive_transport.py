"""The keep-alive HTTP client (the SDK's and the engine's), against small servers that answer
in raw bytes."""

from __future__ import annotations

import socket
import threading
import time
import typing

import pytest

import inngest
from inngest._transport import KeepAliveTransport, OutboundRequest, Response, TransportError

Answer = typing.Callable[[bytes], bytes | None]
"""Given a request's bytes, the bytes to answer (None: close without answering)."""


class RawServer:
    """Answers each request on a connection with ``answer``; counts connections."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + buffer[:length], buffer[length:]
                self.requests.append(request)
                reply = self.answer(request)
                if reply is None:
                    return
                conn.sendall(reply)
                if self.close_after:
                    return

    def close(self) -> None:
        self._sock.close()


class RecordingFallback:
    def __init__(self) -> None:
        self.sent: list[OutboundRequest] = []

    def send(self, request: OutboundRequest) -> Response:
        self.sent.append(request)
        return Response(200, {}, b"from fallback")

    def close(self) -> None:
        pass


def ok(body: bytes, *extra: bytes) -> bytes:
    return b"\r\n".join([b"HTTP/1.1 200 OK", b"Content-Length: %d" % len(body), *extra,
                         b"", body])


@pytest.fixture
def fallback() -> RecordingFallback:
    return RecordingFallback()


@pytest.fixture
def transport(fallback: RecordingFallback) -> typing.Iterator[KeepAliveTransport]:
    client = KeepAliveTransport(fallback, connect_timeout=5, follow_redirects=True)
    yield client
    client.close()


def post(transport: KeepAliveTransport, url: str, body: bytes = b"{}",
         limit: int | None = None, timeout: float = 5) -> Response:
    return transport.send(OutboundRequest("POST", url + "/api/inngest?fnId=f", {
        "content-type": "application/json", "x-run-id": "r1"}, body, timeout, limit))


def test_requests_share_one_kept_connection(transport: KeepAliveTransport) -> None:
    server = RawServer(lambda request: ok(b'{"n": 1}', b"X-Inngest-Req-Version: 2"))
    try:
        first = post(transport, server.url, b'{"a": 1}')
        second = post(transport, server.url)
    finally:
        server.close()
    assert (first.status, first.body, first.headers["X-Inngest-Req-Version"]) == \
        (200, b'{"n": 1}', "2")
    assert second.body == b'{"n": 1}' and server.connections == 1
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /api/inngest?fnId=f HTTP/1.1\r\n") and body == b'{"a": 1}'
    assert b"x-run-id: r1" in head and b"content-length: 8" in head


def test_http_1_0_answers_and_close_delimited_bodies(transport: KeepAliveTransport) -> None:
    server = RawServer(lambda request: b"HTTP/1.0 206 Partial Content\r\n\r\n[1, 2]",
                       close_after=True)
    try:
        answers = [post(transport, server.url) for _ in range(2)]
    finally:
        server.close()
    assert [(a.status, a.body) for a in answers] == [(206, b"[1, 2]")] * 2
    assert server.connections == 2


def test_chunked_bodies_and_interim_answers(transport: KeepAliveTransport) -> None:
    reply = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nTrailer: x\r\n\r\n")
    server = RawServer(lambda request: reply)
    try:
        assert post(transport, server.url).body == b"abcdefg"
        assert post(transport, server.url).body == b"abcdefg"
    finally:
        server.close()
    assert server.connections == 1


def test_a_body_past_the_limit_is_cut_one_byte_after_it(transport: KeepAliveTransport) -> None:
    server = RawServer(lambda request: ok(b"x" * 100))
    try:
        assert post(transport, server.url, limit=10).body == b"x" * 11
        assert post(transport, server.url, limit=100).body == b"x" * 100
    finally:
        server.close()
    assert server.connections == 2  # the cut connection was not kept


def test_large_bodies_arrive_whole(transport: KeepAliveTransport) -> None:
    big = bytes(range(256)) * 20_000  # 5 MB
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (big[:3_000_000], big[3_000_000:])
    ) + b"0\r\n\r\n"
    answers = iter([ok(big), chunked])
    server = RawServer(lambda request: next(answers))
    try:
        assert post(transport, server.url, limit=8_000_000).body == big
        assert post(transport, server.url, limit=8_000_000).body == big
    finally:
        server.close()


def test_a_kept_connection_the_app_closed_is_replaced(transport: KeepAliveTransport) -> None:
    answers = iter([ok(b"one"), None, ok(b"two")])
    server = RawServer(lambda request: next(answers))
    try:
        assert post(transport, server.url).body == b"one"
        assert post(transport, server.url).body == b"two"
    finally:
        server.close()
    assert server.connections == 2


def test_a_connection_left_mid_answer_is_not_kept(transport: KeepAliveTransport) -> None:
    answers = iter([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", ok(b"fine")])
    server = RawServer(lambda request: next(answers))
    try:
        with pytest.raises(TransportError, match="timed out"):
            post(transport, server.url, timeout=0.1)
        assert post(transport, server.url).body == b"fine"
    finally:
        server.close()
    assert server.connections == 2


def test_redirects_and_https_go_to_the_fallback(
    transport: KeepAliveTransport, fallback: RecordingFallback
) -> None:
    server = RawServer(lambda request: b"HTTP/1.1 307 Temporary Redirect\r\n"
                       b"Location: /elsewhere\r\nContent-Length: 0\r\n\r\n")
    try:
        assert post(transport, server.url).body == b"from fallback"
    finally:
        server.close()
    assert post(transport, "https://app.example").body == b"from fallback"
    assert [r.url.split("/api")[0] for r in fallback.sent] == [server.url, "https://app.example"]


@pytest.mark.parametrize("reply", [None, b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\n"
                                   b"Content-Length: 10\r\n\r\nshort"])
def test_no_valid_answer_is_a_transport_error(
    transport: KeepAliveTransport, reply: bytes | None
) -> None:
    server = RawServer(lambda request: reply, close_after=True)
    try:
        with pytest.raises(TransportError):
            post(transport, server.url)
    finally:
        server.close()


def test_refused_connections_are_transport_errors(transport: KeepAliveTransport) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError, match="Failed request to"):
        post(transport, f"http://127.0.0.1:{port}")


# As the SDK's default transport: redirects answered as they are, urllib3's error words.

def test_the_sdk_sends_events_on_one_kept_connection() -> None:
    server = RawServer(lambda request: ok(b'{"ids": ["E1"], "status": 200}'))
    client = inngest.Inngest(app_id="app", is_production=False, event_api_base_url=server.url,
                             transport=KeepAliveTransport())
    try:
        for _ in range(3):
            assert client.send_sync(inngest.Event(name="a/b")) == ["E1"]
    finally:
        client.transport.close()
        server.close()
    assert server.connections == 1 and len(server.requests) == 3
    assert server.requests[0].startswith(b"POST /e/NO_EVENT_KEY_SET HTTP/1.1\r\n")


def test_without_following_a_redirect_is_the_answer() -> None:
    server = RawServer(lambda request: b"HTTP/1.1 307 Temporary Redirect\r\n"
                       b"Location: /elsewhere\r\nContent-Length: 0\r\n\r\n")
    transport = KeepAliveTransport()
    try:
        response = post(transport, server.url)
    finally:
        transport.close()
        server.close()
    assert (response.status, response.headers["Location"]) == (307, "/elsewhere")
    assert len(server.requests) == 1


def test_failures_read_as_urllib3_words_them() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    silent = RawServer(lambda request: time.sleep(5) or None)  # type: ignore[func-returns-value]
    transport = KeepAliveTransport()
    try:
        with pytest.raises(TransportError, match=r": Failed to establish a new connection: "
                                                 r"\[Errno 111\] Connection refused$"):
            post(transport, f"http://127.0.0.1:{port}")
        with pytest.raises(TransportError, match=r": Read timed out\. \(read timeout=0\.\d+\)$"):
            post(transport, silent.url, timeout=0.2)
        with pytest.raises(TransportError, match=r": No host specified\.$"):
            post(transport, "http://")
    finally:
        transport.close()
        silent.close()


def test_a_timeout_without_end_waits_for_the_answer(transport: KeepAliveTransport) -> None:
    server = RawServer(lambda request: ok(b"late"))
    try:
        assert post(transport, server.url, timeout=float("inf")).body == b"late"
    finally:
        server.close()


def test_each_answer_carries_its_requests_phases(transport: KeepAliveTransport) -> None:
    def slow(request: bytes) -> bytes:
        time.sleep(0.03)
        return ok(b"{}")

    server = RawServer(slow)
    try:
        first = post(transport, server.url)
        second = post(transport, server.url)
    finally:
        server.close()
    assert first.timing is not None and second.timing is not None
    for timing in (first.timing, second.timing):
        assert timing.server_processing >= 0.03 and timing.tls_handshake == 0
        assert timing.total >= timing.start_transfer >= timing.server_processing
    # The second request went on the kept connection: no lookup, no connect.
    assert (second.timing.dns_lookup, second.timing.tcp_connection) == (0, 0)
    assert first.timing.total >= first.timing.dns_lookup + first.timing.tcp_connection


def test_the_fallbacks_answers_are_not_timed(
        transport: KeepAliveTransport, fallback: RecordingFallback) -> None:
    answer = transport.send(OutboundRequest("POST", "https://example.test/api", {}, b"{}"))
    assert answer.body == b"from fallback" and answer.timing is None
