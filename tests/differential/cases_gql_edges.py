"""Cases for the edges of the GraphQL mutations: an app removed by ``deleteApp`` (archived,
not forgotten), the invocation events ``invokeFunction`` and ``step.invoke`` store, an
invocation of a slug no function has, run ids that are no ULID, and app URLs as a sync and
``updateApp`` normalize them. They sync apps of their own and start runs, so they run in
the last phase, after the cases that list every app or run. They register into
``cases.CASES``."""

from __future__ import annotations

import datetime
import json
import re
import time
import typing

from cases import CASES, Answer, Case, Side, push_sync, times, without_locations
from probe import Probe, wait_for

_LAST_PHASE = 4
_ID = re.compile(r"\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b|\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b")
_MS_FIELDS = ("ts", "expire")
# Trace context the dev server puts in a step.invoke's event (W3C trace and span ids of its
# own spans); ours traces no invocation (docs/compatibility.md, Engine, "Invocation events").
_TRACE_FIELDS = ("isr", "tc")


def _labelled(value: object) -> object:
    """Ids (ULIDs and UUIDs, random per server) replaced by their place of first mention,
    the keys read in sorted order; millisecond times by ``<ms>``. Which field repeats which
    id must match, and which fields there are, not their values."""
    seen: dict[str, str] = {}

    def label(found: re.Match[str]) -> str:
        return seen.setdefault(found.group(0), f"<id {len(seen) + 1}>")

    def walk(item: object) -> object:
        if isinstance(item, dict):
            return {key: "<ms>" if key in _MS_FIELDS and isinstance(item[key], int)
                    else walk(item[key]) for key in sorted(item) if key not in _TRACE_FIELDS}
        if isinstance(item, list):
            return [walk(each) for each in item]
        return _ID.sub(label, item) if isinstance(item, str) else item

    return times(walk(value))


# -- deleteApp archives the app ----------------------------------------------------------------
_APP = "diff-archived-app"
_URL = "http://127.0.0.1:1/api/archived-parity"
_SLUG = f"{_APP}-fn"
_TRIGGER = "diff-archived/e"
DELETE = "mutation($id: String!) { deleteApp(id: $id) }"
FOUND = """query($id: UUID!, $slug: String!) {
  app(id: $id) { name url functionCount connected error functions { slug } }
  functionBySlug(query: {functionSlug: $slug}) { slug name app { name } } }"""
INVOKE = ("mutation($slug: String!, $key: String!) "
          "{ invokeFunction(functionSlug: $slug, data: {key: $key}, user: {who: $key}) }")
EVENT_RUNS = "query($id: ID!) { event(query: {eventId: $id}) { name functionRuns { id } } }"


def _sync(probe: Probe) -> object:
    body = push_sync(probe, _URL, _APP, _SLUG, _TRIGGER)
    return {"modified": body["modified"], "app_id": body["app_id"]}


def _listed(probe: Probe) -> dict[str, object]:
    listed = probe.data("{ apps { name url functionCount } functions { slug } }")
    return {"apps": [app for app in listed["apps"] if app["name"] == _APP],
            "functions": [fn for fn in listed["functions"] if fn["slug"] == _SLUG]}


def _archived(side: Side) -> Answer:
    """An app removed with ``deleteApp``: found by id and its function by slug, not listed,
    its trigger starts no run; removed again, by name, updated, then synced again."""
    probe = side.probe
    began = time.time()
    app_id = str(_sync(probe)["app_id"])  # type: ignore[index]
    removed = probe.gql(DELETE, id=app_id)
    found = probe.gql(FOUND, id=app_id, slug=_SLUG)
    listed = _listed(probe)
    event_id = probe.send(_TRIGGER, {})
    invoked = probe.gql(INVOKE, slug=_SLUG, key="archived")
    time.sleep(2)  # a run the event or the invocation started would be listed by now
    return {
        "archived": {"removed": removed, "found": found, "listed": listed},
        "not_run": {"event": probe.data(EVENT_RUNS, id=event_id), "invoked": invoked,
                    "invocation": _invocation_answers(probe, _SLUG, "archived", began)},
        "removed_again": {
            "same": probe.gql(DELETE, id=app_id),
            "unknown": probe.gql(DELETE, id="00000000-0000-0000-0000-000000000001"),
            "upper case": probe.gql(DELETE, id=app_id.upper()),
            **{label: without_locations(probe.gql(DELETE, id=bad)) for label, bad in (
                ("short", "nope"), ("format", app_id[:-1] + "g"),
                ("urn", "urx:uuid:" + app_id))},
            "by name": probe.gql("mutation { deleteAppByName(name: \"%s\") }" % _APP),
            "app, bad id": without_locations(probe.gql(FOUND, id="nope", slug=_SLUG)),
        },
        "updated": {
            "answer": probe.gql("mutation($id: String!) { updateApp(input: {id: $id, "
                                "url: \"http://127.0.0.1:80/api/moved\"}) { name url } }",
                                id=app_id),
            "listed": _listed(probe),
        },
        "synced_again": {"sync": _sync(probe), "listed": _listed(probe),
                         "found": probe.gql(FOUND, id=app_id, slug=_SLUG)},
    }


