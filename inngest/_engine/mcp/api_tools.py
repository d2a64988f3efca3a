"""Tools the real server derives from its REST API v2: apps, functions, runs, health.

Their results are what the REST API v2 endpoint answers: the JSON body as text and as
structured content, or, for an error status, ``REST API v2 returned HTTP <status>: <body>``
with ``isError``. This engine has no REST API v2; it answers these tools from its store.
Not offered: ``list_runs``, ``list_function_runs`` and ``get_run_trace``; ``rerun`` from a
step and ``invoke_function`` with an idempotency key are refused. Arguments are taken as
they come (the real server does not check these tools' schemas).
"""

from __future__ import annotations

import uuid

from inngest._engine import events, ulid
from inngest._engine.engine import Engine
from inngest._engine.mcp import api_shapes as shapes, run_tools
from inngest._engine.mcp.tools import Arguments, Handler, Result, Tool
from inngest._engine.models import JSON, App, Function, RunStatus
from inngest._engine.timeparse import rfc3339

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_RUNS_LIMIT = 40
_READ_ONLY: dict[str, JSON] = {"destructiveHint": False, "idempotentHint": True,
                               "openWorldHint": False, "readOnlyHint": True}
_DESTRUCTIVE: dict[str, JSON] = {"destructiveHint": True, "openWorldHint": False}
_STRING: dict[str, JSON] = {"type": "string"}
_CURSOR: dict[str, JSON] = {"description": "The page cursor the page before answered",
                            "type": "string"}
_OUTPUT: dict[str, JSON] = {"description": "Whether to include run outputs",
                            "type": "boolean"}


_FROM_STEP: dict[str, JSON] = {
    "additionalProperties": False,
    "description": "Rerunning from a step is not supported by this engine",
    "properties": {
        "input": {"additionalProperties": False, "description": "The step's new input",
                  "properties": {"values": {"description": "values", "items": {},
                                            "type": "array"}},
                  "required": [], "type": "object"},
        "stepId": {"description": "The step's name", "type": "string"},
    },
    "required": [], "type": "object",
}


def _schema(properties: dict[str, JSON], required: list[str]) -> dict[str, JSON]:
    return {"additionalProperties": False, "properties": properties, "required": required,
            "type": "object"}


def _limit(most: int) -> JSON:
    return {"description": f"Items per page, 1 to {most} (default 20)", "type": "integer"}


def _refusing(handler: Handler) -> Handler:
    """``handler``, answering a ``Refusal`` as its error result."""
    def call(args: Arguments) -> Result:
        try:
            return handler(args)
        except shapes.Refusal as refusal:
            return refusal.result
    return call


def _uuid_cursor(value: JSON) -> str:
    text = shapes.go_text(value)
    try:
        return str(uuid.UUID(text)) if text else ""
    except ValueError:
        raise shapes.Refusal(400, "invalid_field_format", "Cursor is invalid") from None


