"""Cases for run semantics (the functions of ``py_app.build_semantics``): function timeouts,
cancel and wait expressions, batch and concurrency keys, events sent from a step, invoke
timeouts, the events the server emits when a run ends and ``sleep_until``.

They register into ``cases.CASES`` and use its normalization rules; a rule of their own says
why the servers may differ there.
"""

from __future__ import annotations

import json
import re
import time
import typing

from cases import (
    CASES, EVENT, EVENTS, LATE_SECONDS, RUN_ASPECTS, Answer, Case, Side, attempt, duration, ids,
    inspect, one_run, rest, rest_v2, runs_per_event, send_until_ended, settled_run, sleeping,
    times, wait_until_ready,
)
import py_app
from probe import Probe, wait_for

HISTORY_TYPES = "query($id: ID!) { functionRun(query: {functionRunId: $id}) { history { type } } }"


def recorded(probe: Probe, run_id: str, item_type: str) -> None:
    """Until the run's history has an item of ``item_type`` (say its wait is registered)."""

    def found() -> None:
        history = probe.data(HISTORY_TYPES, id=run_id)["functionRun"]["history"]
        assert any(item["type"] == item_type for item in history), \
            f"{probe.name}: no {item_type} yet"

    wait_for(found, 30)


def _run_of(side: Side, event: str, data: dict[str, object]) -> tuple[str, str]:
    event_id = side.probe.send(event, data)
    return event_id, side.probe.run_ids(event_id)[0]


# -- function timeouts ------------------------------------------------------------------------
def _timeout_finish(side: Side) -> Answer:
    """``timeouts.finish`` of 1 s: the run, asleep for 10 s, is cancelled after 1 s.

    How long it took is timed here, from sending the event until the run shows cancelled:
    the real server's ``endedAt`` of such a run is 10 s after it was cancelled."""
    began = time.monotonic()
    event_id, run_id = _run_of(side, "py/timeout-finish", {"key": "tf"})
    side.probe.ended_run(run_id)
    seconds = time.monotonic() - began
    answer = inspect(side, run_id, (*RUN_ASPECTS, "rest_run", "function_run"), event_id)
    answer["cancelled_after"] = (
        "1 s, on time" if 1 <= seconds <= 1 + LATE_SECONDS else f"{seconds:.2f} s")
    answer["finish_events"] = attempt(lambda: _received(side, "tf", 2))
    return _anonymous(ids(answer, {event_id: "<event>", run_id: "<run>"}))  # type: ignore


def _timeout_start(side: Side) -> Answer:
    """``timeouts.start`` of 1 s with concurrency 1: the second run waits 2 s for the first
    one's step, so it is cancelled before it starts."""
    first, first_run = _run_of(side, "py/timeout-start", {"key": "ts", "n": 0})
    second, second_run = _run_of(side, "py/timeout-start", {"key": "ts", "n": 1})
    answer = runs_per_event(side, [first, second], 0.0)
    answer.update(inspect(side, second_run, (*RUN_ASPECTS, "rest_run"), second))
    answer["executions"] = side.record.counts("ts")
    return ids(answer, {first_run: "<first run>"})  # type: ignore[return-value]


CASES["sem_timeout_finish"] = Case(
    _timeout_finish, (*RUN_ASPECTS, "rest_run", "function_run", "cancelled_after",
                      "finish_events"), phase=1)
CASES["sem_timeout_start"] = Case(
    _timeout_start, ("runs_per_event", *RUN_ASPECTS, "rest_run", "executions"), phase=1)


# -- cancel on event: if expression and timeout ------------------------------------------------
def _cancel_if(side: Side) -> Answer:
    """A stop event whose data matches the cancel's ``if`` cancels the sleeping run; one that
    does not match leaves the other run to wake and complete."""
    answer: Answer = {}
    for key, stop in (("ci-yes", True), ("ci-no", False)):
        event_id, run_id = _run_of(side, "py/cancel-if", {"key": key})
        wait_until_ready(side, "py", key)
        sleeping(side.probe, run_id)
        if stop:
            send_until_ended(side, run_id, "py/cancel-if.stop", {"key": key, "stop": True})
        else:
            side.probe.send("py/cancel-if.stop", {"key": key, "stop": False})
        for aspect, value in inspect(side, run_id, RUN_ASPECTS, event_id).items():
            answer[f"{key}-{aspect}"] = value
    return answer


