"""Errors of the encryption middleware; part of the SDK's error hierarchy."""

from __future__ import annotations

from inngest import _errors


class DecryptionFailedError(_errors.Error):
    """Encrypted data could not be decrypted: wrong key, tampered data or a malformed envelope.

    Retrying cannot help, so the run fails at once.
    """

    code = "decryption_failed"
    is_retriable = False


class EncryptionKeyInvalidError(_errors.Error):
    """An encryption key is not usable (wrong type, empty, or bytes that are not 64 hex chars)."""

    code = "encryption_key_invalid"
    is_retriable = False
