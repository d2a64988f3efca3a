"""The tools the real server derives from its REST API v2, answered by the engine's REST API v2.

As there, a tool's arguments become one REST API v2 request (path parameters in the path;
the other arguments in the body of a POST, else in the query), and its result is the answer:
the JSON body as text and as structured content, or, for an error status,
``REST API v2 returned HTTP <status>: <body>`` with ``isError``. A missing path parameter is
refused before any request (``<name> is required``). These tools' schemas are not checked
(the real server does not check them either): the REST API v2 checks the request.
"""

from __future__ import annotations

import dataclasses
import re
import typing
import urllib.parse

from inngest._engine.cel.gofmt import go_value
from inngest._engine.http.query import Query
from inngest._engine.mcp.tools import Arguments, Result, Tool
from inngest._engine.models import JSON
from inngest._engine.payload import dump, dump_with_raw, load

Response = tuple[int, dict[str, str], bytes]
# The engine's REST API v2: (method, path, query, headers, body) in, its response out.
RestV2 = typing.Callable[[str, str, dict[str, str], dict[str, str], bytes], Response]
BASE_PATH = "/api/v2"
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_READ_ONLY: dict[str, JSON] = {"destructiveHint": False, "idempotentHint": True,
                               "openWorldHint": False, "readOnlyHint": True}
_DESTRUCTIVE: dict[str, JSON] = {"destructiveHint": True, "openWorldHint": False}


def _field(kind: str, description: str, **extra: JSON) -> JSON:
    return {"description": description, **extra, "type": kind}


