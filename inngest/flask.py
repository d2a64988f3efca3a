"""Serve Inngest functions from a Flask app."""

from __future__ import annotations

import typing

import flask
import werkzeug.exceptions
from werkzeug.datastructures import Headers

from inngest import _errors, _registration, wsgi
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request

FRAMEWORK = "flask"


def serve(
    app: flask.Flask,
    client: Inngest,
    functions: typing.Sequence[Function[typing.Any]],
    *,
    public_path: str | None = None,
    serve_origin: str | None = None,
    serve_path: str | None = None,
    enable_unauthed_sync: bool | None = None,
) -> None:
    """Mount one route answering GET (inspect), PUT (sync) and POST (execute)."""
    handler = CommHandler(
        client,
        functions,
        FRAMEWORK,
        public_path=public_path,
        serve_origin=serve_origin,
        serve_path=serve_path,
        enable_unauthed_sync=enable_unauthed_sync,
    )

    def inngest_api() -> flask.Response:
        # Read through the request itself, not the context-local proxy: each attribute read
        # through the proxy looks the request up again (Flask documents this way to get the
        # object). Middleware gets the proxy, as with the official SDK.
        request = flask.request._get_current_object()  # type: ignore[attr-defined]
        try:
            inbound = _to_request(request, app.config.get("MAX_CONTENT_LENGTH"))
        except werkzeug.exceptions.HTTPException as err:  # a malformed chunk, a body over
            # MAX_CONTENT_LENGTH: answered in JSON with werkzeug's status, not its HTML page
            response = handler.refuse(err.code or 400, _errors.BodyInvalidError(
                f"request body could not be read: {err.description}"))
        except _errors.BodyInvalidError as err:
            response = handler.refuse(400, err)
        else:
            response = handler.handle(inbound, flask.request)
        # Given a Headers object, werkzeug keeps it rather than adding our pairs one call
        # each to a new one; filled by slice assignment, which checks each value as add does.
        headers = Headers()
        headers[:] = response.headers.items()
        return flask.Response(response=response.body, status=response.status, headers=headers)

    app.add_url_rule(
        _registration.route_path(serve_path),
        endpoint="inngest_api",
        view_func=inngest_api,
        methods=["GET", "POST", "PUT"],
    )


def _to_request(request: flask.Request, max_content_length: int | None) -> Request:
    """The request read from the WSGI environ (as the plain WSGI adapter reads it), which
    skips building werkzeug's URL and header objects; the body comes through Flask when
    something (a ``before_request`` hook, say) may have opened its stream already, or when
    it has no length (werkzeug de-chunks it)."""
    environ = request.environ
    if "stream" in request.__dict__ or not environ.get("CONTENT_LENGTH"):
        return wsgi.to_request(environ, body=request.get_data())
    # The app's MAX_CONTENT_LENGTH, as get_data() checks it (read from the config: the
    # request's property looks the app up through the context, which costs more than the rest
    # of the request's reading).
    if max_content_length is not None \
            and wsgi._content_length(environ["CONTENT_LENGTH"]) > max_content_length:
        raise werkzeug.exceptions.RequestEntityTooLarge()
    return wsgi.to_request(environ)
