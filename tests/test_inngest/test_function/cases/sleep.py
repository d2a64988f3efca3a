"""step.sleep and step.sleep_until: the run pauses, then resumes after the wake time."""

from __future__ import annotations

import datetime
import time

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.wake_at: float | None = None
        self.resumed_at: float | None = None


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def fn(ctx: inngest.ContextSync) -> str:
        state.run_id = ctx.run_id
        ctx.step.sleep("nap", datetime.timedelta(milliseconds=500))
        wake_at = ctx.step.run("plan wake", lambda: time.time() + 1)
        ctx.step.sleep_until("until", datetime.datetime.fromtimestamp(wake_at))
        # Only code after the last sleep may record: it runs once, on the final request.
        state.wake_at, state.resumed_at = wake_at, time.time()
        return "awake"

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == "awake"
        assert state.wake_at is not None and state.resumed_at is not None
        # Whole-millisecond wake times: never resumed before the requested moment.
        assert state.resumed_at >= state.wake_at - 0.001

    return case.Case(name, [fn], run_test)
