"""RetryAfterError: the next attempt comes no earlier than the requested moment."""

from __future__ import annotations

import datetime
import time

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus

_DELAY = datetime.timedelta(seconds=1.5)


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[tuple[int, float]] = []
        self.retry_at: float | None = None


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=1)
    def fn(ctx: inngest.ContextSync) -> str:
        state.run_id = ctx.run_id
        state.attempts.append((ctx.attempt, time.time()))
        if ctx.attempt == 0:
            error = inngest.RetryAfterError("later", _DELAY)
            state.retry_at = error.retry_after.timestamp()
            raise error
        return "retried"

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == "retried"
        assert [attempt for attempt, _ in state.attempts] == [0, 1]
        assert state.retry_at is not None
        # The header has millisecond precision; the retry must not come before it.
        assert state.attempts[1][1] >= state.retry_at - 0.001

    return case.Case(name, [fn], run_test)
