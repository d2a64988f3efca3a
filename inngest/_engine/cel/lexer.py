"""Tokenizer: CEL source text to tokens (numbers, strings, identifiers, operators)."""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass

from inngest._engine.cel.errors import ExpressionError


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "ident", "op" or "end"
    value: object  # the literal's value, the identifier or the operator text
    pos: int


_OPERATORS = (
    "==", "!=", "<=", ">=", "&&", "||",
    "<", ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "%",
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(
    r"(?P<hex>0[xX][0-9a-fA-F]+)[uU]?"
    r"|(?P<float>\d*\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)"
    r"|(?P<int>\d+)[uU]?",
    re.ASCII,  # CEL's digits are ASCII: str.isdigit() and \d would take other scripts'
)
_MAX_INT_DIGITS = 1_000
_WHITESPACE = re.compile(r"\s+")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?",
}
_HEX_ESCAPE_DIGITS = {"x": 2, "X": 2, "u": 4, "U": 8}
_OCTAL_ESCAPE = re.compile(r"[0-3][0-7]{2}")


def syntax_error(source: str, pos: int, problem: str) -> ExpressionError:
    return ExpressionError(f"{problem} at position {pos} in expression {source!r}")


def describe(token: Token) -> str:
    if token.kind == "end":
        return "end of input"
    if token.kind in ("op", "ident"):
        return repr(token.value)
    return f"{token.kind} literal"


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        whitespace = _WHITESPACE.match(source, pos)
        if whitespace:
            pos = whitespace.end()
            continue
        token, pos = _next_token(source, pos)
        tokens.append(token)
    tokens.append(Token("end", None, len(source)))
    return tokens


def _next_token(source: str, pos: int) -> tuple[Token, int]:
    char = source[pos]
    if char in "\"'" or (char in "rR" and source[pos + 1:pos + 2] in ("'", '"')):
        value, end = _scan_string(source, pos)
        return Token("string", value, pos), end
    if _NUMBER.match(source, pos):
        return _scan_number(source, pos)
    identifier = _IDENTIFIER.match(source, pos)
    if identifier:
        return Token("ident", identifier.group(), pos), identifier.end()
    for op in _OPERATORS:
        if source.startswith(op, pos):
            return Token("op", op, pos), pos + len(op)
    raise syntax_error(source, pos, f"unexpected character {char!r}")


def _scan_number(source: str, pos: int) -> tuple[Token, int]:
    match = _NUMBER.match(source, pos)
    assert match is not None  # callers only come here where a number starts
    value: int | float
    if match.group("hex"):
        value = int(match.group("hex"), 16)
    elif match.group("float"):
        value = float(match.group("float"))
    elif len(match.group("int")) <= _MAX_INT_DIGITS:
        value = int(match.group("int"))
    else:  # int() refuses these with an error of its own
        raise syntax_error(source, pos, "integer literal out of range")
    return Token("number", value, pos), match.end()


def _scan_string(source: str, start: int) -> tuple[str, int]:
    """The value of the string literal at ``start`` and the position after it."""
    raw = source[start] in "rR"
    pos = start + 1 if raw else start
    quote = source[pos:pos + 3] if source[pos:pos + 3] in ('"""', "'''") else source[pos]
    pos += len(quote)
    chars: list[str] = []
    while not source.startswith(quote, pos):
        if pos >= len(source) or (len(quote) == 1 and source[pos] == "\n"):
            raise syntax_error(source, start, "unterminated string")
        if source[pos] == "\\" and not raw:
            char, pos = _scan_escape(source, pos)
        else:
            char, pos = source[pos], pos + 1
        chars.append(char)
    return "".join(chars), pos + len(quote)


def _scan_escape(source: str, pos: int) -> tuple[str, int]:
    """Decode the escape sequence whose backslash is at ``pos``."""
    kind = source[pos + 1:pos + 2]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], pos + 2
    if kind in _HEX_ESCAPE_DIGITS:
        digits = source[pos + 2:pos + 2 + _HEX_ESCAPE_DIGITS[kind]]
        if len(digits) == _HEX_ESCAPE_DIGITS[kind] and all(c in string.hexdigits for c in digits):
            code = int(digits, 16)
            if code <= sys.maxunicode:
                return chr(code), pos + 2 + len(digits)
    octal = _OCTAL_ESCAPE.match(source, pos + 1)
    if octal:
        return chr(int(octal.group(), 8)), octal.end()
    raise syntax_error(source, pos, "invalid escape sequence")