CASES["app_archived"] = Case(_archived, (
    "archived", "not_run", "removed_again", "updated", "synced_again"), phase=_LAST_PHASE)


# -- invocation events -------------------------------------------------------------------------
_FINISHED = "inngest/function.finished"
_INVOKED = "inngest/function.invoked"
# Pages of 40: both servers answer a `first` over 51 with 40 events and no next page.
_INTERNAL = """query($from: Time!, $after: String) { eventsV2(first: 40, after: $after,
  filter: {from: $from, includeInternalEvents: true, eventNames: ["%s", "%s"]}) {
    edges { node { name raw runs { id } } } pageInfo { hasNextPage endCursor } } }""" % (
    _INVOKED, _FINISHED)
_RUNS = """query($from: Time!, $fn: UUID!) { runs(first: 40,
  orderBy: [{field: QUEUED_AT, direction: ASC}], filter: {from: $from, functionIDs: [$fn]}) {
    edges { node { id status } } } }"""
_TRIGGER_OF = "query($id: String!) { runTrigger(runID: $id) { payloads IDs eventName } }"


def _since(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _invocation_answers(probe: Probe, slug: str, key: str, began: float) -> object:
    """The invocation events of ``slug`` with ``key`` stored since ``began`` (a case's
    start, ``time.time()``), and the events that answered them, each with the runs it
    started, oldest first. (Read from the case's start: the suite's other runs end with
    over 100 finish events a minute, which pushed these out of the page.)"""
    def found() -> list[dict[str, typing.Any]]:
        since = _since(time.time() - began + 1)
        edges: list[dict[str, typing.Any]] = []
        after = None
        while True:  # every page: the other cases' runs end with many finish events
            page = probe.data(_INTERNAL, **{"from": since, "after": after})["eventsV2"]
            edges += page["edges"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        nodes = [edge["node"] for edge in edges if slug in edge["node"]["raw"]
                 and (key in edge["node"]["raw"] or edge["node"]["name"] == _FINISHED)]
        assert len(nodes) == 2, f"{probe.name}: {nodes}"
        return nodes

    return [{"name": node["name"], "raw": _labelled(json.loads(node["raw"])),
             "runs": len(node["runs"])} for node in reversed(wait_for(found, 20))]


def _stored_trigger(probe: Probe, fn_id: str, key: str) -> object:
    """The event that started the run of ``fn_id`` whose event's ``data.key`` is ``key``,
    as ``runTrigger`` and REST ``/v1/events/{id}`` show it. (The runs are read one by one:
    the dev server's ``runs(filter: {query})`` matches no run ``invokeFunction`` started.)"""
    def started() -> dict[str, typing.Any]:
        edges = probe.data(_RUNS, **{"from": _since(120), "fn": fn_id})["runs"]["edges"]
        for edge in edges:
            trigger = probe.data(_TRIGGER_OF, id=edge["node"]["id"])["runTrigger"]
            if any(json.loads(text)["data"].get("key") == key for text in trigger["payloads"]):
                assert edge["node"]["status"] == "COMPLETED", f"{probe.name}: {edge}"
                return typing.cast("dict[str, typing.Any]", trigger)
        raise AssertionError(f"{probe.name}: no run of {key} yet")

    trigger = wait_for(started, 30)
    status, rest = probe.request("GET", f"/v1/events/{trigger['IDs'][0]}")
    return _labelled({"IDs": trigger["IDs"], "eventName": trigger["eventName"],
                      "payloads": [json.loads(text) for text in trigger["payloads"]],
                      "rest": {"status": status, "data": rest.get("data")}})


def _invocations(side: Side) -> Answer:
    """``invokeFunction`` (with user data) and ``step.invoke`` of one function: the stored
    invocation events field by field; ``invokeFunction`` of a slug no function has is
    answered true, stores its event and the failure the runner answers it with."""
    probe = side.probe
    began = time.time()
    fn_id = probe.data('{ functionBySlug(query: {functionSlug: "diff-py-invokee"}) '
                       "{ id } }")["functionBySlug"]["id"]
    invoked = probe.gql(INVOKE, slug="diff-py-invokee", key="invocation-graphql")
    probe.send("py/invoker", {"key": "invocation-step", "n": 4})
    return {
        "invoke_function": {"answer": invoked,
                            "event": _stored_trigger(probe, fn_id, "invocation-graphql")},
        "step_invoke": _stored_trigger(probe, fn_id, "invocation-step"),
        "unknown_slug": {"answer": probe.gql(INVOKE, slug="diff-no-such-fn", key="unknown"),
                         "events": _invocation_answers(
                             probe, "diff-no-such-fn", "unknown", began)},
    }


CASES["invocation_events"] = Case(_invocations, (
    "invoke_function", "step_invoke", "unknown_slug"), phase=_LAST_PHASE)


# -- run ids that are no ULID --------------------------------------------------------------
_BAD_RUN_IDS: dict[str, object] = {
    "short": "nope", "long": "01ARZ3NDEKTSV4RRFFQ69G5FAVX",
    "overflow": "81ARZ3NDEKTSV4RRFFQ69G5FAV", "lower case first": "a1ARZ3NDEKTSV4RRFFQ69G5FAV",
    "number": 5, "empty": "",
}


def _bad_run_ids(side: Side) -> Answer:
    """``rerun`` and ``cancelRun`` of run ids that are no ULID: the server's parse errors,
    with the argument in their path."""
    probe = side.probe
    answers = {}
    for label, bad in _BAD_RUN_IDS.items():
        answers[label] = {
            "rerun": without_locations(probe.gql(
                "mutation($id: ULID!) { rerun(runID: $id) }", id=bad)),
            "cancelRun": without_locations(probe.gql(
                "mutation($id: ULID!) { cancelRun(runID: $id) { id } }", id=bad)),
        }
    return {"refused": answers}


CASES["run_id_arguments"] = Case(_bad_run_ids, ("refused",))


# -- app URLs ----------------------------------------------------------------------------------
_URLS = {
    "upper-case local host, default port": "http://LOCALHOST:80/api/urls",
    "spaces": "http://127.0.0.1:1/api/with space/x?b=a b&a=1",
    "escaped already": "http://127.0.0.1:1/api/a%20b(c)",
    "upper-case scheme, other port": "HTTP://Localhost:443/api/urls",
    "ipv6, default port": "http://[::1]:80/api/urls",
    "ipv6, port": "http://[::1]:5000/api/urls",
    "empty port": "http://localhost:/api/urls",
    "broken escape": "http://127.0.0.1:1/api/a%zz b",
    "user and parentheses": "http://u:p@0.0.0.0:80/api/a(b) c",
}


def _app_urls(side: Side) -> Answer:
    """Apps synced at URLs the server normalizes (default ports, local hosts, characters a
    path may not hold), listed; then one app's URL changed to each by ``updateApp``."""
    probe = side.probe
    for n, url in enumerate(_URLS.values()):
        status, body = probe.request("POST", "/fn/register", {
            "url": url, "appName": f"diff-url-{n}", "framework": "flask", "sdk": "py:v0.1.0",
            "v": "0.1", "functions": []})
        assert status == 200, f"{probe.name}: sync of {url} answered {status}: {body}"
    urls = {app["name"]: app["url"] for app in probe.data("{ apps { name url } }")["apps"]}
    app_id = probe.data('{ apps { id name } }')["apps"]
    [first] = [app["id"] for app in app_id if app["name"] == "diff-url-0"]
    update = "mutation($id: String!, $url: String!) { updateApp(input: {id: $id, url: $url}) {url}}"
    return {
        "synced": {label: urls.get(f"diff-url-{n}") for n, label in enumerate(_URLS)},
        "updated": {label: probe.gql(update, id=first, url=url) for label, url in _URLS.items()},
    }


CASES["app_urls"] = Case(_app_urls, ("synced", "updated"), phase=_LAST_PHASE)
