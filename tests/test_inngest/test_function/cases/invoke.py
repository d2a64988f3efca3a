"""step.invoke and step.invoke_by_id: a child function's output returns to the parent."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.child_events: list[dict[str, object]] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(
        fn_id=f"{name}-child", trigger=inngest.TriggerEvent(event=f"{event}.never")
    )
    def child(ctx: inngest.ContextSync) -> object:
        with state.lock:
            state.child_events.append({"name": ctx.event.name, "n": ctx.event.data.get("n")})
        return {"doubled": ctx.event.data["n"] * 2}

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def parent(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        by_function = ctx.step.invoke("by-function", function=child, data={"n": 2})
        by_id = ctx.step.invoke_by_id(
            "by-id", app_id=client.app_id, function_id=f"{name}-child", data={"n": 5}
        )
        return [by_function, by_id]

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == [{"doubled": 4}, {"doubled": 10}]
        assert state.child_events == [
            {"name": "inngest/function.invoked", "n": 2},
            {"name": "inngest/function.invoked", "n": 5},
        ]
        # An invoke span's output is the child's result as stored, wrapped in "data".
        assert helper.client.get_step_output(run_id=run_id, step_id="by-id") == {
            "data": {"data": {"doubled": 10}}}

    return case.Case(name, [child, parent], run_test)