class ApiTools:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tools(self) -> list[Tool]:
        app_id: JSON = {"description": "The app's ID (its name in the SDK)", "type": "string"}
        run_id: JSON = {"description": "The run's ID", "type": "string"}
        read_only = [
            ("health", "Health", "Reports whether the API is up.", _schema({}, []),
             self.health),
            ("get_apps", "List apps", "Lists the synced apps (none are archived here).",
             _schema({"archived": {"description": "List archived apps instead",
                                   "type": "boolean"},
                      "cursor": _CURSOR, "limit": _limit(MAX_LIMIT)}, []), self.get_apps),
            ("get_app", "Get an app",
             "Answers one app: its last sync (URL, SDK, framework) and how many functions.",
             _schema({"appId": app_id}, ["appId"]), self.get_app),
            ("list_functions", "List an app's functions",
             "Lists the functions of one app with their triggers and configuration.",
             _schema({"appId": app_id, "cursor": _CURSOR, "limit": _limit(MAX_LIMIT)},
                     ["appId"]), self.list_functions),
            ("get_function", "Get a function",
             "Answers one function of an app with its triggers and configuration.",
             _schema({"appId": app_id, "functionId": {
                 "description": "The function's ID in its app", "type": "string"}},
                 ["appId", "functionId"]), self.get_function),
            ("get_run", "Get a run",
             "Answers a run's summary: status, function, trigger and times, and its output "
             "if asked.", _schema({"includeOutput": _OUTPUT, "runId": run_id}, ["runId"]),
             self.get_run),
            ("get_event_runs", "List an event's runs",
             "Lists the runs an event started, newest first.",
             _schema({"cursor": _CURSOR, "eventId": {"description": "The event's ID",
                                                     "type": "string"},
                      "includeOutput": _OUTPUT, "limit": _limit(MAX_RUNS_LIMIT)},
                     ["eventId"]), self.get_event_runs),
        ]
        tools = [Tool(name, title, description, schema, _refusing(handler), dict(_READ_ONLY),
                      validated=False)
                 for name, title, description, schema, handler in read_only]
        changing = [
            ("cancel_run", "Cancel a run", "Cancels a run that has not ended.",
             _schema({"runId": run_id}, ["runId"]), self.cancel_run),
            ("rerun", "Rerun a run",
             "Starts a new run of a run's function with the same triggering events.",
             _schema({"fromStep": _FROM_STEP, "runId": run_id}, ["runId"]), self.rerun),
            ("invoke_function", "Invoke a function",
             "Starts a function of an app with the given data and answers the new run's ID "
             "without waiting for it.",
             _schema({"appId": app_id, "data": {
                 "additionalProperties": True, "description": "The data the function gets",
                 "type": "object"}, "functionId": {
                 "description": "The function's ID in its app", "type": "string"},
                 "idempotencyKey": {"description": "Not supported by this engine",
                                    "type": "string"}}, ["functionId", "appId"]),
             self.invoke_function),
        ]
        tools += [Tool(name, title, description, schema, _refusing(handler), dict(_DESTRUCTIVE),
                       validated=False)
                  for name, title, description, schema, handler in changing]
        return tools

    def _metadata(self) -> JSON:
        return {"fetchedAt": rfc3339(self.engine.clock.now_ms())}

    def _app(self, name: str) -> App | None:
        return next((app for app in self.engine.store.apps() if app.name == name), None)

    def health(self, args: Arguments) -> Result:
        return shapes.answered({"data": {"status": "ok"}, "metadata": self._metadata()})

    # Apps and functions

    def get_apps(self, args: Arguments) -> Result:
        size = shapes.limit(args.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
        cursor = _uuid_cursor(args.get("cursor"))
        store = self.engine.store
        # Apps removed are forgotten, not archived: there are no archived apps to list.
        archived = shapes.flag(args.get("archived"))
        apps = [] if archived else sorted(store.apps(), key=lambda app: app.id)
        listed, page = shapes.page(apps, lambda app: app.id, size, cursor)
        data = [shapes.app_json(app, len(store.functions(app.id))) for app in listed]
        return self._list(data, page)

    def _list(self, data: list[JSON], page: dict[str, JSON]) -> Result:
        body: dict[str, JSON] = {"data": data} if data else {}
        body.update(metadata=self._metadata(), page=page)
        return shapes.answered(body)

    def get_app(self, args: Arguments) -> Result:
        name = shapes.go_text(args.get("appId"))
        if not name.strip():
            return shapes.required("appId")
        app = self._app(name)
        if app is None:
            raise shapes.Refusal(404, "not_found", "App not found")
        data = shapes.app_json(app, len(self.engine.store.functions(app.id)))
        return shapes.answered({"data": data, "metadata": self._metadata()})

    def list_functions(self, args: Arguments) -> Result:
        name = shapes.go_text(args.get("appId"))
        if not name.strip():
            return shapes.required("appId")
        size = shapes.limit(args.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
        cursor = _uuid_cursor(args.get("cursor"))
        app = self._app(name)
        functions = sorted(self.engine.store.functions(app.id), key=lambda fn: fn.id) \
            if app else []
        listed, page = shapes.page(functions, lambda fn: fn.id, size, cursor)
        return self._list([shapes.function_json(fn, name) for fn in listed], page)

    def get_function(self, args: Arguments) -> Result:
        for field in ("appId", "functionId"):
            if not shapes.go_text(args.get(field)).strip():
                return shapes.required(field)
        name, wanted = shapes.go_text(args["appId"]), shapes.go_text(args["functionId"])
        fn = self._function(name, wanted)
        if fn is None:
            raise shapes.Refusal(404, "not_found", "Function not found")
        return shapes.answered({"data": shapes.function_json(fn, name),
                                "metadata": self._metadata()})

    def _function(self, app_name: str, wanted: str) -> Function | None:
        app = self._app(app_name)
        functions = self.engine.store.functions(app.id) if app else []
        return next((fn for fn in functions
                     if wanted in (fn.slug, shapes.local_slug(fn, app_name))), None)

    # Runs

    def _run_json(self, run_id: str, with_output: bool) -> JSON:
        store = self.engine.store
        run = store.run(run_id)
        if run is None:
            raise shapes.Refusal(404, "not_found", "Run not found")
        fn = store.function(run.function_id)
        app = store.app(fn.app_id) if fn else None
        return shapes.run_json(run, fn, app, with_output)

    def get_run(self, args: Arguments) -> Result:
        if not shapes.go_text(args.get("runId")).strip():
            return shapes.required("runId")
        data = self._run_json(shapes.run_id(args["runId"]), shapes.flag(args.get("includeOutput")))
        return shapes.answered({"data": data, "metadata": self._metadata()})

    def get_event_runs(self, args: Arguments) -> Result:
        event_id = shapes.go_text(args.get("eventId"))
        if not event_id.strip():
            return shapes.required("eventId")
        if not ulid.is_ulid(event_id):
            raise shapes.Refusal(400, "invalid_field_format", "Event ID must be a valid ULID")
        size = shapes.limit(args.get("limit"), DEFAULT_LIMIT, MAX_RUNS_LIMIT)
        cursor = shapes.go_text(args.get("cursor"))
        if cursor and not ulid.is_ulid(cursor):
            raise shapes.Refusal(400, "invalid_field_format", "Cursor is invalid")
        runs = sorted(self.engine.store.runs_for_event(event_id.upper()),
                      key=lambda run: run.id, reverse=True)
        listed, page = shapes.page(runs, lambda run: run.id, size, cursor.upper(),
                                   descending=True)
        with_output = shapes.flag(args.get("includeOutput"))
        return self._list([self._run_json(run.id, with_output) for run in listed], page)

    def cancel_run(self, args: Arguments) -> Result:
        if not shapes.go_text(args.get("runId")).strip():
            return shapes.required("runId")
        run_id = shapes.run_id(args["runId"])
        run = self.engine.store.run(run_id)
        if run is None:
            raise shapes.Refusal(404, "not_found", "Run not found")
        if run.status is RunStatus.CANCELLED:
            raise shapes.Refusal(409, "run_already_cancelled", "Run is already cancelled")
        if run.status.ended or self.engine.runner.cancel(run_id) is None:
            raise shapes.Refusal(409, "run_already_ended", "Cannot cancel an ended run")
        return shapes.answered({"data": {"runId": run_id}, "metadata": self._metadata()})

    def rerun(self, args: Arguments) -> Result:
        if not shapes.go_text(args.get("runId")).strip():
            return shapes.required("runId")
        run = self.engine.store.run(shapes.run_id(args["runId"]))
        if run is None:
            raise shapes.Refusal(404, "not_found", "Run not found")
        from_step = args.get("fromStep")
        if from_step is not None:
            if not isinstance(from_step, dict) or not from_step.get("stepId"):
                raise shapes.Refusal(400, "missing_field", "Step ID is required")
            raise shapes.Refusal(400, "invalid_request",
                                 "Rerunning from a step is not supported by this engine")
        rerun = self.engine.runner.rerun(run)
        if rerun is None:
            raise shapes.Refusal(400, "invalid_request",
                                 "The run's function or triggering events are gone")
        return shapes.answered({"data": {"runId": rerun.id}, "metadata": self._metadata()})

    def invoke_function(self, args: Arguments) -> Result:
        for field in ("appId", "functionId"):
            if not shapes.go_text(args.get(field)).strip():
                return shapes.required(field)
        data = args.get("data")
        if data is None:
            raise shapes.Refusal(400, "missing_field", "Input data is required")
        if not isinstance(data, dict):
            raise shapes.Refusal(400, "api_error", "data must be a JSON object")
        if args.get("idempotencyKey"):
            raise shapes.Refusal(400, "invalid_request",
                                 "idempotencyKey is not supported by this engine")
        fn = self._function(shapes.go_text(args["appId"]), shapes.go_text(args["functionId"]))
        if fn is None:
            raise shapes.Refusal(404, "not_found", "Function not found")
        try:
            _, run = run_tools.invoke(self.engine, fn, {"data": data})
        except events.EventError as err:
            raise shapes.Refusal(400, "invalid_request", str(err)) from None
        if run is None:
            raise shapes.Refusal(500, "internal_error",
                                 "There was an error invoking your function")
        return shapes.answered({"data": {"runId": run.id}, "metadata": self._metadata()})
