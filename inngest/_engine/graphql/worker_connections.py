"""GraphQL ``workerConnections`` and ``workerConnection``: the connect gateway's connection
history (one node per connection and app), as the dev server answers them (measured).

The list keeps the filter's statuses, apps and range of its time field (from ``from``,
before ``until`` or now; a node without that time is left out), sorts by the ``orderBy``
fields and then by connection id, and pages by ``first`` (40 unless 1 to 399). A cursor
names a connection and its sort values: the page after it starts past them, and leaves out
every node of that connection. ``totalCount`` counts what the cursor leaves.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing

from inngest._engine import ulid
from inngest._engine.connect.history import Record, Status
from inngest._engine.graphql.context import engine_of
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.time_scalar import parse_time
from inngest._engine.graphql.typesystem import Field, is_list, is_mapping
from inngest._engine.timeparse import rfc3339

Args = dict[str, object]
PAGE, MOST = 40, 400
_NOT_FOUND = "error retrieving worker connection: sql: no rows in result set"
# The order fields, by their names in cursors, and the time of a node each reads.
_TIMES: dict[str, typing.Callable[[Record], int | None]] = {
    "CONNECTED_AT": lambda record: record.connected_at_ms,
    "LAST_HEARTBEAT_AT": lambda record: record.last_heartbeat_ms,
    # The dev server never stores the time of a disconnect (its write puts it in the last
    # heartbeat's place), so no node has one.
    "DISCONNECTED_AT": lambda record: None,
}

ARGS = {"first": "Int! = 100", "after": "String",
        "orderBy": "[ConnectV1WorkerConnectionsOrderBy!]!",
        "filter": "ConnectV1WorkerConnectionsFilter!"}
ENUMS = {
    "ConnectV1ConnectionStatus": tuple(status.name for status in Status),
    "ConnectV1WorkerConnectionsOrderByField": ("CONNECTED_AT", "LAST_HEARTBEAT_AT",
                                               "DISCONNECTED_AT"),
    "ConnectV1WorkerConnectionsOrderByDirection": ("ASC", "DESC"),
}
INPUTS = {
    "ConnectV1WorkerConnectionsFilter": {
        "from": "Time", "until": "Time",
        "timeField": "ConnectV1WorkerConnectionsOrderByField = CONNECTED_AT",
        "status": "[ConnectV1ConnectionStatus!]", "appIDs": "[UUID!]"},
    "ConnectV1WorkerConnectionsOrderBy": {
        "field": "ConnectV1WorkerConnectionsOrderByField!",
        "direction": "ConnectV1WorkerConnectionsOrderByDirection!"},
}


def worker_connections(parent: object, args: Args, ctx: object) -> dict[str, object]:
    engine = engine_of(ctx)
    flt = args.get("filter")
    assert is_mapping(flt)  # a required input object, validated before
    orders = _orders(args.get("orderBy"))
    cursor_id, cursor_values = _cursor(args.get("after"))
    keep = _filter(flt, engine.clock.now_ms())
    records = _sorted([
        record for record in engine.connections.records()
        if keep(record) and record.connection_id != cursor_id
        and all(_past(record, field, direction, cursor_id, cursor_values[field])
                for field, direction in orders if field in cursor_values)], orders)
    first = args.get("first")
    size = first if isinstance(first, int) and 0 < first < MOST else PAGE
    edges = [{"cursor": _cursor_of(record, orders), "node": record}
             for record in records[:size]]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": len(edges) == size, "hasPreviousPage": False,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "totalCount": len(records),
    }


def worker_connection(parent: object, args: Args, ctx: object) -> Record:
    """A connection's first node; its ``appName`` is empty there (the dev server does not
    read it for this query)."""
    wanted = str(args.get("connectionId")).upper()
    if not ulid.is_ulid(wanted):
        problem = "bad data size" if len(wanted) != 26 else (
            "overflow" if wanted[0] > "7" else "bad data characters")
        raise GraphQLError(f"ulid: {problem} when unmarshaling", path=["connectionId"])
    for record in engine_of(ctx).connections.records():
        if record.connection_id == wanted:
            record.name_listed = False
            return record
    raise GraphQLError(_NOT_FOUND)


def _filter(flt: typing.Mapping[object, object], now_ms: int) -> typing.Callable[[Record], bool]:
    time_of = _TIMES[str(flt.get("timeField") or "CONNECTED_AT")]
    since = _ms(flt.get("from"), "from") if flt.get("from") is not None else 0
    until = _ms(flt.get("until"), "until") if flt.get("until") is not None else 0
    until = until if until > 0 else now_ms
    statuses = {str(name) for name in _list(flt.get("status"))}
    app_ids = {str(app_id) for app_id in _list(flt.get("appIDs"))}

    def keep(record: Record) -> bool:
        moment = time_of(record)
        return moment is not None and since <= moment < until \
            and (not statuses or record.listed_status.name in statuses) \
            and (not app_ids or record.app_id in app_ids)

    return keep


def _orders(order_by: object) -> list[tuple[str, str]]:
    """(field, direction) of each field, in the order first named (the last direction
    named for it wins)."""
    directions: dict[str, str] = {}
    for order in _list(order_by):
        assert is_mapping(order)
        directions[str(order.get("field"))] = str(order.get("direction"))
    return list(directions.items())


def _sort_key(field: str) -> typing.Callable[[Record], tuple[bool, int]]:
    time_of = _TIMES[field]

    def key(record: Record) -> tuple[bool, int]:
        moment = time_of(record)
        return moment is not None, moment or 0  # no time sorts first, as SQL's null

    return key


def _sorted(records: list[Record], orders: list[tuple[str, str]]) -> list[Record]:
    """By the order fields, then by connection id (stable: a connection's apps keep their
    order)."""
    records = sorted(records, key=lambda record: record.connection_id)
    for field, direction in reversed(orders):
        records.sort(key=_sort_key(field), reverse=direction == "DESC")
    return records


def _past(record: Record, field: str, direction: str, cursor_id: str, value: int) -> bool:
    moment = _TIMES[field](record)
    if moment is None:
        return False
    beyond = moment > value if direction == "ASC" else moment < value
    return beyond or (moment == value and record.connection_id > cursor_id)


def _column(field: str) -> str:
    return field.lower()


def _cursor_of(record: Record, orders: list[tuple[str, str]]) -> str:
    """The dev server's cursor: base64 of the connection id and its sort values."""
    values = {_column(field): {"f": _column(field), "v": _TIMES[field](record) or 0}
              for field, _ in orders}
    page = {"id": record.connection_id, "c": dict(sorted(values.items()))}
    return base64.b64encode(json.dumps(page, separators=(",", ":")).encode()).decode()


