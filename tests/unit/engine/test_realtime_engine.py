"""The engine's realtime API, ``/v1/realtime``: tokens, publishing from a run of this SDK,
and subscribers over a WebSocket and over server-sent events.

Statuses, bodies, headers and the message envelope are the real dev server's (measured
against it with curl, a stdlib WebSocket client and this SDK's ``inngest.experimental
.realtime`` in a function it ran).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import threading
import time
import typing
import urllib.parse

import pytest
import urllib3
from engine_fakes import wait

import inngest
import inngest.http_server
import inngest.testing
from inngest._engine.http.server import DevServer
from inngest._transport import OutboundRequest
from inngest.experimental import realtime

HTTP = urllib3.PoolManager(retries=False)
ENV_ID = "00000000-0000-4000-b000-000000000000"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")

pytestmark = pytest.mark.timeout(60)


def envelope(topic: str, data: object, channel: str = "chat", kind: str = "data",
             **extra: object) -> dict[str, object]:
    """A message as the dev server sends it, without its ``created_at``."""
    out = {"kind": kind, "data": data, "channel": channel, "env_id": ENV_ID, "topic": topic}
    return {**out, **extra}


def without_time(message: dict[str, typing.Any]) -> dict[str, typing.Any]:
    assert TIMESTAMP.fullmatch(message.pop("created_at")), message
    return message


class WebSocket:
    """A client of RFC 6455 over a plain socket: masked frames out, frames in."""

    def __init__(self, url: str, path: str, headers: dict[str, str] | None = None) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.key = base64.b64encode(os.urandom(16)).decode()
        sent = {"Host": f"{host}:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                "Sec-WebSocket-Key": self.key, "Sec-WebSocket-Version": "13", **(headers or {})}
        head = "".join(f"{name}: {value}\r\n" for name, value in sent.items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        raw, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = raw.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {name.lower(): value for name, _, value in
                        (line.partition(": ") for line in lines[1:])}

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def frame(self) -> tuple[int, bytes]:
        first, second = self._take(2)
        assert not second & 0x80, "server frames are not masked"
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8))[0]
        assert first & 0x80, "the server sends whole messages"
        return first & 0x0F, self._take(size)

    def message(self) -> dict[str, typing.Any]:
        """The next text message (pings are answered on the way)."""
        while True:
            opcode, payload = self.frame()
            if opcode == 0x9:
                self.send(0xA, payload)
                continue
            assert opcode == 0x1, (opcode, payload)
            return typing.cast(dict[str, typing.Any], json.loads(payload))

    def send(self, opcode: int, payload: bytes, fin: bool = True, rsv: int = 0,
             masked: bool = True) -> None:
        mask = os.urandom(4) if masked else b""
        size, bit = len(payload), 0x80 if masked else 0
        head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
        if size < 126:
            head += bytes([bit | size])
        else:
            head += bytes([bit | 126]) + struct.pack("!H", size)
        data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)) if masked else payload
        self.sock.sendall(head + mask + data)

    def send_json(self, value: object) -> None:
        self.send(0x1, json.dumps(value).encode())

    def close(self) -> None:
        self.sock.close()


class EventStream:
    """A server-sent events subscription read as it arrives."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.response = HTTP.request("GET", url, preload_content=False, timeout=5,
                                     headers=headers)
        self._chunks = self.response.read_chunked() if self.response.status == 200 else iter(())
        self.text = ""

    def event(self) -> str:
        """The next event's text (``data: ...`` or a ``:`` comment)."""
        while "\n\n" not in self.text:
            self.text += next(self._chunks).decode()
        event, _, self.text = self.text.partition("\n\n")
        return event

    def message(self) -> dict[str, typing.Any]:
        while True:
            event = self.event()
            if event.startswith("data: "):
                return typing.cast(dict[str, typing.Any], json.loads(event[6:]))

    def close(self) -> None:
        self.response.close()  # first: a released open stream would be reused as idle
        self.response.release_conn()


def token(url: str, topics: object) -> urllib3.BaseHTTPResponse:
    return HTTP.request("POST", f"{url}/v1/realtime/token", body=json.dumps(topics).encode())


def jwt(url: str, channel: str, *names: str) -> str:
    answer = token(url, [{"channel": channel, "name": name, "kind": "run"} for name in names])
    assert answer.status == 201
    return typing.cast(str, json.loads(answer.data)["jwt"])


