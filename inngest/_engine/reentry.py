"""Re-entering a durable endpoint: the call that continues its run once it went async.

A durable endpoint's run that went async (a sleep, a wait, a step error to retry) is
continued by calling the endpoint again, as the Inngest dev server's sync HTTP driver does
(measured): the request's own method, URL (its domain and path, then its query) and body,
taken from the run's ``inngest/http.request`` event, with the call's headers. The SDK sees
``X-Run-ID`` with ``X-Inngest-Signature``, reads the run's state by API and answers with
ops; its response, once done, is one ``RunComplete`` op whose data is the HTTP response.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import typing
import urllib.parse

from inngest._engine import events
from inngest._engine.models import API_METHOD, JSON, Function, Run
from inngest._engine.store import Store

DEFAULT_METHOD = "POST"
DEFAULT_CONTENT_TYPE = "application/json"


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    url: str
    content_type: str
    body: bytes


def is_endpoint(store: Store, fn: Function) -> bool:
    """Whether ``fn`` is a durable endpoint's (its app is an ``API`` app)."""
    if fn.config.get("triggers"):
        return False  # an endpoint's function has none (durable.py): no lookup per call
    app = store.app(fn.app_id)
    return app is not None and app.method == API_METHOD


def request(store: Store, run: Run, fn: Function) -> Request:
    """The endpoint request to make for ``run``: its event's, else a POST to the app."""
    stored = store.event(run.event_ids[0]) if run.event_ids else None
    event = stored.event if stored is not None else {}
    data = event.get("data") if event.get("name") == events.HTTP_REQUEST else None
    if not isinstance(data, typing.Mapping):
        return Request(DEFAULT_METHOD, fn.url, DEFAULT_CONTENT_TYPE, b"")
    url = _text(data, "domain") + _text(data, "path") or fn.url
    query = _text(data, "query_params")
    if query:
        parts = urllib.parse.urlsplit(url)
        joined = f"{parts.query}&{query}" if parts.query else query
        url = urllib.parse.urlunsplit(parts._replace(query=joined))
    return Request(_text(data, "method") or DEFAULT_METHOD, url,
                   _text(data, "content_type") or DEFAULT_CONTENT_TYPE, _body(data))


def _text(data: typing.Mapping[str, JSON], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _body(data: typing.Mapping[str, JSON]) -> bytes:
    """The request's body: base64 in the event, as the server's Go ``[]byte`` holds it."""
    try:
        return base64.b64decode(_text(data, "body"), validate=True)
    except binascii.Error:
        return b""
