"""Cases for REST v1 routes beside runs and events: bulk cancellations, an app's functions
and the metrics stub. They register into ``cases.CASES`` and use its normalization rules."""

from __future__ import annotations

import datetime
import json
import time
import typing

from cases import (
    CASES, Answer, Case, Side, attempt, ids, ports, sleeping, times, wait_until_ready,
)
from probe import Probe

_REFUSED = {
    "empty object": b"{}",
    "not JSON": b"",
    "not an object": b"[]",
    "app_id a number": b'{"app_id": 1}',
    "started_before not a time": b'{"app_id": "a", "function_id": "f", "started_before": "x"}',
    "started_before ahead": b'{"app_id": "a", "function_id": "f", '
                            b'"started_before": "2999-01-01T00:00:00Z"}',
    "started_after after started_before": (
        b'{"app_id": "a", "function_id": "f", "started_before": "2025-01-01T00:00:00Z", '
        b'"started_after": "2025-02-01T00:00:00Z"}'),
    "function id without the app's prefix": (
        b'{"app_id": "diff-py", "function_id": "cancellable", '
        b'"started_before": "2025-01-01T00:00:00Z"}'),
    "unknown function": (b'{"app_id": "diff-py", "function_id": "diff-py-nope", '
                         b'"started_before": "2025-01-01T00:00:00Z"}'),
}


def _error(answer: tuple[int, typing.Any]) -> object:
    """A refusal without the ``code`` and ``message`` ours adds to every error body."""
    status, body = answer
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in ("code", "message")}
    return {"status": status, "body": body}


def _exchange(probe: Probe, method: str, path: str) -> object:
    status, headers, body = probe.exchange(method, path)
    return {"status": status, "content_type": headers.get("content-type"), "body": body.decode()}


def _function(fn: dict[str, typing.Any]) -> object:
    """A listed function without its internal UUID (from its URL, so from the app's port on
    each side), in the config too, and so the order of the list."""
    config = {**fn["config"], "id": "<uuid>"}
    return {**times(fn), "internal_id": "<uuid>", "app_id": "<uuid>",
            "config": ports(json.dumps(config)), "keys": list(fn)}


def _rest_v1_routes(side: Side) -> Answer:
    probe = side.probe
    listed = probe.request("GET", "/v1/apps/diff-py/functions")[1]
    return {
        "prom": _exchange(probe, "GET", "/v1/prom/dev"),
        "unknown_app_functions": _exchange(probe, "GET", "/v1/apps/nope/functions"),
        "app_functions": sorted((_function(fn) for fn in listed), key=lambda fn: str(fn)),
        "cancellation_refusals": {
            label: _error(probe.raw("POST", "/v1/cancellations", body))
            for label, body in _REFUSED.items()},
        "bad_cancellation_id": _error(probe.request("DELETE", "/v1/cancellations/xyz")),
    }


def _bulk_cancel(side: Side) -> Answer:
    """A valid bulk cancellation of one sleeping run (picked by ``if``, as other cases' runs
    of the function may be asleep too): the answer's status and the run's end."""
    probe = side.probe
    event_id = probe.send("py/cancellable", {"key": "bulk"})
    run_id = probe.run_ids(event_id)[0]
    wait_until_ready(side, "py", "bulk")
    sleeping(probe, run_id)
    started_before = datetime.datetime.now(datetime.timezone.utc).isoformat()
    status, _ = probe.request("POST", "/v1/cancellations", {
        "app_id": "diff-py", "function_id": "diff-py-cancellable",
        "started_before": started_before, "if": "event.data.key == 'bulk'"})
    return {"bulk_cancel": {"status": status, "run": attempt(lambda: _end(probe, run_id))},
            "cancellations_listed": probe.request("GET", "/v1/cancellations")[0]}


def _end(probe: Probe, run_id: str) -> object:
    """The run's status a few seconds on: it naps a minute unless it was cancelled."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = probe.run(run_id)["status"]
        if status != "RUNNING":
            return ids(status, {run_id: "<run>"})
        time.sleep(0.2)
    return "RUNNING"


CASES["rest_v1_routes"] = Case(_rest_v1_routes, (
    "prom", "unknown_app_functions", "app_functions", "cancellation_refusals",
    "bad_cancellation_id"))
CASES["rest_v1_bulk_cancel"] = Case(_bulk_cancel, ("bulk_cancel", "cancellations_listed"))