def _cancel_timeout(side: Side) -> Answer:
    """A cancel with a 1 s ``timeout``: the stop event, sent 2 s after the trigger, comes too
    late to cancel the run, which wakes from its 3 s sleep and completes."""
    sent_at = time.monotonic()
    event_id, run_id = _run_of(side, "py/cancel-timeout", {"key": "ct"})
    wait_until_ready(side, "py", "ct")
    sleeping(side.probe, run_id)
    time.sleep(max(0.0, sent_at + 2.0 - time.monotonic()))
    side.probe.send("py/cancel-timeout.stop", {"key": "ct"})
    return inspect(side, run_id, RUN_ASPECTS, event_id)


CASES["sem_cancel_if"] = Case(
    _cancel_if, tuple(f"{key}-{aspect}" for key in ("ci-yes", "ci-no") for aspect in RUN_ASPECTS),
    phase=1)
CASES["sem_cancel_timeout"] = Case(_cancel_timeout, RUN_ASPECTS, phase=1)


# -- batch and concurrency keys ----------------------------------------------------------------
def _batch_key(side: Side) -> Answer:
    """Batches of 2 keyed by ``event.data.group``: events of groups a, b, a, b make two full
    batches, one per group. Which event of a batch lists its run is not compared (see
    ``cases._batch``)."""
    sent = []
    for n, group in enumerate("abab"):
        sent.append(side.probe.send("py/batch-key", {"key": "bk", "group": group, "n": n}))
        time.sleep(0.1)

    def both_batches() -> list[list[str]]:
        # One batch's run may be listed a moment after the other's.
        per_event = typing.cast("list[list[str]]",
                                runs_per_event(side, sent, 0.5)["runs_per_event"])
        assert sum(map(len, per_event)) >= 2, per_event
        return per_event

    try:
        per_event = wait_for(both_batches, 15)
    except AssertionError:  # fewer runs: compared as they are
        per_event = typing.cast("list[list[str]]",
                                runs_per_event(side, sent, 0.0)["runs_per_event"])
    return {"runs_per_event": sorted(per_event)}


def _concurrency_key(side: Side) -> Answer:
    """Concurrency 1 per ``event.data.group``: two runs of group 1 take turns, the run of
    group 2 runs beside them (``most at once``: 2 in all, 1 per group)."""
    sent = [side.probe.send("py/concurrency-key", {"key": "ck", "group": group, "n": n})
            for n, group in enumerate((1, 1, 2))]
    answer = runs_per_event(side, sent, 0.0)
    answer["executions"] = {
        key: side.record.counts(key) for key in ("ck", "ck/1", "ck/2")}
    return answer


CASES["sem_batch_key"] = Case(_batch_key, ("runs_per_event",))
CASES["sem_concurrency_key"] = Case(_concurrency_key, ("runs_per_event", "executions"), phase=1)


# -- step.send_event --------------------------------------------------------------------------
def _payload(event: object) -> object:
    """An event's payload as an object, its receipt time left out (each server's own)."""
    if isinstance(event, dict) and isinstance(event.get("payload"), str):
        payload = json.loads(event["payload"])
        if isinstance(payload, dict) and "ts" in payload:
            payload["ts"] = "<ts>"
        return {**event, "payload": payload}
    return event


def _no_ts(answer: object) -> object:
    """A REST event without its ``ts``, each server's own receipt time."""
    data = answer.get("body", {}).get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict) and "ts" in data:
        data["ts"] = "<ts>"
    return answer


