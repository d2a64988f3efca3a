"""group.parallel (race): steps are planned with parallelMode "race" and each runs once."""

from __future__ import annotations

import collections

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.calls: collections.Counter[str] = collections.Counter()
        self.observed: list[tuple[str, object]] = []


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    class Observer(inngest.MiddlewareSync):
        def transform_output(self, result: inngest.TransformOutputResult) -> None:
            step = result.step
            if step is not None and step.op.value == "StepRun" and result.has_output():
                with state.lock:
                    state.observed.append((step.id, result.output))

    def step(step_id: str) -> str:
        with state.lock:
            state.calls[step_id] += 1
        return step_id.upper()

    @client.create_function(
        fn_id=name, trigger=inngest.TriggerEvent(event=event), middleware=[Observer]
    )
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        results = ctx.group.parallel(
            (lambda: ctx.step.run("x", step, "x"), lambda: ctx.step.run("y", step, "y")),
            parallel_mode=inngest.ParallelMode.RACE,
        )
        return list(results)

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == ["X", "Y"]
        assert state.calls == {"x": 1, "y": 1}
        assert sorted(state.observed) == [("x", "X"), ("y", "Y")]

    return case.Case(name, [fn], run_test)
