"""The YAML subset that configuration files are read with: what it reads, and that it refuses
the rest by line rather than read it differently from a YAML parser."""

from __future__ import annotations

import pytest

from inngest._engine.simple_yaml import YamlError, loads


def test_scalars_lists_and_one_level_of_mapping() -> None:
    text = """\
---
# comment
name: my-app   # trailing comment
port: 8288
ratio: 0.5
on: true
off: False
nothing: ~
empty:
quoted: "a # not a comment: \\"x\\""
single: 'it''s'
urls:
  - http://a:1/api#frag
  - 'http://b:2/api'
flow: [1, "two", three]
none: []
nested:
  key: value
  n: -3
"""
    assert loads(text) == {
        "name": "my-app", "port": 8288, "ratio": 0.5, "on": True, "off": False,
        "nothing": None, "empty": None, "quoted": 'a # not a comment: "x"',
        "single": "it's", "urls": ["http://a:1/api#frag", "http://b:2/api"],
        "flow": [1, "two", "three"], "none": [], "nested": {"key": "value", "n": -3},
    }


@pytest.mark.parametrize(("text", "message"), [
    ("a: 1\nb:\n  c:\n    d: 1\n", "line 4: only one level of nesting is supported"),
    ("a: |\n  text\n", "line 1: unsupported YAML syntax '|'"),
    ("a: !!str 1\n", "line 1: unsupported YAML syntax '!!str 1'"),
    ("a: *ref\n", "line 1: unsupported YAML syntax '*ref'"),
    ("a: {b: 1}\n", "line 1: unsupported YAML syntax '{b: 1}'"),
    ("a: [1, [2]]\n", "line 1: unsupported YAML syntax '[2]'"),
    ("a: [1,\n  2]\n", "line 1: a flow list must close on its line"),
    ("a: 'open\n", "line 1: unterminated quoted string"),
    ("- 1\n", "line 1: expected 'key: value', got '- 1'"),
    ("a:\n  - b: 1\n", "line 2: list items must be scalars"),
    ("a:\n  - 1\n  b: 2\n", "line 3: expected a list item '- value'"),
    ("a: b: c\n", "line 1: unexpected structure in value 'b: c'"),
])
def test_anything_else_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(YamlError) as raised:
        loads(text)
    assert str(raised.value).startswith(message)
