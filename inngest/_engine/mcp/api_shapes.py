"""REST API v2's answers, for the MCP tools derived from it: bodies, errors, pages, and
apps, functions and runs in its JSON shapes (protobuf's JSON: camelCase, unset fields left
out, keys in order), as measured on the real dev server."""

from __future__ import annotations

import json
import re
import typing

from inngest._engine import ulid
from inngest._engine.graphql.function_config import configuration
from inngest._engine.mcp.tools import Result
from inngest._engine.models import JSON, App, Function, Run
from inngest._engine.payload import load
from inngest._engine.timeparse import rfc3339, rfc3339_seconds

_INTEGER = re.compile(r"[+-]?[0-9]+")
# What Go's strconv.ParseBool takes as true.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
T = typing.TypeVar("T")


class Refusal(Exception):
    """An error status REST API v2 would answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.result = failed(status, code, message)


def body_text(body: JSON) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def answered(body: JSON) -> Result:
    """A REST API v2 answer: its JSON text, and the same value with keys in order."""
    text = body_text(body)
    return Result(text, load(text))


def failed(status: int, code: str, message: str) -> Result:
    body: JSON = {"errors": [{"code": code, "message": message}]}
    return Result(f"REST API v2 returned HTTP {status}: {body_text(body)}", body, is_error=True)


def required(name: str) -> Result:
    """A missing path parameter: the real server's tool refuses it before any request."""
    return Result(f"{name} is required", {"error": f"{name} is required"}, is_error=True)


def proto_json(value: JSON) -> JSON:
    """A value as protobuf's JSON writes it: unset (None), empty and zero fields left out."""
    if isinstance(value, dict):
        kept = {key: proto_json(item) for key, item in value.items()}
        return {key: item for key, item in kept.items()
                if item not in (None, [], {}, 0, "") or isinstance(item, bool)}
    if isinstance(value, list):
        return [proto_json(item) for item in value]
    return value


def go_text(value: JSON) -> str:
    """An argument as the real server puts it in a REST API v2 path or query."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def flag(value: JSON) -> bool:
    return go_text(value) in _TRUE


def limit(value: JSON, default: int, most: int) -> int:
    """A page size; raises ``Refusal`` as REST API v2 refuses one."""
    text = go_text(value)
    if not text:
        return default
    if not _INTEGER.fullmatch(text):
        raise Refusal(400, "api_error", f'parsing field "limit": strconv.ParseInt: parsing '
                                        f'"{text}": invalid syntax')
    number = int(text)
    if number > most:
        raise Refusal(400, "invalid_field_format", f"Limit cannot exceed {most}")
    if number < 0:
        raise Refusal(400, "invalid_field_format", "Limit must be at least 1")
    return number or default


def page(items: list[T], key: typing.Callable[[T], str], size: int, cursor: str,
         descending: bool = False) -> tuple[list[T], dict[str, JSON]]:
    """The page after ``cursor`` (the key of the page before's last item); ``items`` are in
    key order, newest first when ``descending``."""
    if cursor:
        items = [item for item in items if (key(item) < cursor if descending
                                            else key(item) > cursor)]
    if len(items) <= size:
        return items, {"limit": size}
    return items[:size], {"cursor": key(items[size - 1]), "hasMore": True, "limit": size}


def run_id(value: JSON) -> str:
    """A run id argument, checked as REST API v2 checks it."""
    text = go_text(value)
    if not ulid.is_ulid(text):
        raise Refusal(400, "invalid_field_format", "Run ID must be a valid ULID")
    return text.upper()


def local_slug(fn: Function, app_name: str) -> str:
    """A function's id within its app, as REST API v2 names it (the slug without the app's
    name in front)."""
    return fn.slug[len(app_name) + 1:] if fn.slug.startswith(f"{app_name}-") else fn.slug


def app_json(app: App, function_count: int) -> JSON:
    language, _, version = app.sdk.partition(":")
    return proto_json({
        "createdAt": rfc3339_seconds(app.updated_at_ms), "functionCount": function_count,
        "id": app.name, "latestSync": {"framework": app.framework, "sdkLanguage": language,
                                       "sdkVersion": version, "url": app.url},
        "method": "SERVE", "name": app.name,
    })


def function_json(fn: Function, app_name: str) -> JSON:
    slug = local_slug(fn, app_name)
    triggers: list[JSON] = []
    for trigger in fn.triggers:
        if isinstance(trigger.get("event"), str):
            triggers.append({"type": "EVENT", "value": trigger["event"],
                             "if": trigger.get("expression")})
        elif isinstance(trigger.get("cron"), str):
            triggers.append({"type": "CRON", "value": trigger["cron"]})
    return proto_json({"app": {"id": app_name},
                       "configuration": typing.cast(JSON, configuration(fn)), "id": slug,
                       "name": fn.name, "slug": slug, "triggers": triggers})


def run_json(run: Run, fn: Function | None, app: App | None, with_output: bool) -> JSON:
    app_name = app.name if app else ""
    out = typing.cast("dict[str, JSON]", proto_json({
        "app": {"id": app_name},
        "function": {"id": local_slug(fn, app_name) if fn else "",
                     "name": fn.name if fn else ""},
        "id": run.id, "queuedAt": rfc3339(run.created_at_ms),
        "startedAt": rfc3339(run.started_at_ms), "status": run.status.value.upper(),
        "trigger": {"eventIds": list(run.event_ids)},
    }))
    if run.ended_at_ms is not None:
        out["endedAt"] = rfc3339(run.ended_at_ms)
        # An int64, which protobuf's JSON writes as a string.
        out["durationMs"] = str(run.ended_at_ms - (run.started_at_ms or run.created_at_ms))
    if with_output and run.has_output and run.output is not None:
        out["output"] = run.output
    return out
