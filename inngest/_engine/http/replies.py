"""JSON answers of the HTTP API, written as the real server writes them, and the error
shapes its routes use."""

from __future__ import annotations

import typing

from inngest._engine import registration
from inngest._engine.models import JSON
from inngest._engine.payload import dump_escaped, is_mapping
from inngest._protocol.headers import Header

Headers = dict[str, str]
Response = tuple[int, Headers, bytes]

BASE_HEADERS = {
    "content-type": "application/json",
    Header.SERVER_KIND: registration.SERVER_KIND,
}
_ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 410: "gone",
    413: "too_large", 500: "internal_error",
}


def respond(status: int, body: object = None) -> Response:
    """A JSON answer; it ends in a newline, as the real server's REST answers do (Go's
    ``json.Encoder``)."""
    if status == 204:
        return status, dict(BASE_HEADERS), b""
    return _json_response(status, body, b"\n")


def respond_marshalled(status: int, body: object) -> Response:
    """A JSON answer the real server writes with ``json.Marshal``: no newline at the end."""
    return _json_response(status, body, b"")


def graphql_response(status: int, body: object) -> Response:
    """A GraphQL answer, which ends without a newline there."""
    return _json_response(status, body, b"")


def _json_response(status: int, body: object, end: bytes) -> Response:
    if status >= 400 and is_mapping(body) and "code" not in body:
        body = _with_code(status, body)
    return status, dict(BASE_HEADERS), encode(body) + end


def encode(body: object) -> bytes:
    """A response body as the real server writes one (Go's encoding/json)."""
    return dump_escaped(typing.cast(JSON, body)).encode("utf-8")


def _with_code(status: int, body: typing.Mapping[object, object]) -> dict[object, object]:
    """Errors keep the server's own shape and also carry a stable code and a message."""
    code = _ERROR_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    return {**body, "code": code, "message": body.get("message") or body.get("error") or code}


def error(status: int, message: str) -> Response:
    return respond(status, {"error": message, "status": status})


def v1_error(status: int, message: str) -> Response:
    """An error from the REST v1 API, in the server's ``{data, error, status}`` shape."""
    return respond(status, {"data": None, "error": message, "status": status})
