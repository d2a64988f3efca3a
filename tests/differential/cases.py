"""The cases: each drives one server (events and actions) and answers what a user or a tool
sees, per aspect, normalized only where the two servers must differ (each rule below says why).

A case runs unchanged against both servers; the test compares the two answers aspect by
aspect, so a difference in one aspect (say the history) does not hide the others.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import socket
import time
import typing

import py_app
from probe import Probe, T, wait_for

Answer = typing.Dict[str, object]


@dataclasses.dataclass(frozen=True)
class Side:
    """One server with its own app instances."""

    probe: Probe
    record: py_app.Record
    js_counts: typing.Callable[[str], dict[str, int]] | None
    js_v4_counts: typing.Callable[[str], dict[str, int]] | None = None


@dataclasses.dataclass(frozen=True)
class Case:
    drive: typing.Callable[[Side], Answer]
    aspects: tuple[str, ...]
    js: bool = False
    # Cases run in phases, each once the one before ended, all of a phase at once: timing
    # cases run after the crowd of phase 0, so a busy machine does not make them late.
    phase: int = 0


CASES: dict[str, Case] = {}

FUNCTION_RUN = "query($id: ID!) { functionRun(query: {functionRunId: $id}) { status output } }"
HISTORY = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  history { attempt type stepName createdAt } } }"""
_SPAN = "name status stepOp stepType queuedAt startedAt endedAt duration"
TRACE = """query($id: String!) { runTrace(runID: $id) { %s
  childrenSpans { %s stepInfo { __typename }
    childrenSpans { %s stepInfo { __typename } } } } }""" % (_SPAN, _SPAN, _SPAN)
PAGE_TRACE = """query($id: String!) { run(runID: $id) { trace { name status stepOp attempts
  queuedAt startedAt endedAt
  childrenSpans { name status stepOp attempts queuedAt startedAt endedAt
    childrenSpans { name status stepOp attempts queuedAt startedAt endedAt } } } } }"""
EVENT = """query($id: ID!) { event(query: {eventId: $id}) {
  name payload functionRuns { status output } } }"""

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_PORT = re.compile(r"(localhost|127\.0\.0\.1):\d+")


def case(name: str, *aspects: str, js: bool = False) -> typing.Callable[..., typing.Any]:
    def register(drive: typing.Callable[[Side], Answer]) -> typing.Callable[[Side], Answer]:
        CASES[name] = Case(drive, aspects, js)
        return drive

    return register


# -- normalization: each rule says why the servers may differ there -----------------------

def ids(value: object, labels: dict[str, str]) -> object:
    """Replace ids with labels: ULIDs and UUIDs are random per server, while which answer
    refers to which event or run is what must match."""
    if isinstance(value, str):
        for real, label in labels.items():
            value = value.replace(real, label)
        return value
    if isinstance(value, list):
        return [ids(item, labels) for item in value]
    if isinstance(value, dict):
        return {key: ids(item, labels) for key, item in value.items()}
    return value


def times(value: object) -> object:
    """Timestamps differ by when each server ran the case; their presence and place must not."""
    if isinstance(value, str):
        return _TIME.sub("<time>", value)
    if isinstance(value, list):
        return [times(item) for item in value]
    if isinstance(value, dict):
        return {key: times(item) for key, item in value.items()}
    return value


def written(moment: object) -> object:
    """How a GraphQL time is written, not when it is: the dev server writes Go's RFC 3339
    with nanoseconds, which drops a fraction's trailing zeros (``…:16Z``, ``…:16.1Z``); a
    time ending in a zero (one in ten millisecond times, when written with three digits)
    is told apart."""
    found = _TIME.fullmatch(moment) if isinstance(moment, str) else None
    if found is None:
        return moment
    return "<time with trailing zeros>" if (found.group(1) or "").endswith("0") else "<time>"


_REPLIES = ("StepCompleted", "StepErrored", "StepFailed")


def _ms(moment: object) -> float:
    """Milliseconds since the epoch of an RFC 3339 time (the real server drops trailing zeros
    of the fraction, so the text does not sort)."""
    text = str(moment)
    whole, _, fraction = text.rstrip("Z").partition(".")
    seconds = datetime.datetime.fromisoformat(whole).replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return seconds * 1000 + float(f"0.{fraction or 0}") * 1000


def history_shape(history: object, listed_in_order: bool) -> object:
    """Which items the history has (``items``, sorted), and in what order the run's calls and
    waits ended (``ends``: replies and wait results, in time order).

    The real server's list order is not reliable, and neither are its times for the items of
    one moment: seen FunctionScheduled after a StepScheduled, a retry's StepScheduled before
    its StepErrored, FunctionStarted stamped 10 ms after the first call started, a first
    call's StepStarted stamped after its reply, a StepInvoking stamped before the reply that
    asked for it. What is reliable is which items there are and the order of the calls' and
    waits' ends, which lie a queue hop apart, and how each time is written. Ours lists items
    in the order it recorded them (``listed_in_order``); the real server's ends are put in
    time order."""
    if not isinstance(history, list):
        return history
    items = [item for item in history if isinstance(item, dict)]
    ends = [item for item in items if item.get("type") in _REPLIES]
    if not listed_in_order:
        ends.sort(key=lambda item: _ms(item.get("createdAt")))

    def plain(item: dict[str, object]) -> dict[str, object]:
        return {key: written(value) if key == "createdAt" else value
                for key, value in item.items()}

    return {
        "items": sorted((plain(item) for item in items), key=_sort_key),
        "ends": [plain(item) for item in ends],
    }


def _sort_key(item: object) -> str:
    return json.dumps(item, sort_keys=True)


def any_order(answer: Answer) -> Answer:
    """Parallel steps run at once: the real server records their items and spans in
    whatever order they happened to start and end, so for parallel runs the history and the
    trace's spans are compared as sorted lists: which items and spans, not their order."""
    history = answer.get("history")
    if isinstance(history, dict):
        history["ends"] = sorted(history["ends"], key=_sort_key)
    trace = answer.get("trace")
    if isinstance(trace, dict):
        trace["children"] = sorted(trace["children"], key=_sort_key)
    return answer


def ports(value: object) -> object:
    """Each server has its own app instance on its own free port."""
    return _PORT.sub(r"\1:<port>", value) if isinstance(value, str) else value


def trace_tree(span: typing.Any) -> object:
    """The span tree a run's trace view shows: names, statuses and step kinds, in order, and
    how its times are written."""
    if not isinstance(span, dict):
        return span
    return {
        "name": span.get("name"), "status": span.get("status"), "stepOp": span.get("stepOp"),
        "stepInfo": (span.get("stepInfo") or {}).get("__typename"),
        **{key: span[key] for key in ("attempts", "stepType") if key in span},
        # Whether it has one: each server's own timing.
        **({"duration": span["duration"] is not None} if "duration" in span else {}),
        **{key: written(span.get(key)) for key in ("queuedAt", "startedAt", "endedAt")},
        "children": [trace_tree(child) for child in span.get("childrenSpans") or []],
    }


