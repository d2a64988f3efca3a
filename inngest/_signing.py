"""Verifying signed requests (the MAC is in ``_protocol.signing``) and Bearer key hashes.

hashlib and hmac are imported where used: loading OpenSSL is the largest part of the memory
``import inngest`` would otherwise take, and dev mode may never sign anything.
"""

from __future__ import annotations

import time
import typing
import urllib.parse

from inngest import _errors
from inngest._protocol import jcs, json_value
from inngest._protocol.signing import mac, sign, strip_key_prefix

MAX_SIGNATURE_AGE_SECONDS = 5 * 60


def hash_signing_key(signing_key: str) -> str:
    """SHA-256 hex of the hex-decoded key, without the ``signkey-<env>-`` prefix."""
    import hashlib

    try:
        raw = bytes.fromhex(strip_key_prefix(signing_key))
    except ValueError:
        raise _errors.SigningKeyMissingError("signing key is not valid hex") from None
    return hashlib.sha256(raw).hexdigest()


def hash_event_key(event_key: str) -> str:
    import hashlib

    return hashlib.sha256(event_key.encode("utf-8")).hexdigest()


def canonical_body(body: bytes) -> bytes:
    """JCS form of a JSON request body; raises BodyInvalidError if it is not JSON."""
    return parse_canonical_body(body)[1]


def parse_canonical_body(body: bytes) -> tuple[object, bytes]:
    """The parsed JSON body (None when empty) and its JCS form; raises BodyInvalidError if
    it is not JSON."""
    if not body:
        return None, b""
    try:
        value, has_floats = jcs.parse_document(body)
        return value, jcs.canonicalize_parsed(body, value, has_floats)
    except (ValueError, TypeError, RecursionError) as err:
        raise _errors.BodyInvalidError(f"failed to canonicalize: {err}") from None


def sign_request_body(body: bytes, signing_key: str, now: float | None = None) -> str:
    """A signature as the server makes it: over the canonical form of a JSON body."""
    return sign(canonical_body(body), signing_key, now)


def verify_request(
    body: bytes,
    header: str | None,
    signing_keys: list[str],
    now: float | None = None,
) -> tuple[object, str]:
    """Parse a signed JSON request body; return it (None when empty) and the key that
    verifies ``header``.

    Servers sign the JCS form and send exactly those bytes, so the MAC is tried over the
    raw body first; canonicalizing is needed only when something re-encoded the body on
    the way. Both are HMACs over the bytes that were signed, so neither is weaker.
    """
    payload: object = None
    if body:
        try:
            payload = json_value.loads(body)
        except (ValueError, TypeError, RecursionError) as err:
            raise _errors.BodyInvalidError(f"failed to canonicalize: {err}") from None
    timestamp, signature = _fresh_signature(header, now)
    key = _matching_key(body, timestamp, signature, signing_keys)
    if key is None and body:
        try:
            canonical = jcs.canonicalize(payload)
        except (ValueError, TypeError, RecursionError) as err:
            raise _errors.BodyInvalidError(f"failed to canonicalize: {err}") from None
        key = _matching_key(canonical, timestamp, signature, signing_keys)
    if key is None:
        raise _errors.SigVerificationFailedError("signature does not match")
    return payload, key


def _fresh_signature(header: str | None, now: float | None) -> tuple[str, str]:
    """The header's timestamp and signature, if it has both and the timestamp is recent."""
    if header is None:
        raise _errors.HeaderMissingError("cannot validate signature: missing signature header")
    timestamp, signature = _signature_fields(header)
    if not signature:
        raise _errors.SigVerificationFailedError("signature header is malformed")
    # Unix seconds in 1-19 ASCII digits: isdigit() alone takes other scripts' digits, and
    # int() refuses strings past 4300 digits with an error of its own.
    if not (0 < len(timestamp) < 20 and timestamp.isascii() and timestamp.isdigit()):
        raise _errors.SigVerificationFailedError("signature has no valid timestamp")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_SIGNATURE_AGE_SECONDS:
        raise _errors.SigVerificationFailedError("signature expired")
    return timestamp, signature


def _matching_key(
    message: bytes, timestamp: str, signature: str, signing_keys: list[str]
) -> str | None:
    compare = _compare_digest or _load_compare_digest()
    for key in signing_keys:
        if compare(mac(key, message, timestamp), signature):
            return key
    return None


_compare_digest: typing.Callable[[str, str], bool] | None = None


def _load_compare_digest() -> typing.Callable[[str, str], bool]:
    """``hmac.compare_digest``, imported on first use (see the module's docstring) and kept:
    an import statement costs a lookup in ``sys.modules`` on every call."""
    global _compare_digest
    import hmac

    _compare_digest = hmac.compare_digest
    return _compare_digest


def _signature_fields(text: str) -> tuple[str, str]:
    """The header's ``t`` and ``s`` fields ("" when absent)."""
    timestamp, _, signature = text.partition("&")
    if (
        timestamp[:2] == "t=" and signature[:2] == "s=" and "&" not in signature
        and "%" not in text and "+" not in text
    ):  # the form servers send: split once
        return timestamp[2:], signature[2:]
    fields = _parse_form(text)
    return fields.get("t", ""), fields.get("s", "")


def _parse_form(text: str) -> dict[str, str]:
    """The header's fields, the first value of each (as the official SDK reads them with
    ``parse_qs``); with no "%" or "+" there is nothing to unquote, and it is only split."""
    fields: dict[str, str] = {}
    if "%" in text or "+" in text:
        for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, value)
        return fields
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            fields.setdefault(name, value)
    return fields
