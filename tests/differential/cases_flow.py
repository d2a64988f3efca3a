"""Cases for flow control beyond ``cases``' one-key ones: debounce (keys, timeout, events out
of order), rate limit, idempotency and throttle keys, a batch that times out, and cancel on
event for a run waiting for an event.

They register into ``cases.CASES`` and use its normalization rules; a rule of their own says
why the servers may differ there.
"""

from __future__ import annotations

import datetime
import json
import time
import typing

from cases import (
    CASES, RUN_ASPECTS, Answer, Case, Side, inspect, runs_per_event, settled_run,
    wait_until_ready, without_locations,
)
from cases_dev_ui import Labels, _run_pages, send
from cases_semantics import recorded
from probe import Probe, wait_for


def _send_at(side: Side, event: str, plan: list[tuple[float, dict[str, object]]],
             **fields: object) -> list[str]:
    """Send ``event`` with each data of ``plan`` at its second after the first."""
    began = time.monotonic()
    sent = []
    for at, data in plan:
        time.sleep(max(0.0, began + at - time.monotonic()))
        sent.append(side.probe.send(event, data, **fields))
    return sent


# -- debounce ----------------------------------------------------------------------------------
def _debounce_keys(side: Side) -> Answer:
    """A debounce of 2 s per ``event.data.key``: keys a and b interleaved each get one run,
    with their own last event's data. ``run_after``: how long after key a's last event its
    run shows, give or take the servers' scheduling delays."""
    plan: list[tuple[float, dict[str, object]]] = [
        (0.0, {"key": "dk-a", "n": 0}), (0.3, {"key": "dk-b", "n": 1}),
        (0.6, {"key": "dk-a", "n": 2})]
    sent = _send_at(side, "py/debounced", plan)
    last_sent = time.monotonic()
    side.probe.run_ids(sent[2])
    after = time.monotonic() - last_sent
    # Both servers start it 3.05 s after that event, then add their own scheduling delay.
    run_after = "about 3 s" if 2.5 <= after < 4.5 else f"{after:.1f} s"
    return {**runs_per_event(side, sent, 0.5), "run_after": run_after}


def _debounce_out_of_order(side: Side) -> Answer:
    """An event whose ``ts`` is older than the one the debounce holds does not replace it:
    the run gets the newer event's data however late the older one arrives."""
    now_ms = int(time.time() * 1000)
    first = side.probe.send("py/debounced", {"key": "dk-old", "n": 0}, ts=now_ms)
    time.sleep(0.3)
    older = side.probe.send("py/debounced", {"key": "dk-old", "n": 1}, ts=now_ms - 60_000)
    return runs_per_event(side, [first, older], 0.5)


def _debounce_timeout(side: Side) -> Answer:
    """A debounce of 2 s with a 3 s timeout, events at 0, 1.5 and 3.2 s. The dev server keeps
    a debounce open for events for its period, cut to the whole seconds left before the
    timeout (rounded down, at least 1) when that comes first: the event at 1.5 s joins for
    1 s, so the one at 3.2 s starts a debounce of its own (without the cut it would join, the
    window then closing at 3.5 s). Two runs, with the second and the third event.
    (1.5 s: half a second from either rounding boundary, so events handled late relative to
    each other change nothing; 3.2 s: 0.7 s after the cut window closes.)"""
    plan: list[tuple[float, dict[str, object]]] = [
        (at, {"key": "dt", "n": n}) for n, at in enumerate((0.0, 1.5, 3.2))]
    sent = _send_at(side, "py/debounce-timeout", plan)

    def two_runs() -> None:
        answer = runs_per_event(side, sent, 0.0)["runs_per_event"]
        assert sum(map(len, typing.cast("list[list[str]]", answer))) >= 2, answer

    try:
        wait_for(two_runs, 8)
    except AssertionError:
        pass  # one run: compared below
    return runs_per_event(side, sent, 0.5)


def _debounce_stream(side: Side) -> Answer:
    """The same debounce (2 s, timeout 3 s) with an event every 0.5 s for 3.5 s. Past the
    timeout the dev server keeps the window open for 1 s from each event, so events closer
    than that keep it open: one run, with the last event, about 2 s after it."""
    plan: list[tuple[float, dict[str, object]]] = [
        (n * 0.5, {"key": "ds", "n": n}) for n in range(8)]
    sent = _send_at(side, "py/debounce-timeout", plan)
    side.probe.run_ids(sent[-1])
    return runs_per_event(side, sent, 1.0)


# A phase of their own: which events a debounce takes depends on when each server handles
# them, a few tenths of a second apart, and a busy machine delays that.
DEBOUNCE_PHASE = 4
CASES["flow_debounce_keys"] = Case(
    _debounce_keys, ("runs_per_event", "run_after"), phase=DEBOUNCE_PHASE)
CASES["flow_debounce_out_of_order"] = Case(
    _debounce_out_of_order, ("runs_per_event",), phase=1)
CASES["flow_debounce_timeout"] = Case(
    _debounce_timeout, ("runs_per_event",), phase=DEBOUNCE_PHASE)
CASES["flow_debounce_stream"] = Case(
    _debounce_stream, ("runs_per_event",), phase=DEBOUNCE_PHASE)


