"""An ``http.server`` that answers on a bounded thread pool, shared by the SDK's stdlib
adapter and the embedded engine."""

from __future__ import annotations

import concurrent.futures
import http.server
import selectors
import socket
import threading
import typing

from inngest import _errors


class PooledHTTPServer(http.server.HTTPServer):
    """Requests run on at most ``max_workers`` threads, not a thread per connection."""

    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[http.server.BaseHTTPRequestHandler],
        max_workers: int,
        thread_name_prefix: str,
    ) -> None:
        if max_workers < 1:
            raise _errors.FunctionConfigInvalidError("max_workers: must be at least 1")
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix=thread_name_prefix
        )
        # shutdown() writes a byte here so serve_forever stops at once; socketserver's own
        # loop only notices a shutdown at its next poll.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._state = threading.Lock()
        self._stopping = False
        self._stopped = threading.Event()
        self._stopped.set()
        super().__init__(address, handler_class)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until ``shutdown()``, which wakes it (``poll_interval`` is
        accepted for compatibility and unused)."""
        with self._state:
            if self._stopping:  # shutdown() came first
                self._stopping = False
                return
            self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stopping:
                    for key, _ in selector.select():
                        if key.fileobj is self._wake_reader:
                            self._wake_reader.recv(64)
                        elif not self._stopping:
                            self._accept()
        finally:
            with self._state:
                self._stopping = False
                self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` and wait until it has returned; called before it, it makes
        the next ``serve_forever`` return at once."""
        with self._state:
            self._stopping = True
            serving = not self._stopped.is_set()
        if serving:
            self._wake_writer.send(b"\0")
            self._stopped.wait()

    def _accept(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    def process_request(self, request: typing.Any, client_address: typing.Any) -> None:
        self._pool.submit(self._process_in_worker, request, client_address)

    def _process_in_worker(self, request: typing.Any, client_address: typing.Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class PooledRequestHandler(http.server.BaseHTTPRequestHandler):
    """Connections close after each response (HTTP/1.0) and time out when a client stalls,
    so idle or slow clients cannot hold every worker."""

    protocol_version = "HTTP/1.0"
    timeout = 30.0
    # Headers and body go out in two writes; with Nagle's algorithm on, the body can wait
    # for the peer's delayed ACK for tens of milliseconds.
    disable_nagle_algorithm = True

    def write_response(self, status: int, headers: typing.Mapping[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
