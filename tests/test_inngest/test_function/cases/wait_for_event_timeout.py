"""step.wait_for_event times out (returns None) when no event satisfies ``if``."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = base.BaseState()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        got = ctx.step.wait_for_event(
            "wait",
            event=f"{event}.fulfill",
            if_exp="async.data.id == event.data.id",
            timeout=1000,
        )
        return {"timed_out": got is None}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"id": "abc"}))
        run_id = state.wait_for_run_id()

        def completed() -> helper.Run:
            ctx.client.send_sync(inngest.Event(name=f"{event}.fulfill", data={"id": "other"}))
            return helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED, timeout=0.3)

        run = base.wait_for(completed, timeout=20)
        assert run.output == {"timed_out": True}

    return case.Case(name, [fn], run_test)
