"""Cases for events as the server keeps them: the order of the keys of their ``data`` and
``user`` wherever an event is shown, the invocation events of REST ``/invoke`` and REST v2
invoke, which runs ``runs(filter: {query})`` finds, and the apps REST v2 lists as archived.
They sync apps and start runs, so they run in the last phase. They register into
``cases.CASES``."""

from __future__ import annotations

import json
import typing

from cases import CASES, Answer, Case, Side, times
from cases_gql_edges import INVOKE, _labelled, _since, _stored_trigger
from probe import Probe, wait_for

_LAST_PHASE = 4


def _ordered(text: str) -> object:
    """JSON text with every object as its list of key and value pairs, in the order
    written: equal only when the keys come in the same order."""
    return json.loads(text, object_pairs_hook=lambda pairs: [[key, value] for key, value in pairs])


# -- the keys of data and user -----------------------------------------------------------------
# Keys out of order at every depth; ``！`` (U+FF01) and ``😀`` (U+1F600) sort one way by
# UTF-8 bytes and the other by UTF-16 code units.
_DATA = {"zeta": 1, "alpha": {"z": 2, "b": [{"y": 1, "a": 2}], "a": 3}, "Mid": "x", "_b": 1,
         "\uff01": 1, "\U0001f600": {"\uff01": 1, "\U0001f600": 2, "a": None}}
_USER = {"zz": 1, "aa": {"q": 1, "c": [{"k": 1, "j": 2}]}}
_EVENT = "query($id: ID!) { event(query: {eventId: $id}) { raw payload } }"
_LISTED = """query($from: Time!) { eventsV2(first: 50, filter: {from: $from,
  eventNames: ["py/escaping"]}) { edges { node { id raw } } } }"""
_RUN = "query($id: ID!) { functionRun(query: {functionRunId: $id}) { status output } }"
_TRIGGER = "query($id: String!) { runTrigger(runID: $id) { payloads } }"


def _listed_raw(probe: Probe, event_id: str) -> list[str]:
    edges = probe.data(_LISTED, **{"from": _since(120)})["eventsV2"]["edges"]
    return [edge["node"]["raw"] for edge in edges if edge["node"]["id"] == event_id]


def _v1_fields(probe: Probe, path: str, event_id: str) -> object:
    """The ``data`` and ``user`` of the event as REST v1 writes them (the rest holds ids)."""
    status, _, raw = probe.exchange("GET", path)
    body = _ordered(raw.decode())
    records = dict(typing.cast("list[list[typing.Any]]", body))["data"]
    if path.endswith(event_id):
        records = [records]
    for record in records:
        fields = dict(record)
        if fields["internal_id"] == event_id:
            return [status, fields["data"], fields["user"]]
    return [status, None]


def _event_keys(side: Side) -> Answer:
    """One event sent with its keys out of order, as GraphQL, REST v1, ``runTrigger`` and
    the function (which answers with the data it got) show it."""
    probe = side.probe
    data = {**_DATA, "key": "sorted-keys"}
    event_id = probe.send("py/escaping", data, user=_USER)
    [run_id] = probe.run_ids(event_id)

    def finished() -> dict[str, typing.Any]:
        run = probe.data(_RUN, id=run_id)["functionRun"]
        assert run["status"] == "COMPLETED", f"{probe.name}: {run}"
        return typing.cast("dict[str, typing.Any]", run)

    output = wait_for(finished, 30)["output"]
    event = probe.data(_EVENT, id=event_id)["event"]
    return {
        "stored": {
            "event raw": _labelled_ordered(event["raw"]),
            "event payload": _ordered(event["payload"]),
            "eventsV2 raw": [_labelled_ordered(raw) for raw in _listed_raw(probe, event_id)],
            "REST v1 event": _v1_fields(probe, f"/v1/events/{event_id}", event_id),
            "REST v1 events": _v1_fields(probe, "/v1/events?name=py/escaping&limit=50",
                                         event_id),
        },
        "run": {"trigger": [_labelled_ordered(text) for text in probe.data(
                    _TRIGGER, id=run_id)["runTrigger"]["payloads"]],
                "output as the function got it": _ordered(output)},
    }


def _labelled_ordered(text: str) -> object:
    """The event's fields in order, ids and times replaced."""
    ordered = _ordered(text)
    return [[key, "<id>" if key == "id" else "<ms>" if key == "ts" else value]
            for key, value in typing.cast("list[list[object]]", ordered)]


CASES["stored_event_keys"] = Case(_event_keys, ("stored", "run"), phase=_LAST_PHASE)