def finalization_first(tree: object) -> object:
    """The real server's ``Finalization`` span starts in the same moment as the function's
    call it sums up (``executor.nonstep``); spans are listed by start, so the two come in
    either order from one run to the next (seen on py_sleep). Put Finalization first."""
    if not isinstance(tree, dict):
        return tree
    children = list(tree["children"])
    for n in range(1, len(children)):
        if children[n]["name"] == "Finalization" and \
                children[n - 1]["name"] == "executor.nonstep":
            children[n - 1], children[n] = children[n], children[n - 1]
            break
    return {**tree, "children": children}


# -- inspection -----------------------------------------------------------------------------

def attempt(read: typing.Callable[[], object]) -> object:
    """An aspect's answer, or the failure: one unsupported query must not hide other aspects."""
    try:
        return read()
    except AssertionError as err:
        return {"query failed": str(err).split("\n")[0]}


# How long the real server's trace of an ended run is read again while it has a placeholder.
TRACE_WAIT_SECONDS = 3.0
_PLACEHOLDER_SPAN = re.compile(r"'name': '(?:execute|Queued step)'")


def settled(probe: Probe, read: typing.Callable[[], T]) -> T:
    """``read()`` once no span is named ``execute`` or ``Queued step``, on the real server:
    it names an execution span so until its step is known and may write that after the run's
    status (seen on a busy machine, read right after the run ended)."""
    answer = read()
    deadline = time.monotonic() + TRACE_WAIT_SECONDS
    while (probe.name != "ours" and _PLACEHOLDER_SPAN.search(repr(answer))
           and time.monotonic() < deadline):
        time.sleep(0.3)
        answer = read()
    return answer


def push_sync(probe: Probe, url: str, app: str, slug: str, event: str) -> dict[str, typing.Any]:
    """Sync an app of one function (``slug``, on ``event``) at ``url``, which nothing serves:
    the sync is pushed, as an SDK pushes it. Its answer."""
    status, body = probe.request("POST", "/fn/register", {
        "url": url, "appName": app, "framework": "flask", "sdk": "py:v0.1.0", "v": "0.1",
        "functions": [{"id": slug, "name": "fn", "triggers": [{"event": event}],
                       "steps": {"step": {"id": "step", "name": "step",
                                          "runtime": {"type": "http", "url": url}}}}]})
    assert status == 200, f"{probe.name}: sync answered {status}: {body}"
    return typing.cast("dict[str, typing.Any]", body)


# How long a null output of a completed or failed run on the real server is read again.
OUTPUT_WAIT_SECONDS = 3.0


def settled_run(probe: Probe, run_id: str, timeout: float = 45) -> dict[str, typing.Any]:
    """``run { status output }`` once ended. Read again: the real server may show the final
    status before the output (0.2 s on a quiet machine, over 0.5 s on a busy one), so there a
    null output is read again until it shows or ``OUTPUT_WAIT_SECONDS`` pass."""
    probe.ended_run(run_id, timeout)
    time.sleep(0.5)
    run = probe.run(run_id)
    deadline = time.monotonic() + OUTPUT_WAIT_SECONDS
    while (probe.name != "ours" and run["output"] is None
           and run["status"] in ("COMPLETED", "FAILED") and time.monotonic() < deadline):
        time.sleep(0.25)
        run = probe.run(run_id)
    return run


def inspect(side: Side, run_id: str, aspects: typing.Iterable[str],
            event_id: str = "") -> Answer:
    probe = side.probe
    answer: Answer = {}
    readers: dict[str, typing.Callable[[], object]] = {
        # The output may quote a time computed from "now" (a sleep's end, say).
        "run": lambda: times(settled_run(probe, run_id)),
        "history": lambda: history_shape(
            probe.data(HISTORY, id=run_id)["functionRun"]["history"], probe.name == "ours"),
        "trace": lambda: settled(probe, lambda: finalization_first(
            trace_tree(probe.data(TRACE, id=run_id)["runTrace"]))),
        # The tree the run's page shows (``run { trace }``).
        "page": lambda: settled(probe, lambda: trace_tree(
            probe.data(PAGE_TRACE, id=run_id)["run"]["trace"])),
        "rest_run": lambda: rest(probe, f"/v1/runs/{run_id}"),
        "function_run": lambda: probe.data(FUNCTION_RUN, id=run_id)["functionRun"],
    }
    for aspect in aspects:
        if aspect in readers:
            answer[aspect] = attempt(readers[aspect])
    labels = {run_id: "<run>", **({event_id: "<event>"} if event_id else {})}
    return ids(answer, labels)  # type: ignore[return-value]


DURATION = "query($id: String!) { run(runID: $id) { startedAt endedAt } }"


LATE_SECONDS = 2.0
EARLY_SECONDS = 0.3


def duration(probe: Probe, run_id: str, expected: float) -> str:
    """Whether the run took ``expected`` seconds, give or take: both servers add their own
    scheduling delay (the real one polls its queue every 150 ms) and the machine may be busy,
    so a run counts as on time from ``expected`` to ``LATE_SECONDS`` more. From
    ``EARLY_SECONDS`` less, too: on a busy machine the real server's ``startedAt`` can come
    after the run's first step ran (a run sleeping until 1 s after its first step was seen to
    last 0.81 s)."""
    run = probe.data(DURATION, id=run_id)["run"]
    seconds = (_ms(run["endedAt"]) - _ms(run["startedAt"])) / 1000
    if expected - EARLY_SECONDS <= seconds <= expected + LATE_SECONDS:
        return f"{expected} s, on time"
    return f"{seconds:.2f} s where {expected} s was expected"


def rest(probe: Probe, path: str, method: str = "GET") -> object:
    status, body = probe.request(method, path)
    if isinstance(body, dict):
        # Cache hints are computed per request from the clock.
        (body.get("metadata") or {}).pop("fetched_at", None)
        (body.get("metadata") or {}).pop("cached_until", None)
        data = body.get("data")
        for run in data if isinstance(data, list) else [data]:
            if isinstance(run, dict) and "function_id" in run:
                # A function's UUID is derived from its app's URL (each server has its own
                # app instance on its own port) by the real server and by ours.
                run["function_id"] = "<function uuid>"
    return {"status": status, "body": times(body)}


def one_run(side: Side, event: str, data: dict[str, object], aspects: typing.Iterable[str],
            expect_seconds: float = 0.0, **fields: object) -> Answer:
    """Send ``event``; inspect the run it starts (after it ended, for run aspects)."""
    event_id = side.probe.send(event, data, **fields)
    run_id = side.probe.run_ids(event_id)[0]
    wanted = list(aspects)
    settled_run(side.probe, run_id)  # every aspect is read once the run has ended
    answer = inspect(side, run_id, wanted)
    if "event" in wanted:
        answer["event"] = attempt(lambda: side.probe.data(EVENT, id=event_id)["event"])
    if "duration" in wanted:
        answer["duration"] = attempt(lambda: duration(side.probe, run_id, expect_seconds))
    if "rest_event_runs" in wanted:
        answer["rest_event_runs"] = attempt(
            lambda: rest(side.probe, f"/v1/events/{event_id}/runs"))
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