def publish(url: str, query: str, body: bytes, content_type: str = "application/json",
            **headers: str) -> urllib3.BaseHTTPResponse:
    return HTTP.request("POST", f"{url}/v1/realtime/publish?{query}", body=body,
                        headers={"content-type": content_type, **headers})


@pytest.fixture
def sdk(dev: DevServer) -> typing.Iterator[inngest.Inngest]:
    """An app of this SDK, synced: ``chat`` publishes twice in a step, then once more."""
    client = inngest.Inngest(app_id="realtime-app", is_production=False, api_base_url=dev.url,
                             event_api_base_url=dev.url)

    @client.create_function(fn_id="chat", trigger=inngest.TriggerEvent(event="demo/chat"))
    def chat(ctx: inngest.ContextSync) -> str:
        def speak() -> None:
            realtime.publish_sync(client, "chat", "msg", {"n": 1, "text": "<hi> & bye"})
            realtime.publish_sync(client, "chat", "msg", {"n": 2, "run": ctx.run_id})

        ctx.step.run("speak", speak)
        realtime.publish_sync(client, "chat", "done", {"n": 3})
        return "said"

    server = inngest.http_server.serve(client, [chat], port=0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        assert HTTP.request("PUT", server.url).status == 200
        wait(lambda: dev.engine.store.functions() or None)
        yield client
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_publishes_to_a_websocket_subscriber_in_order(
        dev: DevServer, sdk: inngest.Inngest) -> None:
    subscription = realtime.get_subscription_token_sync(sdk, "chat", ["msg", "done"])
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={subscription['key']}")
    try:
        assert ws.status == 101
        accept = base64.b64encode(hashlib.sha1(
            (ws.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert ws.headers["sec-websocket-accept"] == accept
        assert ws.headers["upgrade"] == "websocket"
        assert ws.frame() == (0x9, b"1")  # a keepalive ping at once, as the dev server
        [event_id] = sdk.send_sync(inngest.Event(name="demo/chat"))
        received = [without_time(ws.message()) for _ in range(3)]
        [run] = dev.engine.store.runs_for_event(event_id)
        assert received == [
            envelope("msg", {"n": 1, "text": "<hi> & bye"}),
            envelope("msg", {"n": 2, "run": run.id}),
            envelope("done", {"n": 3}),
        ]
    finally:
        ws.close()


def test_server_sent_events_carry_the_dev_servers_messages(dev: DevServer) -> None:
    key = jwt(dev.url, "c1", "t1", "$stream")
    stream = EventStream(f"{dev.url}/v1/realtime/sse?token={key}")
    try:
        assert stream.response.status == 200
        assert {name: stream.response.headers[name] for name in (
            "content-type", "cache-control", "access-control-allow-origin")} == {
            "content-type": "text/event-stream", "cache-control": "no-cache",
            "access-control-allow-origin": "*"}
        assert stream.event() == ":"  # the keepalive comment, at once
        assert publish(dev.url, "channel=c1&topic=t1", b' [1, 2,  {"x" : "a b"}] ').status == 200
        assert publish(dev.url, "channel=c1&topic=t1", b"not <json>", "text/plain").status == 200
        meta = "run_id=01M8NZ1R8YDZWQRYPC5RG6FCZC&metadata=%7B%22m%22%3A%201%7D"
        assert publish(dev.url, f"channel=c1&topic=t1&{meta}", b"{}").status == 200
        # Metadata that is not JSON: accepted, and lost, as on the dev server.
        assert publish(dev.url, "channel=c1&topic=t1&metadata=nope", b"1").status == 200
        assert publish(dev.url, "channel=c1&topic=t1", b"streamed", "text/stream").status == 200
        tee = HTTP.request("POST", f"{dev.url}/v1/realtime/publish/tee?channel=c1", body=b"RAW")
        assert tee.status == 200
        assert [without_time(stream.message()) for _ in range(3)] == [
            envelope("t1", [1, 2, {"x": "a b"}], "c1"),
            envelope("t1", "not <json>", "c1"),
            envelope("t1", {}, "c1", metadata={"m": 1}, run_id="01M8NZ1R8YDZWQRYPC5RG6FCZC"),
        ]
        start = without_time(stream.message())
        stream_id = start["data"]
        assert start == envelope("t1", stream_id, "c1", kind="datastream-start")
        assert stream.message() == {"kind": "chunk", "stream_id": stream_id, "data": "streamed"}
        assert without_time(stream.message()) == envelope("t1", stream_id, "c1",
                                                          kind="datastream-end")
        stream.text += next(stream._chunks).decode()
        assert stream.text == "RAW"  # tee bytes are written as they are
    finally:
        stream.close()


def test_a_streamed_publish_goes_out_as_it_arrives(dev: DevServer) -> None:
    """As on the dev server: the start at once, a chunk per piece as it comes, and the end
    when the body ends or its sender hangs up."""
    stream = EventStream(f"{dev.url}/v1/realtime/sse?token={jwt(dev.url, 'c1', 't1')}")
    host, port = dev.url.removeprefix("http://").split(":")
    head = (b"POST /v1/realtime/publish?channel=c1&topic=t1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: text/stream\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n")
    try:
        stream.event()
        for ending in (b"", b"3\r\ntwo\r\n0\r\n\r\n"):
            with socket.create_connection((host, int(port)), timeout=5) as sender:
                sender.sendall(head)
                start = without_time(stream.message())
                stream_id = start["data"]
                assert start == envelope("t1", stream_id, "c1", kind="datastream-start")
                sender.sendall(b"3\r\none\r\n")
                assert stream.message() == {"kind": "chunk", "stream_id": stream_id,
                                            "data": "one"}
                if ending:
                    sender.sendall(ending)
                    assert stream.message()["data"] == "two"
                    assert sender.recv(4096).startswith(b"HTTP/1.1 200 ")
            # Ended, or its sender hung up: the end either way.
            assert without_time(stream.message()) == envelope("t1", stream_id, "c1",
                                                              kind="datastream-end")
    finally:
        stream.close()


def test_go_json_escapes_in_the_envelope(dev: DevServer) -> None:
    stream = EventStream(f"{dev.url}/v1/realtime/sse?token={jwt(dev.url, 'c', 't')}")
    try:
        stream.event()
        publish(dev.url, "channel=c&topic=t", b'{"a" : "<b> & c"}')
        event = stream.event()
        assert '"data":{"a":"\\u003cb\\u003e \\u0026 c"}' in event
    finally:
        stream.close()


def test_invalid_utf8_is_replaced_byte_by_byte(dev: DevServer) -> None:
    stream = EventStream(f"{dev.url}/v1/realtime/sse?token={jwt(dev.url, 'c', 't')}")
    try:
        stream.event()
        # As Go writes a string: each byte of a broken sequence is an escaped U+FFFD.
        publish(dev.url, "channel=c&topic=t", b"x\xe2\x82y\xef\xbf\xbd", "text/plain")
        assert '"data":"x\\ufffd\\ufffdy\ufffd"' in stream.event()
        # The dev server sends a chunk's bytes through Go's JSON twice: plain U+FFFD.
        publish(dev.url, "channel=c&topic=t", b"\xf0\x9f\x98ab", "text/stream")
        stream.event()
        assert '"data":"\ufffd\ufffd\ufffdab"' in stream.event()
        stream.event()
        # JSON with such bytes: the dev server's frame is not UTF-8 (clients refuse it).
        publish(dev.url, "channel=c&topic=t", b'{"k": "\xe2\x82"}')
        assert '"data":{"k":"\ufffd\ufffd"}' in stream.event()
    finally:
        stream.close()


def test_a_query_parameter_given_twice_has_its_first_value(dev: DevServer) -> None:
    token = jwt(dev.url, "c", "a", "b")
    refused = WebSocket(dev.url, f"/v1/realtime/connect?token=bad&token={token}")
    refused.close()
    assert refused.status == 401
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={token}&token=bad")
    try:
        assert ws.status == 101
        for query in ("channel=c&topic=a&topic=b", "channel=x&channel=c&topic=b",
                      "channel=c&channel=x&topic=b"):
            publish(dev.url, query, json.dumps(query).encode())
        assert [(message["topic"], message["data"]) for message in (ws.message(), ws.message())] \
            == [("a", "channel=c&topic=a&topic=b"), ("b", "channel=c&channel=x&topic=b")]
    finally:
        ws.close()


def test_messages_reach_only_their_channel_and_topic(dev: DevServer) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c1', 't1')}")
    try:
        for query in ("channel=c2&topic=t1", "channel=c1&topic=t2", "channel=c1&topic=t1"):
            assert publish(dev.url, query, json.dumps(query).encode()).status == 200
        assert ws.message()["data"] == "channel=c1&topic=t1"
    finally:
        ws.close()


def test_websocket_sub_and_unsub_messages_change_the_topics(dev: DevServer) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c1', 't1')}")
    try:
        ws.send_json({"kind": "sub", "data": jwt(dev.url, "c2", "t2")})
        ws.send_json({"kind": "unsub", "data": [
            {"kind": "run", "env_id": ENV_ID, "channel": "c1", "name": "t1"}]})
        ws.send(0x9, b"are you there")
        assert ws.frame()[0] == 0x9
        assert ws.frame() == (0xA, b"are you there")  # the messages before it are read
        publish(dev.url, "channel=c1&topic=t1", b"1")
        publish(dev.url, "channel=c2&topic=t2", b"2")
        assert ws.message()["data"] == 2
        ws.send(0x8, struct.pack("!H", 1000))
        assert ws.frame() == (0x8, struct.pack("!H", 1000))
        with pytest.raises(EOFError):
            ws.frame()
    finally:
        ws.close()


def test_a_fragmented_client_message_is_read_whole(dev: DevServer) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c1', 't1')}")
    try:
        text = json.dumps({"kind": "sub", "data": jwt(dev.url, "c2", "t2")}).encode()
        ws.send(0x1, text[:10], fin=False)
        ws.send(0x0, text[10:])
        ws.send(0x9, b"")
        ws.frame()
        assert ws.frame() == (0xA, b"")
        publish(dev.url, "channel=c2&topic=t2", b"2")
        assert ws.message()["data"] == 2
    finally:
        ws.close()


def test_a_ping_between_fragments_is_answered_and_the_message_read_whole(
        dev: DevServer) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c1', 't1')}")
    try:
        text = json.dumps({"kind": "sub", "data": jwt(dev.url, "c2", "t2")}).encode()
        ws.send(0x1, text[:10], fin=False)
        ws.send(0x9, b"between")  # control frames may come between a message's fragments
        ws.send(0x0, text[10:])
        ws.frame()
        assert ws.frame() == (0xA, b"between")
        publish(dev.url, "channel=c2&topic=t2", b"2")
        assert ws.message()["data"] == 2
    finally:
        ws.close()


@pytest.mark.parametrize("payload", [b"", struct.pack("!H", 1000) + b"bye",
                                     struct.pack("!H", 4000) + b"\xff"])
def test_a_close_is_answered_with_its_code_and_reason(dev: DevServer, payload: bytes) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c', 't')}")
    try:
        ws.frame()
        ws.send(0x8, payload)
        assert ws.frame() == (0x8, payload)
        with pytest.raises(EOFError):
            ws.frame()
    finally:
        ws.close()


# What breaks the protocol, and the reason of the close frame (code 1002) it gets, as the
# dev server's WebSocket library words it.
PROTOCOL_ERRORS = [
    ([(0x1, b"{}", True, 4)], "received header with unexpected rsv bits set: true:false:false"),
    ([(0x3, b"x", True, 0)], "received unknown opcode opcode(3)"),
    ([(0x0, b"x", True, 0)], "received continuation frame without text or binary frame"),
    ([(0x1, b"{", False, 0), (0x1, b"}", True, 0)],
     "received new data message without finishing the previous message"),
    ([(0x9, b"x" * 126, True, 0)], "received control frame payload with invalid length: 126"),
    ([(0x9, b"x", False, 0)], "received fragmented control frame"),
    ([(0x8, b"\x03", True, 0)], 'received invalid close payload: close payload "\\x03" too '
     "small, cannot even contain the 2 byte status code"),
    ([(0x8, struct.pack("!H", 1005), True, 0)],
     "received invalid close payload: invalid status code StatusNoStatusRcvd"),
    ([(0x8, struct.pack("!H", 999), True, 0)],
     "received invalid close payload: invalid status code StatusCode(999)"),
]


@pytest.mark.parametrize(("frames", "reason"), PROTOCOL_ERRORS)
def test_a_protocol_error_closes_with_the_dev_servers_reason(
        dev: DevServer, frames: list[tuple[int, bytes, bool, int]], reason: str) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c', 't')}")
    try:
        ws.frame()
        for opcode, payload, fin, rsv in frames:
            ws.send(opcode, payload, fin=fin, rsv=rsv)
        assert ws.frame() == (0x8, struct.pack("!H", 1002) + reason.encode())
        with pytest.raises(EOFError):
            ws.frame()
    finally:
        ws.close()


def test_an_unmasked_frame_ends_the_connection_without_a_close_frame(dev: DevServer) -> None:
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c', 't')}")
    try:
        ws.frame()
        ws.send(0x9, b"x", masked=False)
        with pytest.raises(EOFError):
            ws.frame()
    finally:
        ws.close()


def test_a_token_is_the_dev_servers_jwt(dev: DevServer) -> None:
    answer = token(dev.url, [{"channel": "c", "name": "t", "kind": "run", "extra": 1},
                             {"CHANNEL": "d", "run_id": "01m8nz1r8ydzwqrypc5rg6fczc"}])
    assert answer.status == 201
    assert answer.headers["content-type"] == "application/json"
    assert answer.data.endswith(b"\n")
    header, claims, signature = json.loads(answer.data)["jwt"].split(".")
    signed = hmac.new(b"dev-mode-is-not-secret", f"{header}.{claims}".encode(),
                      hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(signed).rstrip(b"=").decode() == signature
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload.pop("exp") - payload.pop("iat") == 60
    assert re.fullmatch(r"[0-9A-Z]{26}", payload.pop("jti"))
    assert payload == {
        "iss": "rt.inngest.com", "sub": "00000000-0000-4000-a000-000000000000", "env": ENV_ID,
        "topics": [{"kind": "run", "env_id": ENV_ID, "channel": "c", "name": "t"},
                   {"kind": "", "env_id": ENV_ID, "run_id": "01M8NZ1R8YDZWQRYPC5RG6FCZC",
                    "channel": "d", "name": ""}],
        "publish": False,
    }
    assert list(payload) == ["iss", "sub", "env", "topics", "publish"]


@pytest.mark.parametrize("body", [b"", b"nope", b"{}", b'"t"', b"[1]", b'[{"channel": 5}]',
                                  b'[{"env_id": "zz"}]', b'[{"run_id": ""}]', b"[NaN]",
                                  b"[" * 100_000 + b"]" * 100_000])
def test_a_token_for_what_is_not_a_list_of_topics_is_refused(dev: DevServer,
                                                             body: bytes) -> None:
    answer = HTTP.request("POST", f"{dev.url}/v1/realtime/token", body=body)
    assert answer.status == 400
    assert answer.data == (b'{"error":"Invalid request: must provide a list of topics",'
                           b'"data":null,"status":400}\n')


def test_a_token_reads_the_first_json_value(dev: DevServer) -> None:
    answer = HTTP.request("POST", f"{dev.url}/v1/realtime/token", body=b'[{"name": "t"}] x')
    assert answer.status == 201


def forged(claims: dict[str, object], secret: bytes = b"dev-mode-is-not-secret") -> str:
    def segment(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signed = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims)}"
    signature = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


NOW = int(time.time())
VALID = {"iss": "rt.inngest.com", "sub": "s", "exp": NOW + 60, "iat": NOW, "env": ENV_ID,
         "topics": [], "publish": False}


@pytest.mark.parametrize("query", [
    "", "?token=", "?token=nope", f"?token={forged(VALID, b'other')}",
    f"?token={forged({**VALID, 'exp': NOW - 1})}", f"?token={forged({**VALID, 'iss': 'x'})}",
    f"?token={forged({k: v for k, v in VALID.items() if k != 'exp'})}",
])
@pytest.mark.parametrize("route", ["sse", "connect"])
def test_subscribing_needs_a_valid_token(dev: DevServer, route: str, query: str) -> None:
    answer = HTTP.request("GET", f"{dev.url}/v1/realtime/{route}{query}")
    assert (answer.status, answer.headers["content-type"], answer.data) == (
        401, "application/json", b'{"error":"Not authenticated","data":null,"status":401}\n')


def test_a_bearer_token_is_taken_before_the_query(dev: DevServer) -> None:
    key = jwt(dev.url, "c", "t")
    refused = HTTP.request("GET", f"{dev.url}/v1/realtime/sse?token={key}",
                           headers={"authorization": "Bearer junk"})
    assert refused.status == 401
    stream = EventStream(f"{dev.url}/v1/realtime/sse", {"authorization": f"Bearer {key}"})
    try:
        assert stream.event() == ":"
    finally:
        stream.close()


def test_a_subscription_token_cannot_publish(dev: DevServer) -> None:
    key = jwt(dev.url, "c", "t")
    answer = publish(dev.url, "channel=c&topic=t", b"1", authorization=f"Bearer {key}")
    assert (answer.status, answer.data) == (
        401, b'{"error":"Not authenticated for publishing","data":null,"status":401}\n')
    tee = HTTP.request("POST", f"{dev.url}/v1/realtime/publish/tee?channel=c", body=b"x",
                       headers={"authorization": f"Bearer {key}"})
    assert (tee.status, tee.data) == (401, b"Not authenticated for publishing\n")


def test_publishing_to_a_channel_nobody_listens_to_is_fine(dev: DevServer) -> None:
    answer = publish(dev.url, "channel=nobody&topic=t", b"{bad json")
    assert (answer.status, answer.data) == (200, b"")
    assert "content-type" not in answer.headers
    tee = HTTP.request("POST", f"{dev.url}/v1/realtime/publish/tee", body=b"x")
    assert (tee.status, tee.data) == (400, b"channel query parameter required\n")


@pytest.mark.parametrize(("headers", "status", "message"), [
    ({"Connection": "keep-alive"}, 426,
     'WebSocket protocol violation: Connection header "keep-alive" does not contain Upgrade'),
    ({"Upgrade": "h2c"}, 426,
     'WebSocket protocol violation: Upgrade header "h2c" does not contain websocket'),
    ({"Sec-WebSocket-Version": "12"}, 400,
     'unsupported WebSocket protocol version (only 13 is supported): "12"'),
    ({"Sec-WebSocket-Key": "c2hvcnQ="}, 400,
     'WebSocket protocol violation: invalid Sec-WebSocket-Key "c2hvcnQ=", must be a 16 byte '
     'base64 encoded string'),
])
def test_a_bad_websocket_handshake_is_refused(dev: DevServer, headers: dict[str, str],
                                              status: int, message: str) -> None:
    key = jwt(dev.url, "c", "t")
    ws = WebSocket(dev.url, f"/v1/realtime/connect?token={key}", headers)
    try:
        assert ws.status == status
        assert ws.headers["content-type"] == "text/plain; charset=utf-8"
        size = int(ws.headers["content-length"])
        assert ws._take(size).decode() == message + "\n"
    finally:
        ws.close()


@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("GET", "token", 405, "POST"), ("GET", "publish", 405, "POST"),
    ("POST", "sse", 405, "GET"), ("POST", "connect", 405, "GET"), ("GET", "other", 404, None),
])
def test_other_methods_and_paths(dev: DevServer, method: str, path: str, status: int,
                                 allow: str | None) -> None:
    answer = HTTP.request(method, f"{dev.url}/v1/realtime/{path}")
    assert answer.status == status
    assert answer.headers.get("allow") == allow
    assert answer.data == (b"404 page not found\n" if status == 404 else b"")


def test_stopping_the_engine_ends_its_subscriptions() -> None:
    dev = DevServer(port=0, poll=False)
    dev.start()
    try:
        stream = EventStream(f"{dev.url}/v1/realtime/sse?token={jwt(dev.url, 'c', 't')}")
        ws = WebSocket(dev.url, f"/v1/realtime/connect?token={jwt(dev.url, 'c', 't')}")
        assert stream.event() == ":" and ws.frame()[0] == 0x9
    finally:
        dev.stop()
    with pytest.raises(EOFError):
        ws.frame()
    with pytest.raises(urllib3.exceptions.ProtocolError):  # cut off, as the dev server does
        next(stream._chunks)
    stream.close()
    ws.close()


def test_a_function_publishes_under_the_test_engine() -> None:
    """``inngest.testing`` serves the engine in-process: publishing and tokens work there too
    (a subscription needs a real connection: there it answers 501)."""
    client = inngest.Inngest(app_id="test-app", is_production=False)

    @client.create_function(fn_id="speak", trigger=inngest.TriggerEvent(event="demo/speak"))
    def speak(ctx: inngest.ContextSync) -> object:
        realtime.publish_sync(client, "chat", "msg", {"n": 1})
        return realtime.get_subscription_token_sync(client, "chat", ["msg"])["topics"]

    with inngest.testing.TestEngine(client, [speak]) as engine:
        run = engine.execute(inngest.Event(name="demo/speak"))
        key = realtime.get_subscription_token_sync(client, "chat", ["msg"])["key"]
        subscription = engine.transport.send(OutboundRequest(
            "GET", urllib.parse.urljoin(client.api_origin, f"/v1/realtime/sse?token={key}"), {}))
    assert (run.status, run.output) == (inngest.testing.RunStatus.COMPLETED, ["msg"])
    assert subscription.status == 501
