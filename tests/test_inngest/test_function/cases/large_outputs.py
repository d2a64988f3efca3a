"""Ten ~1 MiB step outputs: the state outgrows the request, so the SDK fetches it (use_api)."""

from __future__ import annotations

import hashlib

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus

_STEPS = 10
_SIZE = 1024 * 1024


def _payload(index: int) -> str:
    return str(index) * _SIZE


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = base.BaseState()

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event), retries=0)
    def fn(ctx: inngest.ContextSync) -> object:
        state.run_id = ctx.run_id
        outputs = [ctx.step.run(f"big {i}", _payload, i) for i in range(_STEPS)]
        return [hashlib.sha256(output.encode()).hexdigest() for output in outputs]

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        run = helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED, timeout=40)
        assert run.output == [
            hashlib.sha256(_payload(i).encode()).hexdigest() for i in range(_STEPS)
        ]

    return case.Case(name, [fn], run_test)
