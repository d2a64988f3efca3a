"""The HTTP/1.1 server core shared by the SDK's stdlib adapter and the embedded engine.

One selector thread accepts connections and reads every request head and body without
blocking; only complete requests reach the worker pool. A slow or idle client therefore
holds a file descriptor, never a worker, and each limit below is enforced before the
bytes it guards are read:

* the whole head and body must arrive within ``request_timeout`` (not per read);
* a ``Content-Length`` over ``max_body_bytes`` is refused (413) before the body is read,
  a chunked body as soon as its chunk sizes pass it (its trailers are bounded like a head),
  and all buffered bodies together stay under ``max_buffered_bytes`` (503 beyond);
* at most ``max_connections`` are open; past that an idle keep-alive connection is
  dropped, else the one that has waited longest for a complete request head (a slowloris
  client trickling its head cannot hold a place against newcomers), and only when every
  connection is being answered or sending a body does the newcomer get a 503;
* an idle keep-alive connection is closed after ``keep_alive_timeout``;
* a missing-or-invalid ``Content-Length``, a malformed head (an HTTP/1.1 request without
  ``Host``, two ``Host`` headers) or malformed chunking is a 400 in JSON.

A request whose head the server's ``sinks`` claims (``BodySink``) is the exception: its
body is handed to the sink piece by piece as it arrives, on the selector thread, and is
neither buffered nor bounded by ``max_body_bytes`` (the sink bounds it); its deadline is
``request_timeout`` after the last bytes that arrived, not after the first. Once the body
is whole, a worker sends the sink's ``finish()`` as the answer.

A worker that has answered on a keep-alive connection waits a moment (``_LINGER_SECONDS``)
for the client's next request and serves it itself, when no other request is in progress:
a client sending requests one after another is then served without a hand-off to the
selector thread and back. The limits above hold on that path too; a request not complete
in time goes back to the selector thread. With ``adaptive_linger`` (the engine's API) no
worker waits on a connection whose client once did not come back in time, until the client
again sends a request within that moment of its last answer: a client sending now and then
(an app's events, a status poll) would otherwise hold a worker that wakes up for nothing,
taking the GIL from the threads that run the engine's queue.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import errno
import http
import itertools
import json
import logging
import math
import queue
import re
import select
import selectors
import socket
import threading
import time
import typing
import weakref

from inngest import _errors

log = logging.getLogger("inngest.http")

# An empty line; lines may end in a bare LF (RFC 9112 section 2.2), as the real server takes.
_HEAD_END = re.compile(rb"\n\r?\n")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# The target has no spaces or control characters (RFC 3986; Go's URL parser refuses them).
_REQUEST_LINE = re.compile(f"({_TOKEN}) " + r"([^\x00-\x20\x7f]+) HTTP/([0-9])\.([0-9])")
_FIELD_NAME = re.compile(_TOKEN)
# A ``%`` in the target's path not followed by two hex digits: Go's request parser refuses
# the request (a query's bad escapes are only dropped when it is read).
_BAD_PATH_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# A field value has no control characters but tab (RFC 9110 section 5.5): a bare CR or a
# NUL is read as a line end by some servers and proxies, and not by others.
_FIELD_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A well-formed header line (without its line end).
_FIELD_LINE = re.compile(_TOKEN + r":[^\x00-\x08\x0a-\x1f\x7f]*")
_MAX_LENGTH_DIGITS = 18
# The bytes a Host may have (RFC 3986's reg-name, IP literals and a port), as Go's net/http
# checks them: a space, ``/``, ``@`` or a byte past ASCII makes it malformed.
_HOST = re.compile(r"[0-9A-Za-z!$%&'()*+,\-.:;=\[\]_~]*")
# ``100-continue`` as one of the values of an Expect header (case-insensitive).
_CONTINUE = re.compile(r"(?:^|[ \t,])100-continue(?:$|[ \t,])", re.IGNORECASE)
# A chunk's size in hex, then optional extensions (ignored), on a line without its line end.
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r]*)?")
_MAX_CHUNK_LINE = 4096
# Chunk lines beyond 16 bytes for each chunk and twice its size are allowed up to this many
# bytes in all (as Go's net/http does): many tiny chunks with long extensions would otherwise
# keep the selector thread parsing framing for the whole request deadline.
_MAX_CHUNK_OVERHEAD = 16 * 1024
_MAX_HEADERS = 100
_STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n"
                 for status in http.HTTPStatus}
_FRAMING_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})
_KEEP_ALIVE_END = "connection: keep-alive\r\n\r\n"
_CLOSE_END = "connection: close\r\n\r\n"
_DRAIN_SECONDS = 1.0
_WAKE_BYTES = 4096
_DRAIN_BYTES = 256 * 1024
# Longer than a client's turn between two requests on one connection (about 0.3 ms for a
# Python client), short enough that a worker is never held for long by a client's silence.
_LINGER_SECONDS = 0.002
# select.poll is missing on some platforms (Windows): select.select serves there.
_HAS_POLL = hasattr(select, "poll")
# Selectors whose waits see registrations made by other threads during them (epoll's:
# each registration is a system call on the one kernel object the wait is on).
_SHARED_SELECTORS: tuple[type[selectors.BaseSelector], ...] = tuple(
    kind for kind in (getattr(selectors, "EpollSelector", None),) if kind is not None)
# How long server_close() gives the requests being answered to finish.
_CLOSE_WAIT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one server accepts; see the module docstring for what each bound protects."""

    max_body_bytes: int
    max_buffered_bytes: int
    max_connections: int = 128
    request_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    write_timeout: float = 30.0
    max_head_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_buffered_bytes", "max_connections", "max_head_bytes"):
            if getattr(self, name) < 1:
                raise _errors.FunctionConfigInvalidError(f"{name}: must be at least 1")
        for name in ("request_timeout", "keep_alive_timeout", "write_timeout"):
            if not getattr(self, name) > 0:
                raise _errors.FunctionConfigInvalidError(f"{name}: must be positive")


