"""A step's result reported again after it was saved (an SDK retrying a request whose
reply was already acted on, or an app answering from older state): the saved result stays,
and the run goes on with the next call instead of waiting forever."""

from __future__ import annotations

import logging
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash
from test_history import history, outline
from test_step_metadata import traced

LOOPBACK = True
A = step_hash("a")
B = step_hash("b")
COUNTED = [{"kind": "userland.counter", "scope": "run", "op": "add", "values": {"n": 1}}]


def repeating(*, after: tuple[str, ...] = ("a",), times: int = 1,
              **fields: typing.Any) -> typing.Callable[[Call], Reply]:
    """A handler that runs the steps ``after`` in turn, then reports step "a" again (with
    another value) ``times`` times, then returns the results it was sent."""
    repeats = 0

    def handler(call: Call) -> Reply:
        nonlocal repeats
        steps = call.body["steps"]
        for name in after:
            if step_hash(name) not in steps:
                return ops(op("StepRun", name, data=f"{name} first", **fields))
        if repeats < times:
            repeats += 1
            return ops(op("StepRun", "a", data="a again", **fields))
        return ok(steps)

    return handler


def started(client: Client, app: FakeApp, handler: typing.Callable[[Call], Reply]) -> str:
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    return event_id


def test_a_step_reported_again_keeps_its_result_and_the_run_goes_on(
        client: Client, app: FakeApp) -> None:
    run = client.wait_for_run(started(client, app, repeating()))
    assert run["status"] == "Completed", run
    assert run["output"] == {A: {"data": "a first"}}
    assert [call.body["ctx"]["stack"] for call in app.posts()] == [
        {"stack": [], "current": 0}, {"stack": [A], "current": 1},
        {"stack": [A], "current": 1}]
    assert outline(history(client, run["run_id"])) == [
        ("FunctionScheduled", 0, None), ("FunctionStarted", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "a"), ("StepScheduled", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "a"), ("StepScheduled", 0, None),
        ("StepStarted", 0, "step"), ("StepCompleted", 0, "step"),
        ("FunctionCompleted", 0, None)]


def test_an_earlier_step_reported_again_after_later_ones(client: Client, app: FakeApp) -> None:
    run = client.wait_for_run(started(client, app, repeating(after=("a", "b"))))
    assert run["status"] == "Completed", run
    assert run["output"] == {A: {"data": "a first"}, B: {"data": "b first"}}
    assert len(app.posts()) == 4


def test_a_step_reported_again_beside_a_new_one_moves_on_once(
        client: Client, app: FakeApp) -> None:
    """The new step's result moves the run on: the repeated one asks for no call of its own."""
    def handler(call: Call) -> Reply:
        steps = call.body["steps"]
        if A not in steps:
            return ops(op("StepRun", "a", data="a first"))
        if B not in steps:
            return ops(op("StepRun", "a", data="a again"), op("StepRun", "b", data="b first"))
        return ok(steps)

    run = client.wait_for_run(started(client, app, handler))
    assert run["status"] == "Completed", run
    assert run["output"] == {A: {"data": "a first"}, B: {"data": "b first"}}
    assert len(app.posts()) == 3


def test_an_app_that_keeps_reporting_a_saved_step_is_asked_once_more_not_forever(
        client: Client, app: FakeApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "inngest.engine")
    event_id = started(client, app, repeating(times=1_000))
    client.wait(lambda: len(app.posts()) >= 3)
    client.settle()
    assert len(app.posts()) == 3
    [run] = client.runs(event_id)
    assert run["status"] == "Running"
    assert "reported step a again at the same place" in caplog.text


def test_metadata_of_a_step_reported_again_counts_again_as_on_the_dev_server(
        client: Client, app: FakeApp) -> None:
    """Measured: the dev server adds the metadata of every op it receives, a repeated one's
    too (its run counter read 2 after a step reported twice)."""
    run = client.wait_for_run(started(client, app, repeating(metadata=COUNTED)))
    assert run["status"] == "Completed", run
    assert traced(client, run["run_id"])[""] == [
        {"kind": "userland.counter", "scope": "run", "values": {"n": 2}}]
