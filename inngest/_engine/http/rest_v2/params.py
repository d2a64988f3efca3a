"""Query parameters of REST v2 requests, read and refused as the real server's gateway does.

A parameter may be spelled as its proto field (``include_output``) or its JSON name
(``includeOutput``); errors name the proto field. A repeated field (``status``) may be given
many times; any other only once.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing
import uuid

from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.time_scalar import parse_time
from inngest._engine.http.query import values
from inngest._engine.http.rest_v2.envelope import API_ERROR, INVALID_FIELD_FORMAT, V2Error

Query = typing.Mapping[str, str]

_INT32 = 2 ** 31
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
# The times a run list's cursor holds: its runs' start, or their end when listed by end.
START_TIME, END_TIME = "start_time", "end_time"
# A run list's cursor: the last run's id and its times (ms) by field.
RunCursor = typing.Tuple[str, typing.Dict[str, int]]


def json_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def text(query: Query, field: str) -> str | None:
    for name in (field, json_name(field)):
        given = values(query, name)
        if len(given) > 1:
            raise V2Error(400, API_ERROR,
                          f'too many values for field "{field}": {", ".join(given)}')
        if given:
            return given[0]
    return None


def texts(query: Query, field: str) -> list[str]:
    """Every value of a repeated field."""
    return [value for name in dict.fromkeys((field, json_name(field)))
            for value in values(query, name)]


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
    return optional_boolean(query, field) or False


def optional_boolean(query: Query, field: str) -> bool | None:
    """An optional bool field: None when absent."""
    value = text(query, field)
    if value is None:
        return None
    if value in _GO_FALSE:
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
        moment = parse_time(value)  # the gateway's time.Parse, as the Time scalar's
    except GraphQLError as err:
        raise _parse_error(field, err.message) from None
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


def encode_run_cursor(run_id: str, field: str, moment_ms: int) -> str:
    """A run list's cursor, in the real server's format: the last run's id and its time in
    the list's order (``start_time`` or ``end_time``, in microseconds) as base64 JSON."""
    cursor = {"id": run_id, "c": {field: {"f": field, "v": moment_ms * 1000}}}
    return base64.b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def run_cursor(query: Query) -> RunCursor | None:
    """A run list's cursor, checked as the real server checks it; None without one."""
    value = text(query, "cursor")
    if not value:
        return None
    try:
        cursor = json.loads(base64.b64decode(value, validate=True))
        run_id, times = cursor["id"], cursor["c"]
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError):
        raise invalid_cursor() from None
    if not (isinstance(run_id, str) and run_id and isinstance(times, dict) and times
            and all(_cursor_time(entry) for entry in times.values())):
        raise invalid_cursor()
    return run_id, {name: entry["v"] // 1000 for name, entry in times.items()
                    if entry.get("v") is not None}


def position(cursor: RunCursor | None, field: str) -> tuple[int, str] | None:
    """Where a list ordered by ``field`` continues: after this time (ms) and run id; None
    when the cursor has no time of that field (the list starts over, as there)."""
    if cursor is None or field not in cursor[1]:
        return None
    return cursor[1][field], cursor[0]


def _cursor_time(entry: object) -> bool:
    """Whether a cursor's time decodes as the real server's ``{"f": name, "v": micros}``."""
    if not isinstance(entry, dict):
        return False
    name, moment = entry.get("f"), entry.get("v")
    return (name is None or isinstance(name, str)) and (
        moment is None or (isinstance(moment, int) and not isinstance(moment, bool)))
