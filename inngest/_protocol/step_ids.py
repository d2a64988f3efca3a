"""Step id hashing: SHA-1 of the user id, with ``:N`` for its N-th repeat."""

from __future__ import annotations

import typing

_MAX_HASHES = 4096


class _Hashes(dict):  # type: ignore[type-arg]
    """Hashes of the ids seen lately (a function's step ids repeat on every request of its
    runs): a lookup of a known id runs no Python code."""

    def __missing__(self, pre_hash: str) -> str:
        # Imported here: hashlib loads OpenSSL, which `import inngest` avoids.
        import hashlib

        hashed = hashlib.sha1(pre_hash.encode("utf-8")).hexdigest()
        if len(self) >= _MAX_HASHES:
            self.clear()
        self[pre_hash] = hashed
        return hashed


_hashes = _Hashes()
hash_step_id: typing.Callable[[str], str] = _hashes.__getitem__
