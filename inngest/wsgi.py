"""Serve Inngest functions from any WSGI server (PEP 3333)."""

from __future__ import annotations

import http
import json
import typing
import wsgiref.util

from inngest import _registration
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request, Response

FRAMEWORK = "wsgi"

Environ = typing.Dict[str, typing.Any]
StartResponse = typing.Callable[..., typing.Any]
WSGIApp = typing.Callable[[Environ, StartResponse], typing.Iterable[bytes]]

_NOT_FOUND_BODY = json.dumps(
    {"code": "unknown", "message": "not found", "name": "NotFound"}
).encode("utf-8")


def serve(
    client: Inngest,
    functions: typing.Sequence[Function[typing.Any]],
    *,
    serve_path: str | None = None,
    serve_origin: str | None = None,
    public_path: str | None = None,
    enable_unauthed_sync: bool | None = None,
) -> WSGIApp:
    """A WSGI app answering Inngest on the serve path (other paths get 404)."""
    handler = CommHandler(
        client,
        functions,
        FRAMEWORK,
        public_path=public_path,
        serve_origin=serve_origin,
        serve_path=serve_path,
        enable_unauthed_sync=enable_unauthed_sync,
    )
    route = _registration.route_path(serve_path).rstrip("/")

    def app(environ: Environ, start_response: StartResponse) -> typing.Iterable[bytes]:
        full_path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if full_path != route and full_path.rstrip("/") != route:
            response = Response(404, {"content-type": "application/json"}, _NOT_FOUND_BODY)
        else:
            response = handler.handle(to_request(environ), environ)
        headers = list(response.headers.items())
        headers.append(("content-length", str(len(response.body))))
        status = _STATUS_LINES.get(response.status) or f"{response.status} Unknown"
        start_response(status, headers)
        return [response.body]

    return app


def to_request(environ: Environ, body: bytes | None = None) -> Request:
    """The serve request in ``environ``; its body is read from ``wsgi.input`` unless given."""
    header_keys, url_prefix = _shape(environ)
    headers = {name: environ[key] for key, name in header_keys}
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers["content-type"] = content_type
    content_length = environ.get("CONTENT_LENGTH")
    if content_length:
        headers["content-length"] = content_length
    if body is None:
        try:
            length = int(content_length or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
    query = environ.get("QUERY_STRING")
    return Request.normalized(
        environ.get("REQUEST_METHOD", "GET"),
        url_prefix + "?" + query if query else url_prefix,
        headers,
        body,
    )


_URL_KEYS = ("HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "SERVER_NAME", "SERVER_PORT")
_shapes: dict[tuple[object, ...], tuple[tuple[tuple[str, str], ...], str]] = {}


def _shape(environ: Environ) -> tuple[tuple[tuple[str, str], ...], str]:
    """(``HTTP_X_FOO``, ``x-foo``) for each header key of ``environ`` in its order, and the
    request's URL before the query (``wsgiref.util.request_uri``). Found once per shape of
    environ: one server's requests to the serve path have the same few."""
    key = (tuple(environ), environ.get("wsgi.url_scheme"), *map(environ.get, _URL_KEYS))
    shape = _shapes.get(key)
    if shape is None:
        header_keys = tuple(
            (name, name[5:].replace("_", "-").lower())
            for name in environ
            if name.startswith("HTTP_")
        )
        shape = (header_keys, wsgiref.util.request_uri(environ, include_query=False))
        if len(_shapes) >= 64:
            _shapes.clear()
        _shapes[key] = shape
    return shape


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
