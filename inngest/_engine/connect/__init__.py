"""Connect: workers with no public endpoint of their own open a WebSocket to the engine and
get their functions' calls over it (measured against the dev server and its JS SDK).

* ``POST /v0/connect/start`` (a protobuf ``StartRequest``, possibly empty) answers a
  ``StartResponse``: a new connection id, the gateway's WebSocket URL, a session token, and
  the request's bearer token back as the sync token.
* ``GET /v0/connect`` is the gateway (``gateway``): the connection's handshake syncs the
  worker's apps, as ``/fn/register`` would with the app URL ``ws://connect?app_name=``.
* Calls of those apps' functions go to a ready connection (``workers``).
* ``POST /v0/connect/flush`` takes a reply (a protobuf ``SDKResponse``) a worker could not
  send over its connection, and answers a ``FlushResponse``.

The dev server serves its gateway on a port of its own (``--connect-gateway-port``), and so
does ``python -m inngest dev`` (``listener``); the start response names it at the host the
start request came to. An engine with no gateway port (in-process, ``DevServer``'s default)
serves the gateway on its API port and names that; the API port answers ``/v0/connect``
either way.
"""

from __future__ import annotations

import json
import typing
import urllib.parse

from inngest._engine import registration
from inngest._engine.connect import auth, messages
from inngest._engine.connect.gateway import (
    CLOSE_INTERNAL, Session, SocketError, SyncFailed,
)
from inngest._engine.models import JSON
from inngest._engine.realtime import websocket
from inngest._http_core import Takeover
from inngest._protocol.headers import Header

if typing.TYPE_CHECKING:
    from inngest._engine.engine import Engine

Headers = dict[str, str]
Response = tuple[int, Headers, bytes]
GATEWAY_PATH = "/v0/connect"
GATEWAY_GROUP = "gw-dev"
PROTOCOL = "v0.connect.inngest.com"
MAX_START_BYTES = 1024 * 1024
_INTERNAL = "connect_internal_error"


class Connect:
    """The start route and the gateway of one engine."""

    def __init__(self, engine: Engine, info: dict[str, JSON]) -> None:
        self.engine = engine
        self.info = info  # the dev server's start options, with the port it listens on

    def start(self, headers: Headers, body: bytes) -> Response:
        if len(body) > MAX_START_BYTES:
            body = body[:MAX_START_BYTES]
        try:
            messages.read_start_request(body)
        except messages.WireError:
            return _error(400, "could not unmarshal request")
        now = self.engine.clock.now_ms()
        authorization = headers.get("authorization", "")
        endpoint = f"ws://{self._gateway_host(headers.get('host', ''))}{GATEWAY_PATH}"
        answer = messages.start_response(
            self.engine.ids.new(now), endpoint, GATEWAY_GROUP,
            auth.mint(now, self.engine.ids.new(now)),
            authorization[7:] if len(authorization) > 7 else authorization,
        )
        return 200, {"Content-Type": "application/octet-stream",
                     Header.SERVER_KIND: registration.SERVER_KIND}, answer

    def _gateway_host(self, host: str) -> str:
        """The gateway's host and port for a worker that reached the API at ``host``: that
        name, as the dev server gives it (for workers in Docker), with the gateway's own port
        when it has one, else the API's."""
        host = host or f"127.0.0.1:{self.info.get('port')}"
        gateway_port = self.info.get("connect_gateway_port")
        if gateway_port is None:
            return host
        name = host if host.endswith("]") else host.rpartition(":")[0] or host
        return f"{name}:{gateway_port}"

    def flush(self, body: bytes) -> Response:
        if not body:
            return _error(400, "missing request body")
        try:
            reply = messages.SDKResponse.decode(body)
        except messages.WireError:
            return _error(400, "could not unmarshal request")
        if not _is_trace_carrier(reply.system_trace_ctx):
            return _error(400, "could not unmarshal system trace ctx")
        self.engine.workers.reply(reply)
        return 200, {"Content-Type": "application/octet-stream",
                     Header.SERVER_KIND: registration.SERVER_KIND}, messages.reply_ack(
                         reply.request_id)

    def gateway(self, method: str, headers: Headers) -> Response | Takeover:
        try:
            accept = websocket.accept_key(headers, method)
        except websocket.Refusal as refusal:
            body = refusal.message.encode("utf-8") + b"\n"
            return refusal.status, {"Content-Type": "text/plain; charset=utf-8",
                                    "X-Content-Type-Options": "nosniff",
                                    **refusal.headers}, body
        answer = {"Connection": "Upgrade", "Sec-WebSocket-Accept": accept,
                  "Upgrade": "websocket"}
        offered = headers.get("sec-websocket-protocol", "")
        if PROTOCOL in (part.strip() for part in offered.split(",")):
            answer["Sec-WebSocket-Protocol"] = PROTOCOL
        forwarded = headers.get("x-real-ip") or headers.get("x-forwarded-for", "")
        session = Session(self.engine.workers, self.sync, self.engine.clock,
                          self.engine.connections, forwarded)
        return Takeover(101, answer, session.serve)

    def sync(self, hello: messages.WorkerConnect, app: messages.AppConfig) -> tuple[str, str]:
        """Sync ``app`` as the dev server's gateway does: by registering it; its (app id,
        sync id)."""
        try:
            functions = json.loads(app.functions)
            capabilities = json.loads(hello.capabilities)
        except (ValueError, RecursionError):
            raise SocketError(CLOSE_INTERNAL, _INTERNAL) from None
        request = {
            "v": "1", "url": "ws://connect?app_name=" + urllib.parse.quote_plus(app.name),
            "deployType": "connect", "sdk": f"{hello.sdk_language}:{hello.sdk_version}",
            "appName": app.name,
            "headers": {"env": hello.environment, "platform": hello.platform or ""},
            "capabilities": capabilities, "functions": functions,
            "appVersion": app.version or "",
        }
        try:
            result = self.engine.apply_sync(json.dumps(request).encode(), {})
        except registration.RegisterError as err:
            raise SyncFailed(str(err.body.get("error") or "")) from None
        return result.app_id, result.sync_id


def _is_trace_carrier(data: bytes) -> bool:
    """Whether ``data`` is a JSON object of strings (or null), as trace contexts travel."""
    try:
        carrier = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return carrier is None or isinstance(carrier, dict) and all(
        isinstance(value, str) for value in carrier.values())


def _error(status: int, message: str) -> Response:
    """An error as the dev server writes it: JSON, sent as sniffed text."""
    body = json.dumps({"error": message, "data": None, "status": status},
                      separators=(",", ":")).encode() + b"\n"
    return status, {"Content-Type": "text/plain; charset=utf-8",
                    Header.SERVER_KIND: registration.SERVER_KIND}, body
