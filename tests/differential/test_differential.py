"""The same apps, events and actions on the real Inngest dev server and on our engine:
every aspect a user or a tool sees must be equal after normalization (see cases.py)."""

from __future__ import annotations

import pytest

import cases
import cases_cli_api  # noqa: F401  (registers its cases into cases.CASES)
import cases_connect  # noqa: F401  (registers its cases into cases.CASES)
import cases_debug  # noqa: F401  (registers its cases into cases.CASES)
import cases_dev_api  # noqa: F401  (registers its cases into cases.CASES)
import cases_dev_ui  # noqa: F401  (registers its cases into cases.CASES)
import cases_rest_v1  # noqa: F401  (registers its cases into cases.CASES)
import cases_flow  # noqa: F401  (registers its cases into cases.CASES)
import cases_gql_edges  # noqa: F401  (registers its cases into cases.CASES)
import cases_gql_gaps  # noqa: F401  (registers its cases into cases.CASES)
import cases_hostile  # noqa: F401  (registers its cases into cases.CASES)
import cases_js_v4  # noqa: F401  (registers its cases into cases.CASES)
import cases_raw_protocol  # noqa: F401  (registers its cases into cases.CASES)
import cases_realtime  # noqa: F401  (registers its cases into cases.CASES)
import cases_semantics  # noqa: F401  (registers its cases into cases.CASES)
import cases_stored_events  # noqa: F401  (registers its cases into cases.CASES)
import cases_sync  # noqa: F401  (registers its cases into cases.CASES)
import cases_wire  # noqa: F401  (registers its cases into cases.CASES)

# Aspects that differ on purpose, each with its reason (docs/compatibility.md, "Engine").
KNOWN: dict[str, str] = {
    "rest_v1_bulk_cancel-bulk_cancel": "the dev server fails a valid bulk cancellation with "
                                       "an empty 500 and cancels nothing; ours applies it",
    "rest_v1_bulk_cancel-cancellations_listed": "the dev server cannot list cancellations "
                                                "(500); ours lists those made",
    "js_checkpointed-run": "a run ended by a RunComplete op keeps its output (theirs is \"\")",
    "js_checkpointed-trace": "a RunComplete run's trace: our root is Run, Finalization kept",
    "js_v4_steps-page": "a checkpointed run's page tree: ours lists its checkpointed steps "
                        "and ends in function success; the dev server's leaves them out and "
                        "names the end after the RunComplete op",
    "js_v4_non_retriable-page": "a checkpointed run's page tree: ours lists its checkpointed "
                                "step, the step a NonRetriableError failed FAILED; the dev "
                                "server's leaves the step out, shows the failed one RUNNING",
    "js_v4_scored-call_timings": "a checkpointed call's timings: the dev server's are on the "
                                 "first step the call ran, ours on the Finalization span",
    "hostile-cancellations_applied": "the dev server fails every bulk cancellation of a "
                                     "function it has with an empty 500; ours applies it",
    "hostile-signals_unnamed": "a signal without a name: the dev server's 500, ours 400 "
                               "(POST /v1/signals error bodies)",
    "raw_repeat_alone-went_on": "a reply reporting only a saved step again: the dev server's "
                                "run waits for good (its next call's job id is the one of "
                                "the call answered); ours asks the app again",
    "app_sync-same_function_elsewhere": "two apps with a function of one name at one step "
                                        "URL: the dev server gives both one ID, overwrites "
                                        "the first's and lists none in the second; ours "
                                        "keeps each app's own",
    "hostile-graphql_transports": "the dev server answers a null GraphQL body and methods "
                                  "other than GET and POST its own way; ours 400 and 405 "
                                  "(GraphQL over HTTP)",
}


def _params() -> list[object]:
    params = []
    for name, case in cases.CASES.items():
        for aspect in case.aspects:
            test_id = f"{name}-{aspect}"
            marks = []
            reason = KNOWN.get(test_id)
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            params.append(pytest.param(name, aspect, id=test_id, marks=marks))
    return params


@pytest.mark.parametrize(("name", "aspect"), _params())
def test_same_answer(pair: object, name: str, aspect: str) -> None:
    real, ours = pair.outcome(name)  # type: ignore[attr-defined]
    assert ours[aspect] == real[aspect]
