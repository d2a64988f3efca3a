"""Output that is not JSON fails the run without retries, for functions and for steps."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State:
    def __init__(self) -> None:
        self.function = base.BaseState()
        self.step = base.BaseState()
        self.attempts: list[int] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(
        fn_id=f"{name}-function", trigger=inngest.TriggerEvent(event=event), retries=2
    )
    def function_output(ctx: inngest.ContextSync) -> object:
        state.function.run_id = ctx.run_id
        state.attempts.append(ctx.attempt)
        return {"a set": {1, 2}}

    @client.create_function(
        fn_id=f"{name}-step", trigger=inngest.TriggerEvent(event=event), retries=2
    )
    def step_output(ctx: inngest.ContextSync) -> object:
        state.step.run_id = ctx.run_id
        return ctx.step.run("bad", lambda: object())

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run = helper.client.wait_for_run_status(
            state.function.wait_for_run_id(), RunStatus.FAILED
        )
        assert run.output["name"] == "OutputUnserializableError"
        assert run.output["message"] == "returned unserializable data"
        assert state.attempts == [0]

        run = helper.client.wait_for_run_status(state.step.wait_for_run_id(), RunStatus.FAILED)
        assert run.output["name"] == "OutputUnserializableError"
        assert run.output["message"] == '"bad" returned unserializable data'

    return case.Case(name, [function_output, step_output], run_test)