# -- rate limit, idempotency and throttle keys --------------------------------------------------
def _one_key_twice(event: str, prefix: str) -> typing.Callable[[Side], Answer]:
    """Key a twice, then key b: the second event of key a starts no run (rate limit of 1 a
    minute, or idempotency for 24 hours); key b has its own limit and runs."""

    def drive(side: Side) -> Answer:
        first = side.probe.send(event, {"key": f"{prefix}-a", "n": 0})
        side.probe.run_ids(first)
        sent = [first, side.probe.send(event, {"key": f"{prefix}-a", "n": 1}),
                side.probe.send(event, {"key": f"{prefix}-b", "n": 2})]
        return runs_per_event(side, sent, 1.0)

    return drive


def _idempotency_over_rate_limit(side: Side) -> Answer:
    """A function with an idempotency key and a rate limit of 1 a minute: the dev server
    makes the idempotency key its rate limit (1 per 24 h per key), in place of the rate limit
    given. Keys a and b run, a second a does not."""
    sent = []
    for n, key in enumerate(("il-a", "il-b", "il-a")):
        sent.append(side.probe.send("py/idempotent-limited", {"key": key, "n": n}))
        side.probe.run_ids(sent[0])
    return runs_per_event(side, sent, 1.0)


def _idempotency_unkeyed(side: Side) -> Answer:
    """Idempotency keys that evaluate to false, and that read a field the event lacks: no
    limit on the dev server, for which the value of a missing field is unknown, taken as
    false, as for a rate limit key."""
    sent = []
    for n, data in enumerate(({"key": False}, {"key": False}, {}, {})):
        sent.append(side.probe.send("py/idempotent", {**data, "n": n}))
        side.probe.run_ids(sent[0])
    return runs_per_event(side, sent, 1.0)


def _singleton_unkeyed(side: Side) -> Answer:
    """A singleton keyed by a field the events lack: the dev server's value for it is
    unknown, taken as false, and the function is then no singleton: both runs start."""
    first = side.probe.send("py/singleton", {"n": 0})
    side.probe.run_ids(first)
    return runs_per_event(side, [first, side.probe.send("py/singleton", {"n": 1})], 1.0)


def _invoker(event: str, key: str) -> typing.Callable[[Side], Answer]:
    def drive(side: Side) -> Answer:
        event_id = side.probe.send(event, {"key": key, "n": 5})
        run_id = side.probe.run_ids(event_id)[0]
        settled_run(side.probe, run_id)
        return inspect(side, run_id, RUN_ASPECTS, event_id)

    return drive


FUNCTION_CONFIG = """{ functions { slug configuration {
  cancellations { event timeout condition } eventsBatch { maxSize timeout key }
  rateLimit { limit period key } debounce { period key } throttle { burst key limit period }
} } }"""
FLOW_FUNCTIONS = ("debounced", "debounce-timeout", "rate-limited", "rate-limit-two",
                  "idempotent", "idempotent-limited", "throttle-burst", "batch-timeout",
                  "cancel-waiting")


def _config(side: Side) -> Answer:
    """How GraphQL shows the flow-control options of the functions above."""
    functions = side.probe.data(FUNCTION_CONFIG)["functions"]
    wanted = {f"diff-py-{name}" for name in FLOW_FUNCTIONS}
    return {"configuration": {fn["slug"]: fn["configuration"] for fn in functions
                              if fn["slug"] in wanted}}


def _rate_limit_period(side: Side) -> Answer:
    """A rate limit of 2 per 4 s: one run every 2 s (the dev server's burst is a tenth of the
    limit). The second event, sent once the first has its run, starts none; the third, 3 s
    after that, starts one. Waiting for the first run keeps a loaded real server from taking
    the second event before the first (seen in CI)."""
    event = "py/rate-limit-two"
    first = side.probe.send(event, {"key": "rlp", "n": 0})
    side.probe.run_ids(first)
    began = time.monotonic()
    second = side.probe.send(event, {"key": "rlp", "n": 1})
    time.sleep(max(0.0, began + 3.0 - time.monotonic()))
    third = side.probe.send(event, {"key": "rlp", "n": 2})
    return runs_per_event(side, [first, second, third], 1.0)


def _starts(side: Side, counts: dict[str, int]) -> dict[str, list[int]]:
    """When each key's runs started after its first, once ``counts`` runs per key did, to
    the nearest multiple of the throttles' 2 s period: both servers add their own scheduling
    delay (the real server's is up to a second on a busy machine, see ``cases._throttle``),
    and whole seconds would tell 2.4 s from 2.6 s."""

    def all_started() -> dict[str, list[int]]:
        found = {key: side.record.starts(key) for key in counts}
        assert all(len(found[key]) == count for key, count in counts.items()), found
        return {key: [round(start / 2) * 2 for start in starts]
                for key, starts in found.items()}

    return wait_for(all_started, 20)


def _throttle_burst(side: Side) -> Answer:
    """A throttle of 1 per 2 s with a burst of 1: four runs at once start at 0, 0, 2 and
    4 s on the dev server."""
    sent = [side.probe.send("py/throttle-burst", {"key": "tb", "n": n}) for n in range(4)]
    starts = _starts(side, {"tb": 4})
    return {**runs_per_event(side, sent, 0.0), "starts": starts}


