"""A transport without sockets: requests to a mounted origin call a handler in-process.

The engine's ``Api.handle`` and an app's ``CommHandler.handle`` are both sans-IO, so an SDK
client, an app and an engine can talk to each other in one process through this transport.
"""

from __future__ import annotations

import threading
import typing
import urllib.parse

from inngest._engine.http.query import parse as parse_query
from inngest._handler import CommHandler, Request
from inngest._transport import OutboundRequest, Response, TransportError

Endpoint = typing.Callable[[OutboundRequest], Response]
"""Answers one request that reached a mounted origin."""


class RoutedHandler(typing.Protocol):
    """The engine's HTTP surface: ``handle(method, path, query, headers, body)``."""

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        ...


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class LoopbackTransport:
    """Routes each request by its URL's origin (scheme, host and port) to an endpoint;
    a request to any other origin fails as an unreachable host would."""

    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()

    def mount(self, origin: str, endpoint: Endpoint) -> None:
        with self._lock:
            self._endpoints[origin_of(origin)] = endpoint

    def send(self, request: OutboundRequest) -> Response:
        with self._lock:
            endpoint = self._endpoints.get(origin_of(request.url))
        if endpoint is None:
            raise TransportError(f"Failed request to {request.url}: nothing is mounted there")
        return endpoint(request)

    def close(self) -> None:
        pass


def app_endpoint(handler: CommHandler) -> Endpoint:
    """An endpoint that serves an app, as a framework adapter would."""

    def answer(request: OutboundRequest) -> Response:
        inbound = Request(request.method, request.url, request.headers, request.body or b"")
        response = handler.handle(inbound)
        return Response(response.status, response.headers, response.body)

    return answer


def api_endpoint(api: RoutedHandler) -> Endpoint:
    """An endpoint that serves the engine's API, as its HTTP server would."""

    def answer(request: OutboundRequest) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        query = parse_query(parts.query, "utf-8")
        headers = {key.lower(): value for key, value in request.headers.items()}
        status, out, body = api.handle(request.method, parts.path or "/", query, headers,
                                       request.body or b"")
        return Response(status, out, body)

    return answer
