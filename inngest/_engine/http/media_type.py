"""A ``Content-Type`` value read as Go's ``mime.ParseMediaType`` reads it, which decides how
the real server reads a body: a type (``application/json``), then ``; name=value``
parameters, each value a token or a quoted string. A value that does not parse is None."""

from __future__ import annotations

import dataclasses
import re

_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]+"
# Go trims Unicode spaces; in a header read as latin-1, a byte past ASCII is none of them.
_SPACE = " \t\n\v\f\r"
_MEDIA_TYPE = re.compile(f"{_TOKEN}(?:/{_TOKEN})?")
_PARAMETER = re.compile(rf"[{_SPACE}]*;[{_SPACE}]*({_TOKEN})[{_SPACE}]*=[{_SPACE}]*"
                        rf"(?:({_TOKEN})|\"((?:[^\"\\\r\n]|\\.)*)\")")
_TRAILING_SEMICOLON = re.compile(f"[{_SPACE}]*;[{_SPACE}]*")
# A backslash in a quoted string escapes only a "special" character; before any other it is
# kept (as browsers send Windows paths unescaped).
_ESCAPE = re.compile(r"\\([()<>@,;:\\\"/\[\]?=])")


@dataclasses.dataclass(frozen=True)
class MediaType:
    name: str  # lower-case, as ``application/json``
    params: dict[str, str]


def parse(value: str) -> MediaType | None:
    base, _, _ = value.partition(";")
    name = base.strip(_SPACE).lower()
    if not _MEDIA_TYPE.fullmatch(name):
        return None
    params: dict[str, str] = {}
    rest = value[len(base):]
    while rest.strip(_SPACE):
        match = _PARAMETER.match(rest)
        if match is None:
            return None if not _TRAILING_SEMICOLON.fullmatch(rest) else MediaType(name, params)
        key = match.group(1).lower()
        text = match.group(2)
        text = text if text is not None else _ESCAPE.sub(r"\1", match.group(3))
        if params.setdefault(key, text) != text:
            return None  # the same parameter twice with two values
        rest = rest[match.end():]
    return MediaType(name, params)
