"""Outbound HTTP: the ``Transport`` protocol every outbound call goes through, its
implementations, and the SDK's standard headers.

``KeepAliveTransport`` (the default, for the SDK and the engine alike) speaks HTTP/1.1 over
kept sockets itself for plain ``http``: urllib3 (with http.client and the email header
parser under it) cost several times the CPU of the request itself, which an app sending
events, or the engine calling apps, pays on every request. ``https`` goes to urllib3.

urllib3 is imported on the first request it serves: it (with ssl and http.client) is most of
what ``import inngest`` would otherwise cost, and an app that only serves never needs it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import select
import socket
import threading
import time
import typing
import urllib.parse

from inngest import _errors, _version
from inngest._protocol.headers import Header

if typing.TYPE_CHECKING:
    import urllib3


class Timing(typing.NamedTuple):
    """How long the phases of one request took, in seconds, as ``KeepAliveTransport``
    measures them; a phase that did not happen (the lookup and connect of a kept
    connection, TLS over plain HTTP) took 0. (A tuple: one is made for every request.)"""

    dns_lookup: float
    tcp_connection: float
    tls_handshake: float
    # From the request written to the response's first byte.
    server_processing: float
    # From the start to the response's first byte, and to its last.
    start_transfer: float
    total: float


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: typing.Mapping[str, str]
    body: bytes
    # Measured by transports that can (None: not measured).
    timing: Timing | None = dataclasses.field(default=None, compare=False)

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            raise _errors.BodyInvalidError(
                f"response from server is not JSON (status {self.status})"
            ) from None


class TransportError(_errors.Error):
    """The request never got a response (connection refused, timeout...)."""

    code = "unknown"


@dataclasses.dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: typing.Mapping[str, str]
    body: bytes | None = None
    # Seconds: the whole request by default; see ``Urllib3Transport.connect_timeout``.
    timeout: float = 30.0
    # A transport may stop reading the body after this many bytes plus one (the caller can
    # then tell it was too large) instead of holding all of it in memory.
    max_response_bytes: int | None = None


class Transport(typing.Protocol):
    """Sends one request and returns the response, whatever its status.

    Raises ``TransportError`` (only) when no response came. Response header names keep the
    case the server used.
    """

    def send(self, request: OutboundRequest) -> Response:
        ...

    def close(self) -> None:
        ...


class Urllib3Transport:
    """The default transport: one urllib3 pool, created on the first request.

    ``connect_timeout`` makes the request's timeout a per-read timeout instead of a total one.
    """

    def __init__(self, *, maxsize: int = 16, redirects: int = 0,
                 connect_timeout: float | None = None) -> None:
        self.maxsize = maxsize
        self.redirects = redirects
        self.connect_timeout = connect_timeout
        self._pool: urllib3.PoolManager | None = None
        self._lock = threading.Lock()

    def _manager(self) -> urllib3.PoolManager:
        with self._lock:
            if self._pool is None:
                import urllib3

                self._pool = urllib3.PoolManager(num_pools=16, maxsize=self.maxsize)
            return self._pool

    def send(self, request: OutboundRequest) -> Response:
        import urllib3

        if self.connect_timeout is None:
            timeout = urllib3.Timeout(total=request.timeout)
        else:
            timeout = urllib3.Timeout(connect=self.connect_timeout, read=request.timeout)
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0,
                                redirect=self.redirects) if self.redirects else False
        try:
            resp = self._manager().request(
                request.method, request.url, body=request.body, headers=dict(request.headers),
                timeout=timeout, retries=retries, redirect=self.redirects > 0,
                preload_content=False,
            )
            try:
                limit = request.max_response_bytes
                data = resp.read() if limit is None else resp.read(limit + 1)
            finally:
                resp.release_conn()
        except urllib3.exceptions.HTTPError as err:
            raise TransportError(f"Failed request to {request.url}: {error_cause(err)}") from None
        return Response(status=resp.status, headers=dict(resp.headers.items()), body=data)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.clear()


_MAX_HEAD_BYTES = 64 * 1024
_READ_CHUNK = 64 * 1024
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
# urllib3's words for an answer that never came, kept so that errors read as they did.
_NO_RESPONSE = ("('Connection aborted.', RemoteDisconnected('Remote end closed connection "
                "without response'))")
Address = tuple[str, int]


class _Fallback(Exception):
    """The app answered with a redirect: the fallback transport sends the request again
    and follows it."""


class _Stale(Exception):
    """A kept connection was closed by the server before it answered: send on a new one."""


class KeepAliveTransport:
    """HTTP/1.1 on kept connections, up to ``maxsize`` idle ones per server; ``https`` goes to
    ``fallback`` (urllib3 by default). Safe to share between threads.

    As ``Urllib3Transport``: without ``connect_timeout`` the request's timeout bounds the
    connect and then each read by what is left of it; with one, the timeout is per read.
    A redirect is answered as it is, unless ``follow_redirects``: the request then goes to
    the fallback, which follows it. Failures read as urllib3's.
    """

    def __init__(self, fallback: Transport | None = None, *, maxsize: int = 16,
                 connect_timeout: float | None = None, follow_redirects: bool = False) -> None:
        self.fallback = fallback or Urllib3Transport(maxsize=maxsize,
                                                     connect_timeout=connect_timeout)
        self.maxsize = maxsize
        self.connect_timeout = connect_timeout
        self.follow_redirects = follow_redirects
        self._idle: dict[Address, list[socket.socket]] = {}
        self._lock = threading.Lock()

    def send(self, request: OutboundRequest) -> Response:
        destination = _destination(request.url)
        if destination is None:
            return self.fallback.send(request)
        address, target, host = destination
        head = _request_head(request, target, host)
        try:
            return self._exchange(address, head, request, _Clock())
        except _Fallback:
            return self.fallback.send(request)

    def _exchange(self, address: Address, head: bytes, request: OutboundRequest,
                  clock: _Clock) -> Response:
        sock = self._take(address)
        if sock is not None:
            try:
                return self._over(sock, address, head, request, request.timeout, clock,
                                  reused=True)
            except _Stale:
                pass
        connect_timeout = _bounded(self.connect_timeout or request.timeout)
        started = time.monotonic()
        try:
            sock = clock.connect(address, connect_timeout)
        except OSError as err:
            raise TransportError(f"Failed request to {request.url}: "
                                 f"{_connect_failure(address[0], err, connect_timeout)}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        read_timeout = request.timeout if self.connect_timeout else \
            max(request.timeout - (time.monotonic() - started), 0.001)
        try:
            return self._over(sock, address, head, request, read_timeout, clock, reused=False)
        except _Stale:
            raise TransportError(f"Failed request to {request.url}: {_NO_RESPONSE}") from None

    def _over(self, sock: socket.socket, address: Address, head: bytes,
              request: OutboundRequest, timeout: float, clock: _Clock, *,
              reused: bool) -> Response:
        """One request on ``sock``; the socket goes back to the pool or is closed."""
        keep = False  # set only once a whole response has been read
        reader = _Reader(sock)
        try:
            bounded = _bounded(timeout)
            if sock.gettimeout() != bounded:  # a kept socket has its last request's
                sock.settimeout(bounded)
            sock.sendall(head + request.body if request.body else head)
            written = time.monotonic()
            status, headers, fields, reusable = _read_head(reader, reused)
            if self.follow_redirects and status in _REDIRECTS and fields.get("location"):
                raise _Fallback()
            body, keep = _read_body(reader, status, fields, reusable,
                                    request.max_response_bytes)
            return Response(status=status, headers=headers, body=body,
                            timing=clock.timing(written, reader.first_byte_at))
        except (_Stale, _Fallback):
            raise
        except TimeoutError:
            raise TransportError(f"Failed request to {request.url}: "
                                 f"Read timed out. (read timeout={timeout})") from None
        except OSError as err:
            if reused and not reader.received \
                    and isinstance(err, (ConnectionResetError, BrokenPipeError)):
                raise _Stale() from None
            raise TransportError(
                f"Failed request to {request.url}: ('Connection aborted.', {err!r})"
            ) from None
        except ValueError as err:
            raise TransportError(f"Failed request to {request.url}: {err}") from None
        finally:
            if keep:
                self._put(address, sock)
            else:
                sock.close()

    def _take(self, address: Address) -> socket.socket | None:
        """A kept connection to ``address`` the server has not closed meanwhile, if any."""
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


_YEAR_SECONDS = 365 * 24 * 3600.0


def _bounded(timeout: float) -> float:
    """A socket timeout: past a year (infinity too) is as good as none, and sockets refuse
    what does not fit their C ``timeval`` (OverflowError)."""
    return min(timeout, _YEAR_SECONDS)


class _Clock:
    """Times one request's phases (``Timing``): its connection's lookup and connect, if it
    made one, then its exchange."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.dns_lookup = self.tcp_connection = 0.0

    def connect(self, address: Address, timeout: float) -> socket.socket:
        """``socket.create_connection``, its lookup and its connect timed apart."""
        began = time.monotonic()
        found = socket.getaddrinfo(address[0], address[1], 0, socket.SOCK_STREAM)
        looked_up = time.monotonic()
        self.dns_lookup = looked_up - began
        error: OSError = OSError("getaddrinfo returns an empty list")
        for family, kind, proto, _, target in found:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                sock.connect(target)
            except OSError as err:
                sock.close()
                error = err
                continue
            self.tcp_connection = time.monotonic() - looked_up
            return sock
        raise error

    def timing(self, written: float, first_byte: float | None) -> Timing:
        ended = time.monotonic()
        first = ended if first_byte is None else first_byte
        return Timing(
            dns_lookup=self.dns_lookup, tcp_connection=self.tcp_connection,
            tls_handshake=0.0, server_processing=max(first - written, 0.0),
            start_transfer=first - self.started, total=ended - self.started)