class HTTPRequest(typing.NamedTuple):
    """One complete request; header names are lower-case, the first of repeated ones wins.
    (A named tuple: immutable, and made for each request at a third of a frozen dataclass's
    cost.)"""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    client_address: tuple[typing.Any, ...]
    # The sink its body went to instead (``CoreServer``'s ``sinks``); its answer is the sink's.
    sink: BodySink | None = None


HTTPResponse = tuple[int, typing.Mapping[str, str], bytes]


@dataclasses.dataclass(frozen=True)
class Takeover:
    """An answer after which the handler keeps the connection (a WebSocket after its 101, an
    event stream): the server sends ``status`` and ``headers`` as they are (framing is the
    handler's), then calls ``run`` with the socket and the bytes the client sent past the
    request, on a thread of its own. ``run`` returns when it is done with the connection,
    which the server then closes; ``server_close()`` shuts the connections still taken
    down, so a ``run`` reading or writing then sees the connection end."""

    status: int
    headers: typing.Mapping[str, str]
    run: typing.Callable[[socket.socket, bytes], None]


RequestHandler = typing.Callable[[HTTPRequest], "HTTPResponse | Takeover"]


class BodySink(typing.Protocol):
    """Where a claimed request's body goes as it arrives. ``write`` and ``abandon`` run on
    the selector thread, so they must not block or raise; ``finish`` gives the answer once
    the body is whole, ``abandon`` is called instead when it never will be (the client hung
    up, the request was refused or timed out, the server closed)."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> HTTPResponse: ...

    def abandon(self) -> None: ...


# Given a request's method, target and headers, the sink that takes its body, or None.
SinkOpener = typing.Callable[[str, str, dict[str, str]], "BodySink | None"]


class _Refusal(Exception):
    """A request the core answers itself, then closes the connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Gone(Exception):
    """The client closed its connection."""


class _TakenOver(Exception):
    """A handler took the connection over (``Takeover``)."""


class _ChunkedBody:
    """A chunked request body (RFC 9112 section 7.1) decoded as it arrives: ``feed()`` takes
    what it can use off the front of the connection's buffer, so neither the raw bytes nor
    the chunks are scanned again when more arrive. Chunk extensions and trailers are read
    and ignored; lines may end in a bare LF, as in the head.

    ``reserve(size)`` is called with each chunk's size before its data is read (it raises
    when the server's buffer budget is spent), ``max_body_bytes`` bounds the decoded body as
    a ``Content-Length`` does, and ``max_trailer_bytes`` the trailer section. With a
    ``sink``, the data goes there as it is decoded, unbounded, and ``body`` stays empty."""

    def __init__(self, max_body_bytes: int, max_trailer_bytes: int,
                 reserve: typing.Callable[[int], None], sink: BodySink | None = None) -> None:
        self.body = bytearray()
        self._sink = sink
        self._size = 0  # of the decoded body
        self._max_body_bytes = max_body_bytes
        self._max_trailer_bytes = max_trailer_bytes
        self._reserve = reserve
        self._data_left = 0  # of the current chunk
        self._data_read = False  # the current chunk's data is in: its line end comes next
        self._trailer_bytes = -1  # -1 until the last chunk, then the trailers' size so far
        self._overhead = 0
        self.done = False

    def feed(self, buffer: bytearray) -> bool:
        """Decode from ``buffer``, deleting what was decoded; whether the body is whole."""
        at = 0
        try:
            while not self.done:
                if self._data_left:
                    at = self._take_data(buffer, at)
                    if self._data_left:
                        break
                    continue
                end = buffer.find(b"\n", at, at + _MAX_CHUNK_LINE)
                if end < 0:
                    if len(buffer) - at >= _MAX_CHUNK_LINE:
                        raise _bad_chunking("a chunk line is too long")
                    break
                line_end = end - 1 if end > at and buffer[end - 1] == 0x0D else end
                self._on_line(bytes(buffer[at:line_end]))
                at = end + 1
        finally:
            del buffer[:at]
        return self.done

    def _take_data(self, buffer: bytearray, at: int) -> int:
        data = buffer[at:at + self._data_left]
        if self._sink is not None:
            self._sink.write(bytes(data))
        else:
            self.body += data
        self._data_left -= len(data)
        self._data_read = not self._data_left
        return at + len(data)

    def _on_line(self, line: bytes) -> None:
        if self._data_read:
            if line:
                raise _bad_chunking("chunk data is longer than its size")
            self._data_read = False
        elif self._trailer_bytes >= 0:
            self._on_trailer_line(line)
        else:
            self._on_size_line(line)

    def _on_size_line(self, line: bytes) -> None:
        match = _CHUNK_SIZE_LINE.fullmatch(line)
        if match is None:
            raise _bad_chunking(f"malformed chunk size line {line[:40]!r}")
        size = int(match.group(1), 16)
        if self._sink is None and self._size + size > self._max_body_bytes:
            raise _body_too_large(self._max_body_bytes)
        self._size += size
        overhead = max(0, self._overhead + len(line) + 2 - 16 - 2 * size)
        if overhead > _MAX_CHUNK_OVERHEAD:
            raise _bad_chunking("too many chunk framing bytes for the data")
        self._overhead = overhead
        if size:
            if self._sink is None:
                self._reserve(size)
            self._data_left = size
        else:
            self._trailer_bytes = 0

    def _on_trailer_line(self, line: bytes) -> None:
        if not line:
            self.done = True
            return
        self._trailer_bytes += len(line)
        if self._trailer_bytes > self._max_trailer_bytes:
            raise _Refusal(431, "head_too_large", "request trailers too large")


