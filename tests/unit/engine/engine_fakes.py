"""Test doubles: fake SDK apps answering like the SDK does, and a dev server client."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
import typing
import urllib.parse

import urllib3

from inngest._engine.http.api import Api
from inngest._engine.clock import ManualClock
from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.http.server import DevServer
from inngest._engine.store import Store
from inngest._loopback import LoopbackTransport, api_endpoint
from inngest._transport import OutboundRequest, Response

SDK_HEADERS = {"x-inngest-sdk": "inngest-sync:v0.1.0", "x-inngest-req-version": "2"}
Reply = tuple[int, dict[str, str], typing.Any]
T = typing.TypeVar("T")
HTTP = urllib3.PoolManager()


@dataclasses.dataclass
class Call:
    """One request the engine made to a fake app."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    header_names: tuple[str, ...] = ()  # as sent, before lower-casing

    @property
    def body(self) -> typing.Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def fn_id(self) -> str:
        return self.query.get("fnId", "")

    @property
    def step_id(self) -> str:
        return self.query.get("stepId", "")


def ok(output: typing.Any) -> Reply:
    return 200, {}, output


def ops(*items: dict[str, typing.Any]) -> Reply:
    return 206, {}, list(items)


def op(kind: str, step: str, **fields: typing.Any) -> dict[str, typing.Any]:
    from inngest._protocol.step_ids import hash_step_id

    return {"op": kind, "id": hash_step_id(step), "name": step, "displayName": step,
            "data": None, "opts": None, **fields}


def step_hash(step: str) -> str:
    from inngest._protocol.step_ids import hash_step_id

    return hash_step_id(step)


