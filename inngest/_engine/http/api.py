"""The HTTP surface: a pure routing function plus a thin threaded server around it."""

from __future__ import annotations

import logging
import re
import typing
import urllib.parse

from inngest._engine import (
    connect, console, events, function_record, mcp, realtime, registration, timeparse, ulid,
)
from inngest._engine.connect import conns
from inngest._engine.mcp import operations
from inngest._engine.graphql import execution as gql_execution, schema as graphql
from inngest._engine.engine import Engine
from inngest._engine.http import (
    cancellations, checkpoint, guard, limit_routes, media_type, multipart, rest_v2, routing,
    run_routes,
)
from inngest._engine.http.query import Query, parse as parse_query
from inngest._engine.http.replies import (
    BASE_HEADERS, Headers, Response, encode, error, graphql_response, respond,
    respond_marshalled, v1_error,
)
from inngest._engine.http.run_routes import RUN_ENV_ID
from inngest._engine.models import CONNECT_METHOD, JSON, Function, Run, RunStatus, StoredEvent
from inngest._engine.otel import userland
from inngest._engine.payload import dump_escaped, go_int, load_body, load_first, load_graphql
from inngest._engine.store import EventFilter
from inngest._engine.timeparse import rfc3339
from inngest._http_core import BodySink, CoreServer, HTTPRequest, Limits, Takeover
from inngest._protocol.headers import Header

log = logging.getLogger("inngest.engine")

# Registrations of large apps and batches of events stay well under 32 MiB (the real
# server's run state limit); all bodies being read at once stay under 256 MiB.
DEFAULT_LIMITS = Limits(max_body_bytes=32 * 1024 * 1024, max_buffered_bytes=256 * 1024 * 1024,
                        max_connections=256)
DEFAULT_HTTP_WORKERS = 32
_RUN_STATUS_NAMES = {RunStatus.QUEUED: "Scheduled"}
# The Inngest dev server's environment id of events and of event runs (RUN_ENV_ID: a run's).
_ENV_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_EVENTS = 20
# How Go writes a time that was never set: an active function's archived_at.
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"
MAX_EVENTS = 51
_PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def _accepted(ids: list[str]) -> Response:
    """``respond(200, {"ids": ids, "status": 200})`` without the JSON encoder: event ids are
    ULIDs, which need no escaping."""
    quoted = '","'.join(ids)
    return 200, dict(BASE_HEADERS), f'{{"ids":["{quoted}"],"status":200}}\n'.encode("ascii")


def graphql_request_error(reason: str) -> Response:
    """A GraphQL body that cannot be read: 400 in GraphQL's shape, as the real server answers."""
    message = f"json request body could not be decoded: {reason}"
    return graphql_response(400, {"errors": [{"message": message}], "data": None,
                                  "message": message})


_INVALID_RUN_ID = "The run ID specified is invalid"
_UNREADABLE_INVOCATION = "Unable to read post data request"


def _invocation(body: bytes) -> typing.Mapping[str, JSON]:
    """The event a ``POST /invoke/{slug}`` body holds, read as the dev server's decoder
    reads it (its first JSON value; ``null`` an empty event); ValueError says why not."""
    if not body.strip(b" \t\r\n"):
        raise ValueError("EOF")
    raw = load_first(body)
    if raw is None:
        return {}
    if not isinstance(raw, typing.Mapping):
        raise ValueError("the body must be an event object")
    for name, kind, valid in (("name", "a string", str), ("id", "a string", str),
                              ("v", "a string", str), ("data", "an object", typing.Mapping),
                              ("user", "an object", typing.Mapping)):
        if raw.get(name) is not None and not isinstance(raw[name], valid):
            raise ValueError(f"event {name} must be {kind}")
    ts = raw.get("ts")
    if ts is not None and go_int(ts) is None:
        raise ValueError("event ts must be an integer number of milliseconds")
    return raw


def _no_run_state(run_id: str) -> Response:
    """``/v0/runs/{id}/batch`` and ``/actions`` for a run the engine does not hold, with the
    real server's statuses and words."""
    if not ulid.is_ulid(run_id):
        return v1_error(400, _INVALID_RUN_ID)
    return v1_error(410, f"runtime state is no longer available for runID: {run_id}")