def _send_event(lang: str) -> typing.Callable[[Side], Answer]:
    """The sender's step sends ``<lang>/sent``: the function gets the event's id back, the
    event is stored (GraphQL ``event``, REST ``/v1/events/{id}``) and starts the ``sent``
    function. The JS SDK sends it with the sendEvent op, ours in a ``step.run``."""

    def drive(side: Side) -> Answer:
        event_id, run_id = _run_of(side, f"{lang}/sender", {"key": f"se-{lang}"})
        output = settled_run(side.probe, run_id).get("output")
        sent_ids = json.loads(output)["ids"] if isinstance(output, str) else []
        answer = inspect(side, run_id, RUN_ASPECTS, event_id)
        labels = {sent: f"<sent {n}>" for n, sent in enumerate(sent_ids)}
        if sent_ids:
            side.probe.run_of(sent_ids[0])

            def sent_event() -> object:
                # The dev server may list the event's run as running a moment after it ended.
                event = side.probe.data(EVENT, id=sent_ids[0])["event"]
                assert all(run["status"] not in ("RUNNING", "QUEUED")
                           for run in event["functionRuns"] or []), event
                return _payload(event)

            answer["sent_event"] = attempt(lambda: wait_for(sent_event, 20))
            answer["rest_sent_event"] = attempt(lambda: _no_ts(
                rest(side.probe, f"/v1/events/{sent_ids[0]}")))
        return ids(answer, labels)  # type: ignore[return-value]

    return drive


for _lang in ("py", "js"):
    CASES[f"{_lang}_send_event"] = Case(
        _send_event(_lang), (*RUN_ASPECTS, "sent_event", "rest_sent_event"), js=_lang == "js")


# -- wait_for_event with an if -----------------------------------------------------------------
def _wait_if(side: Side) -> Answer:
    """A wait whose ``if`` the event sent does not match times out (2 s); a wait matching on
    ``async.data`` alone skips an event with ``n`` 3 and takes the one with ``n`` 7."""
    answer: Answer = {}
    runs = {
        "wi-a": ('async.data.key == "wi-a" && async.data.ok', 2),
        "wi-b": ('async.data.key == "wi-b" && async.data.n > 5', 20),
    }
    for key, (expression, timeout) in runs.items():
        event_id, run_id = _run_of(
            side, "py/wait-if", {"key": key, "if": expression, "timeout": timeout})
        wait_until_ready(side, "py", key)
        recorded(side.probe, run_id, "StepWaiting")
        if key == "wi-a":
            side.probe.send("py/wait-if.resolve", {"key": key, "ok": False})
        else:
            side.probe.send("py/wait-if.resolve", {"key": key, "n": 3})
            send_until_ended(side, run_id, "py/wait-if.resolve", {"key": key, "n": 7})
        for aspect, value in inspect(side, run_id, RUN_ASPECTS, event_id).items():
            answer[f"{key}-{aspect}"] = value
    return answer


CASES["sem_wait_if"] = Case(
    _wait_if, tuple(f"{key}-{aspect}" for key in ("wi-a", "wi-b") for aspect in RUN_ASPECTS),
    phase=1)


# -- invoke with a timeout ---------------------------------------------------------------------
INVOKEE_RUNS = f"/apps/{py_app.APP_ID}/functions/slow-invokee/runs?includeOutput=true"


def _invoke_timeout(side: Side) -> Answer:
    """An invoke with a 1 s timeout of a function that sleeps 2 s: the step fails with the
    timeout error (caught by the function), and the invoked run goes on to complete."""
    answer = one_run(side, "py/invoke-timeout", {"key": "it"}, RUN_ASPECTS)

    def invokee_ended() -> object:
        found = rest_v2(side.probe, INVOKEE_RUNS)
        runs = typing.cast(typing.Any, found)["body"].get("data") or []
        assert runs and all(run.get("status") not in ("RUNNING", "QUEUED") for run in runs), \
            f"{side.probe.name}: invoked run not ended: {runs}"
        return [{"status": run.get("status"), "output": run.get("output")} for run in runs]

    answer["invokee"] = attempt(lambda: wait_for(invokee_ended, 20))
    return answer


CASES["sem_invoke_timeout"] = Case(_invoke_timeout, (*RUN_ASPECTS, "invokee"), phase=1)


# -- the events a server emits when a run ends -------------------------------------------------
_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")


def _received(side: Side, key: str, count: int) -> list[object]:
    """The finish events about the run for ``key``, as ``on-finished``, ``on-failed`` and
    ``on-cancelled`` got them, by name."""

    def received() -> list[object]:
        kept = side.record.kept(key)
        assert len(kept) >= count, f"{side.probe.name}: {len(kept)} events for {key}"
        return sorted(kept, key=lambda event: str(event["name"]))  # type: ignore[index]

    return wait_for(received, 20)


