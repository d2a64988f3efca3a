"""NonRetriableError fails the run on the first attempt, despite retries being configured."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[int] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=3)
    def fn(ctx: inngest.ContextSync) -> None:
        state.run_id = ctx.run_id
        state.attempts.append(ctx.attempt)

        def refuse() -> None:
            raise inngest.NonRetriableError("no way")

        ctx.step.run("refuse", refuse)

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.FAILED)
        assert run.output["name"] == "NonRetriableError"
        assert run.output["message"] == "no way"
        assert state.attempts == [0]

    return case.Case(name, [fn], run_test)
