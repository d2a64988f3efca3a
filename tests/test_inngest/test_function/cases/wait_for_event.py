"""step.wait_for_event with ``if``: only the matching event resumes the run."""

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
            timeout=30_000,
        )
        assert got is not None, "the wait timed out"
        return {"name": got.name, "data": dict(got.data)}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"id": "abc"}))
        run_id = state.wait_for_run_id()

        def completed() -> helper.Run:
            # The wait may not be registered yet, so keep offering both events.
            ctx.client.send_sync([
                inngest.Event(name=f"{event}.fulfill", data={"id": "other", "n": 0}),
                inngest.Event(name=f"{event}.fulfill", data={"id": "abc", "n": 1}),
            ])
            return helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED, timeout=0.5)

        run = base.wait_for(completed, timeout=20)
        assert run.output == {"name": f"{event}.fulfill", "data": {"id": "abc", "n": 1}}
        assert helper.client.get_step_output(run_id=run_id, step_id="wait")["data"]["data"] == {
            "id": "abc", "n": 1}

    return case.Case(name, [fn], run_test)
