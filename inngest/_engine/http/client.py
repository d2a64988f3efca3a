"""The engine's HTTP/1.1 client for calls to apps: keep-alive connections per app.

Every step is one POST to the app, so the engine spends much of its time in its HTTP
client; urllib3 (with http.client and the email header parser under it) took about half of
the engine's CPU per call. This client writes the request in one piece, parses the response
head itself and keeps the connection for the next call when the app allows it. Plain
``http`` only: an ``https`` URL goes to the fallback transport (urllib3), and so does a
request answered with a redirect (sent again there, which follows it).
"""

from __future__ import annotations

import socket
import threading
import typing
import urllib.parse

from inngest._transport import OutboundRequest, Response, Transport, TransportError

_MAX_HEAD_BYTES = 64 * 1024
_READ_CHUNK = 64 * 1024
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
Address = tuple[str, int]


class _Fallback(Exception):
    """The app answered with a redirect: the fallback transport sends the request again
    and follows it."""


class _Stale(Exception):
    """A kept connection was closed by the app before it answered: send on a new one."""


class KeepAliveTransport:
    """Keeps up to ``maxsize`` idle connections per app; safe to share between threads."""

    def __init__(self, fallback: Transport, *, maxsize: int = 16,
                 connect_timeout: float | None = None) -> None:
        self.fallback = fallback
        self.maxsize = maxsize
        self.connect_timeout = connect_timeout
        self._idle: dict[Address, list[socket.socket]] = {}
        self._lock = threading.Lock()

    def send(self, request: OutboundRequest) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme != "http" or not parts.hostname:
            return self.fallback.send(request)
        address = (parts.hostname, parts.port or 80)
        head = _request_head(request, parts, address)
        try:
            return self._exchange(address, head, request)
        except _Fallback:
            return self.fallback.send(request)

    def _exchange(self, address: Address, head: bytes, request: OutboundRequest) -> Response:
        sock = self._take(address)
        if sock is not None:
            try:
                return self._over(sock, address, head, request, reused=True)
            except _Stale:
                pass
        try:
            sock = socket.create_connection(address, self.connect_timeout or request.timeout)
        except OSError as err:
            raise TransportError(f"Failed request to {request.url}: {err}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            return self._over(sock, address, head, request, reused=False)
        except _Stale:
            raise TransportError(
                f"Failed request to {request.url}: connection closed without a response"
            ) from None

    def _over(self, sock: socket.socket, address: Address, head: bytes,
              request: OutboundRequest, *, reused: bool) -> Response:
        """One request on ``sock``; the socket goes back to the pool or is closed."""
        keep = False  # set only once a whole response has been read
        reader = _Reader(sock)
        try:
            sock.settimeout(request.timeout)
            sock.sendall(head + request.body if request.body else head)
            status, headers, reusable = _read_head(reader, reused)
            if status in _REDIRECTS and _header(headers, "location"):
                raise _Fallback()
            body, keep = _read_body(reader, status, headers, reusable,
                                    request.max_response_bytes)
            return Response(status=status, headers=headers, body=body)
        except (_Stale, _Fallback):
            raise
        except OSError as err:
            if reused and not reader.received \
                    and isinstance(err, (ConnectionResetError, BrokenPipeError)):
                raise _Stale() from None
            raise TransportError(f"Failed request to {request.url}: {err}") from None
        except ValueError as err:
            raise TransportError(f"Failed request to {request.url}: {err}") from None
        finally:
            if keep:
                self._put(address, sock)
            else:
                sock.close()

    def _take(self, address: Address) -> socket.socket | None:
        """A kept connection to ``address`` the app has not closed meanwhile, if any."""
        while True:
            with self._lock:
                idle = self._idle.get(address)
                sock = idle.pop() if idle else None
            if sock is None or _still_open(sock):
                return sock
            sock.close()

    def _put(self, address: Address, sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(address, [])
            if len(idle) < self.maxsize:
                idle.append(sock)
                return
        sock.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for sockets in idle.values():
            for sock in sockets:
                sock.close()
        self.fallback.close()


def _still_open(sock: socket.socket) -> bool:
    """Whether an idle connection has nothing to read: an app that closed it sent EOF, and
    bytes nobody asked for mean it cannot be trusted either."""
    try:
        sock.setblocking(False)
        sock.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def _request_head(request: OutboundRequest, parts: urllib.parse.SplitResult,
                  address: Address) -> bytes:
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = address[0] if address[1] == 80 else f"{address[0]}:{address[1]}"
    if ":" in address[0]:  # an IPv6 literal
        host = f"[{address[0]}]" + ("" if address[1] == 80 else f":{address[1]}")
    lines = [f"{request.method} {target} HTTP/1.1", f"host: {host}"]
    lines.extend(f"{name}: {value}" for name, value in request.headers.items()
                 if name.lower() not in ("host", "content-length", "connection"))
    lines.append(f"content-length: {len(request.body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Reader:
    """Buffered reads from a socket (a growing ``bytearray``: large bodies are not copied
    once per chunk)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.received = False

    def _fill(self) -> bool:
        chunk = self._sock.recv(_READ_CHUNK)
        if not chunk:
            return False
        self.received = True
        self._buffer += chunk
        return True

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def until(self, marker: bytes, limit: int) -> bytes | None:
        """Bytes up to and including ``marker``; None at end of stream."""
        start = 0
        while True:
            end = self._buffer.find(marker, start)
            if end >= 0:
                return self._take(end + len(marker))
            if len(self._buffer) > limit:
                raise ValueError("response head too large")
            start = max(0, len(self._buffer) - len(marker) + 1)
            if not self._fill():
                return None

    def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise ValueError("response ended early")
        return self._take(size)

    def rest(self, limit: int | None) -> bytes:
        """Everything until the app closes the connection (or ``limit`` + 1 bytes)."""
        while (limit is None or len(self._buffer) <= limit) and self._fill():
            pass
        return bytes(self._buffer)


def _read_head(reader: _Reader, reused: bool) -> tuple[int, dict[str, str], bool]:
    """Status, headers (names as the app sent them) and whether the connection stays open;
    1xx interim answers are skipped."""
    while True:
        raw = reader.until(b"\r\n\r\n", _MAX_HEAD_BYTES)
        if raw is None:
            if reused and not reader.received:
                raise _Stale()
            raise ValueError("connection closed without a response")
        status_line, *lines = raw[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError(f"not an HTTP/1 response: {status_line[:80]!r}")
        if code.startswith("1"):
            continue
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip()] = value.strip()
        connection = _header(headers, "connection").lower()
        keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        return int(code), headers, keep


def _read_body(reader: _Reader, status: int, headers: dict[str, str], keep: bool,
               limit: int | None) -> tuple[bytes, bool]:
    """The body, and whether the connection can carry another request. Past ``limit`` only
    ``limit`` + 1 bytes are read (the caller can tell it was too large) and the connection
    is dropped."""
    if status in (204, 304):
        return b"", keep
    encoding = _header(headers, "transfer-encoding").lower()
    if encoding:
        if encoding != "chunked":
            raise ValueError(f"unsupported transfer-encoding: {encoding}")
        body, complete = _read_chunks(reader, limit)
        return body, keep and complete
    length = _header(headers, "content-length")
    if not length:
        return reader.rest(limit), False
    if not length.isdigit():
        raise ValueError(f"bad content-length: {length[:40]!r}")
    size = int(length)
    if limit is not None and size > limit:
        return reader.exactly(limit + 1), False
    return reader.exactly(size), keep


def _read_chunks(reader: _Reader, limit: int | None) -> tuple[bytes, bool]:
    """The chunked body, and False when it stopped past ``limit``."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = reader.until(b"\r\n", _MAX_HEAD_BYTES)
        if line is None:
            raise ValueError("response ended early")
        size = int(line.split(b";", 1)[0].strip() or b"x", 16)
        if size == 0:
            while reader.until(b"\r\n", _MAX_HEAD_BYTES) not in (b"\r\n", None):
                pass  # trailers
            return b"".join(parts), True
        parts.append(reader.exactly(size))
        reader.exactly(2)
        total += size
        if limit is not None and total > limit:
            return b"".join(parts)[:limit + 1], False


def _header(headers: typing.Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""
