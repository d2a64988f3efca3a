"""Cases for the answers to bad input, route family by route family: wrong methods, bodies
that are empty, not JSON or of the wrong type, bad query escapes, bad ids, bad tokens and bad
protobuf (the requests of the hostile sweep whose answer on the dev server is definite; it
hangs on some run metadata bodies, which are left out). Each aspect is a family's requests,
each answered by its status and body, normalized only where the servers must differ (each
view below says why). They register into ``cases.CASES``."""

from __future__ import annotations

import base64
import http.client
import json
import re
import typing
import urllib.parse

from cases import CASES, Answer, Case, Side, times
from probe import Probe

# method, path, body, headers
Request = typing.Tuple[str, str, typing.Optional[bytes], typing.Dict[str, str]]
_JSON = {"content-type": "application/json"}
_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_JWT = re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*")
_RUN = "01KB0000000000000000000000"
_UUID = "0b5b5c1e-1111-4222-8333-444455556666"


def _post(path: str, body: bytes | None, headers: dict[str, str] | None = None) -> Request:
    return ("POST", path, body, {**_JSON, **(headers or {})})


def _get(path: str, headers: dict[str, str] | None = None) -> Request:
    return ("GET", path, None, headers or {})


def _bodies(path: str, labelled: dict[str, bytes],
            headers: dict[str, str] | None = None) -> dict[str, Request]:
    return {label: _post(path, body, headers) for label, body in labelled.items()}


def _deep_cursor() -> str:
    """A cursor holding JSON nested 1,000 deep (more would pass the request head's limit)."""
    return base64.b64encode(b'{"a":' * 1000 + b"1" + b"}" * 1000).decode()


# Bodies every JSON route refuses.
_NOT_JSON = {
    "empty": b"", "spaces": b"   ", "not JSON": b"not json", "truncated": b'{"a":',
    "not UTF-8": b"\xff\xfe\xfd", "byte order mark": b"\xef\xbb\xbf{}", "NaN": b"NaN",
    "number past a double": b"1e999",
}
_WRONG_TYPES = {"list": b"[]", "number": b"123", "string": b'"s"'}

_EVENT = json.dumps({"name": "hostile/e", "data": {"a": 1}})
EVENT_API: dict[str, Request] = _bodies("/e/test", {
    **{label: _NOT_JSON[label] for label in (
        "empty", "spaces", "not JSON", "not UTF-8", "byte order mark", "NaN",
        "number past a double")},
    **_WRONG_TYPES, "null": b"null", "object": b"{}", "name empty": b'{"name": ""}',
    "name reserved": b'{"name": "inngest/x"}', "ts before 1980": b'{"name": "x", "ts": 1}',
    "second event refused": f'[{_EVENT}, {{"name": ""}}]'.encode(),
})
# Refused by the decoder, which words its reason its own way on each server.
EVENT_API_DECODER: dict[str, Request] = _bodies("/e/test", {
    "truncated": b'{"a":', "name a number": b'{"name": 1}',
    "data a list": b'{"name": "x", "data": [1]}', "user a string": b'{"name": "x", "user": "u"}',
    "v a number": b'{"name": "x", "v": 1}', "ts a string": b'{"name": "x", "ts": "soon"}',
    "deep": b'{"name": "x", "data": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
})

_SYNC_URL = "http://127.0.0.1:1/api/inngest"
_SYNC = {"url": _SYNC_URL, "appName": "hostile", "framework": "flask", "sdk": "py:v0.1.0",
         "v": "0.1", "deployType": "ping",
         "functions": [{"id": "hostile-fn", "name": "fn", "triggers": [{"event": "hostile/e"}],
                        "steps": {"step": {"id": "step", "name": "step", "runtime": {
                            "type": "http", "url": _SYNC_URL}}}}]}


def _sync(**change: object) -> bytes:
    return json.dumps({**_SYNC, **change}).encode()


def _function(**change: object) -> bytes:
    return _sync(functions=[{**_SYNC["functions"][0], **change}])  # type: ignore[index]