class Api:
    """Routes requests for one engine; ``info`` is what ``GET /dev`` reports as startOpts."""

    def __init__(self, engine: Engine, info: dict[str, JSON] | None = None) -> None:
        self.engine = engine
        self.info = info or {}
        self._guard = guard.Guard(str(self.info.get("host", "127.0.0.1")))
        self._rest_v2 = rest_v2.RestV2(engine)
        self._mcp = mcp.endpoint(engine, self._rest_v2.handle)
        self._realtime = realtime.Realtime(engine.clock, engine.ids)
        self.connect = connect.Connect(engine, self.info)
        runs = run_routes.RunRoutes(engine)
        bulk = cancellations.Cancellations(engine)
        checkpoints = checkpoint.CheckpointRoutes(engine)
        limits = engine.lifecycle.limits
        step_limits = limit_routes.LimitRoutes(limits.steps, "step limit")
        state_limits = limit_routes.LimitRoutes(limits.state_bytes, "state size limit")
        self._routes = routing.Routes[typing.Callable[..., Response]]([
            ("GET", re.compile(r"/"), self.console_page),
            ("GET", re.compile(r"/console/(?P<name>.+)"), self.console_asset),
            # Console pages by path as well as by hash: /runs/<id> is a link to share.
            ("GET", re.compile(r"/(runs|events)(/[0-9A-Za-z]+)?|/functions|/apps"),
             self.console_page),
            ("POST", re.compile(r"/e/(?P<key>[^/]*)"), self.send_events),
            ("POST", re.compile(r"/invoke/(?P<slug>.+)"), self.invoke),
            ("GET", re.compile(r"/health"), self.health),
            ("POST", re.compile(r"/fn/register"), self.register),
            ("DELETE", re.compile(r"/fn/remove"), self.remove_app),
            ("POST", re.compile(r"/fn/step-limit"), step_limits.set),
            ("DELETE", re.compile(r"/fn/step-limit"), step_limits.remove),
            ("POST", re.compile(r"/fn/state-size-limit"), state_limits.set),
            ("DELETE", re.compile(r"/fn/state-size-limit"), state_limits.remove),
            ("GET", re.compile(r"/dev"), self.dev_info),
            ("GET", re.compile(r"/v0/runs/(?P<run_id>[^/]+)/batch"), self.run_batch),
            ("GET", re.compile(r"/v0/runs/(?P<run_id>[^/]+)/actions"), self.run_actions),
            ("DELETE", re.compile(r"/v0/runs/(?P<run_id>[^/]+)"), self.cancel_v0),
            ("POST", re.compile(r"/v0/connect/start"), self.connect_start),
            ("POST", re.compile(r"/v0/connect/flush"), self.connect_flush),
            ("GET", re.compile(r"/v0(/connect)?/envs/[^/]+/conns"), self.connect_conns),
            ("GET", re.compile(r"/v0(/connect)?/envs/[^/]+/groups/(?P<group_hash>[^/]+)"),
             self.connect_group),
            ("POST", re.compile(r"/v0/gql"), self.graphql),
            ("GET", re.compile(r"/v0/gql"), self.graphql_get),
            ("GET", re.compile(r"/v1/events"), self.list_events),
            ("GET", re.compile(r"/v1/events/(?P<event_id>[^/]+)"), self.get_event),
            ("GET", re.compile(r"/v1/events/(?P<event_id>[^/]*)/runs"), self.event_runs),
            ("GET", re.compile(r"/v1/runs/(?P<run_id>[^/]+)"), self.get_run),
            ("DELETE", re.compile(r"/v1/runs/(?P<run_id>[^/]+)"), self.cancel_v1),
            ("GET", re.compile(r"/v1/runs/(?P<run_id>[^/]+)/jobs"), runs.jobs),
            ("POST", re.compile(r"/v1/runs/(?P<run_id>[^/]+)/metadata"), runs.add_metadata),
            ("POST", re.compile(r"/v1/(http/runs|checkpoint)"), checkpoints.new_run),
            ("*", re.compile(r"/v1/(http/runs|checkpoint)/[^/]+/output"), checkpoints.output),
            ("POST", re.compile(r"/v1/(http/runs|checkpoint)/[^/]+/steps"),
             checkpoints.sync_steps),
            ("POST", re.compile(r"/v1/(http/runs|checkpoint)/[^/]+/async"),
             checkpoints.async_steps),
            ("POST", re.compile(r"/v1/signals"), self.signal),
            ("GET", re.compile(r"/v1/apps/(?P<app_name>[^/]*)/functions"), self.app_functions),
            ("POST", re.compile(r"/v1/cancellations"), bulk.create),
            ("GET", re.compile(r"/v1/cancellations"), bulk.index),
            ("DELETE", re.compile(r"/v1/cancellations/(?P<cancellation_id>[^/]+)"), bulk.delete),
            ("GET", re.compile(r"/v1/prom/[^/]+"), self.prometheus),
            ("GET", re.compile(r"/metrics"), self.metrics),
            ("POST", re.compile(r"/v1/traces/userland"), self.userland_traces),
            # MCP answers every method itself, with its own statuses.
            ("*", re.compile(r"/mcp"), self.mcp),
        ])

    def handle(self, method: str, path: str, query: dict[str, str], headers: Headers,
               body: bytes) -> Response:
        """Answer one request; header names in ``headers`` must be lower-case. Realtime
        subscriptions and the connect gateway need a connection to take over (``answer``):
        here they get a 501."""
        answer = self.answer(method, path, query, headers, body)
        if isinstance(answer, Takeover):
            return error(501, "realtime subscriptions and the connect gateway are served over "
                              "HTTP connections only")
        return answer

    def answer(self, method: str, path: str, query: dict[str, str], headers: Headers,
               body: bytes) -> Response | Takeover:
        """``handle``, where an answer may take the connection over."""
        refusal = self._guard.refusal(method, headers)
        if refusal is not None:
            log.warning("refused %s %s: %s", method, path, refusal)
            return error(403, refusal)
        if method == "OPTIONS":
            # No CORS headers: browsers then keep other origins' pages from using the API.
            return respond(204)
        if operations.serves(path):
            return self.operation_catalog(method)
        if rest_v2.serves(path):
            return self._rest_v2.handle(method, path, query, headers, body)
        if realtime.serves(path):
            return self._realtime.handle(method, path, query, headers, body)
        path = routing.go_routed_path(path).rstrip("/") or "/"
        if path == connect.GATEWAY_PATH:
            return self.connect.gateway(method, headers)
        found = self._routes.find(method, path)
        if isinstance(found, bool):
            return error(405, "method not allowed") if found else error(404, "not found")
        try:
            return found.handler(query=query, headers=headers, body=body, method=method,
                                 **found.params)
        except Exception:
            log.exception("error handling %s %s", method, path)
            return error(500, "internal error")

    def sink(self, method: str, path: str, query: dict[str, str],
             headers: Headers) -> BodySink | None:
        """Where a request's body goes as it arrives, for the few routes that forward it
        (``answer`` then never sees it); None for the others, and for refused requests."""
        if self._guard.refusal(method, headers) is not None or not realtime.serves(path):
            return None
        return self._realtime.sink(method, path, query, headers)

    # Console

    def console_page(self, **_: object) -> Response:
        return self.console_asset("index.html")

    def console_asset(self, name: str, **_: object) -> Response:
        found = console.asset(name)
        if found is None:
            return error(404, "not found")
        payload, content_type = found
        return 200, {**console.HEADERS, "content-type": content_type}, payload

    # Events

    def send_events(self, key: str, headers: Headers, body: bytes, **_: object) -> Response:
        if not key:
            return respond(401, {"status": 401, "message": "", "error": "Event key is required"})
        try:
            raw_events = events.split_body(body)
        except events.EventError as err:
            return respond(400, {"ids": [""], "status": 400, "error": str(err)})
        if not raw_events:
            return respond(200, {"ids": [""], "status": 200})
        seed = ulid.parse_seed(headers.get(Header.EVENT_ID_SEED, ""))
        accepted: list[tuple[str, dict[str, JSON]]] = []
        for index, raw in enumerate(raw_events):
            now = self.engine.clock.now_ms()
            internal_id = ulid.from_seed(seed, index) if seed else self.engine.ids.new(now)
            try:
                accepted.append((internal_id, events.normalize(raw, now, internal_id,
                                                               body_bytes=len(body))))
            except events.EventError as err:
                # The real server's answer: the ids before the refused event, or [""] when
                # none was. Unlike it, none of them is stored: a batch is all or nothing.
                ids = [internal_id for internal_id, _ in accepted]
                return respond(400, {"ids": ids or [""], "status": 400, "error": str(err)})
        # Run starts go once the ids are answered.
        with self.engine.queue.starting_after_answer():
            self._store_events(accepted, seeded=seed is not None)
        return _accepted([internal_id for internal_id, _ in accepted])

    def _store_events(self, accepted: list[tuple[str, dict[str, JSON]]], seeded: bool) -> None:
        """Ingest the events in one transaction: stored whole or not at all, and one commit.
        A single event is one already (``Runner.ingest``'s). A send retried with its seed
        (after a lost reply) gets the same ids: each event is stored once."""
        runner = self.engine.runner
        if len(accepted) == 1:
            internal_id, event = accepted[0]
            runner.ingest(event, internal_id, once=seeded)
            return
        with self.engine.store.transaction():
            for internal_id, event in accepted:
                runner.ingest(event, internal_id, once=seeded)

    def invoke(self, slug: str, body: bytes, **_: object) -> Response:
        try:
            raw = _invocation(body)
        except ValueError as err:
            return respond(400, {"error": f"{_UNREADABLE_INVOCATION}: {err}", "data": None,
                                 "status": 400})
        fn = self.engine.store.function_by_slug(slug)
        if fn is None or fn.id not in {f.id for f in self.engine.store.functions()}:
            return respond(404, {"error": f"function not found: {slug}", "data": None,
                                 "status": 404})
        given = raw.get("data")
        # The dev server names the target by the slug it was given, as invokeFunction does.
        data = {**(given if isinstance(given, typing.Mapping) else {}),
                events.INTERNAL_DATA_KEY: events.invocation_metadata(slug)}
        # An event without an id gets one of its own there, not its internal id.
        event_id = raw.get("id") or self.engine.ids.new(self.engine.clock.now_ms())
        invoked = {**raw, "name": events.FUNCTION_INVOKED, "id": event_id, "data": data}
        try:
            [internal_id] = self.engine.runner.publish([invoked])
        except events.EventError as err:
            return respond(400, {"error": str(err), "data": None, "status": 400})
        return respond(200, {"id": internal_id, "status": 200})

    def health(self, **_: object) -> Response:
        return respond(200, {"status": 200, "message": "OK"})

    # Apps

    def register(self, headers: Headers, body: bytes, **_: object) -> Response:
        try:
            result = self.engine.apply_sync(body, headers)
        except registration.RegisterError as err:
            log.info("app sync failed: %s", err)
            return respond(err.status, err.body)
        return respond(200, result.to_dict())

    def remove_app(self, query: dict[str, str], **_: object) -> Response:
        """Archive the first app synced at the URL (only the query's ``url`` is read, as by
        the dev server) and its functions; answered with an empty body, as there."""
        url = query.get("url", "")
        try:
            apps = self.engine.store.apps_by_url(registration.normalize_url(url))
        except registration.UrlError:
            apps = []  # no app is synced at a URL that does not parse
        if not apps:
            return respond(404, {"error": f"App not found: {url}", "data": None, "status": 404})
        store = self.engine.store
        with store.transaction():
            store.archive_functions(apps[0].id, ())
            store.delete_app(apps[0].id, self.engine.clock.now_ms())
        return 200, dict(BASE_HEADERS), b""

    def app_functions(self, app_name: str, **_: object) -> Response:
        """The app's synced functions by internal id, as the dev server lists them: every
        app's when the name is empty, none for an unknown app."""
        store = self.engine.store
        apps = [app for app in store.apps() if app_name in ("", app.name)]
        functions = sorted((fn for app in apps for fn in store.functions(app.id)),
                           key=lambda fn: fn.id)
        connect = {app.id for app in apps if app.method == CONNECT_METHOD}
        return respond(200, [function_json(fn, fn.app_id in connect) for fn in functions])

    def dev_info(self, **_: object) -> Response:
        store = self.engine.store
        connect = {app.id for app in store.apps() if app.method == CONNECT_METHOD}
        return respond(200, {
            "version": "inngest-sync", "authed": False, "startOpts": self.info,
            "functions": [function_record.record(fn, connect=fn.app_id in connect)
                          for fn in store.functions()],
            "handlers": None,
            "isSingleNodeService": True, "isMissingSigningKey": False,
            "isMissingEventKeys": False, "features": {},
        })

    # Runs

    def _run(self, run_id: str) -> Run | None:
        """The run, if it is one the v0 and v1 APIs know: not a skipped one (measured)."""
        run = self.engine.store.run(run_id)
        return None if run is None or run.status is RunStatus.SKIPPED else run

    def run_batch(self, run_id: str, **_: object) -> Response:
        run = self._run(run_id)
        if run is None:
            return _no_run_state(run_id)
        stored = [self.engine.store.event(event_id) for event_id in run.event_ids]
        return respond(200, [e.event for e in stored if e])

    def run_actions(self, run_id: str, **_: object) -> Response:
        run = self._run(run_id)
        if run is None:
            return _no_run_state(run_id)
        inputs: dict[str, JSON] = {step_id: {"input": value}
                                   for step_id, value in run.step_inputs.items()}
        return respond(200, {**inputs, **dict(self.engine.store.steps(run_id))})

    def cancel_v0(self, run_id: str, **_: object) -> Response:
        if not ulid.is_ulid(run_id):
            return v1_error(400, _INVALID_RUN_ID)
        run = self._run(run_id)
        if run is None:
            return v1_error(404, "A function run with the given ID could not be found")
        if self.engine.runner.cancel(run_id) is None:
            return error(409, "This function has already completed")
        return respond(204)

    def cancel_v1(self, run_id: str, **_: object) -> Response:
        if not ulid.is_ulid(run_id):
            return v1_error(400, f"Invalid run ID: {run_id}")
        if self._run(run_id) is None:
            return v1_error(404, f"Unable to load function run: {run_id}")
        self.engine.runner.cancel(run_id)
        return 200, dict(BASE_HEADERS), b""

    def event_runs(self, event_id: str, **_: object) -> Response:
        if not ulid.is_ulid(event_id):
            return v1_error(400, f"Invalid event ID: {event_id}")
        runs = self.engine.store.runs_for_event(event_id)
        # What ``respond`` would write for ``run_json`` of each run, written out: clients
        # poll this until their run ends.
        now = rfc3339(self.engine.clock.now_ms())
        body = (f'{{"data":[{",".join(_run_text(run, _ENV_ID) for run in runs)}],'
                f'"metadata":{{"fetched_at":"{now}","cached_until":"{now}"}}}}\n')
        return 200, dict(BASE_HEADERS), body.encode("utf-8")

    def get_run(self, run_id: str, **_: object) -> Response:
        if not ulid.is_ulid(run_id):
            return v1_error(400, f"Invalid run ID: {run_id}")
        run = self._run(run_id)
        if run is None:
            return v1_error(404, f"Unable to load function run: {run_id}")
        return respond(200, {"data": self.run_json(run), "metadata": self._metadata()})

    def get_event(self, event_id: str, **_: object) -> Response:
        if not ulid.is_ulid(event_id):
            return v1_error(400, f"Invalid event ID: {event_id}")
        stored = self.engine.store.event(event_id)
        if stored is None:
            return v1_error(404, "Event not found")
        return respond(200, {"data": event_json(stored), "metadata": self._metadata()})

    def list_events(self, query: dict[str, str], **_: object) -> Response:
        text = query.get("limit", "")
        limit = int(text) if text.isascii() and text.isdigit() else 0
        cursor = query.get("cursor") or None
        if cursor is not None and not ulid.is_ulid(cursor):
            return v1_error(400, "Invalid cursor query parameter")
        bounds: list[int | None] = []
        for key in ("received_after", "received_before"):
            moment = timeparse.parse_date(query[key]) if query.get(key) else None
            if query.get(key) and moment is None:
                return v1_error(400, f"Invalid {key} query parameter")
            bounds.append(None if moment is None else round(moment.timestamp() * 1000))
        found = self.engine.store.recent_events(
            min(max(limit or DEFAULT_EVENTS, 1), MAX_EVENTS), EventFilter(
                names=[query["name"]] if query.get("name") else [], before_id=cursor,
                received_after_ms=bounds[0], received_before_ms=bounds[1]))
        now = rfc3339(self.engine.clock.now_ms())
        return respond(200, {"data": [event_json(e) for e in found],
                             "metadata": {"fetched_at": now}})

    def signal(self, body: bytes, **_: object) -> Response:
        """Resume the run waiting for a signal, with the statuses the real server uses."""
        try:
            request = load_body(body)
        except ValueError:
            return error(400, "Invalid signal data")
        signal = request.get("signal") if isinstance(request, typing.Mapping) else None
        if not isinstance(request, typing.Mapping) \
                or signal is not None and not isinstance(signal, str):
            return error(400, "Invalid signal data")
        if not signal:
            # The dev server answers 500 (its lookup of the empty name fails); a request
            # without a name is the client's mistake.
            return error(400, "Failed to receive signal: signal must not be empty")
        run_id = self.engine.runner.signal(signal, request.get("data"))
        if run_id is None:
            return error(404, "No signal found")
        return respond(200, {"data": {"run_id": run_id}, "metadata": self._metadata()})

    def userland_traces(self, headers: Headers, body: bytes, **_: object) -> Response:
        return userland.handle(self.engine.store, headers, body)

    def _metadata(self) -> dict[str, JSON]:
        now = rfc3339(self.engine.clock.now_ms())
        return {"fetched_at": now, "cached_until": now}

    def run_json(self, run: Run, environment_id: str = RUN_ENV_ID) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "run_id": run.id,
            "run_started_at": rfc3339(run.created_at_ms),
            "function_id": run.function_id,
            "function_version": 0,
            "environment_id": environment_id,
            "event_id": run.event_ids[0] if run.event_ids else None,
            "status": _RUN_STATUS_NAMES.get(run.status, run.status.value),
            "ended_at": rfc3339(run.ended_at_ms),
        }
        optional = {"batch_id": run.batch_id, "cron": run.cron}
        out.update({key: value for key, value in optional.items() if value is not None})
        if run.status is RunStatus.CANCELLED:
            out["output"] = {}
        elif run.has_output:
            out["output"] = run.output
        return out

    # Other

    def prometheus(self, **_: object) -> Response:
        """The dev server has no metrics to scrape; it says so with a 200."""
        return respond(200, {"error": "not implemented", "data": None, "status": 501})

    def metrics(self, **_: object) -> Response:
        """The dev server's Prometheus scrape: one gauge, the depth of the queue."""
        text = ("# HELP inngest_queue_depth Total depth of all system queues including backlog "
                "and ready state items\n"
                "# TYPE inngest_queue_depth gauge\n"
                f"inngest_queue_depth {self.engine.store.queue_depth()}\n")
        headers = {"content-type": _PROMETHEUS_TEXT, Header.SERVER_KIND: registration.SERVER_KIND}
        return 200, headers, text.encode("ascii")

    def operation_catalog(self, method: str) -> Response:
        """What an agent can do here (``/v2/operations``), for any origin to read."""
        if method != "GET":
            status, headers, payload = error(405, "method not allowed")
            return status, {**headers, "access-control-allow-origin": "*"}, payload
        headers = {**operations.HEADERS, Header.SERVER_KIND: registration.SERVER_KIND}
        return 200, headers, operations.catalog(self._mcp.toolbox)

    def mcp(self, headers: Headers, body: bytes, method: str, **_: object) -> Response:
        status, mcp_headers, payload = self._mcp.handle(method, headers, body)
        return status, {Header.SERVER_KIND: registration.SERVER_KIND, **mcp_headers}, payload

    def connect_start(self, headers: Headers, body: bytes, **_: object) -> Response:
        return self.connect.start(headers, body)

    def connect_flush(self, body: bytes, **_: object) -> Response:
        return self.connect.flush(body)

    def connect_conns(self, query: dict[str, str], **_: object) -> Response:
        status, body = conns.listing(self.engine.connections, query.get("app_id", ""))
        return respond(status, body) if status >= 400 else respond_marshalled(status, body)

    def connect_group(self, group_hash: str, **_: object) -> Response:
        status, body = conns.group(self.engine.connections, group_hash)
        return respond(status, body) if status >= 400 else respond_marshalled(status, body)

    def graphql(self, headers: Headers, body: bytes, **_: object) -> Response:
        media = media_type.parse(headers.get("content-type", ""))
        if media is not None and media.name == "multipart/form-data":
            return self._graphql_form(headers.get("content-type", ""), body)
        if media is None or media.name != "application/json":
            # The real server's transports read JSON bodies and multipart forms only.
            return _graphql_transport_error(400, _NO_TRANSPORT)
        try:
            request = load_graphql(body)
        except ValueError as err:
            return graphql_request_error(str(err))
        if not isinstance(request, typing.Mapping):
            return graphql_request_error("the body must be an object")
        query, operation, variables = (request.get(name) for name in
                                       ("query", "operationName", "variables"))
        if query is None:
            query = ""  # answered as the real server does: no operation provided
        if not isinstance(query, str):
            return graphql_request_error("query must be a string")
        if operation is not None and not isinstance(operation, str):
            return graphql_request_error("operationName must be a string")
        if variables is not None and not isinstance(variables, typing.Mapping):
            return graphql_request_error("variables must be an object")
        return _graphql_answer(graphql.execute(self.engine, query, variables or {}, operation))

    def _graphql_form(self, content_type: str, body: bytes) -> Response:
        """A request in the GraphQL multipart request spec's form, files and all."""
        try:
            form = multipart.load_operation(content_type, body)
        except multipart.MultipartError as err:
            return _graphql_transport_error(422, str(err))
        return _graphql_answer(graphql.execute(
            self.engine, form.query, form.variables, form.operation_name))

    def graphql_get(self, query: dict[str, str], headers: Headers, **_: object) -> Response:
        """A query sent by ``GET`` (``?query=``, ``operationName``, ``variables`` and
        ``extensions`` as JSON), read as the dev server's gqlgen reads one; mutations are
        refused, so a link or a page of another origin cannot change anything."""
        if headers.get("upgrade"):  # gqlgen's websocket transport's, which we do not serve
            return _graphql_transport_error(400, "unable to upgrade")
        if isinstance(query, Query) and query.error:
            return _graphql_transport_error(400, query.error)
        objects = {}
        for name in ("variables", "extensions"):  # the extensions are read, then unused
            try:
                objects[name] = _object_param(query, name)
            except ValueError:
                return _graphql_transport_error(400, f"{name} could not be decoded")
        try:
            answer = graphql.execute(self.engine, query.get("query", ""),
                                     objects["variables"] or {},
                                     query.get("operationName") or None, queries_only=True)
        except gql_execution.OperationNotAllowed:
            return _graphql_transport_error(406, "GET requests only allow query operations")
        return _graphql_answer(answer)


