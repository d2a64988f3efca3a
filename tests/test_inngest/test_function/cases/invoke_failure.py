"""A failed invoked function surfaces in the parent as a catchable StepError."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = base.BaseState()

    @client.create_function(
        fn_id=f"{name}-child", trigger=inngest.TriggerEvent(event=f"{event}.never"), retries=0
    )
    def child(ctx: inngest.ContextSync) -> object:
        raise inngest.NonRetriableError("child refused")

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=0)
    def parent(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        try:
            ctx.step.invoke("call child", function=child)
        except inngest.StepError as err:
            return {"name": err.name, "message": err.message}
        return "not failed"

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == {"name": "NonRetriableError", "message": "child refused"}
        output = helper.client.get_step_output(run_id=run_id, step_id="call child")
        assert output["error"]["message"] == "child refused"

    return case.Case(name, [child, parent], run_test)