def _throttle_keys(side: Side) -> Answer:
    """A throttle of 1 per 2 s per ``event.data.key``: three runs of key a take 2 s between
    the second and the third start, the run of key b starts at once beside them. Starts are
    bucketed to the period (see ``_starts``)."""
    sent = [side.probe.send("py/throttled", {"key": key, "n": n})
            for n, key in enumerate(("tk-a", "tk-a", "tk-b", "tk-a"))]
    starts = _starts(side, {"tk-a": 3, "tk-b": 1})
    return {**runs_per_event(side, sent, 0.0), "starts": starts}


CASES["flow_rate_limit_keys"] = Case(
    _one_key_twice("py/rate-limited", "rlk"), ("runs_per_event",))
CASES["flow_idempotency_keys"] = Case(
    _one_key_twice("py/idempotent", "idk"), ("runs_per_event",))
CASES["flow_idempotency_over_rate_limit"] = Case(
    _idempotency_over_rate_limit, ("runs_per_event",))
CASES["flow_idempotency_unkeyed"] = Case(_idempotency_unkeyed, ("runs_per_event",))
CASES["flow_singleton_unkeyed"] = Case(_singleton_unkeyed, ("runs_per_event",))
# A rate-limited function, and one with an idempotency key, invoked twice with one key: the
# second invoke of each fails the invoking step.
CASES["flow_invoke_limited"] = Case(_invoker("py/invoke-limited", "inv-lim"), RUN_ASPECTS)
# A debounced function and a batched one invoked.
CASES["flow_invoke_buffered"] = Case(
    _invoker("py/invoke-buffered", "inv-buf"), RUN_ASPECTS, phase=1)
CASES["flow_config"] = Case(_config, ("configuration",))
CASES["flow_rate_limit_period"] = Case(_rate_limit_period, ("runs_per_event",), phase=1)
CASES["flow_throttle_keys"] = Case(_throttle_keys, ("runs_per_event", "starts"), phase=1)
CASES["flow_throttle_burst"] = Case(_throttle_burst, ("runs_per_event", "starts"), phase=1)


# -- a batch that times out --------------------------------------------------------------------
def _batch_timeout(side: Side) -> Answer:
    """Batches of 5 per ``event.data.key`` with a 1 s timeout: two events of key a and one of
    key b make two partial batches that run once the timeout passed, each with its events.
    Which event lists a run is not compared (see ``cases._batch``)."""
    sent = [side.probe.send("py/batch-timeout", {"key": key, "n": n})
            for n, key in enumerate(("bt-a", "bt-b", "bt-a"))]
    per_event = runs_per_event(side, sent, 0.5)["runs_per_event"]
    return {"runs_per_event": sorted(typing.cast("list[list[str]]", per_event))}


CASES["flow_batch_timeout"] = Case(_batch_timeout, ("runs_per_event",), phase=1)


# -- cancel on event for a waiting run ---------------------------------------------------------
def _cancel_waiting(side: Side) -> Answer:
    """A run waiting for an event (6 s) with a cancel whose ``if`` wants ``stop`` and whose
    timeout is 4 s. cw-yes: a stop event without ``stop`` leaves it waiting, one with it
    cancels it. cw-late: the stop event comes at 5 s, after the cancel's timeout, and the
    wait times out. (With a 2 s timeout, a loaded real server's run was seen to reach its
    wait after the cancel had expired.)"""
    answer: Answer = {}
    for key in ("cw-yes", "cw-late"):
        began = time.monotonic()
        event_id = side.probe.send("py/cancel-waiting", {"key": key})
        run_id = side.probe.run_ids(event_id)[0]
        wait_until_ready(side, "py", key)
        recorded(side.probe, run_id, "StepWaiting")
        if key == "cw-yes":
            side.probe.send("py/cancel-waiting.stop", {"key": key, "stop": False})
            side.probe.send("py/cancel-waiting.stop", {"key": key, "stop": True})
        else:
            time.sleep(max(0.0, began + 5.0 - time.monotonic()))
            side.probe.send("py/cancel-waiting.stop", {"key": key, "stop": True})
        for aspect, value in inspect(side, run_id, RUN_ASPECTS, event_id).items():
            answer[f"{key}-{aspect}"] = value
    return answer


def _cancel_or_wait(side: Side) -> Answer:
    """One event that both the run's wait and its cancel match: the wait is recorded as
    completed and the run ends cancelled. Whether the dev server calls the app once more
    before the cancel lands is a race on its side (usually not, sometimes a call that is
    then cancelled), so its other history items and the trace are not compared."""
    event_id = side.probe.send("py/cancel-or-wait", {"key": "cow"})
    run_id = side.probe.run_ids(event_id)[0]
    wait_until_ready(side, "py", "cow")
    recorded(side.probe, run_id, "StepWaiting")
    side.probe.send("py/cancel-or-wait.signal", {"key": "cow", "stop": True})
    answer = inspect(side, run_id, ("run", "history"), event_id)
    items = typing.cast("dict[str, list[dict[str, object]]]", answer.pop("history"))["items"]
    answer["wait_completed"] = [item["type"] for item in items
                                if item.get("stepName") == "signal"]
    return answer


