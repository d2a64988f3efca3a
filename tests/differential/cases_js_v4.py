"""Cases for the JS SDK v4 app (``tests/js_app/differential_v4.mjs``): checkpointed runs (v4's
default), parallel steps, a step retried, a non-retriable error, a matched wait, invoke,
deferred runs (one aborted, one from within a step), sessions through ``step.sendEvent``,
``step.invoke`` and ``defer``, and step metadata and scores.

They register into ``cases.CASES`` and use its normalization rules, and two of their own for
runs a ``RunComplete`` op ended (every v4 run that completes: it checkpoints), which the
engine shows its own way on purpose (docs/compatibility.md, Engine, "Async checkpointing").
"""

from __future__ import annotations

import json
import typing

from cases import (
    CASES, METADATA_TRACE, RUN_ASPECTS, Answer, Case, Side, scored_spans, any_order,
    attempt, ids, inspect, metadata_shape, send_until_ended,
)
from probe import Probe, wait_for

# All in the phase of js_parallel, which has no timing case: run beside the crowd of phase 0 or
# the flow control cases, their calls made those (throttle starts, say) late.
PHASE = 3
DEFERS = """query($id: String!) { run(runID: $id) { status
  defers { hashedDeferID userlandDeferID fnSlug status runID run { status output } }
  deferredFrom { runID } siblingDefers { userlandDeferID status } } }"""


def returned(output: object) -> object:
    """What the function returned: the dev server's output of a run ended by a
    ``RunComplete`` op is the op list the SDK sent (``[{"op": "RunComplete", "data": …}]``,
    with its ``DeferAdd`` ops), ours what the op holds."""
    try:
        value = json.loads(output) if isinstance(output, str) else output
    except ValueError:
        return output
    ends = [op for op in value if isinstance(op, dict) and op.get("op") == "RunComplete"] \
        if isinstance(value, list) else []
    return ends[0].get("data") if ends else value


def _returned_runs(answer: Answer, *aspects: str) -> Answer:
    """``returned`` applied to the run (or the list of runs) of each aspect."""
    for aspect in aspects:
        runs = answer.get(aspect)
        for run in runs if isinstance(runs, list) else [runs]:
            if isinstance(run, dict) and "output" in run:
                run["output"] = returned(run["output"])
    return answer


def completed_tree(tree: object) -> object:
    """A completed run's trace: the dev server names its root after the ``RunComplete`` op,
    ours ``Run``; ours adds a ``Finalization`` span for the call that ended the run; the dev
    server lists that call's ``executor.nonstep`` by its start, among the steps it ran, ours
    after them."""
    if not isinstance(tree, dict) or tree.get("status") != "COMPLETED":
        return tree
    children = [child for child in tree["children"]
                if not (child["name"] == "Finalization" and not child["children"])]
    return {**tree, "name": "<root>",
            "children": [child for child in children if child["name"] != "executor.nonstep"]
            + [child for child in children if child["name"] == "executor.nonstep"]}


def _v4_answer(answer: Answer) -> Answer:
    _returned_runs(answer, "run")
    if "trace" in answer:
        answer["trace"] = completed_tree(answer["trace"])
    return answer


def shown(probe: Probe, run_id: str) -> dict[str, typing.Any]:
    """``run { status output }`` once ended with its output: every v4 run here returns or
    fails with something, and a busy dev server shows the output seconds after the status."""

    def output() -> dict[str, typing.Any]:
        run = probe.ended_run(run_id)
        assert run["output"] is not None, f"{probe.name}: run {run_id} has no output yet"
        return run

    return wait_for(output, 30)


def _counts(side: Side, key: str) -> dict[str, int]:
    return (side.js_v4_counts or dict)(key)


def _v4(name: str, *aspects: str, executions: str = "") -> None:
    """A case that sends ``v4/<name>`` and reads its run; ``executions``: the key whose step
    bodies' runs are counted (each must run once, checkpointed or not)."""

    def drive(side: Side) -> Answer:
        event_id = side.probe.send(f"v4/{name.replace('_', '-')}",
                                   {"key": executions or name})
        run_id = side.probe.run_ids(event_id)[0]
        shown(side.probe, run_id)
        answer = inspect(side, run_id, aspects, event_id)
        if executions:
            answer["executions"] = _counts(side, executions)
        _v4_answer(answer)
        return any_order(answer) if name == "parallel" else answer

    CASES[f"js_v4_{name}"] = Case(
        drive, (*aspects, "executions") if executions else aspects, js=True, phase=PHASE)


_v4("steps", *RUN_ASPECTS, "page", executions="v4-steps")
_v4("parallel", *RUN_ASPECTS, executions="v4-parallel")
_v4("flaky", *RUN_ASPECTS, executions="v4-flaky")
_v4("non_retriable", *RUN_ASPECTS, "page")
_v4("invoker", *RUN_ASPECTS)


def _wait_matched(side: Side) -> Answer:
    event_id = side.probe.send("v4/waiter", {"key": "v4-wait"})
    run_id = side.probe.run_ids(event_id)[0]
    wait_for(lambda: _ready(side, "v4-wait"), 30)
    send_until_ended(side, run_id, "v4/waiter.resolve", {"key": "v4-wait", "answer": 42})
    shown(side.probe, run_id)
    return _v4_answer(inspect(side, run_id, RUN_ASPECTS, event_id))


