"""The run's request version: pinned by the first reply that reports steps, as the server does.

An error reply (or an empty op list) leaves it open, so the version (and with it whether
per-step planning ends after parallelism) comes from the SDK's first reply with steps.
"""

from __future__ import annotations

import typing

from engine_fakes import Call, Client, FakeApp, Reply, op, step_hash

LOOPBACK = True


def versioned(status: int, version: str, body: typing.Any) -> Reply:
    return status, {"x-inngest-req-version": version}, body


def test_an_error_reply_does_not_pin_the_version(client: Client, app: FakeApp) -> None:
    def handler(call: Call) -> Reply:
        saved = call.body["steps"]
        if call.step_id != "step":
            name = {step_hash("a"): "a", step_hash("b"): "b"}[call.step_id]
            return versioned(206, "2", [op("StepRun", name, data=name)])
        if call.body["ctx"]["attempt"] == 0 and not saved:
            return versioned(500, "1", {"name": "Error", "message": "first attempt"})
        if not saved:
            return versioned(206, "2", [op("StepPlanned", "a"), op("StepPlanned", "b")])
        if step_hash("c") not in saved:
            return versioned(206, "2", [op("StepRun", "c", data="c")])
        return versioned(200, "2", "done")

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] == "done"

    seen = [(call.step_id == "step", call.body["version"],
             call.body["ctx"]["disable_immediate_execution"]) for call in app.posts()]
    assert seen[:2] == [(True, -1, False), (True, -1, False)]
    assert sorted(seen[2:4]) == [(False, 2, True), (False, 2, True)]
    # Version 2: parallelism ends with one discovery request, and steps run inline again.
    assert seen[4:] == [(True, 2, False), (True, 2, False)]


def test_the_call_a_sleep_wakes_still_plans_steps(client: Client, app: FakeApp) -> None:
    """A parallel group that ends with a sleep: its wake-up call still has the SDK plan
    the next step (the real server clears the flag after loading the state that call is
    built from); the calls after it run steps inline again."""
    def handler(call: Call) -> Reply:
        saved = call.body["steps"]
        if call.step_id != "step":
            name = {step_hash("a"): "a", step_hash("c"): "c"}[call.step_id]
            return versioned(206, "2", [op("StepRun", name, data=name)])
        if not saved:
            return versioned(206, "2", [op("StepPlanned", "a"),
                                        op("Sleep", "nap", opts={"duration": "200ms"})])
        if step_hash("c") not in saved:
            return versioned(206, "2", [op("StepPlanned", "c")])
        return versioned(200, "2", "done")

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert run["status"] == "Completed" and run["output"] == "done"

    seen = [(call.step_id, call.body["ctx"]["disable_immediate_execution"])
            for call in app.posts()]
    assert seen == [("step", False), (step_hash("a"), True), ("step", True),
                    (step_hash("c"), False), ("step", False)]
