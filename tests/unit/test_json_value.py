"""json_value.loads: the value and the errors of json.loads, for any bytes."""

from __future__ import annotations

import json

import pytest

from inngest._protocol import json_value

DOCUMENTS = [
    b'{"a": [1, 2.5, null, true], "b": "\\u00e9"}',
    b'  \r\n\t{"a": 1}  \n',
    b'{"a": 1}  x',
    b'{"a": 1}{"b": 2}',
    b'[1, 2]',
    b'"text"',
    b"",
    b"   ",
    b"{",
    b"{oops",
    b'\xef\xbb\xbf{"bom": 1}',
    '{"wide": "\U0001f600"}'.encode("utf-16"),
    '{"wide": "\U0001f600"}'.encode("utf-16-le"),
    '{"wide": 1}'.encode("utf-32"),
    b'{"a": "\xff"}',
    b"{\x00}",
]


def _outcome(load: object, document: bytes) -> object:
    try:
        return ("value", load(document))  # type: ignore[operator]
    except json.JSONDecodeError as err:
        return ("json", err.msg, err.pos)
    except ValueError as err:
        return ("value-error", type(err).__name__)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_loads_matches_json_loads(document: bytes) -> None:
    decoder = json.JSONDecoder()
    ours = _outcome(lambda d: json_value.loads(d, decoder), document)
    assert ours == _outcome(json.loads, document)
