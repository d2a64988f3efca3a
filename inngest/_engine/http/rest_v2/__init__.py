"""The REST API v2, served under ``/api/v2`` and ``/v2`` as the real dev server does.

Routes follow the real server's ``proto/api/v2/service.proto``; the ones the dev server
answers with data read the engine's store, the cloud-only ones answer the dev server's refusal
(refused.py). Shapes are in shapes.py, parameters in params.py, bodies in body.py.
"""

from __future__ import annotations

import logging
import re
import typing
import urllib.parse

from inngest._engine import defers, events, scores as scores_module, ulid
from inngest._engine.engine import Engine
from inngest._engine.from_step import FromStep, RerunStepError
from inngest._engine.http import routing
from inngest._engine.http.query import Query
from inngest._engine.http.rest_v2 import (
    body as bodies, params, refused, score_body, shapes,
)
from inngest._engine.http.rest_v2.envelope import (
    API_ERROR, FUNCTION_SKIPPED, INTERNAL_ERROR, INVALID_FIELD_FORMAT, INVALID_REQUEST,
    MISSING_FIELD, NOT_FOUND, RUN_ALREADY_CANCELLED,
    RUN_ALREADY_ENDED, VALIDATION_ERROR, Answered, Object, Response, V2Error, encode, proto,
)
from inngest._engine.models import JSON, App, Function, Run, RunStatus
from inngest._engine.runner import DEDUPE_MS

log = logging.getLogger("inngest.engine")

PREFIXES = ("/api/v2", "/v2")
_UNDER_PREFIXES = tuple(prefix + "/" for prefix in PREFIXES)
_APPS_LIMITS = (20, 100)
_RUNS_LIMITS = (20, 100)
_EVENT_RUNS_LIMITS = (20, 40)
_RUN_ID = "Run ID must be a valid ULID"
_UNKNOWN_STEP = "Step not found in original run"
_AMBIGUOUS_STEP = "Step name matches multiple steps in original run"
_RUN_FILTERS = {"QUEUED": RunStatus.QUEUED, "RUNNING": RunStatus.RUNNING,
                "COMPLETED": RunStatus.COMPLETED, "FAILED": RunStatus.FAILED,
                "CANCELLED": RunStatus.CANCELLED}
_TIME_FIELDS = {"": "queued", "QUEUEDAT": "queued", "QUEUED_AT": "queued",
                "STARTEDAT": "started", "STARTED_AT": "started",
                "ENDEDAT": "ended", "ENDED_AT": "ended"}

_FROM_STEP = {"step_id": "string", "input": "list"}

Handler = typing.Callable[..., Object]


def serves(path: str) -> bool:
    return path in PREFIXES or path.startswith(_UNDER_PREFIXES)


