"""App sync: the app URL, the register payloads and the out-of-band ``/fn/register`` call."""

from __future__ import annotations

import json
import os
import typing
import urllib.parse

from inngest import _errors, _transport, _version
from inngest._protocol.headers import Header

if typing.TYPE_CHECKING:
    from inngest._client import Inngest
    from inngest._function import Function

CAPABILITIES = {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"}
DEFAULT_SERVE_PATH = "/api/inngest"
REGISTER_TIMEOUT_SECONDS = 30.0


def route_path(serve_path: str | None) -> str:
    """The path an adapter mounts: the argument, else INNGEST_SERVE_PATH, else the default."""
    return serve_path or os.environ.get("INNGEST_SERVE_PATH") or DEFAULT_SERVE_PATH


def configured_origin(argument: str | None) -> str | None:
    """The configured public origin (argument, else ``INNGEST_SERVE_ORIGIN``); with one, the
    URL the app syncs with does not depend on the request's Host header."""
    return argument or os.environ.get("INNGEST_SERVE_ORIGIN") or None


def app_url(
    base_url: str,
    *,
    serve_origin: str | None,
    serve_path: str | None,
    public_path: str | None,
) -> str:
    """The URL the server should call: ``base_url`` with the configured overrides applied."""
    base = urllib.parse.urlsplit(base_url)
    scheme, netloc, path = base.scheme, base.netloc, base.path
    origin = configured_origin(serve_origin)
    if origin:
        if "://" in origin:
            parsed_origin = urllib.parse.urlsplit(origin)
            scheme = parsed_origin.scheme or scheme
            netloc = parsed_origin.netloc or netloc
        else:
            scheme, netloc = "https", origin
    if serve_path is None:
        serve_path = os.environ.get("INNGEST_SERVE_PATH") or None
    if public_path is not None:
        path = public_path
    elif serve_path is not None:
        path = serve_path
    return urllib.parse.urlunsplit((scheme, netloc, path, "", ""))


def strip_nulls(value: object) -> object:
    """Drop None values from objects and None items from lists, recursively."""
    if isinstance(value, dict):
        return {key: strip_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [strip_nulls(item) for item in value if item is not None]
    return value


def function_configs(functions: typing.Iterable[Function[typing.Any]], url: str) -> list[object]:
    configs: list[object] = []
    for function in functions:
        configs.extend(function.get_config(url))
    if not configs:
        raise _errors.FunctionConfigInvalidError("no functions found")
    return configs


def out_of_band_body(
    client: Inngest, functions: typing.Iterable[Function[typing.Any]], framework: str, url: str
) -> dict[str, object]:
    body = {
        "appname": client.app_id,
        "appVersion": client.app_version,
        "capabilities": CAPABILITIES,
        "deploy_type": "ping",
        "framework": framework,
        "functions": function_configs(functions, url),
        "sdk": _version.REGISTER_SDK,
        "url": url,
        "v": "0.1",
    }
    return typing.cast("dict[str, object]", strip_nulls(body))


def in_band_body(
    client: Inngest,
    functions: typing.Iterable[Function[typing.Any]],
    framework: str,
    url: str,
    inspection: dict[str, object],
) -> dict[str, object]:
    body = {
        "app_id": client.app_id,
        "appVersion": client.app_version,
        "env": client.env,
        "framework": framework,
        "functions": function_configs(functions, url),
        "inspection": inspection,
        "platform": None,
        "sdk_author": "inngest",
        "sdk_language": _version.LANGUAGE,
        "sdk_version": _version.VERSION,
        "url": url,
    }
    return typing.cast("dict[str, object]", strip_nulls(body))


def in_band_request_url(body: bytes) -> str:
    """The ``url`` of an in-band sync request body."""
    try:
        raw = json.loads(body)
    except ValueError:
        raise _errors.BodyInvalidError("in-band sync body is not JSON") from None
    if not isinstance(raw, dict):
        raise _errors.BodyInvalidError("in-band sync body is not an object")
    if "url" not in raw:
        raise _errors.BodyInvalidError("in-band sync body: url is required")
    if not isinstance(raw["url"], str):
        raise _errors.BodyInvalidError("in-band sync body: url must be a string")
    return raw["url"]


def register(
    client: Inngest,
    payload: dict[str, object],
    *,
    framework: str,
    server_kind: str | None,
    deploy_id: str | None,
) -> dict[str, object]:
    """POST the payload to ``/fn/register``; return the server's answer or raise."""
    url = urllib.parse.urljoin(client.api_origin, "/fn/register")
    if deploy_id is not None:
        url += "?" + urllib.parse.urlencode({"deployId": deploy_id})
    headers = _transport.standard_headers(client.env)
    headers[Header.FRAMEWORK] = framework
    if server_kind is not None:
        headers[Header.EXPECTED_SERVER_KIND] = server_kind
    response = _transport.request_with_auth(
        client.transport,
        "POST",
        url,
        headers=headers,
        bearer_tokens=client.bearer_tokens(),
        body=_transport.json_body(payload),
        timeout=REGISTER_TIMEOUT_SECONDS,
    )
    answer = _registration_answer(response)
    if response.status >= 400:
        raise _errors.RegistrationFailedError(
            _server_message(answer, response) + _mode_hint(server_kind, answer)
        )
    if not isinstance(answer, dict):
        raise _errors.RegistrationFailedError(
            f"registration response is not a JSON object (status {response.status})"
        )
    return answer


def _registration_answer(response: _transport.Response) -> object:
    try:
        return json.loads(response.body)
    except ValueError:
        if response.status >= 400:
            return None
        raise _errors.RegistrationFailedError(
            f"registration response is not JSON (status {response.status})"
        ) from None


def _mode_hint(server_kind: str | None, answer: object) -> str:
    """A production-mode app pointed at a dev server is told how to switch modes."""
    if server_kind != "cloud" or "server kind dev" not in json.dumps(answer):
        return ""
    return (". This app is in production mode and the server is a dev server: create the "
            "client with is_production=False or set INNGEST_DEV=1")


def _server_message(answer: object, response: _transport.Response) -> str:
    if isinstance(answer, dict):
        for key in ("error", "message"):
            if isinstance(answer.get(key), str):
                return typing.cast(str, answer[key])
    text = response.body.decode("utf-8", "replace").strip()
    return text or f"registration failed with status {response.status}"