def _connect_failure(host: str, err: OSError, timeout: float) -> str:
    """urllib3's words for a connection that could not be made."""
    if isinstance(err, socket.gaierror):
        return f"Failed to resolve '{host}' ({err})"
    if isinstance(err, TimeoutError):
        return f"Connection to {host} timed out. (connect timeout={timeout})"
    return f"Failed to establish a new connection: {err}"


def _still_open(sock: socket.socket) -> bool:
    """Whether an idle connection has nothing to read: an app that closed it sent EOF, and
    bytes nobody asked for mean it cannot be trusted either (or an error is pending). One
    poll that does not wait: a peek would switch the socket to non-blocking and back, three
    system calls for every request. (``select`` where there is no ``poll``: Windows.)"""
    try:
        if not hasattr(select, "poll"):
            return not select.select([sock], [], [], 0)[0]
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


@functools.lru_cache(maxsize=256)  # the same few apps' URLs, on every request
def _destination(url: str) -> tuple[Address, str, str] | None:
    """A plain-HTTP URL's address, request target and ``host`` header; None for any other
    (or for no URL: the fallback words that error)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 80
    except ValueError:
        return None
    hostname = parts.hostname
    if parts.scheme != "http" or not hostname:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = hostname if port == 80 else f"{hostname}:{port}"
    if ":" in hostname:  # an IPv6 literal
        host = f"[{hostname}]" + ("" if port == 80 else f":{port}")
    return (hostname, port), target, host


_NOT_FORWARDED = frozenset(("host", "content-length", "connection"))


def _request_head(request: OutboundRequest, target: str, host: str) -> bytes:
    lines = [f"{request.method} {target} HTTP/1.1", f"host: {host}"]
    lines.extend([f"{name}: {value}" for name, value in request.headers.items()
                  if name.lower() not in _NOT_FORWARDED])
    lines.append(f"content-length: {len(request.body or b'')}\r\n\r\n")
    return "\r\n".join(lines).encode("latin-1")


class _Reader:
    """Buffered reads from a socket (a growing ``bytearray``: large bodies are not copied
    once per chunk)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.received = False
        self.first_byte_at: float | None = None

    def _fill(self) -> bool:
        chunk = self._sock.recv(_READ_CHUNK)
        if not chunk:
            return False
        if not self.received:
            self.first_byte_at = time.monotonic()
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


