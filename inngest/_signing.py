"""Request signatures (HMAC-SHA256 over canonical body and timestamp) and Bearer key hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse

from inngest import _errors, _jcs

MAX_SIGNATURE_AGE_SECONDS = 5 * 60
_KEY_PREFIX = re.compile(r"^signkey-\w+-")


def strip_key_prefix(signing_key: str) -> str:
    return _KEY_PREFIX.sub("", signing_key, count=1)


def key_prefix(signing_key: str) -> str:
    match = _KEY_PREFIX.match(signing_key)
    return match.group(0) if match else ""


def hash_signing_key(signing_key: str) -> str:
    """SHA-256 hex of the hex-decoded key, without the ``signkey-<env>-`` prefix."""
    try:
        raw = bytes.fromhex(strip_key_prefix(signing_key))
    except ValueError:
        raise _errors.SigningKeyMissingError("signing key is not valid hex") from None
    return hashlib.sha256(raw).hexdigest()


def hash_event_key(event_key: str) -> str:
    return hashlib.sha256(event_key.encode("utf-8")).hexdigest()


def canonical_body(body: bytes) -> bytes:
    """JCS form of a JSON request body; raises BodyInvalidError if it is not JSON."""
    if not body:
        return b""
    try:
        return _jcs.canonicalize(json.loads(body))
    except (ValueError, TypeError, RecursionError) as err:
        raise _errors.BodyInvalidError(f"failed to canonicalize: {err}") from None


def mac(signing_key: str, message: bytes, timestamp: str) -> str:
    key = strip_key_prefix(signing_key).encode("utf-8")
    return hmac.new(key, message + timestamp.encode("ascii"), hashlib.sha256).hexdigest()


def sign(body: bytes, signing_key: str, now: float | None = None) -> str:
    """The ``x-inngest-signature`` value for raw bytes, signed now."""
    timestamp = str(round(time.time() if now is None else now))
    return f"t={timestamp}&s={mac(signing_key, body, timestamp)}"


def sign_request_body(body: bytes, signing_key: str, now: float | None = None) -> str:
    """A signature as the server makes it: over the canonical form of a JSON body."""
    return sign(canonical_body(body), signing_key, now)


def verify(
    canonical: bytes,
    header: str | None,
    signing_keys: list[str],
    now: float | None = None,
) -> str:
    """Return the key that verifies ``header`` over ``canonical``; raise if none does."""
    if header is None:
        raise _errors.HeaderMissingError("cannot validate signature: missing signature header")
    timestamp, signature = _parse_header(header)
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_SIGNATURE_AGE_SECONDS:
        raise _errors.SigVerificationFailedError("signature expired")
    for key in signing_keys:
        if hmac.compare_digest(mac(key, canonical, timestamp), signature):
            return key
    raise _errors.SigVerificationFailedError("signature does not match")


def _parse_header(header: str) -> tuple[str, str]:
    fields = dict(urllib.parse.parse_qsl(header, keep_blank_values=True))
    timestamp = fields.get("t", "")
    signature = fields.get("s", "")
    if not signature:
        raise _errors.SigVerificationFailedError("signature header is malformed")
    if not timestamp.isdigit():
        raise _errors.SigVerificationFailedError("signature has no valid timestamp")
    return timestamp, signature
