"""Request signatures: HMAC-SHA256 over the bytes sent and a timestamp, keyed by the signing
key without its ``signkey-<env>-`` prefix.

hmac is imported where used: loading OpenSSL is the largest part of the memory
``import inngest`` would otherwise take, and dev mode may never sign anything.
"""

from __future__ import annotations

import functools
import re
import time
import typing

if typing.TYPE_CHECKING:
    import hmac

_KEY_PREFIX = re.compile(r"^signkey-\w+-")


def strip_key_prefix(signing_key: str) -> str:
    return _KEY_PREFIX.sub("", signing_key, count=1)


def mac(signing_key: str, message: bytes, timestamp: str) -> str:
    keyed = _keyed_mac(signing_key).copy()
    keyed.update(message + timestamp.encode("ascii"))
    return keyed.hexdigest()


@functools.lru_cache(maxsize=16)
def _keyed_mac(signing_key: str) -> hmac.HMAC:
    """The MAC state after the key: copying it skips the key setup (and OpenSSL's digest
    lookup) a fresh HMAC does on every message."""
    import hmac

    return hmac.new(strip_key_prefix(signing_key).encode("utf-8"), digestmod="sha256")


def sign(body: bytes, signing_key: str, now: float | None = None) -> str:
    """The ``x-inngest-signature`` value for raw bytes, signed now."""
    timestamp = str(round(time.time() if now is None else now))
    return f"t={timestamp}&s={mac(signing_key, body, timestamp)}"