_NO_TRANSPORT = "transport not supported"


def _graphql_transport_error(status: int, message: str) -> Response:
    """A request gqlgen's transports refuse, in GraphQL's shape (with our ``message``)."""
    return graphql_response(status, {"errors": [{"message": message}], "data": None,
                                     "message": message})


def _object_param(query: typing.Mapping[str, str], name: str) -> typing.Mapping[str, JSON] | None:
    """A query parameter holding a JSON object (its first JSON value, as Go's decoder
    reads it); None when left out, empty or null. ValueError when it holds no object."""
    text = query.get(name, "")
    value = load_graphql(text.encode("utf-8"), first=True) if text else None
    if value is not None and not isinstance(value, typing.Mapping):
        raise ValueError(f"{name} is not an object")
    return value


def _graphql_answer(answer: dict[str, object]) -> Response:
    if gql_execution.failed_before_execution(answer):
        # A GraphQL body stays one (errors carry their codes), as the real server's 422.
        return 422, dict(BASE_HEADERS), encode(answer)
    return graphql_response(200, answer)


def event_json(stored: StoredEvent) -> dict[str, JSON]:
    """An event as the REST v1 API lists it, its keys in the real server's order; ``user``
    and ``v`` are there when the event has them."""
    event = stored.event
    out: dict[str, JSON] = {
        "internal_id": stored.internal_id, "account_id": _ENV_ID, "environment_id": _ENV_ID,
        "source": "", "source_id": None, "received_at": rfc3339(stored.received_at_ms),
        "id": event.get("id") or stored.internal_id, "name": stored.name,
        "data": event.get("data"),
    }
    if event.get("user"):
        out["user"] = event["user"]
    out["ts"] = event.get("ts")
    if event.get("v"):
        out["v"] = event["v"]
    return out


