"""step.run: each step's handler runs once, later requests replay its memoized output."""

from __future__ import annotations

import collections

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.calls: collections.Counter[str] = collections.Counter()


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    def count(step_id: str, value: object) -> object:
        with state.lock:
            state.calls[step_id] += 1
        return value

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        first = ctx.step.run("first", count, "first", {"n": 1})
        second = ctx.step.run("second", count, "second", [first, "two"])
        return {"first": first, "second": second, "data": dict(ctx.event.data)}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"x": 1}))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == {
            "first": {"n": 1},
            "second": [{"n": 1}, "two"],
            "data": {"x": 1},
        }
        assert run.event is not None and run.event["name"] == event
        assert state.calls == {"first": 1, "second": 1}
        output = helper.client.get_step_output(run_id=run_id, step_id="second")
        assert output == {"data": [{"n": 1}, "two"]}

    return case.Case(name, [fn], run_test)