def _simple(name: str, event: str, data: dict[str, object], *aspects: str,
            js: bool = False, seconds: float = 0.0) -> None:
    """A case that sends one event and reads its run; ``seconds``: how long the run takes."""
    CASES[name] = Case(lambda side: one_run(side, event, data, aspects, seconds), aspects, js,
                       phase=1 if seconds else 0)


RUN_ASPECTS = ("run", "history", "trace")

# -- run status, output, error shapes, history and trace ------------------------------------
for lang in ("py", "js"):
    on_js = lang == "js"
    _simple(f"{lang}_steps", f"{lang}/steps", {"key": "steps", "n": 1},
            *RUN_ASPECTS, "event", "rest_run", "rest_event_runs", "function_run", js=on_js)
    _simple(f"{lang}_non_retriable", f"{lang}/non-retriable", {"key": "nr"}, *RUN_ASPECTS,
            "page", "rest_run", "function_run", js=on_js)
    _simple(f"{lang}_exhausted_retries", f"{lang}/exhausted", {"key": "ex"}, *RUN_ASPECTS,
            "page", js=on_js)
    # A step failing for good on its only attempt (retries 0).
    _simple(f"{lang}_step_fails_now", f"{lang}/step-fails-now", {"key": "sfn"}, *RUN_ASPECTS,
            "page", js=on_js)
    _simple(f"{lang}_retry_after", f"{lang}/retry-after", {"key": "ra"}, *RUN_ASPECTS,
            js=on_js)
    _simple(f"{lang}_sleep", f"{lang}/sleeper", {"key": "sl"}, *RUN_ASPECTS, "duration",
            js=on_js, seconds=1)
    _simple(f"{lang}_wait_timeout", f"{lang}/waiter", {"key": "wt", "timeout": 2},
            *RUN_ASPECTS, "duration", js=on_js, seconds=2)
    _simple(f"{lang}_invoke", f"{lang}/invoker", {"key": "inv", "n": 21}, *RUN_ASPECTS,
            js=on_js)

_simple("py_flaky_step", "py/flaky-step", {"key": "flaky"}, *RUN_ASPECTS)
_simple("py_step_fails", "py/step-fails", {"key": "stepfail"}, *RUN_ASPECTS, "page")
_simple("js_step_fails", "js/step-fails", {"key": "stepfail"}, *RUN_ASPECTS, "page", js=True)
_simple("py_sleep_too_long", "py/sleep-too-long", {"key": "long"}, "run")
_simple("py_invoke_failed", "py/invoker", {"key": "invf", "fail": True}, *RUN_ASPECTS)


def _wait_matched(lang: str) -> typing.Callable[[Side], Answer]:
    def drive(side: Side) -> Answer:
        key = f"wm-{lang}"
        event_id = side.probe.send(f"{lang}/waiter", {"key": key, "timeout": 30})
        run_id = side.probe.run_ids(event_id)[0]
        wait_until_ready(side, lang, key)
        send_until_ended(side, run_id, f"{lang}/waiter.resolve", {"key": key, "answer": 42})
        return inspect(side, run_id, RUN_ASPECTS, event_id)

    return drive


def wait_until_ready(side: Side, lang: str, key: str) -> None:
    """Until the function ran its ``ready`` step, the one before its wait or sleep."""

    def ready() -> None:
        counts = side.record.counts(key) if lang == "py" else (side.js_counts or dict)(key)
        assert counts.get("ready"), f"{side.probe.name}: {key} not ready"

    wait_for(ready, 30)


def sleeping(probe: Probe, run_id: str) -> None:
    """Until the run's sleep is recorded: a cancel meant for a sleeping run, sent between
    the step before it and the sleep, would find the run at another point on each server."""

    def asleep() -> None:
        history = probe.data(HISTORY, id=run_id)["functionRun"]["history"]
        assert any(item["type"] == "StepSleeping" for item in history), \
            f"{probe.name}: not asleep yet"

    wait_for(asleep, 30)


def send_until_ended(side: Side, run_id: str, event: str, data: dict[str, object]) -> None:
    """Send ``event`` until the run ends: a busy server records a wait (or cancel) a moment
    after the step before it, and an event sent before that matches nothing."""

    def ended() -> None:
        side.probe.send(event, data)
        time.sleep(1.0)
        status = side.probe.run(run_id)["status"]
        assert status not in ("RUNNING", "QUEUED"), f"{side.probe.name}: run still {status}"

    wait_for(ended, 30)


CASES["py_wait_matched"] = Case(_wait_matched("py"), RUN_ASPECTS)
CASES["js_wait_matched"] = Case(_wait_matched("js"), RUN_ASPECTS, js=True)


# -- parallel steps: each step body runs once -------------------------------------------------
PARALLEL_RUNS = 4  # a step body run twice depends on timing: several runs make it show


def _parallel(lang: str) -> typing.Callable[[Side], Answer]:
    def drive(side: Side) -> Answer:
        keys = [f"par-{lang}-{n}" for n in range(PARALLEL_RUNS)]
        sent = [side.probe.send(f"{lang}/parallel", {"key": key}) for key in keys]
        runs = [side.probe.run_ids(event_id)[0] for event_id in sent]
        for run_id in runs:
            side.probe.ended_run(run_id)
        answer = any_order(inspect(side, runs[0], RUN_ASPECTS, sent[0]))
        counts = side.record.counts if lang == "py" else (side.js_counts or dict)
        answer["executions"] = [counts(key) for key in keys]
        return answer

    return drive


CASES["py_parallel"] = Case(_parallel("py"), (*RUN_ASPECTS, "executions"), phase=2)
CASES["js_parallel"] = Case(_parallel("js"), (*RUN_ASPECTS, "executions"), js=True, phase=3)


# -- checkpointing: steps run within one call ------------------------------------------------
@case("js_checkpointed", *RUN_ASPECTS, "executions", js=True)
def _checkpointed(side: Side) -> Answer:
    answer = one_run(side, "js/checkpointed", {"key": "cp"}, RUN_ASPECTS)
    answer["executions"] = (side.js_counts or dict)("cp")
    return answer


# -- cancellation --------------------------------------------------------------------------
@case("py_cancel_on_event", *RUN_ASPECTS)
def _cancel_on_event(side: Side) -> Answer:
    event_id = side.probe.send("py/cancellable", {"key": "coe"})
    run_id = side.probe.run_ids(event_id)[0]
    wait_until_ready(side, "py", "coe")
    sleeping(side.probe, run_id)
    send_until_ended(side, run_id, "py/cancellable.stop", {"key": "coe"})
    return inspect(side, run_id, RUN_ASPECTS, event_id)


@case("py_cancel_rest", "cancel", "run", "rest_run", "history", "function_run")
def _cancel_rest(side: Side) -> Answer:
    event_id = side.probe.send("py/cancellable", {"key": "crest"})
    run_id = side.probe.run_ids(event_id)[0]
    wait_until_ready(side, "py", "crest")
    sleeping(side.probe, run_id)  # the same history on both
    cancelled = rest(side.probe, f"/v1/runs/{run_id}", "DELETE")
    answer = inspect(side, run_id, ("run", "rest_run", "history", "function_run"), event_id)
    answer["cancel"] = ids(cancelled, {run_id: "<run>", event_id: "<event>"})
    return answer


