"""The two ways a subscriber receives messages, as the dev server offers them: server-sent
events (``GET /v1/realtime/sse``) and a WebSocket (``GET /v1/realtime/connect``).

Each serves one connection taken over from the HTTP listener: its thread writes what the
hub delivers (and a keepalive when nothing came for a while), a second thread reads what
the client sends, and the end of either ends both.
"""

from __future__ import annotations

import abc
import json
import queue
import socket
import threading
import typing

from inngest._engine.clock import Clock
from inngest._engine.realtime import tokens, websocket
from inngest._engine.realtime.hub import Delivery, Hub, Subscriber

# As the dev server: a keepalive on connecting and after this long.
KEEPALIVE_SECONDS = 15.0
WRITE_TIMEOUT = 30.0
SSE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "Content-Type": "text/event-stream",
    "Transfer-Encoding": "chunked",
}
# Deliveries of the WebSocket reader: frames written as they are.
FRAME = "frame"


class Stream(abc.ABC):
    """One subscriber's connection; ``serve`` is what the HTTP listener hands it to."""

    def __init__(self, hub: Hub, topics: typing.Iterable[tokens.Topic]) -> None:
        self.hub = hub
        self.subscriber = Subscriber()
        # Subscribed before the client sees the answer: a message it causes next arrives.
        hub.subscribe(self.subscriber, topics)

    def serve(self, sock: socket.socket, leftover: bytes) -> None:
        sock.settimeout(WRITE_TIMEOUT)
        reader = threading.Thread(target=self._read_until_closed, args=(sock, leftover),
                                  name="realtime-read", daemon=True)
        reader.start()
        try:
            self._write_loop(sock)
        except OSError:
            pass
        finally:
            self.hub.unsubscribe(self.subscriber)
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader
            except OSError:
                pass

    def _write_loop(self, sock: socket.socket) -> None:
        sock.sendall(self.keepalive())
        while True:
            try:
                delivery = self.subscriber.outbox.get(timeout=KEEPALIVE_SECONDS)
            except queue.Empty:
                sock.sendall(self.keepalive())
                continue
            if delivery is None:
                return
            sock.sendall(self.encode(delivery))

    def _read_until_closed(self, sock: socket.socket, leftover: bytes) -> None:
        try:
            self.read(sock, leftover)
        finally:
            self.subscriber.end()

    @abc.abstractmethod
    def read(self, sock: socket.socket, leftover: bytes) -> None:
        """Read what the client sends until it hangs up."""

    @abc.abstractmethod
    def keepalive(self) -> bytes:
        """What keeps an idle connection open."""

    @abc.abstractmethod
    def encode(self, delivery: Delivery) -> bytes:
        """The bytes that write ``delivery``."""


class EventStream(Stream):
    """Server-sent events in a chunked response: ``data: <message>`` per message, raw bytes
    as they are, and ``:`` comments as keepalives."""

    def read(self, sock: socket.socket, leftover: bytes) -> None:
        while True:  # the client sends nothing more; this waits for it to hang up
            try:
                if not sock.recv(4096):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def keepalive(self) -> bytes:
        return _chunk(b":\n\n")

    def encode(self, delivery: Delivery) -> bytes:
        return _chunk(delivery.payload if delivery.kind == "raw"
                      else b"data: " + delivery.payload + b"\n\n")


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class WebSocketStream(Stream):
    """Messages and raw bytes as text frames, pings as keepalives. The client may send
    ``{"kind": "sub", "data": <token>}`` to add a token's topics and
    ``{"kind": "unsub", "data": [<topic>, ...]}`` to drop topics; other messages are
    ignored, as on the dev server."""

    def __init__(self, hub: Hub, topics: typing.Iterable[tokens.Topic], clock: Clock) -> None:
        super().__init__(hub, topics)
        self.clock = clock
        self._pings = 0

    def read(self, sock: socket.socket, leftover: bytes) -> None:
        reader = websocket.Reader(sock, leftover)
        while True:
            try:
                opcode, payload = reader.message()
            except websocket.Closed as closed:
                if closed.code is not None:
                    self._send_frame(websocket.close_frame(closed.code, closed.reason))
                return
            if opcode == websocket.CLOSE:  # answered with its own code and reason
                self._send_frame(websocket.frame(websocket.CLOSE, payload))
                return
            if opcode == websocket.PING:
                self._send_frame(websocket.frame(websocket.PONG, payload))
            elif opcode == websocket.TEXT:
                self._on_text(payload)

    def _send_frame(self, data: bytes) -> None:
        self.subscriber.deliver(Delivery(data, FRAME))

    def _on_text(self, payload: bytes) -> None:
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict):
            return
        kind, data = message.get("kind"), message.get("data")
        if kind == "sub" and isinstance(data, str):
            claims = tokens.verify(data, self.clock.now_ms())
            if claims is not None:
                self.hub.subscribe(self.subscriber, claims.topics)
        elif kind == "unsub":
            try:
                topics = tokens.decode_topics(data) or []
            except tokens.TopicError:
                return
            self.hub.unsubscribe(self.subscriber, [topic.key for topic in topics])

    def keepalive(self) -> bytes:
        self._pings += 1
        return websocket.frame(websocket.PING, str(self._pings).encode("ascii"))

    def encode(self, delivery: Delivery) -> bytes:
        if delivery.kind == FRAME:
            return delivery.payload
        return websocket.frame(websocket.TEXT, delivery.payload)
