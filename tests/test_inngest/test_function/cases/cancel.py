"""A cancel event matching ``if`` cancels a sleeping run; later steps never run."""

from __future__ import annotations

import datetime

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.before_sleep = False
        self.after_sleep = False


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    def mark_before() -> None:
        state.before_sleep = True

    def mark_after() -> None:
        state.after_sleep = True

    @client.create_function(
        fn_id=name,
        trigger=inngest.TriggerEvent(event=event),
        cancel=[inngest.Cancel(event=f"{event}.cancel", if_exp="async.data.id == event.data.id")],
    )
    def fn(ctx: inngest.ContextSync) -> None:
        state.run_id = ctx.run_id
        ctx.step.run("before", mark_before)
        ctx.step.sleep("long nap", datetime.timedelta(minutes=1))
        ctx.step.run("after", mark_after)

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event, data={"id": "r1"}))
        run_id = state.wait_for_run_id()
        base.wait_for(lambda: _assert(state.before_sleep))

        def cancelled() -> helper.Run:
            ctx.client.send_sync([
                inngest.Event(name=f"{event}.cancel", data={"id": "other"}),
                inngest.Event(name=f"{event}.cancel", data={"id": "r1"}),
            ])
            return helper.client.wait_for_run_status(run_id, RunStatus.CANCELLED, timeout=0.5)

        base.wait_for(cancelled, timeout=20)
        assert not state.after_sleep

    return case.Case(name, [fn], run_test)


def _assert(condition: bool) -> None:
    assert condition
