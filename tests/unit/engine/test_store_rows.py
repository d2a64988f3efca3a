"""A database altered outside the engine: its rows are reported, not read as other types."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

from inngest._engine.payload import PayloadError
from inngest._engine.store import Store, StoreError


def altered(path: pathlib.Path, sql: str) -> Store:
    Store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    conn.close()
    return Store(str(path))


def test_a_record_that_is_not_an_object_is_a_payload_error(tmp_path: pathlib.Path) -> None:
    store = altered(tmp_path / "main.db",
                    "INSERT INTO apps (id, name, url, data) VALUES ('a', 'app', 'u', '[1]')")
    try:
        with pytest.raises(PayloadError, match="stored record must be an object, not an array"):
            store.apps()
    finally:
        store.close()


def test_a_column_of_another_type_is_a_store_error(tmp_path: pathlib.Path) -> None:
    store = altered(tmp_path / "main.db", "INSERT INTO gcra (key, tat) VALUES ('k', 'soon')")
    try:
        with pytest.raises(StoreError, match="expected an integer column, not str") as caught:
            store.gcra_tat("k")
        assert caught.value.code == "store_invalid"
        assert store.gcra_tat("other") is None
    finally:
        store.close()