CASES["flow_cancel_or_wait"] = Case(_cancel_or_wait, ("run", "wait_completed"), phase=1)
CASES["flow_cancel_waiting"] = Case(
    _cancel_waiting,
    tuple(f"{key}-{aspect}" for key in ("cw-yes", "cw-late") for aspect in RUN_ASPECTS),
    phase=1)


# -- key values: which values are one key, keys that fail ---------------------------------------
# The dev server writes a key's value as Go's %v writes cel-go's: numbers are float64, a
# missing field is false, null NULL_VALUE (<nil> in a list), lists and maps Go's way.
ONE_KEY: list[list[dict[str, object]]] = [
    [{}, {"k": False}, {"k": "false"}], [{"k": 7}, {"k": "7"}, {"k": 7.0}],
    [{"k": None}, {"k": "NULL_VALUE"}], [{"k": "<nil>"}], [{"k": True}, {"k": "true"}],
    [{"k": [1, "b", None]}, {"k": "[1 b <nil>]"}], [{"k": {"a": 1.5}}, {"k": "map[a:1.5]"}],
    [{"k": 100000000}, {"k": "1e+08"}]]


def _send_groups(side: Side, event: str, groups: list[list[dict[str, object]]],
                 prefix: str) -> list[list[str]]:
    """Every group's events, labelled ``g`` (its group) and ``n`` (its place)."""
    return [[side.probe.send(event, {**data, "g": f"{prefix}{g}", "n": f"{g}.{n}"})
             for n, data in enumerate(group)] for g, group in enumerate(groups)]


def _runs_per_group(side: Side, groups: list[list[str]], settle: float) -> list[int]:
    per_event = typing.cast("list[list[str]]", runs_per_event(
        side, [event_id for group in groups for event_id in group], settle)["runs_per_event"])
    counts, at = [], 0
    for group in groups:
        counts.append(sum(len(runs) for runs in per_event[at:at + len(group)]))
        at += len(group)
    return counts


def _batch_outputs(side: Side, event_ids: list[str], count: int) -> list[object]:
    """The events (``n``) of each run of ``event_ids``' batches, once ``count`` runs ended."""

    def outputs() -> list[object]:
        per_event = runs_per_event(side, event_ids, 0.0)["runs_per_event"]
        runs = {run for runs in typing.cast("list[list[str]]", per_event) for run in runs}
        assert len(runs) >= count, runs
        return sorted(json.loads(json.loads(run)["output"])["ns"] for run in runs)

    wait_for(outputs, 20)
    time.sleep(0.5)  # for runs that should not be there
    return outputs()


def _keys_batch(side: Side) -> Answer:
    """Batches keyed by ``event.data.k``: each group of ``ONE_KEY`` is one batch. Keyed by
    ``event.data.k * 2``: "s" * 2 and false * 2 fail and the dev server drops the event (no
    run), a missing field makes the key false."""
    sent = _send_groups(side, "py/keys-batch", ONE_KEY, "b")
    failing = _send_groups(side, "py/keys-batch-fails", [[{"k": "s"}, {}, {"k": False}]], "bf")
    return {"batches": _batch_outputs(side, [i for group in sent for i in group], len(ONE_KEY)),
            "failing": _batch_outputs(side, failing[0], 1)}


def _keys_debounce(side: Side) -> Answer:
    """A debounce of 1 s keyed by ``event.data.k``: one run per group of ``ONE_KEY``."""
    sent = _send_groups(side, "py/keys-debounce", ONE_KEY, "d")
    return {"runs_per_group": _runs_per_group(side, sent, 2.0)}


def _keys_rate(side: Side) -> Answer:
    """A rate limit of 1 a minute keyed by ``event.data.k``: one run per group of
    ``ONE_KEY``, but for the first, whose keys are false (the limit is off). Keyed by
    ``event.data.k * 2``: a key that fails starts no run; a missing field is false, off."""
    sent = _send_groups(side, "py/keys-rate", ONE_KEY, "r")
    failing = _send_groups(side, "py/keys-rate-fails", [[{"k": "s"}], [{}, {}]], "rf")
    return {"runs_per_group": _runs_per_group(side, sent + failing, 1.0)}


def _keys_logic(side: Side) -> Answer:
    """Rate limits of 1 a minute keyed by ``event.data.a || event.data.b`` (the first truthy
    operand on the dev server) and ``event.data.c ? "y" : "n"`` (a condition taken by its
    truthiness): in each first group the two events make one key, the last group another."""
    either = _send_groups(side, "py/keys-rate-or", [
        [{"a": "", "b": "q"}, {"a": "q"}], [{"a": "", "b": "z"}]], "o")
    branch = _send_groups(side, "py/keys-rate-cond", [[{"c": "text"}, {"c": True}], [{"c": ""}]],
                          "c")
    return {"runs_per_group": _runs_per_group(side, either + branch, 1.0)}


def _keys_concurrency(side: Side) -> Answer:
    """A concurrency limit of 1 keyed by ``event.data.k``, each run holding 2 s: the events
    of one group run one at a time, those of the last group (two keys) two at once. One
    group after the other: with runs of other keys waiting, the dev server may start the
    second of two a few seconds late."""
    groups = [[{}, {"k": False}, {"k": "false"}], [{"k": 7}, {"k": "7"}, {"k": 7.0}],
              [{"k": "a"}, {"k": "b"}]]
    for g, group in enumerate(groups):
        sent = _send_groups(side, "py/keys-concurrency", [group], f"c{g}")
        runs_per_event(side, sent[0], 0.0)
    return {"most_at_once": [side.record.counts(f"keys-c{g}0").get("most at once")
                             for g in range(len(groups))]}


