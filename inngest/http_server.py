"""Serve Inngest functions with the standard library's HTTP server and a bounded thread pool."""

from __future__ import annotations

import typing
import urllib.parse

from inngest import _registration
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request, Response
from inngest._pooled_server import PooledHTTPServer, PooledRequestHandler

FRAMEWORK = "http_server"
_NOT_FOUND = Response(
    404,
    {"content-type": "application/json"},
    b'{"code": "unknown", "message": "not found", "name": "NotFound"}',
)


class InngestServer(PooledHTTPServer):
    """An HTTP server whose requests run on at most ``max_workers`` threads."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: CommHandler,
        route: str,
        max_workers: int,
    ) -> None:
        self.comm_handler = handler
        self.route = route
        super().__init__(address, _RequestHandler, max_workers, "inngest-http")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in host_text:
            host_text = f"[{host_text}]"
        return f"http://{host_text}:{port}{self.route}"


class _RequestHandler(PooledRequestHandler):
    server: InngestServer

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
        self.write_response(response.status, response.headers, response.body)

    def log_message(self, format: str, *args: typing.Any) -> None:
        self.server.comm_handler.client.logger.debug("http_server: " + format, *args)


def serve(
    client: Inngest,
    functions: typing.Sequence[Function[typing.Any]],
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
    return InngestServer((host, port), handler, _registration.route_path(serve_path), max_workers)


def run(
    client: Inngest, functions: typing.Sequence[Function[typing.Any]], **options: typing.Any
) -> None:
    """Serve until interrupted (Ctrl+C); ``options`` are those of ``serve``."""
    server = serve(client, functions, **options)
    client.logger.info("serving Inngest functions at %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