class RestV2:
    """Routes ``/api/v2`` and ``/v2`` requests for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._routes = routing.Routes[Handler]([
            ("GET", re.compile(r"/health"), self.health),
            ("GET", re.compile(r"/account"), self.account),
            ("GET", re.compile(r"/envs"), self.envs),
            ("GET", re.compile(r"/keys/(events|signing)"), self.keys),
            ("GET", re.compile(r"/runs"), self.list_runs),
            ("GET", re.compile(r"/runs/(?P<run_id>[^/]+)"), self.get_run),
            ("GET", re.compile(r"/runs/(?P<run_id>[^/]+)/trace"), self.get_trace),
            ("POST", re.compile(r"/runs/(?P<run_id>[^/]+)/cancel"), self.cancel_run),
            ("POST", re.compile(r"/runs/(?P<run_id>[^/]+)/rerun"), self.rerun),
            ("POST", re.compile(r"/runs/(?P<run_id>[^/]+)/scores"), self.create_scores),
            ("GET", re.compile(r"/events/(?P<event_id>[^/]+)/runs"), self.event_runs),
            ("POST", re.compile(r"/events"), self.send_event),
            ("GET", re.compile(r"/apps"), self.list_apps),
            ("GET", re.compile(r"/apps/(?P<app_id>[^/]+)"), self.get_app),
            ("GET", re.compile(r"/apps/(?P<app_id>[^/]+)/functions"), self.list_functions),
            ("GET", re.compile(r"/apps/(?P<app_id>[^/]+)/functions/(?P<function_id>[^/]+)"),
             self.get_function),
            ("POST", re.compile(
                r"/apps/(?P<app_id>[^/]+)/functions/(?P<function_id>[^/]+)/invoke"), self.invoke),
            ("GET", re.compile(
                r"/apps/(?P<app_id>[^/]+)/functions/(?P<function_id>[^/]+)/runs"),
             self.function_runs),
            *((method, re.compile(pattern), refusal)
              for method, pattern, refusal in refused.ROUTES),
        ])

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Response:
        """Answer a request whose path ``serves`` accepts."""
        rest = next(path[len(prefix):] for prefix in PREFIXES
                    if path == prefix or path.startswith(prefix + "/"))
        if not rest:
            return V2Error(400, API_ERROR, "Bad Request").response()
        found = self._routes.find(method, rest)
        if found is True:
            return V2Error(501, API_ERROR, "Method Not Allowed").response()
        if found is False:
            return V2Error(404, API_ERROR, "Not Found").response()
        # The server reads a GET's query string whole (a POST's parameters come in its body).
        if method == "GET" and isinstance(query, Query) and query.error:
            return V2Error(400, API_ERROR, query.error).response()
        args = {key: urllib.parse.unquote(value) for key, value in found.params.items()}
        return self._call(found.handler, {"query": query, "headers": headers, "body": body},
                          args)

    def _call(self, handler: Handler, request: dict[str, object],
              args: dict[str, str]) -> Response:
        try:
            answer = handler(**request, **args)
        except V2Error as err:
            return err.response()
        except Answered as answered:
            return encode(answered.status, answered.body)
        except Exception:
            log.exception("error answering REST v2 %s", handler.__name__)
            return V2Error(500, INTERNAL_ERROR, "Internal error").response()
        return encode(200, answer)

    def _answer(self, data: object, page: Object | None = None) -> Object:
        metadata = {"fetchedAt": shapes.timestamp(self.engine.clock.now_ms())}
        out = proto(data=data, metadata=metadata)
        if page is not None:
            out["page"] = page
        return out

    # Health

    def health(self, **_: object) -> Object:
        return self._answer({"status": "ok"})

    def account(self, **_: object) -> Object:
        return self._answer(refused.ACCOUNT)

    def envs(self, **_: object) -> Object:
        return self._answer(refused.ENVS, {})

    def keys(self, **_: object) -> Object:
        # A dev server has no keys to list.
        return self._answer([], {})

    # Apps and functions

    def _app(self, name: str) -> App:
        found = [app for app in self.engine.store.apps() if app.name == name]
        if not found:
            raise V2Error(404, NOT_FOUND, "App not found")
        return found[0]

    def _app_functions(self, app: App) -> list[Function]:
        return sorted(self.engine.store.functions(app.id), key=lambda fn: fn.id)

    def list_apps(self, query: dict[str, str], **_: object) -> Object:
        size = params.limit(query, *_APPS_LIMITS)
        store = self.engine.store
        listed = store.archived_apps() if params.boolean(query, "archived") else store.apps()
        apps = sorted(listed, key=lambda app: app.id)
        start = _after_id(query, [app.id for app in apps])
        shown = apps[start:start + size]
        data = [shapes.app_json(app, len(self._app_functions(app))) for app in shown]
        return self._answer(data, _page(size, [app.id for app in shown], start + size < len(apps)))

    def get_app(self, app_id: str, **_: object) -> Object:
        app = self._app(app_id)
        return self._answer(shapes.app_json(app, len(self._app_functions(app))))

    def list_functions(self, app_id: str, query: dict[str, str], **_: object) -> Object:
        size = params.limit(query, *_APPS_LIMITS)
        found = [app for app in self.engine.store.apps() if app.name == app_id]
        functions = self._app_functions(found[0]) if found else []
        start = _after_id(query, [fn.id for fn in functions])
        shown = functions[start:start + size]
        data = [shapes.function_json(fn, found[0]) for fn in shown]
        return self._answer(data, _page(size, [fn.id for fn in shown],
                                        start + size < len(functions)))

    def _function(self, app_id: str, function_id: str) -> tuple[Function, App]:
        found = [app for app in self.engine.store.apps() if app.name == app_id]
        for fn in self._app_functions(found[0]) if found else []:
            if function_id in (fn.slug, shapes.public_function_id(fn, found[0])):
                return fn, found[0]
        raise V2Error(404, NOT_FOUND, "Function not found")

    def get_function(self, app_id: str, function_id: str, **_: object) -> Object:
        return self._answer(shapes.function_json(*self._function(app_id, function_id)))

    # Runs

    def _run_json(self, run: Run, output: bool, listed: bool = False) -> Object:
        fn = self.engine.store.function(run.function_id)
        app = self.engine.store.app(fn.app_id) if fn else None
        return shapes.run_json(run, fn, app, output=output, listed=listed)

    def _stored_run(self, run_id: str, *, skipped: bool = True) -> Run:
        """The run; a skipped one only with ``skipped`` (measured: cancelling or rerunning
        one finds no run)."""
        if not ulid.is_ulid(run_id):
            raise V2Error(400, INVALID_FIELD_FORMAT, _RUN_ID)
        run = self.engine.store.run(run_id.upper())
        if run is None or (not skipped and run.status is RunStatus.SKIPPED):
            raise V2Error(404, NOT_FOUND, "Run not found")
        return run

    def get_run(self, run_id: str, query: dict[str, str], **_: object) -> Object:
        output = params.boolean(query, "include_output")
        run = self._stored_run(run_id)
        if self.engine.store.function(run.function_id) is None:
            raise V2Error(404, NOT_FOUND, "Function not found")
        return self._answer(self._run_json(run, output))

    def get_trace(self, run_id: str, query: dict[str, str], **_: object) -> Object:
        outputs = params.boolean(query, "include_output")
        if not ulid.is_ulid(run_id):
            raise V2Error(400, INVALID_FIELD_FORMAT, _RUN_ID)
        run = self.engine.store.run(run_id.upper())
        if run is None:
            raise V2Error(404, NOT_FOUND, "Trace not found")
        return self._answer(shapes.trace_json(run, self.engine.store, outputs=outputs))

    def cancel_run(self, run_id: str, body: bytes, **_: object) -> Object:
        bodies.read(body, {"run_id": "string"})
        run = self._stored_run(run_id, skipped=False)
        if run.status is RunStatus.CANCELLED:
            raise V2Error(409, RUN_ALREADY_CANCELLED, "Run is already cancelled")
        if run.status.ended or self.engine.runner.cancel(run.id) is None:
            raise V2Error(409, RUN_ALREADY_ENDED, "Cannot cancel an ended run")
        return self._answer({"runId": run.id})

    def rerun(self, run_id: str, body: bytes, **_: object) -> Object:
        request = bodies.read(body, {"run_id": "string", "from_step": _FROM_STEP})
        if not ulid.is_ulid(run_id):
            raise V2Error(400, INVALID_FIELD_FORMAT, _RUN_ID)
        start = _from_step(request.get("from_step"))
        run = self._stored_run(run_id, skipped=False)
        try:
            started = self.engine.runner.rerun(run, start)
        except RerunStepError as err:
            raise V2Error(400, INVALID_REQUEST,
                          _AMBIGUOUS_STEP if err.ambiguous else _UNKNOWN_STEP) from None
        if started is None:
            raise V2Error(500, INTERNAL_ERROR, "Unable to rerun run")
        return self._answer({"runId": started.id})

    def create_scores(self, run_id: str, body: bytes, **_: object) -> Object:
        items = score_body.decode(body)
        if not ulid.is_ulid(run_id):
            raise V2Error(400, INVALID_FIELD_FORMAT, _RUN_ID)
        run_id = run_id.upper()
        scores = score_body.check(items)
        if self.engine.store.run(run_id) is not None:  # as there, other runs' are lost
            scores_module.record(self.engine.store, run_id, scores, self.engine.clock.now_ms())
        return self._answer([score_body.score_json(run_id, score) for score in scores])

    def event_runs(self, event_id: str, query: dict[str, str], **_: object) -> Object:
        if not ulid.is_ulid(event_id):
            raise V2Error(400, INVALID_FIELD_FORMAT, "Event ID must be a valid ULID")
        size = params.limit(query, *_EVENT_RUNS_LIMITS)
        after = params.position(params.run_cursor(query), params.START_TIME)
        output = params.boolean(query, "include_output")
        runs = self.engine.store.runs_for_event(event_id.upper())
        return self._run_page(runs, size, after, output, descending=True, time_field="queued")

    def list_runs(self, query: dict[str, str], **_: object) -> Object:
        app_ids, function_ids = params.texts(query, "app_id"), params.texts(query, "function_id")
        if function_ids and not app_ids:
            raise V2Error(400, INVALID_FIELD_FORMAT,
                          "appId is required when filtering by functionId")
        return self._filtered_runs(query, app_ids or None, function_ids or None)

    def function_runs(self, app_id: str, function_id: str, query: dict[str, str],
                      **_: object) -> Object:
        return self._filtered_runs(query, [app_id], [function_id])

    def _filtered_runs(self, query: dict[str, str], app_ids: list[str] | None,
                       function_ids: list[str] | None) -> Object:
        output = params.boolean(query, "include_output")
        deferred = params.optional_boolean(query, "is_deferred")
        size = params.limit(query, *_RUNS_LIMITS)
        cursor = params.run_cursor(query)
        span = [params.timestamp_ms(query, field) for field in ("from", "until")]
        if span[0] is not None and span[1] is not None and span[0] >= span[1]:
            raise V2Error(400, INVALID_FIELD_FORMAT, "from must be before until")
        statuses = {_run_status(value) for value in params.texts(query, "status")}
        time_field = _TIME_FIELDS.get((params.text(query, "time_field") or "").strip().upper())
        if time_field is None:
            raise V2Error(400, INVALID_FIELD_FORMAT, "timeField is invalid")
        order = (params.text(query, "order") or "").strip().upper()
        if order not in ("", "DESC", "ASC"):
            raise V2Error(400, INVALID_FIELD_FORMAT, "order is invalid")
        after = params.position(cursor, _cursor_field(time_field))
        store = self.engine.store
        runs = [run for run in store.runs() if (not statuses or run.status in statuses)
                and (deferred is None or defers.started_by_defer(store, run) == deferred)
                and self._run_in(run, app_ids, function_ids)
                and _within(run, time_field, span[0], span[1])]
        metadata_range = None if None in span else {
            "from": shapes.timestamp(typing.cast(int, span[0])),
            "until": shapes.timestamp(typing.cast(int, span[1]))}
        page = self._run_page(runs, size, after, output, descending=order != "ASC",
                              time_field=time_field)
        if metadata_range is not None:
            typing.cast(Object, page["metadata"])["timeRange"] = metadata_range
        return page

    def _run_in(self, run: Run, app_ids: list[str] | None,
                function_ids: list[str] | None) -> bool:
        """Whether the run's app and function are among those asked for (None: any); as
        there, a function is named by its id without the app's prefix."""
        if app_ids is None:
            return True
        fn = self.engine.store.function(run.function_id)
        app = self.engine.store.app(fn.app_id) if fn else None
        if fn is None or app is None or app.name not in app_ids:
            return False
        return function_ids is None or shapes.public_function_id(fn, app) in function_ids

    def _run_page(self, runs: list[Run], size: int, after: tuple[int, str] | None,
                  output: bool, *, descending: bool, time_field: str) -> Object:
        def position(run: Run) -> tuple[int, str]:
            return _run_position(run, time_field)

        ordered = sorted(runs, key=position, reverse=descending)
        if after is not None:
            ordered = [run for run in ordered
                       if (position(run) < after) == descending and position(run) != after]
        shown = ordered[:size]
        page = proto(limit=size, hasMore=len(ordered) > size)
        if len(ordered) > size:
            last = shown[-1]
            page["cursor"] = params.encode_run_cursor(
                last.id, _cursor_field(time_field), position(last)[0])
        return self._answer([self._run_json(run, output, listed=True) for run in shown], page)

    # Events and invocations

    def send_event(self, body: bytes, **_: object) -> Object:
        request = bodies.read(body, {"name": "string", "data": "struct", "user": "struct",
                                     "id": "string", "ts": "int64"})
        if not request.get("name"):
            raise V2Error(400, MISSING_FIELD, "Event name is required")
        now = self.engine.clock.now_ms()
        internal_id = self.engine.ids.new(now)
        raw = {"data": {}, **request}
        try:
            event = events.normalize(raw, now, internal_id, body_bytes=len(body))
        except events.EventError as err:
            reserved = str(request["name"]).lower().startswith(events.RESERVED_PREFIX)
            raise V2Error(400, INVALID_FIELD_FORMAT if reserved else VALIDATION_ERROR,
                          str(err)) from None
        self.engine.runner.ingest(event, internal_id)
        return self._answer({"eventId": internal_id})

    def invoke(self, app_id: str, function_id: str, body: bytes, **_: object) -> Object:
        request = bodies.read(body, {"function_id": "string", "data": "struct",
                                     "idempotency_key": "string", "app_id": "string"})
        if "data" not in request:
            raise V2Error(400, MISSING_FIELD, "Input data is required")
        fn, _app = self._function(app_id, function_id)
        data: dict[str, JSON] = {**typing.cast(typing.Mapping[str, JSON], request["data"]),
                                 events.INTERNAL_DATA_KEY: events.invocation_metadata(
                                     fn.id, type="api")}
        key = request.get("idempotency_key")
        store, now = self.engine.store, self.engine.clock.now_ms()
        # One transaction: two invokes with one key cannot both start a run.
        with store.transaction():
            earlier = None if key is None else store.invoke_key_run(fn.id, str(key), now)
            if earlier is None:
                [event_id] = self.engine.runner.publish([{"name": events.FUNCTION_INVOKED,
                                                          "data": data}])
                runs = store.runs_for_event(event_id)
                if runs and key is not None:
                    store.keep_invoke_key(fn.id, str(key), runs[0].id, now + DEDUPE_MS)
        if earlier is not None:
            raise Answered(409, self._answer({"runId": earlier}))
        if not runs:
            raise V2Error(422, FUNCTION_SKIPPED, "Function invocation was skipped because the "
                          "function is paused or draining.")
        return self._answer({"runId": runs[0].id})


