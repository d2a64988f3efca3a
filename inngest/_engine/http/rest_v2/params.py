"""Query parameters of REST v2 requests, read and refused as the real server's gateway does.

A parameter may be spelled as its proto field (``include_output``) or its JSON name
(``includeOutput``); errors name the proto field.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import typing
import uuid

from inngest._engine.http.rest_v2.envelope import API_ERROR, INVALID_FIELD_FORMAT, V2Error

Query = typing.Mapping[str, str]

_INT32 = 2 ** 31
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_RFC3339 = "2006-01-02T15:04:05.999999999Z07:00"


def json_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def text(query: Query, field: str) -> str | None:
    for name in (field, json_name(field)):
        if name in query:
            return query[name]
    return None


def _parse_error(field: str, detail: str) -> V2Error:
    return V2Error(400, API_ERROR, f'parsing field "{field}": {detail}')


def int32(query: Query, field: str) -> int:
    value = text(query, field)
    if value is None:
        return 0
    digits = value[1:] if value[:1] in "+-" else value
    if not (digits.isascii() and digits.isdigit()):
        raise _parse_error(field, f'strconv.ParseInt: parsing "{value}": invalid syntax')
    number = int(value)
    if not -_INT32 <= number < _INT32:
        raise _parse_error(field, f'strconv.ParseInt: parsing "{value}": value out of range')
    return number


def boolean(query: Query, field: str) -> bool:
    value = text(query, field)
    if value is None or value in _GO_FALSE:
        return False
    if value in _GO_TRUE:
        return True
    raise _parse_error(field, f'strconv.ParseBool: parsing "{value}": invalid syntax')


def timestamp_ms(query: Query, field: str) -> int | None:
    """An RFC 3339 time as epoch milliseconds, or None when absent."""
    value = text(query, field)
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value:
        raise _parse_error(field, f'parsing time "{value}" as "{_RFC3339}"')
    return round(moment.timestamp() * 1000)


def limit(query: Query, default: int, most: int) -> int:
    """The page size: 0 or absent is the default; outside 1..``most`` is refused."""
    size = int32(query, "limit") or default
    if size < 1:
        raise V2Error(400, INVALID_FIELD_FORMAT, "Limit must be at least 1")
    if size > most:
        raise V2Error(400, INVALID_FIELD_FORMAT, f"Limit cannot exceed {most}")
    return size


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def invalid_cursor() -> V2Error:
    return V2Error(400, INVALID_FIELD_FORMAT, "Cursor is invalid")


def encode_run_cursor(run_id: str, started_ms: int) -> str:
    """A run list's cursor, in the real server's format: the last run's id and start time
    (microseconds) as base64 JSON."""
    cursor = {"id": run_id, "c": {"start_time": {"f": "start_time", "v": started_ms * 1000}}}
    return base64.b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def run_cursor(query: Query) -> tuple[int, str] | None:
    """The position (start time in ms, run id) a run list continues after."""
    value = text(query, "cursor")
    if not value:
        return None
    try:
        cursor = json.loads(base64.b64decode(value, validate=True))
        moment = cursor["c"]["start_time"]["v"]
        run_id = cursor["id"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid_cursor() from None
    if not (isinstance(run_id, str) and run_id and isinstance(moment, int)):
        raise invalid_cursor()
    return moment // 1000, run_id