# -- the invocation events of REST /invoke and REST v2 invoke; runs(filter: {query}) ---------
_INVOKEE = "diff-py-invokee"
_QUERIED = """query($from: Time!, $q: String!) { runs(first: 40, orderBy: [],
  filter: {from: $from, query: $q}) { totalCount edges { node { function { slug } } } } }"""


def _query_runs(probe: Probe, key: str) -> object:
    found = probe.data(_QUERIED, **{"from": _since(120),
                                    "q": f'event.data.key == "{key}"'})["runs"]
    return {"count": found["totalCount"],
            "functions": sorted(edge["node"]["function"]["slug"] for edge in found["edges"])}


def _invoked(side: Side) -> Answer:
    """REST ``/invoke/{slug}`` and REST v2 invoke of one function, their stored events; then
    which runs a query on the triggering event finds: none started by ``invokeFunction``,
    by ``/invoke`` or by an event sent with an id of its own (the dev server finds a run
    through the event's id, which is not the event's internal id there)."""
    probe = side.probe
    fn_id = probe.data('{ functionBySlug(query: {functionSlug: "%s"}) { id } }'
                       % _INVOKEE)["functionBySlug"]["id"]
    rest = probe.request("POST", f"/invoke/{_INVOKEE}",
                         {"data": {"key": "invoke-rest", "_inngest": {"fn_id": "x"}},
                          "user": {"b": 1, "a": 2}})
    v2 = probe.request("POST", "/api/v2/apps/diff-py/functions/invokee/invoke",
                       {"data": {"key": "invoke-v2", "b": 1, "a": 2}})
    probe.gql(INVOKE, slug=_INVOKEE, key="invoke-graphql")
    probe.send("py/invoker", {"key": "invoke-step", "n": 1})
    own_id = probe.send("py/invokee", {"key": "invoke-own-id"}, id="diff-own-event-id")
    probe.run_ids(own_id)
    plain = probe.send("py/invokee", {"key": "invoke-plain"})
    probe.run_ids(plain)
    stored = {label: _stored_trigger(probe, fn_id, key) for label, key in (
        ("REST", "invoke-rest"), ("REST v2", "invoke-v2"), ("GraphQL", "invoke-graphql"),
        ("step", "invoke-step"))}
    return {
        "invoke_answers": _labelled({"REST": list(rest), "REST v2": list(v2)}),
        "invoke_events": {"REST": stored["REST"], "REST v2": stored["REST v2"]},
        "runs_query": {key: _query_runs(probe, key) for key in (
            "invoke-rest", "invoke-v2", "invoke-graphql", "invoke-step", "invoke-own-id",
            "invoke-plain")},
    }


CASES["invoke_routes"] = Case(_invoked, ("invoke_answers", "invoke_events", "runs_query"),
                              phase=_LAST_PHASE)


# -- archived apps in REST v2 ------------------------------------------------------------------
_ARCHIVED_APP = "diff-v2-archived"
_ARCHIVED_URL = "http://127.0.0.1:1/api/v2-archived"


def _v2_apps(probe: Probe, query: str) -> object:
    status, body = probe.request("GET", "/api/v2/apps" + query)
    return [status, times([app for app in body.get("data", [])
                           if app.get("name") == _ARCHIVED_APP])]


def _archived_apps(side: Side) -> Answer:
    """An app removed by ``deleteApp``: REST v2 lists it with ``archived=true``, and only
    then, with its time of archiving."""
    probe = side.probe
    status, body = probe.request("POST", "/fn/register", {
        "url": _ARCHIVED_URL, "appName": _ARCHIVED_APP, "framework": "flask",
        "sdk": "py:v0.1.0", "v": "0.1", "functions": [{
            "id": f"{_ARCHIVED_APP}-fn", "name": "fn", "triggers": [{"event": "diff-v2/e"}],
            "steps": {"step": {"id": "step", "name": "step",
                               "runtime": {"type": "http", "url": _ARCHIVED_URL}}}}]})
    assert status == 200, f"{probe.name}: sync answered {status}: {body}"
    before = _v2_apps(probe, "?archived=true")
    probe.gql("mutation($id: String!) { deleteApp(id: $id) }", id=body["app_id"])
    return {"listed": {"before": before, "archived": _v2_apps(probe, "?archived=true"),
                       "synced": _v2_apps(probe, ""),
                       "not archived": _v2_apps(probe, "?archived=false")}}


CASES["v2_archived_apps"] = Case(_archived_apps, ("listed",), phase=_LAST_PHASE)
