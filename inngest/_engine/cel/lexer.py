"""Tokenizer: CEL source text to tokens (numbers, strings, identifiers, operators)."""

from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass

from inngest._engine.cel.errors import ExpressionSyntaxError


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "ident", "op" or "end"
    value: object  # the literal's value, the identifier or the operator text
    pos: int
    end: int


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


# Characters that begin an operator of two (``==``, ``&&``, ``||``): the real server's lexer
# reads the next one too before it gives up, and quotes both.
_PAIR_STARTS = "=&|"


def syntax_error(source: str, pos: int, problem: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(source, pos, problem)


def describe(source: str, token: Token) -> str:
    """The token as the real server's parser quotes it: ``'=='``, ``'<EOF>'``."""
    return "'<EOF>'" if token.kind == "end" else f"'{source[token.pos:token.end]}'"


def _unrecognized(source: str, pos: int, end: int) -> ExpressionSyntaxError:
    return syntax_error(source, pos, f"token recognition error at: '{source[pos:end]}'")


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
    tokens.append(Token("end", None, len(source), len(source)))
    return tokens


def _next_token(source: str, pos: int) -> tuple[Token, int]:
    char = source[pos]
    if char in "\"'" or (char in "rR" and source[pos + 1:pos + 2] in ("'", '"')):
        value, end = _scan_string(source, pos)
        return Token("string", value, pos, end), end
    if _NUMBER.match(source, pos):
        return _scan_number(source, pos)
    identifier = _IDENTIFIER.match(source, pos)
    if identifier:
        return Token("ident", identifier.group(), pos, identifier.end()), identifier.end()
    for op in _OPERATORS:
        if source.startswith(op, pos):
            return Token("op", op, pos, pos + len(op)), pos + len(op)
    raise _unrecognized(source, pos, pos + (2 if char in _PAIR_STARTS else 1))


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
    return Token("number", value, pos, match.end()), match.end()


def _scan_string(source: str, start: int) -> tuple[str, int]:
    """The value of the string literal at ``start`` and the position after it."""
    raw = source[start] in "rR"
    pos = start + 1 if raw else start
    quote = source[pos:pos + 3] if source[pos:pos + 3] in ('"""', "'''") else source[pos]
    pos += len(quote)
    chars: list[str] = []
    while not source.startswith(quote, pos):
        if pos >= len(source) or (len(quote) == 1 and source[pos] == "\n"):
            raise _unterminated(source, start, quote, pos)
        if source[pos] == "\\" and not raw:
            char, pos = _scan_escape(source, start, pos)
        else:
            char, pos = source[pos], pos + 1
        chars.append(char)
    return "".join(chars), pos + len(quote)


def _unterminated(source: str, start: int, quote: str, pos: int) -> ExpressionSyntaxError:
    """A string left open, quoted up to where the real server's lexer stopped reading."""
    if len(quote) == 1:
        return _unrecognized(source, start, pos + 1)
    # Its lexer then reads an empty string (two quotes) and a string opened by the third.
    opened = source.index(quote, start) + 2
    newline = source.find("\n", opened)
    return _unrecognized(source, opened, len(source) if newline < 0 else newline + 1)


def _scan_escape(source: str, start: int, pos: int) -> tuple[str, int]:
    """Decode the escape sequence whose backslash is at ``pos``, in the string literal at
    ``start``."""
    kind = source[pos + 1:pos + 2]
    if kind in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[kind], pos + 2
    if kind in _HEX_ESCAPE_DIGITS:
        digits = source[pos + 2:pos + 2 + _HEX_ESCAPE_DIGITS[kind]]
        if len(digits) == _HEX_ESCAPE_DIGITS[kind] and all(c in string.hexdigits for c in digits):
            code = int(digits, 16)
            if code <= sys.maxunicode:
                return chr(code), pos + 2 + len(digits)
        # The real server's lexer quotes the digits it read and the character that stopped it.
        read = len(digits) - len(digits.lstrip(string.hexdigits))
        raise _unrecognized(source, start, pos + 3 + read)
    octal = _OCTAL_ESCAPE.match(source, pos + 1)
    if octal:
        return chr(int(octal.group(), 8)), octal.end()
    if kind and kind in "0123":
        rest = source[pos + 2:pos + 4]
        raise _unrecognized(source, start, pos + 3 + len(rest) - len(rest.lstrip("01234567")))
    raise _unrecognized(source, start, pos + 2)
