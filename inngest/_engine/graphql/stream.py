"""GraphQL ``stream``: the dev server's feed of recent events, each with the runs it started,
as the real server answers it (measured): the newest ``limit`` events by id between the
``after`` and ``before`` ids, then ordered by the events' own times, newest first. An event
shows the runs whose first event it is; a cron run's event shows as its schedule.
"""

from __future__ import annotations

import typing

from inngest._engine.engine import Engine
from inngest._engine.graphql.context import engine_of
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.typesystem import Field, is_mapping
from inngest._engine.models import StoredEvent
from inngest._engine.payload import to_int
from inngest._engine.timeparse import rfc3339

Args = dict[str, object]

ARGS = {"query": "StreamQuery!"}
INPUT = {"after": "ID", "before": "ID", "limit": "Int! = 20", "includeInternalEvents": "Boolean"}
ENUMS = {"StreamType": ("EVENT", "CRON")}
TYPES = {
    "StreamItem": {
        "id": Field("ID!"), "trigger": Field("String!"), "type": Field("StreamType!"),
        "createdAt": Field("Time!"), "runs": Field("[FunctionRun]"),
        "inBatch": Field("Boolean!"),
    },
}
# The real server panics on an id it cannot parse and on a negative limit, and its GraphQL
# handler reports any panic so.
_PANIC = "internal system error"


def stream(parent: object, args: Args, ctx: object) -> list[dict[str, object]]:
    query = args.get("query")
    assert is_mapping(query)  # a required input object, validated before
    after, before = _bound(query.get("after")), _bound(query.get("before"))
    limit = query.get("limit")
    assert isinstance(limit, int)
    if limit < 0:
        raise GraphQLError(_PANIC)
    engine = engine_of(ctx)
    found = engine.store.stream_events(after or "", before, limit,
                                       query.get("includeInternalEvents") is True)
    items = [_item(engine, event) for event in found]
    return sorted(items, key=lambda item: -typing.cast(int, item["ms"]))


def _bound(value: object) -> str | None:
    """An id bound; like the real server's ULID parse, only the size and the first digit
    are checked (an id of other characters is compared as text, where it decodes to some
    other id there)."""
    if value is None:
        return None
    text = str(value)
    if len(text) != 26 or text[0] > "7":
        raise GraphQLError(_PANIC)
    return text.upper()


def _item(engine: Engine, event: StoredEvent) -> dict[str, object]:
    runs = engine.store.runs_for_event(event.internal_id)
    cron = next((run.cron for run in runs if run.cron), None)
    ms = to_int(event.event.get("ts") or event.received_at_ms, "ts")
    return {
        "id": event.internal_id, "ms": ms, "createdAt": rfc3339(ms),
        "trigger": cron or event.name, "type": "CRON" if cron else "EVENT",
        "runs": runs, "inBatch": _in_batch(engine, event),
    }


def _in_batch(engine: Engine, event: StoredEvent) -> bool:
    """Whether a run's batch of more than one event holds the event; the real server keeps no
    batch of one."""
    runs = engine.store.runs_for_event(event.internal_id, first_only=False)
    return any(len(run.event_ids) > 1 for run in runs)