def _keys_throttle(side: Side) -> Answer:
    """A throttle of 1 per 2 s keyed by ``event.data.f ? false : event.data.k - event.data.j``:
    false, "s" - "t" (fails: false on the dev server) and a missing field are one key; 1.5 -
    0.5, 2.5 - 0.5 and 3.5 - 0.5 are three. Starts in whole seconds after each group's first
    (see ``cases._throttle``). (A literal instead of ``j`` fails on the dev server, measured.)"""
    groups: list[list[dict[str, object]]] = [
        [{"f": True}, {"f": False, "k": "s", "j": "t"}, {"f": False}],
        [{"f": False, "k": k, "j": 0.5} for k in (1.5, 2.5, 3.5)]]
    sent = _send_groups(side, "py/keys-throttle", groups, "t")
    starts = _starts(side, {"keys-t0": 3, "keys-t1": 3})
    runs_per_event(side, [event_id for group in sent for event_id in group], 0.0)
    return {"starts": starts}


def _keys_singleton(side: Side) -> Answer:
    """A singleton (skip) keyed by ``event.data.k + "x"``, whose run for k 1 holds 2 s: k "1"
    makes "1x" too and is skipped; a missing k makes "x", [1] "[1]x": they run."""
    first = side.probe.send("py/keys-singleton", {"k": 1, "g": "s", "n": 0, "hold": True})
    wait_until_ready(side, "py", "keys-s")
    rest = [side.probe.send("py/keys-singleton", {**data, "g": "s", "n": n})
            for n, data in enumerate(({"k": "1"}, {}, {"k": [1]}), 1)]
    return runs_per_event(side, [first, *rest], 0.5)


CASES["flow_keys_batch"] = Case(_keys_batch, ("batches", "failing"), phase=1)
CASES["flow_keys_debounce"] = Case(
    _keys_debounce, ("runs_per_group",), phase=DEBOUNCE_PHASE)
CASES["flow_keys_rate"] = Case(_keys_rate, ("runs_per_group",))
CASES["flow_keys_logic"] = Case(_keys_logic, ("runs_per_group",))
CASES["flow_keys_concurrency"] = Case(_keys_concurrency, ("most_at_once",), phase=1)
# With the debounce cases: the crowd of phase 1 delays our runs of distinct keys by a second.
CASES["flow_keys_throttle"] = Case(_keys_throttle, ("starts",), phase=DEBOUNCE_PHASE)
CASES["flow_keys_singleton"] = Case(_keys_singleton, ("runs_per_event",), phase=1)


# -- a throttle period Go cannot parse ----------------------------------------------------------
def _throttle_period(side: Side) -> Answer:
    """Syncs of a function whose throttle period Go's decoder or ``ParseDuration`` refuses:
    the whole request is refused, in Go's words, and no app is kept. Ours adds ``code`` and
    ``message`` to every error body, so the dev server's ``error`` is what is compared.
    (Periods Go parses, under a second or over a week, sync on both.)"""
    answers = []
    for period in ("abc", "1", "1s ", "9999999999h", 5, None):
        function = {
            "id": "throttle-bad-fn", "name": "fn", "triggers": [{"event": "tp/bad"}],
            "steps": {"step": {"id": "step", "name": "step",
                               "runtime": {"type": "http", "url": "http://127.0.0.1:1/x"}}},
            "throttle": {"limit": 1, **({} if period is None else {"period": period})},
        }
        status, body = side.probe.request("POST", "/fn/register", {
            "url": "http://127.0.0.1:1/x", "v": "0.1", "deployType": "ping",
            "sdk": "py:v0.1.0", "framework": "flask", "appName": "throttle-bad",
            "functions": [function]})
        answers.append([status, body.get("error") if isinstance(body, dict) else body])
    apps = side.probe.data("{ apps { name } }")["apps"]
    kept = [app["name"] for app in apps if app["name"] == "throttle-bad"]
    return {"syncs": answers, "kept": kept}


CASES["flow_throttle_period"] = Case(_throttle_period, ("syncs", "kept"), phase=1)


# -- concurrency scopes and two limits, batch if, cancel of a debounced run -----------------------
def _concurrency_scopes(side: Side) -> Answer:
    """Two functions sharing an ``env`` scoped key, two sharing an ``account`` scoped one,
    each run holding 2 s: one run at a time each (the dev server starts the second about 3 s
    after the first ends, so no times are compared). A function with two keyed limits, 2 per
    ``a`` and 1 per ``b``: runs (x, p), (x, q), (x, r), (y, p) hold at most 2 of x, 1 of p."""
    sent = [side.probe.send(f"py/scope-{scope}-{n}", {"g": f"s{scope}", "n": n})
            for scope in ("env", "account") for n in (1, 2)]
    sent += [side.probe.send("py/two-limits", {"a": a, "b": b, "n": n})
             for n, (a, b) in enumerate((("x", "p"), ("x", "q"), ("x", "r"), ("y", "p")))]
    runs_per_event(side, sent, 0.0)
    most = {key: side.record.counts(key).get("most at once")
            for key in ("keys-senv", "keys-saccount", "two-a-x", "two-b-p")}
    return {"most_at_once": most}


