"""A strict reader for the YAML that Inngest configuration files use.

It reads a mapping at the top level whose values are scalars, lists of scalars (block
``- item`` lines or a flow ``[a, b]``) or mappings of scalars one level deep. Anything else
(anchors, tags, block scalars, deeper nesting, tabs) is refused with the line it is on,
rather than read some other way than a YAML parser would."""

from __future__ import annotations

import json
import re
import typing

Scalar = typing.Union[str, int, float, bool, None]
Value = typing.Union[Scalar, typing.List[Scalar], typing.Dict[str, Scalar]]

_KEY = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$")
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


class YamlError(ValueError):
    """The text is not the YAML subset this module reads; the message names the line."""


class _Line(typing.NamedTuple):
    number: int
    indent: int
    text: str


def loads(text: str) -> dict[str, Value]:
    lines = _significant_lines(text)
    result: dict[str, Value] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.indent:
            raise YamlError(f"line {line.number}: unexpected indentation")
        key, rest = _key_and_rest(line)
        if key in result:
            raise YamlError(f"line {line.number}: key {key!r} is already defined")
        if rest:
            result[key] = _inline_value(rest, line.number)
            index += 1
            continue
        block, index = _block(lines, index + 1)
        result[key] = _block_value(block)
    return result


def _significant_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = _without_comment(raw, number).rstrip()
        if not stripped.strip():
            continue
        body = stripped.lstrip(" \t")
        if "\t" in stripped[:len(stripped) - len(body)]:
            raise YamlError(f"line {number}: tabs cannot indent YAML")
        if body == "---" and not lines:
            continue
        lines.append(_Line(number, len(stripped) - len(body), body))
    return lines


def _without_comment(raw: str, number: int) -> str:
    quote = ""
    for position, char in enumerate(raw):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and (position == 0 or raw[position - 1] in " \t[,:-"):
            quote = char
        elif char == "#" and (position == 0 or raw[position - 1] in " \t"):
            return raw[:position]
    if quote:
        raise YamlError(f"line {number}: unterminated quoted string")
    return raw


def _key_and_rest(line: _Line) -> tuple[str, str]:
    match = _KEY.match(line.text)
    if match is None:
        raise YamlError(f"line {line.number}: expected 'key: value', got {line.text!r}")
    return match.group(1), (match.group(2) or "").strip()


def _block(lines: list[_Line], start: int) -> tuple[list[_Line], int]:
    end = start
    while end < len(lines) and lines[end].indent > 0:
        end += 1
    return lines[start:end], end


def _block_value(block: list[_Line]) -> Value:
    if not block:
        return None
    indent = block[0].indent
    for line in block:
        if line.indent != indent:
            raise YamlError(f"line {line.number}: only one level of nesting is supported")
    if block[0].text.startswith("-"):
        return [_list_item(line) for line in block]
    mapping: dict[str, Scalar] = {}
    for line in block:
        key, rest = _key_and_rest(line)
        if key in mapping:
            raise YamlError(f"line {line.number}: key {key!r} is already defined")
        if not rest:
            raise YamlError(f"line {line.number}: only one level of nesting is supported")
        mapping[key] = _scalar(rest, line.number)
    return mapping


def _list_item(line: _Line) -> Scalar:
    if line.text != "-" and not line.text.startswith("- "):
        raise YamlError(f"line {line.number}: expected a list item '- value'")
    item = line.text[1:].strip()
    if not item or _KEY.match(item):
        raise YamlError(f"line {line.number}: list items must be scalars")
    return _scalar(item, line.number)


def _inline_value(text: str, number: int) -> Value:
    if text.startswith("["):
        if not text.endswith("]"):
            raise YamlError(f"line {number}: a flow list must close on its line")
        inner = text[1:-1].strip()
        return [_scalar(part.strip(), number) for part in _split_flow(inner, number)] \
            if inner else []
    return _scalar(text, number)


def _split_flow(inner: str, number: int) -> list[str]:
    parts, current, quote = [], "", ""
    for char in inner:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    if any(not part.strip() for part in parts):
        raise YamlError(f"line {number}: empty item in a flow list")
    return parts


def _scalar(text: str, number: int) -> Scalar:
    if text[0] in "&*!|>{[%@`":
        raise YamlError(f"line {number}: unsupported YAML syntax {text!r} (use plain "
                        "values, quoted strings and lists)")
    if text[0] == '"':
        return _double_quoted(text, number)
    if text[0] == "'":
        if len(text) < 2 or not text.endswith("'"):
            raise YamlError(f"line {number}: bad single-quoted string {text!r}")
        return text[1:-1].replace("''", "'")
    if text.startswith("- ") or ": " in text or text.endswith(":"):
        raise YamlError(f"line {number}: unexpected structure in value {text!r}")
    return _plain(text)


def _double_quoted(text: str, number: int) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, str):
        raise YamlError(f"line {number}: bad double-quoted string {text!r}")
    return value


def _plain(text: str) -> Scalar:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "~"):
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text
