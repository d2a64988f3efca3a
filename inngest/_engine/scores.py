"""Run scores: named numbers or booleans recorded against a run or one of its steps.

As on the dev server, a score is run metadata of kind ``inngest.score`` (one entry per run or
step, its values merged by score name), and an experiment's name and variant are metadata of
kind ``inngest.experiment``; traces show them on the run's span and on the step's.
"""

from __future__ import annotations

import dataclasses
import math
import typing

from inngest._engine.models import JSON
from inngest._engine.store import Store
from inngest._protocol.step_ids import hash_step_id

SCORE = "inngest.score"
EXPERIMENT = "inngest.experiment"
MAX_NAME_BYTES = 128

Metadata = dict[str, JSON]
"""One entry as spans carry it: ``kind``, ``scope``, ``values`` and ``updatedAt`` (ms)."""


@dataclasses.dataclass(frozen=True)
class Score:
    name: str
    # A finite number or a boolean, once ``check`` accepts the score.
    value: JSON
    # The step's id as the function gave it (None: the run's score).
    step_id: str | None = None
    # An experiment's name and variant.
    experiment: tuple[str, str] | None = None


class ScoreError(ValueError):
    """A score the dev server refuses; the message is its."""


def check(score: Score) -> None:
    """Raise ScoreError for a score the dev server would refuse, with its message."""
    if not score.name.strip():
        raise ScoreError("Score name is required")
    if not is_score_value(score.value):
        raise ScoreError("Score value must be a finite number or boolean")
    if score.step_id is not None and not score.step_id.strip():
        raise ScoreError("Step ID must not be empty when provided")
    if score.step_id is not None and score.experiment is not None:
        raise ScoreError("Experiment scores must be run-scoped")
    if len(score.name.encode()) > MAX_NAME_BYTES or any(
            ord(char) < 0x20 or char in "\x7f'" for char in score.name):
        raise ScoreError(
            f"Score name or value is invalid; names must be at most {MAX_NAME_BYTES} UTF-8 "
            "bytes, must not contain control characters or single quotes, and values must be "
            "a finite number or boolean")
    if score.experiment is not None:
        for part, label in zip(score.experiment, ("ID", "variant")):
            if not part.strip():
                raise ScoreError(f"Experiment {label} is required when experiment is provided")
            if len(part.encode()) > MAX_NAME_BYTES:
                raise ScoreError(f"Experiment {label} must be at most {MAX_NAME_BYTES} UTF-8 bytes")


def is_score_value(value: JSON) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, (int, float)) and math.isfinite(value)


def record(store: Store, run_id: str, scores: list[Score], now_ms: int) -> None:
    """Merge the scores into the run's metadata, in order."""
    with store.transaction():
        for score in scores:
            target = hash_step_id(score.step_id) if score.step_id else ""
            if score.experiment is not None:
                name, variant = score.experiment
                store.merge_metadata(run_id, target, EXPERIMENT,
                                     {"name": name, "variant": variant}, now_ms)
            store.merge_metadata(run_id, target, SCORE, {score.name: {"value": score.value}},
                                 now_ms)


def attach(store: Store, run_id: str, root: dict[str, object]) -> None:
    """Add the run's metadata to its root span and its steps' to their spans (the child
    ``{run}-{step id}`` of the root with the target's hashed step id)."""
    entries: dict[str, list[Metadata]] = {}
    for target, kind, values, updated_at in store.metadata(run_id):
        entries.setdefault(target, []).append({
            "kind": kind, "scope": "step" if target else "run",
            "values": dict(sorted(values.items())), "updatedAt": updated_at})
    _extend(root, entries.pop("", []))
    for child in typing.cast(list[dict[str, object]], root.get("childrenSpans") or []):
        step_id = child.get("stepID")
        if isinstance(step_id, str) and child.get("spanID") == f"{run_id}-{step_id}":
            _extend(child, entries.get(step_id, []))


def _extend(span: dict[str, object], entries: list[Metadata]) -> None:
    """After the metadata the span has already (its call's timings)."""
    span["metadata"] = [*typing.cast(list[Metadata], span.get("metadata") or []), *entries]