@dataclasses.dataclass(eq=False)
class _Connection:
    sock: socket.socket
    address: tuple[typing.Any, ...]
    deadline: float
    buffer: bytearray = dataclasses.field(default_factory=bytearray)
    head: tuple[str, str, str, dict[str, str]] | None = None
    head_size: int = 0
    body_size: int = 0
    chunks: _ChunkedBody | None = None  # of a chunked body being read
    sink: BodySink | None = None  # of a body handed on as it arrives
    reserved: int = 0
    arrived: float = 0.0
    idle: bool = False
    draining: bool = False
    drained: int = 0
    # When its last response was sent, and whether a worker waits for its next request
    # (only ``adaptive_linger`` ever turns that off).
    answered: float = 0.0
    linger: bool = True
    # What a worker waiting for its next request polls (made by the first one that waits).
    poller: select.poll | None = None


class _Workers:
    """``count`` threads, each started when the requests in progress first need one, taking
    jobs off one queue. A hand-off is a put and a get on a C queue: a ThreadPoolExecutor's
    also makes a Future and a work item and takes a lock and a semaphore, which cost the
    selector thread about a tenth of an app's time per request (measured with py-spy).
    The threads are daemons, so an idle pool never holds the interpreter's exit; requests
    still being answered then get their answers first (``_answer_before_exit``)."""

    def __init__(self, count: int, name_prefix: str) -> None:
        self._count = count
        self._name_prefix = name_prefix
        self._jobs: queue.SimpleQueue[typing.Callable[[], None] | None] = queue.SimpleQueue()
        self._started = 0
        self._stopped = False

    def submit(self, job: typing.Callable[[], None], in_progress: int) -> None:
        """Run ``job`` on a free thread; ``in_progress`` counts the jobs submitted and not
        finished, this one included: a thread is started when there are fewer."""
        if self._started < min(in_progress, self._count):
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self._name_prefix}_{self._started}")
            self._started += 1
            thread.start()
        self._jobs.put(job)

    def stop(self) -> None:
        """End the threads once they are done; jobs still waiting are dropped."""
        self._stopped = True
        for _ in range(self._started):
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if not self._stopped:
                job()


