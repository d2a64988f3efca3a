"""Cloud-mode clients and a fake Cloud API (a recording proxy) for sync and auth cases."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import typing

import urllib3

import inngest
from test_core import base, http_proxy

_HTTP = urllib3.PoolManager(retries=False)
_env_lock = threading.Lock()


def client(
    app_id: str,
    api_origin: str,
    *,
    fallback_key: str | None = None,
    env: str | None = None,
    event_key: str | None = None,
) -> inngest.Inngest:
    """A cloud-mode client signing with ``base.SIGNING_KEY``.

    The fallback key only comes from ``INNGEST_SIGNING_KEY_FALLBACK``, so it is set while
    the client reads its configuration.
    """
    with scoped_env({"INNGEST_SIGNING_KEY_FALLBACK": fallback_key}):
        return inngest.Inngest(
            app_id=app_id,
            api_base_url=api_origin,
            event_api_base_url=api_origin,
            env=env,
            event_key=event_key,
            is_production=True,
            signing_key=base.SIGNING_KEY,
        )


@contextlib.contextmanager
def scoped_env(variables: dict[str, str | None]) -> typing.Iterator[None]:
    """Set (or, for None, unset) environment variables while a client reads them.

    Apps of several cases run in one process, so nothing else may see them.
    """
    with _env_lock:
        previous = {name: os.environ.get(name) for name in variables}
        try:
            for name, value in variables.items():
                _set_env(name, value)
            yield
        finally:
            for name, value in previous.items():
                _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def fake_cloud(
    *,
    register_status: int = 200,
    register_body: object = None,
    rejected_tokens: typing.Collection[str] = (),
) -> http_proxy.Proxy:
    """Answers ``/fn/register`` (401 for a rejected Bearer token) and ``/e/<key>``."""

    def on_request(
        body: bytes, headers: dict[str, list[str]], method: str, path: str
    ) -> http_proxy.Response:
        authorization = (headers.get("authorization") or [""])[0]
        if authorization.removeprefix("Bearer ") in rejected_tokens:
            return _json(401, {"error": "unauthorized"})
        if path.startswith("/fn/register"):
            answer = {"ok": True} if register_body is None else register_body
            return _json(register_status, answer)
        if path.startswith("/e/"):
            count = len(json.loads(body))
            return _json(200, {"ids": [f"id-{n}" for n in range(count)], "status": 200})
        return _json(404, {"error": "not found"})

    return http_proxy.Proxy(on_request).start()


def _json(status: int, body: object) -> http_proxy.Response:
    return http_proxy.Response(
        status=status, body=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


def request(
    method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None
) -> urllib3.BaseHTTPResponse:
    return _HTTP.request(
        method, url, body=body or None, headers=headers or {}, timeout=30.0, redirect=False
    )


def json_body(response: urllib3.BaseHTTPResponse) -> typing.Any:
    return json.loads(response.data)


def hello_function(client: inngest.Inngest, fn_id: str) -> inngest.Function:
    """A one-step function for apps that are only synced, inspected or called directly."""

    @client.create_function(fn_id=fn_id, trigger=inngest.TriggerEvent(event=f"{fn_id}/hello"))
    def hello(ctx: inngest.ContextSync) -> object:
        return {"hello": ctx.event.data.get("name")}

    return hello