_APP_ID = _field("string", "The app's ID (the app ID its SDK client has)")
_FUNCTION_ID = _field("string", "The function's ID within its app")
_RUN_ID = _field("string", "The run's ID")
_CURSOR = _field("string", "The cursor the page before answered")
_OUTPUT = _field("boolean", "Whether to include outputs")
_STRINGS: JSON = {"type": "string"}
_RUN_FILTERS: dict[str, JSON] = {
    "cursor": _CURSOR,
    "from": _field("string", "Runs from this time on", format="date-time"),
    "includeOutput": _OUTPUT,
    "isDeferred": _field("boolean", "Only deferred runs (true) or only others (false)"),
    "limit": _field("integer", "Runs per page, 1 to 100"),
    "order": _field("string", "ASC or DESC"),
    "status": _field("array", "Statuses to include: COMPLETED, FAILED, RUNNING, QUEUED, "
                              "CANCELLED", items=_STRINGS),
    "timeField": _field("string", "The time that from, until and order use: queuedAt "
                                  "(default), startedAt or endedAt"),
    "until": _field("string", "Runs up to this time", format="date-time"),
}


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One REST API v2 route as a tool; ``path`` names its parameters by argument name."""

    name: str
    title: str
    description: str
    method: str
    path: str
    properties: dict[str, JSON]
    required: tuple[str, ...] = ()

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    def schema(self) -> dict[str, JSON]:
        return {"additionalProperties": False, "properties": dict(sorted(
            self.properties.items())), "required": list(self.required), "type": "object"}


ENDPOINTS = (
    Endpoint("health", "Health", "Reports whether the API is up.", "GET", "/health", {}),
    Endpoint("get_apps", "List apps", "Lists the synced apps.", "GET", "/apps", {
        "archived": _field("boolean", "List archived apps instead (there are none here)"),
        "cursor": _CURSOR, "limit": _field("integer", "Apps per page, 1 to 100")}),
    Endpoint("get_app", "Get an app",
             "Answers one app: its last sync (URL, SDK, framework) and how many functions.",
             "GET", "/apps/{appId}", {"appId": _APP_ID}, ("appId",)),
    Endpoint("list_functions", "List an app's functions",
             "Lists the functions of one app with their triggers and configuration.", "GET",
             "/apps/{appId}/functions", {"appId": _APP_ID, "cursor": _CURSOR,
                                         "limit": _field("integer", "Functions per page, 1 to "
                                                                    "100")}, ("appId",)),
    Endpoint("get_function", "Get a function",
             "Answers one function of an app with its triggers and configuration.", "GET",
             "/apps/{appId}/functions/{functionId}",
             {"appId": _APP_ID, "functionId": _FUNCTION_ID}, ("appId", "functionId")),
    Endpoint("invoke_function", "Invoke a function",
             "Starts a function of an app with the given data and answers the new run's ID "
             "at once.", "POST", "/apps/{appId}/functions/{functionId}/invoke", {
                 "appId": _APP_ID,
                 "data": _field("object", "The data the function gets",
                                additionalProperties=True),
                 "functionId": _FUNCTION_ID,
                 "idempotencyKey": _field("string", "A key that makes requests repeated "
                                                    "within a day start one run"),
             }, ("functionId", "appId")),
    Endpoint("get_run", "Get a run",
             "Answers a run's summary: status, function, trigger and times, and its output if "
             "asked.", "GET", "/runs/{runId}", {"includeOutput": _OUTPUT, "runId": _RUN_ID},
             ("runId",)),
    Endpoint("get_run_trace", "Get a run's trace",
             "Answers a run's trace: a tree of spans for the run, its steps and their attempts.",
             "GET", "/runs/{runId}/trace", {"includeOutput": _OUTPUT, "runId": _RUN_ID},
             ("runId",)),
    Endpoint("list_runs", "List runs",
             "Lists runs, newest first unless asked otherwise, optionally of some apps and "
             "functions.", "GET", "/runs", {
                 **_RUN_FILTERS,
                 "appId": _field("array", "The apps whose runs to list", items=_STRINGS),
                 "functionId": _field("array", "The functions whose runs to list",
                                      items=_STRINGS)}),
    Endpoint("list_function_runs", "List a function's runs", "Lists the runs of one function.",
             "GET", "/apps/{appId}/functions/{functionId}/runs",
             {**_RUN_FILTERS, "appId": _APP_ID, "functionId": _FUNCTION_ID},
             ("appId", "functionId")),
    Endpoint("get_event_runs", "List an event's runs", "Lists the runs an event started.",
             "GET", "/events/{eventId}/runs", {
                 "cursor": _CURSOR, "eventId": _field("string", "The event's ID"),
                 "includeOutput": _OUTPUT, "limit": _field("integer", "Runs per page, 1 to 40")},
             ("eventId",)),
    Endpoint("cancel_run", "Cancel a run", "Cancels a run that has not ended.", "POST",
             "/runs/{runId}/cancel", {"runId": _RUN_ID}, ("runId",)),
    Endpoint("rerun", "Rerun a run",
             "Starts a new run of a run's function with the same triggering events.", "POST",
             "/runs/{runId}/rerun", {
                 "fromStep": {
                     "additionalProperties": False,
                     "description": "Rerun from this step: the steps before it keep "
                                    "their results",
                     "properties": {
                         "input": {"additionalProperties": False,
                                   "description": "The step's new input",
                                   "properties": {"values": _field("array", "values", items={})},
                                   "required": [], "type": "object"},
                         "stepId": _field("string", "The step's name"),
                     },
                     "required": [], "type": "object"},
                 "runId": _RUN_ID}, ("runId",)),
)


def _go_text(value: JSON) -> str:
    """An argument as the real server writes it into a path or a query: Go's ``fmt.Sprint``
    of the JSON decoded with each number kept as its text (``null`` is ``<nil>``, an object
    ``map[a:1]``)."""
    return go_value(value, dump)


class ApiTools:
    def __init__(self, rest_v2: RestV2) -> None:
        self.rest_v2 = rest_v2

    def tools(self) -> list[Tool]:
        return [Tool(endpoint.name, endpoint.title, endpoint.description, endpoint.schema(),
                     self._handler(endpoint),
                     dict(_READ_ONLY if endpoint.method == "GET" else _DESTRUCTIVE),
                     validated=False)
                for endpoint in ENDPOINTS]

    def _handler(self, endpoint: Endpoint) -> typing.Callable[[Arguments], Result]:
        return lambda args: self.call(endpoint, args)

    def call(self, endpoint: Endpoint, args: Arguments) -> Result:
        path = endpoint.path
        for name in endpoint.path_params:
            value = args.get(name)
            if name not in args or not _go_text(value).strip():
                return Result(f"{name} is required", {"error": f"{name} is required"},
                              is_error=True)
            path = path.replace(f"{{{name}}}", urllib.parse.quote(_go_text(value), safe=""))
        fields = {name: value for name, value in args.items()
                  if name not in endpoint.path_params}
        headers = {"accept": "application/json"}
        body, query = b"", Query()
        if endpoint.method == "POST":
            body = dump_with_raw(fields).encode("utf-8")
            headers["content-type"] = "application/json"
        else:
            query = _query(fields)
        status, _, payload = self.rest_v2(endpoint.method, BASE_PATH + path, query, headers,
                                          body)
        return _result(status, payload)


def _query(fields: Arguments) -> Query:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if isinstance(value, list):  # sent as the parameter repeated
            pairs += [(name, _go_text(item)) for item in value]
        else:
            pairs.append((name, _go_text(value)))
    return Query(pairs)


def _result(status: int, payload: bytes) -> Result:
    text = payload.decode("utf-8", "replace") or "{}"
    try:
        structured = load(text)
    except ValueError:
        structured = {"text": text}
    if status >= 400:
        return Result(f"REST API v2 returned HTTP {status}: {text.strip()}", structured,
                      is_error=True)
    return Result(text, structured)
