"""Rerunning from a step: which of the original run's step results the new run starts with.

As on the real dev server, the step is named by its hashed id or, failing that, by the id
the function gave it (its name); the steps before it are memoized from the original run,
their results reused, and the step itself may be given a new input.
"""

from __future__ import annotations

import dataclasses

from inngest._engine.models import JSON
from inngest._engine.payload import load_body
from inngest._engine.store import Store
from inngest._protocol.opcodes import Opcode

NOT_FOUND = "rerun step not found"
AMBIGUOUS = "rerun step name is ambiguous"
NOT_AN_ARRAY = "input is not a valid JSON array"
# The ops of steps the SDK is asked to run at once (the first is for a step without one).
_RUNNABLE = (Opcode.STEP_RUN.value, Opcode.STEP.value, Opcode.PLANNED.value)


class RerunStepError(Exception):
    """The step to rerun from is not in the original run, or its name names several."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.ambiguous = message == AMBIGUOUS


@dataclasses.dataclass(frozen=True)
class FromStep:
    step_id: str
    # The arguments the step is called with instead of the original ones (None: the same).
    input: list[JSON] | None = None


def input_from_text(text: str) -> list[JSON]:
    """The GraphQL argument's bytes: JSON text that must be an array."""
    try:
        value = load_body(text.encode()) if text.startswith("[") else None
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise ValueError(NOT_AN_ARRAY)
    return value


@dataclasses.dataclass(frozen=True)
class Start:
    """How a rerun from a step starts."""

    step_id: str
    # The results it starts with, in the order they were saved.
    memos: list[tuple[str, JSON]]
    # Whether the first call asks the SDK to run the step itself (a ``step.run``).
    targeted: bool


def plan(store: Store, run_id: str, requested: str) -> Start:
    """The start of a rerun of ``run_id`` from the step ``requested`` names; raises
    RerunStepError."""
    step_id = _resolve(store, run_id, requested)
    memos = store.steps(run_id)
    ids = [saved for saved, _ in memos]
    before = memos[:ids.index(step_id)] if step_id in ids else memos
    op = store.step_info(run_id).get(step_id, ("", _RUNNABLE[0]))[1]
    return Start(step_id, before, op in _RUNNABLE)


def _resolve(store: Store, run_id: str, requested: str) -> str:
    """The hashed id of the run's step ``requested`` names: its hashed id, else its name."""
    named = {step_id: name for step_id, (name, _op) in store.step_info(run_id).items()}
    for step_id in store.step_ids(run_id):
        named.setdefault(step_id, "")
    if requested in named:
        return requested
    matches = [step_id for step_id, name in named.items() if name == requested]
    if not matches:
        raise RerunStepError(NOT_FOUND)
    if len(matches) > 1:
        raise RerunStepError(AMBIGUOUS)
    return matches[0]
