"""Finding a request's route: a table of (method, path pattern, handler), ``"*"`` for any
method; the engine's APIs each keep one and word their own 404 and 405."""

from __future__ import annotations

import dataclasses
import re
import typing
import urllib.parse

H = typing.TypeVar("H")
Route = typing.Tuple[str, "re.Pattern[str]", H]


@dataclasses.dataclass(frozen=True, slots=True)
class Found(typing.Generic[H]):
    handler: H
    params: dict[str, str]


class Routes(typing.Generic[H]):
    """A route table. Each pattern's literal start is compared before the pattern is
    matched: a path passes most routes of a table on that comparison alone, which costs a
    fraction of a match. A request's method picks the routes it is looked for in (those
    of its method and of any method, in the table's order), and a pattern with no special
    character is compared, not matched."""

    def __init__(self, routes: typing.Iterable[Route[H]]) -> None:
        self._routes = [(method, _literal_start(pattern), pattern, handler)
                        for method, pattern, handler in routes]
        methods = {method for method, _, _, _ in self._routes}
        self._by_method = {method: self._candidates(method) for method in methods}
        self._any_method = self._candidates("*")

    def _candidates(self, method: str) -> list[tuple[str, bool, re.Pattern[str], H]]:
        """The routes answering ``method``: (literal start, whether that is the whole
        pattern, pattern, handler)."""
        return [(start, start == pattern.pattern, pattern, handler)
                for route_method, start, pattern, handler in self._routes
                if route_method in (method, "*")]

    def find(self, method: str, path: str) -> Found[H] | bool:
        """The route answering ``method`` on ``path`` and its path parameters; if none does,
        whether some route has the path (so the method is the problem, not the path)."""
        for start, literal, pattern, handler in self._by_method.get(method, self._any_method):
            if literal:
                if path == start:
                    return Found(handler, {})
            elif path.startswith(start):
                match = pattern.fullmatch(path)
                if match is not None:
                    return Found(handler, match.groupdict())
        return any(path.startswith(start) and pattern.fullmatch(path)
                   for _, start, pattern, _ in self._routes)


_SPECIAL = re.compile(r"[.^$*+?{}\[\]\\|()]")


def _literal_start(pattern: re.Pattern[str]) -> str:
    """What every text ``pattern`` matches starts with: its characters before the first
    one special in a regular expression (not the one a quantifier makes optional), or
    nothing for an alternation or a pattern that ignores case."""
    text = pattern.pattern
    if "|" in text or pattern.flags & re.IGNORECASE:
        return ""
    special = _SPECIAL.search(text)
    if special is None:
        return text
    end = special.start()
    return text[:end - 1 if text[end] in "*+?{" else end]


# Bytes Go's URL escaping leaves as they are in a path: letters, digits, ``-_.~`` and the
# reserved characters but ``?``.
_PATH_SAFE = "-_.~$&+,/:;=@"


def go_routed_path(raw: str) -> str:
    """The path the real server's router matches, and so its path parameters: Go decodes a
    request's path, and keeps the decoded one only when escaping it again gives back the
    path as sent (``%3Cx%3E`` is ``<x>``; ``%41``, ``%3c`` and ``a%2Fb`` stay as sent, so
    an escaped slash never splits a segment). ``raw`` is the request target's path, its
    characters the request line's bytes (latin-1)."""
    if "%" not in raw:
        return raw
    try:
        decoded = urllib.parse.unquote_to_bytes(raw.encode("latin-1"))
    except UnicodeEncodeError:
        return raw
    if urllib.parse.quote_from_bytes(decoded, safe=_PATH_SAFE) != raw:
        return raw
    return decoded.decode("utf-8", "replace")
