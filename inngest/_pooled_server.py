"""An ``http.server`` that answers on a bounded thread pool, shared by the SDK's stdlib
adapter and the embedded engine."""

from __future__ import annotations

import concurrent.futures
import http.server
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
        super().__init__(address, handler_class)

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
