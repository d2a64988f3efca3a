"""Step id hashing: SHA-1 of the user id, with ``:N`` for its N-th repeat."""

from __future__ import annotations

# Hashes of the ids seen lately: a function's step ids repeat on every request of its runs.
_hashes: dict[str, str] = {}
_MAX_HASHES = 4096


def hash_step_id(pre_hash: str) -> str:
    hashed = _hashes.get(pre_hash)
    if hashed is None:
        # Imported here: hashlib loads OpenSSL, which `import inngest` avoids.
        import hashlib

        hashed = hashlib.sha1(pre_hash.encode("utf-8")).hexdigest()
        if len(_hashes) >= _MAX_HASHES:
            _hashes.clear()
        _hashes[pre_hash] = hashed
    return hashed
