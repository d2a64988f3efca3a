"""Cases for routing calls to Connect workers whose connections are paused: a worker written
here (the start request, the gateway's WebSocket, ``connect.v1`` protobuf by hand) serves an
app; the dev server's router looks again each second, 10 times, for a ready connection when
an app's are all paused (draining). They run last: their apps must not show in the cases
that list apps. They register into ``cases.CASES``."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
import typing
import urllib.parse

from cases import CASES, Answer, Case, Side
from probe import wait_for

# GatewayMessageType
_CONNECT, _READY, _EXECUTOR_REQUEST, _WORKER_READY, _ACK, _REPLY = 1, 2, 3, 4, 5, 6
_PAUSE, _HEARTBEAT = 8, 9
_REPLY_ACK, _EXTEND_LEASE, _EXTEND_LEASE_ACK = 7, 12, 13
_ULID_DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PROTOBUF = {"content-type": "application/protobuf"}
_PROTOCOL = "v0.connect.inngest.com"
_SOCKET_SECONDS = 20.0
_HEARTBEAT_SECONDS = 5.0  # the workers' (the gateway asks for 10 s; it drops them at 20 s)


def _varint(value: int) -> bytes:
    out = b""
    while value > 0x7F:
        out += bytes([value & 0x7F | 0x80])
        value >>= 7
    return out + bytes([value])


def _field(number: int, value: str | bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _fields(data: bytes) -> dict[int, typing.Any]:
    """A message's fields by number (the last of each): varints as ints, the rest bytes."""
    out: dict[int, typing.Any] = {}
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        if key & 7 == 0:
            out[key >> 3], at = _read_varint(data, at)
        else:
            size, at = _read_varint(data, at)
            out[key >> 3], at = data[at:at + size], at + size
    return out


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


class _Worker:
    """One worker connection serving ``app``, whose one function is not retried."""

    def __init__(self, side: Side, app: str, manual_readiness: bool = False) -> None:
        status, _, body = side.probe.exchange("POST", "/v0/connect/start", b"", _PROTOBUF)
        assert status == 200, f"{side.probe.name}: connect start answered {status}"
        started = _fields(body)
        self.connection_id = started[1].decode()
        url = urllib.parse.urlsplit(started[2].decode())
        self.sock = socket.create_connection((url.hostname or "", url.port or 80),
                                             _SOCKET_SECONDS)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                           "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Sec-WebSocket-Protocol: {_PROTOCOL}\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        self._lock = threading.Lock()
        self.requests: list[dict[int, typing.Any]] = []
        assert self._message()[0] == 0  # the hello
        slug = f"{app}-fn"
        function = {"id": slug, "name": slug, "triggers": [{"event": f"{app}/go"}],
                    "steps": {"step": {"id": "step", "name": "step",
                                       "retries": {"attempts": 0},
                                       "runtime": {"type": "ws", "url":
                                                   f"wss://connect/?fnId={slug}&stepId=step"}}}}
        self.send(_CONNECT, b"".join([
            _field(1, self.connection_id), _field(2, f"{app}-{self.connection_id}"),
            _field(3, _field(1, started[4])), _field(4, '{"trust_probe":"v1","connect":"v1"}'),
            _field(5, _field(1, app) + _field(4, json.dumps([function]))),
            _field(6, int(manual_readiness)), _field(9, "connect"), _field(11, "v3.54.2"),
            _field(12, "typescript")]))
        assert self._message()[0] == _READY
        self._closed = threading.Event()
        threading.Thread(target=self._beat, daemon=True).start()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the gateway closed the connection")
        return chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def _message(self) -> tuple[int, dict[int, typing.Any]]:
        """The next ``ConnectMessage``: its kind and payload's fields."""
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8))[0]
        message = _fields(self._take(size))
        return int(message.get(1, 0)), _fields(message.get(2, b""))

    def send(self, kind: int, payload: bytes = b"") -> None:
        data = _field(1, kind) + (_field(2, payload) if payload else b"")
        mask = os.urandom(4)
        size = len(data)
        head = (struct.pack("!BB", 0x82, 0x80 | size) if size < 126 else
                struct.pack("!BBH", 0x82, 0x80 | 126, size))
        with self._lock:
            self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _beat(self) -> None:
        while not self._closed.wait(_HEARTBEAT_SECONDS):
            try:
                self.send(_HEARTBEAT)
            except OSError:
                return

    def request(self, seconds: float = 30.0) -> dict[int, typing.Any]:
        """The next executor request (heartbeats and acks skipped); fails when none comes
        within ``seconds`` (the gateway's heartbeat answers would keep a plain read waiting
        for ever: seen hanging the suite in CI)."""
        payload = self.next_of(_EXECUTOR_REQUEST, seconds)
        assert payload is not None, f"no executor request came in {seconds} s"
        self.requests.append(payload)
        return payload

    def next_of(self, kind: int, seconds: float = 5.0) -> dict[int, typing.Any] | None:
        """The next message of ``kind`` (others skipped); None when none comes in time."""
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                got, payload = self._message()
                if got == kind:
                    return payload
            return None
        except TimeoutError:
            return None
        finally:
            self.sock.settimeout(_SOCKET_SECONDS)

    def reply(self, request: dict[int, typing.Any], output: str) -> None:
        ids = _field(1, request[1]) + _field(4, request[4]) + _field(5, request[7])
        self.send(_ACK, ids)
        self.send(_REPLY, _field(1, request[1]) + _field(5, 1) + _field(6, json.dumps(output))
                  + _field(9, "inngest-js:v3.54.2"))

    def close(self) -> None:
        self._closed.set()
        self.sock.close()