def _batch_if(side: Side) -> Answer:
    """Batches of 3 (2 s timeout) for events whose ``b`` is true: the others run at once,
    alone; the two that match make one batch once the timeout passed."""
    sent = [side.probe.send("py/batch-if", {**data, "n": n})
            for n, data in enumerate(({"b": True}, {"b": False}, {"b": True}, {}))]
    return {"batches": _batch_outputs(side, sent, 3)}


def _debounce_cancel(side: Side) -> Answer:
    """A debounced function (1 s) with a cancel whose timeout is 3 s, its run sleeping 6 s:
    the dev server creates the cancel with the run, so a stop event during the debounce
    cancels nothing, one 1.5 s after the run was created cancels it, one 4.5 s after it
    (past the timeout) does not. The run is created about 2 s after its event."""
    answer: Answer = {}
    plans = {"early": 0.5, "in": 3.5, "late": 6.5}
    sent = {key: side.probe.send("py/debounce-cancel", {"g": f"dc-{key}"}) for key in plans}
    began = time.monotonic()
    for key, at in sorted(plans.items(), key=lambda item: item[1]):
        time.sleep(max(0.0, began + at - time.monotonic()))
        side.probe.send("py/debounce-cancel.stop", {"g": f"dc-{key}"})
    for key, event_id in sent.items():
        run_id = side.probe.run_ids(event_id)[0]
        answer[key] = settled_run(side.probe, run_id)["status"]
    return answer


CASES["flow_concurrency_scopes"] = Case(_concurrency_scopes, ("most_at_once",), phase=1)
CASES["flow_batch_if"] = Case(_batch_if, ("batches",), phase=1)
CASES["flow_debounce_cancel"] = Case(
    _debounce_cancel, ("early", "in", "late"), phase=DEBOUNCE_PHASE)


# -- a singleton's skipped run -----------------------------------------------------------------
_SKIP_RUN = """query($id: String!) { run(runID: $id) {
  status queuedAt startedAt endedAt output eventName triggerIDs isBatch cronSchedule
  trace(preview: true) { name status skipReason skipExistingRunID } } }"""
_SKIP_RUNS = """query($from: Time!, $fn: UUID!, $status: [FunctionRunStatus!]) {
  runs(filter: {from: $from, functionIDs: [$fn], status: $status},
       orderBy: [{field: QUEUED_AT, direction: DESC}]) {
    totalCount edges { node { id status } } } }"""
_SKIP_LEGACY = """query($event: ID!) { event(query: {eventId: $event}) {
  status totalRuns functionRuns { id status } } }"""
_SKIP_FUNCTION_RUN = "query($id: ID!) { functionRun(query: {functionRunId: $id}) { id } }"
_SKIP_CANCEL = "mutation($id: ULID!) { cancelRun(runID: $id) { id } }"
_SKIP_RERUN = "mutation($id: ULID!) { rerun(runID: $id) }"
_SKIP_FINISHED = """query($from: Time!) { eventsV2(first: 50, filter: {from: $from,
  eventNames: ["inngest/function.finished"], includeInternalEvents: true}) {
  edges { node { raw } } } }"""
_UNKNOWN_RUN = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _own_runs(listed: dict[str, typing.Any], own: tuple[str, ...]) -> dict[str, object]:
    """A runs list cut to the runs of ``own``: other cases of the phase send the same
    function's events, and their runs come between in an order the servers need not share
    (CI). Whether the count matches the edges is kept."""
    runs = listed["runs"]
    return {"edges": [edge for edge in runs["edges"] if edge["node"]["id"] in own],
            "counted_as_listed": runs["totalCount"] == len(runs["edges"])}


