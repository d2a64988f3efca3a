"""Serve Inngest functions with the standard library's HTTP server and a bounded thread pool."""

from __future__ import annotations

import concurrent.futures
import http.server
import socket
import typing
import urllib.parse

from inngest import _errors, _sync
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request, Response

FRAMEWORK = "http_server"
_SOCKET_TIMEOUT_SECONDS = 60.0
_NOT_FOUND = Response(
    404,
    {"content-type": "application/json"},
    b'{"code": "unknown", "message": "not found", "name": "NotFound"}',
)


class InngestServer(http.server.HTTPServer):
    """An HTTP server whose requests run on at most ``max_workers`` threads."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: CommHandler,
        route: str,
        max_workers: int,
    ) -> None:
        if max_workers < 1:
            raise _errors.FunctionConfigInvalidError("max_workers: must be at least 1")
        self.comm_handler = handler
        self.route = route
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="inngest-http"
        )
        super().__init__(address, _RequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in host_text:
            host_text = f"[{host_text}]"
        return f"http://{host_text}:{port}{self.route}"

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: typing.Any
    ) -> None:
        self._pool.submit(self._process_in_worker, request, client_address)

    def _process_in_worker(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: typing.Any
    ) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    server: InngestServer
    timeout = _SOCKET_TIMEOUT_SECONDS
    # Headers and body go out in two writes; without this, Nagle's algorithm and the
    # peer's delayed ACK can hold the body back for tens of milliseconds.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.rstrip("/") != self.server.route.rstrip("/"):
            self._write(_NOT_FOUND)
            return
        self._write(self.server.comm_handler.handle(self._to_request(), self))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _to_request(self) -> Request:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        return Request(
            method=self.command, url=f"http://{host}{self.path}", headers=headers, body=body
        )

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: typing.Any) -> None:
        self.server.comm_handler.client.logger.debug("http_server: " + format, *args)


def serve(
    client: Inngest,
    functions: typing.Sequence[Function],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_path: str | None = None,
    serve_origin: str | None = None,
    public_path: str | None = None,
    enable_unauthed_sync: bool | None = None,
    max_workers: int = 8,
) -> InngestServer:
    """A bound server; call ``serve_forever()`` (and ``shutdown()`` from another thread)."""
    handler = CommHandler(
        client,
        functions,
        FRAMEWORK,
        public_path=public_path,
        serve_origin=serve_origin,
        serve_path=serve_path,
        enable_unauthed_sync=enable_unauthed_sync,
    )
    return InngestServer((host, port), handler, _sync.route_path(serve_path), max_workers)


def run(
    client: Inngest,
    functions: typing.Sequence[Function],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    serve_path: str | None = None,
    serve_origin: str | None = None,
    public_path: str | None = None,
    enable_unauthed_sync: bool | None = None,
    max_workers: int = 8,
) -> None:
    """Serve until interrupted (Ctrl+C)."""
    server = serve(
        client,
        functions,
        host=host,
        port=port,
        serve_path=serve_path,
        serve_origin=serve_origin,
        public_path=public_path,
        enable_unauthed_sync=enable_unauthed_sync,
        max_workers=max_workers,
    )
    client.logger.info("serving Inngest functions at %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
