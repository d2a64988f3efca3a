"""A request's query parameters, keeping every value of a repeated one."""

from __future__ import annotations

import re
import typing
import urllib.parse

from inngest._engine import goquote

_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")


class Query(typing.Dict[str, str]):
    """As a dict, each parameter's first value, as Go's ``Query().Get`` reads it (what most
    routes read); ``values_of`` gives every value a parameter was given, in order (REST v2
    reads repeated parameters). ``error`` says why a part of the query string was left out
    (REST v2 refuses such a request), in Go's words."""

    def __init__(self, pairs: typing.Iterable[tuple[str, str]] = (),
                 error: str | None = None) -> None:
        super().__init__()
        self._values: dict[str, list[str]] = {}
        self.error = error
        for name, value in pairs:
            self.setdefault(name, value)
            self._values.setdefault(name, []).append(value)

    def values_of(self, name: str) -> list[str]:
        return list(self._values.get(name, []))


def values(query: typing.Mapping[str, str], name: str) -> list[str]:
    """Every value of ``name`` in ``query``; a plain mapping holds one value per name."""
    if isinstance(query, Query):
        return query.values_of(name)
    return [query[name]] if name in query else []


def parse(text: str, encoding: str = "latin-1") -> Query:
    """A query string read as Go's ``url.ParseQuery`` reads one: a part with a semicolon or
    a ``%`` that starts no escape is left out (Python's reader kept it, as written). The
    text's characters are bytes in ``encoding`` (latin-1 for a request line as read off
    the wire); the parameters are read as UTF-8."""
    pairs: list[tuple[str, str]] = []
    error = None
    for part in text.split("&"):
        if not part:
            continue
        try:
            if ";" in part:
                raise ValueError("invalid semicolon separator in query")
            key, _, value = part.partition("=")
            pairs.append((_unescape(key, encoding), _unescape(value, encoding)))
        except ValueError as err:
            error = error or str(err)
    return Query(pairs, error)


def _unescape(text: str, encoding: str) -> str:
    bad = _BAD_ESCAPE.search(text)
    if bad is not None:
        escape = text[bad.start():bad.start() + 3].encode(encoding, "replace")
        raise ValueError(f"invalid URL escape {_go_quote(escape)}")
    raw = urllib.parse.unquote_to_bytes(text.replace("+", " ").encode(encoding, "replace"))
    return raw.decode("utf-8", "replace")


def _go_quote(data: bytes) -> str:
    """Go's ``strconv.Quote`` of a few bytes of a URL: bytes that are not UTF-8 escaped."""
    return goquote.quote(data.decode("utf-8", "surrogateescape"))
