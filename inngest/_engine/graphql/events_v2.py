"""GraphQL ``eventsV2``, the console's list of events, and its ``EventV2`` node, as the real
server answers them (measured): newest first, pages of ``first`` (40 unless 1 to 51) after
a cursor naming the last event seen, the filter's names and received-time range, the
engine's own ``inngest/`` events only when asked. Its CEL ``query`` is accepted and not
applied, as there.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import typing

from inngest._engine.graphql.context import engine_of
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.time_scalar import parse_time
from inngest._engine.graphql.typesystem import Field, is_list, is_mapping
from inngest._engine.models import Run, StoredEvent
from inngest._engine.payload import dump_escaped
from inngest._engine.store import EventFilter
from inngest._engine.timeparse import rfc3339

Args = dict[str, object]

PAGE, MOST = 40, 51  # the real server's default page and its largest (cqrs.MaxEvents)
ENV_ID = "00000000-0000-0000-0000-000000000000"
ARGS = {"first": "Int! = 40", "after": "String", "filter": "EventsFilter!"}
FILTER = {"eventNames": "[String!]", "from": "Time!",
          "includeInternalEvents": "Boolean! = false", "query": "String", "until": "Time"}
_CURSOR_TYPE = "resolvers.EventsV2ConnectionCursor"
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "bool"}


def events_v2(parent: object, args: Args, ctx: object) -> dict[str, object]:
    engine = engine_of(ctx)
    flt = args.get("filter")
    assert is_mapping(flt)  # a required input object, validated before
    first, after = args.get("first"), args.get("after")
    names = flt.get("eventNames")
    which = EventFilter(
        names=[str(name) for name in names] if is_list(names) else [],
        internal=flt.get("includeInternalEvents") is True,
        received_after_ms=_ms(flt.get("from"), "from"),
        received_before_ms=(engine.clock.now_ms() if flt.get("until") is None
                            else _ms(flt.get("until"), "until")))
    paged = dataclasses.replace(which, before_id=_cursor_id(after))
    size = first if isinstance(first, int) and 0 < first <= MOST else PAGE
    edges = [{"cursor": cursor(event.internal_id), "node": event}
             for event in engine.store.recent_events(size, paged)]
    return {
        "edges": edges,
        "pageInfo": {
            # The real server's test: a last page of exactly `first` events has a next one.
            "hasNextPage": len(edges) == first, "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "totalCount": engine.store.count_events(which),
    }


def _ms(value: object, name: str) -> int:
    try:
        return round(parse_time(value).timestamp() * 1000)
    except GraphQLError as err:
        raise GraphQLError(err.message, path=["filter", name]) from None


def cursor(event_id: str) -> str:
    """The real server's cursor: base64 of ``{"ID": id}``."""
    return base64.b64encode(json.dumps({"ID": event_id}, separators=(",", ":")).encode()).decode()


def _cursor_id(after: object) -> str | None:
    """The id a cursor names, or None for no cursor (null, empty, or no ``ID``)."""
    if not isinstance(after, str) or not after:
        return None
    try:
        if len(after) % 4:
            raise binascii.Error("not whole quanta")
        text = base64.b64decode(after.encode(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise GraphQLError("error decoding eventsv2 cursor: illegal base64 data at input byte "
                           f"{_bad_base64_at(after)}") from None
    event_id = _decoded_id(text)
    # The real server's ULID parse checks the size and the first digit, not the others.
    if event_id and (len(event_id) != 26 or event_id[0] > "7"):
        problem = "bad data size" if len(event_id) != 26 else "overflow"
        raise GraphQLError(f"error parsing eventsv2 cursor: ulid: {problem} when unmarshaling")
    return event_id.upper() or None


def _bad_base64_at(text: str) -> int:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    bad = [index for index, char in enumerate(text) if char not in alphabet]
    if bad:
        return bad[0]
    return len(text) - len(text) % 4 if len(text) % 4 else text.index("=")


def _decoded_id(text: str) -> str:
    """The cursor's ``ID`` (Go matches the key in any case); errors in Go's words."""
    try:
        decoded = json.loads(text)
    except ValueError as err:
        raise GraphQLError(f"error decoding eventsv2 cursor: {err}") from None
    if decoded is None:
        return ""
    if not isinstance(decoded, dict):
        raise GraphQLError(f"error decoding eventsv2 cursor: json: cannot unmarshal "
                           f"{_JSON_KINDS.get(type(decoded), 'value')} into Go value of type "
                           f"{_CURSOR_TYPE}")
    found: object = next((value for key, value in decoded.items() if key.lower() == "id"), "")
    if found is not None and not isinstance(found, str):
        raise GraphQLError(f"error decoding eventsv2 cursor: json: cannot unmarshal "
                           f"{_JSON_KINDS.get(type(found), 'object')} into Go struct field "
                           f"{_CURSOR_TYPE.split('.')[1]}.ID of type string")
    return found or ""


# ---------------------------------------------------------------------------- EventV2


def _stored(parent: object) -> StoredEvent:
    assert isinstance(parent, StoredEvent)
    return parent


def _raw(parent: object, args: Args, ctx: object) -> str:
    """Sorted keys, ``v`` always present, and no ``user`` or ``meta`` (measured), as the
    server writes it."""
    event = _stored(parent).event
    return dump_escaped({key: event.get(key) for key in ("data", "id", "name", "ts", "v")})


@dataclasses.dataclass(frozen=True)
class EventRun(Run):
    """A run as an event's ``runs`` lists it: skipped ones too, and without trigger ids."""

    @classmethod
    def of(cls, run: Run) -> EventRun:
        return cls(**{field.name: getattr(run, field.name) for field in dataclasses.fields(run)})


def _runs(parent: object, args: Args, ctx: object) -> list[Run]:
    """The event's runs, skipped ones too: the only list the dev server shows those in."""
    runs = engine_of(ctx).store.runs_for_event(_stored(parent).internal_id, skipped=True)
    return [EventRun.of(run) for run in runs]


def _occurred_at(stored: StoredEvent) -> str | None:
    ts = stored.event.get("ts")
    return rfc3339(ts if isinstance(ts, int) and ts else stored.received_at_ms)


def _read(read: typing.Callable[[StoredEvent], object]) -> typing.Callable[
        [object, Args, object], object]:
    return lambda parent, args, ctx: read(_stored(parent))


# The real server's EventV2 type (its introspection); `version` and `idempotencyKey` are
# its event's fields as stored, so an event sent without `v` has version "".
FIELDS = {
    "envID": Field("UUID!", _read(lambda stored: ENV_ID)),
    "id": Field("ULID!", _read(lambda stored: stored.internal_id)),
    "idempotencyKey": Field("String", _read(lambda stored: stored.event.get("id") or "")),
    "name": Field("String!", _read(lambda stored: stored.name)),
    "occurredAt": Field("Time!", _read(_occurred_at)),
    "raw": Field("String!", _raw),
    "receivedAt": Field("Time!", _read(lambda stored: rfc3339(stored.received_at_ms))),
    "runs": Field("[FunctionRunV2!]!", _runs),
    "source": Field("EventSource", lambda parent, args, ctx: None),
    "version": Field("String", _read(lambda stored: stored.event.get("v") or "")),
}
TYPES = {
    "EventsConnection": {
        "edges": Field("[EventsEdge!]!"), "pageInfo": Field("PageInfo!"),
        "totalCount": Field("Int!")},
    "EventsEdge": {"node": Field("EventV2!"), "cursor": Field("String!")},
    "EventV2": FIELDS,
    "EventSource": {"id": Field("ID!"), "name": Field("String"), "sourceKind": Field("String!")},
}
