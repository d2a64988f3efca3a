"""Cases for the dev server's own routes beside the event, REST and GraphQL APIs: the test
hooks that lower one function's step or state size limit, the Prometheus scrape, the
operation catalog and GraphQL queries sent by ``GET``. They register into ``cases.CASES``
and use its normalization rules."""

from __future__ import annotations

import json
import re
import typing
import urllib.parse

from cases import CASES, Answer, Case, Side, ids, inspect, times
from cases_semantics import finish_events_v2
from probe import Probe, wait_for

_FUNCTION_IDS = "{ functions { id slug } }"
_REFUSED_LIMITS = {"empty": "", "spaced": " 3", "a word": "abc", "a fraction": "2.5",
                   "past an int64": "9223372036854775808"}
_DEPTH = re.compile(rb"^inngest_queue_depth \d+$", re.MULTILINE)
_TS = re.compile(r'"ts": \d+')


def _function_id(probe: Probe, slug: str) -> str:
    functions = probe.data(_FUNCTION_IDS)["functions"]
    return str(next(fn["id"] for fn in functions if fn["slug"] == slug))


def _limit(probe: Probe, method: str, route: str, **form: object) -> list[object]:
    """A limit route's status and, for an error, the server's ``error`` words."""
    status, _, body = probe.exchange(method, f"{route}?{urllib.parse.urlencode(form)}")
    return [status, json.loads(body)["error"] if body else None]


def _failure(side: Side, run_id: str) -> object:
    """How a run failed at a limit shows: its status and output in GraphQL (``run`` and
    ``functionRun``), REST and history, and its finish events' data."""
    probe = side.probe

    def with_output() -> dict[str, typing.Any]:
        # The dev server shows the run ended a moment before its output.
        run = probe.ended_run(run_id)
        assert run["output"] is not None, f"{probe.name}: run {run_id} is without output yet"
        return run

    run = wait_for(with_output)
    seen = inspect(side, run_id, ("function_run", "rest_run", "history"))
    events = typing.cast("list[dict[str, typing.Any]]", finish_events_v2(probe, run_id, 2))
    # The trigger event's ``ts`` is when each server received it.
    data = json.loads(_TS.sub('"ts": "<ts>"', json.dumps(
        {event["name"]: event["raw"]["data"] for event in events})))
    return ids({"run": run, **seen, "events": times(data)}, {run_id: "<run>"})


def _limited_run(side: Side, route: str, slug: str, limit: int) -> object:
    """The run of ``slug`` while ``route`` lowers its limit, and once the limit is dropped."""
    probe = side.probe
    function_id = _function_id(probe, f"diff-py-{slug}")
    set_status = _limit(probe, "POST", route, functionId=function_id, limit=limit)
    event_id = probe.send(f"py/{slug}", {})
    limited = _failure(side, probe.run_ids(event_id)[0])
    removed = _limit(probe, "DELETE", route, functionId=function_id)
    removed_again = _limit(probe, "DELETE", route, functionId=function_id)
    return ids({"set": set_status, "run": limited, "removed": removed,
                "removed_again": removed_again,
                "after": probe.run_of(probe.send(f"py/{slug}", {}))["status"]},
               {function_id: "<function>", event_id: "<event>"})


def _unlimited_runs(side: Side) -> object:
    """How runs end under overrides that are no limit: 0 (the default) and, for steps, a
    negative one."""
    probe = side.probe
    ended = {}
    for route, slug, limit in (("/fn/step-limit", "step-limited", 0),
                               ("/fn/step-limit", "step-limited", -1),
                               ("/fn/state-size-limit", "state-limited", 0)):
        function_id = _function_id(probe, f"diff-py-{slug}")
        _limit(probe, "POST", route, functionId=function_id, limit=limit)
        ended[f"{route} {limit}"] = probe.run_of(probe.send(f"py/{slug}", {}))["status"]
        _limit(probe, "DELETE", route, functionId=function_id)
    return ended


def _run_limits(side: Side) -> Answer:
    probe = side.probe
    return {
        "step_limit": _limited_run(side, "/fn/step-limit", "step-limited", 1),
        "state_size_limit": _limited_run(side, "/fn/state-size-limit", "state-limited", 50),
        "no_limit": _unlimited_runs(side),
        "refusals": {
            label: [_limit(probe, "POST", route, functionId="f", limit=text)
                    for route in ("/fn/step-limit", "/fn/state-size-limit")]
            for label, text in _REFUSED_LIMITS.items()},
        "by_form": [
            probe.exchange("POST", "/fn/step-limit", b"functionId=form&limit=4",
                           {"content-type": "application/x-www-form-urlencoded"})[0],
            _limit(probe, "DELETE", "/fn/step-limit", functionId="form")],
        "wrong_method": probe.exchange("GET", "/fn/step-limit")[0],
    }