class FakeApp:
    """A serve endpoint at ``url``; ``handlers[fn slug](call) -> (status, headers, body)``.

    With ``loopback`` it is mounted there (no socket); otherwise it listens on a free port.
    """

    def __init__(self, app_id: str = "app", loopback: LoopbackTransport | None = None) -> None:
        self.app_id = app_id
        self.calls: list[Call] = []
        self.handlers: dict[str, typing.Callable[[Call], Reply]] = {}
        self.sdk_headers = dict(SDK_HEADERS)
        self._lock = threading.Lock()
        self.server: http.server.ThreadingHTTPServer | None = None
        if loopback is not None:
            self.url = f"http://{app_id}.fake-app.test/api/inngest"
            loopback.mount(self.url, self._answer)
            return
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                call = Call(self.command, parts.path,
                            dict(urllib.parse.parse_qsl(parts.query)),
                            {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(length) if length else b"",
                            tuple(self.headers.keys()))
                status, headers, body = app.dispatch(call)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for key, value in {**app.sdk_headers, **headers}.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/inngest"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def _answer(self, request: OutboundRequest) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        call = Call(request.method, parts.path, dict(urllib.parse.parse_qsl(parts.query)),
                    {k.lower(): v for k, v in request.headers.items()}, request.body or b"",
                    tuple(request.headers))
        status, headers, body = self.dispatch(call)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        return Response(status, {**self.sdk_headers, **headers}, payload)

    def dispatch(self, call: Call) -> Reply:
        with self._lock:
            self.calls.append(call)
        handler = self.handlers.get(call.fn_id)
        if handler is None:
            return 500, {}, {"message": f"no handler for {call.method} {call.fn_id!r}"}
        return handler(call)

    def posts(self, slug: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls
                    if c.method == "POST" and (slug is None or c.fn_id == slug)]

    def function(self, fn_id: str, triggers: list[dict[str, typing.Any]] | None = None,
                 handler: typing.Callable[[Call], Reply] | None = None, retries: int = 3,
                 **config: typing.Any) -> dict[str, typing.Any]:
        slug = f"{self.app_id}-{fn_id}"
        if handler is not None:
            self.handlers[slug] = handler
        return {
            "id": slug, "name": fn_id,
            "triggers": triggers if triggers is not None else [{"event": f"test/{fn_id}"}],
            "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": retries},
                               "runtime": {"type": "http",
                                           "url": f"{self.url}?fnId={slug}&stepId=step"}}},
            **config,
        }

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class LoopbackDev:
    """An engine whose API is mounted on ``transport``: a dev server without sockets, on a
    manual clock that ``run_until`` moves to the next timer whenever the engine is idle.

    With ``db_path`` its state is kept in that SQLite file, as with ``dev --persist``: a
    second one on the same file is the engine after a restart.
    """

    url = "http://engine.test"

    def __init__(self, transport: LoopbackTransport, *, retry_interval: float = 0.05,
                 signing_key: str | None = None, clock: ManualClock | None = None,
                 db_path: str = ":memory:", queue_workers: int = 8) -> None:
        self.transport = transport
        self.clock = clock or ManualClock(time.time_ns() // 1_000_000)
        settings = Settings(retry_interval=retry_interval, signing_key=signing_key)
        self.engine = Engine(Store(db_path), settings, self.clock, queue_workers,
                             transport=transport)
        transport.mount(self.url, api_endpoint(Api(self.engine)))
        self.engine.start()

    def run_until(self, probe: typing.Callable[[], T | None], timeout: float = 5.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            idle, next_at = self.engine.queue.wait_idle(0.1)
            if idle and probe():
                continue
            if (idle and next_at is None) or time.monotonic() > deadline:
                raise AssertionError("timed out waiting")
            if next_at is not None and idle:
                self.clock.set(max(next_at, self.clock.now_ms() + 1))

    def stop(self) -> None:
        self.engine.stop()
        self.engine.store.close()

    def __enter__(self) -> LoopbackDev:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Client:
    """Talks to a dev server over HTTP, or to a loopback one in-process."""

    def __init__(self, dev: DevServer | LoopbackDev) -> None:
        self.dev = dev

    def request(self, method: str, path: str, body: typing.Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, typing.Any]:
        status, text = self.request_raw(method, path, body, headers)
        return status, json.loads(text) if text else None

    def request_raw(self, method: str, path: str, body: typing.Any = None,
                    headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """``request``, answering the body's bytes."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if data is not None and not any(name.lower() == "content-type" for name in headers or {}):
            headers = {"content-type": "application/json", **(headers or {})}
        if isinstance(self.dev, LoopbackDev):
            request = OutboundRequest(method, self.dev.url + path, headers or {}, data)
            reply = self.dev.transport.send(request)
            return reply.status, reply.body
        response = HTTP.request(method, self.dev.url + path, body=data, headers=headers or {})
        return response.status, response.data

    def register(self, app: FakeApp, functions: list[dict[str, typing.Any]],
                 **extra: typing.Any) -> tuple[int, typing.Any]:
        return self.request("POST", "/fn/register", {
            "url": app.url, "v": "0.1", "deployType": "ping", "sdk": "py:v0.1.0",
            "framework": "flask", "appName": app.app_id, "functions": functions, **extra,
        })

    def send(self, *events: dict[str, typing.Any]) -> list[str]:
        status, body = self.request("POST", "/e/key", list(events))
        assert status == 200, body
        return list(body["ids"])

    def runs(self, event_id: str) -> list[dict[str, typing.Any]]:
        return list(self.request("GET", f"/v1/events/{event_id}/runs")[1]["data"])

    def run(self, run_id: str) -> dict[str, typing.Any]:
        return dict(self.request("GET", f"/v1/runs/{run_id}")[1]["data"])

    def wait_for_run(self, event_id: str, status: str | None = None,
                     timeout: float = 5.0) -> dict[str, typing.Any]:
        """Until the event's (single) run has ended, or has ``status``."""
        return self.wait(lambda: self._ended(event_id, status), timeout)

    def wait(self, probe: typing.Callable[[], T | None], timeout: float = 5.0) -> T:
        """Until ``probe()`` answers; in-process, time skips to the next timer whenever the
        engine is idle (so retries and sleeps pass at once)."""
        if isinstance(self.dev, LoopbackDev):
            return self.dev.run_until(probe, timeout)
        return wait(probe, timeout)

    def settle(self, running: int = 0, timeout: float = 5.0) -> None:
        """Wait until the engine has handled what it was sent (a reply the app gave, say)
        and has nothing it may start, with at most ``running`` items still in flight; the
        clock does not move."""
        if not self.dev.engine.queue.wait_idle(timeout, running=running)[0]:
            raise AssertionError("the engine did not settle")

    def _ended(self, event_id: str, status: str | None) -> dict[str, typing.Any] | None:
        runs = self.runs(event_id)
        if not runs:
            return None
        run = runs[0]
        if status is not None:
            return run if run["status"] == status else None
        return run if run["status"] not in ("Running", "Scheduled") else None


def wait(probe: typing.Callable[[], T | None], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)


T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the manual clock's start


def list_runs(client: Client, fields: str) -> list[dict[str, typing.Any]]:
    """Every run, oldest first, with the given GraphQL fields, a page of 399 at a time (the
    largest page the server gives)."""
    query = ('query Q($after: String) { runs(first: 399, after: $after, '
             'orderBy: [{field: QUEUED_AT, direction: ASC}], '
             'filter: {from: "2000-01-01T00:00:00Z"}) { edges { cursor node { %s } } } }' % fields)
    nodes: list[dict[str, typing.Any]] = []
    after = None
    while True:
        status, body = client.request("POST", "/v0/gql", {"query": query,
                                                          "variables": {"after": after}})
        assert status == 200 and "errors" not in body, body
        edges = body["data"]["runs"]["edges"]
        nodes += [edge["node"] for edge in edges]
        if len(edges) < 399:
            return nodes
        after = edges[-1]["cursor"]


ENGINE_METADATA = ("inngest.usage", "inngest.timing", "inngest.http.timing")


def user_metadata(span: dict[str, typing.Any], *, rest: bool = False) -> dict[str, typing.Any]:
    """A trace span (GraphQL, or ``rest``) and its children with only the metadata sent to
    the run: without what the engine records itself (test_span_metadata.py). A REST span
    leaves out an empty list, as the server does."""
    out = dict(span)
    if "metadata" in span:
        out["metadata"] = [entry for entry in span["metadata"] or []
                           if entry["kind"] not in ENGINE_METADATA]
        if rest and not out["metadata"]:
            del out["metadata"]
    key = "children" if rest else "childrenSpans"
    if span.get(key):
        out[key] = [user_metadata(child, rest=rest) for child in span[key]]
    return out
