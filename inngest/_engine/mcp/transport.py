"""MCP's streamable HTTP transport, as the real dev server serves it at ``/mcp``.

A POST carries one JSON-RPC message (or, before protocol 2025-06-18, a batch). Its calls
are answered in the response body as ``application/json`` (the real server is configured
for JSON replies, never ``text/event-stream``); a body of notifications alone gets 202.
``initialize`` opens a session whose id comes back in ``Mcp-Session-Id``; later requests
send it, and DELETE ends it. Refusals are ``text/plain``, with the real server's statuses
and words.
"""

from __future__ import annotations

import base64
import collections
import secrets
import threading

from inngest._engine.mcp import rpc, tools
from inngest._engine.models import JSON
from inngest._engine.payload import dump_with_raw, escape_separators

Response = tuple[int, dict[str, str], bytes]

SESSION_HEADER = "mcp-session-id"
VERSION_HEADER = "mcp-protocol-version"
# Sessions are never ended by the server on their own: past this many, the oldest go.
MAX_SESSIONS = 1000
_REPLY_HEADERS = {"cache-control": "no-cache, no-transform", "content-type": "application/json"}


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A refusal, in the plain-text shape Go's ``http.Error`` writes."""
    return status, {"content-type": "text/plain; charset=utf-8",
                    "x-content-type-options": "nosniff", **(headers or {})}, \
        f"{message}\n".encode("utf-8")


def _accepts(headers: dict[str, str]) -> tuple[bool, bool]:
    """Whether the request's ``Accept`` takes JSON, and whether it takes an event stream."""
    json_ok = stream_ok = False
    for kind in headers.get("accept", "").split(","):
        kind = kind.strip()
        json_ok = json_ok or kind in ("application/json", "application/*", "*/*")
        stream_ok = stream_ok or kind in ("text/event-stream", "text/*", "*/*")
    return json_ok, stream_ok


def _new_session_id() -> str:
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


class Endpoint:
    """The ``/mcp`` endpoint: its sessions, and one answer per HTTP request."""

    def __init__(self, toolbox: tools.Toolbox) -> None:
        self.toolbox = toolbox
        self._sessions: collections.OrderedDict[str, rpc.Session] = collections.OrderedDict()
        self._lock = threading.Lock()

    def handle(self, method: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request; header names in ``headers`` must be lower-case."""
        if method == "POST" and headers.get("content-type") != "application/json":
            return text_error(415, "Content-Type must be 'application/json'")
        json_ok, stream_ok = _accepts(headers)
        if method == "GET" and not stream_ok:
            return text_error(400, "Accept must contain 'text/event-stream' for GET requests")
        if method not in ("GET", "DELETE") and not (json_ok and stream_ok):
            return text_error(400,
                              "Accept must contain both 'application/json' and 'text/event-stream'")
        session_id = headers.get(SESSION_HEADER, "")
        with self._lock:
            session = self._sessions.get(session_id) if session_id else None
        if session_id and session is None:
            return text_error(404, "session not found")
        if method == "DELETE":
            return self._end(session_id)
        if method == "GET":
            if not session_id:
                return text_error(400, "Bad Request: GET requires an Mcp-Session-Id header")
            # The real server holds an event stream open here for messages it starts; this
            # engine starts none, so it offers no stream (as the MCP spec allows, with 405).
            return text_error(405, "Method Not Allowed", {"allow": "POST, DELETE"})
        if method != "POST":
            return text_error(405, "Method Not Allowed", {"allow": "GET, POST, DELETE"})
        version = headers.get(VERSION_HEADER) or rpc.HEADER_DEFAULT_VERSION
        if version not in rpc.SUPPORTED_VERSIONS:
            supported = ",".join(rpc.SUPPORTED_VERSIONS)
            return text_error(400, "Bad Request: Unsupported protocol version (supported "
                                   f"versions: {supported})")
        return self._post(session_id, session or rpc.Session(self.toolbox), version, body)

    def _end(self, session_id: str) -> Response:
        if not session_id:
            return text_error(400, "Bad Request: DELETE requires an Mcp-Session-Id header")
        with self._lock:
            self._sessions.pop(session_id, None)
        return 204, {}, b""

    def _post(self, session_id: str, session: rpc.Session, version: str,
              body: bytes) -> Response:
        if not body:
            return text_error(400, "POST requires a non-empty body")
        try:
            messages, batch = rpc.decode(body)
            if batch and version >= rpc.NO_BATCH_VERSION:
                raise rpc.Refused(f"JSON-RPC batching is not supported in {rpc.NO_BATCH_VERSION}"
                                  f" and later (request version: {version})")
            for message in messages:
                rpc.check(message)
        except rpc.Refused as err:
            return text_error(400, str(err))
        replies = [reply for reply in map(session.answer, messages) if reply is not None]
        if not replies:
            return 202, {}, b""
        headers = dict(_REPLY_HEADERS)
        if session.initialized and any(m.method == "initialize" for m in messages):
            # Only a request that initializes a session keeps it (and learns its id).
            headers["mcp-session-id"] = session_id or self._keep(session)
        payload: JSON = replies[0] if len(replies) == 1 else list(replies)
        # Go's encoder, told not to escape HTML characters, still escapes U+2028 and U+2029.
        return 200, headers, escape_separators(dump_with_raw(payload)).encode("utf-8")

    def _keep(self, session: rpc.Session) -> str:
        session_id = _new_session_id()
        with self._lock:
            self._sessions[session_id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session_id
