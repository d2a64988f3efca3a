import hashlib
import hmac

import pytest

from inngest import _errors, _signing
from inngest._protocol import signing

KEY = "signkey-prod-123abc"
FALLBACK = "signkey-prod-456def"
NOW = 1_700_000_000


def test_bearer_hash_vector() -> None:
    key = "signkey-prod-568c4116828e6e8384a554153722df93022e5cd29a6c2d1b0444a19a807ff315"
    assert _signing.hash_signing_key(key) == (
        "2e64ca0edc850db32ff684f967822c828f99cf57862e43205fdcf2eff8d95180"
    )


@pytest.mark.parametrize(
    ("key", "digest"),
    [
        ("signkey-prod-123abc", "94bab7f22b92278ccab46e15da43a9fb8b079c05fa099d4134c6c39bbcee49f6"),
        ("signkey-prod-456def", "a820760dee6119fcf76498ab8d94be2f8cf04e786add2a4569e427462a84dd47"),
        ("signkey-prod-000000", "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"),
    ],
)
def test_inspection_hash_vectors(key: str, digest: str) -> None:
    assert _signing.hash_signing_key(key) == digest


def test_event_key_hash_vector() -> None:
    assert _signing.hash_event_key("test") == (
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )


def test_sign_is_hmac_of_stripped_key_over_body_and_seconds() -> None:
    header = signing.sign(b'{"a":1}', KEY, now=NOW)
    expected = hmac.new(b"123abc", b'{"a":1}' + str(NOW).encode(), hashlib.sha256).hexdigest()
    assert header == f"t={NOW}&s={expected}"


def test_verify_fresh_signature_over_canonical_body() -> None:
    body = b'{ "b": 1, "a": [1.0] }'
    header = _signing.sign_request_body(body, KEY, now=NOW)
    canonical = _signing.canonical_body(body)
    assert canonical == b'{"a":[1],"b":1}'
    assert _signing.verify_request(body, header, [KEY], now=NOW + 10)[1] == KEY


def test_verify_uses_fallback_key() -> None:
    header = signing.sign(b"{}", FALLBACK, now=NOW)
    assert _signing.verify_request(b"{}", header, [KEY, FALLBACK], now=NOW)[1] == FALLBACK


def test_expired_signature_is_refused() -> None:
    header = signing.sign(b"{}", KEY, now=NOW)
    with pytest.raises(_errors.SigVerificationFailedError, match="expired"):
        _signing.verify_request(b"{}", header, [KEY], now=NOW + 301)


def test_future_signature_beyond_window_is_refused() -> None:
    header = signing.sign(b"{}", KEY, now=NOW + 400)
    with pytest.raises(_errors.SigVerificationFailedError):
        _signing.verify_request(b"{}", header, [KEY], now=NOW)


@pytest.mark.parametrize("header", ["garbage", "t=abc&s=00", f"t={NOW}", "s=abcd"])
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(_errors.SigVerificationFailedError):
        _signing.verify_request(b"{}", header, [KEY], now=NOW)


def test_missing_header() -> None:
    with pytest.raises(_errors.HeaderMissingError):
        _signing.verify_request(b"{}", None, [KEY], now=NOW)


def test_wrong_key_is_refused() -> None:
    header = signing.sign(b"{}", "signkey-prod-ffff", now=NOW)
    with pytest.raises(_errors.SigVerificationFailedError, match="does not match"):
        _signing.verify_request(b"{}", header, [KEY, FALLBACK], now=NOW)


def test_non_json_body_cannot_be_canonicalized() -> None:
    with pytest.raises(_errors.BodyInvalidError, match="failed to canonicalize"):
        _signing.canonical_body(b"{not json")


def test_empty_body_canonicalizes_to_empty() -> None:
    assert _signing.canonical_body(b"") == b""


def test_verify_request_accepts_the_canonical_bytes_as_sent() -> None:
    body = b'{"a":[1,2.5],"b":"\xc3\xa9"}'
    header = signing.sign(body, KEY, now=NOW)
    assert _signing.verify_request(body, header, [KEY], now=NOW) == (
        {"a": [1, 2.5], "b": "\u00e9"}, KEY
    )


def test_verify_request_canonicalizes_a_re_encoded_body() -> None:
    signed = signing.sign(b'{"a":1,"b":[true,null]}', FALLBACK, now=NOW)
    re_encoded = b'{ "b": [ true, null ],\n "a": 1.0 }'
    payload, key = _signing.verify_request(re_encoded, signed, [KEY, FALLBACK], now=NOW)
    assert (payload, key) == ({"a": 1.0, "b": [True, None]}, FALLBACK)


def test_verify_request_refuses_a_changed_body() -> None:
    header = signing.sign(b'{"a":1}', KEY, now=NOW)
    with pytest.raises(_errors.SigVerificationFailedError, match="does not match"):
        _signing.verify_request(b'{"a":2}', header, [KEY], now=NOW)


def test_verify_request_reports_non_json_before_the_signature() -> None:
    with pytest.raises(_errors.BodyInvalidError, match="failed to canonicalize"):
        _signing.verify_request(b"{nope", None, [KEY], now=NOW)


def test_verify_request_with_an_empty_body() -> None:
    header = signing.sign(b"", KEY, now=NOW)
    assert _signing.verify_request(b"", header, [KEY], now=NOW) == (None, KEY)


def test_signature_header_is_read_as_a_url_encoded_form() -> None:
    signature = signing.sign(b"{}", KEY, now=NOW).split("&s=")[1]
    for header in (
        f"t={NOW}&s={signature}",
        f"t={NOW}&&s={signature}&x=a=b&s=&t=1",  # the first of a repeated field wins
        f"t=%3{str(NOW)[0]}{str(NOW)[1:]}&s={signature}",  # escapes are decoded
        f"t={NOW}&s={signature}&note=caf\u00e9;x",
        f"s={signature}&t={NOW}",  # either order
        f"t={NOW}&s={signature}&s=0{signature}",
    ):
        assert _signing.verify_request(b"{}", header, [KEY], now=NOW)[1] == KEY
    for header in (f"t={NOW}&s={signature}+", f"t={NOW};s={signature}", f"t= {NOW}&s={signature}",
                   f"t={NOW}&s=0{signature}&s={signature}", f"t=1&s={signature}&t={NOW}"):
        with pytest.raises(_errors.SigVerificationFailedError):
            _signing.verify_request(b"{}", header, [KEY], now=NOW)
