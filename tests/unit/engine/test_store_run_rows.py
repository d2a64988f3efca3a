"""Run rows: a new run is stored as the compact JSON of all its fields, and read back whole."""

from __future__ import annotations

import random
import typing

from inngest._engine.models import Run, RunLimit, RunStatus
from inngest._engine.payload import dump
from inngest._engine.store import Store

_CHARACTERS = 'ab"\\/\n\x00\x7f\u00e9\u2028\U0001f600'


def _random_run(chooser: random.Random, index: int) -> Run:
    def text() -> str:
        return "".join(chooser.choice(_CHARACTERS) for _ in range(chooser.randint(0, 8)))

    def maybe(value: typing.Any) -> typing.Any:
        return None if chooser.random() < 0.4 else value

    def number() -> int:
        return chooser.randint(-2**53, 2**53)

    return Run(
        id=f"{index}{text()}", function_id=text(), function_version=number(),
        event_ids=[text() for _ in range(chooser.randint(0, 3))], created_at_ms=number(),
        event_seq=number(), status=chooser.choice(list(RunStatus)),
        started_at_ms=maybe(number()), ended_at_ms=maybe(number()),
        output=maybe({text(): [text(), chooser.random(), None, True]}),
        has_output=chooser.random() < 0.5, output_is_text=chooser.random() < 0.5,
        failed_at_limit=maybe(chooser.choice([*RunLimit, text()])), version=number(),
        force_step_plan=chooser.random() < 0.5, pending_steps=[text(), text()],
        batch_id=maybe(text()), cron=maybe(text()), correlation_id=maybe(text()),
        reason=maybe(text()), priority_s=number(), singleton_key=maybe(text()),
        skip_existing_run_id=maybe(text()), step_inputs=maybe({text(): text()}) or {},
        reused_steps=[text()], debug_session_id=maybe(text()), debug_run_id=maybe(text()),
    )


def test_new_runs_are_stored_as_the_json_of_all_their_fields() -> None:
    chooser = random.Random(11)
    store = Store()
    try:
        runs = [_random_run(chooser, index) for index in range(300)]
        runs.append(Run(id="plain", function_id="f", function_version=1, event_ids=["e"],
                        created_at_ms=1, event_seq=1))
        for run in runs:
            store.add_run(run)
            [(data,)] = store._rows("SELECT data FROM runs WHERE id = ?", run.id)
            # (A field added to Run and not written out fails here too.)
            assert data == dump(run.to_dict())
            store._run_cache.clear()
            assert store.run(run.id) == run
    finally:
        store.close()
