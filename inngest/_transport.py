"""Outbound HTTP: the ``Transport`` protocol every outbound call goes through, its default
urllib3 implementation, and the SDK's standard headers.

urllib3 is imported on the first request: it (with ssl and http.client) is most of what
``import inngest`` would otherwise cost, and an app that only serves never needs it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import typing

from inngest import _errors, _version
from inngest._protocol.headers import Header

if typing.TYPE_CHECKING:
    import urllib3


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    headers: typing.Mapping[str, str]
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            raise _errors.BodyInvalidError(
                f"response from server is not JSON (status {self.status})"
            ) from None


class TransportError(_errors.Error):
    """The request never got a response (connection refused, timeout...)."""

    code = "unknown"


@dataclasses.dataclass(frozen=True)
class OutboundRequest:
    method: str
    url: str
    headers: typing.Mapping[str, str]
    body: bytes | None = None
    # Seconds: the whole request by default; see ``Urllib3Transport.connect_timeout``.
    timeout: float = 30.0
    # A transport may stop reading the body after this many bytes plus one (the caller can
    # then tell it was too large) instead of holding all of it in memory.
    max_response_bytes: int | None = None


class Transport(typing.Protocol):
    """Sends one request and returns the response, whatever its status.

    Raises ``TransportError`` (only) when no response came. Response header names keep the
    case the server used.
    """

    def send(self, request: OutboundRequest) -> Response:
        ...

    def close(self) -> None:
        ...


class Urllib3Transport:
    """The default transport: one urllib3 pool, created on the first request.

    ``connect_timeout`` makes the request's timeout a per-read timeout instead of a total one.
    """

    def __init__(self, *, maxsize: int = 16, redirects: int = 0,
                 connect_timeout: float | None = None) -> None:
        self.maxsize = maxsize
        self.redirects = redirects
        self.connect_timeout = connect_timeout
        self._pool: urllib3.PoolManager | None = None
        self._lock = threading.Lock()

    def _manager(self) -> urllib3.PoolManager:
        with self._lock:
            if self._pool is None:
                import urllib3

                self._pool = urllib3.PoolManager(num_pools=16, maxsize=self.maxsize)
            return self._pool

    def send(self, request: OutboundRequest) -> Response:
        import urllib3

        if self.connect_timeout is None:
            timeout = urllib3.Timeout(total=request.timeout)
        else:
            timeout = urllib3.Timeout(connect=self.connect_timeout, read=request.timeout)
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0,
                                redirect=self.redirects) if self.redirects else False
        try:
            resp = self._manager().request(
                request.method, request.url, body=request.body, headers=dict(request.headers),
                timeout=timeout, retries=retries, redirect=self.redirects > 0,
                preload_content=False,
            )
            try:
                limit = request.max_response_bytes
                data = resp.read() if limit is None else resp.read(limit + 1)
            finally:
                resp.release_conn()
        except urllib3.exceptions.HTTPError as err:
            raise TransportError(f"Failed request to {request.url}: {error_cause(err)}") from None
        return Response(status=resp.status, headers=dict(resp.headers.items()), body=data)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.clear()


DEFAULT_TRANSPORT = Urllib3Transport()


def json_body(payload: object) -> bytes:
    """Compact UTF-8 JSON: byte for byte what the official SDK's HTTP client sends."""
    try:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise _errors.BodyInvalidError(f"request body is not JSON-serializable: {err}") from None
    return text.encode("utf-8")


def standard_headers(env: str | None) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        Header.SDK: _version.SDK_IDENTITY,
        Header.REQ_VERSION: _version.REQUEST_VERSION,
        "user-agent": _version.SDK_IDENTITY,
    }
    if env:
        headers[Header.ENV] = env
    return headers


def request(
    transport: Transport,
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send through ``transport``; the response's header names are lower-cased."""
    resp = transport.send(OutboundRequest(method, url, headers, body, timeout))
    return Response(
        status=resp.status,
        headers={key.lower(): value for key, value in resp.headers.items()},
        body=resp.body,
    )


def error_cause(err: Exception) -> str:
    """urllib3's error without the connection object it prefixes (``[Errno 111] ...``)."""
    text = str(getattr(err, "reason", None) or err)
    if text.startswith(("HTTPConnection", "HTTPSConnection", "<urllib3")) and ": " in text:
        return text.split(": ", 1)[1]
    return text


def request_with_auth(
    transport: Transport,
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    bearer_tokens: typing.Sequence[str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send with the first token; on 401/403 try once more with the fallback token."""
    resp = request(transport, method, url, headers=_with_bearer(headers, bearer_tokens[:1]),
                   body=body, timeout=timeout)
    if resp.status in (401, 403) and len(bearer_tokens) > 1:
        resp = request(transport, method, url,
                       headers=_with_bearer(headers, bearer_tokens[1:2]), body=body,
                       timeout=timeout)
    return resp


def _with_bearer(headers: typing.Mapping[str, str], tokens: typing.Sequence[str]) -> dict[str, str]:
    out = dict(headers)
    if tokens:
        out["authorization"] = f"Bearer {tokens[0]}"
    return out
