"""Async checkpointing: steps an SDK ran within one call, saved while the call goes on.

An SDK that checkpoints (the JS SDK's ``checkpointing`` option) runs several steps in one
call and reports each finished step to the server's checkpoint API as it goes; the call's
reply then carries only what comes after them (the function's result, a sleep). Saved steps
are memoized as a reply's would be, without scheduling the next call, and shown in the
run's trace but not in its history, as the Inngest dev server shows them.
"""

from __future__ import annotations

import dataclasses
import typing

from inngest._engine import defers, run_metadata
from inngest._engine.lifecycle import Lifecycle
from inngest._engine.models import JSON, Run
from inngest._protocol.opcodes import Opcode

# Ops the server accepts in a checkpoint: all others are "async" (they need the server to
# act: sleep, wait, invoke...) and refuse the whole checkpoint.
SYNC_OPS = frozenset({
    Opcode.STEP, Opcode.STEP_RUN, Opcode.PLANNED, Opcode.RUN_COMPLETE,
    Opcode.SYNC_RUN_COMPLETE, Opcode.STEP_FAILED, Opcode.DEFER_ADD, Opcode.DEFER_ABORT,
})
# Of those, the ones a checkpoint acts on, or lets pass.
_SAVED_OPS = (Opcode.STEP, Opcode.STEP_RUN)
_PASSED_OPS = (Opcode.PLANNED,)
RUN_NOT_FOUND = "run not found in state store"


class CheckpointError(Exception):
    """A checkpoint the server refuses (a 400 naming the run)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class CheckpointStep:
    """One op of a checkpoint: its opcode name, step id, names and data, and the op as it
    came (its options and error, for the ops that continue a durable endpoint's run)."""

    op: str
    id: str
    name: str
    data: JSON
    raw: typing.Mapping[str, JSON] = dataclasses.field(default_factory=dict)


def save_async(life: Lifecycle, run_id: str, steps: list[CheckpointStep]) -> None:
    """Save the finished steps of ``run_id``'s call in progress, in order.

    Refused (``CheckpointError``) for a run that is not running any more or not known, for a
    checkpoint holding an op that is not synchronous, and at the first op of those left
    that a checkpoint cannot hold (the steps before it stay saved, as on the server). A
    step already saved keeps its first value.
    """
    run = life.store.run(run_id)
    if run is None or run.status.ended:
        raise CheckpointError(RUN_NOT_FOUND)
    if any(step.op not in SYNC_OPS for step in steps):
        raise CheckpointError("cannot checkpoint async steps")
    for step in steps:
        if step.op in defers.OPS:
            defers.record(life.store, run_id, step.op, step.id, step.raw)
            continue
        if step.op in _PASSED_OPS:
            continue
        if step.op not in _SAVED_OPS:
            raise CheckpointError(f"cannot checkpoint opcode: {step.op}")
        save_step(life, run, step)


def save_step(life: Lifecycle, run: Run, step: CheckpointStep) -> None:
    """Memoize a step that ran within a call (unless saved before), without a next call.

    Also the steps an SDK reports along with the function's result (the last ones it had
    not checkpointed yet): the server shows them as it shows checkpointed ones.
    """
    value = {"data": step.data} if step.op == Opcode.STEP_RUN else step.data
    with life.store.transaction():
        if life.store.has_step(run.id, step.id):
            return
        life.store.save_step_info(run.id, step.id, step.name, step.op)
        life.store.save_step(run.id, step.id, value)
        life.history.checkpointed(run, step.id, step.name, value)
        run_metadata.from_op(life.store, run.id, step.raw, life.clock.now_ms())