def _metrics(side: Side) -> Answer:
    """The scrape's status, type and lines; the depth counts the server's own queue items
    too (the dev server keeps some of its own), so only its form is compared."""
    answers = {}
    for path in ("/metrics", "/metrics/"):
        status, headers, body = side.probe.exchange("GET", path)
        answers[path] = {"status": status, "content_type": headers.get("content-type"),
                         "body": _DEPTH.sub(b"inngest_queue_depth <n>", body).decode()}
    return {"scrape": answers, "wrong_method": side.probe.exchange("POST", "/metrics")[0]}


_PROSE = ("summary", "description", "title")


def _without_prose(value: object) -> object:
    """The catalog without its summaries, descriptions and titles: ours are in our words."""
    if isinstance(value, dict):
        return {key: _without_prose(item) for key, item in value.items() if key not in _PROSE}
    if isinstance(value, list):
        return [_without_prose(item) for item in value]
    return value


def _operations(side: Side) -> Answer:
    """The operation catalog (for agents and MCP setups): its form, by both paths."""
    answers = {}
    for path in ("/v2/operations", "/api/v2/operations", "/v2/operations/more"):
        status, headers, body = side.probe.exchange("GET", path)
        answers[path] = {
            "status": status,
            "headers": {name: headers.get(name) for name in (
                "content-type", "cache-control", "access-control-allow-origin")},
            "catalog": _without_prose(json.loads(body))}
    return {"catalog": answers,
            "wrong_method": side.probe.exchange("POST", "/v2/operations")[0]}


_QUERY, _MUTATION = "query a { apps { name } }", 'mutation b { deleteApp(id: "x") }'
_GRAPHQL_GETS = {
    "no query": {},
    "a query": {"query": "{ __typename }"},
    "variables": {"query": "query($n: Int) { __typename }", "variables": '{"n": 1}'},
    "variables null": {"query": "{ __typename }", "variables": "null"},
    "variables then more": {"query": "{ __typename }", "variables": "{}x"},
    "variables not JSON": {"query": "{ __typename }", "variables": "x"},
    "variables a list": {"query": "{ __typename }", "variables": "[]"},
    "extensions a number": {"query": "{ __typename }", "extensions": "1"},
    "a variable missing": {"query": "query($id: ID!) { event(query: {eventId: $id}) { name } }"},
    "an unknown field": {"query": "{ nope }"},
    "a mutation": {"query": _MUTATION},
    "a subscription": {"query": "subscription { apps { name } }"},
    "the query named": {"query": f"{_QUERY} {_MUTATION}", "operationName": "a"},
    "the mutation named": {"query": f"{_QUERY} {_MUTATION}", "operationName": "b"},
    "none named": {"query": f"{_QUERY} {_MUTATION}"},
}


def _graphql_get(probe: Probe, path: str) -> object:
    """Status, type and body of a GraphQL ``GET``, without the ``code`` and ``message`` ours
    adds to a refusal and with the apps listed by name (each server has the same ones)."""
    status, answer_headers, body = probe.exchange("GET", path)
    assert body, f"{probe.name}: GET {path} answered {status} without a body"
    answer = json.loads(body)
    answer = {key: value for key, value in answer.items() if key not in ("code", "message")}
    apps = (answer.get("data") or {}).get("apps")
    if apps is not None:
        answer["data"]["apps"] = sorted(app["name"] for app in apps)
    return {"status": status, "content_type": answer_headers.get("content-type"),
            "body": answer}


def _graphql_gets(side: Side) -> Answer:
    """GraphQL over ``GET``: queries run, mutations are refused (406), bad parameters 400."""
    probe = side.probe
    return {"answers": {label: _graphql_get(probe, "/v0/gql?" + urllib.parse.urlencode(params))
                        for label, params in _GRAPHQL_GETS.items()}}


CASES["run_limit_overrides"] = Case(_run_limits, (
    "step_limit", "state_size_limit", "no_limit", "refusals", "by_form", "wrong_method"))
CASES["metrics"] = Case(_metrics, ("scrape", "wrong_method"))
CASES["operations"] = Case(_operations, ("catalog", "wrong_method"))
CASES["graphql_get"] = Case(_graphql_gets, ("answers",))
