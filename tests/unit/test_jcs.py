import json

import pytest

from inngest._jcs import canonicalize, format_number


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (123.456, "123.456"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (4.5e-7, "4.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740993.0, "9007199254740992"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_numbers_follow_ecmascript(number: float, expected: str) -> None:
    assert format_number(number) == expected


def test_rejects_nan() -> None:
    with pytest.raises(ValueError):
        canonicalize(float("nan"))


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+1F600 is a surrogate pair (0xD83D...) so it sorts before U+FB01 in UTF-16.
    value = {"\ufb01": 1, "\U0001f600": 2, "b": 3, "a": 4, "": 5}
    assert canonicalize(value) == '{"":5,"a":4,"b":3,"\U0001f600":2,"\ufb01":1}'.encode()


def test_strings_escape_minimally() -> None:
    assert canonicalize("a\"\\\b\f\n\r\t\x01\x7f\u2028é") == (
        '"a\\"\\\\\\b\\f\\n\\r\\t\\u0001\x7f\u2028é"'.encode()
    )


def test_nested_structures_have_no_whitespace() -> None:
    raw = json.loads('{ "b" : [ 1 , { "d" : null , "c" : true } ], "a" : false }')
    assert canonicalize(raw) == b'{"a":false,"b":[1,{"c":true,"d":null}]}'


def test_big_integers_keep_their_digits() -> None:
    assert canonicalize(json.loads("[12345678901234567890]")) == b"[12345678901234567890]"
