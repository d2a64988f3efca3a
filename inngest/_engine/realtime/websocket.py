"""The server side of RFC 6455 WebSockets, as much as realtime subscribers need: the opening
handshake (checked, and refused, as the dev server's WebSocket library does) and frames
(text messages out; text, ping and close in, whole or in fragments; no extensions)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import socket
import struct

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
# As the dev server's library: a longer message from the client closes the connection.
MAX_MESSAGE_BYTES = 32768
MAX_CONTROL_BYTES = 125
CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG = 1002, 1009
# Close codes a peer may not send, by the names the dev server's library gives them.
_RESERVED_CLOSE_CODES = {1004: "statusReserved", 1005: "StatusNoStatusRcvd",
                         1006: "StatusAbnormalClosure", 1015: "StatusTLSHandshake"}


class Refusal(Exception):
    """A handshake the dev server refuses: status, message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class Closed(Exception):
    """The connection ended, or the client broke the protocol (``code`` to close with)."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _has_token(value: str, token: str) -> bool:
    return any(part.strip().lower() == token for part in value.split(","))


def accept_key(headers: dict[str, str], method: str) -> str:
    """The ``Sec-WebSocket-Accept`` for a valid opening handshake; raises ``Refusal``."""
    upgrade = {"connection": "Upgrade", "upgrade": "websocket"}
    connection = headers.get("connection", "")
    if not _has_token(connection, "upgrade"):
        raise Refusal(426, "WebSocket protocol violation: Connection header "
                      f"{_quote(connection)} does not contain Upgrade", upgrade)
    if not _has_token(headers.get("upgrade", ""), "websocket"):
        raise Refusal(426, "WebSocket protocol violation: Upgrade header "
                      f"{_quote(headers.get('upgrade', ''))} does not contain websocket", upgrade)
    if method != "GET":
        raise Refusal(405, "WebSocket protocol violation: handshake request method is not "
                      f"GET but {_quote(method)}")
    version = headers.get("sec-websocket-version", "")
    if version != "13":
        raise Refusal(400, "unsupported WebSocket protocol version (only 13 is supported): "
                      f"{_quote(version)}", {"Sec-WebSocket-Version": "13"})
    if "sec-websocket-key" not in headers:
        raise Refusal(400, "WebSocket protocol violation: missing Sec-WebSocket-Key")
    key = headers["sec-websocket-key"].strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        valid = False
    if not valid:
        raise Refusal(400, f"WebSocket protocol violation: invalid Sec-WebSocket-Key "
                      f"{_quote(key)}, must be a 16 byte base64 encoded string")
    digest = hashlib.sha1(key.encode("latin-1") + _GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def _quote(text: str) -> str:
    """Go's %q for the header values seen here."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked frame, as a server sends."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason.encode("utf-8"))


class Reader:
    """Reads the client's frames from a blocking socket, ``leftover`` first, and checks them
    as the dev server's library does: a broken frame closes the connection with its message,
    a message over ``max_bytes`` too."""

    def __init__(self, sock: socket.socket, leftover: bytes,
                 max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._sock = sock
        self._buffer = bytearray(leftover)
        self._max_bytes = max_bytes
        # The data message being read (opcode -1: none), which control frames may interrupt.
        self._opcode = -1
        self._parts: list[bytes] = []
        self._size = 0

    def message(self) -> tuple[int, bytes]:
        """The next message or control frame: (opcode, payload). Raises ``Closed``."""
        while True:
            fin, opcode, size = self._header()
            if opcode >= CLOSE:
                return opcode, _control_payload(opcode, self._payload(size))
            if opcode == CONTINUATION and self._opcode == -1:
                raise Closed(CLOSE_PROTOCOL_ERROR,
                             "received continuation frame without text or binary frame")
            if opcode != CONTINUATION and self._opcode != -1:
                raise Closed(CLOSE_PROTOCOL_ERROR,
                             "received new data message without finishing the previous message")
            if opcode != CONTINUATION:
                self._opcode = opcode
            self._size += size
            if self._size > self._max_bytes:
                raise Closed(CLOSE_TOO_BIG, f"read limited at {self._max_bytes + 1} bytes")
            self._parts.append(self._payload(size))
            if fin:
                whole = self._opcode, b"".join(self._parts)
                self._opcode, self._parts, self._size = -1, [], 0
                return whole

    def _header(self) -> tuple[bool, int, int]:
        """A frame's fin bit, opcode and payload size, the mask key left to read."""
        first, second = self._take(2)
        if first & 0x70:
            rsv = ":".join("true" if first & bit else "false" for bit in (0x40, 0x20, 0x10))
            raise Closed(CLOSE_PROTOCOL_ERROR,
                         f"received header with unexpected rsv bits set: {rsv}")
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8))[0]
        if not second & 0x80:
            raise Closed()  # the dev server hangs up on an unmasked frame, no close frame
        fin, opcode = bool(first & 0x80), first & 0x0F
        if opcode >= CLOSE and opcode <= PONG:
            if size > MAX_CONTROL_BYTES:
                raise Closed(CLOSE_PROTOCOL_ERROR,
                             f"received control frame payload with invalid length: {size}")
            if not fin:
                raise Closed(CLOSE_PROTOCOL_ERROR, "received fragmented control frame")
        elif opcode > BINARY:
            raise Closed(CLOSE_PROTOCOL_ERROR, f"received unknown opcode opcode({opcode})")
        return fin, opcode, size

    def _payload(self, size: int) -> bytes:
        mask, masked = self._take(4), self._take(size)
        key = (mask * (size // 4 + 1))[:size]
        return (int.from_bytes(masked, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                raise Closed()
            self._buffer += chunk
        taken = bytes(self._buffer[:size])
        del self._buffer[:size]
        return taken


def _control_payload(opcode: int, payload: bytes) -> bytes:
    """A control frame's payload; a close frame's is checked (an empty one is fine)."""
    if opcode != CLOSE or not payload:
        return payload
    if len(payload) < 2:
        raise Closed(CLOSE_PROTOCOL_ERROR, f"received invalid close payload: close payload "
                     f"{_quote_bytes(payload)} too small, cannot even contain the 2 byte "
                     "status code")
    code = struct.unpack("!H", payload[:2])[0]
    if not _valid_close_code(code):
        name = _RESERVED_CLOSE_CODES.get(code, f"StatusCode({code})")
        raise Closed(CLOSE_PROTOCOL_ERROR,
                     f"received invalid close payload: invalid status code {name}")
    return payload


def _valid_close_code(code: int) -> bool:
    if code in _RESERVED_CLOSE_CODES:
        return False
    return 1000 <= code <= 1014 or 3000 <= code <= 4999


def _quote_bytes(data: bytes) -> str:
    """Go's %q for a few bytes."""
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
             34: '\\"', 92: "\\\\"}
    return '"' + "".join(named.get(byte) or (chr(byte) if 32 <= byte < 127 else f"\\x{byte:02x}")
                         for byte in data) + '"'
