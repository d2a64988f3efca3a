"""A call request's ``ctx``: written out as text, it is the canonical JSON (RFC 8785) of
the object the SDK reads, whatever its strings hold."""

from __future__ import annotations

import random

from inngest._engine.executor import _Context
from inngest._protocol import jcs

_CHARACTERS = 'ab"\\/\n\t\x00\x1f\x7f\u00e9\u2028\U0001f600<>&'


def test_the_ctx_text_is_the_canonical_json_of_its_object() -> None:
    chooser = random.Random(4)

    def text() -> str:
        return "".join(chooser.choice(_CHARACTERS) for _ in range(chooser.randint(0, 12)))

    for _ in range(3000):
        ctx = _Context(
            fn_id=text(), run_id=text(), attempt=chooser.randint(0, 20),
            max_attempts=chooser.randint(0, 20),
            stack=[text() for _ in range(chooser.randint(0, 5))], current=chooser.randint(0, 9),
            qi_id=chooser.randint(0, 10**9), request_id=text(), job_id=text(),
            plan_forced=chooser.random() < 0.5)
        use_api = chooser.random() < 0.5
        whole = {
            "fn_id": ctx.fn_id, "run_id": ctx.run_id, "env": "", "step_id": "step",
            "attempt": ctx.attempt, "max_attempts": ctx.max_attempts,
            "stack": {"stack": ctx.stack, "current": ctx.current}, "qi_id": str(ctx.qi_id),
            "request_id": ctx.request_id, "job_id": ctx.job_id, "generation_id": 0,
            "disable_immediate_execution": ctx.plan_forced, "use_api": use_api,
        }
        assert ctx.text(use_api).encode() == jcs.canonicalize(whole)
