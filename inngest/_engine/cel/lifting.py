"""Literal lifting, as the dev server's expression aggregator (inngest/expr) does it before
parsing a runs filter: string and number literals are replaced by ``vars.a``, ``vars.b``,
... (26 at most), so that expressions differing only in values share a parse. Its parse
errors are therefore about the rewritten text (``f(1 2`` is "mismatched input 'vars'"), and
a string left open is lifted whole rather than refused.
"""

from __future__ import annotations

import decimal
import math
import re
import typing

_NAMES = "abcdefghijklmnopqrstuvwxyz"
_PREFIX = "vars"
_FLOAT = re.compile(r"(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?")
_INT64_MAX = 2**63 - 1


def lift_literals(source: str) -> str:
    """``source`` with its literals lifted; as it is when it already names ``vars.``
    (lifting twice could make one name stand for two values)."""
    if f"{_PREFIX}." in source:
        return source
    return _Lifter(source).lift()


def _digit(char: str) -> bool:
    return "0" <= char <= "9"


def _ident(char: str) -> bool:
    return char == "_" or (char.isascii() and char.isalnum())


class _Lifter:
    def __init__(self, source: str) -> None:
        self.text = source
        self.idx = 0
        self.out: list[str] = []
        self.lifted = 0
        self.prev = ""
        self.brackets = 0

    def _at(self, offset: int = 0) -> str:
        index = self.idx + offset
        return self.text[index] if index < len(self.text) else ""

    def _write(self, text: str) -> None:
        self.out.append(text)
        self.prev = text[-1:] or self.prev

    def lift(self) -> str:
        comment = False
        while self.idx < len(self.text):
            char = self.text[self.idx]
            self.idx += 1
            if comment and char == "\n":
                comment = False
            if comment:
                continue
            if char == "/" and self._at() == "/":
                comment = True
            elif char in "\"'":
                self._lift(self._string(char))
            elif char == "." and not _ident(self.prev) and _digit(self._at()):
                self._number(self.idx - 1, self._consume_exponent)
            elif char in "[]":
                self.brackets += 1 if char == "[" else -1
                self._write(char)
            elif _digit(char) and not _ident(self.prev):
                self._numeric(char)
            else:
                self._write(char)
        return "".join(self.out).strip()

    def _string(self, quote: str) -> str:
        start = self.idx
        while self.idx < len(self.text):
            char = self.text[self.idx]
            if char == "\\" and self.idx + 1 < len(self.text):
                self.idx += 2
            elif char == quote:
                self.idx += 1
                return self.text[start:self.idx - 1]
            else:
                self.idx += 1
        value = self.text[start:]
        # Left open: a closing quote escaped at the very end counts as the end.
        return value[:-1] if value.endswith(quote) else value

    def _digits(self) -> None:
        while _digit(self._at()):
            self.idx += 1

    def _consume_exponent(self) -> None:
        self._digits()
        if self._at() in ("e", "E"):
            self.idx += 1
            if self._at() in ("+", "-"):
                self.idx += 1
            self._digits()

    def _numeric(self, first: str) -> None:
        start = self.idx - 1
        # Array indexes, 0x/0b/0o prefixes and unsigned literals are left as written.
        if self.brackets > 0 or (first == "0" and self._at().isascii() and self._at().isalpha()):
            self._write(first)
            return
        self._digits()
        if self._at() in ("u", "U"):
            self.idx += 1
            self._write(self.text[start:self.idx])
            return
        if self._at() == "." and _digit(self._at(1)):
            self.idx += 1
        self._number(start, self._consume_exponent)

    def _number(self, start: int, consume: typing.Callable[[], None]) -> None:
        consume()
        text = self.text[start:self.idx]
        if not _FLOAT.fullmatch(text):
            self._write(text)
            return
        if text.isdigit():
            value: int | float = int(text)
            valid = value <= _INT64_MAX
        else:
            value = float(text)
            valid = math.isfinite(value)
        if valid:
            self._lift(value)
        else:
            self._write(text)

    def _lift(self, value: str | int | float) -> None:
        if self.lifted < len(_NAMES):
            self._write(f"{_PREFIX}.{_NAMES[self.lifted]}")
            self.lifted += 1
        elif isinstance(value, str):
            self._write(_go_quote(value))
        elif isinstance(value, float):
            self._write(format(decimal.Decimal(repr(value)), "f"))
        else:
            self._write(str(value))


def _go_quote(value: str) -> str:
    """A string as Go's ``strconv.Quote`` writes it, for the printable text filters hold."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = escaped.replace(char, escape)
    return f'"{escaped}"'
