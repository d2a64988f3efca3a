"""State shared between a function and its test, polling, signing helpers and test keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
import typing
import urllib.parse

from inngest import _signing

POLL_SECONDS = 0.1

SIGNING_KEY = "signkey-prod-123abc"
SIGNING_KEY_HASH = "94bab7f22b92278ccab46e15da43a9fb8b079c05fa099d4134c6c39bbcee49f6"
SIGNING_KEY_FALLBACK = "signkey-prod-456def"
SIGNING_KEY_FALLBACK_HASH = "a820760dee6119fcf76498ab8d94be2f8cf04e786add2a4569e427462a84dd47"
EVENT_KEY = "test"
EVENT_KEY_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

T = typing.TypeVar("T")


def wait_for(assertion: typing.Callable[[], T], timeout: float = 5) -> T:
    """Retry ``assertion`` until it stops raising AssertionError; return its result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return assertion()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(POLL_SECONDS)


class BaseState:
    """What a function records for its test; functions run on server threads, hence the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.run_id: str | None = None

    def wait_for_run_id(self, timeout: float = 5) -> str:
        def run_id() -> str:
            assert self.run_id is not None, "the function has not run yet"
            return self.run_id

        return wait_for(run_id, timeout)


def signed_headers(body: bytes, signing_key: str = SIGNING_KEY) -> dict[str, str]:
    """Headers of a request the server signed, as the SDK verifies them."""
    return {"x-inngest-signature": _signing.sign_request_body(body, signing_key)}


def verify_response_signature(body: bytes, header: str | None, signing_key: str) -> bool:
    """Whether a response's ``x-inngest-signature`` covers exactly ``body``."""
    if header is None:
        return False
    fields = dict(urllib.parse.parse_qsl(header))
    key = re.sub(r"^signkey-\w+-", "", signing_key).encode("utf-8")
    message = body + fields.get("t", "").encode("ascii")
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("s", ""))
