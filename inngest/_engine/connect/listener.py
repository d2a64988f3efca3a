"""The gateway's own port (``--connect-gateway-port``), answered as the dev server's: the
WebSocket at ``/v0/connect``, ``.`` at ``/v0`` (its debug answer), readiness at ``/ready``
(GET only, else a 405 that says so); any other path is Go's plain-text 404. Requests pass the
same browser guard as the API port."""

from __future__ import annotations

import urllib.parse

from inngest._engine.connect import GATEWAY_PATH, Connect, Response
from inngest._engine.http.guard import Guard
from inngest._engine.http.replies import error
from inngest._http_core import HTTPRequest, Takeover

_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
_NOT_FOUND: Response = (404, {**_TEXT, "X-Content-Type-Options": "nosniff"},
                        b"404 page not found\n")
_GET_ONLY: Response = (405, {"Allow": "GET"}, b"")


class GatewayPort:
    """Answers the requests that come to the gateway's own port."""

    def __init__(self, connect: Connect, guard: Guard) -> None:
        self.connect = connect
        self.guard = guard

    def __call__(self, request: HTTPRequest) -> Response | Takeover:
        refusal = self.guard.refusal(request.method, request.headers)
        if refusal is not None:
            return error(403, refusal)
        path = urllib.parse.urlsplit(request.target).path
        if path == GATEWAY_PATH:
            return self.connect.gateway(request.method, request.headers)
        if path not in ("/v0", "/v0/", "/ready"):
            return _NOT_FOUND
        if request.method != "GET":
            return _GET_ONLY
        return (200, _TEXT, b".") if path != "/ready" else (200, {}, b"")
