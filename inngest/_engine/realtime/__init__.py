"""The realtime API under ``/v1/realtime``, as the dev server serves it (measured against it).

* ``POST token`` takes a JSON list of topics and answers 201 ``{"jwt": ...}``: a token
  (``tokens``) letting its holder subscribe to them for a minute.
* ``POST publish?channel=&topic=`` sends its body to the topic's subscribers: JSON as it
  is, anything else as a JSON string; a ``text/stream`` body as a stream of chunks between
  a ``datastream-start`` and a ``datastream-end`` message. ``POST publish/tee?channel=``
  sends raw bytes to the channel's ``$stream`` topic: an SDK streams a durable endpoint's
  server-sent events there while it runs. Both streams go out as they arrive (``sink``).
* ``GET sse`` and ``GET connect`` (a WebSocket) are the subscriptions (``streams``), for
  the token's topics, given as ``?token=`` or an ``Authorization: Bearer`` header.

As in the dev server, publishing needs no key (a token without the publish right is
refused) and messages go to the subscribers connected at the time; none is stored.
"""

from __future__ import annotations

import dataclasses
import json

from inngest._engine import ulid
from inngest._engine.clock import Clock
from inngest._engine.realtime import messages, tokens, websocket
from inngest._engine.realtime.hub import Delivery, Hub
from inngest._engine.realtime.streams import SSE_HEADERS, EventStream, WebSocketStream
from inngest._http_core import Takeover
from inngest._protocol.headers import Header

Headers = dict[str, str]
Response = tuple[int, Headers, bytes]
PREFIX = "/v1/realtime/"
# As the dev server: a published body is cut here, a streamed one sent in chunks this size.
MAX_MESSAGE_BYTES = 512 * 1024
CHUNK_BYTES = 1024
MAX_CHUNKS = 1000
_METHODS = {"token": "POST", "publish": "POST", "publish/tee": "POST", "sse": "GET",
            "connect": "GET"}
_TEXT = "text/plain; charset=utf-8"


def serves(path: str) -> bool:
    return path.startswith(PREFIX)


def _answer(status: int, headers: Headers | None = None, body: bytes = b"") -> Response:
    return status, {Header.SERVER_KIND: "dev", **(headers or {})}, body


def _json(status: int, value: object, content_type: str = "application/json") -> Response:
    body = json.dumps(value, separators=(",", ":")).encode("utf-8") + b"\n"
    return _answer(status, {"Content-Type": content_type}, body)


def _error(status: int, message: str, content_type: str = "application/json") -> Response:
    return _json(status, {"error": message, "data": None, "status": status}, content_type)


def _text(status: int, message: str, headers: Headers | None = None) -> Response:
    """An answer as Go's ``http.Error`` writes it."""
    return _answer(status, {"Content-Type": _TEXT, "X-Content-Type-Options": "nosniff",
                            **(headers or {})}, message.encode("utf-8") + b"\n")