def _status(side: Side, connection_id: str) -> int:
    """The connection's status in the connect listing (1 ready, 2 draining; 0 not listed)."""
    _, conns = side.probe.request("GET", "/v0/connect/envs/dev/conns")
    return next((conn.get("status", 0) for conn in conns["data"]
                 if conn["id"] == connection_id), 0)


def _paused(side: Side, app: str) -> _Worker:
    """A worker that paused (and then said it was ready: ignored, as it stays paused)."""
    worker = _Worker(side, app)
    worker.send(_PAUSE)
    worker.send(_WORKER_READY)
    deadline = time.monotonic() + 10
    while _status(side, worker.connection_id) != 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # the ready after the pause is read too
    return worker


def _run(side: Side, event_id: str) -> dict[str, typing.Any]:
    """The run's status and output, once it has ended and has its output (the dev server's
    GraphQL shows a failed run's status a moment before its output)."""
    run_id = side.probe.run_ids(event_id, timeout=60)[0]

    def ended() -> dict[str, typing.Any]:
        run = side.probe.ended_run(run_id, timeout=60)
        assert run["output"], f"{side.probe.name}: run {run_id} has no output yet"
        return run

    run = wait_for(ended, timeout=30)
    return {"status": run["status"], "output": json.loads(run["output"])}


def _waits_for_a_ready_connection(side: Side) -> Answer:
    """The app's only other connection gets ready 2 s after the call found them all paused:
    the request goes to it in the same attempt."""
    app = "diff-drain-ready"
    paused, waiting = _paused(side, app), _Worker(side, app, manual_readiness=True)
    try:
        event_id = side.probe.send(f"{app}/go", {})
        time.sleep(2)
        status_while_waiting = _status(side, paused.connection_id)
        waiting.send(_WORKER_READY)
        request = waiting.request()
        waiting.reply(request, "ok")
        run = _run(side, event_id)
    finally:
        paused.close()
        waiting.close()
    return {"connect_paused_wait": {
        "attempt": json.loads(request[9])["ctx"]["attempt"], "run": run,
        "paused_status": status_while_waiting, "paused_requests": len(paused.requests)}}


def _gives_up_after_10s(side: Side) -> Answer:
    app = "diff-drain-none"
    paused = _paused(side, app)
    try:
        sent = time.monotonic()
        event_id = side.probe.send(f"{app}/go", {})
        run = _run(side, event_id)
        waited = time.monotonic() - sent
    finally:
        paused.close()
    return {"connect_paused_gives_up": {"run": run, "waited 9 s or more": waited >= 9}}


