"""Outbound HTTP over one shared urllib3 pool, with the SDK's standard headers.

urllib3 is imported on the first request: it (with ssl and http.client) is most of what
``import inngest`` would otherwise cost, and an app that only serves never needs it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing

from inngest import _errors, _version

if typing.TYPE_CHECKING:
    import urllib3


@functools.lru_cache(maxsize=None)
def _pool() -> urllib3.PoolManager:
    import urllib3

    return urllib3.PoolManager(num_pools=16, maxsize=16, retries=False)


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
        "x-inngest-sdk": _version.SDK_IDENTITY,
        "x-inngest-req-version": _version.REQUEST_VERSION,
        "user-agent": _version.SDK_IDENTITY,
    }
    if env:
        headers["x-inngest-env"] = env
    return headers


def request(
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    import urllib3

    try:
        resp = _pool().request(
            method,
            url,
            body=body,
            headers=dict(headers),
            timeout=urllib3.Timeout(total=timeout),
            redirect=False,
            preload_content=True,
        )
    except urllib3.exceptions.HTTPError as err:
        raise TransportError(f"Failed request to {url}: {error_cause(err)}") from None
    return Response(
        status=resp.status,
        headers={key.lower(): value for key, value in resp.headers.items()},
        body=resp.data,
    )


def error_cause(err: Exception) -> str:
    """urllib3's error without the connection object it prefixes (``[Errno 111] ...``)."""
    text = str(getattr(err, "reason", None) or err)
    if text.startswith(("HTTPConnection", "HTTPSConnection", "<urllib3")) and ": " in text:
        return text.split(": ", 1)[1]
    return text


def request_with_auth(
    method: str,
    url: str,
    *,
    headers: typing.Mapping[str, str],
    bearer_tokens: typing.Sequence[str],
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Send with the first token; on 401/403 try once more with the fallback token."""
    resp = request(method, url, headers=_with_bearer(headers, bearer_tokens[:1]), body=body,
                   timeout=timeout)
    if resp.status in (401, 403) and len(bearer_tokens) > 1:
        resp = request(method, url, headers=_with_bearer(headers, bearer_tokens[1:2]),
                       body=body, timeout=timeout)
    return resp


def _with_bearer(headers: typing.Mapping[str, str], tokens: typing.Sequence[str]) -> dict[str, str]:
    out = dict(headers)
    if tokens:
        out["authorization"] = f"Bearer {tokens[0]}"
    return out
