"""A store kept in a file brings its database file up to date in the background: the
write-ahead log is checkpointed by a thread of its own, not by the commit that grows it."""

from __future__ import annotations

import pathlib
import shutil
import sqlite3
import time

from inngest._engine.models import StoredEvent
from inngest._engine.store import Store


def _events_in_file_alone(db: pathlib.Path, copy: pathlib.Path) -> int:
    """How many events the database file holds without its write-ahead log (a copy of the
    file alone, so that nothing reads the log into it)."""
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema has reached the file
        return 0
    finally:
        conn.close()


def test_committed_events_reach_the_database_file_without_a_large_log(
        tmp_path: pathlib.Path) -> None:
    db = tmp_path / "main.db"
    store = Store(str(db))
    try:
        for index in range(20):  # far from the 1,000 log pages of SQLite's own checkpoints
            store.add_event(StoredEvent(f"01EVENT{index:02d}", {"name": "a/b"}, 1))
        deadline = time.monotonic() + 10
        while _events_in_file_alone(db, tmp_path / "copy.db") < 20:
            assert time.monotonic() < deadline, "the events never reached the database file"
            time.sleep(0.05)
    finally:
        store.close()


def test_a_closed_store_leaves_no_log_and_keeps_its_events(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "main.db"
    store = Store(str(db))
    store.add_event(StoredEvent("01EVENT", {"name": "a/b"}, 1))
    store.close()
    assert not (tmp_path / "main.db-wal").exists()
    reopened = Store(str(db))
    try:
        assert reopened.event("01EVENT") is not None
    finally:
        reopened.close()
