"""A failing step and a failing function are retried (attempt counts up) until they succeed."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.step_attempts: list[int] = []
        self.fn_attempts: list[int] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=2)
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id

        def flaky() -> str:
            state.step_attempts.append(ctx.attempt)
            if ctx.attempt < 2:
                raise ValueError(f"step attempt {ctx.attempt}")
            return "step ok"

        result = ctx.step.run("flaky", flaky)
        state.fn_attempts.append(ctx.attempt)
        if ctx.attempt < 1:
            raise RuntimeError("function attempt 0")
        return {"step": result, "attempt": ctx.attempt}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == {"step": "step ok", "attempt": 1}
        assert state.step_attempts == [0, 1, 2]
        # The retry budget is per step: the request after the step starts at attempt 0 again.
        assert state.fn_attempts == [0, 1]
        assert helper.client.get_step_output(run_id=run_id, step_id="flaky") == {
            "data": "step ok"}

    return case.Case(name, [fn], run_test)
