"""A local HTTP server that hands every request to a callback: fakes Cloud or records traffic."""

from __future__ import annotations

import dataclasses
import http.server
import socketserver
import threading
import typing

import urllib3

_HTTP = urllib3.PoolManager(maxsize=8, retries=False)


@dataclasses.dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, list[str]]
    method: str
    path: str

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclasses.dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


OnRequest = typing.Callable[[bytes, dict[str, list[str]], str, str], typing.Optional[Response]]


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class Proxy:
    """Listens on 127.0.0.1 (a free port); ``on_request(body, headers, method, path)`` answers.

    Header names are lower-cased. Every request is also kept in ``requests``.
    """

    def __init__(self, on_request: OnRequest) -> None:
        self.on_request = on_request
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        response = self.on_request(request.body, request.headers, request.method, request.path)
        return response or Response()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                headers: dict[str, list[str]] = {}
                for name, value in self.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
                request = Request(
                    body=self.rfile.read(length) if length else b"",
                    headers=headers,
                    method=self.command,
                    path=self.path,
                )
                response = proxy._record(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: typing.Any) -> None:
                return None

        return Handler


def forward_to(
    origin: str,
) -> typing.Callable[[bytes, dict[str, list[str]], str, str], Response]:
    """A callback that relays each request to ``origin`` and returns its answer unchanged."""

    def forward(body: bytes, headers: dict[str, list[str]], method: str, path: str) -> Response:
        relayed = {name: values[0] for name, values in headers.items() if name != "host"}
        answer = _HTTP.request(
            method, origin.rstrip("/") + path, body=body or None, headers=relayed,
            timeout=30.0, redirect=False,
        )
        return Response(status=answer.status, body=answer.data, headers=dict(answer.headers))

    return forward
