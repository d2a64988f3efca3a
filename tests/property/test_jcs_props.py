"""JCS (RFC 8785): canonical output parses back to the same value, canonicalizing it again
changes nothing, keys come in UTF-16 order, and floats are written as ECMAScript does,
checked against a reference built here from the spec's rules and against the RFC's vectors."""

from __future__ import annotations

import fractions
import json
import math
import struct

import pytest
from hypothesis import given, settings, strategies as st

from inngest._protocol import jcs

# The float test runs the profile's 10,000 cases; the structural ones, whose values cost more
# to draw, run fewer each.
FEW = 2_500
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
# JSON numbers are doubles: integers beyond a double's range are not JSON numbers (JCS refuses
# them), and those past 2**53 come back as the double nearest them.
_DOUBLE_RANGE = 2**1023
scalars = st.one_of(st.none(), st.booleans(), st.integers(-_DOUBLE_RANGE, _DOUBLE_RANGE),
                    st.text(max_size=0) | _text,
                    st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)), max_leaves=10)


def same(left: object, right: object) -> bool:
    """Equal as JSON values: a float may come back as an int of the same value, and an
    integer past 2**53 as the double nearest it."""
    if isinstance(left, float) or isinstance(right, float) or _past_doubles_integers(left) \
            or _past_doubles_integers(right):
        return not isinstance(left, (bool, str)) and not isinstance(right, (bool, str)) and (
            float(left) == float(right))  # type: ignore[arg-type]
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    return type(left) is type(right) and left == right


def _past_doubles_integers(value: object) -> bool:
    return type(value) is int and abs(value) > 2**53


@settings(max_examples=FEW)
@given(values)
def test_canonical_form_parses_back_and_is_a_fixed_point(value: object) -> None:
    canonical = jcs.canonicalize(value)
    parsed = json.loads(canonical)
    assert same(parsed, value)
    assert jcs.canonicalize(parsed) == canonical
    document, has_floats = jcs.parse_document(canonical)
    assert jcs.canonicalize_parsed(canonical, document, has_floats) == canonical
    _assert_keys_in_utf16_order(canonical)


def _assert_keys_in_utf16_order(canonical: bytes) -> None:
    def check(pairs: list[tuple[str, object]]) -> None:
        keys = [key.encode("utf-16-be") for key, _ in pairs]
        assert keys == sorted(keys)

    json.loads(canonical, object_pairs_hook=check)


@settings(max_examples=FEW)
@given(values, st.integers(0, 3), st.booleans(), st.booleans())
def test_any_spelling_of_a_document_has_one_canonical_form(
    value: object, indent: int, ascii_only: bool, sort: bool
) -> None:
    document = json.dumps(value, indent=indent or None, ensure_ascii=ascii_only,
                          sort_keys=sort).encode()
    parsed, has_floats = jcs.parse_document(document)
    assert jcs.canonicalize_parsed(document, parsed, has_floats) == jcs.canonicalize(value)


@settings(max_examples=FEW)
@given(st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_parse_and_canonicalize_or_fail_with_value_error(document: bytes) -> None:
    try:
        parsed, has_floats = jcs.parse_document(document)
        jcs.canonicalize_parsed(document, parsed, has_floats)
    except (ValueError, RecursionError):
        pass  # what the signature check reports as an invalid body


def ecmascript_number(number: float) -> str:
    """Number::toString (ECMA-262, as RFC 8785 section 3.2.2.3 requires), from its rules:
    find the fewest digits s (k of them) and n with s * 10**(n - k) reading back as the
    number, the candidate closest to it (then the even one) when several do; then place the
    point or use an exponent by the ranges the spec lists."""
    if number == 0:
        return "0"
    s, n = _shortest_digits(abs(number))
    k = len(s)
    if k <= n <= 21:
        body = s + "0" * (n - k)
    elif 0 < n <= 21:
        body = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + s
    else:
        body = s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if n - 1 > 0 else "-") + str(
            abs(n - 1))
    return ("-" if number < 0 else "") + body


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """Try 1, 2, ... significant digits: the correctly rounded one and its neighbours (a
    neighbour can read back when the rounded one does not), keeping those that read back."""
    exact = fractions.Fraction(magnitude)
    for precision in range(1, 18):
        mantissa, exponent = f"{magnitude:.{precision - 1}e}".split("e")
        digits, scale = int(mantissa.replace(".", "")), int(exponent) - precision + 1
        candidates = [d for d in (digits - 1, digits, digits + 1)
                      if len(str(d)) == precision and float(f"{d}e{scale}") == magnitude]
        if candidates:
            best = min(candidates, key=lambda d: (
                abs(fractions.Fraction(d) * fractions.Fraction(10) ** scale - exact), d % 2))
            s = str(best).rstrip("0")
            return s, scale + precision
    raise AssertionError(f"no digits read back as {magnitude!r}")


@given(st.floats(allow_nan=False, allow_infinity=False)
       | st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack(">d", bits.to_bytes(8, "big"))[0])
       .filter(math.isfinite))
def test_floats_follow_the_ecmascript_reference(number: float) -> None:
    assert jcs.format_number(number) == ecmascript_number(number)
    assert jcs.canonicalize([number]) == f"[{ecmascript_number(number)}]".encode()


# RFC 8785 appendix B: IEEE 754 bit patterns and their expected serialization.
RFC_VECTORS = [
    ("0000000000000000", "0"), ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"), ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"), ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), RFC_VECTORS)
def test_rfc_vectors(bits: str, expected: str) -> None:
    number = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert jcs.format_number(number) == expected
    assert ecmascript_number(number) == expected  # the reference agrees with the RFC too
