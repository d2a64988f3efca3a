"""One worker's WebSocket connection to the gateway, from the hello to the close.

The gateway says hello (an empty message); within five seconds the worker must send its
connect message (its connection id and instance id, the session token of its start
request, and its apps with their functions), which syncs each app. The gateway then sends
the heartbeat and lease intervals, and the connection is ready (at once, or when the worker
says so if it asked to). After that the worker sends heartbeats (each answered), acks,
lease extensions and replies to the executor requests it is sent, and may pause.

Bad input closes the connection as the dev server does: with a close code and, as the
reason, the error's code.
"""

from __future__ import annotations

import socket
import threading
import time
import typing

from inngest._engine import ulid
from inngest._engine.clock import Clock
from inngest._engine.connect import auth, history, messages
from inngest._engine.connect.history import History
from inngest._engine.connect.workers import Gone, Workers
from inngest._engine.realtime import websocket

Kind = messages.Kind
HELLO_TIMEOUT_SECONDS = 5.0
HEARTBEAT_INTERVAL, EXTEND_LEASE_INTERVAL, STATUS_INTERVAL = "10s", "30s", "0s"
HEARTBEAT_SECONDS = 10.0
# A worker silent for this many heartbeat intervals is gone: its connection is dropped.
MISSED_HEARTBEATS = 5
MAX_APPS = 10
WRITE_TIMEOUT_SECONDS = 10.0
# A reply may carry a step's output and input (4 MiB each), as on the dev server.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
CLOSE_INVALID_DATA, CLOSE_POLICY, CLOSE_INTERNAL = 1007, 1008, 1011


