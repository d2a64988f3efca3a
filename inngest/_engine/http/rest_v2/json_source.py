"""Where a value sits in a request body's JSON text, for decoding errors worded as protobuf
JSON words them: ``(line 3:4)``, the line and the character in it (from 1) where the value's
token (or its member's key) starts, counted from the first token, as the real server's gateway
hands the decoder the JSON value without the whitespace before it.

The text is valid JSON: it was parsed before any error about its content is raised.
"""

from __future__ import annotations

import dataclasses
import json
import typing

Step = typing.Union[str, int]
_SPACE = " \t\r\n"
_SCALAR_END = _SPACE + ",]}"


@dataclasses.dataclass(frozen=True)
class Source:
    """A JSON text and the path (member names, array indexes) to a value within it."""

    text: str
    path: tuple[Step, ...] = ()

    @classmethod
    def of(cls, body: bytes) -> Source:
        return cls(body.decode("utf-8", "replace").lstrip(_SPACE))

    def at(self, step: Step) -> Source:
        return Source(self.text, (*self.path, step))

    def alone(self) -> Source:
        """The value as a JSON text of its own (an array item the server decodes apart)."""
        start = _find(self.text, self.path)[1]
        return Source(self.text[start:_value_end(self.text, start)])

    def spot(self, *, key: bool = False) -> str:
        """``line N:M`` of the value, or of its member's key when ``key``."""
        key_start, value_start = _find(self.text, self.path)
        index = key_start if key and key_start is not None else value_start
        line = self.text.count("\n", 0, index) + 1
        return f"line {line}:{index - self.text.rfind(chr(10), 0, index)}"

    def token(self) -> str:
        """The value's first token as written: ``{`` or ``[`` for a container."""
        start = _find(self.text, self.path)[1]
        if self.text[start] in "{[":
            return self.text[start]
        return self.text[start:_value_end(self.text, start)]


def _find(text: str, path: tuple[Step, ...]) -> tuple[int | None, int]:
    """Where the value at ``path`` starts, and where its member's key does (None for an
    array item or the whole text)."""
    key_start, index = None, _skip(text, 0)
    for step in path:
        key_start, index = _member(text, index, step)
    return key_start, index


def _member(text: str, index: int, step: Step) -> tuple[int | None, int]:
    opening = text[index]
    index, count = _skip(text, index + 1), 0
    while text[index] not in "]}":
        key_start = None
        if opening == "{":
            key_start = index
            key_end = _string_end(text, index)
            name = json.loads(text[index:key_end])
            index = _skip(text, _skip(text, key_end) + 1)  # past the colon
            if name == step:
                return key_start, index
        elif count == step:
            return None, index
        index = _skip(text, _value_end(text, index))
        if text[index] == ",":
            index = _skip(text, index + 1)
        count += 1
    raise LookupError(f"no {step!r} in the JSON text")


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def _string_end(text: str, index: int) -> int:
    index += 1
    while text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _value_end(text: str, index: int) -> int:
    if text[index] == '"':
        return _string_end(text, index)
    if text[index] not in "{[":
        while index < len(text) and text[index] not in _SCALAR_END:
            index += 1
        return index
    depth = 0
    while True:
        char = text[index]
        if char == '"':
            index = _string_end(text, index)
            continue
        depth += 1 if char in "{[" else -1 if char in "]}" else 0
        index += 1
        if depth == 0:
            return index
