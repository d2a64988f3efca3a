"""Cases for the bytes of answers, where parsing them would hide a difference: which JSON
writer escapes ``<``, ``>``, ``&``, U+2028 and U+2029 (REST v1, REST v2 errors and data,
MCP's texts and structured contents), how a percent-encoded path parameter is quoted back,
and how MCP takes numbers past a 64-bit float. They register into ``cases.CASES``."""

from __future__ import annotations

import json
import re
import typing

from cases import CASES, Answer, Case, Side, without_locations
from cases_hostile import _exchange
from probe import Probe

_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# The one JSON string of the error's words in a REST v1 body (ours also adds ``code`` and
# ``message``: docs/compatibility.md, Engine, "REST v1 error statuses").
_V1_ERROR = re.compile(rb'"error":("(?:[^"\\]|\\.)*")')
_HTML = "<a&b>\u2028"
_APP = "wire" + _HTML
_APP_URL = "http://127.0.0.1:1/api/wire"


def _bytes(raw: bytes) -> str:
    """An answer's bytes as text, with ids and times (each server's own) replaced."""
    return _TIME.sub("<time>", _ULID.sub("<ulid>", raw.decode("utf-8", "replace")))


def _v1_error(probe: Probe, path: str) -> str:
    """The error's words as written (the dev server answers them with HTTP 200, ours with
    the status its body names: the same item)."""
    raw = _exchange(probe, ("GET", path, None, {}))[1]
    found = _V1_ERROR.search(raw)
    return found.group(1).decode() if found else _bytes(raw)


def _v2(probe: Probe, path: str) -> object:
    status, raw = _exchange(probe, ("GET", path, None, {}))
    return [status, _bytes(raw)]


# Percent-encoded path parameters: decoded where Go keeps the decoded path (escaping it
# again gives the path as sent), else quoted as sent.
_V1_PATHS = ("/v1/events/%3Cx%3E", "/v1/events/%41bc", "/v1/events/a%20b",
             "/v1/events/%E2%80%A8", "/v1/events/a%2Fb", "/v1/events/%3cx", "/v1/events/%24",
             "/v1/runs/%3Cx%3E%26", "/v1/runs/%3Cx%3E/jobs", "/v1/events/%3Cx%3E/runs")


def _function(slug: str, url: str, **change: object) -> dict[str, object]:
    return {"id": slug, "name": "fn " + _HTML, "triggers": [{"event": "wire/e"}],
            "steps": {"step": {"id": "step", "name": "step", "runtime": {
                "type": "http", "url": f"{url}?fnId={slug}&step=step"}}}, **change}


def _sync(probe: Probe, name: str = _APP, url: str = _APP_URL,
          functions: list[dict[str, object]] | None = None) -> int:
    body = {"url": url, "appName": name, "framework": "flask", "sdk": "py:v0.1.0",
            "v": "0.1", "deployType": "ping",
            "functions": functions or [_function("wire-fn", url)]}
    return probe.exchange("POST", "/fn/register", json.dumps(body).encode(),
                          {"content-type": "application/json"})[0]


_MCP = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


