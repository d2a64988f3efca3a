"""Signature headers and signed bodies: any input is accepted or refused with one of our
errors, and what ``sign_request_body`` makes verifies only with its key, body and time."""

from __future__ import annotations

import json
import typing

from hypothesis import given, settings, strategies as st

from inngest import _errors, _signing
from inngest._client import Inngest
from inngest._function_config import TriggerEvent
from inngest._handler import CommHandler, Request

KEY = "signkey-test-" + "ab" * 32
NOW = 1_700_000_000

_digits = st.text(st.characters(categories=("Nd",)), min_size=1, max_size=30)
_ascii_digits = st.integers(-10**25, 10**25).map(str)
_hex = st.text("0123456789abcdefABCDEF", max_size=70)
_field_text = st.one_of(_ascii_digits, _digits, _hex, st.text(max_size=20))
_field = st.builds("{}={}".format, st.sampled_from(["t", "s", "T", "S", "x", "", "t%3D"]),
                   _field_text)
_separators = st.sampled_from(["&", "&&", ";", " & ", "%26"])
near_valid_headers = st.builds(lambda fields, sep: sep.join(fields),
                               st.lists(_field, max_size=5), _separators)
headers = st.one_of(st.none(), st.text(), near_valid_headers)
# The robustness test runs the profile's 10,000 cases; the round trips, whose inputs cost
# more to draw, run fewer each.
ROUND_TRIPS = 1_000
bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode))


@given(body=bodies, header=headers)
def test_any_header_and_body_is_accepted_or_refused_with_our_error(
    body: bytes, header: str | None
) -> None:
    try:
        _signing.verify_request(body, header, [KEY], now=NOW)
    except _errors.Error as err:
        assert err.code  # a stable code the handler turns into a 401 or 400


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                         st.floats(allow_nan=False, allow_infinity=False),
                         st.text(st.characters(exclude_categories=("Cs",)), max_size=10))
_keys_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(inner, max_size=4) | st.dictionaries(_keys_text, inner, max_size=4)


json_values = st.recursive(json_scalars, _containers, max_leaves=12)
keys = st.binary(min_size=1, max_size=32).map(lambda raw: "signkey-prod-" + raw.hex())


@given(value=json_values, key=keys, sign_at=st.integers(NOW - 300, NOW + 300),
       reencode=st.booleans())
@settings(max_examples=ROUND_TRIPS)
def test_signed_bodies_verify_with_their_key_within_five_minutes(
    value: object, key: str, sign_at: int, reencode: bool
) -> None:
    body = json.dumps(value).encode()
    header = _signing.sign_request_body(body, key, now=sign_at)
    # A proxy may re-encode the body (spacing, escapes, key order): the MAC is over JCS.
    sent = json.dumps(value, indent=1, ensure_ascii=True).encode() if reencode else body
    payload, used = _signing.verify_request(sent, header, ["signkey-prod-00", key], now=NOW)
    assert used == key and json.dumps(payload) == json.dumps(json.loads(body))


@given(value=json_values, key=keys, other=keys, drift=st.integers(301, 10**6),
       late=st.booleans())
@settings(max_examples=ROUND_TRIPS)
def test_wrong_key_or_stale_time_is_refused(
    value: object, key: str, other: str, drift: int, late: bool
) -> None:
    body = json.dumps(value).encode()
    header = _signing.sign_request_body(body, key, now=NOW)
    if _signing.strip_key_prefix(other) != _signing.strip_key_prefix(key):
        assert _refusal(body, header, [other], NOW) == "sig_verification_failed"
    assert _refusal(body, header, [key], NOW + (drift if late else -drift)) == (
        "sig_verification_failed")


@given(value=json_values, tail=st.sampled_from([b"1", b"0", b" ", b"\x00"]),
       key=keys)
@settings(max_examples=ROUND_TRIPS)
def test_changed_bodies_are_refused(value: object, tail: bytes, key: str) -> None:
    body = json.dumps([value]).encode()
    header = _signing.sign_request_body(body, key, now=NOW)
    changed = json.dumps([value, tail.decode()]).encode()
    assert _refusal(changed, header, [key], NOW) == "sig_verification_failed"


def _refusal(body: bytes, header: str, keys: list[str], now: int) -> str:
    try:
        _signing.verify_request(body, header, keys, now=now)
    except _errors.Error as err:
        return err.code
    return "accepted"


def _handler() -> CommHandler:
    client = Inngest(app_id="props", is_production=True, signing_key=KEY)

    @client.create_function(fn_id="fn", trigger=TriggerEvent(event="props/e"))
    def fn(ctx: typing.Any) -> int:
        raise AssertionError("an unsigned request reached the function")

    return CommHandler(client, [fn], "props")


HANDLER = _handler()


@settings(max_examples=ROUND_TRIPS)
@given(body=bodies, header=headers)
def test_an_app_answers_401_to_any_unsigned_execution_request(
    body: bytes, header: str | None
) -> None:
    response = HANDLER.handle(Request(
        "POST", "http://127.0.0.1/api/inngest?fnId=props-fn&stepId=step",
        {} if header is None else {"x-inngest-signature": header}, body))
    assert response.status == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}


@settings(max_examples=ROUND_TRIPS)
@given(key=st.text(max_size=150), prefixed=st.booleans(), message=st.binary(max_size=300),
       timestamp=_ascii_digits)
def test_mac_is_hmac_sha256_of_message_and_timestamp(
    key: str, prefixed: bool, message: bytes, timestamp: str
) -> None:
    import hmac

    from inngest._protocol import signing

    signing_key = "signkey-prod-" + key if prefixed else key
    raw_key = signing.strip_key_prefix(signing_key).encode("utf-8")
    expected = hmac.new(raw_key, message + timestamp.encode("ascii"), "sha256").hexdigest()
    assert signing.mac(signing_key, message, timestamp) == expected
