"""Serve Inngest functions from any WSGI server (PEP 3333)."""

from __future__ import annotations

import http
import json
import operator
import typing
import wsgiref.util

from inngest import _errors, _registration
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
            try:
                request = to_request(environ)
            except _errors.BodyInvalidError as err:
                response = handler.refuse(400, err)
            else:
                response = handler.handle(request, environ)
        headers = list(response.headers.items())
        headers.append(("content-length", str(len(response.body))))
        status = _STATUS_LINES.get(response.status) or f"{response.status} Unknown"
        start_response(status, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    return app


def to_request(environ: Environ, body: bytes | None = None) -> Request:
    """The serve request in ``environ``; its body is read from ``wsgi.input`` unless given."""
    headers = {}
    keyset = tuple(environ)
    pairs = _header_keys_by_keyset.get(keyset)  # looked up here: a hit calls no function
    if pairs is None:
        pairs = _header_keys(keyset)
    for key, name in pairs:  # a loop: cheaper than a comprehension's call
        headers[name] = environ[key]
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers["content-type"] = content_type
    content_length = environ.get("CONTENT_LENGTH")
    if content_length:
        headers["content-length"] = content_length
    if body is None:
        body = _read_body(environ, content_length)
    try:
        url_key = _url_parts(environ)  # one call for the seven (servers set them all, usually)
    except KeyError:
        url_key = tuple(map(environ.get, _URL_KEYS))
    url = _urls.get(url_key)  # looked up here: a hit calls no function
    if url is None:
        url = _url(environ, url_key)
    return Request.normalized(environ.get("REQUEST_METHOD", "GET"), url, headers, body)


def _content_length(header: str | None) -> int:
    """A ``CONTENT_LENGTH`` as a number; 0 when absent or not a number."""
    try:
        return int(header or 0)
    except ValueError:
        return 0


def _read_body(environ: Environ, content_length: str | None) -> bytes:
    """The body from ``wsgi.input``: ``Content-Length`` bytes, or all of a body the server
    has de-chunked (``wsgi.input_terminated``). Raises BodyInvalidError for a body that
    cannot be read whole."""
    stream = environ["wsgi.input"]
    try:  # _content_length's work, inline: this runs on every request
        length = int(content_length or 0)
    except ValueError:
        length = 0
    try:
        if length > 0:
            body: bytes = stream.read(length)
        elif environ.get("wsgi.input_terminated") and environ.get("HTTP_TRANSFER_ENCODING"):
            body = stream.read()
        else:
            return b""
    except Exception as err:  # servers raise their own (werkzeug's for a malformed chunk)
        raise _errors.BodyInvalidError(
            f"request body could not be read ({type(err).__name__})") from None
    if length > 0 and len(body) < length:
        raise _errors.BodyInvalidError("request body ended before its Content-Length")
    return body


# What a request's URL is made of, in this order (the query string last).
_URL_KEYS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME",
             "PATH_INFO", "QUERY_STRING")
_url_parts = operator.itemgetter(*_URL_KEYS)

# Both caches are keyed by what the value is computed from; a server's requests to the
# serve path come in a few shapes. Cleared when they grow past 64 entries.
_header_keys_by_keyset: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
_urls: dict[tuple[object, ...], str] = {}


def _header_keys(keyset: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(``HTTP_X_FOO``, ``x-foo``) for each header key of an environ's keys, in their order;
    kept for the next request with the same keys."""
    pairs = tuple(
        (key, key[5:].replace("_", "-").lower()) for key in keyset if key.startswith("HTTP_")
    )
    if len(_header_keys_by_keyset) >= 64:
        _header_keys_by_keyset.clear()
    _header_keys_by_keyset[keyset] = pairs
    return pairs


def _url(environ: Environ, key: tuple[object, ...]) -> str:
    """``wsgiref.util.request_uri(environ, include_query=False)``, then ``?`` and the query
    string (``key``'s last item) if there is one; kept under ``key``, the environ's values
    the URL is made of. The same string for the same request shape: the handler's cache of
    parsed queries then finds it without hashing a new string."""
    url: str = wsgiref.util.request_uri(environ, include_query=False)
    query = key[-1]
    if query:
        url += "?" + typing.cast(str, query)
    if len(_urls) >= 64:
        _urls.clear()
    _urls[key] = url
    return url


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
