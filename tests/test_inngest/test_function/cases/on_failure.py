"""on_failure runs after the function fails for good, with the error and original event."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.failure = base.BaseState()
        self.failure_event: dict[str, object] | None = None


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    def on_failure(ctx: inngest.ContextSync) -> str:
        state.failure_event = {"name": ctx.event.name, "data": dict(ctx.event.data)}
        state.failure.run_id = ctx.run_id
        return "handled"

    @client.create_function(
        fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=1, on_failure=on_failure
    )
    def fn(ctx: inngest.ContextSync) -> None:
        state.run_id = ctx.run_id
        raise RuntimeError(f"attempt {ctx.attempt} failed")

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"order": 7}))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.FAILED)
        assert run.output["message"] == "attempt 1 failed"

        failure_run = helper.client.wait_for_run_status(
            state.failure.wait_for_run_id(timeout=10), RunStatus.COMPLETED
        )
        assert failure_run.output == "handled"
        assert state.failure_event is not None
        assert state.failure_event["name"] == "inngest/function.failed"
        data = state.failure_event["data"]
        assert isinstance(data, dict)
        assert data["function_id"] == f"{client.app_id}-{name}"
        assert data["run_id"] == run_id
        assert data["error"]["message"] == "attempt 1 failed"
        assert data["event"]["data"] == {"order": 7}

    return case.Case(name, [fn], run_test)