def _lost_request_finds_only_paused(side: Side) -> Answer:
    """The only connection pauses before it acks its request: sent again, the request finds
    no ready connection in 10 s."""
    app = "diff-drain-lost"
    worker = _Worker(side, app)
    try:
        event_id = side.probe.send(f"{app}/go", {})
        worker.request()
        sent = time.monotonic()
        worker.send(_PAUSE)
        run = _run(side, event_id)
        waited = time.monotonic() - sent
    finally:
        worker.close()
    return {"connect_lost_finds_only_paused": {
        "run": run, "waited 9 s or more": waited >= 9, "sends": len(worker.requests)}}


def _seconds_left(lease: bytes) -> int:
    """Whole seconds from now until the ULID's time (a lease's: when it runs out)."""
    ms = 0
    for char in lease[:10].decode().upper():
        ms = ms * 32 + _ULID_DIGITS.index(char)
    return round(ms / 1000 - time.time())


def _lease_extensions(side: Side) -> Answer:
    """What the gateway answers lease extensions (its extend_lease.lua): with the current
    lease, the previous one (from the instance that extended, and from another), one two
    back, from a connection not yet ready (unanswered, but it counts), for a request it does
    not know, and once the request is answered."""
    app = "diff-lease"
    worker = _Worker(side, app)
    # Ready once the request went to ``worker`` (the dev server routes to any ready one).
    other = _Worker(side, app, manual_readiness=True)
    waiting = _Worker(side, app, manual_readiness=True)  # never ready
    try:
        side.probe.send(f"{app}/go", {})
        request = worker.request()
        other.send(_WORKER_READY)

        def other_ready() -> None:
            assert _status(side, other.connection_id) == 1, "not ready yet"

        wait_for(other_ready, timeout=10)
        ids = _field(1, request[1]) + _field(4, request[4]) + _field(5, request[7])
        worker.send(_ACK, ids)
        leases = {"initial": request[13]}

        def extend(on: _Worker, lease: str, request_ids: bytes = ids) -> object:
            on.send(_EXTEND_LEASE, request_ids + _field(10, leases[lease]))
            answer = on.next_of(_EXTEND_LEASE_ACK)
            if answer is None:
                return "no answer"
            new = answer.get(6)
            named = next((name for name, known in leases.items() if known == new), None)
            if new is not None and named is None:
                named = f"new {len(leases)}"
                leases[named] = new
            return {"fields": sorted(answer), "lease": named,
                    "runs out in s": None if new is None else _seconds_left(new)}

        unknown = _field(1, "01ARZ3NDEKTSV4RRFFQ69G5FAV") + _field(4, request[4])
        steps = {
            "initial lease runs out in s": _seconds_left(request[13]),
            "initial": extend(worker, "initial"),
            "initial again (the previous)": extend(worker, "initial"),
            "current": extend(worker, "new 1"),
            "two back": extend(worker, "initial"),
            "previous, from another instance": extend(other, "new 1"),
            "current, from another instance": extend(other, "new 2"),
            "its previous, taken by another": extend(worker, "new 2"),
            "current, from a connection not ready": extend(waiting, "new 3"),
            "the previous now, from the one it was taken from": extend(other, "new 3"),
            "unknown request": extend(worker, "initial", unknown),
        }
        worker.send(_REPLY, _field(1, request[1]) + _field(5, 1) + _field(6, '"ok"')
                    + _field(9, "inngest-js:v3.54.2"))
        assert worker.next_of(_REPLY_ACK) is not None
        time.sleep(1)  # the executor takes the reply and lets the lease go
        steps["after the reply"] = extend(worker, "new 3")
    finally:
        for each in (other, worker, waiting):
            each.close()
    return {"connect_lease_extensions": steps}


# Last: the apps their workers sync must not show in the cases that list apps.
CASES["connect_paused_wait"] = Case(_waits_for_a_ready_connection, ("connect_paused_wait",),
                                    phase=4)
CASES["connect_paused_gives_up"] = Case(_gives_up_after_10s, ("connect_paused_gives_up",),
                                        phase=4)
CASES["connect_lost_finds_only_paused"] = Case(
    _lost_request_finds_only_paused, ("connect_lost_finds_only_paused",), phase=4)
CASES["connect_lease_extensions"] = Case(_lease_extensions, ("connect_lease_extensions",),
                                         phase=4)