def _read_head(reader: _Reader,
               reused: bool) -> tuple[int, dict[str, str], dict[str, str], bool]:
    """Status, headers (names as the app sent them), the same by lower-case name (the first
    name of each) and whether the connection stays open; 1xx interim answers are skipped."""
    while True:
        raw = reader.until(b"\r\n\r\n", _MAX_HEAD_BYTES)
        if raw is None:
            if reused and not reader.received:
                raise _Stale()
            raise ValueError(_NO_RESPONSE)
        status_line, *lines = raw[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError(f"not an HTTP/1 response: {status_line[:80]!r}")
        if code.startswith("1"):
            continue
        headers = dict(_header_pairs(lines))
        # The first of the names that differ only in case wins: written last.
        fields = {name.lower(): value for name, value in reversed(headers.items())}
        connection = fields.get("connection", "").lower()
        keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        return int(code), headers, fields, keep


def _header_pairs(lines: list[str]) -> list[tuple[str, str]]:
    """(name, value) of each header line, stripped; a line without a colon is skipped."""
    pairs = [line.split(":", 1) for line in lines]
    return [(pair[0].strip(), pair[1].strip()) for pair in pairs if len(pair) == 2]


def _read_body(reader: _Reader, status: int, fields: dict[str, str], keep: bool,
               limit: int | None) -> tuple[bytes, bool]:
    """The body, and whether the connection can carry another request. Past ``limit`` only
    ``limit`` + 1 bytes are read (the caller can tell it was too large) and the connection
    is dropped."""
    if status in (204, 304):
        return b"", keep
    encoding = fields.get("transfer-encoding", "").lower()
    if encoding:
        if encoding != "chunked":
            raise ValueError(f"unsupported transfer-encoding: {encoding}")
        body, complete = _read_chunks(reader, limit)
        return body, keep and complete
    length = fields.get("content-length", "")
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


DEFAULT_TRANSPORT = KeepAliveTransport()


def json_body(payload: object) -> bytes:
    """Compact UTF-8 JSON: byte for byte what the official SDK's HTTP client sends."""
    try:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise _errors.BodyInvalidError(f"request body is not JSON-serializable: {err}") from None
    return text.encode("utf-8")


def standard_headers(env: str | None) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        Header.SDK: _version.SDK_IDENTITY,
        Header.REQ_VERSION: _version.REQUEST_VERSION,
        "user-agent": _version.SDK_IDENTITY,
    }
    if env:
        headers[Header.ENV] = env
    return headers