def _anonymous(answer: Answer) -> Answer:
    """Without the ids and times the two servers give their own events (``ids`` labels the
    ones the case knows first)."""
    text = re.sub(r'"ts": \d+', '"ts": "<ts>"', json.dumps(answer))
    return typing.cast(Answer, times(json.loads(_ULID.sub("<id>", text))))


def _function_events(side: Side) -> Answer:
    """``inngest/function.finished`` for a run that completed and one that failed, and
    ``inngest/function.failed`` for the failed one, as the functions triggered by them get
    them: names, ids and data. (``sem_timeout_finish`` has those of a cancelled run.)"""
    answer: Answer = {}
    labels: dict[str, str] = {}
    for key, count in (("fe-ok", 1), ("fe-fail", 2)):
        event_id, run_id = _run_of(side, "py/finishes", {"key": key, "fail": key == "fe-fail"})
        labels.update({event_id: f"<{key} event>", run_id: f"<{key} run>"})
        answer[key] = attempt(lambda: _received(side, key, count))
        answer[f"{key} eventsV2"] = attempt(lambda: finish_events_v2(side.probe, run_id, count))
    answer["listed"] = _internal_listed(side.probe)
    return _anonymous(typing.cast(Answer, ids(answer, labels)))


EVENTS_V2 = """query($from: Time!, $after: String) { eventsV2(first: 50, after: $after,
  filter: {from: $from, includeInternalEvents: true, eventNames: ["inngest/function.finished",
  "inngest/function.failed"]}) { edges { node { id name raw } }
  pageInfo { hasNextPage endCursor } } }"""


def _all_events_v2(probe: Probe) -> list[dict[str, typing.Any]]:
    """Every page of ``EVENTS_V2``: every run of the suite ends with a finish event."""
    nodes: list[dict[str, typing.Any]] = []
    after = None
    while True:
        page = probe.data(EVENTS_V2, **{"from": "2000-01-01T00:00:00Z", "after": after})
        nodes += [edge["node"] for edge in page["eventsV2"]["edges"]]
        if not page["eventsV2"]["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["eventsV2"]["pageInfo"]["endCursor"]


def finish_events_v2(probe: Probe, run_id: str, count: int) -> object:
    """The finish events of ``run_id`` in ``eventsV2`` with internal events, by name."""

    def listed() -> list[object]:
        mine = [{**node, "raw": json.loads(node["raw"])} for node in _all_events_v2(probe)
                if json.loads(node["raw"])["data"].get("run_id") == run_id]
        assert len(mine) >= count, f"{probe.name}: {len(mine)} eventsV2 for {run_id}"
        return sorted(mine, key=lambda node: str(node["name"]))

    return wait_for(listed, 20)


def _internal_listed(probe: Probe) -> object:
    """Which ``inngest/`` events the events lists show (REST ``/v1/events``, by name and
    unfiltered, and GraphQL ``events``)."""
    listed: dict[str, object] = {}
    for name in ("inngest/function.finished", "inngest/function.failed"):
        status, body = probe.request("GET", f"/v1/events?name={name}")
        listed[f"rest {name}"] = [status, len(body.get("data") or [])]
    status, body = probe.request("GET", "/v1/events?limit=100")
    listed["rest"] = sorted({event["name"] for event in body.get("data") or []
                             if event["name"].startswith("inngest/")})
    events = probe.data(EVENTS)["events"] or []
    listed["graphql"] = sorted({event["name"] for event in events
                                if event["name"].startswith("inngest/")})
    return listed


CASES["sem_function_events"] = Case(
    _function_events, ("fe-ok", "fe-fail", "fe-ok eventsV2", "fe-fail eventsV2", "listed"))


# -- sleep_until -------------------------------------------------------------------------------
def _sleep_until(side: Side) -> Answer:
    event_id, run_id = _run_of(side, "py/sleep-until", {"key": "su"})
    settled_run(side.probe, run_id)
    answer = inspect(side, run_id, RUN_ASPECTS, event_id)
    answer["duration"] = attempt(lambda: duration(side.probe, run_id, 1))
    return answer


CASES["sem_sleep_until"] = Case(_sleep_until, (*RUN_ASPECTS, "duration"), phase=1)
