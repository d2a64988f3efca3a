"""step.send_event: returns the event ids, and the events trigger other functions."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict[str, object]] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def sender(ctx: inngest.ContextSync) -> list[str]:
        state.run_id = ctx.run_id
        return ctx.step.send_event("send", [
            inngest.Event(name=f"{event}.sent", data={"n": 1}),
            inngest.Event(name=f"{event}.sent", data={"n": 2}),
        ])

    @client.create_function(
        fn_id=f"{name}-receiver", trigger=inngest.TriggerEvent(event=f"{event}.sent")
    )
    def receiver(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data["n"]}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        ids = run.output
        assert isinstance(ids, list) and len(ids) == 2
        assert helper.client.get_step_output(run_id=run_id, step_id="send") == {"data": ids}
        outputs = []
        for event_id in ids:
            [child_run_id] = helper.client.get_run_ids_from_event_id(event_id)
            child = helper.client.wait_for_run_status(child_run_id, RunStatus.COMPLETED)
            outputs.append(child.output)
        assert outputs == [{"n": 1}, {"n": 2}]

    return case.Case(name, [sender, receiver], run_test)