def function_json(fn: Function, connect: bool) -> dict[str, JSON]:
    """A function as ``/v1/apps/{name}/functions`` lists it, in the dev server's key order;
    ``config`` is the dev server's record of it, as ``GET /dev`` lists it."""
    return {
        "internal_id": fn.id, "env_id": _ENV_ID, "app_id": fn.app_id, "id": fn.slug,
        "name": fn.name, "config": function_record.record(fn, connect=connect),
        "created_at": rfc3339(fn.created_at_ms),
        "archived_at": _GO_ZERO_TIME,
    }


def _run_text(run: Run, environment_id: str) -> str:
    """``dump_escaped(Api.run_json(run, environment_id))``, written out. Its times and its
    status need no escaping; other strings are checked."""
    parts = [f'{{"run_id":{_string_text(run.id)},"run_started_at":"{rfc3339(run.created_at_ms)}",'
             f'"function_id":{_string_text(run.function_id)},"function_version":0,'
             f'"environment_id":{_string_text(environment_id)},'
             f'"event_id":{_string_text(run.event_ids[0]) if run.event_ids else "null"},'
             f'"status":"{_RUN_STATUS_NAMES.get(run.status, run.status.value)}",']
    ended = rfc3339(run.ended_at_ms)
    parts.append(f'"ended_at":"{ended}"' if ended is not None else '"ended_at":null')
    if run.batch_id is not None:
        parts.append(f',"batch_id":{_string_text(run.batch_id)}')
    if run.cron is not None:
        parts.append(f',"cron":{_string_text(run.cron)}')
    if run.status is RunStatus.CANCELLED:
        parts.append(',"output":{}')
    elif run.has_output:
        parts.append(f',"output":{dump_escaped(run.output)}')
    parts.append("}")
    return "".join(parts)