class CoreServer:
    """Serve ``handler`` on ``address`` with ``max_workers`` threads under ``limits``.

    ``serve_forever()`` runs the selector loop; ``shutdown()`` (from another thread) stops
    it and ``server_close()`` releases the socket and the pool. ``sinks`` claims the bodies
    to hand on as they arrive (see the module docstring).
    """

    def __init__(
        self,
        address: tuple[str, int],
        handler: RequestHandler,
        limits: Limits,
        max_workers: int,
        thread_name_prefix: str,
        sinks: SinkOpener | None = None,
        *,
        adaptive_linger: bool = False,
        work_after_answer: bool = False,
    ) -> None:
        if max_workers < 1:
            raise _errors.FunctionConfigInvalidError("max_workers: must be at least 1")
        self.limits = limits
        self._handler = handler
        self._sinks = sinks
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(min(limits.max_connections, socket.SOMAXCONN))
        except OSError:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address: tuple[typing.Any, ...] = self.socket.getsockname()
        self._workers = _Workers(max_workers, thread_name_prefix)
        self._max_workers = max_workers
        self._adaptive_linger = adaptive_linger
        # Whether ``after_response`` on this server's threads waits for the answer (the
        # engine's API); elsewhere (an app's server sending to an in-process engine) the
        # work runs at once: a step may wait for the run its event starts.
        self._work_after_answer = work_after_answer
        self._busy = 0  # requests handed to the pool and not yet answered
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        # Readable while every worker is taken (or the server is closed): a worker waiting
        # for a client's next request then stops waiting, without waking up to look.
        self._full_read, self._full_write = socket.socketpair()
        self._full_read.setblocking(False)
        self._full_write.setblocking(False)
        self._returned: collections.deque[_Connection] = collections.deque()
        self._connections: set[_Connection] = set()
        self._taken: set[socket.socket] = set()
        self._buffered = 0
        # No deadline of a connection is earlier (under the lock; see _set_deadline).
        self._earliest = math.inf
        # The selector serve_forever waits on, when a worker may register a connection in
        # it itself (under the lock; see _hand_back).
        self._selector: selectors.BaseSelector | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._all_answered = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        _OPEN_SERVERS.add(self)

    # The selector thread

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        # A shutdown() that came first (a stop right after a start) makes this return at once.
        self._stopped.clear()
        selector = selectors.DefaultSelector()
        selector.register(self.socket, selectors.EVENT_READ, None)
        selector.register(self._wake_read, selectors.EVENT_READ, None)
        if isinstance(selector, _SHARED_SELECTORS):
            with self._lock:
                self._selector = selector
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(self._wait(poll_interval)):
                    if key.fileobj is self.socket:
                        self._accept(selector)
                    elif key.fileobj is self._wake_read:
                        self._take_returned(selector)
                    else:
                        self._on_readable(selector, key.data)
                if time.monotonic() >= self._earliest:
                    self._expire(selector)
        finally:
            with self._lock:
                self._selector = None
            for conn in self._snapshot():
                if _registered(selector, conn):
                    self._close(selector, conn)
            selector.close()
            self._stop.clear()
            self._stopped.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._wake()
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection. The requests being answered get
        up to ``_CLOSE_WAIT_SECONDS`` to finish, and no other request reaches the handler:
        once this returns, the handler's owner can close what the handler uses, and a client
        holding a kept connection finds it closed rather than answered by a closed server."""
        _OPEN_SERVERS.discard(self)
        self.socket.close()
        with self._lock:
            self._closed = True
            returned, self._returned = list(self._returned), collections.deque()
            _send_quietly(self._full_write, b"\0")
        for conn in returned:
            self._forget(conn)
        with self._all_answered:
            self._all_answered.wait_for(lambda: not self._busy, _CLOSE_WAIT_SECONDS)
        self._workers.stop()
        for conn in self._snapshot():  # of requests still being answered after the wait
            self._forget(conn)
        with self._lock:
            taken = list(self._taken)
        for sock in taken:
            _shut(sock)
        for sock in (self._wake_read, self._wake_write, self._full_read, self._full_write):
            sock.close()

    def _wait(self, poll_interval: float) -> float:
        return max(0.0, min(poll_interval, self._earliest - time.monotonic()))

    def _set_deadline(self, conn: _Connection, deadline: float) -> None:
        """Give ``conn`` (read by the selector thread) a deadline. The earliest one is kept
        as it is set, so that the selector thread looks through every connection's only
        once one may have passed, not after each event."""
        with self._lock:
            self._set_deadline_locked(conn, deadline)

    def _set_deadline_locked(self, conn: _Connection, deadline: float) -> None:
        conn.deadline = deadline
        self._earliest = min(self._earliest, deadline)

    def _snapshot(self) -> list[_Connection]:
        with self._lock:
            return list(self._connections)

    def _accept(self, selector: selectors.BaseSelector) -> None:
        while True:
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # e.g. out of file descriptors: try again later
                if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("cannot accept a connection: %s", err)
                    return
                raise
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if len(self._connections) >= self.limits.max_connections:
                self._take_returned(selector)
            if len(self._connections) >= self.limits.max_connections \
                    and not self._evict(selector):
                _send_quietly(sock, _refusal_bytes(
                    _Refusal(503, "server_busy", "too many open connections")))
                sock.close()
                continue
            conn = _Connection(sock, address, 0.0)
            self._set_deadline(conn, time.monotonic() + self.limits.request_timeout)
            with self._lock:
                self._connections.add(conn)
            selector.register(sock, selectors.EVENT_READ, conn)

    def _evict(self, selector: selectors.BaseSelector) -> bool:
        """Close a connection to make room for a new one: the idle keep-alive connection
        closest to its timeout, else the one waiting longest for a request head (its
        deadline is the earliest). One being answered, or whose body is being read, stays."""
        waiting = [conn for conn in self._snapshot()
                   if conn.deadline and not conn.draining and conn.head is None]
        if not waiting:
            return False
        self._close(selector, min(waiting, key=lambda conn: (not conn.idle, conn.deadline)))
        return True

    def _take_returned(self, selector: selectors.BaseSelector) -> None:
        _drain(self._wake_read)
        while True:
            with self._lock:
                if not self._returned:
                    return
                conn = self._returned.popleft()
            selector.register(conn.sock, selectors.EVENT_READ, conn)
            if _mid_request(conn):  # (part of) a pipelined request already arrived
                self._set_deadline(conn, (conn.arrived or time.monotonic())
                                   + self.limits.request_timeout)
                self._advance(selector, conn)
            else:
                conn.idle = True
                self._set_deadline(conn, time.monotonic() + self.limits.keep_alive_timeout)

    def _on_readable(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        try:
            chunk = conn.sock.recv(_DRAIN_BYTES if conn.draining else 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close(selector, conn)
            return
        if conn.draining:
            conn.drained += len(chunk)
            if conn.drained > _DRAIN_BYTES:
                self._close(selector, conn)
            return
        if conn.idle or conn.sink is not None:
            conn.idle = False
            now = time.monotonic()
            self._set_deadline(conn, now + self.limits.request_timeout)
            # The client came back within a linger: the next worker waits for it again.
            conn.linger = conn.linger or now - conn.answered <= _LINGER_SECONDS
        conn.buffer += chunk
        self._advance(selector, conn)

    def _advance(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        """Parse what ``conn`` has buffered; hand a complete request to a worker."""
        try:
            request = self._complete_request(conn)
        except _Refusal as refusal:
            self._refuse(selector, conn, refusal)
            return
        if request is None:
            return
        selector.unregister(conn.sock)
        conn.deadline, conn.idle = 0.0, False
        with self._lock:
            self._busy += 1
            busy = self._busy
            if busy == self._max_workers:
                _send_quietly(self._full_write, b"\0")
        self._workers.submit(lambda: self._respond(conn, request), busy)

    def _complete_request(self, conn: _Connection) -> HTTPRequest | None:
        """The request ``conn`` has buffered whole (taken from its buffer), or None."""
        try:
            return self._take_request(conn)
        except _Refusal:
            raise
        except Exception:  # a body sink's failure: this request's 500, not the listener's end
            log.exception("error reading a request")
            raise _Refusal(500, "internal_error", "internal error") from None

    def _take_request(self, conn: _Connection) -> HTTPRequest | None:
        if conn.head is None and not self._read_head(conn):
            return None
        if conn.chunks is not None:
            if not conn.chunks.feed(conn.buffer):
                return None
            body, conn.chunks = bytes(conn.chunks.body), None
        elif conn.sink is not None:
            if not _pass_on(conn):
                return None
            body = b""
        else:
            end = conn.head_size + conn.body_size
            if len(conn.buffer) < end:
                return None
            body = bytes(conn.buffer[conn.head_size:end])
            del conn.buffer[:end]
        assert conn.head is not None
        method, target, _, headers = conn.head
        conn.arrived = 0.0
        sink, conn.sink = conn.sink, None
        return HTTPRequest(method, target, headers, body, conn.address, sink)

    def _read_head(self, conn: _Connection) -> bool:
        found = _find_head_end(conn.buffer)
        if found is None:
            if len(conn.buffer) > self.limits.max_head_bytes:
                raise _Refusal(431, "head_too_large", "request head too large")
            return False
        end, body_start = found
        if end > self.limits.max_head_bytes:
            raise _Refusal(431, "head_too_large", "request head too large")
        method, target, version, headers = _parse_head(bytes(conn.buffer[:end]))
        chunked = _is_chunked(version, headers)
        length = 0 if chunked else _content_length(headers)
        expectation = headers.get("expect", "")
        if expectation and not _CONTINUE.search(expectation):
            # RFC 9110 section 10.1.1 lets a server refuse what it cannot meet, as Go's does.
            raise _Refusal(417, "expectation_failed",
                           f"the expectation {expectation!r} cannot be met")
        conn.sink = self._sinks(method, target, headers) if self._sinks is not None else None
        if chunked:
            del conn.buffer[:body_start]
            conn.head_size = conn.body_size = 0
            conn.chunks = _ChunkedBody(self.limits.max_body_bytes, self.limits.max_head_bytes,
                                       lambda size: self._reserve(conn, size), conn.sink)
            waiting = not conn.buffer
        elif conn.sink is not None:
            del conn.buffer[:body_start]
            conn.head_size, conn.body_size = 0, length
            waiting = len(conn.buffer) < length
        else:
            if length > self.limits.max_body_bytes:
                raise _body_too_large(self.limits.max_body_bytes)
            if length:
                self._reserve(conn, length)
            conn.head_size = body_start
            conn.body_size = length
            waiting = len(conn.buffer) < body_start + length
        conn.head = (method, target, version, headers)
        if waiting and version == "1.1" and expectation:
            _send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _reserve(self, conn: _Connection, size: int) -> None:
        """Count ``size`` more bytes of ``conn``'s body against the server's buffer budget."""
        with self._lock:
            if self._buffered + size > self.limits.max_buffered_bytes:
                raise _Refusal(503, "server_busy", "too many request bodies in flight")
            self._buffered += size
        conn.reserved += size

    def _refuse(self, selector: selectors.BaseSelector, conn: _Connection,
                refusal: _Refusal) -> None:
        """Answer, stop writing, and read (and drop) a little of what the client still sends
        so that closing does not reset the connection before the answer is read."""
        _abandon(conn)
        _send_quietly(conn.sock, _refusal_bytes(refusal))
        self._release(conn)
        conn.buffer.clear()
        conn.draining = True
        self._set_deadline(conn, time.monotonic() + _DRAIN_SECONDS)
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(selector, conn)

    def _expire(self, selector: selectors.BaseSelector) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [conn for conn in self._connections if 0 < conn.deadline <= now]
            self._earliest = min((conn.deadline for conn in self._connections
                                  if conn.deadline > now), default=math.inf)
        for conn in expired:
            if conn.draining or conn.idle or not _mid_request(conn):
                self._close(selector, conn)
            else:
                self._refuse(selector, conn, _Refusal(408, "request_timeout",
                                                      "request not received in time"))

    def _close(self, selector: selectors.BaseSelector, conn: _Connection) -> None:
        try:
            selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        self._forget(conn)

    def _forget(self, conn: _Connection) -> None:
        _abandon(conn)
        self._release(conn)
        with self._lock:
            self._connections.discard(conn)
        conn.sock.close()

    def _release(self, conn: _Connection) -> None:
        if conn.reserved:
            with self._lock:
                self._buffered -= conn.reserved
            conn.reserved = 0

    def _wake(self) -> None:
        try:
            self._wake_write.send(b"\0")
        except OSError:
            pass

    # Worker threads

    def _respond(self, conn: _Connection, request: HTTPRequest | None) -> None:
        """Answer ``request``, then the ones the client sends next while this worker waits;
        then hand the connection back to the selector thread (or close it)."""
        kept = False
        try:
            while request is not None:
                if not self._answer(conn, request):
                    break
                request = self._next_request(conn)
            else:
                kept = True
        except _Gone:
            pass
        except _TakenOver:
            return
        finally:
            with self._lock:
                self._busy -= 1
                if self._busy == self._max_workers - 1 and not self._closed:
                    _drain(self._full_read)
                if self._closed and not self._busy:
                    self._all_answered.notify_all()
                # server_close() has run: no one would take it back, or close it.
                kept = kept and not self._closed
                wake = kept and self._hand_back(conn)
        if not kept:
            self._forget(conn)
        elif wake:
            self._wake()

    def _finish_answers(self, deadline: float) -> None:
        """Wait until the requests being answered are, or ``deadline``; the connections
        they came on close once answered (the process is about to end)."""
        with self._lock:
            self._closed = True
            self._all_answered.wait_for(lambda: not self._busy,
                                        max(0.0, deadline - time.monotonic()))

    def _hand_back(self, conn: _Connection) -> bool:
        """(Under the lock.) Give the selector thread ``conn`` back, its request answered;
        whether the selector thread must be woken (to take it, or to time it out). Into an
        epoll selector a worker registers an idle connection itself: a registration made
        from another thread takes effect in a wait under way (not so with select or poll),
        and the wake-up and the selector thread's turn it spares were about a fifth of an
        app's CPU per request. One wake serves the connections handed back until the
        selector thread takes them: it takes every one there is."""
        if self._selector is not None and not _mid_request(conn):
            conn.idle = True
            deadline = time.monotonic() + self.limits.keep_alive_timeout
            # The selector thread may be waiting past it: it waits for the earliest.
            wake = deadline < self._earliest
            self._set_deadline_locked(conn, deadline)
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            return wake
        wake = not self._returned
        self._returned.append(conn)
        return wake

    def _answer(self, conn: _Connection, request: HTTPRequest) -> bool:
        """Handle ``request`` and send the response; whether the connection stays open.
        What the handler left for after its answer (``after_response``) runs then."""
        if not self._work_after_answer:
            return self._answer_now(conn, request)
        _after.actions = []
        try:
            return self._answer_now(conn, request)
        finally:
            actions, _after.actions = _after.actions, None
            for action in actions:
                try:
                    action()
                except Exception:
                    log.exception("error after answering %s %s", request.method,
                                  request.target)

    def _answer_now(self, conn: _Connection, request: HTTPRequest) -> bool:
        self._release(conn)
        assert conn.head is not None
        version, headers = conn.head[2:]
        conn.head = None
        keep_alive = _keeps_alive(version, headers) and not self._stop.is_set()
        try:
            answer = request.sink.finish() if request.sink is not None \
                else self._handler(request)
        except Exception:
            log.exception("error handling %s %s", request.method, request.target)
            answer = _error_response(500, "internal_error", "internal error")
        if isinstance(answer, Takeover):
            self._take_over(conn, answer)
        status, out, body = answer
        data = _response_bytes(status, out, body, keep_alive)
        if request.method == "HEAD":
            data = data[:len(data) - len(body)]
        try:
            _send_all(conn.sock, data, self.limits.write_timeout)
        except OSError:
            return False
        conn.answered = time.monotonic()
        return keep_alive

    def _take_over(self, conn: _Connection, answer: Takeover) -> typing.NoReturn:
        """Hand the connection to ``answer.run`` on a thread of its own, after its head; the
        server no longer counts, reads or times the connection out. ``run`` is called even
        when the head cannot be sent (it then finds the connection shut), so that what it
        holds for the connection is always released."""
        leftover, conn.buffer = bytes(conn.buffer), bytearray()
        with self._lock:
            self._connections.discard(conn)
            self._taken.add(conn.sock)
            closed = self._closed
        if closed:
            _shut(conn.sock)
        threading.Thread(target=self._run_taken, args=(conn.sock, answer, leftover),
                         name="http-taken", daemon=True).start()
        raise _TakenOver

    def _run_taken(self, sock: socket.socket, answer: Takeover, leftover: bytes) -> None:
        try:
            try:
                _send_all(sock, _head_bytes(answer.status, answer.headers),
                          self.limits.write_timeout)
            except OSError:
                _shut(sock)
            answer.run(sock, leftover)
        except Exception:
            log.exception("error serving a connection taken over")
        finally:
            self._end_taken(sock)

    def _end_taken(self, sock: socket.socket) -> None:
        with self._lock:
            self._taken.discard(sock)
        sock.close()

    def _next_request(self, conn: _Connection) -> HTTPRequest | None:
        """The client's next request if it is whole within ``_LINGER_SECONDS`` (or already
        buffered); None to hand the connection back to the selector thread. Raises _Gone if
        the client closed it. Waits only while no other request is being answered and a
        connection place is free, so waiting neither refuses nor delays another client's
        request (the wait ends as soon as every worker is taken). Once the server is closed,
        there is no next request."""
        if self._closed:
            return None
        if _mid_request(conn):  # (part of) a pipelined request already arrived
            try:
                request = self._complete_request(conn)
            except _Refusal:
                return None  # the selector thread answers it
            if request is not None:
                return request
        if self._stop.is_set() or not conn.linger:
            return None
        with self._lock:
            # Only a worker answering the server's one request waits: with more, requests
            # run concurrently, and a worker waiting on one connection lowers the capacity
            # for the others (measured: fewer runs/s). A waiting worker's connection is not
            # idle, so it cannot make room for a new one: wait only with a free place too.
            if self._busy > 1 or self._max_workers < 2 \
                    or len(self._connections) >= self.limits.max_connections:
                return None
        return self._wait_for_request(conn, time.monotonic() + _LINGER_SECONDS)

    def _ready_or_full(self, conn: _Connection, timeout: float) -> tuple[bool, bool]:
        """Whether ``conn`` can be read and whether every worker is taken, waiting up to
        ``timeout`` seconds for either."""
        if not _HAS_POLL:
            ready, _, _ = select.select([conn.sock, self._full_read], [], [], timeout)
            return conn.sock in ready, self._full_read in ready
        if conn.poller is None:  # made once: a client sends many requests on a connection
            conn.poller = select.poll()
            conn.poller.register(conn.sock, select.POLLIN)
            conn.poller.register(self._full_read, select.POLLIN)
        readable = full = False
        for fd, _ in conn.poller.poll(max(1, round(timeout * 1000))):
            if fd == conn.sock.fileno():
                readable = True
            else:
                full = True
        return readable, full

    def _wait_for_request(self, conn: _Connection, until: float) -> HTTPRequest | None:
        while True:
            left = until - time.monotonic()
            if left <= 0 and self._adaptive_linger and not _mid_request(conn):
                conn.linger = False  # the client did not come back: wait no more for it
            if left <= 0 or self._closed:
                return None
            readable, full = self._ready_or_full(conn, left)
            if full and (self._busy >= self._max_workers or self._closed):
                return None  # others' requests need this worker
            if not readable:
                continue
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if not chunk:
                raise _Gone
            if not _mid_request(conn):
                conn.arrived = time.monotonic()
                until = min(until, conn.arrived + self.limits.request_timeout)
            conn.buffer += chunk
            try:
                request = self._complete_request(conn)
            except _Refusal:
                return None
            if self._closed:
                return None
            if request is not None or self._stop.is_set():
                return request


def _pass_on(conn: _Connection) -> bool:
    """Hand what has arrived of ``conn``'s ``Content-Length`` body to its sink; whether the
    body is whole."""
    data = bytes(conn.buffer[:conn.body_size])
    del conn.buffer[:len(data)]
    conn.body_size -= len(data)
    if data:
        typing.cast(BodySink, conn.sink).write(data)
    return not conn.body_size


def _abandon(conn: _Connection) -> None:
    sink, conn.sink = conn.sink, None
    if sink is not None:
        try:
            sink.abandon()
        except Exception:
            log.exception("error abandoning a request body")


class _After(threading.local):
    """What the request this thread answers left for after its response (None: it answers
    none)."""

    actions: list[typing.Callable[[], None]] | None = None


_after = _After()


def after_response(action: typing.Callable[[], None]) -> None:
    """Call ``action`` once the response to the request this thread is answering has been
    sent (or could not be), or at once on a thread that answers none. For work the request
    started that its client does not wait for, which would otherwise compete with the
    response for the GIL."""
    actions = _after.actions
    if actions is None:
        action()
    else:
        actions.append(action)


def _mid_request(conn: _Connection) -> bool:
    """Whether part of a request has arrived on ``conn`` (a chunked body is taken off the
    buffer as it arrives, so the buffer can be empty in the middle of one)."""
    return bool(conn.buffer) or conn.head is not None


def _registered(selector: selectors.BaseSelector, conn: _Connection) -> bool:
    try:
        selector.get_key(conn.sock)
    except (KeyError, ValueError):
        return False
    return True


def _find_head_end(buffer: bytearray) -> tuple[int, int] | None:
    """Where the request head in ``buffer`` ends (before its last line's end) and where the
    body starts, or None if the head is not whole yet."""
    match = _HEAD_END.search(buffer)
    if match is None:
        return None
    end = match.start()
    if end and buffer[end - 1] == 0x0D:  # the CR of the last header line's CRLF
        end -= 1
    return end, match.end()


def _parse_head(raw: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = raw.decode("iso-8859-1").replace("\r\n", "\n").split("\n")
    method, target, version = _request_line(lines[0])
    if len(lines) - 1 > _MAX_HEADERS:
        raise _Refusal(431, "head_too_large", "too many headers")
    headers = _known_fields(lines)
    if headers is None:
        headers = _read_fields(lines)
    if "host" not in headers and version != "1.0":
        # One Host header, none allowed only in HTTP/1.0 (RFC 9112 section 3.2).
        raise _Refusal(400, "host_missing", "an HTTP/1.1 request must have a Host header")
    return method, target, version, headers


# Clients send the same request lines and header lines again and again: what each short
# one that was well formed reads as is kept (up to _MEMO_SIZE of each, then forgotten all
# at once), which spares reading it again on most requests.
_MEMO_SIZE = 512
_MEMO_KEY_CHARS = 512
_request_lines: dict[str, tuple[str, str, str]] = {}
_field_lines: dict[str, tuple[str, str]] = {}
T = typing.TypeVar("T")


def _remember(memo: dict[str, T], line: str, value: T) -> T:
    if len(line) <= _MEMO_KEY_CHARS:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[line] = value
    return value


def _request_line(line: str) -> tuple[str, str, str]:
    return _request_lines.get(line) or _remember(_request_lines, line,
                                                 _parse_request_line(line))


def _known_fields(lines: list[str]) -> dict[str, str] | None:
    """The headers of ``lines`` (after the request line) when each is a well-formed line,
    no name repeats and a Host is well formed; None for ``_read_fields`` to say what is
    wrong, or to merge the repeated names."""
    headers: dict[str, str] = {}
    for line in itertools.islice(lines, 1, None):
        field = _field_lines.get(line) or _field_line(line)
        if field is None or field[0] in headers:
            return None
        headers[field[0]] = field[1]
    return headers


def _field_line(line: str) -> tuple[str, str] | None:
    """The lower-case name and the value of a well-formed header line (with a well-formed
    value if it is a Host), or None."""
    if not _FIELD_LINE.fullmatch(line):
        return None
    name, _, value = line.partition(":")
    field = name.lower(), value.strip(" \t")
    if field[0] == "host" and not _HOST.fullmatch(field[1]):
        return None
    return _remember(_field_lines, line, field)


def _read_fields(lines: list[str]) -> dict[str, str]:
    """The headers of ``lines`` (after the request line), or the refusal of the first thing
    wrong with them. Of a repeated name the first value wins, but Transfer-Encodings add up
    (each one codes the body again). Two different Content-Lengths are refused, and two
    Host headers: the engine's Host guard would judge the first while a proxy in front may
    route by the last."""
    fields = lines[1:]
    if not all(_FIELD_LINE.fullmatch(line) for line in fields):
        _refuse_field_lines(fields)
    headers: dict[str, str] = {}
    lengths: set[str] = set()
    hosts = 0
    for line in fields:
        name, _, value = line.partition(":")
        key, value = name.lower(), value.strip(" \t")
        if key == "content-length":
            lengths.add(value)
        elif key == "host":
            hosts += 1
        elif key == "transfer-encoding" and key in headers:
            value = headers.pop(key) + ", " + value
        headers.setdefault(key, value)
    if len(lengths) > 1:
        raise _Refusal(400, "content_length_invalid", "conflicting Content-Length headers")
    if hosts > 1:
        raise _Refusal(400, "host_invalid", "more than one Host header")
    if not _HOST.fullmatch(headers.get("host", "")):
        raise _Refusal(400, "host_invalid", "malformed Host header")
    return headers


def _refuse_field_lines(lines: list[str]) -> typing.NoReturn:
    """The 400 for the first bad header line, as the real server (Go's net/http) refuses
    them: no colon or a name with space around it, a name that is not a token, a value with
    a control character other than tab."""
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():  # (strip() covers " \t" too)
            raise _Refusal(400, "bad_request", "malformed header line")
        if not _FIELD_NAME.fullmatch(name):
            raise _Refusal(400, "bad_request", "invalid header name")
        if _FIELD_VALUE_CONTROL.search(value):
            raise _Refusal(400, "bad_request", f"invalid header value: {name} has a control "
                                               "character")
    raise _Refusal(400, "bad_request", "malformed header line")


def _parse_request_line(line: str) -> tuple[str, str, str]:
    """Method, target and version ("1.0" or "1.1") of a request line."""
    match = _REQUEST_LINE.fullmatch(line)
    if match is None:
        raise _Refusal(400, "bad_request", "malformed request line")
    method, target, major, minor = match.groups()
    if major != "1":
        raise _Refusal(505, "http_version_not_supported",
                       f"HTTP/{major}.{minor} is not supported: send HTTP/1.1")
    if not _is_request_target(method, target):
        raise _Refusal(400, "bad_request", "malformed request target: it must start with /")
    if "%" in target and _BAD_PATH_ESCAPE.search(target.partition("?")[0]):
        raise _Refusal(400, "bad_request", "malformed request target: invalid URL escape")
    # A later 1.x minor version is answered as 1.1, the highest this server speaks
    # (RFC 9110 section 2.5), as the real server does.
    return method, target, "1.0" if minor == "0" else "1.1"


def _is_request_target(method: str, target: str) -> bool:
    """Whether ``target`` has a form a server that is no proxy serves (RFC 9112 section 3.2):
    a path, an absolute URL, or ``*`` for OPTIONS. A target like ``health`` would otherwise
    reach the handler as a path that matches no route (404 instead of 400)."""
    return target[0] == "/" or target.lower().startswith(("http://", "https://")) \
        or (target == "*" and method == "OPTIONS")


def _is_chunked(version: str, headers: dict[str, str]) -> bool:
    """Whether the body is chunked; raises if its Transfer-Encoding cannot be served."""
    coding = headers.get("transfer-encoding")
    if coding is None:
        return False
    # Both framings in one request is how requests are smuggled past a proxy that frames by
    # the other one. RFC 9112 section 6.3 allows decoding it as chunked (and closing after)
    # or refusing it; a refusal leaves no two readings of where the request ends.
    if "content-length" in headers:
        raise _Refusal(400, "transfer_encoding_invalid",
                       "a request may not have both Transfer-Encoding and Content-Length")
    if version == "1.0":  # 1.0 has no Transfer-Encoding (RFC 9112 section 6.1)
        raise _Refusal(400, "transfer_encoding_invalid",
                       "an HTTP/1.0 request may not have a Transfer-Encoding")
    # 501, as RFC 9112 section 6.1 advises for a coding the server does not know and as the
    # real server answers: "gzip, chunked" is valid HTTP, just not served here.
    if coding.lower() != "chunked":
        raise _Refusal(501, "transfer_encoding_unsupported",
                       f"Transfer-Encoding {coding!r} is not supported: send chunked or a "
                       "Content-Length")
    return True


def _content_length(headers: dict[str, str]) -> int:
    value = headers.get("content-length")
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS):
        raise _Refusal(400, "content_length_invalid",
                       "Content-Length must be a non-negative decimal integer")
    return int(value)


def _body_too_large(max_body_bytes: int) -> _Refusal:
    return _Refusal(413, "body_too_large", f"request body over {max_body_bytes} bytes")


def _bad_chunking(message: str) -> _Refusal:
    return _Refusal(400, "chunked_body_invalid", message)


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    if "connection" not in headers:
        return version != "1.0"
    tokens = {token.strip().lower() for token in headers["connection"].split(",")}
    if version == "1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _error_response(status: int, code: str, message: str) -> HTTPResponse:
    body = json.dumps({"code": code, "message": message}).encode("utf-8")
    return status, {"content-type": "application/json"}, body


def _refusal_bytes(refusal: _Refusal) -> bytes:
    status, headers, body = _error_response(refusal.status, refusal.code, refusal.message)
    return _response_bytes(status, headers, body, keep_alive=False)


def _response_bytes(
    status: int, headers: typing.Mapping[str, str], body: bytes, keep_alive: bool
) -> bytes:
    lines = [_status_line(status)]
    lines += [_header_lines.get(field) or _header_line(field) for field in headers.items()]
    lines.append(f"content-length: {len(body)}\r\n")
    lines.append(_KEEP_ALIVE_END if keep_alive else _CLOSE_END)
    return "".join(lines).encode("iso-8859-1") + body


# A handler answers with the same few headers again and again (an SDK's answers have eight).
_header_lines: dict[tuple[str, str], str] = {}


def _header_line(field: tuple[str, str]) -> str:
    """The response's line for a header (with its line end); none for a framing header,
    which the server writes itself."""
    name, value = field
    if name.lower() in _FRAMING_HEADERS:
        return ""
    line = f"{name}: {value}\r\n"
    if len(line) <= _MEMO_KEY_CHARS:
        if len(_header_lines) >= _MEMO_SIZE:
            _header_lines.clear()
        _header_lines[field] = line
    return line


def _head_bytes(status: int, headers: typing.Mapping[str, str]) -> bytes:
    lines = [_status_line(status)]
    lines += [f"{name}: {value}\r\n" for name, value in headers.items()]
    lines.append("\r\n")
    return "".join(lines).encode("iso-8859-1")


def _status_line(status: int) -> str:
    return _STATUS_LINES.get(status) or f"HTTP/1.1 {status} \r\n"


def _ready(sock: socket.socket, timeout: float, write: bool = False) -> bool:
    """Whether ``sock`` can be read (or written) within ``timeout`` seconds."""
    if _HAS_POLL:
        poller = select.poll()
        poller.register(sock, select.POLLOUT if write else select.POLLIN)
        return bool(poller.poll(max(1, round(timeout * 1000))))
    watched = [sock]
    readable, writable, _ = select.select([] if write else watched, watched if write else [],
                                          [], timeout)
    return bool(readable or writable)


def _drain(sock: socket.socket) -> None:
    """Read what the non-blocking ``sock`` holds (the wake-ups sent to one of the server's
    own sockets): a read that does not fill the buffer took all there was."""
    try:
        while len(sock.recv(_WAKE_BYTES)) == _WAKE_BYTES:
            pass
    except (BlockingIOError, InterruptedError):
        pass


def _send_all(sock: socket.socket, data: bytes, timeout: float) -> None:
    """Write all of ``data`` to the non-blocking ``sock`` within ``timeout`` seconds."""
    try:
        sent = sock.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent == len(data):  # most answers fit in the socket's buffer
        return
    view = memoryview(data)[sent:]
    until = 0.0
    while view:
        try:
            view = view[sock.send(view):]
        except (BlockingIOError, InterruptedError):
            pass
        if view:
            until = until or time.monotonic() + timeout
            left = until - time.monotonic()
            if left <= 0 or not _ready(sock, left, write=True):
                raise TimeoutError("the client did not read the response in time")


def _shut(sock: socket.socket) -> None:
    """End both directions of ``sock``: a thread blocked reading it returns (closing it
    would not wake that thread)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    """A best-effort write of a short answer on a non-blocking socket."""
    try:
        sock.send(data)
    except OSError:
        pass


# The servers not closed yet, answering requests at exit (weakly: a server dropped without
# server_close() goes when it is collected).
_OPEN_SERVERS: weakref.WeakSet[CoreServer] = weakref.WeakSet()


def _answer_before_exit() -> None:
    """At the interpreter's exit, before it stops the pools' daemon threads: the requests
    that open servers are answering get ``_CLOSE_WAIT_SECONDS`` (all together, as
    server_close() gives them) to finish, rather than being cut off mid-answer."""
    deadline = time.monotonic() + _CLOSE_WAIT_SECONDS
    for server in list(_OPEN_SERVERS):
        server._finish_answers(deadline)


atexit.register(_answer_before_exit)
