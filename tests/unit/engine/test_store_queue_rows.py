"""Queue rows: an item is stored as the compact JSON of all its fields, and read back whole."""

from __future__ import annotations

import random

from inngest._engine.models import Kind, QueueItem
from inngest._engine.payload import dump
from inngest._engine.store import Store

_CHARACTERS = 'ab"\\/\n\x00\x7f\u00e9\u2028\U0001f600'


def test_queued_items_are_stored_as_the_json_of_all_their_fields() -> None:
    chooser = random.Random(9)

    def text() -> str:
        return "".join(chooser.choice(_CHARACTERS) for _ in range(chooser.randint(0, 8)))

    store = Store()
    try:
        for index in range(300):
            item = QueueItem(
                kind=chooser.choice(list(Kind)), available_at_ms=chooser.randint(0, 2**50),
                run_id=text(), payload={text(): [text(), chooser.random(), None]},
                attempt=chooser.randint(0, 9), partition=text(), key=text(),
                priority_ms=chooser.randint(0, 10**6),
                job_id=None if chooser.random() < 0.3 else f"{index}{text()}")
            stored = store.insert_item(item)
            assert stored is not None
            [(data,)] = store._rows("SELECT data FROM queue WHERE id = ?", stored.id)
            assert data == dump(item.to_dict())
            assert stored == item.replace(id=stored.id)
            assert [found for found in store.items() if found.id == stored.id] == [stored]
    finally:
        store.close()
