"""Request signatures: HMAC-SHA256 over the bytes sent and a timestamp, keyed by the signing
key without its ``signkey-<env>-`` prefix.

hashlib is imported where used: loading OpenSSL is the largest part of the memory
``import inngest`` would otherwise take, and dev mode may never sign anything.
"""

from __future__ import annotations

import functools
import re
import time
import typing

if typing.TYPE_CHECKING:
    import hashlib

_KEY_PREFIX = re.compile(r"^signkey-\w+-")


def strip_key_prefix(signing_key: str) -> str:
    return _KEY_PREFIX.sub("", signing_key, count=1)


def mac(signing_key: str, message: bytes, timestamp: str) -> str:
    """HMAC-SHA256 (RFC 2104) of ``message + timestamp`` in hex, as ``hmac.new`` computes it."""
    inner, outer = _pads(signing_key)
    inner = inner.copy()
    inner.update(message)
    inner.update(timestamp.encode("ascii"))
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


_BLOCK_SIZE = 64  # SHA-256's


@functools.lru_cache(maxsize=16)
def _pads(signing_key: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """SHA-256 states after the key's inner and outer pads: each message then costs two
    state copies, not ``hmac``'s key set-up (or its Python wrapper's copies)."""
    import hashlib

    key = strip_key_prefix(signing_key).encode("utf-8")
    if len(key) > _BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK_SIZE, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


def sign(body: bytes, signing_key: str, now: float | None = None) -> str:
    """The ``x-inngest-signature`` value for raw bytes, signed now."""
    timestamp = str(round(time.time() if now is None else now))
    return f"t={timestamp}&s={mac(signing_key, body, timestamp)}"
