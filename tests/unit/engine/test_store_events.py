"""Stored events as the engine reads them back: after a rollback, and in a run's state size."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

from inngest._engine.models import Run, StoredEvent
from inngest._engine.payload import dump
from inngest._engine.store import TEMPORARY, Store


class Undo(Exception):
    pass


def test_an_event_read_in_a_rolled_back_transaction_is_gone_afterwards() -> None:
    store = Store(TEMPORARY)
    try:
        with pytest.raises(Undo), store.transaction():
            store.add_event(StoredEvent("01EVENT", {"name": "a/b", "data": {}}, 1))
            found = store.event("01EVENT")
            assert found is not None and found.name == "a/b"
            raise Undo()
        assert store.event("01EVENT") is None
        assert not store.has_event("01EVENT")
    finally:
        store.close()


def test_state_size_counts_the_stored_bytes_of_each_trigger_event_once() -> None:
    store = Store(TEMPORARY)
    try:
        for internal_id, text in (("01A", "é" * 100), ("01B", "plain")):
            store.add_event(StoredEvent(internal_id, {"name": "a/b", "data": {"t": text}}, 1))
        run = Run(id="run", function_id="fn", function_version=1,
                  event_ids=["01A", "01B", "01A"], created_at_ms=1, event_seq=2)
        store.save_step("run", "step", {"data": "ü"})
        expected = store._rows(
            "SELECT (SELECT SUM(LENGTH(CAST(data AS BLOB))) FROM events)"
            " + (SELECT SUM(LENGTH(CAST(value AS BLOB))) FROM steps)")[0][0]
        store.event("01A")  # once kept, the size is the same
        assert store.state_bytes(run) == expected
    finally:
        store.close()


def test_a_run_changed_in_a_rolled_back_transaction_reads_as_before() -> None:
    store = Store(TEMPORARY)
    try:
        store.add_run(Run(id="run", function_id="fn", function_version=1, event_ids=[],
                          created_at_ms=1, event_seq=0))
        with pytest.raises(Undo), store.transaction():
            assert store.update_run("run", version=2).version == 2
            store.add_run(Run(id="other", function_id="fn", function_version=1, event_ids=[],
                              created_at_ms=1, event_seq=0))
            assert store.run("run").version == 2  # type: ignore[union-attr]
            raise Undo()
        again = store.run("run")
        assert again is not None and again.version == -1
        assert store.run("other") is None
    finally:
        store.close()


def test_steps_saved_in_a_rolled_back_transaction_leave_the_counts_as_before() -> None:
    store = Store(TEMPORARY)
    run = Run(id="run", function_id="fn", function_version=1, event_ids=[], created_at_ms=1,
              event_seq=0)
    try:
        store.save_step("run", "a", {"data": "ü"})
        before = store.step_count("run"), store.state_bytes(run)
        with pytest.raises(Undo), store.transaction():
            assert store.save_step("run", "b", {"data": "x" * 50})
            assert store.step_count("run") == 2
            raise Undo()
        assert (store.step_count("run"), store.state_bytes(run)) == before == (1, 13)
        assert store.save_step("run", "b", {"data": "y"})
        assert [step_id for step_id, _ in store.steps("run")] == ["a", "b"]
        assert store.state_bytes(run) == 13 + len('{"data":"y"}')
    finally:
        store.close()


@pytest.mark.parametrize("made_before", [False, True])
def test_events_are_numbered_in_arrival_order_across_restarts(
        tmp_path: pathlib.Path, made_before: bool) -> None:
    """Also in a database whose events table an engine before made with AUTOINCREMENT."""
    path = str(tmp_path / "main.db")
    if made_before:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " internal_id TEXT UNIQUE NOT NULL, name TEXT NOT NULL,"
                         " data TEXT NOT NULL)")
        conn.close()
    numbers = []
    for restart in range(2):
        store = Store(path)
        try:
            with pytest.raises(Undo), store.transaction():
                store.add_event(StoredEvent(f"01UNDONE{restart}", {"name": "a/b"}, 1))
                raise Undo()
            numbers += [store.add_event(StoredEvent(f"01E{restart}{i}", {"name": "a/b"}, 1)).seq
                        for i in range(2)]
            assert store.last_event_seq() == numbers[-1]
        finally:
            store.close()
    assert numbers == [1, 2, 3, 4]


def test_an_event_is_stored_as_the_json_of_all_its_fields_and_only_once_when_new() -> None:
    store = Store(TEMPORARY)
    try:
        event = StoredEvent("01E", {"name": "a/\u2028\"b", "data": {"é": [1.5, None]},
                                    "id": "x", "ts": 2, "user": {}}, 3)
        stored = store.add_event(event)
        [(data, seq)] = store._rows("SELECT data, seq FROM events")
        assert data == dump(event.to_dict()) and seq == stored.seq
        assert store.add_new_event(event.replace(received_at_ms=4)) is None
        assert store._rows("SELECT data FROM events") == [(data,)]
        added = store.add_new_event(event.replace(internal_id="01F"))
        assert added is not None and added.seq == stored.seq + 1
    finally:
        store.close()