def _singleton_skipped(side: Side) -> Answer:
    """A singleton (skip) event while a run of it holds the key: the run the server records as
    skipped, on every API. Event-scoped lists and the run's own pages show it (SKIPPED, its
    reason and the run kept in its raw span); the runs lists, the legacy queries and REST v1
    know none (as an unknown run), nor do cancelling and rerunning, and no
    ``inngest/function.finished`` names it."""
    probe = side.probe
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    start = since.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    first = probe.send("py/singleton", {"key": "skipped-run", "n": 0})
    held = probe.run_ids(first)[0]
    second = probe.send("py/singleton", {"key": "skipped-run", "n": 1})

    def skipped_run() -> str:
        found = send(probe, "GetEventV2Runs", eventID=second).get("data") or {}
        runs = (found.get("eventV2") or {}).get("runs")
        assert runs, f"{probe.name}: no run of {second} yet"
        return str(runs[0]["id"])

    skipped = wait_for(skipped_run, 10)
    fn_id = probe.data('{ functionBySlug(query: {functionSlug: "diff-py-singleton"}) { id } }'
                       )["functionBySlug"]["id"]
    probe.ended_run(held)
    listed = {f"{status}": _own_runs(probe.data(_SKIP_RUNS, status=status, fn=fn_id,
                                                **{"from": start}), (held, skipped))
              for status in (None, ["SKIPPED"], ["SKIPPED", "RUNNING"])}

    def finished_events() -> list[str]:
        raws = [str(edge["node"]["raw"]) for edge in probe.data(
            _SKIP_FINISHED, **{"from": start})["eventsV2"]["edges"]]
        assert any(held in raw for raw in raws), f"{probe.name}: {held} not finished yet"
        return raws

    finished = wait_for(finished_events, 10)

    def like_unknown(path: str, method: str = "GET") -> bool:
        body = {} if method == "POST" else None
        return probe.request(method, path.format(skipped), body) == probe.request(
            method, path.format(_UNKNOWN_RUN), body)

    def gql_like_unknown(query: str) -> bool:
        answers = [without_locations(probe.gql(query, id=run_id))
                   for run_id in (skipped, _UNKNOWN_RUN)]
        return answers[0] == answers[1]

    answer: Answer = {
        "event_runs": send(probe, "GetEventV2Runs", eventID=second),
        "pages": {**_run_pages(probe, skipped),
                  "page_preview": send(probe, "GetRun", runID=skipped, preview=True),
                  "trigger": send(probe, "GetTrigger", runID=skipped)},
        "run": probe.gql(_SKIP_RUN, id=skipped),
        "runs_lists": listed,
        "legacy": {"event": probe.data(_SKIP_LEGACY, event=second),
                   "function_run_as_unknown": gql_like_unknown(_SKIP_FUNCTION_RUN),
                   "cancel_as_unknown": gql_like_unknown(_SKIP_CANCEL),
                   "rerun_as_unknown": gql_like_unknown(_SKIP_RERUN)},
        "rest": {"v1_event_runs": probe.request("GET", f"/v1/events/{second}/runs")[1]["data"],
                 "v1_run_as_unknown": like_unknown("/v1/runs/{}"),
                 "v1_jobs_as_unknown": like_unknown("/v1/runs/{}/jobs"),
                 "v2_run": probe.request("GET", f"/api/v2/runs/{skipped}")[1].get("data"),
                 "v2_trace": _v2_root(probe.request("GET", f"/api/v2/runs/{skipped}/trace")),
                 "v2_event_runs": probe.request(
                     "GET", f"/api/v2/events/{second}/runs")[1].get("data"),
                 "v2_cancel_as_unknown": like_unknown("/api/v2/runs/{}/cancel", "POST"),
                 "v2_rerun_as_unknown": like_unknown("/api/v2/runs/{}/rerun", "POST")},
        "finished": {"held": sum(held in raw for raw in finished),
                     "skipped": sum(skipped in raw for raw in finished)},
    }
    labels = Labels(held=held, skipped=skipped, event=second, first_event=first,
                    function=fn_id)
    return {key: labels(value) for key, value in answer.items()}


def _v2_root(reply: tuple[int, typing.Any]) -> object:
    """The v2 trace's root span, its id (each server's own) left out."""
    root = dict(((reply[1].get("data") or {}).get("rootSpan")) or {})
    root.pop("id", None)
    return [reply[0], root]


CASES["flow_singleton_skipped"] = Case(_singleton_skipped, (
    "event_runs", "pages", "run", "runs_lists", "legacy", "rest", "finished"), phase=3)


# -- a singleton held: its running run's lists, and invoking it --------------------------------
_HELD_RUN_FIELDS = "id status startedAt endedAt output eventName triggerIDs"
_HELD_EVENT = "query($id: ULID!) { eventV2(id: $id) { runs { %s } } }" % _HELD_RUN_FIELDS
_HELD_EVENTS = """query($from: Time!) { eventsV2(first: 50, filter: {from: $from,
  eventNames: ["py/singleton"]}) { edges { node { id runs { %s } } } } }""" % _HELD_RUN_FIELDS
_HELD_LIST_TRACES = """query($from: Time!, $fn: UUID!) { runs(filter: {from: $from,
  functionIDs: [$fn]}, orderBy: [{field: QUEUED_AT, direction: DESC}]) { edges { node {
  id status trace { name status } preview: trace(preview: true) { name status } } } } }"""
_HELD_INVOKE = ('mutation($key: String!) { invokeFunction(functionSlug: "diff-py-singleton", '
                "data: {key: $key, n: 1, hold: 1}) }")
_HELD_INVOKER_TRACE = """query($id: String!) { run(runID: $id) { trace(preview: true) {
  status childrenSpans { name status stepOp stepInfo { ... on InvokeStepInfo {
  triggeringEventID functionID timeout returnEventID runID timedOut } } } } } }"""
_HELD_INVOKED = """query($from: Time!) { eventsV2(first: 100, filter: {from: $from,
  includeInternalEvents: true, eventNames: ["inngest/function.invoked"]}) {
  edges { node { id raw runs { id status startedAt endedAt } } } } }"""


def _held_runs(runs: list[dict[str, typing.Any]]) -> list[dict[str, object]]:
    """An event's runs, each end told as about its start (within a second: the real server
    ends a running run's trace run with the spans it exported so far, a few milliseconds
    after its start), a later time or none."""
    def ended(run: dict[str, typing.Any]) -> str:
        if run["endedAt"] is None:
            return "none"
        if run["startedAt"] is None:
            return "a time"
        took = _ms(run["endedAt"]) - _ms(run["startedAt"])
        return "about startedAt" if 0 <= took < 1000 else "later"

    return [{**run, "endedAt": ended(run)} for run in runs]