# -- on_failure ------------------------------------------------------------------------------
@case("py_on_failure", "run", "handler")
def _on_failure(side: Side) -> Answer:
    answer = one_run(side, "py/with-on-failure", {"key": "onf"}, ("run",))

    def handled() -> object:
        assert "onf" in side.record.failures, f"{side.probe.name}: on_failure did not run"
        return side.record.failures["onf"]

    answer["handler"] = attempt(lambda: wait_for(handled, 20))
    return answer


# -- flow control: which runs start -----------------------------------------------------------
def runs_per_event(side: Side, event_ids: list[str], settle: float) -> Answer:
    """For each event, its runs' (status, output), read once some event has a run, ``settle``
    more seconds passed (for runs that should not start) and every run ended."""

    def any_run() -> None:
        assert any(
            (side.probe.data(EVENT, id=event_id)["event"] or {}).get("functionRuns")
            for event_id in event_ids
        ), f"{side.probe.name}: no run yet"

    wait_for(any_run, 30)
    time.sleep(settle)

    def ended() -> list[object]:
        answer: list[object] = []
        for event_id in event_ids:
            event = side.probe.data(EVENT, id=event_id)["event"] or {}
            runs = event.get("functionRuns") or []
            assert all(run["status"] not in ("RUNNING", "QUEUED") for run in runs), runs
            answer.append(sorted(json.dumps(run, sort_keys=True) for run in runs))
        return answer

    return {"runs_per_event": wait_for(ended, 30)}


def _sequence(event: str, key: str, count: int, settle: float,
              gap: float = 0.0, first_runs: bool = False) -> typing.Callable[[Side], Answer]:
    """Send ``count`` events one after another, ``gap`` seconds apart; with ``first_runs``
    the rest only once the first has its run (the real server may create runs for events sent
    together in any order)."""

    def drive(side: Side) -> Answer:
        sent = []
        for n in range(count):
            sent.append(side.probe.send(event, {"key": key, "n": n}))
            if first_runs and n == 0:
                side.probe.run_ids(sent[0])
            time.sleep(gap)
        return runs_per_event(side, sent, settle)

    return drive


CASES["py_rate_limit"] = Case(
    _sequence("py/rate-limited", "rl", 3, 1.0, first_runs=True), ("runs_per_event",))
# Not in the crowd: under load the real server may take events sent 0.3 s apart out of order,
# and which event is last is the point here.
CASES["py_debounce"] = Case(
    _sequence("py/debounced", "deb", 3, 0.5, gap=0.3), ("runs_per_event",), phase=1)
CASES["py_idempotency"] = Case(
    _sequence("py/idempotent", "idem", 2, 1.0, first_runs=True), ("runs_per_event",))


@case("py_batch", "runs_per_event", "rest_event_runs")
def _batch(side: Side) -> Answer:
    """Three events fill a batch of three: one run, listed for one of the events. Which one is
    not compared: the real server lists it for the event its queue batched first, under load
    not always the first sent."""
    sent = []
    for n in range(3):
        sent.append(side.probe.send("py/batched", {"key": "batch", "n": n}))
        time.sleep(0.2)
    per_event = runs_per_event(side, sent, 0.5)["runs_per_event"]
    rest_counts = [
        len(typing.cast(typing.Any, rest(side.probe, f"/v1/events/{event_id}/runs"))["body"]
            .get("data") or [])
        for event_id in sent
    ]
    return {
        "runs_per_event": sorted(typing.cast("list[list[str]]", per_event)),
        "rest_event_runs": sorted(rest_counts),
    }


@case("py_concurrency", "runs_per_event", "executions")
def _concurrency(side: Side) -> Answer:
    """Concurrency 1: two runs at once both complete, their 1 s steps one after the other."""
    sent = [side.probe.send("py/one-at-a-time", {"key": "conc", "n": n}) for n in range(2)]
    answer = runs_per_event(side, sent, 0.0)
    answer["executions"] = side.record.counts("conc")
    return answer


@case("py_throttle", "runs_per_event", "starts")
def _throttle(side: Side) -> Answer:
    """A throttle of 1 per 2 s (burst 1): of three runs at once, two start at once and the
    third about 2 s later. Starts are bucketed to within 1.5 s of the first or later: both
    servers add their own scheduling delay (the real server's is up to a second on a busy
    machine)."""
    sent = [side.probe.send("py/throttled", {"key": "thr", "n": n}) for n in range(3)]

    def all_started() -> list[float]:
        found = side.record.starts("thr")
        assert len(found) == 3, f"{side.probe.name}: {len(found)} throttled runs started"
        return found

    starts = wait_for(all_started, 20)
    answer = runs_per_event(side, sent, 0.0)
    answer["starts"] = ["at once" if start < 1.5 else "later" for start in starts]
    return answer


@case("py_singleton_skip", "runs_per_event")
def _singleton(side: Side) -> Answer:
    first = side.probe.send("py/singleton", {"key": "single", "n": 0})
    side.probe.run_ids(first)
    second = side.probe.send("py/singleton", {"key": "single", "n": 1})
    return runs_per_event(side, [first, second], 1.0)


@case("event_id_dedup", "runs_per_event", "events")
def _event_id_dedup(side: Side) -> Answer:
    """A second event with the same ``id`` field, sent once the first started its run, is a
    duplicate. (Sent together, the real server links the run to either event or neither.)"""
    first = side.probe.send("py/steps", {"key": "dedup", "n": 0}, id="dedup-1")
    side.probe.run_ids(first)
    sent = [first, side.probe.send("py/steps", {"key": "dedup", "n": 1}, id="dedup-1")]
    answer = runs_per_event(side, sent, 1.0)
    answer["events"] = [
        attempt(lambda e=e: side.probe.data(EVENT, id=e)["event"]) for e in sent]  # type: ignore
    return ids(answer, {first: "<first event>", sent[1]: "<second event>"})  # type: ignore


# -- what tools list: apps, functions, events ------------------------------------------------
APPS = """{ apps { name sdkLanguage sdkVersion framework url error functionCount connected
  method functions { name slug } } }"""
FUNCTIONS = "{ functions { name slug url triggers { type value } app { name } } }"
FAILURE_HANDLERS = "{ functions { slug failureHandler { slug } } }"
EVENTS = "{ events(query: {}) { name } }"


@case("apps", "apps")
def _apps(side: Side) -> Answer:
    apps = side.probe.data(APPS)["apps"]
    for app in apps:
        app["url"] = ports(app["url"])
        app["functions"] = sorted(app["functions"], key=lambda fn: fn["slug"])
    return {"apps": sorted(apps, key=lambda app: app["name"])}


@case("functions", "functions", "failure_handlers")
def _functions(side: Side) -> Answer:
    functions = side.probe.data(FUNCTIONS)["functions"]
    for fn in functions:
        fn["url"] = ports(fn["url"])

    def handlers() -> object:
        found = side.probe.data(FAILURE_HANDLERS)["functions"]
        return sorted(found, key=lambda fn: str(fn["slug"]))

    return {
        "functions": sorted(functions, key=lambda fn: fn["slug"]),
        "failure_handlers": attempt(handlers),
    }