def request(
    transport: Transport,
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send through ``transport``; the response's header names are lower-cased."""
    resp = transport.send(OutboundRequest(method, url, headers, body, timeout))
    return Response(
        status=resp.status,
        headers={key.lower(): value for key, value in resp.headers.items()},
        body=resp.body,
    )


def error_cause(err: Exception) -> str:
    """urllib3's error without the connection object it prefixes (``[Errno 111] ...``)."""
    text = str(getattr(err, "reason", None) or err)
    if text.startswith(("HTTPConnection", "HTTPSConnection", "<urllib3")) and ": " in text:
        return text.split(": ", 1)[1]
    return text


def request_with_auth(
    transport: Transport,
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    bearer_tokens: typing.Sequence[str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send with the first token; on 401/403 try once more with the fallback token."""
    resp = request(transport, method, url, headers=_with_bearer(headers, bearer_tokens[:1]),
                   body=body, timeout=timeout)
    if resp.status in (401, 403) and len(bearer_tokens) > 1:
        resp = request(transport, method, url,
                       headers=_with_bearer(headers, bearer_tokens[1:2]), body=body,
                       timeout=timeout)
    return resp


def _with_bearer(headers: typing.Mapping[str, str], tokens: typing.Sequence[str]) -> dict[str, str]:
    out = dict(headers)
    if tokens:
        out["authorization"] = f"Bearer {tokens[0]}"
    return out