class _Session:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "wire", "version": "1"}}}
        _, headers, _ = probe.exchange("POST", "/mcp", json.dumps(init).encode(), _MCP)
        self.headers = {**_MCP, "mcp-session-id": headers.get("mcp-session-id", "")}
        self.post(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')

    def post(self, body: bytes) -> list[object]:
        status, _, raw = self.probe.exchange("POST", "/mcp", body, self.headers)
        return [status, _bytes(raw)]

    def call(self, tool: str, arguments: str) -> list[object]:
        return self.post(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": '
                         b'{"name": "%s", "arguments": %s}}'
                         % (tool.encode(), arguments.encode()))


def _mcp(probe: Probe) -> object:
    session = _Session(probe)
    html = json.dumps(_HTML)
    return {
        "REST v2 error quoted": session.call("list_runs", '{"from": %s}' % html),
        "REST v2 data": session.call("get_app", '{"appId": %s}' % json.dumps(_APP)),
        "typed tool": session.call("send_event", '{"name": %s, "data": {"s": %s}}'
                                   % (html, html)),
        "unknown tool": session.call("nope" + _HTML.encode("unicode_escape").decode(), "{}"),
        "typed tool number past a float": session.call(
            "send_event", '{"name": "x", "data": {"a": [1, {"b": 1e400}]}, "zzz": 1}'),
        "typed tool number past a float at the top": session.call("list_docs", '{"x": -1e400}'),
        "REST v2 tool number past a float": session.call("list_runs", '{"limit": 1e400}'),
        "REST v2 tool arguments a list": session.call("list_runs", "[1e400]"),
        "id past a float": session.post(b'{"jsonrpc": "2.0", "id": 1e400, "method": "ping"}'),
    }


def _wire(side: Side) -> Answer:
    probe = side.probe
    synced = _sync(probe)
    v2_time = "/api/v2/runs?from=%3Cx%3E%26%E2%80%A8%22%5C%01"
    answer: Answer = {
        "rest_v1_path_ids": {path: _v1_error(probe, path) for path in _V1_PATHS},
        "rest_v2": {"synced": synced, "error": _v2(probe, v2_time),
                    "app": _v2(probe, "/api/v2/apps/" + typing.cast(str, re.sub(
                        r"[^\w-]", lambda found: "".join(
                            f"%{byte:02X}" for byte in found.group().encode()), _APP)))},
        "mcp": _mcp(probe),
    }
    probe.exchange("DELETE", f"/fn/remove?url={_APP_URL}")
    return answer


_INVALID_URL = "http://127.0.0.1:1/api/wire-invalid"
_URL_APP_URL = "http://127.0.0.1:1/api/wire-url"
_UNREACHABLE_URL = "http://127.0.0.1:1/api/wire-unreachable"
_CREATE_APP = "mutation($url: String!) { createApp(input: {url: $url}) { id url error } }"


def _app_error(probe: Probe, name: str) -> object:
    apps = probe.data("{ apps { name error } }")["apps"]
    return [app["error"] for app in apps if app["name"] == name]


def _function_url(probe: Probe, slug: str) -> object:
    functions = probe.data("{ functions { slug url } }")["functions"]
    return [fn["url"] for fn in functions if fn["slug"] == slug]


def _syncs(side: Side) -> Answer:
    """A sync with invalid functions (the app keeps their errors, as a multi-error's words
    list them), a function's step URL as GraphQL shows it (normalized), and ``createApp`` of
    an app no server can reach (a GraphQL error). Its apps are removed at the end."""
    probe = side.probe
    invalid = [_function("wire-nameless", _INVALID_URL, name=""),
               _function("wire-stepless", _INVALID_URL, steps={"step": {
                   "id": "step", "name": "", "runtime": {"type": "http", "url": _INVALID_URL}}})]
    answer: Answer = {
        "invalid_functions": {"status": _sync(probe, "wire-invalid", _INVALID_URL, invalid),
                              "app_error": _app_error(probe, "wire-invalid")},
        "function_url": {"status": _sync(probe, "wire-url", _URL_APP_URL,
                                         [_function("wire-url-fn", _URL_APP_URL)]),
                         "url": _function_url(probe, "wire-url-fn")},
        "create_app": without_locations(probe.gql(_CREATE_APP, url=_UNREACHABLE_URL)),
    }
    for url in (_URL_APP_URL, _INVALID_URL, _UNREACHABLE_URL):
        probe.exchange("DELETE", f"/fn/remove?url={url}")
    return answer


# Last, with the debounce cases: their apps must not show in the cases that list apps.
CASES["wire"] = Case(_wire, ("rest_v1_path_ids", "rest_v2", "mcp"), phase=4)
CASES["wire_syncs"] = Case(_syncs, ("invalid_functions", "function_url", "create_app"),
                           phase=4)