def _cursor(after: object) -> tuple[str, dict[str, int]]:
    """The connection a cursor names and its sort values by order field; a cursor that
    cannot be read is ignored, as there."""
    if not isinstance(after, str) or not after:
        return "", {}
    try:
        page = json.loads(base64.b64decode(after.encode(), validate=True))
    except (binascii.Error, ValueError, RecursionError):
        return "", {}
    if not isinstance(page, dict):
        return "", {}
    found, cursors = page.get("id"), page.get("c")
    values: dict[str, int] = {}
    for field in _TIMES:
        entry = cursors.get(_column(field)) if isinstance(cursors, dict) else None
        value = entry.get("v") if isinstance(entry, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            values[field] = value
    return (found if isinstance(found, str) else ""), values


def _ms(value: object, name: str) -> int:
    try:
        return round(parse_time(value).timestamp() * 1000)
    except GraphQLError as err:
        raise GraphQLError(err.message, path=["filter", name]) from None


def _list(value: object) -> typing.Sequence[object]:
    return value if is_list(value) else []


def _record(parent: object) -> Record:
    assert isinstance(parent, Record)
    return parent


def _read(read: typing.Callable[[Record], object]) -> typing.Callable[
        [object, Args, object], object]:
    return lambda parent, args, ctx: read(_record(parent))


def _synced(read: typing.Callable[[Record], object]) -> typing.Callable[
        [object, Args, object], object]:
    """A field of the app's sync, which a connection's node has once the connection is
    ready (the dev server writes the node of a new connection before the sync)."""
    return _read(lambda record: None if record.listed_status == Status.CONNECTED
                 else read(record))


def _app(parent: object, args: Args, ctx: object) -> object:
    record = _record(parent)
    if record.listed_status == Status.CONNECTED:
        return None
    return engine_of(ctx).store.app(record.app_id)


def _attribute(name: str) -> typing.Callable[[object, Args, object], object]:
    def read(record: Record) -> object:
        attributes = record.hello.attributes
        return getattr(attributes, name) if attributes is not None else (
            "" if name == "os" else 0)

    return _read(read)


FIELDS = {
    "id": Field("ULID!", _read(lambda record: record.connection_id)),
    "gatewayId": Field("ULID!", lambda parent, args, ctx: engine_of(ctx).connections.gateway_id),
    "instanceId": Field("String!", _read(lambda record: record.hello.instance_id)),
    "workerIp": Field("String!", _read(lambda record: record.worker_ip)),
    "maxWorkerConcurrency": Field(
        "Int64!", _read(lambda record: record.hello.max_worker_concurrency or 0)),
    "appName": Field("String", _read(
        lambda record: record.app_name if record.name_listed else "")),
    "appID": Field("UUID", _synced(lambda record: record.app_id)),
    "app": Field("App", _app),
    "connectedAt": Field("Time!", _read(lambda record: rfc3339(record.connected_at_ms))),
    "lastHeartbeatAt": Field("Time", _read(lambda record: rfc3339(record.last_heartbeat_ms))),
    "disconnectedAt": Field("Time", _read(lambda record: None)),
    "disconnectReason": Field("String", _read(lambda record: record.disconnect_reason)),
    "status": Field("ConnectV1ConnectionStatus!", _read(lambda record: record.listed_status.name)),
    "groupHash": Field("String!", _read(lambda record: record.group_hash)),
    "sdkLang": Field("String!", _read(lambda record: record.hello.sdk_language)),
    "sdkVersion": Field("String!", _read(lambda record: record.hello.sdk_version)),
    "sdkPlatform": Field("String!", _read(lambda record: record.hello.platform or "")),
    "syncId": Field("UUID", _synced(lambda record: record.sync_id), deprecated=True,
                    # The dev server's reason, as its schema words it.
                    deprecation_reason="buildId is deprecated. Use appVersion instead."),
    "buildId": Field("String", _read(lambda record: record.app_version)),
    "appVersion": Field("String", _read(lambda record: record.app_version)),
    "functionCount": Field("Int!", _read(lambda record: record.function_count)),
    "cpuCores": Field("Int!", _attribute("cpu_cores")),
    "memBytes": Field("Int!", _attribute("mem_bytes")),
    "os": Field("String!", _attribute("os")),
}
TYPES = {
    "ConnectV1WorkerConnection": FIELDS,
    "ConnectV1WorkerConnectionsConnection": {
        "edges": Field("[ConnectV1WorkerConnectionEdge!]!"), "pageInfo": Field("PageInfo!"),
        "totalCount": Field("Int!")},
    "ConnectV1WorkerConnectionEdge": {
        "node": Field("ConnectV1WorkerConnection!"), "cursor": Field("String!")},
}
