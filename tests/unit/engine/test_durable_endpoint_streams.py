"""A durable endpoint that goes async while streaming: the SDK POSTs the run's server-sent
events to ``/v1/realtime/publish/tee?channel=<run id>`` while the steps run, and the client
that followed ``inngest.redirect_info`` reads them from ``/v1/realtime/sse?token=``.

As on the dev server (measured with raw sockets, and with inngest-js 4's durable endpoint
tests), each piece of the body reaches the readers as it arrives, not when the POST ends:
a chunked body chunk by chunk, a ``Content-Length`` body as its bytes come, and what was
sent before the sender hung up stays sent.
"""

from __future__ import annotations

import json
import select
import socket
import time
import typing

import pytest

from inngest._engine.http.server import DevServer

pytestmark = [pytest.mark.sockets, pytest.mark.timeout(60)]

RUN_ID = "01M8P6RQ5T8DKW7WYD6VH5BM6V"
TEE = f"/v1/realtime/publish/tee?channel={RUN_ID}"
METADATA = f'event: inngest.metadata\ndata: {{"runId":"{RUN_ID}"}}\n\n'.encode()
STREAM = b'event: inngest.stream\ndata: {"data":"async-data","hashedStepId":"e9d7"}\n\n'
COMMIT = b'event: inngest.commit\ndata: {"hashedStepId":"e9d7"}\n\n'


@pytest.fixture
def dev() -> typing.Iterator[DevServer]:
    server = DevServer(port=0, poll=False)
    server.start()
    yield server
    server.stop()


def connect(dev: DevServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", dev.port), timeout=5)


def received(sock: socket.socket, wait: float, until: bytes | None = None) -> bytes:
    """What ``sock`` receives within ``wait`` seconds (less if it closes, or once what came
    ends with ``until``)."""
    out, end = b"", time.monotonic() + wait
    while (left := end - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            break
        data = sock.recv(65536)
        if not data:
            break
        out += data
        if until is not None and out.endswith(until):
            break
    return out


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def ask(dev: DevServer, method: str, path: str, body: bytes = b"") -> bytes:
    sock = connect(dev)
    try:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return received(sock, 5)
    finally:
        sock.close()


class Reader:
    """The client that followed the redirect: an SSE subscription to the run's stream,
    with the realtime token the engine gave the run when its first steps were saved."""

    def __init__(self, dev: DevServer) -> None:
        answer = ask(dev, "POST", "/v1/checkpoint", json.dumps({
            "run_id": RUN_ID, "steps": [], "ts": 1, "request_version": 2, "event": {
                "name": "inngest/http.request", "data": {
                    "domain": "http://127.0.0.1:1", "method": "GET", "path": "/work"}},
        }).encode())
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        token = json.loads(answer.partition(b"\r\n\r\n")[2])["data"]["realtime_token"]
        self.sock = connect(dev)
        self.sock.sendall(f"GET /v1/realtime/sse?token={token} HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n\r\n".encode())
        head = received(self.sock, 5, chunk(b":\n\n"))
        assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(chunk(b":\n\n")), head

    def events(self, wait: float = 5) -> bytes:
        """The event bytes that arrive next (the SSE response's chunks, unwrapped)."""
        framed, end = b"", time.monotonic() + wait
        while time.monotonic() < end:
            framed += received(self.sock, 0.2)
            if framed.endswith(b"\r\n"):
                break
        out = b""
        while framed:
            size, _, rest = framed.partition(b"\r\n")
            out += rest[:int(size, 16)]
            framed = rest[int(size, 16) + 2:]
        return out


@pytest.fixture
def reader(dev: DevServer) -> typing.Iterator[Reader]:
    subscribed = Reader(dev)
    yield subscribed
    subscribed.sock.close()


def test_each_chunk_reaches_the_reader_while_the_endpoint_still_streams(
        dev: DevServer, reader: Reader) -> None:
    sender = connect(dev)
    sender.sendall(f"POST {TEE} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                   "Connection: close\r\nContent-Type: application/octet-stream\r\n\r\n".encode())
    sender.sendall(chunk(METADATA + STREAM))
    assert reader.events() == METADATA + STREAM
    assert received(sender, 0.2) == b""  # answered only once the body ends
    sender.sendall(chunk(COMMIT))
    assert reader.events() == COMMIT
    sender.sendall(b"0\r\n\r\n")
    assert received(sender, 5).startswith(b"HTTP/1.1 200 ")
    sender.close()


def test_a_content_length_body_reaches_the_reader_as_its_bytes_come(
        dev: DevServer, reader: Reader) -> None:
    sender = connect(dev)
    body = METADATA + STREAM
    sender.sendall(f"POST {TEE} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n".encode() + METADATA)
    assert reader.events() == METADATA
    sender.sendall(STREAM)
    assert reader.events() == STREAM
    assert received(sender, 5).startswith(b"HTTP/1.1 200 ")
    sender.close()


def test_what_an_endpoint_sent_before_it_died_stays_sent(
        dev: DevServer, reader: Reader) -> None:
    sender = connect(dev)
    sender.sendall(f"POST {TEE} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked"
                   "\r\n\r\n".encode() + chunk(METADATA + STREAM))
    assert reader.events() == METADATA + STREAM
    sender.close()  # the endpoint's server was killed mid-stream
    assert reader.events(0.5) == b""
    # The next attempt's stream comes through the same subscription.
    assert ask(dev, "POST", TEE, METADATA + COMMIT).startswith(b"HTTP/1.1 200 ")
    assert reader.events() == METADATA + COMMIT


def test_a_stream_past_the_limit_is_cut_and_answered_500_whatever_its_size(
        dev: DevServer, reader: Reader) -> None:
    # Past the engine's limit for the bodies it keeps, too (32 MiB): this one is not kept.
    sender = connect(dev)
    sender.sendall(f"POST {TEE} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked"
                   "\r\nConnection: close\r\n\r\n".encode())
    piece = chunk(b"x" * 1024 * 1024)
    for _ in range(33):
        sender.sendall(piece)
    sender.sendall(b"0\r\n\r\n")
    answer = received(sender, 10)
    assert answer.startswith(b"HTTP/1.1 500 ") and answer.endswith(b"Error forwarding data\n")
    got = b""
    while len(got) < 1000 * 1024 and (more := reader.events(2)):
        got += more
    assert got == b"x" * (1000 * 1024)  # the dev server's limit: 1000 chunks of 1 KiB
    assert reader.events(0.2) == b""
    sender.close()
