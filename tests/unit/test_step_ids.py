"""Step id hashes stay SHA-1 of the id while the cache of ids seen fills and is emptied."""

from __future__ import annotations

import hashlib

from inngest._protocol.step_ids import hash_step_id


def test_hashes_are_sha1_of_the_id_past_the_cache_size() -> None:
    ids = [f"step-{n}:{n % 3}" for n in range(5000)] + ["é-step", "step-1:0"]
    for step_id in ids + ids[::-1]:
        assert hash_step_id(step_id) == hashlib.sha1(step_id.encode("utf-8")).hexdigest()