def _ready(side: Side, key: str) -> None:
    assert _counts(side, key).get("ready"), f"{side.probe.name}: {key} not ready"


CASES["js_v4_wait_matched"] = Case(_wait_matched, RUN_ASPECTS, js=True, phase=PHASE)


# -- deferred runs: started once the run ends, an aborted one never ----------------------------
def _defers_ended(probe: Probe, run_id: str) -> dict[str, typing.Any]:
    """The run's defers, once every one not aborted started a run that ended."""

    def ended() -> dict[str, typing.Any]:
        run = probe.data(DEFERS, id=run_id)["run"]
        for defer in run["defers"]:
            started = defer["run"] or {}
            assert defer["status"] == "ABORTED" or started.get("output") is not None, \
                f"{probe.name}: defer {defer} not ended"
        return typing.cast("dict[str, typing.Any]", run)

    return wait_for(ended, 30)


def _deferred_labels(defers: list[dict[str, typing.Any]]) -> dict[str, str]:
    return {defer["runID"]: f"<run of defer {defer['userlandDeferID']}>"
            for defer in defers if defer["runID"]}


def _defers(side: Side) -> Answer:
    probe = side.probe
    event_id = probe.send("v4/defers", {"key": "v4-defers"})
    run_id = probe.run_ids(event_id)[0]
    shown(probe, run_id)
    parent = _defers_ended(probe, run_id)
    answer = inspect(side, run_id, ("run", "trace"), event_id)
    answer["defers"] = sorted(parent["defers"], key=lambda defer: defer["userlandDeferID"])
    started = [defer["runID"] for defer in answer["defers"] if defer["runID"]]
    answer["deferred_runs"] = [probe.data(DEFERS, id=started_id)["run"]
                               for started_id in started]
    answer["executions"] = _counts(side, "v4-defers")
    for defer in answer["defers"]:
        _returned_runs(defer, "run")
    _returned_runs(_v4_answer(answer), "deferred_runs")
    labels = {run_id: "<run>", event_id: "<event>", **_deferred_labels(parent["defers"])}
    return ids(answer, labels)  # type: ignore[return-value]


CASES["js_v4_defers"] = Case(
    _defers, ("run", "trace", "defers", "deferred_runs", "executions"), js=True,
    phase=PHASE)


# -- sessions: the run's own, and those its children see --------------------------------------
def _sessions(side: Side) -> Answer:
    probe = side.probe
    event_id = probe.send("v4/sessions", {"key": "v4-sessions"},
                          meta={"sessions": {"conv": "c1", "org": "acme"}})
    run_id = probe.run_ids(event_id)[0]
    run = shown(probe, run_id)
    answer: Answer = _returned_runs({"run": run}, "run")
    sent = typing.cast("dict[str, list[str]]", run["output"] or {}).get("sent") or []
    labels = {run_id: "<run>", event_id: "<event>",
              **{sent_id: f"<sent {n}>" for n, sent_id in enumerate(sent)}}
    children = [shown(probe, probe.run_ids(sent_id)[0]) for sent_id in sent]
    answer["sent_children"] = children
    parent = _defers_ended(probe, run_id)
    answer["deferred"] = [defer["run"] for defer in parent["defers"]]
    _returned_runs(answer, "sent_children", "deferred")
    return ids(answer, labels)  # type: ignore[return-value]


CASES["js_v4_sessions"] = Case(
    _sessions, ("run", "sent_children", "deferred"), js=True, phase=PHASE)


# -- step metadata and scores on the run's spans -------------------------------------------------
_TIMINGS = "request"  # the scope of a call's HTTP and queue timings


def _metadata(span: dict[str, typing.Any], timings: bool) -> dict[str, typing.Any]:
    """The span tree with only the call timings' metadata (``timings``) or all other; the
    root named as in ``completed_tree``, our Finalization span left out."""
    return {
        **span, "name": "<root>" if span.get("isRoot") else span["name"],
        "metadata": [entry for entry in span["metadata"]
                     if (entry["scope"] == _TIMINGS) == timings],
        "childrenSpans": [_metadata(child, timings) for child in span.get("childrenSpans") or []
                          if child["name"] != "Finalization"],
    }


def _timed_spans(span: dict[str, typing.Any]) -> list[str]:
    """The names of the spans that carry a call's timings."""
    own = [span["name"]] if any(entry["scope"] == _TIMINGS for entry in span["metadata"]) else []
    return own + [name for child in span.get("childrenSpans") or []
                  for name in _timed_spans(child)]


def _scored(side: Side) -> Answer:
    probe = side.probe
    event_id = probe.send("v4/scored", {"key": "v4-scored"})
    run_id = probe.run_ids(event_id)[0]
    shown(probe, run_id)
    answer = _v4_answer(inspect(side, run_id, ("run",), event_id))
    trace = probe.data(METADATA_QUERY, id=run_id)["runTrace"]
    answer["metadata"] = metadata_shape(_metadata(trace, timings=False))
    answer["call_timings"] = sorted(_timed_spans(trace))
    answer["scores"] = attempt(lambda: scored_spans(_metadata(
        probe.data(METADATA_QUERY, id=run_id)["runTrace"], timings=False), "childrenSpans"))
    return answer


METADATA_QUERY = METADATA_TRACE.replace("name metadata", "name isRoot metadata")
CASES["js_v4_scored"] = Case(
    _scored, ("run", "metadata", "call_timings", "scores"), js=True, phase=PHASE)
