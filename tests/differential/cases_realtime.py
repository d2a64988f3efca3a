"""Cases for the realtime WebSocket (``/v1/realtime/connect``): the handshake and what the
server answers to a client's frames, good and broken, read off a plain socket (frames
byte for byte). They register into ``cases.CASES``."""

from __future__ import annotations

import os
import socket
import struct

from cases import CASES, Answer, Case, Side

_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key, and its accept value
_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
_WAIT_SECONDS = 1.5
# (opcode, payload, fin, rsv bits) frames a client sends, by label.
_Frame = tuple[int, bytes, bool, int]
_INPUTS: dict[str, list[_Frame]] = {
    "ping": [(0x9, b"hi", True, 0)],
    "close with a reason": [(0x8, struct.pack("!H", 1000) + b"bye", True, 0)],
    "empty close": [(0x8, b"", True, 0)],
    "ping between fragments": [(0x1, b'{"kind"', False, 0), (0x9, b"p", True, 0),
                               (0x0, b':"x"}', True, 0), (0x9, b"after", True, 0)],
    "binary, then ping": [(0x2, b"\x00\x01", True, 0), (0x9, b"after", True, 0)],
    "largest message": [(0x1, b"x" * 32768, True, 0), (0x9, b"after", True, 0)],
    "too big": [(0x1, b"x" * 32769, True, 0)],
    "reserved bit": [(0x1, b"{}", True, 4)],
    "unknown opcode": [(0x3, b"x", True, 0)],
    "stray continuation": [(0x0, b"x", True, 0)],
    "new message mid-message": [(0x1, b"{", False, 0), (0x1, b"}", True, 0)],
    "long ping": [(0x9, b"x" * 126, True, 0)],
    "fragmented ping": [(0x9, b"x", False, 0)],
    "one-byte close": [(0x8, b"\x03", True, 0)],
    "close 1005": [(0x8, struct.pack("!H", 1005), True, 0)],
    "close 999": [(0x8, struct.pack("!H", 999), True, 0)],
}


def _frame(opcode: int, payload: bytes, fin: bool, rsv: int) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([0x80 | size])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


class _Connection:
    def __init__(self, origin: str, token: str) -> None:
        host, port = origin.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=_WAIT_SECONDS)
        request = (f"GET /v1/realtime/connect?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {_KEY}\r\n"
                   "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer and self._fill():
            pass
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1").split("\r\n")

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except OSError:  # a timeout, or a reset after a close
            return False
        self.buffer += chunk
        return bool(chunk)

    def frames(self) -> list[object]:
        """The frames the server sent until it hung up or went quiet: (opcode, payload)."""
        while self._fill():
            pass
        out: list[object] = []
        data = self.buffer
        while len(data) >= 2:
            size, start = data[1] & 0x7F, 2
            if size == 126:
                size, start = struct.unpack("!H", data[2:4])[0], 4
            out.append((data[0], data[start:start + size].decode("latin-1")))
            data = data[start + size:]
        return out

    def close(self) -> None:
        self.sock.close()


def _token(side: Side) -> str:
    body = [{"channel": "diff-realtime", "name": "t", "kind": "run"}]
    return str(side.probe.request("POST", "/v1/realtime/token", body)[1]["jwt"])


def _handshake(side: Side) -> object:
    connection = _Connection(side.probe.origin, _token(side))
    try:
        headers = {line.partition(":")[0].lower(): line.partition(":")[2].strip()
                   for line in connection.head[1:]}
        accept = headers.get("sec-websocket-accept")
        return {"status": connection.head[0],
                "accept_valid": accept == _ACCEPT,
                # the others are CORS and Date, which differ on purpose
                "headers": {name: headers.get(name) for name in (
                    "upgrade", "connection", "sec-websocket-protocol",
                    "sec-websocket-extensions")},
                "first_frames": connection.frames()}
    finally:
        connection.close()


def _answers(side: Side) -> object:
    out = {}
    for label, frames in _INPUTS.items():
        connection = _Connection(side.probe.origin, _token(side))
        try:
            for frame in frames:
                connection.sock.sendall(_frame(*frame))
            out[label] = _after_first_ping(connection.frames())
        finally:
            connection.close()
    return out


def _after_first_ping(frames: list[object]) -> list[object]:
    """Without the keepalive ping both servers send on connecting (``handshake`` compares
    it): the client's frames may be answered before or after it goes out, on either
    server, as the machine is busy."""
    first = (0x89, "1")
    return frames[:frames.index(first)] + frames[frames.index(first) + 1:] \
        if first in frames else frames


def _realtime_websocket(side: Side) -> Answer:
    return {"handshake": _handshake(side), "frames": _answers(side)}


CASES["realtime_websocket"] = Case(_realtime_websocket, ("handshake", "frames"))
