"""Reading app-supplied JSON: the right shapes pass through, wrong ones name the field."""

from __future__ import annotations

import typing

import pytest

from inngest._engine import payload
from inngest._engine.errors import EngineError
from inngest._protocol.json_value import JSON


def test_the_right_shapes_pass_through() -> None:
    assert payload.as_object({"a": 1}, "x") == {"a": 1}
    assert payload.as_array([1, "b"], "x") == [1, "b"]
    assert payload.object_or_empty(None, "x") == {} and payload.array_or_empty("", "x") == []
    assert payload.to_int("12", "x") == 12 and payload.to_int(3.9, "x") == 3
    assert payload.optional_int(None, "x") is None and payload.optional_str(None, "x") is None
    assert payload.load(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}


@pytest.mark.parametrize("read, value, message", [
    (payload.as_object, [1], "steps must be an object, not an array"),
    (payload.as_array, "abc", "steps must be an array, not a string"),
    (payload.object_or_empty, 5, "steps must be an object, not a number"),
    (payload.as_str, True, "steps must be a string, not a boolean"),
    (payload.to_int, {"n": 1}, "steps must be a number, not an object"),
    (payload.as_number, None, "steps must be a number, not null"),
])
def test_a_wrong_shape_is_a_payload_error_naming_the_field(
    read: typing.Callable[[JSON, str], object], value: JSON, message: str
) -> None:
    with pytest.raises(payload.PayloadError) as raised:
        read(value, "steps")
    assert str(raised.value) == message
    assert isinstance(raised.value, EngineError) and raised.value.code == "payload_invalid"


def test_values_built_in_memory_are_checked_all_the_way_down() -> None:
    built = {"a": (1, [None, True]), "b": {"c": 1.5, "d": "e"}}
    assert payload.from_object(built, "x") == {"a": [1, [None, True]], "b": {"c": 1.5, "d": "e"}}
    with pytest.raises(payload.PayloadError, match=r"^x\.a\[1\] must be a JSON value, not set$"):
        payload.from_object({"a": [1, {2}]}, "x")
    with pytest.raises(payload.PayloadError, match=r"^x\.b must have string keys, not int$"):
        payload.from_object({"b": {1: 2}}, "x")
