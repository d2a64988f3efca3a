import json

import pytest

from inngest._protocol import jcs
from inngest._protocol.jcs import canonicalize, format_number


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


def test_integers_past_2_to_the_53_are_written_as_doubles() -> None:
    # JSON numbers are doubles (RFC 8785 section 3.2.2.3): the official SDK's `jcs` package
    # and JavaScript's JSON.stringify give these bytes (measured).
    document = b"[12345678901234567890,1000000000000000000000000000000,9007199254740993,-1e21]"
    expected = b"[12345678901234567000,1e+30,9007199254740992,-1e+21]"
    assert canonicalize(json.loads(document)) == expected
    value, has_floats = jcs.parse_document(document)
    assert jcs.canonicalize_parsed(document, value, has_floats) == expected
    assert canonicalize([2**53, -(2**53)]) == b"[9007199254740992,-9007199254740992]"


def test_an_integer_beyond_a_double_is_refused() -> None:
    with pytest.raises(ValueError):
        canonicalize([10**400])


TRICKY_VALUES = [
    {"\ufb01": 1, "\U0001f600": 2, "\ue000": 3, "z": 4},
    {"a": "\x7f\u2028\u2029\x00\x1f\"\\/", "b": [None, True, False, 0, -1]},
    {"ctrl": "".join(chr(c) for c in range(32)), "é": {"ß": ["\U0001f600"]}},
    {"f": [1.0, -0.0, 1e21, 1e-7, 0.1 + 0.2], "n": {"m": 2.5}},
    [[], {}, "", [[{"b": 1, "a": 2}]]],
    ("tuple", 1),
    {"big": 12345678901234567890, "neg": -(2**70)},
    "plain",
    7,
    None,
]


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_fast_path_matches_slow_path(value: object) -> None:
    assert canonicalize(value) == jcs._canonicalize_slowly(value)


@pytest.mark.parametrize(
    "document",
    [
        json.dumps(value, ensure_ascii=ascii).encode()
        for value in TRICKY_VALUES
        for ascii in (True, False)
    ]
    + [
        b'{"\\ud83d\\ude00": 1, "\\uffff": 2}',
        b'{"a": NaN}',
        b'{"a": -Infinity}',
        b'{"b": 1E400}',
        b'{"b": 1, "a": 1, "b": 2}',
        '{"\ue000": 1, "\U0001f600": 2}'.encode("utf-16"),
        '{"\ue000": 1, "\U0001f600": 2}'.encode("utf-16-le"),
    ],
)
def test_document_path_matches_slow_path(document: bytes) -> None:
    value, has_floats = jcs.parse_document(document)
    assert value == json.loads(document) or has_floats  # NaN != NaN
    try:
        expected = jcs._canonicalize_slowly(value)
    except ValueError as err:  # NaN and Infinity
        with pytest.raises(ValueError, match=str(err)):
            jcs.canonicalize_parsed(document, value, has_floats)
    else:
        assert jcs.canonicalize_parsed(document, value, has_floats) == expected


@pytest.mark.parametrize("value", [{"\ud800": 1}, {"a": "\udfff"}, ["\ud83d"]])
def test_lone_surrogates_fail_like_the_slow_path(value: object) -> None:
    with pytest.raises(UnicodeEncodeError) as fast:
        canonicalize(value)
    with pytest.raises(UnicodeEncodeError) as slow:
        jcs._canonicalize_slowly(value)
    assert str(fast.value) == str(slow.value)


def test_int_subclasses_and_non_string_keys_keep_slow_path_output() -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    value = {"level": Level.HIGH, 1: "one"}
    assert canonicalize(value) == jcs._canonicalize_slowly(value)


def test_floatless_values_canonicalize_the_same_without_the_check() -> None:
    value = {"z": [1, True, None, "\u00e9\U0001f600"], "a": {"stack": ["b", "a"], "n": -3},
             "\u00e9": "x"}
    assert jcs.canonicalize_floatless(value) == canonicalize(value)
