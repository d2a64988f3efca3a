"""GraphQL ``eventsV2``, the console's events list, as the real dev server answers it
(measured against it; see docs/compatibility.md)."""

from __future__ import annotations

import base64
import json
import typing

import pytest
from engine_fakes import T0, Client, FakeApp, ok
from test_graphql import data, gql

from inngest._engine.clock import ManualClock

LOOPBACK = True
SINCE = "2020-01-01T00:00:00Z"
PAGE = """query Page($first: Int!, $after: String, $filter: EventsFilter!) {
  eventsV2(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name } }
  }
}"""


def page(client: Client, first: int = 40, after: str | None = None,
         **flt: object) -> dict[str, typing.Any]:
    found = data(client, PAGE, first=first, after=after, filter={"from": SINCE, **flt})
    return dict(found["eventsV2"])


def names(found: dict[str, typing.Any]) -> list[str]:
    return [edge["node"]["name"] for edge in found["edges"]]


def cursor_of(event_id: str) -> str:
    return base64.b64encode(json.dumps({"ID": event_id}).replace(" ", "").encode()).decode()


def test_pages_run_newest_first_with_the_real_servers_cursors(client: Client) -> None:
    ids = client.send(*({"name": f"test/e{n}"} for n in range(5)))
    first = page(client, first=2)
    assert names(first) == ["test/e4", "test/e3"]
    assert [edge["cursor"] for edge in first["edges"]] == [cursor_of(ids[4]), cursor_of(ids[3])]
    assert first["pageInfo"] == {
        "hasNextPage": True, "hasPreviousPage": False,
        "startCursor": cursor_of(ids[4]), "endCursor": cursor_of(ids[3])}
    assert first["totalCount"] == 5

    second = page(client, first=2, after=first["pageInfo"]["endCursor"])
    assert (names(second), second["pageInfo"]["hasPreviousPage"]) == (
        ["test/e2", "test/e1"], True)
    assert second["totalCount"] == 5  # the whole filter's count, not the page's
    last = page(client, first=2, after=second["pageInfo"]["endCursor"])
    assert (names(last), last["pageInfo"]["hasNextPage"]) == (["test/e0"], False)
    assert page(client, first=2, after=last["pageInfo"]["endCursor"])["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None}


def test_first_outside_1_to_51_gives_pages_of_40(client: Client) -> None:
    client.send(*({"name": "test/many"} for _ in range(52)))
    assert len(page(client, first=51)["edges"]) == 51
    for first in (0, -1, 52):
        found = page(client, first=first)
        # The real server says a next page follows only when the page has `first` events.
        assert (len(found["edges"]), found["pageInfo"]["hasNextPage"]) == (40, False)
    default = data(client, '{ eventsV2(filter: {from: "%s"}) { edges { cursor } } }' % SINCE)
    assert len(default["eventsV2"]["edges"]) == 40


def test_an_empty_or_id_less_cursor_starts_at_the_newest(client: Client) -> None:
    client.send({"name": "test/a"}, {"name": "test/b"})
    for after in ("", "e30=", "bnVsbA=="):  # "", {}, null
        found = page(client, first=1, after=after)
        assert (names(found), found["pageInfo"]["hasPreviousPage"]) == (["test/b"], True)


def test_names_and_internal_events_filter_the_list(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    client.send({"name": "test/other"}, {"name": "test/fn"})
    client.wait_for_run(event_id, "Completed")
    client.settle()
    assert names(page(client)) == ["test/fn", "test/other", "test/fn"]
    assert names(page(client, eventNames=["test/fn"])) == ["test/fn", "test/fn"]
    assert page(client, eventNames=["test/fn", "test/other"])["totalCount"] == 3
    assert page(client, eventNames=[])["totalCount"] == 3
    internal = page(client, includeInternalEvents=True)
    assert names(internal).count("inngest/function.finished") == 2
    assert internal["totalCount"] == 5
    # The CEL query is accepted and not applied, as on the real server.
    assert page(client, query="event.name == 'nothing'")["totalCount"] == 3


def test_from_and_until_bound_the_received_time(manual: Client, clock: ManualClock) -> None:
    manual.send({"name": "test/early"})
    clock.advance(3600)
    manual.send({"name": "test/late"})
    half = "2026-01-01T00:30:00Z"
    assert names(page(manual, **{"from": half})) == ["test/late"]
    assert names(page(manual, until=half)) == ["test/early"]
    assert names(page(manual, **{"from": "2026-01-01T01:00:00Z"})) == ["test/late"]
    assert names(page(manual, until="2026-01-01T00:00:00+00:00")) == ["test/early"]
    # Without `until`, events received after now (none here) are left out: now is the bound.
    assert page(manual, **{"from": "2030-01-01T00:00:00Z"})["totalCount"] == 0
    assert T0 == clock.now_ms() - 3_600_000


def test_a_node_has_the_real_servers_event_v2_fields(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn", "data": {"n": 1}, "ts": 1_700_000_000_000})
    run = client.wait_for_run(event_id, "Completed")
    [versioned] = client.send({"name": "test/v", "v": "2024-01-01", "id": "key-1"})
    found = data(client, """{ eventsV2(first: 2, filter: {from: "%s"}) { edges { node {
        envID id idempotencyKey name occurredAt receivedAt raw version
        source { id } runs { id status } } } } }""" % SINCE)
    newest, oldest = (edge["node"] for edge in found["eventsV2"]["edges"])
    assert newest["id"] == versioned
    assert (newest["version"], newest["idempotencyKey"], newest["runs"]) == (
        "2024-01-01", "key-1", [])
    assert oldest.pop("receivedAt").endswith("Z")
    assert oldest == {
        "envID": "00000000-0000-0000-0000-000000000000", "id": event_id,
        "idempotencyKey": event_id, "name": "test/fn",
        "occurredAt": "2023-11-14T22:13:20Z",
        "raw": json.dumps({"data": {"n": 1}, "id": event_id, "name": "test/fn",
                           "ts": 1_700_000_000_000, "v": None}, separators=(",", ":")),
        "version": "", "source": None,
        "runs": [{"id": run["run_id"], "status": "COMPLETED"}]}


@pytest.mark.parametrize(("value", "message"), [
    ("yesterday", 'parsing time "yesterday" as "2006-01-02T15:04:05.999999999Z07:00": '
                  'cannot parse "yesterday" as "2006"'),
    ("2020-01-01", 'parsing time "2020-01-01" as "2006-01-02T15:04:05.999999999Z07:00": '
                   'cannot parse "" as "T"'),
    ("2020-01-01T00:00:00", 'parsing time "2020-01-01T00:00:00" as '
                            '"2006-01-02T15:04:05.999999999Z07:00": cannot parse "" as "Z07:00"'),
    ("2020-13-01T00:00:00Z", 'parsing time "2020-13-01T00:00:00Z": month out of range'),
    ("2020-02-30T00:00:00Z", 'parsing time "2020-02-30T00:00:00Z": day out of range'),
    ("2020-01-01T00:00:00Zx", 'parsing time "2020-01-01T00:00:00Zx": extra text: "x"'),
    ("2020-01-01T00:00:00+25:00",
     'parsing time "2020-01-01T00:00:00+25:00": time zone offset hour out of range'),
    (5, "time should be RFC3339Nano formatted string"),
])
def test_a_bad_time_gets_the_real_servers_error(
        client: Client, value: object, message: str) -> None:
    for field in ("from", "until"):
        body = gql(client, PAGE, first=1, filter={"from": SINCE, field: value})
        assert [(e["message"], e["path"]) for e in body["errors"]] == [
            (message, ["eventsV2", "filter", field])]
        assert body["data"] is None  # eventsV2 is non-null


@pytest.mark.parametrize(("after", "message"), [
    ("!!", "error decoding eventsv2 cursor: illegal base64 data at input byte 0"),
    ("abc!", "error decoding eventsv2 cursor: illegal base64 data at input byte 3"),
    (cursor_of("xx"), "error parsing eventsv2 cursor: ulid: bad data size when unmarshaling"),
    (cursor_of("8" * 26), "error parsing eventsv2 cursor: ulid: overflow when unmarshaling"),
    ("abc", "error decoding eventsv2 cursor: illegal base64 data at input byte 0"),
    ("YWJj=", "error decoding eventsv2 cursor: illegal base64 data at input byte 4"),
    (base64.b64encode(b"[]").decode(), "error decoding eventsv2 cursor: json: cannot "
     "unmarshal array into Go value of type resolvers.EventsV2ConnectionCursor"),
    (base64.b64encode(b'{"ID": 5}').decode(), "error decoding eventsv2 cursor: json: cannot "
     "unmarshal number into Go struct field EventsV2ConnectionCursor.ID of type string"),
])
def test_a_bad_cursor_gets_the_real_servers_error(
        client: Client, after: str, message: str) -> None:
    body = gql(client, PAGE, first=1, after=after, filter={"from": SINCE})
    assert [(e["message"], e["path"]) for e in body["errors"]] == [(message, ["eventsV2"])]
    assert body["data"] is None


def test_the_cursor_id_is_read_in_any_case(client: Client) -> None:
    ids = client.send({"name": "test/a"}, {"name": "test/b"})
    after = base64.b64encode(json.dumps({"id": ids[1].lower()}).encode()).decode()
    assert names(page(client, after=after)) == ["test/a"]


def test_a_missing_filter_or_from_is_a_validation_error(client: Client) -> None:
    for args, message in (
            ("first: 1", 'Field "eventsV2" argument "filter" of type "EventsFilter!" is '
                         "required, but it was not provided."),
            ("filter: {}", 'Field "EventsFilter.from" of required type "Time!" was not '
                           "provided.")):
        status, body = client.request(
            "POST", "/v0/gql", {"query": f"{{ eventsV2({args}) {{ totalCount }} }}"})
        assert (status, body["errors"][0]["message"]) == (422, message)
