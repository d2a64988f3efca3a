"""End-to-end encryption middleware for inngest-sync, envelope-compatible with the JS
``@inngest/middleware-encryption`` LibSodium strategy."""

from inngest_encryption._errors import DecryptionFailedError, EncryptionKeyInvalidError
from inngest_encryption._middleware import EncryptionMiddleware

__all__ = ["DecryptionFailedError", "EncryptionKeyInvalidError", "EncryptionMiddleware"]