# Strings of these characters (ids, UUIDs) are written as they are, between quotes.
_PLAIN_STRING = re.compile("[0-9A-Za-z_-]*")


def _string_text(text: str) -> str:
    return f'"{text}"' if _PLAIN_STRING.fullmatch(text) else dump_escaped(text)


class Server(CoreServer):
    """The engine's HTTP listener, answering on a bounded pool of ``max_workers`` threads."""

    def __init__(self, address: tuple[str, int], api: Api,
                 max_workers: int = DEFAULT_HTTP_WORKERS, limits: Limits = DEFAULT_LIMITS) -> None:
        self.api = api
        super().__init__(address, self._serve, limits, max_workers, "inngest-api", self._sink,
                         adaptive_linger=True, work_after_answer=True)

    def _serve(self, request: HTTPRequest) -> Response | Takeover:
        path, query = _split_target(request.target)
        return self.api.answer(request.method, path, query, request.headers, request.body)

    def _sink(self, method: str, target: str, headers: Headers) -> BodySink | None:
        if method != "POST" or not target.startswith(realtime.PREFIX):
            return None  # the common case, decided on the selector thread without parsing
        path, query = _split_target(target)
        return self.api.sink(method, path, query, headers)


def _split_target(target: str) -> tuple[str, Query]:
    if target[:1] == "/" and target[:2] != "//" and "?" not in target and "#" not in target:
        return target, Query()  # a plain path: what splitting it would give
    parts = urllib.parse.urlsplit(target)
    return parts.path, parse_query(parts.query)
