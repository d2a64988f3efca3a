"""The history table: items listed in the order they were stored, whichever schema made it."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

from inngest._engine.store import Store


class Undo(Exception):
    pass


@pytest.mark.parametrize("made_before", [False, True])
def test_history_items_keep_their_order_across_restarts_and_rollbacks(
        tmp_path: pathlib.Path, made_before: bool) -> None:
    """Also in a database whose history table an engine before made with AUTOINCREMENT."""
    path = str(tmp_path / "main.db")
    if made_before:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                         " id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL, data TEXT NOT NULL)")
        conn.close()
    for restart in range(2):
        store = Store(path)
        try:
            with pytest.raises(Undo), store.transaction():
                store.add_history_items("run", [(f"undone{restart}", '{"n":-1}')])
                raise Undo()
            store.add_history("run", f"a{restart}", f'{{"n":{2 * restart}}}')
            store.add_history_items("run", [(f"b{restart}", f'{{"n":{2 * restart + 1}}}')])
            store.add_history("other", f"c{restart}", '{"n":9}')
        finally:
            store.close()
    store = Store(path)
    try:
        assert store.history("run") == [{"n": n} for n in range(4)]
        assert store.history("other") == [{"n": 9}, {"n": 9}]
    finally:
        store.close()
