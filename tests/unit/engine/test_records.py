"""The engine's stored records: copies with changes, values read from a function's config,
and the JSON text they are stored as."""

from __future__ import annotations

import dataclasses
import json

import pytest

from inngest._engine import payload
from inngest._engine.models import Function, Run, RunStatus


def a_run() -> Run:
    return Run(id="R1", function_id="F1", function_version=1, event_ids=["E1"],
               created_at_ms=5, event_seq=1)


def test_a_replaced_run_is_a_new_frozen_run_with_the_changes() -> None:
    run = a_run()
    started = run.replace(status=RunStatus.RUNNING, started_at_ms=7)
    assert started == dataclasses.replace(run, status=RunStatus.RUNNING, started_at_ms=7)
    assert (run.status, run.started_at_ms) == (RunStatus.QUEUED, None)
    assert Run.from_dict(started.to_dict()) == started
    with pytest.raises(dataclasses.FrozenInstanceError):
        started.status = RunStatus.FAILED  # type: ignore[misc]


def test_replacing_a_field_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(TypeError, match="not fields of Run: \\['state'\\]"):
        a_run().replace(state="Running")


def test_a_function_with_another_config_reads_its_own_triggers() -> None:
    fn = Function(id="F1", app_id="A", slug="app-fn", name="fn", url="http://app",
                  config={"triggers": [{"event": "a/one"}], "retries": {"attempts": 2}})
    assert (fn.triggers, fn.max_attempts) == ([{"event": "a/one"}], 3)
    other = fn.replace(config={"triggers": [{"event": "a/two"}]})
    assert (other.triggers, other.max_attempts) == ([{"event": "a/two"}], 5)
    assert (fn.triggers, fn.max_attempts) == ([{"event": "a/one"}], 3)


@pytest.mark.parametrize("value", [
    {"id": "01M8", "n": 1.5, "none": None, "ok": True, "list": [1, "\u00e9\u2028", []]},
    "text", 7, -0.0, float("nan"), float("inf"), None, [], {},
])
def test_records_are_stored_as_compact_json(value: payload.JSON) -> None:
    assert payload.dump(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_a_value_that_is_not_json_is_not_stored() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        payload.dump({"a": object()})  # type: ignore[dict-item]


def test_a_record_s_dict_has_its_fields_in_order_and_nothing_cached() -> None:
    run = a_run().replace(status=RunStatus.RUNNING, output={"a": 1})
    names = [field.name for field in dataclasses.fields(Run)]
    assert list(run.to_dict()) == names
    assert run.to_dict()["status"] == "Running" and run.to_dict()["output"] == {"a": 1}
    fn = Function(id="F1", app_id="A", slug="app-fn", name="fn", url="http://app",
                  config={"triggers": [{"event": "a/one"}]})
    assert fn.triggers
    assert list(fn.to_dict()) == [field.name for field in dataclasses.fields(Function)]