class SocketError(Exception):
    """Ends the connection with a close ``status`` and ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class SyncFailed(SocketError):
    """An app the engine refused to sync: the worker is told why before the close."""

    def __init__(self, message: str) -> None:
        super().__init__(CLOSE_POLICY, "")
        self.message = message


INVALID_PAYLOAD = "connect_worker_hello_invalid_payload"
Sync = typing.Callable[[messages.WorkerConnect, messages.AppConfig], tuple[str, str]]
"""Syncs one app of a connect message: its (app id, sync id); raises ``SocketError``."""


class Session:
    """Serves one connection (``serve``, on the thread the HTTP server gives it)."""

    def __init__(self, workers: Workers, sync: Sync, clock: Clock, connections: History,
                 forwarded_for: str) -> None:
        self.workers = workers
        self.sync = sync
        self.clock = clock
        self.history = connections
        self.forwarded_for = forwarded_for  # X-Real-IP or X-Forwarded-For, as the dev server
        self.connection_id = ""
        self.instance_id = ""
        self.app_names: frozenset[str] = frozenset()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._ended = False
        self._ending = threading.Event()
        self._established = threading.Event()
        self._last_heartbeat = time.monotonic()
        self._close_reason = history.UNEXPECTED
        # Whether heartbeats and lease extensions are answered: as on the dev server, not
        # while a worker that asked to say when it is ready has said neither that nor that it
        # pauses (its extensions still count).
        self._ready_or_draining = False
        self._paused = False  # for good: as on the dev server, a later ready is ignored

    def serve(self, sock: socket.socket, leftover: bytes) -> None:
        # A blocking socket: reads wait past the timeout, writes give up at it.
        sock.settimeout(WRITE_TIMEOUT_SECONDS)
        self._sock = sock
        reader = websocket.Reader(sock, leftover, MAX_MESSAGE_BYTES)
        timer = threading.Timer(HELLO_TIMEOUT_SECONDS, self._hello_timeout)
        timer.daemon = True
        try:
            self.send(Kind.GATEWAY_HELLO, b"")
            timer.start()
            hello = self._establish(reader)
            self._established.set()
            timer.cancel()
            self._record(hello, [(app, self.sync(hello, app)) for app in hello.apps])
            self.workers.limit(hello.instance_id, hello.max_worker_concurrency)
            ready = messages.connection_ready(
                HEARTBEAT_INTERVAL, EXTEND_LEASE_INTERVAL, STATUS_INTERVAL)
            if hello.manual_readiness:
                self.send(Kind.GATEWAY_CONNECTION_READY, ready)
            else:
                self._write(_frame(Kind.GATEWAY_CONNECTION_READY, ready),
                            first=lambda: self.workers.add(self))
                self._ready_or_draining = True
            self._last_heartbeat = time.monotonic()
            threading.Thread(target=self._watch_heartbeats, name="connect-heartbeats",
                             daemon=True).start()
            self._run(reader)
        except SyncFailed as failed:
            self._try_send(Kind.SYNC_FAILED, messages.system_error("", failed.message))
            self._close(failed.status, failed.reason)
        except SocketError as err:
            self._close(err.status, err.reason)
        except websocket.Closed as closed:
            if closed.code == websocket.CLOSE_TOO_BIG:
                self._close_reason = history.MESSAGE_TOO_LARGE
            if closed.code is not None:
                self._close(closed.code, closed.reason)
        except Gone:
            pass
        finally:
            timer.cancel()
            self.workers.remove(self)
            self._end()
            self.history.update(self.connection_id, self.clock.now_ms(),
                                history.Status.DISCONNECTED, self._close_reason)

    def _record(self, hello: messages.WorkerConnect,
                synced: list[tuple[messages.AppConfig, tuple[str, str]]]) -> None:
        """The connection's apps in the connection history."""
        self.history.add(history.records(
            self.connection_id, self.forwarded_for or self._peer(), hello, synced,
            self.clock.now_ms()))

    def _peer(self) -> str:
        """The worker's address as Go writes one: ``host:port``, ``[v6 host]:port``."""
        try:
            host, port = (self._sock.getpeername() if self._sock is not None else ("", 0))[:2]
        except OSError:
            return ""
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def send(self, kind: Kind, payload: bytes) -> None:
        """Raises ``Gone`` once the connection has ended."""
        self._write(_frame(kind, payload))

    def _try_send(self, kind: Kind, payload: bytes) -> None:
        try:
            self.send(kind, payload)
        except Gone:
            pass

    def _write(self, data: bytes, first: typing.Callable[[], None] | None = None) -> None:
        """``first`` runs just before ``data`` is written, with other writes held back:
        READY's joins the connection to the routing order, so a connection that got READY
        earlier is older than one that got it later, and no request is written before
        READY."""
        with self._lock:
            if self._ended or self._sock is None:
                raise Gone()
            if first is not None:
                first()
            try:
                self._sock.sendall(data)
            except OSError:
                self._ended = True
                raise Gone() from None

    def _close(self, status: int, reason: str) -> None:
        try:
            self._write(websocket.close_frame(status, reason))
        except Gone:
            return
        self._end()

    def _end(self) -> None:
        self._ending.set()
        with self._lock:
            self._ended = True
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _watch_heartbeats(self) -> None:
        """Drop the connection (no close frame, as the dev server) once the worker has
        missed ``MISSED_HEARTBEATS`` heartbeats in a row."""
        while not self._ending.wait(HEARTBEAT_SECONDS):
            if time.monotonic() - self._last_heartbeat > MISSED_HEARTBEATS * HEARTBEAT_SECONDS:
                self._close_reason = history.HEARTBEATS_MISSED
                self._end()
                return

    def _on_heartbeat(self, _: bytes) -> None:
        self._last_heartbeat = time.monotonic()
        self.history.heartbeat(self.connection_id, self.clock.now_ms())
        if self._ready_or_draining:
            self.send(Kind.GATEWAY_HEARTBEAT, b"")

    def _hello_timeout(self) -> None:
        if not self._established.is_set():
            self._close(CLOSE_POLICY, "connect_worker_hello_timeout")

    # Reading

    def _message(self, reader: websocket.Reader) -> tuple[int, bytes]:
        """The next ``ConnectMessage`` (kind, payload), answering control frames. Text
        frames are read as binary ones, as on the dev server."""
        while True:
            opcode, payload = reader.message()
            if opcode == websocket.CLOSE:
                self._try_write(websocket.frame(websocket.CLOSE, payload[:2]))
                self._closed_by_worker(payload)
                raise websocket.Closed()
            if opcode == websocket.PING:
                self._try_write(websocket.frame(websocket.PONG, payload))
            elif opcode in (websocket.TEXT, websocket.BINARY):
                try:
                    return messages.read_connect_message(payload)
                except messages.WireError:
                    raise SocketError(CLOSE_INVALID_DATA,
                                      "failed to unmarshal Protobuf") from None

    def _closed_by_worker(self, payload: bytes) -> None:
        """The worker's reason for closing (the JS SDK's is ``WORKER_SHUTDOWN``), recorded
        as the dev server does: any it gave, else unexpected."""
        reason = payload[2:].decode("utf-8", "replace")
        if reason:
            self._close_reason = reason

    def _try_write(self, data: bytes) -> None:
        try:
            self._write(data)
        except Gone:
            pass

    def _establish(self, reader: websocket.Reader) -> messages.WorkerConnect:
        kind, payload = self._message(reader)
        if kind != Kind.WORKER_CONNECT:
            raise SocketError(CLOSE_POLICY, "connect_worker_hello_invalid_msg")
        try:
            hello = messages.WorkerConnect.decode(payload)
        except messages.WireError:
            raise SocketError(CLOSE_POLICY, INVALID_PAYLOAD) from None
        if not ulid.is_ulid(hello.connection_id) or not hello.instance_id:
            raise SocketError(CLOSE_POLICY, INVALID_PAYLOAD)
        if not auth.valid(hello.session_token, self.clock.now_ms()):
            raise SocketError(CLOSE_POLICY, "connect_authentication_failed")
        if not hello.apps:
            raise SocketError(CLOSE_POLICY, INVALID_PAYLOAD)
        if len(hello.apps) > MAX_APPS:
            raise SocketError(CLOSE_POLICY, "connect_too_many_apps_per_connection")
        self.connection_id = hello.connection_id.upper()
        self.instance_id = hello.instance_id
        self.app_names = frozenset(app.name for app in hello.apps)
        return hello

    def _run(self, reader: websocket.Reader) -> None:
        handlers: dict[int, typing.Callable[[bytes], None]] = {
            Kind.WORKER_HEARTBEAT: self._on_heartbeat,
            Kind.WORKER_READY: self._on_ready,
            Kind.WORKER_PAUSE: self._on_pause,
            Kind.WORKER_REQUEST_ACK: self._on_request_ack,
            Kind.WORKER_REPLY: self._on_reply,
            Kind.WORKER_REQUEST_EXTEND_LEASE: self._on_extend_lease,
        }
        while True:
            kind, payload = self._message(reader)
            handler = handlers.get(kind)
            if handler is not None:
                handler(payload)

    def _on_ready(self, _: bytes) -> None:
        if self._paused:
            return
        self._ready_or_draining = True
        self.workers.add(self)
        self.history.update(self.connection_id, self.clock.now_ms(), history.Status.READY)

    def _on_pause(self, _: bytes) -> None:
        self._paused = self._ready_or_draining = True
        self.workers.pause(self)
        self.history.update(self.connection_id, self.clock.now_ms(), history.Status.DRAINING)

    def _on_request_ack(self, payload: bytes) -> None:
        try:
            request_id = messages.read_request_ack(payload)
        except messages.WireError:
            raise SocketError(CLOSE_POLICY,
                              "connect_worker_request_ack_invalid_payload") from None
        self.workers.ack(request_id, self)

    def _on_reply(self, payload: bytes) -> None:
        try:
            reply = messages.SDKResponse.decode(payload)
        except messages.WireError:
            raise SocketError(CLOSE_INTERNAL, "connect_internal_error") from None
        # As on the dev server, every reply it can read is acked, awaited or not; the ack
        # goes first, so the worker has it before the next request its room lets out.
        try:
            self.send(Kind.WORKER_REPLY_ACK, messages.reply_ack(reply.request_id))
        finally:
            self.workers.reply(reply)

    def _on_extend_lease(self, payload: bytes) -> None:
        invalid = "connect_worker_request_extend_lease_invalid_payload"
        try:
            request = messages.LeaseRequest.decode(payload)
        except messages.WireError:
            raise SocketError(CLOSE_POLICY, invalid) from None
        if not ulid.is_ulid(request.lease_id):
            raise SocketError(CLOSE_POLICY, invalid)
        new_lease = self.workers.extend_lease(
            request.request_id, request.lease_id.upper(), self.instance_id,
            self.clock.now_ms())
        if self._ready_or_draining:  # answered whatever the outcome, as there
            self.send(Kind.WORKER_REQUEST_EXTEND_LEASE_ACK, request.ack(new_lease))


def _frame(kind: Kind, payload: bytes) -> bytes:
    return websocket.frame(websocket.BINARY, messages.connect_message(kind, payload))