class Realtime:
    """The routes of one engine; ``hub`` holds its subscribers."""

    def __init__(self, clock: Clock, ids: ulid.Generator) -> None:
        self.clock = clock
        self.ids = ids
        self.hub = Hub()

    def handle(self, method: str, path: str, query: dict[str, str], headers: Headers,
               body: bytes) -> Response | Takeover:
        route = path[len(PREFIX):]
        allowed = _METHODS.get(route)
        if allowed is None:
            return _answer(404, {"Content-Type": _TEXT, "X-Content-Type-Options": "nosniff"},
                           b"404 page not found\n")
        if method != allowed:
            return _answer(405, {"Allow": allowed})
        if route == "token":
            return self.token(body)
        claims = self._claims(query, headers)
        if route in ("sse", "connect"):
            if claims is None:
                return _error(401, "Not authenticated")
            return self.subscribe(route, claims, method, headers)
        if claims is not None and not claims.publish:
            refused = "Not authenticated for publishing"
            # ``publish`` answers JSON, which Go sends as sniffed text; ``tee`` plain text.
            return _text(401, refused) if route == "publish/tee" else _error(401, refused, _TEXT)
        env_id = claims.env_id if claims is not None else tokens.ENV_ID
        if route == "publish/tee":
            sink = self._tee_sink(query, env_id)
            if sink is None:
                return _text(400, "channel query parameter required")
            sink.write(body)
            return sink.finish()
        return self.publish(query, headers, env_id, body)

    def sink(self, method: str, path: str, query: dict[str, str],
             headers: Headers) -> TeeSink | StreamSink | None:
        """Where the body of a ``POST publish/tee`` or of a ``text/stream`` ``POST publish``
        goes as it arrives; None for any other request, and for one ``handle`` refuses."""
        route = path[len(PREFIX):]
        streamed = route == "publish" and headers.get("content-type") == "text/stream"
        if method != "POST" or not (route == "publish/tee" or streamed):
            return None
        claims = self._claims(query, headers)
        if claims is not None and not claims.publish:
            return None
        env_id = claims.env_id if claims is not None else tokens.ENV_ID
        return self._stream_sink(query, env_id) if streamed else self._tee_sink(query, env_id)

    def _tee_sink(self, query: dict[str, str], env_id: str) -> TeeSink | None:
        channel = query.get("channel", "")
        if not channel:
            return None
        topic = tokens.Topic(kind="run", env_id=env_id, channel=channel,
                             name=messages.STREAM_TOPIC)
        return TeeSink(self.hub, topic.key)

    def _claims(self, query: dict[str, str], headers: Headers) -> tokens.Claims | None:
        """The claims of the request's token: its bearer token, else its ``token``."""
        authorization = headers.get("authorization", "")
        key = authorization[7:] if len(authorization) > 8 else query.get("token", "")
        return tokens.verify(key, self.clock.now_ms()) if key else None

    def token(self, body: bytes) -> Response:
        try:
            topics = tokens.decode_topics(_first_json_value(body))
        except (ValueError, RecursionError):
            return _error(400, "Invalid request: must provide a list of topics")
        now = self.clock.now_ms()
        return _json(201, {"jwt": tokens.mint(topics, now, self.ids.new(now))})

    def subscribe(self, route: str, claims: tokens.Claims, method: str,
                  headers: Headers) -> Response | Takeover:
        if route == "sse":
            return Takeover(200, {**SSE_HEADERS, Header.SERVER_KIND: "dev"},
                            EventStream(self.hub, claims.topics).serve)
        try:
            accept = websocket.accept_key(headers, method)
        except websocket.Refusal as refusal:
            return _text(refusal.status, refusal.message, refusal.headers)
        stream = WebSocketStream(self.hub, claims.topics, self.clock)
        return Takeover(101, {"Connection": "Upgrade", "Sec-WebSocket-Accept": accept,
                              "Upgrade": "websocket", Header.SERVER_KIND: "dev"}, stream.serve)

    def publish(self, query: dict[str, str], headers: Headers, env_id: str,
                body: bytes) -> Response:
        if headers.get("content-type") == "text/stream":
            sink = self._stream_sink(query, env_id)
            sink.write(body)
            return sink.finish()
        message = self._message(query, env_id)
        _send(self.hub, message, messages.body_data(body[:MAX_MESSAGE_BYTES]))
        return _answer(200)

    def _message(self, query: dict[str, str], env_id: str) -> messages.Message:
        return messages.Message(
            kind=messages.DATA, data="", created_at_ms=self.clock.now_ms(),
            channel=query.get("channel", ""), topic=query.get("topic", ""), env_id=env_id,
            metadata=query.get("metadata", ""), run_id=_run_id(query.get("run_id", "")),
        )

    def _stream_sink(self, query: dict[str, str], env_id: str) -> StreamSink:
        start = self._message(query, env_id)
        return StreamSink(self.hub, start, self.ids.new(start.created_at_ms).lower())


class TeeSink:
    """A ``publish/tee`` body, sent on to the topic's subscribers piece by piece as it
    arrives (as the dev server copies it); past its limit it is cut, and the answer a 500."""

    def __init__(self, hub: Hub, key: tuple[str, ...]) -> None:
        self.hub = hub
        self.key = key
        self.left = CHUNK_BYTES * MAX_CHUNKS
        self.overflowed = False

    def write(self, data: bytes) -> None:
        if len(data) > self.left:
            self.overflowed = True
            data = data[:self.left]
        if data:
            self.left -= len(data)
            self.hub.publish(self.key, Delivery(data, "raw"))

    def finish(self) -> Response:
        if self.overflowed:
            return _text(500, "Error forwarding data")
        return _answer(200)

    def abandon(self) -> None:
        """What came before stays sent."""


class StreamSink:
    """A ``text/stream`` body published as a stream: ``datastream-start`` at once, a
    ``chunk`` of at most 1 KiB for each piece that arrives (as the dev server reads it, the
    rest dropped after ``MAX_CHUNKS`` of them), and ``datastream-end`` once the body ends or
    its sender hangs up."""

    def __init__(self, hub: Hub, start: messages.Message, stream_id: str) -> None:
        self.hub = hub
        self.start = start
        self.stream_id = stream_id
        self.chunks_left = MAX_CHUNKS
        _send(hub, start, messages.string(stream_id), messages.STREAM_START)

    def write(self, data: bytes) -> None:
        for at in range(0, len(data), CHUNK_BYTES):
            if not self.chunks_left:
                return
            self.chunks_left -= 1
            chunk = messages.chunk(self.stream_id, data[at:at + CHUNK_BYTES])
            self.hub.publish(self.start.topic_key, Delivery(chunk))

    def finish(self) -> Response:
        self.abandon()
        return _answer(200)

    def abandon(self) -> None:
        _send(self.hub, self.start, messages.string(self.stream_id), messages.STREAM_END)


def _send(hub: Hub, message: messages.Message, data: str, kind: str = messages.DATA) -> None:
    encoded = dataclasses.replace(message, data=data, kind=kind).encode()
    if encoded is not None:
        hub.publish(message.topic_key, Delivery(encoded))


def _first_json_value(body: bytes) -> object:
    """The first JSON value of ``body``, as Go's streaming decoder reads one (what follows
    it is not read)."""
    text = body.decode("utf-8", "replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    value, _ = tokens.STRICT_JSON.raw_decode(text, start)
    return value


def _run_id(text: str) -> str:
    """A ``run_id`` as the dev server keeps it: a ULID, else none."""
    return text.upper() if ulid.is_ulid(text) and text.strip("0") else ""
