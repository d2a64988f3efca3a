"""The metadata the engine records on trace spans itself, as the dev server does (measured
against it; see docs/compatibility.md): each call's ``inngest.http.timing`` and
``inngest.timing`` on its span, and ``inngest.usage`` on the run's."""

from __future__ import annotations

import json
import threading
import time
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait
from test_graphql import data, run_id_for

from inngest._engine.clock import ManualClock

LOOPBACK = True
SPAN = "name stepOp status metadata { kind scope values updatedAt }"
TRACE = """query($id: String!) { runTrace(runID: $id) { %s
  childrenSpans { %s childrenSpans { %s } } } }""" % (SPAN, SPAN, SPAN)
HTTP_KEYS = ["content_transfer_ms", "dns_lookup_ms", "server_processing_ms",
             "tcp_connection_ms", "tls_handshake_ms", "total_ms"]
TIMING_KEYS = ["network_total_ms", "queue_delay_ms", "system_latency_ms", "total_inngest_ms"]
Span = dict[str, typing.Any]


def trace(client: Client, event_id: str) -> Span:
    run_id = run_id_for(client, event_id)
    client.wait_for_run(event_id)
    return dict(data(client, TRACE, id=run_id)["runTrace"])


def kinds(span: Span) -> list[str]:
    return [entry["kind"] for entry in span["metadata"]]


def values(span: Span, kind: str) -> dict[str, int]:
    [found] = [entry["values"] for entry in span["metadata"] if entry["kind"] == kind]
    return dict(found)


def size(span: Span) -> int:
    """The dev server's count: each value's name and JSON text, over every span."""
    own = sum(len(name) + len(json.dumps(value, separators=(",", ":")))
              for entry in span["metadata"] if entry["kind"] != "inngest.usage"
              for name, value in entry["values"].items())
    return own + sum(size(child) for child in span.get("childrenSpans") or [])


def one_step(call: Call) -> Reply:
    if step_hash("a") not in call.body["steps"]:
        time.sleep(0.05)
        return ops(op("StepRun", "a", data=1))
    return ok("done")


@pytest.mark.sockets
def test_each_call_shows_its_http_phases_and_time_in_the_engine(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=one_step)])
    [event_id] = client.send({"name": "test/fn"})
    root = trace(client, event_id)
    step, step_attempt, final, nonstep = root["childrenSpans"]
    assert [(span["name"], kinds(span)) for span in root["childrenSpans"]] == [
        ("a", ["inngest.http.timing", "inngest.timing"]), ("a", []),
        ("Finalization", ["inngest.http.timing", "inngest.timing"]),
        ("executor.nonstep", [])]
    for span in (step, final):
        assert [entry["scope"] for entry in span["metadata"]] == ["request", "request"]
        http, timing = values(span, "inngest.http.timing"), values(span, "inngest.timing")
        assert list(http) == HTTP_KEYS and list(timing) == TIMING_KEYS
        assert all(isinstance(value, int) and value >= 0
                   for value in [*http.values(), *timing.values()])
        assert http["tls_handshake_ms"] == 0  # plain HTTP: no TLS
        assert http["total_ms"] >= http["server_processing_ms"]
        assert timing["network_total_ms"] == http["total_ms"]
        assert timing["total_inngest_ms"] == timing["queue_delay_ms"] + \
            timing["system_latency_ms"]
    # The app took 50 ms to answer the step's call: measured, not made up (whole ms; the
    # app may start its sleep a moment before the engine notes the request written).
    assert values(step, "inngest.http.timing")["server_processing_ms"] >= 45
    assert step_attempt["childrenSpans"] == [] and nonstep["metadata"] == []
    [usage] = root["metadata"]
    assert (usage["kind"], usage["scope"]) == ("inngest.usage", "run")
    assert usage["values"] == {"metadata_bytes": size(root)}
    assert usage["updatedAt"].endswith("Z")


@pytest.mark.sockets
def test_retried_calls_show_on_their_attempts_and_a_wait_on_its_span(
        client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if step_hash("flaky") not in steps:
            if call.body["ctx"]["attempt"] == 0:
                return ops(op("StepError", "flaky", error={"name": "Error", "message": "x"}))
            return ops(op("StepRun", "flaky", data=1))
        if step_hash("nap") not in steps:
            return ops(op("Sleep", "nap", opts={"duration": "10ms"}))
        return ok("done")

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    root = trace(client, event_id)
    group = root["childrenSpans"][0]
    assert (group["name"], kinds(group)) == ("flaky", [])
    assert [(child["name"], kinds(child)) for child in group["childrenSpans"]] == [
        (f"Attempt {n}", ["inngest.http.timing", "inngest.timing"]) for n in (0, 1)]
    [nap] = [span for span in root["childrenSpans"] if span["stepOp"] == "SLEEP"]
    assert kinds(nap) == ["inngest.http.timing", "inngest.timing"]
    assert root["metadata"][0]["values"] == {"metadata_bytes": size(root)}


def test_an_app_called_in_process_has_no_http_timing(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    final = trace(client, event_id)["childrenSpans"][0]
    assert (final["name"], kinds(final)) == ("Finalization", ["inngest.timing"])
    # As the dev server's, without a measured request: no network time.
    assert list(values(final, "inngest.timing")) == [
        "queue_delay_ms", "system_latency_ms", "total_inngest_ms"]


def test_time_held_back_by_flow_control_is_the_queue_delay(
        manual: Client, clock: ManualClock, app: FakeApp) -> None:
    release = threading.Event()

    def handler(call: Call) -> Reply:
        if call.body["event"]["data"].get("hold"):
            release.wait(5)
        return ok(1)

    manual.register(app, [app.function("fn", handler=handler, concurrency=1)])
    [blocker] = manual.send({"name": "test/fn", "data": {"hold": True}})
    wait(app.posts)
    [waiting] = manual.send({"name": "test/fn", "data": {}})
    manual.settle(running=1)
    clock.advance(7)
    release.set()
    manual.wait_for_run(blocker)
    final = trace(manual, waiting)["childrenSpans"][0]
    assert values(final, "inngest.timing") == {
        "queue_delay_ms": 7000, "system_latency_ms": 0, "total_inngest_ms": 7000}
    first = trace(manual, blocker)["childrenSpans"][0]
    assert values(first, "inngest.timing")["queue_delay_ms"] == 0


def test_scores_keep_the_calls_metadata_and_count_in_the_usage(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    client.wait_for_run(event_id)
    status, _ = client.request("POST", f"/v1/runs/{run_id}/metadata", {
        "target": {"run_id": run_id},
        "metadata": [{"kind": "userland.note", "op": "merge", "values": {"k": "v"}}]})
    assert status == 200
    root = data(client, TRACE, id=run_id)["runTrace"]
    assert kinds(root) == ["userland.note", "inngest.usage"]
    assert root["metadata"][1]["values"] == {"metadata_bytes": size(root)}
    assert kinds(root["childrenSpans"][0]) == ["inngest.timing"]


def test_the_rest_trace_shows_the_same_metadata_as_json_texts(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    client.wait_for_run(event_id)
    status, body = client.request("GET", f"/api/v2/runs/{run_id}/trace")
    assert status == 200
    root = body["data"]["rootSpan"]
    assert [entry["kind"] for entry in root["metadata"]] == ["inngest.usage"]
    [final] = [span for span in root["children"] if span["name"] == "Finalization"]
    [timing] = final["metadata"]
    assert (timing["kind"], timing["scope"]) == ("inngest.timing", "request")
    assert all(isinstance(text, str) and text.isdigit() for text in timing["values"].values())