# Refused before anything is stored: "Invalid request: " and the decoder's reason.
APP_SYNC: dict[str, Request] = {
    **_bodies("/fn/register", {
        **_NOT_JSON, **_WRONG_TYPES, "null": b"null", "object": b"{}",
        "functions a string": _sync(functions=""), "functions an object": _sync(functions={}),
        "functions a number": _sync(functions=1), "v a number": _sync(v=1),
        "deployType a number": _sync(deployType=1),
        "capabilities a string": _sync(capabilities="x"),
        "trust_probe a number": _sync(capabilities={"trust_probe": 1}),
        "url a number": _sync(url=1), "sdk a number": _sync(sdk=1),
        "framework a list": _sync(framework=[]),
        "deep": b'{"url": "x", "functions": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    }),
}
# Fields of a function of the wrong JSON type: refused (ours as an invalid function, kept
# on the app; docs/compatibility.md, Engine, "Wrong JSON types in a function config"), so
# they run in a phase of their own, after the cases listing apps (``_hostile_sync``).
FUNCTION_TYPES: dict[str, bytes] = {
    "batchEvents a string": _function(batchEvents="x"),
    "triggers a string": _function(triggers="x"), "steps a list": _function(steps=[]),
    "retries a string": _function(steps={"step": {**_SYNC["functions"][0]["steps"]["step"],
                                                  "retries": "x"}}),
}

INVOKE: dict[str, Request] = _bodies("/invoke/hostile-nope", {
    **_NOT_JSON, **_WRONG_TYPES,
    "data a number": b'{"data": 1}', "data a string": b'{"data": ""}',
    "user a list": b'{"user": []}', "name a number": b'{"name": 1}',
    "id a number": b'{"id": 1}', "v a bool": b'{"v": true}', "ts a string": b'{"ts": "x"}',
    "ts a float": b'{"ts": 1.5}', "deep": b"[" * 20_000 + b"]" * 20_000,
})

REST_V1: dict[str, Request] = {
    "events bad escape": _get("/v1/events?cursor=%zz&received_after=x"),
    "events bad cursor": _get("/v1/events?cursor=nope"),
    "events bad received_after": _get("/v1/events?received_after=x"),
    "event bad id": _get("/v1/events/zzz"),
    "event unknown id": _get(f"/v1/events/{_RUN}"),
    "event runs bad id": _get("/v1/events/zzz/runs"),
    "run bad id": _get("/v1/runs/not-a-ulid"),
    "run jobs bad id": _get("/v1/runs/not-a-ulid/jobs"),
    "cancel bad id": ("DELETE", "/v1/runs/not-a-ulid", None, {}),
    "cancel unknown run": ("DELETE", f"/v1/runs/{_RUN}", None, {}),
    "remove an unknown app": ("DELETE", f"/fn/remove?url={_SYNC_URL}/nope", None, {}),
}
# Parameters Go's query parser drops or a list ignores (the events listed are each
# server's own), and a bad escape in a path, which Go's request parser refuses with a text
# body (ours is JSON: docs/compatibility.md, Engine, "Header lines"): the status counts.
REST_V1_STATUS: dict[str, Request] = {
    "events limit not a number": _get("/v1/events?limit=abc"),
    "events limit negative": _get("/v1/events?limit=-1"),
    "events semicolon": _get("/v1/events?a;b"),
    "app functions bad escape": _get("/v1/apps/%zz/functions"),
    "run bad escape": _get("/v1/runs/%zz"),
    "bad escape after a query": _get("/e/test%2?x=1"),
}

_CANCELLATION = {"app_id": "diff-py", "function_id": "diff-py-cancellable",
                 "started_before": "2025-01-01T00:00:00Z"}
CANCELLATIONS: dict[str, Request] = {
    **_bodies("/v1/cancellations", {
        **_NOT_JSON, **_WRONG_TYPES, "null": b"null",
        "deep list": b"[" * 100_000 + b"]" * 100_000,
        "deep object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
        "if a number": json.dumps({**_CANCELLATION, "if": 1}).encode(),
        "started_after a number": json.dumps({**_CANCELLATION, "started_after": 1}).encode(),
    }),
    "DELETE bad id": ("DELETE", "/v1/cancellations/xyz", None, {}),
}
# Requests for a function that exists: the dev server fails each with an empty 500 without
# reading ``if``; ours applies them, refusing an expression that does not compile
# (docs/compatibility.md, Engine, "Bulk cancellations").
CANCELLATIONS_APPLIED: dict[str, Request] = _bodies("/v1/cancellations", {
    "if not CEL": json.dumps({**_CANCELLATION, "if": "event.data =="}).encode(),
    "nothing in range": json.dumps({**_CANCELLATION,
                                    "started_before": "2000-01-01T00:00:00Z"}).encode(),
})

SIGNALS: dict[str, Request] = _bodies("/v1/signals", {
    **_NOT_JSON, **_WRONG_TYPES,
    "signal a number": b'{"signal": 1}', "nobody waits": b'{"signal": "hostile-none"}',
    "data a string": b'{"signal": "hostile-none", "data": "x"}',
    "deep": b'{"signal": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
})
SIGNALS_UNNAMED: dict[str, Request] = _bodies("/v1/signals", {
    "null": b"null", "empty object": b"{}", "empty name": b'{"signal": ""}',
    "null name": b'{"signal": null}'})

_META = [{"kind": "userland.x", "op": "merge", "values": {"a": 1}}]


def _metadata(**change: object) -> bytes:
    return json.dumps({"target": {"run_id": _RUN}, "metadata": _META, **change}).encode()


def _entry(**change: object) -> bytes:
    return _metadata(metadata=[{**_META[0], **change}])


# Left out: bodies without metadata (``null``, ``{}``) and a target naming another run, to
# which the dev server never answers.
RUN_METADATA: dict[str, Request] = {
    **_bodies(f"/v1/runs/{_RUN}/metadata", {
        **_NOT_JSON, **_WRONG_TYPES, "target a string": _metadata(target="x"),
        "metadata an object": _metadata(metadata={}),
        "kind inngest": _entry(kind="inngest.x"), "kind long": _entry(kind="k" * 200),
        "op unknown": _entry(op="x"), "values a list": _entry(values=[]),
    }),
    "bad run id": _post("/v1/runs/not-a-ulid/metadata", _metadata()),
}

_V2_RUN = f"/api/v2/runs/{_RUN}"
REST_V2: dict[str, Request] = {
    "runs bad escape": _get("/api/v2/runs?x=%zz"),
    "runs semicolon": _get("/api/v2/runs?a;b"),
    "apps bad escape": _get("/api/v2/apps?limit=%zz"),
    "runs limit not a number": _get("/api/v2/runs?limit=abc"),
    "runs limit negative": _get("/api/v2/runs?limit=-1"),
    "runs limit past int64": _get("/api/v2/runs?limit=99999999999999999999"),
    "runs bad status": _get("/api/v2/runs?status=nope"),
    "runs from not a time": _get("/api/v2/runs?from=x"),
    "runs from without T": _get("/api/v2/runs?from=2020-01-01"),
    "runs until month 13": _get("/api/v2/runs?until=2020-13-01T00:00:00Z"),
    "runs bad order": _get("/api/v2/runs?order=x"),
    "runs deep cursor": _get("/api/v2/runs?cursor=" + _deep_cursor()),
    "event runs deep cursor": _get(f"/api/v2/events/{_RUN}/runs?cursor=" + _deep_cursor()),
    "run bad id": _get("/api/v2/runs/x"),
    "trace bad id": _get("/api/v2/runs/x/trace"),
    "event runs bad id": _get("/api/v2/events/x/runs"),
    "apps bad limit": _get("/api/v2/apps?limit=x"),
    "functions bad cursor": _get("/api/v2/apps/diff-py/functions?cursor=%ff"),
    **{f"events {label}": _post("/api/v2/events", body) for label, body in {
        **_WRONG_TYPES, "empty": b"", "object": b"{}", "name a number": b'{"name": 1}',
        "data a list": b'{"name": "x", "data": []}'}.items()},
    "scores name a number": _post(f"{_V2_RUN}/scores", b'[{"name": 1, "value": 1}]'),
    "scores a number": _post(f"{_V2_RUN}/scores", b"1"),
    "cancel a list": _post(f"{_V2_RUN}/cancel", b"[]"),
    "cancel bad id": _post("/api/v2/runs/x/cancel", b"{}"),
    "rerun fromStep a string": _post(f"{_V2_RUN}/rerun", b'{"fromStep": "s"}'),
    "rerun bad id": _post("/api/v2/runs/x/rerun", b"{}"),
    "invoke data a list": _post("/api/v2/apps/diff-py/functions/nope/invoke",
                                b'{"data": []}'),
}
# Bodies that are not JSON: the dev server's status and code, the decoder's words its own
# (docs/compatibility.md, Engine, REST v2: "errors from reading a body ...").
REST_V2_DECODER: dict[str, Request] = {
    f"{route} {label}": _post(path, body) for route, path in (
        ("events", "/api/v2/events"), ("scores", f"{_V2_RUN}/scores"),
        ("cancel", f"{_V2_RUN}/cancel"), ("rerun", f"{_V2_RUN}/rerun"),
        ("invoke", "/api/v2/apps/diff-py/functions/nope/invoke"))
    for label, body in _NOT_JSON.items() if label not in ("empty", "spaces")
}

GRAPHQL: dict[str, Request] = _bodies("/v0/gql", {
    **_NOT_JSON, **_WRONG_TYPES, "object": b"{}",
    "query a number": b'{"query": 1}',
    "variables a string": b'{"query": "{ apps { id } }", "variables": "x"}',
    "operationName a number": b'{"query": "{ apps { id } }", "operationName": 1}',
    "unknown operation": b'{"query": "query A { apps { id } }", "operationName": "B"}',
    "empty query": b'{"query": ""}',
})
# The dev server's gqlgen answers a ``null`` body with a 422 "internal system error" and
# refuses methods other than GET and POST as "transport not supported" (400); ours answers
# 400 and 405 (docs/compatibility.md, Engine, "GraphQL over HTTP"). Both serve queries sent
# by GET (cases_dev_api.py, case graphql_get).
GRAPHQL_TRANSPORTS: dict[str, Request] = {
    "null": _post("/v0/gql", b"null"),
    "GET": _get("/v0/gql"),
    "GET with a query": _get("/v0/gql?query=%7B%20apps%20%7B%20id%20%7D%20%7D"),
    **{method: (method, "/v0/gql", b"{}", _JSON) for method in ("PUT", "PATCH", "DELETE")},
}

# Header values with bytes past ASCII (http.client sends a str header as latin-1): read as
# bytes, passed by; a GraphQL body is read only when its type is JSON (multipart/mixed, a
# type that does not parse and none at all are "transport not supported").
_LATIN_1, _UTF_8 = "caf\xe9", "caf\xc3\xa9"
_TYPENAME = b'{"query": "{ __typename }"}'
HEADER_BYTES: dict[str, Request] = {
    **{f"{route} {label}": _post(path, body, {"x-note": value, "user-agent": value})
       for route, path, body in (("event", "/e/test", _EVENT.encode()),
                                 ("sync", "/fn/register", b"{}"), ("graphql", "/v0/gql", _TYPENAME))
       for label, value in (("latin-1", _LATIN_1), ("UTF-8", _UTF_8))},
    **{f"graphql content type {label}": _post("/v0/gql", _TYPENAME, {"content-type": value})
       for label, value in {
           "latin-1": _LATIN_1, "UTF-8 parameter": "application/json; x=" + _UTF_8,
           "quoted UTF-8 parameter": f'application/json; x="{_UTF_8}"',
           "charset": "application/json; charset=latin-1", "upper case": "Application/JSON",
           "text": "text/plain", "graphql": "application/graphql",
           "mixed": "multipart/mixed; boundary=b", "empty": ""}.items()},
    "graphql no content type": ("POST", "/v0/gql", _TYPENAME, {}),
}
# Refused before any route (the dev server's bodies are text or empty, ours JSON:
# docs/compatibility.md, Engine, "Header lines"): a Host with a byte no host name has, and
# an expectation other than 100-continue.
HEADER_REFUSALS: dict[str, Request] = {
    **{f"host {label}": _get("/health", {"host": "127.0.0.1" + suffix}) for label, suffix in {
        "latin-1": "\xe9", "UTF-8": "\xc3\xa9", "space": " x", "slash": "/x", "at": "@x",
        "brace": "{"}.items()},
    **{f"expect {label}": _post("/e/test", _EVENT.encode(), {"expect": value})
       for label, value in {"latin-1": _LATIN_1, "unknown": "something",
                            "continue among others": "100-continue, x"}.items()},
}

_STEP = {"op": "StepRun", "id": "s", "name": "s", "data": {"x": 1}}
_REQUEST = {"domain": "d", "method": "GET", "path": "/", "fn": "f", "ip": "1",
            "content_type": "c", "query_params": "", "body": ""}
CHECKPOINT: dict[str, Request] = {
    **{f"{route} {label}": _post(f"/v1/checkpoint/{_RUN}/{route}", body)
       for route in ("steps", "async")
       for label, body in {**_NOT_JSON, **_WRONG_TYPES}.items()},
    "steps object": _post(f"/v1/checkpoint/{_RUN}/steps", b"{}"),
    "steps op null": _post(f"/v1/checkpoint/{_RUN}/steps", json.dumps({
        "run_id": _RUN, "fn_id": _UUID, "app_id": _UUID,
        "steps": [{**_STEP, "op": None}]}).encode()),
    "steps a string": _post(f"/v1/checkpoint/{_RUN}/steps",
                            json.dumps({"run_id": _RUN, "steps": "x"}).encode()),
    "async generation_id past int64": _post(f"/v1/checkpoint/{_RUN}/async", json.dumps({
        "run_id": _RUN, "fn_id": _UUID, "generation_id": 2 ** 64, "steps": [_STEP]}).encode()),
    "async timing a string": _post(f"/v1/checkpoint/{_RUN}/async", json.dumps({
        "run_id": _RUN, "fn_id": _UUID, "steps": [{**_STEP, "timing": "x"}]}).encode()),
    "steps bad run id": _post("/v1/checkpoint/x/steps", b"{}"),
}

_RUN_BYTES = _RUN.encode()
DURABLE: dict[str, Request] = {
    **_bodies("/v1/checkpoint", {
        **_NOT_JSON, **_WRONG_TYPES,
        "event a string": b'{"run_id": "%s", "event": ""}' % _RUN_BYTES,
        "event data a string": b'{"run_id": "%s", "event": {"data": ""}}' % _RUN_BYTES,
        "retries past int64": b'{"run_id": "%s", "retries": 99999999999999999999}'
                              % _RUN_BYTES,
        "body a lone surrogate": json.dumps({"run_id": _RUN, "event": {
            "name": "http/run.started", "data": {**_REQUEST, "body": "\ud800"}}}).encode(),
    }),
    **{f"output token {label}": _get(f"/v1/checkpoint/{_RUN}/output?token={token}")
       for label, token in {
           "none": "", "not a JWT": "x", "no signature": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
           "bad escape": "%ff", "bad signature": "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ4In0.AAAA",
       }.items()},
}

_PROTOBUF = {"content-type": "application/protobuf"}
_BAD_PROTOBUF = {
    "truncated varint": b"\x08\xff\xff", "length past the end": b"\x0a\x7fabc",
    "wire type 6": b"\x0e", "wire type 7": b"\x0f\x00", "field 0": b"\x00\x01",
    "group without an end": b"\x0b", "group ended by another": b"\x0b\x14",
    "truncated fixed64": b"\x09\x01\x02", "overlong varint": b"\x08" + b"\xff" * 11,
    "deep groups": b"\x0b" * 20_000,
}
# Fields of the wrong wire type, skipped by Go's decoder.
_ODD_PROTOBUF = {
    "field 1 a varint": b"\x08\x01", "field 1 an empty group": b"\x0b\x0c",
    "field 1 fixed32": b"\x0d\x01\x02\x03\x04", "field 5 bytes": b"\x2a\x01x",
    "string not UTF-8": b"\x0a\x03\xff\xfe\xfd",
}
CONNECT: dict[str, Request] = {
    **{f"{route} {label}": _post(f"/v0/connect/{route}", body, _PROTOBUF)
       for route in ("start", "flush")
       for label, body in {**_BAD_PROTOBUF, "JSON": b"{}"}.items()},
    **{f"flush {label}": _post("/v0/connect/flush", body, _PROTOBUF)
       for label, body in _ODD_PROTOBUF.items()},
    "flush empty": _post("/v0/connect/flush", b"", _PROTOBUF),
    "conns bad escape": _get("/v0/connect/envs/dev/conns?app_id=%zz"),
    "conns bad app id": _get("/v0/connect/envs/dev/conns?app_id=x"),
    "group unknown": _get("/v0/connect/envs/dev/groups/nope"),
}
# Answered with a connection: its ids, token and gateway URL are each server's own.
CONNECT_STARTED: dict[str, Request] = {
    f"start {label}": _post("/v0/connect/start", body, _PROTOBUF)
    for label, body in _ODD_PROTOBUF.items()}


def _traces(resource: object = None, scope: object = None, status: object = None) -> bytes:
    span = {"traceId": "0" * 31 + "1", "spanId": "0" * 15 + "1", "name": "n", "kind": 1,
            "startTimeUnixNano": "1", "endTimeUnixNano": "2",
            **({} if status is None else {"status": status})}
    scope_spans = {"spans": [span], **({} if scope is None else {"scope": scope})}
    resource_spans = {"scopeSpans": [scope_spans],
                      **({} if resource is None else {"resource": resource})}
    return json.dumps({"resourceSpans": [resource_spans]}).encode()


USERLAND_TRACES: dict[str, Request] = {
    **{f"JSON {label}": _post("/v1/traces/userland", body) for label, body in {
        **_NOT_JSON, **_WRONG_TYPES, "resource a string": _traces(resource=""),
        "scope a number": _traces(scope=0), "status a string": _traces(status=""),
        "UTF-16": '{"resourceSpans": []}'.encode("utf-16"),
    }.items()},
    **{f"protobuf {label}": _post("/v1/traces/userland", body,
                                  {"content-type": "application/x-protobuf"})
       for label, body in _BAD_PROTOBUF.items()},
    "no content type": ("POST", "/v1/traces/userland", b"{}", {}),
    "other content type": _post("/v1/traces/userland", b"{}", {"content-type": "text/plain"}),
}

_TOKENS = {"empty": "", "not a JWT": "x", "three dots": "a.b.c", "bad escape": "%ff",
           "unsigned": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
           "bad signature": "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ4In0.AAAA"}
REALTIME: dict[str, Request] = {
    **{f"token {label}": _post("/v1/realtime/token", body) for label, body in {
        **_NOT_JSON, "object": b"{}", "null": b"null", "topic a number": b"[1]",
        "kind unknown": b'[{"kind": "x", "channel": "c", "name": "t"}]'}.items()},
    **{f"sse token {label}": _get(f"/v1/realtime/sse?token={token}")
       for label, token in _TOKENS.items()},
    **{f"publish bearer {label}": _post("/v1/realtime/publish?channel=c&topic=t", b"{}",
                                        {"authorization": f"Bearer {token}"})
       for label, token in _TOKENS.items()},
    **{f"connect bearer {label}": _get("/v1/realtime/connect",
                                       {"authorization": f"Bearer {token}"})
       for label, token in _TOKENS.items()},
    **{f"publish {label}": _post(f"/v1/realtime/publish?{query}", b"\xff\xfe")
       for label, query in {"no channel": "topic=t", "no topic": "channel=c",
                            "bad escape": "channel=%ff&topic=t", "nothing": ""}.items()},
    "tee no channel": _post("/v1/realtime/publish/tee", b"x"),
}

_MCP = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
_MCP_INITIALIZE = b'{"jsonrpc": "2.0", "id": 1, "method": "initialize"}'
MCP: dict[str, Request] = {
    **{f"POST {label}": _post("/mcp", body, _MCP) for label, body in {
        **_NOT_JSON, "list": b"[]", "object": b"{}", "number": b"1",
        "no jsonrpc": b'{"id": 1, "method": "initialize"}',
        "params a string": b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", '
                           b'"params": "x"}',
        "unknown method": b'{"jsonrpc": "2.0", "id": 1, "method": "nope"}',
        "tools/call without a session": b'{"jsonrpc": "2.0", "id": 1, "method": '
                                        b'"tools/call", "params": {"name": "list_docs"}}',
    }.items()},
    "POST wrong accept": _post("/mcp", _MCP_INITIALIZE, {"accept": "text/html"}),
    "POST bad session": _post("/mcp", b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}',
                              {**_MCP, "mcp-session-id": "nope"}),
    "DELETE without a session": ("DELETE", "/mcp", None, {}),
}

# Methods a route does not take, each a 405 on both (the dev server's body is empty, ours
# JSON: docs/compatibility.md, Engine, "Wrong methods"). Left out: a GET of a path the dev
# server only routes for POST, which its UI catch-all answers with 200.
_POST_ONLY = ("/e/test", "/invoke/x", "/fn/register", "/v1/signals",
              "/v1/traces/userland", "/v1/realtime/token", "/v0/connect/start",
              "/v0/connect/flush", "/v1/cancellations")
METHODS: dict[str, Request] = {
    **{f"{method} {path}": (method, path, b"", {})
       for path in _POST_ONLY for method in ("PUT", "PATCH", "DELETE")},
    **{f"{method} {path}": (method, path, b"", {}) for method, path in (
        ("POST", f"/v1/runs/{_RUN}"), ("POST", f"/v1/events/{_RUN}"), ("PUT", "/v1/events"),
        ("POST", "/v1/prom/dev"), ("GET", "/fn/register"), ("GET", "/invoke/x"),
        ("GET", "/v0/connect/start"), ("GET", "/v0/connect/flush"), ("PUT", "/fn/register"),
        ("GET", "/v1/traces/userland"), ("GET", "/v1/realtime/token"), ("PUT", "/mcp"),
        ("GET", "/v1/signals"), ("GET", "/v1/cancellations/xyz"),
        ("PUT", "/v1/cancellations"), ("POST", "/api/v2/runs"), ("PUT", "/api/v2/runs"),
        ("DELETE", "/api/v2/apps"))},
}


# -- views: what of an answer is compared -------------------------------------------------

Parsed = typing.Tuple[int, object]
View = typing.Callable[[Parsed], object]


def _exchange(probe: Probe, request: Request) -> tuple[int, bytes]:
    """One request with its path sent as written (an HTTP client library would escape a
    bad escape such as ``%zz`` before sending it)."""
    method, path, body, headers = request
    host, port = probe.origin.rsplit("/", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _parsed(probe: Probe, request: Request) -> Parsed:
    """The status and body (JSON when it parses), with ids and tokens (each server's own,
    random or signed at its own moment) and times replaced. Ours adds ``code`` and
    ``message`` to every error body (docs/compatibility.md, Engine, "REST v1 error
    statuses"), left out here; and the dev server's REST v1 answers errors with HTTP 200 and
    the status in the body, which ours uses as the HTTP status (the same item)."""
    status, raw = _exchange(probe, request)
    text = _JWT.sub("<jwt>", _ULID.sub("<ulid>", raw.decode(errors="replace")))
    try:
        parsed: object = json.loads(text)
    except ValueError:
        parsed = text
    if isinstance(parsed, dict) and ("error" in parsed or "errors" in parsed):
        parsed = {key: value for key, value in parsed.items() if key not in ("code", "message")}
        if status == 200 and isinstance(parsed.get("status"), int):
            status = typing.cast(int, parsed["status"])
    return status, times(parsed)


def _full(answer: Parsed) -> object:
    return {"status": answer[0], "body": answer[1]}


def _texts(value: object, change: typing.Callable[[str], str]) -> object:
    """``value`` with ``change`` applied to its error texts: a text body, and the
    ``error`` and ``message`` strings in a JSON one."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_texts(item, change) for item in value]
    if isinstance(value, dict):
        return {key: change(item) if key in ("error", "message") and isinstance(item, str)
                else _texts(item, change) for key, item in value.items()}
    return value


def _before_reason(answer: Parsed) -> object:
    """The dev server's words before the decoder's reason, which each server words its own
    way (docs/compatibility.md, Engine, "Decoder error words")."""
    return {"status": answer[0],
            "body": _texts(answer[1], lambda text: text.split(": ")[0])}


def _no_reason(answer: Parsed) -> object:
    """Every field but the error's words, where the dev server's words are its decoder's
    alone (the same item)."""
    return {"status": answer[0], "body": _texts(answer[1], lambda text: "<words>")}


def _without_null_data(answer: Parsed) -> object:
    """Signal errors have no ``"data": null`` (docs/compatibility.md, Engine, "`POST
    /v1/signals` error bodies")."""
    body = answer[1]
    if isinstance(body, dict) and body.get("data", "") is None:
        body = {key: value for key, value in body.items() if key != "data"}
    return {"status": answer[0], "body": body}


def _status(answer: Parsed) -> object:
    return answer[0]


# aspect: (requests, view)
FAMILIES: dict[str, tuple[dict[str, Request], View]] = {
    "event_api": (EVENT_API, _full),
    "event_api_decoder": (EVENT_API_DECODER, _no_reason),
    "app_sync": (APP_SYNC, _before_reason),
    "invoke": (INVOKE, _before_reason),
    "rest_v1": (REST_V1, _full),
    "rest_v1_status": (REST_V1_STATUS, _status),
    "cancellations": (CANCELLATIONS, _full),
    "cancellations_applied": (CANCELLATIONS_APPLIED, _status),
    "signals": (SIGNALS, _without_null_data),
    "signals_unnamed": (SIGNALS_UNNAMED, _without_null_data),
    "run_metadata": (RUN_METADATA, _full),
    "rest_v2": (REST_V2, _full),
    "rest_v2_decoder": (REST_V2_DECODER, _no_reason),
    "graphql": (GRAPHQL, _before_reason),
    "graphql_transports": (GRAPHQL_TRANSPORTS, _full),
    "header_bytes": (HEADER_BYTES, _full),
    "header_refusals": (HEADER_REFUSALS, _status),
    "checkpoint": (CHECKPOINT, _before_reason),
    "durable": (DURABLE, _full),
    "connect": (CONNECT, _full),
    "connect_started": (CONNECT_STARTED, _status),
    "userland_traces": (USERLAND_TRACES, _full),
    "realtime": (REALTIME, _full),
    "mcp": (MCP, _before_reason),
    "methods": (METHODS, _status),
}


def answer(probe: Probe, request: Request, view: View) -> object:
    return view(_parsed(probe, request))


def _hostile(side: Side) -> Answer:
    return {family: {label: answer(side.probe, request, view)
                     for label, request in requests.items()}
            for family, (requests, view) in FAMILIES.items()}


_APPS = "{ apps { name functionCount } }"


def _function_count(probe: Probe) -> object:
    apps = probe.data(_APPS)["apps"]
    return [app["functionCount"] for app in apps if app["name"] == _SYNC["appName"]]


def _hostile_sync(side: Side) -> Answer:
    """An app synced, then syncs refused by the decoder (which must keep its function, the
    dev server's ``functions: ""`` included) and functions with fields of the wrong type
    (refused on both; ours keeps the reason on the app, so only statuses are compared).
    The app is removed at the end."""
    probe = side.probe
    synced = probe.exchange("POST", "/fn/register", _sync(), _JSON)[0]
    refused = {label: _status(_parsed(probe, _post("/fn/register", body)))
               for label, body in {**FUNCTION_TYPES, "functions a string": _sync(functions=""),
                                   "functions an object": _sync(functions={})}.items()}
    kept = _function_count(probe)
    probe.exchange("DELETE", f"/fn/remove?url={_SYNC_URL}")
    return {"syncs": {"first": synced, "refused": refused, "functions_kept": kept}}


CASES["hostile"] = Case(_hostile, tuple(FAMILIES))

_GATEWAY_ENDPOINT = re.compile(rb"ws://[\x21-\x7e]+")
_GATEWAY_PORT_REQUESTS = (("GET", "/v0"), ("GET", "/v0/"), ("GET", "/ready"),
                          ("POST", "/ready"), ("HEAD", "/ready"), ("GET", "/health"),
                          ("POST", "/v0/connect/start"), ("GET", "/v0/connect"))


def _connect_gateway_port(side: Side) -> Answer:
    """Where a start response sends a worker (the host it reached the API by, on a port of
    the gateway's own: the JS SDK's integration tests reach the gateway through a proxy to
    the API port + 1), and what that port answers: the gateway's few paths, 404 for the
    rest."""
    status, _, body = side.probe.exchange("POST", "/v0/connect/start", b"", _PROTOBUF)
    found = _GATEWAY_ENDPOINT.search(body)
    endpoint = urllib.parse.urlsplit(found.group().decode() if found else "")
    api = urllib.parse.urlsplit(side.probe.origin)
    answers = {}
    for method, path in _GATEWAY_PORT_REQUESTS:
        connection = http.client.HTTPConnection(api.hostname or "", endpoint.port, timeout=30)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            answers[f"{method} {path}"] = (
                response.status, response.getheader("content-type"),
                response.getheader("allow"), response.read().decode(errors="replace"))
        finally:
            connection.close()
    return {"connect_gateway_port": {
        "start": status, "endpoint": (endpoint.scheme, endpoint.hostname, endpoint.path),
        "own_port": endpoint.port != api.port, "answers": answers}}


CASES["connect_gateway_port"] = Case(_connect_gateway_port, ("connect_gateway_port",))
# Last, with the debounce cases: its app must not show in the cases that list apps.
CASES["hostile_sync"] = Case(_hostile_sync, ("syncs",), phase=4)


# -- GraphQL documents that do not parse -------------------------------------------------------
# Each names a parser error: an unexpected or missing token, an empty list of definitions. (Bad
# tokens, such as unterminated strings and malformed numbers, are worded otherwise on ours:
# docs/compatibility.md.)
_UNPARSED = (
    "{ run(runID: ) { id } }", 'query Q {\n  run(runID: "x") {\n    id\n', "{ a: }",
    "garbage { x }", "query Q($v: String = $w) { x }", "query { }", "{ apps { id } } }",
    "query Q() { x }", "{ x() }", "fragment F on { x }", "fragment F T { x }",
    "{ ...on { x } }", "query Q($a String) { x }", "{ x(a: [1, ) }", "{ x(a: {b 1}) }",
    "{ x @ }", "query Q($a: [String) { x }", "{ x } query", "subscription", "{ x(a: $) }",
    '{ x(a: "a\\"b" c) }',
)


def _unparsed(side: Side) -> Answer:
    """Each document's status, errors (message, locations, code) and data."""
    return {"documents": [side.probe.request("POST", "/v0/gql", {"query": document})
                          for document in _UNPARSED]}


CASES["graphql_unparsed"] = Case(_unparsed, ("documents",))
