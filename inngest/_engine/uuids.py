"""UUIDs read as the real server's parser reads them, with its error messages."""

from __future__ import annotations

import uuid

_URN = "urn:uuid:"
_HEX = frozenset("0123456789abcdefABCDEF")


def parse(text: str) -> str:
    """The UUID ``text`` names, canonical (lower case, hyphenated), from the four forms the
    server reads: hyphenated (36 bytes), with ``urn:uuid:`` before it (45) or one character
    on each side (38, the braces not checked), or 32 hex digits. Raises ValueError with the
    server's words."""
    size = len(text.encode("utf-8"))
    if size == 32:
        return _hex(text)
    if size == 36 + len(_URN):
        if text[:len(_URN)].lower() != _URN:
            raise ValueError(f"invalid urn prefix: {_go_quote(text[:len(_URN)])}")
        text = text[len(_URN):]
    elif size == 38:
        text = text[1:37]
    elif size != 36:
        raise ValueError(f"invalid UUID length: {size}")
    if len(text) != 36 or any(text[at] != "-" for at in (8, 13, 18, 23)):
        raise ValueError("invalid UUID format")
    return _hex(text.replace("-", "", 4))


def _hex(digits: str) -> str:
    if len(digits) != 32 or not set(digits) <= _HEX:
        raise ValueError("invalid UUID format")
    return str(uuid.UUID(digits))


def _go_quote(text: str) -> str:
    """A short ASCII text quoted as Go's %q writes it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
