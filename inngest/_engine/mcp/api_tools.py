"""Tools the real server derives from its REST API v2: ``list_functions`` and ``health``.

Their results are what the REST API v2 endpoint answers: the JSON body as text and as
structured content, or, for an error status, ``REST API v2 returned HTTP <status>: <body>``
with ``isError``. This engine has no REST API v2; it answers these tools from its store.
The real server's other REST API v2 tools (apps, runs, traces, cancel, rerun, invoke) are
not offered.
"""

from __future__ import annotations

import json
import re
import typing
import uuid

from inngest._engine.engine import Engine
from inngest._engine.graphql.function_config import configuration
from inngest._engine.mcp.tools import Arguments, Result, Tool
from inngest._engine.models import JSON, Function
from inngest._engine.payload import load
from inngest._engine.timeparse import rfc3339

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_INTEGER = re.compile(r"[+-]?[0-9]+")
_READ_ONLY: dict[str, JSON] = {"destructiveHint": False, "idempotentHint": True,
                               "openWorldHint": False, "readOnlyHint": True}


def _schema(properties: dict[str, JSON], required: list[str]) -> dict[str, JSON]:
    return {"additionalProperties": False, "properties": properties, "required": required,
            "type": "object"}


def _body_text(body: JSON) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _answered(body: JSON) -> Result:
    """A REST API v2 answer: its JSON text, and the same value with keys in order."""
    text = _body_text(body)
    return Result(text, load(text))


def _failed(status: int, code: str, message: str) -> Result:
    body: JSON = {"errors": [{"code": code, "message": message}]}
    return Result(f"REST API v2 returned HTTP {status}: {_body_text(body)}", body, is_error=True)


def _proto_json(value: JSON) -> JSON:
    """A value as protobuf's JSON writes it: unset (None), empty and zero fields left out."""
    if isinstance(value, dict):
        kept = {key: _proto_json(item) for key, item in value.items()}
        return {key: item for key, item in kept.items()
                if item not in (None, [], {}, 0, "") or isinstance(item, bool)}
    if isinstance(value, list):
        return [_proto_json(item) for item in value]
    return value


class ApiTools:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tools(self) -> list[Tool]:
        string: dict[str, JSON] = {"type": "string"}
        return [
            Tool("health", "Health", "Reports whether the API is up.", _schema({}, []),
                 self.health, dict(_READ_ONLY), validated=False),
            Tool("list_functions", "List an app's functions",
                 "Lists the functions of one app with their triggers and configuration.",
                 _schema({
                     "appId": {**string, "description": "The app's ID (its name)"},
                     "cursor": {**string, "description": "The cursor of the page before"},
                     "limit": {"description": "Functions per page, 1 to 100 (default 20)",
                               "type": "integer"},
                 }, ["appId"]), self.list_functions, dict(_READ_ONLY), validated=False),
        ]

    def _metadata(self) -> JSON:
        return {"fetchedAt": rfc3339(self.engine.clock.now_ms())}

    def health(self, args: Arguments) -> Result:
        return _answered({"data": {"status": "ok"}, "metadata": self._metadata()})

    def list_functions(self, args: Arguments) -> Result:
        app_name = _go_text(args.get("appId"))
        if not app_name.strip():
            return Result("appId is required", {"error": "appId is required"}, is_error=True)
        limit = _limit(args.get("limit"))
        if isinstance(limit, Result):
            return limit
        cursor = args.get("cursor")
        if cursor not in (None, "") and not _is_uuid(cursor):
            return _failed(400, "invalid_field_format", "Cursor is invalid")
        store = self.engine.store
        app = next((app for app in store.apps() if app.name == app_name), None)
        functions = sorted(store.functions(app.id), key=lambda fn: fn.id) if app else []
        if cursor:
            functions = [fn for fn in functions if fn.id > str(cursor)]
        page: dict[str, JSON] = {"limit": limit}
        if len(functions) > limit:
            functions = functions[:limit]
            page = {"cursor": functions[-1].id, "hasMore": True, "limit": limit}
        body: dict[str, JSON] = {}
        if functions:
            body["data"] = [_function(fn, app_name) for fn in functions]
        body.update(metadata=self._metadata(), page=page)
        return _answered(body)


def _go_text(value: JSON) -> str:
    """An argument as the real server puts it in a REST API v2 path or query."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _limit(value: JSON) -> int | Result:
    text = _go_text(value)
    if not text:
        return DEFAULT_LIMIT
    if not _INTEGER.fullmatch(text):
        return _failed(400, "api_error",
                       f'parsing field "limit": strconv.ParseInt: parsing "{text}": '
                       "invalid syntax")
    limit = int(text)
    if limit > MAX_LIMIT:
        return _failed(400, "invalid_field_format", f"Limit cannot exceed {MAX_LIMIT}")
    if limit < 0:
        return _failed(400, "invalid_field_format", "Limit must be at least 1")
    return limit or DEFAULT_LIMIT


def _is_uuid(value: JSON) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _function(fn: Function, app_name: str) -> JSON:
    slug = fn.slug[len(app_name) + 1:] if fn.slug.startswith(f"{app_name}-") else fn.slug
    triggers: list[JSON] = []
    for trigger in fn.triggers:
        if isinstance(trigger.get("event"), str):
            triggers.append({"type": "EVENT", "value": trigger["event"],
                             "if": trigger.get("expression")})
        elif isinstance(trigger.get("cron"), str):
            triggers.append({"type": "CRON", "value": trigger["cron"]})
    return _proto_json({"app": {"id": app_name},
                        "configuration": typing.cast(JSON, configuration(fn)), "id": slug,
                        "name": fn.name, "slug": slug, "triggers": triggers})