def _ms(moment: str) -> float:
    parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed.timestamp() * 1000


def _invoked_with(probe: Probe, start: str, key: str) -> list[dict[str, typing.Any]]:
    """The ``inngest/function.invoked`` events whose data has ``key``, with their runs."""
    edges = probe.data(_HELD_INVOKED, **{"from": start})["eventsV2"]["edges"]
    return [edge["node"] for edge in edges
            if json.loads(edge["node"]["raw"])["data"].get("key") == key]


def _singleton_held(side: Side) -> Answer:
    """A singleton (skip) run asleep 6 s holding its key. Its event's runs (``eventV2``,
    ``eventsV2``) while it runs and once it ended; the ``runs`` list's ``trace`` of its runs;
    the function invoked meanwhile by GraphQL ``invokeFunction`` and by ``step.invoke`` (the
    invoker's step answer, the invocations' runs and finish events)."""
    probe = side.probe
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
             ).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    key = "held-run"
    first = probe.send("py/singleton", {"key": key, "n": 0, "hold": 6})
    held = probe.run_ids(first)[0]
    wait_for(lambda: _asleep(probe, held), 10)
    fn_id = probe.data('{ functionBySlug(query: {functionSlug: "diff-py-singleton"}) { id } }'
                       )["functionBySlug"]["id"]
    answer: Answer = {"running": _event_runs_of(probe, start, first, "RUNNING")}
    answer["gql_invoke"] = without_locations(probe.gql(_HELD_INVOKE, key=key))
    invoker_event = probe.send("py/invoke-singleton", {"key": key, "n": 2})
    invoker = probe.run_ids(invoker_event)[0]
    began = time.monotonic()
    answer["list_traces_running"] = _list_traces(probe, start, fn_id)
    probe.ended_run(held)
    answer["ended"] = _event_runs_of(probe, start, first, "COMPLETED")
    answer["invoker"] = settled_run(probe, invoker)
    answer["invoker_waited"] = "timeout" if time.monotonic() - began > 8 else "less"
    answer["invoker_trace"] = probe.data(_HELD_INVOKER_TRACE, id=invoker)["run"]["trace"]
    answer["list_traces_ended"] = _list_traces(probe, start, fn_id)
    invocations = wait_for(lambda: _two_invocations(probe, start, key), 10)
    answer["invocations"] = [_held_runs(node["runs"]) for node in invocations]
    skipped = {run["id"] for node in invocations for run in node["runs"]}
    finished = [str(edge["node"]["raw"]) for edge in probe.data(
        _SKIP_FINISHED, **{"from": start})["eventsV2"]["edges"]]
    answer["finished"] = {"held": sum(held in raw for raw in finished),
                          "invocations": sum(run in raw for raw in finished for run in skipped)}
    labels = Labels(held=held, first_event=first, function=fn_id, invoker=invoker,
                    invoker_event=invoker_event)
    return {name: labels(value) for name, value in answer.items()}


def _asleep(probe: Probe, run_id: str) -> bool:
    history = probe.data('query($id: ID!) { functionRun(query: {functionRunId: $id}) {'
                         " history { type } } }", id=run_id)["functionRun"]["history"]
    assert "StepSleeping" in {item["type"] for item in history}, f"{probe.name}: not asleep"
    return True


def _event_runs_of(probe: Probe, start: str, event_id: str, status: str
                   ) -> dict[str, object]:
    """The event's runs by ``eventV2`` and ``eventsV2``, once its run shows ``status`` there
    (the real server's trace runs lag behind its runs, a run queued there while asleep)."""
    def shown() -> None:
        runs = probe.data(_HELD_EVENT, id=event_id)["eventV2"]["runs"]
        assert [run["status"] for run in runs] == [status], f"{probe.name}: runs {runs}"

    wait_for(shown, 10)
    listed = [edge["node"]["runs"] for edge in probe.data(
        _HELD_EVENTS, **{"from": start})["eventsV2"]["edges"] if edge["node"]["id"] == event_id]
    return {"eventV2": _held_runs(probe.data(_HELD_EVENT, id=event_id)["eventV2"]["runs"]),
            "eventsV2": [_held_runs(runs) for runs in listed]}


def _list_traces(probe: Probe, start: str, fn_id: str) -> list[object]:
    """The distinct ``trace`` answers (plain and preview) of the function's listed runs."""
    edges = probe.data(_HELD_LIST_TRACES, fn=fn_id, **{"from": start})["runs"]["edges"]
    seen = {json.dumps([edge["node"]["trace"], edge["node"]["preview"]]) for edge in edges}
    return [json.loads(value) for value in sorted(seen)]


def _two_invocations(probe: Probe, start: str, key: str) -> list[dict[str, typing.Any]]:
    found = _invoked_with(probe, start, key)
    assert len(found) == 2, f"{probe.name}: invocations so far {found}"
    return sorted(found, key=lambda node: json.loads(node["raw"])["data"]["n"])


CASES["flow_singleton_held"] = Case(_singleton_held, (
    "running", "gql_invoke", "list_traces_running", "ended", "invoker", "invoker_waited",
    "invoker_trace",
    "list_traces_ended", "invocations", "finished"), phase=3)
