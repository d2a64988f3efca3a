"""Finding a request's route: a table of (method, path pattern, handler), ``"*"`` for any
method; the engine's APIs each keep one and word their own 404 and 405."""

from __future__ import annotations

import re
import typing
import urllib.parse

H = typing.TypeVar("H")
Route = typing.Tuple[str, "re.Pattern[str]", H]


class Found(typing.NamedTuple, typing.Generic[H]):
    handler: H
    params: dict[str, str]


def find(routes: typing.Sequence[Route[H]], method: str, path: str) -> Found[H] | bool:
    """The route answering ``method`` on ``path`` and its path parameters; if none does,
    whether some route has the path (so the method is the problem, not the path)."""
    for route_method, pattern, handler in routes:
        if route_method == method or route_method == "*":  # (cheaper than matching first)
            match = pattern.fullmatch(path)
            if match is not None:
                return Found(handler, match.groupdict())
    return any(pattern.fullmatch(path) for _, pattern, _ in routes)


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
