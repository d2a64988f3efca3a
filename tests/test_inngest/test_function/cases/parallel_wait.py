"""group.parallel (wait): every step runs once, the tuple keeps call order, and middleware
sees each step's own result."""

from __future__ import annotations

import collections
import typing

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

        def planned(step_id: str) -> typing.Callable[[], str]:
            return lambda: ctx.step.run(step_id, step, step_id)

        results = ctx.group.parallel(tuple(planned(step_id) for step_id in ("a", "b", "c")))
        after = ctx.step.run("after", step, "after")
        return {"parallel": list(results), "after": after}

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert run.output == {"parallel": ["A", "B", "C"], "after": "AFTER"}
        assert state.calls == {"a": 1, "b": 1, "c": 1, "after": 1}
        assert sorted(state.observed) == [("a", "A"), ("after", "AFTER"), ("b", "B"), ("c", "C")]
        for step_id in ("a", "b", "c"):
            output = helper.client.get_step_output(run_id=run_id, step_id=step_id)
            assert output == {"data": step_id.upper()}

    return case.Case(name, [fn], run_test)
