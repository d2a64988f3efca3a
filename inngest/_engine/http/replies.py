"""JSON answers of the HTTP API, and the error shapes the real server's routes use."""

from __future__ import annotations

import json
import typing

from inngest._engine import registration
from inngest._engine.payload import is_mapping
from inngest._protocol.headers import Header

Headers = dict[str, str]
Response = tuple[int, Headers, bytes]

BASE_HEADERS = {
    "content-type": "application/json",
    Header.SERVER_KIND: registration.SERVER_KIND,
}
_ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
    500: "internal_error",
}


def respond(status: int, body: object = None) -> Response:
    if status >= 400 and is_mapping(body) and "code" not in body:
        body = _with_code(status, body)
    payload = b"" if status == 204 else json.dumps(body).encode("utf-8")
    return status, dict(BASE_HEADERS), payload


def _with_code(status: int, body: typing.Mapping[object, object]) -> dict[object, object]:
    """Errors keep the server's own shape and also carry a stable code and a message."""
    code = _ERROR_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    return {**body, "code": code, "message": body.get("message") or body.get("error") or code}


def error(status: int, message: str) -> Response:
    return respond(status, {"error": message, "status": status})


def v1_error(status: int, message: str) -> Response:
    """An error from the REST v1 API, in the server's ``{data, error, status}`` shape."""
    return respond(status, {"data": None, "error": message, "status": status})
