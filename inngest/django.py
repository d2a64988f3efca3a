"""Serve Inngest functions from a Django project: add the returned path to ``urlpatterns``."""

from __future__ import annotations

import typing

import django.http
import django.urls
from django.views.decorators.csrf import csrf_exempt

from inngest import _errors, _registration
from inngest._client import Inngest
from inngest._function import Function
from inngest._handler import CommHandler, Request

FRAMEWORK = "django"


def serve(
    client: Inngest,
    functions: typing.Sequence[Function[typing.Any]],
    *,
    public_path: str | None = None,
    serve_origin: str | None = None,
    serve_path: str | None = None,
    enable_unauthed_sync: bool | None = None,
) -> typing.Any:
    """A ``django.urls.path`` answering GET (inspect), PUT (sync) and POST (execute)."""
    handler = CommHandler(
        client,
        functions,
        FRAMEWORK,
        public_path=public_path,
        serve_origin=serve_origin,
        serve_path=serve_path,
        enable_unauthed_sync=enable_unauthed_sync,
    )

    def inngest_api(request: django.http.HttpRequest) -> django.http.HttpResponse:
        try:
            # read(), not .body: Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE
            # (2.5 MiB) there, and servers send up to 4 MiB of run state.
            body = request.read()
        except OSError as err:  # UnreadablePostError: the client went away mid-body
            response = handler.refuse(400, _errors.BodyInvalidError(
                f"request body could not be read ({type(err).__name__})"))
        else:
            response = handler.handle(
                Request(
                    method=request.method or "GET",
                    url=request.build_absolute_uri(),
                    headers=dict(request.headers.items()),
                    body=body,
                ),
                request,
            )
        return django.http.HttpResponse(
            content=response.body, status=response.status, headers=response.headers
        )

    return django.urls.path(
        _registration.route_path(serve_path).lstrip("/"), csrf_exempt(inngest_api)
    )
