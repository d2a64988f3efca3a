"""Pauses as event lookups find them: after takes, rollbacks and a restart."""

from __future__ import annotations

import os
import tempfile

import pytest

from inngest._engine.models import Pause, PauseKind
from inngest._engine.store import TEMPORARY, Store


class Undo(Exception):
    pass


def pause(pause_id: str, event_name: str = "test/resume") -> Pause:
    return Pause(id=pause_id, run_id="run-" + pause_id, kind=PauseKind.WAIT,
                 event_name=event_name, expires_at_ms=10**13, after_seq=0, step_id="wait")


def ids(pauses: list[Pause]) -> list[str]:
    return sorted(p.id for p in pauses)


def test_a_pause_taken_in_a_rolled_back_transaction_is_found_again() -> None:
    store = Store(TEMPORARY)
    try:
        store.add_pause(pause("p1"))
        with pytest.raises(Undo), store.transaction():
            assert store.take_pause("p1") is not None
            assert store.pauses_for("test/resume", 1) == []
            raise Undo()
        assert ids(store.pauses_for("test/resume", 1)) == ["p1"]
    finally:
        store.close()


def test_a_pause_deleted_in_a_rolled_back_transaction_is_found_again() -> None:
    store = Store(TEMPORARY)
    try:
        store.add_pause(pause("p1"))
        with pytest.raises(Undo), store.transaction():
            store.delete_run_pauses("run-p1")
            assert store.pauses_for("test/resume", 1) == []
            raise Undo()
        assert ids(store.pauses_for("test/resume", 1)) == ["p1"]
    finally:
        store.close()


def test_a_pause_added_again_after_its_name_found_none_is_found() -> None:
    store = Store(TEMPORARY)
    try:
        store.add_pause(pause("p1"))
        assert store.take_pause("p1") is not None
        assert store.pauses_for("test/resume", 1) == []
        store.add_pause(pause("p2"))
        assert ids(store.pauses_for("test/resume", 1)) == ["p2"]
        assert store.pauses_for("test/other", 1) == []
    finally:
        store.close()


def test_pauses_stored_before_a_restart_are_found_after_it() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "state.db")
        first = Store(path)
        first.add_pause(pause("p1"))
        first.add_pause(pause("p2", "test/other"))
        first.close()
        second = Store(path)
        try:
            assert ids(second.pauses_for("test/resume", 1)) == ["p1"]
            assert ids(second.pauses_for("test/other", 1)) == ["p2"]
        finally:
            second.close()
