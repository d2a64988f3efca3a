"""A step that keeps failing raises StepError in the function: caught, or failing the run."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State:
    def __init__(self) -> None:
        self.caught = base.BaseState()
        self.uncaught = base.BaseState()
        self.attempts: list[int] = []


def _always_fails() -> None:
    raise ValueError("boom")


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(
        fn_id=f"{name}-caught", trigger=inngest.TriggerEvent(event=event), retries=1
    )
    def caught(ctx: inngest.ContextSync) -> object:
        state.caught.run_id = ctx.run_id
        try:
            ctx.step.run("fails", _always_fails)
        except inngest.StepError as err:
            recovered = ctx.step.run("recover", lambda: "recovered")
            return {"name": err.name, "message": err.message, "then": recovered,
                    "has_stack": "ValueError" in (err.stack or "")}
        return "not raised"

    @client.create_function(
        fn_id=f"{name}-uncaught", trigger=inngest.TriggerEvent(event=event), retries=1
    )
    def uncaught(ctx: inngest.ContextSync) -> None:
        state.uncaught.run_id = ctx.run_id

        def fails() -> None:
            state.attempts.append(ctx.attempt)
            _always_fails()

        ctx.step.run("fails", fails)

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        caught_run = helper.client.wait_for_run_status(
            state.caught.wait_for_run_id(), RunStatus.COMPLETED
        )
        assert caught_run.output == {
            "name": "ValueError", "message": "boom", "then": "recovered", "has_stack": True}

        run_id = state.uncaught.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.FAILED)
        assert run.output["name"] == "ValueError"
        assert run.output["message"] == "boom"
        assert state.attempts == [0, 1]
        error = helper.client.get_step_output(run_id=run_id, step_id="fails")["error"]
        assert (error["name"], error["message"]) == ("ValueError", "boom")

    return case.Case(name, [caught, uncaught], run_test)
