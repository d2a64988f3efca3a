"""Step ids may be any Unicode; repeated ids get their own memos."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus

_IDS = ("héllo wörld", "日本語のステップ", "emoji 🚀✨", "a/b?c=d&e#f")


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = base.BaseState()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        outputs = [ctx.step.run(step_id, lambda s=step_id: f"{s} → ✓") for step_id in _IDS]
        repeated = [ctx.step.run("répété", lambda n=n: n) for n in range(3)]
        return {"outputs": outputs, "repeated": repeated}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == {
            "outputs": [f"{step_id} → ✓" for step_id in _IDS],
            "repeated": [0, 1, 2],
        }
        for step_id in _IDS:
            assert helper.client.get_step_output(run_id=run_id, step_id=step_id) == {
                "data": f"{step_id} → ✓"}

    return case.Case(name, [fn], run_test)
