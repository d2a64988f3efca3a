"""Serve Inngest functions with the standard library's HTTP server and a bounded thread pool."""

from __future__ import annotations

import threading
import typing
import urllib.parse

from inngest import _http_core, _registration
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request, Response

FRAMEWORK = "http_server"
# The engine sends at most ~4 MiB of run state per request (then the SDK fetches it), so
# 16 MiB leaves room for a self-hosted server's larger limits without letting one
# unsigned request grow the process much.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_LIMITS = _http_core.Limits(
    max_body_bytes=DEFAULT_MAX_BODY_BYTES, max_buffered_bytes=4 * DEFAULT_MAX_BODY_BYTES
)
_NOT_FOUND = Response(
    404,
    {"content-type": "application/json"},
    b'{"code": "unknown", "message": "not found", "name": "NotFound"}',
)


class InngestServer(_http_core.CoreServer):
    """An HTTP server whose requests run on at most ``max_workers`` threads."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: CommHandler,
        route: str,
        max_workers: int,
        limits: _http_core.Limits = DEFAULT_LIMITS,
    ) -> None:
        self.comm_handler = handler
        self.route = route
        super().__init__(address, self._serve, limits, max_workers, "inngest-http")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in host_text:
            host_text = f"[{host_text}]"
        return f"http://{host_text}:{port}{self.route}"

    def _serve(self, request: _http_core.HTTPRequest) -> _http_core.HTTPResponse:
        if _target_path(request.target).rstrip("/") != self.route.rstrip("/"):
            return _NOT_FOUND.status, _NOT_FOUND.headers, _NOT_FOUND.body
        host = request.headers.get("host") or "{}:{}".format(*self.server_address[:2])
        # The core's header names are lower-case already, the first of repeated ones kept.
        sdk_request = Request.normalized(request.method, f"http://{host}{request.target}",
                                         dict(request.headers), request.body)
        response = self.comm_handler.handle(sdk_request, request)
        return response.status, response.headers, response.body


def _target_path(target: str) -> str:
    """The path of a request target: of a plain path (nearly every request's), what
    ``urlsplit`` finds, without its cost."""
    if target[:1] == "/" and target[:2] != "//":
        return target.partition("?")[0].partition("#")[0]
    return urllib.parse.urlsplit(target).path


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
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    request_timeout: float = DEFAULT_LIMITS.request_timeout,
    max_connections: int = DEFAULT_LIMITS.max_connections,
) -> InngestServer:
    """A bound server; call ``serve_forever()`` (and ``shutdown()`` from another thread).

    A request whose ``Content-Length`` exceeds ``max_body_bytes`` is refused (413) before
    its body is read (a chunked one once its chunk sizes pass it); its head and body must
    arrive within ``request_timeout`` seconds;
    past ``max_connections`` open connections, an idle one or the one waiting longest for
    its request head is closed for a new one, else the new one gets a 503.
    """
    limits = _http_core.Limits(
        max_body_bytes=max_body_bytes,
        max_buffered_bytes=max(4 * max_body_bytes, DEFAULT_LIMITS.max_buffered_bytes),
        max_connections=max_connections,
        request_timeout=request_timeout,
    )
    handler = CommHandler(
        client,
        functions,
        FRAMEWORK,
        public_path=public_path,
        serve_origin=serve_origin,
        serve_path=serve_path,
        enable_unauthed_sync=enable_unauthed_sync,
    )
    route = _registration.route_path(serve_path)
    return InngestServer((host, port), handler, route, max_workers, limits)


def run(
    client: Inngest, functions: typing.Sequence[Function[typing.Any]], **options: typing.Any
) -> None:
    """Serve until interrupted (Ctrl+C); ``options`` are those of ``serve``."""
    server = serve(client, functions, **options)
    client.logger.info("serving Inngest functions at %s", server.url)
    # Served from a thread of its own, so that Ctrl+C interrupts this thread's wait and never
    # the server's locking (where a KeyboardInterrupt can leave a lock half released).
    failures: list[BaseException] = []
    thread = threading.Thread(target=_serve_until_stopped, args=(server, failures),
                              name="inngest-http", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.shutdown()
    finally:
        server.server_close()
    if failures:
        raise failures[0]


def _serve_until_stopped(server: InngestServer, failures: list[BaseException]) -> None:
    try:
        server.serve_forever()
    except BaseException as err:  # handed to run(), which raises it in its own thread
        failures.append(err)
