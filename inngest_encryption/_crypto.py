"""Envelopes of the ``inngest/libsodium`` strategy: XSalsa20-Poly1305 over JSON plaintext.

The envelope is ``{"__ENCRYPTED__": true, "__STRATEGY__": "inngest/libsodium", "data": b64}``
where ``b64`` is standard base64 of ``nonce(24) || secretbox(MAC 16 + JSON UTF-8)``; the same
bytes the JS ``@inngest/middleware-encryption`` package reads and writes.
"""

from __future__ import annotations

import base64
import binascii
import json
import typing

try:
    import nacl.encoding
    import nacl.exceptions
    import nacl.hash
    import nacl.secret
    import nacl.utils
except ModuleNotFoundError as err:
    raise ModuleNotFoundError(
        f"inngest_encryption needs PyNaCl ({err}): pip install 'inngest-sync[encryption]'",
        name=err.name,
    ) from err

from inngest import _errors as sdk_errors
from inngest_encryption._errors import DecryptionFailedError, EncryptionKeyInvalidError

ENCRYPTION_MARKER = "__ENCRYPTED__"
STRATEGY_MARKER = "__STRATEGY__"
STRATEGY = "inngest/libsodium"
NONCE_SIZE: int = nacl.secret.SecretBox.NONCE_SIZE
KEY_SIZE: int = nacl.secret.SecretBox.KEY_SIZE
_MAC_SIZE: int = nacl.secret.SecretBox.MACBYTES

Secret = typing.Union[str, bytes]
NonceSource = typing.Callable[[], bytes]


def random_nonce() -> bytes:
    """A fresh random nonce; the default nonce source."""
    return nacl.utils.random(NONCE_SIZE)


def derive_key(secret: Secret) -> bytes:
    """The 32-byte secretbox key for a secret.

    A str is hashed with unkeyed BLAKE2b-256 over its UTF-8 bytes (libsodium generichash);
    bytes must be the 64-character hex encoding of the key itself.
    """
    if isinstance(secret, str):
        if not secret:
            raise EncryptionKeyInvalidError("encryption key must not be empty")
        return nacl.hash.generichash(
            secret.encode("utf-8"), digest_size=KEY_SIZE, encoder=nacl.encoding.RawEncoder
        )
    if isinstance(secret, bytes):
        return _key_from_hex(secret)
    raise EncryptionKeyInvalidError(
        f"encryption key must be str or bytes, got {type(secret).__name__}"
    )


def _key_from_hex(secret: bytes) -> bytes:
    try:
        key = binascii.unhexlify(secret)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise EncryptionKeyInvalidError(
            f"a bytes encryption key must be the {KEY_SIZE * 2}-character hex encoding "
            f"of a {KEY_SIZE}-byte key"
        )
    return key


def is_envelope(value: object) -> bool:
    """Whether ``value`` is an envelope of this strategy (anything else is plaintext)."""
    return (
        isinstance(value, typing.Mapping)
        and value.get(ENCRYPTION_MARKER) is True
        and value.get(STRATEGY_MARKER) == STRATEGY
    )


def is_foreign_envelope(value: object) -> bool:
    """Whether ``value`` is marked encrypted but by a strategy this package cannot open."""
    return (
        isinstance(value, typing.Mapping)
        and value.get(ENCRYPTION_MARKER) is True
        and not is_envelope(value)
    )


class Cipher:
    """Seals values with the primary key; opens them with the primary then each fallback."""

    def __init__(
        self,
        secret: Secret,
        fallback_secrets: typing.Iterable[Secret] = (),
        *,
        nonce_source: NonceSource | None = None,
    ) -> None:
        keys = [derive_key(secret)] + [derive_key(s) for s in fallback_secrets]
        self._boxes = [nacl.secret.SecretBox(key) for key in keys]
        self._nonce_source = nonce_source

    def seal(self, value: object) -> dict[str, object]:
        """The envelope holding ``json.dumps(value)``."""
        try:
            plaintext = json.dumps(value, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as err:
            raise sdk_errors.OutputUnserializableError(
                f"cannot encrypt a value that is not JSON-serializable: {err}"
            ) from None
        # Looked up at call time so tests can replace the module-level nonce source.
        nonce = (self._nonce_source or random_nonce)()
        sealed = bytes(self._boxes[0].encrypt(plaintext, nonce))
        return {
            ENCRYPTION_MARKER: True,
            STRATEGY_MARKER: STRATEGY,
            "data": base64.b64encode(sealed).decode("ascii"),
        }

    def open(self, envelope: typing.Mapping[str, object]) -> object:
        """The value inside an envelope; DecryptionFailedError says why it cannot be read."""
        combined = _envelope_bytes(envelope)
        for box in self._boxes:
            try:
                plaintext = box.decrypt(combined)
            except nacl.exceptions.CryptoError:
                continue
            return _parse_plaintext(plaintext)
        raise DecryptionFailedError(
            f"none of the {len(self._boxes)} configured key(s) could decrypt it "
            "(wrong key or tampered data)"
        )


def _envelope_bytes(envelope: typing.Mapping[str, object]) -> bytes:
    data = envelope.get("data")
    if not isinstance(data, str):
        raise DecryptionFailedError("malformed envelope: 'data' must be a base64 string")
    try:
        combined = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailedError("malformed envelope: 'data' is not valid base64") from None
    if len(combined) < NONCE_SIZE + _MAC_SIZE:
        raise DecryptionFailedError("malformed envelope: 'data' is too short")
    return combined


def _parse_plaintext(plaintext: bytes) -> object:
    try:
        return json.loads(plaintext.decode("utf-8"))
    except ValueError:
        raise DecryptionFailedError("decrypted data is not UTF-8 JSON") from None