def rest_v2(probe: Probe, path: str, method: str = "GET", body: object = None) -> object:
    """A REST v2 answer: status and body, without what the servers must differ in (each
    rule in docs/compatibility.md, REST v2): the fetch time, span ids and span metadata
    (HTTP timings)."""
    status, answer = probe.request(method, "/api/v2" + path, body)
    if isinstance(answer, dict):
        answer.pop("metadata", None)
        data = answer.get("data")
        if isinstance(data, dict) and isinstance(data.get("rootSpan"), dict):
            data["rootSpan"] = _v2_span(data["rootSpan"])
    return {"status": status, "body": times(_v2_plain(answer))}


def _v2_plain(value: object) -> object:
    if isinstance(value, dict):
        # Durations are each server's own timing; an event's ts its own receipt.
        return {key: "<ms>" if key == "durationMs" else "<ts>" if key == "ts"
                else ports(_v2_plain(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [_v2_plain(item) for item in value]
    return value


def _v2_span(span: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Span ids are each server's own; Finalization and executor.nonstep start in the same
    moment, so they are put in one order (see ``finalization_first``)."""
    children = [_v2_span(child) for child in span.get("children", [])]
    for n in range(1, len(children)):
        if children[n]["name"] == "Finalization" and \
                children[n - 1]["name"] == "executor.nonstep":
            children[n - 1], children[n] = children[n], children[n - 1]
    out = {key: value for key, value in span.items() if key not in ("id", "metadata")}
    return {**out, "children": children} if children else out


@case("rest_v2", "v2_run", "v2_event_runs", "v2_trace", "v2_app", "v2_function", "v2_errors")
def _rest_v2(side: Side) -> Answer:
    """What scripts read from the REST API v2 about an app, a function and a finished run."""
    probe = side.probe
    event_id = probe.send("py/steps", {"key": "v2", "n": 1})
    run_id = probe.run_ids(event_id)[0]
    settled_run(probe, run_id)
    app = f"/apps/{py_app.APP_ID}"
    errors = ("/runs/01ABC", "/runs/01M8M3Q9NPQAT955XA7Y7V5HXH", "/runs?limit=101",
              "/runs?cursor=nope", f"{app}/functions/nope", "/apps/nope", "/nothing")
    answer: Answer = {
        "v2_run": rest_v2(probe, f"/runs/{run_id}?includeOutput=true"),
        "v2_event_runs": rest_v2(probe, f"/events/{event_id}/runs?includeOutput=true"),
        "v2_trace": rest_v2(probe, f"/runs/{run_id}/trace?includeOutput=true"),
        "v2_app": rest_v2(probe, app),
        "v2_function": rest_v2(probe, f"{app}/functions/steps"),
        "v2_errors": {path: rest_v2(probe, path) for path in errors},
    }
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


def _events(side: Side) -> Answer:
    """The newest events first. Sent 50 ms apart: the real server orders events by ULID, random
    within one millisecond."""
    names = [f"py/listed.{n}" for n in range(3)]
    for name in names:
        side.probe.send(name, {})
        time.sleep(0.05)

    def listed() -> list[object]:
        events = side.probe.data(EVENTS)["events"] or []
        mine = [event for event in events if event["name"] in names]
        assert len(mine) == 3, f"{side.probe.name}: {len(mine)} listed"
        return mine

    return {"events": attempt(lambda: wait_for(listed, 10))}


# Away from the crowd and from events_limit, whose events would push these out of the list.
CASES["events_list"] = Case(_events, ("events",), phase=2)


def _events_limit(side: Side) -> Answer:
    """How many events the ``events`` query lists once there are more (the real server shows
    an event there a moment after accepting it, hence the wait)."""
    for n in range(55):
        side.probe.send("py/many", {"n": n})

    def count() -> int:
        found = len(side.probe.data(EVENTS)["events"] or [])
        assert found >= 51, f"{side.probe.name}: {found} events listed"
        return found

    return {"count": attempt(lambda: wait_for(count, 10))}


# After the crowd: its 55 events would push other cases' events out of the list.
CASES["events_limit"] = Case(_events_limit, ("count",), phase=1)


STREAM = """query($q: StreamQuery!) { stream(query: $q) {
  id trigger type inBatch runs { status output } } }"""


def _stream(side: Side) -> Answer:
    """The ``stream`` feed between two marker events: an event without a function, one with
    an old ``ts`` (listed last: ordered by the events' own times), and one starting a run;
    and the errors of a bad id and a negative limit. Other cases' events sent meanwhile are
    left out by id."""
    probe = side.probe
    first = probe.send("py/stream.marker", {})
    sent = [probe.send("py/stream.none", {}),
            probe.send("py/stream.old", {}, ts=1_000_000_000_000),
            probe.send("py/steps", {"key": "stream"})]
    probe.ended_run(probe.run_ids(sent[-1])[0])
    last = probe.send("py/stream.marker", {})

    def listed() -> list[object]:
        items = probe.data(STREAM, q={"after": first, "before": last, "limit": 200})["stream"]
        mine = [{key: value for key, value in item.items() if key != "id"}
                for item in items if item["id"] in sent]
        assert len(mine) == 3, f"{probe.name}: {mine}"
        # The dev server may list a run's status a moment before its output.
        runs = [run for item in mine for run in item.get("runs") or []]
        assert runs and all(run.get("output") is not None for run in runs), mine
        return mine

    errors = {
        label: [(e["message"], e["path"]) for e in probe.gql(STREAM, q=query)["errors"]]
        for label, query in (("bad id", {"before": "nope"}), ("limit", {"limit": -1}))}
    return {"stream": attempt(lambda: wait_for(listed, 10)), "errors": errors}


CASES["stream"] = Case(_stream, ("stream", "errors"))


METADATA_TRACE = """fragment S on RunTraceSpan { name metadata { kind scope values } }
query($id: String!) { runTrace(runID: $id) { ...S childrenSpans { ...S
  childrenSpans { ...S } } } }"""


def metadata_shape(span: dict[str, typing.Any]) -> object:
    """Which spans carry which metadata: kinds, scopes and value names. The values are
    timings, each server's own; children in name order, as the servers may start spans in
    the same moment in either order."""
    own = [(entry["kind"], entry["scope"], sorted(entry["values"]))
           for entry in span["metadata"]]
    children = [metadata_shape(child) for child in span.get("childrenSpans") or []]
    return [span["name"], own, sorted(children, key=json.dumps)]


def _span_metadata(side: Side) -> Answer:
    """The metadata each server records on a run's spans: runs of three steps, of a step
    that fails twice before it succeeds (its attempts show apart), of a sleep and of an
    invoke (on the span of the step that waits)."""
    shapes = {}
    for event in ("py/steps", "py/flaky-step", "py/sleeper", "py/invoker"):
        run_id = side.probe.run_ids(side.probe.send(event, {"key": f"metadata-{event}"}))[0]
        settled_run(side.probe, run_id)
        shapes[event] = attempt(lambda: metadata_shape(
            side.probe.data(METADATA_TRACE, id=run_id)["runTrace"]))
    return {"span_metadata": shapes}


CASES["span_metadata"] = Case(_span_metadata, ("span_metadata",))


# Requests with the caller's mistakes. Left out on purpose (docs/compatibility.md, "Engine"):
# paths outside the APIs (the real server serves its UI page there), POST /e/ with no key
# (it redirects), and GET /v1/runs/<unknown id> (it says 500; ours 404, the caller's mistake).
BAD_REQUESTS: tuple[tuple[str, str, bytes | None], ...] = (
    ("POST", "/e/test", b"not json"),
    ("POST", "/e/test", b'{"data": {}}'),
    ("POST", "/e/test", b'{"name": "x", "data": "text"}'),
    ("POST", "/e/test", b'{"name": "x", "ts": "soon"}'),
    ("POST", "/e/test", b'{"name": "x", "id": 5}'),
    ("POST", "/e/test", b'{"name": "inngest/function.failed"}'),
    ("POST", "/e/test", b"[1, 2]"),
    ("POST", "/e/test", b'{"name": "x", "data": {"v": NaN}}'),
    ("POST", "/e/test", b'{"name": "x", "data": {"v": -Infinity}}'),
    ("POST", "/e/test", b'{"name": "x", "data": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
    ("POST", "/v0/gql", b"not json"),
    ("POST", "/v0/gql", b'{"query": "{ nope }"}'),
    ("POST", "/v0/gql", b'{"query": "{ apps { id }"}'),
    ("GET", "/v1/runs/not-a-ulid", None),
    ("GET", "/v1/events/zzz", None),
    ("DELETE", "/v1/runs/01M8M3Q9NPQAT955XA7Y7V5HXH", None),
    ("POST", "/fn/register", b"not json"),
    ("POST", "/fn/register", b'{"url": "x"}'),
    ("POST", "/v1/signals", b"not json"),
    ("POST", "/v1/signals", b'{"signal": "nobody waits"}'),
)


# Request heads with control characters or names that are not tokens, sent as bytes (an
# HTTP client refuses to write them).
BAD_HEADS: tuple[bytes, ...] = tuple(
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n\r\n" % line for line in (
        b"X-A: a\rb", b"X-A: a\x00b", b"X-A: a\x01b", b"X-A: a\x1fb", b"X-A: a\x7fb",
        b"X-A: a\tb\x80\xff", b"X-\x01A: a", b"X A: a", b"X-[A]: a", b"X/A: a",
    )) + (
    b"GET /hea\x01lth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /health\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
)


def _head_status(probe: Probe, head: bytes) -> str:
    """The status a raw request head gets (its body is each server's own words)."""
    host, port = probe.origin.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0].decode(errors="replace").split(" ", 2)[1]


@case("bad_input", "status_classes", "bad_heads")
def _bad_input(side: Side) -> Answer:
    """The status class each mistake gets. The real server's REST v1 GETs answer HTTP 200 and
    put the error status in the body (ours uses it as the HTTP status, a documented
    difference), so for those the body's status counts."""
    classes = {}
    for method, path, body in BAD_REQUESTS:
        status, answer = side.probe.raw(method, path, body)
        if path.startswith("/v1/") and status == 200 and isinstance(answer, dict) \
                and isinstance(answer.get("status"), int):
            status = answer["status"]
        classes[f"{method} {path} {body!r}"] = f"{status // 100}xx"
    heads = {repr(head): attempt(lambda head=head: _head_status(side.probe, head))  # type: ignore
             for head in BAD_HEADS}
    return {"status_classes": classes, "bad_heads": heads}


# -- MCP: what an AI tool sees of a session at /mcp ------------------------------------------
_MCP_HEADERS = {"content-type": "application/json",
                "accept": "application/json, text/event-stream"}
_MCP_INIT = {"protocolVersion": "2025-06-18", "capabilities": {},
             "clientInfo": {"name": "differential", "version": "1"}}


class _Mcp:
    """One MCP session with a server: JSON-RPC requests posted to /mcp."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.session = ""
        self._ids = 0

    def post(self, message: object) -> tuple[int, dict[str, str], bytes]:
        headers = dict(_MCP_HEADERS)
        if self.session:
            headers["mcp-session-id"] = self.session
        return self.probe.exchange("POST", "/mcp", json.dumps(message).encode(), headers)

    def call(self, method: str, params: object = None) -> typing.Any:
        self._ids += 1
        message = {"jsonrpc": "2.0", "id": self._ids, "method": method,
                   **({} if params is None else {"params": params})}
        status, _, body = self.post(message)
        assert status == 200, f"{self.probe.name}: MCP {method} answered {status}: {body!r}"
        return json.loads(body)

    def tool(self, tool: str, **arguments: object) -> typing.Any:
        return self.call("tools/call", {"name": tool, "arguments": arguments})


def _mcp_start(mcp: _Mcp) -> Answer:
    status, headers, body = mcp.post(
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": _MCP_INIT})
    mcp.session = headers.get("mcp-session-id", "")
    initialized = mcp.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return {
        "status": status, "content_type": headers.get("content-type"),
        "session_id": re.sub("[0-9A-Z]", "X", mcp.session), "body": json.loads(body),
        "initialized": [initialized[0], initialized[2].decode()],
    }


def _undescribed(schema: object) -> object:
    if isinstance(schema, dict):
        return {key: _undescribed(value) for key, value in schema.items()
                if key != "description"}
    return schema


def _mcp_tools(mcp: _Mcp) -> object:
    """Names and argument schemas; titles and descriptions are each server's own words
    (docs/compatibility.md, Engine, MCP: "Tool titles and descriptions are our own words")."""
    tools = mcp.call("tools/list")["result"]["tools"]
    return sorted(({"name": tool["name"], "inputSchema": _undescribed(tool.get("inputSchema"))}
                   for tool in tools), key=lambda tool: str(tool["name"]))


_MCP_STEPS = re.compile(r"\nSteps \(\d+\):\n(  .*\n)*|Steps: \d+\nLast step: .*\n")


def _mcp_stepless(reply: typing.Any) -> object:
    """Without the runs' steps: ours lists them, the dev server's list is always null
    (docs/compatibility.md, Engine, MCP: "Runs' `steps` are listed"). Without the time
    ``poll_run_status`` took, each server's own."""
    result = reply.get("result") or {}
    for content in result.get("content") or []:
        content["text"] = re.sub(r"(run\(s\) for )[^\n]+", r"\1<duration>",
                                 _MCP_STEPS.sub("", content["text"]))
    found = result.get("structuredContent") or {}
    for run in [found, *(found.get("runs") or [])]:
        if "steps" in run:
            run["steps"] = None
    return reply


def _without_run_ids(sent: typing.Any) -> object:
    """``send_event``'s answer without the runs it lists: the dev server looks for them once,
    450 ms after the send, so on a busy machine it may list none (its words for what it
    found, "Triggered N function run(s)" or "No functions were triggered", are left out
    as well)."""
    result = json.loads(json.dumps(sent["result"]))
    result["structuredContent"].pop("runIds", None)
    for item in result.get("content") or []:
        item["text"] = re.split(r"\n(?:Triggered |No functions were triggered)",
                                item["text"])[0]
    return {**sent, "result": result}


@case("mcp", "initialize", "tools", "send_event", "run_status", "poll", "errors")
def _mcp(side: Side) -> Answer:
    """A session: initialize, list the tools, send an event, read its run, then mistakes."""
    mcp = _Mcp(side.probe)
    answer: Answer = {"initialize": attempt(lambda: _mcp_start(mcp)),
                      "tools": attempt(lambda: _mcp_tools(mcp))}
    sent = mcp.tool("send_event", name="py/steps", data={"key": "mcp", "n": 1})
    event_id = sent["result"]["structuredContent"]["eventId"]
    run_ids = sent["result"]["structuredContent"].get("runIds") or side.probe.run_ids(event_id)
    labels = {event_id: "<event>", **{run: f"<run {n}>" for n, run in enumerate(run_ids)}}
    answer["send_event"] = _without_run_ids(sent)
    answer["poll"] = _mcp_stepless(
        mcp.tool("poll_run_status", runIds=run_ids, timeout=20, pollInterval=100))
    answer["run_status"] = _mcp_stepless(mcp.tool("get_run_status", runId=run_ids[0]))
    answer["errors"] = {
        "unknown tool": mcp.call("tools/call", {"name": "nope", "arguments": {}}),
        "missing argument": mcp.call("tools/call", {"name": "send_event", "arguments": {}}),
        "wrong type": mcp.call("tools/call", {"name": "send_event", "arguments": {"name": 5}}),
        # The refused value as Go writes it (float64 numbers, maps, a null) and a type union.
        **{f"wrong type {label}": mcp.call("tools/call", {"name": "send_event",
                                                          "arguments": {"name": value}})
           for label, value in {"whole float": 1.0, "large": 12345678901234567890,
                                "object": {"b": None, "a": [True, "x y", 1.5], "c": {}},
                                "list": [], "null": None}.items()},
        "wrong type for a union": mcp.tool("poll_run_status", runIds={"a": 1}),
        # A REST v2 tool sends a null path parameter as Go writes it ("<nil>"), no ULID.
        "null path parameter": mcp.tool("get_run", runId=None),
        "bad run id": mcp.tool("get_run_status", runId="nope"),
        "unknown run": mcp.tool("get_run_status", runId="01M8NXF0R0HR5TJEM1CJ6K7JH7"),
    }
    return times(ids(answer, labels))  # type: ignore[return-value]


# -- rerun from a step ------------------------------------------------------------------------
RERUN = ("mutation($id: ULID!, $from: RerunFromStepInput) "
         "{ rerun(runID: $id, fromStep: $from) }")


def _rerun_graphql(probe: Probe, run_id: str, start: dict[str, object]) -> typing.Any:
    return without_locations(probe.gql(RERUN, id=run_id, **{"from": start}))


def without_locations(answer: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """A resolver's errors carry ``locations`` on ours only (docs/compatibility.md, Engine,
    "GraphQL error messages")."""
    for error in answer.get("errors") or []:
        error.pop("locations", None)
    return answer


@case("rerun_from_step", "executions", "outputs", "errors")
def _rerun_from_step(side: Side) -> Answer:
    """A three-step run, rerun from its second step (GraphQL) and from its third (REST v2):
    the steps before the chosen one keep their results, the rest run again."""
    probe = side.probe
    event_id = probe.send("py/three-steps", {"key": "rerun"})
    original = probe.run_ids(event_id)[0]
    settled_run(probe, original)
    from_graphql = _rerun_graphql(probe, original, {"stepID": "two"})["data"]["rerun"]
    settled_run(probe, from_graphql)
    status, body = probe.request("POST", f"/api/v2/runs/{original}/rerun",
                                 {"fromStep": {"stepId": "three"}})
    assert status == 200, f"{probe.name}: REST v2 rerun answered {status}: {body}"
    from_rest = body["data"]["runId"]
    settled_run(probe, from_rest)
    errors = {
        "graphql unknown step": _rerun_graphql(probe, original, {"stepID": "nope"}),
        "graphql bad input": _rerun_graphql(probe, original, {"stepID": "two", "input": "{}"}),
        "rest unknown step": rest_v2(probe, f"/runs/{original}/rerun", "POST",
                                     {"fromStep": {"stepId": "nope"}}),
        "rest no step": rest_v2(probe, f"/runs/{original}/rerun", "POST", {"fromStep": {}}),
    }
    answer: Answer = {
        "executions": side.record.counts("rerun"),
        "outputs": [times(probe.run(run)) for run in (original, from_graphql, from_rest)],
        "errors": errors,
    }
    labels = {event_id: "<event>", original: "<run>", from_graphql: "<graphql rerun>",
              from_rest: "<rest rerun>"}
    return ids(answer, labels)  # type: ignore[return-value]


# -- run scores --------------------------------------------------------------------------------
SCORES = [
    {"name": "quality", "value": 0.5}, {"name": "speed", "value": 3.0},
    {"name": "exp", "value": False, "experiment": {"id": "e1", "variant": "v1"}},
    {"name": "ok", "value": True, "stepId": "second"},
    {"name": "big", "value": 1e20, "stepId": "first"},
]
REFUSED_SCORES: list[object] = [
    {}, [], [{"name": " ", "value": 1}], [{"name": "a"}], [{"name": "a", "value": "1"}],
    [{"name": "a", "value": 1, "stepId": " "}],
    [{"name": "a", "value": 1, "stepId": "b", "experiment": {"id": "e", "variant": "v"}}],
    [{"name": "a", "value": 1}, {"name": "a'b", "value": 1}],
    [{"name": "a", "value": 1, "x": 2}], [1], [{"name": "a", "value": 1}] * 101,
]
SCORE_TRACE = """query($id: String!) { runTrace(runID: $id) {
  metadata { kind scope values } childrenSpans { name metadata { kind scope values } } } }"""


def _scores_only(entries: object) -> list[object]:
    """A span's scores and experiments, without ``updatedAt`` (each server's own clock).
    The dev server's spans also carry HTTP timings and usage, ours not (docs/compatibility.md,
    Engine, REST API v2: "spans carry no `metadata` but scores")."""
    return [{key: value for key, value in entry.items() if key != "updatedAt"}
            for entry in entries or []  # type: ignore[attr-defined]
            if entry["kind"] in ("inngest.score", "inngest.experiment")]


def scored_spans(root: dict[str, typing.Any], children: str) -> object:
    """The root's scores, and per step name the scores of its spans that have some. A step
    has two spans (the step and its attempt), listed in either order by the dev server."""
    steps: dict[str, list[object]] = {}
    for child in root.get(children) or []:
        found = _scores_only(child.get("metadata"))
        steps.setdefault(child["name"], []).extend([found] if found else [])
    return {"run": _scores_only(root.get("metadata")), "steps": steps}


@case("scores", "answer", "v2_trace", "graphql_trace", "refused")
def _scores(side: Side) -> Answer:
    """Scores posted to a finished run: the answer, the trace's span metadata, refusals."""
    probe = side.probe
    event_id = probe.send("py/steps", {"key": "scores", "n": 1})
    run_id = probe.run_ids(event_id)[0]
    settled_run(probe, run_id)
    answer: Answer = {
        "refused": [rest_v2(probe, f"/runs/{run_id}/scores", "POST", body)
                    for body in REFUSED_SCORES],
        "answer": rest_v2(probe, f"/runs/{run_id}/scores", "POST", SCORES),
    }
    probe.request("POST", f"/api/v2/runs/{run_id}/scores", [{"name": "quality", "value": 0.75}])
    status, body = probe.request("GET", f"/api/v2/runs/{run_id}/trace")
    answer["v2_trace"] = [status, scored_spans(body["data"]["rootSpan"], "children")]
    answer["graphql_trace"] = attempt(lambda: scored_spans(
        probe.data(SCORE_TRACE, id=run_id)["runTrace"], "childrenSpans"))
    return ids(answer, {event_id: "<event>", run_id: "<run>"})  # type: ignore[return-value]


# -- JSON as Go writes it: the bytes of answers quoting a text with HTML characters -----------
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HISTORY_IDS = """query($id: ID!) { functionRun(query: {functionRunId: $id}) {
  history { id type } } }"""
HISTORY_OUTPUT = """query($id: ULID!, $run: ID!) { functionRun(query: {functionRunId: $run}) {
  historyItemOutput(id: $id) } }"""


def _raw_text(probe: Probe, method: str, path: str, body: object = None) -> str:
    """An answer's status and bytes as text. A function's UUID is derived from its app's
    URL, on its own port for each server."""
    data = None if body is None else json.dumps(body).encode()
    status, _, raw = probe.exchange(method, path, data, {"content-type": "application/json"})
    return _UUID.sub("<uuid>", f"{status} {raw.decode()}")


def _gql_text(probe: Probe, query: str, **variables: object) -> str:
    return _raw_text(probe, "POST", "/v0/gql", {"query": query, "variables": variables})


def _text_output(probe: Probe) -> object:
    """A function answering ``Infinity``, not JSON: how REST and GraphQL show its output."""
    event_id = probe.send("py/infinite", {})
    run_id = probe.run_ids(event_id)[0]
    settled_run(probe, run_id)
    history = probe.data(HISTORY_IDS, id=run_id)["functionRun"]["history"]
    ended = [item["id"] for item in history if item["type"] == "FunctionCompleted"]
    answer = {
        "rest_run": _raw_text(probe, "GET", f"/v1/runs/{run_id}"),
        "graphql_output": _gql_text(probe, FUNCTION_RUN, id=run_id),
        "history_outputs": [_gql_text(probe, HISTORY_OUTPUT, id=item, run=run_id)
                            for item in ended],
    }
    return ids(answer, {event_id: "<event>", run_id: "<run>"})


_ESCAPED_E = re.compile(r"\\+u00e9")


@case("escaping", "rest_run", "rest_event", "graphql_output", "history_outputs",
      "text_output")
def _escaping(side: Side) -> Answer:
    """A step's and a function's output and an event's data holding ``<a&b>``, U+2028 and
    ``é``: the bytes REST and GraphQL answer them in."""
    probe = side.probe
    event_id = probe.send("py/escaping", {"key": "esc", "s": py_app.HTML_TEXT})
    run_id = probe.run_ids(event_id)[0]
    settled_run(probe, run_id)
    history = probe.data(HISTORY_IDS, id=run_id)["functionRun"]["history"]
    ended = [item["id"] for item in history
             if item["type"] in ("StepCompleted", "FunctionCompleted")]
    answer: Answer = {
        "rest_run": _raw_text(probe, "GET", f"/v1/runs/{run_id}"),
        "rest_event": _raw_text(probe, "GET", f"/v1/events/{event_id}"),
        "graphql_output": _gql_text(probe, FUNCTION_RUN, id=run_id),
        # A step's output there is the bytes the SDK sent (ours writes "é" as "\u00e9"), HTML
        # characters escaped; ours is the step's value re-encoded (docs/compatibility.md,
        # Engine, "JSON is written as the dev server writes it").
        "history_outputs": [
            _ESCAPED_E.sub("é", _gql_text(probe, HISTORY_OUTPUT, id=item, run=run_id))
            for item in ended],
        "text_output": attempt(lambda: times(_text_output(probe))),
    }
    # An event's ts is each server's own receipt time.
    answer["rest_event"] = re.sub(r'"ts":\d+', '"ts":<ms>', str(answer["rest_event"]))
    return times(ids(answer, {event_id: "<event>", run_id: "<run>"}))  # type: ignore[return-value]


# -- expression syntax errors, worded as cel-go words them ------------------------------------
BAD_EXPRESSIONS = ("event.data.id ==", "(event.data.x", "event.data.x = 1", "event..data",
                   "[1, 2", "a ? b", "event.data.id $ 1", "f(1 2", "'unterminated",
                   "x == .5 .5")
RUNS_FILTER = """query($cel: String) { runs(first: 1, orderBy: [],
  filter: {from: "2000-01-01T00:00:00Z", query: $cel}) { totalCount } }"""
_FIRST_CEL_ERROR = re.compile(r"ERROR: <input>:\d+:\d+: .*?\^", re.S)
_SYNC_URL = "http://127.0.0.1:1/api/inngest"


def _bad_sync(probe: Probe, change: dict[str, object]) -> object:
    """Sync an app (one no server can reach) whose function has a malformed expression:
    the status, and the first expression error the app is listed with. The dev server
    lists every error its parser recovered from, after a prefix naming the field; ours the
    first one alone (docs/compatibility.md, Engine, "Expression syntax errors")."""
    function = {
        "id": "cel-bad-fn", "name": "fn", "triggers": [{"event": "cel/bad"}],
        "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 0},
                           "runtime": {"type": "http", "url": _SYNC_URL}}},
        **change,
    }
    for _ in range(3):
        status, _ = probe.request("POST", "/fn/register", {
            "url": _SYNC_URL, "v": "0.1", "deployType": "ping", "sdk": "py:v0.1.0",
            "framework": "flask", "appName": "cel-bad", "functions": [function]})
        apps = probe.data("{ apps { name error } }")["apps"]
        error = next((app["error"] for app in apps if app["name"] == "cel-bad"), None) or ""
        # The dev server later replaces the error of an app nothing serves by its own
        # "unreachable" (seconds after the sync, sooner on a busy machine): sync again.
        if error != "unreachable":
            break
    found = _FIRST_CEL_ERROR.search(error)
    return {"status": status, "error": found.group() if found else error}


def _cel_errors(side: Side) -> Answer:
    probe = side.probe
    return {
        "runs_filter": {cel: without_locations(probe.gql(RUNS_FILTER, cel=cel))
                        for cel in BAD_EXPRESSIONS},
        "sync": [_bad_sync(probe, change) for change in (
            {"cancel": [{"event": "cel/stop", "if": "event.data.id =="}]},
            {"cancel": [{"event": "cel/stop", "if": "event.data.x = 1"}]},
            {"triggers": [{"event": "cel/bad", "expression": "(event.data.x"}]},
        )],
    }


# After the crowd: the failed syncs list an app with an error, which the apps case would see.
CASES["cel_errors"] = Case(_cel_errors, ("runs_filter", "sync"), phase=1)