def _from_step(value: JSON) -> FromStep | None:
    if value is None:
        return None
    fields = typing.cast(typing.Mapping[str, JSON], value)
    step_id = fields.get("step_id")
    if not step_id:
        raise V2Error(400, MISSING_FIELD, "Step ID is required")
    step_input = fields.get("input")
    return FromStep(str(step_id), step_input if isinstance(step_input, list) else None)


def _run_status(value: str) -> RunStatus:
    status = _RUN_FILTERS.get(value.strip().upper())
    if status is None:
        raise V2Error(400, INVALID_FIELD_FORMAT, "Status is invalid")
    return status


def _cursor_field(time_field: str) -> str:
    return params.END_TIME if time_field == "ended" else params.START_TIME


def _run_position(run: Run, time_field: str) -> tuple[int, str]:
    """Where a run sorts in a list by ``time_field``: by its end when listed by end (until it
    ends, its start), else by its start (until it starts, its queueing)."""
    started = run.started_at_ms if run.started_at_ms is not None else run.created_at_ms
    if time_field == "ended" and run.ended_at_ms is not None:
        return run.ended_at_ms, run.id
    return started, run.id


def _within(run: Run, field: str, start: int | None, until: int | None) -> bool:
    moment = {"queued": ulid.timestamp_ms(run.id), "started": run.started_at_ms,
              "ended": run.ended_at_ms}[field]
    if start is None and until is None:
        return True
    if moment is None:
        return False
    return (start is None or moment >= start) and (until is None or moment < until)


def _after_id(query: typing.Mapping[str, str], ids: list[str]) -> int:
    """Where a page of apps or functions (listed by internal id) starts after ``cursor``."""
    cursor = params.text(query, "cursor")
    if not cursor:
        return 0
    if not params.is_uuid(cursor):
        raise params.invalid_cursor()
    return sum(1 for known in ids if known <= cursor.lower())


def _page(size: int, ids: list[str], has_more: bool) -> Object:
    page = proto(limit=size, hasMore=has_more)
    if has_more and ids:
        page["cursor"] = ids[-1]
    return page
