"""Finding a request's route: a table of (method, path pattern, handler), ``"*"`` for any
method; the engine's APIs each keep one and word their own 404 and 405."""

from __future__ import annotations

import dataclasses
import re
import typing

H = typing.TypeVar("H")
Route = typing.Tuple[str, "re.Pattern[str]", H]


@dataclasses.dataclass(frozen=True)
class Found(typing.Generic[H]):
    handler: H
    params: dict[str, str]


def find(routes: typing.Sequence[Route[H]], method: str, path: str) -> Found[H] | bool:
    """The route answering ``method`` on ``path`` and its path parameters; if none does,
    whether some route has the path (so the method is the problem, not the path)."""
    known_path = False
    for route_method, pattern, handler in routes:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if route_method in (method, "*"):
            return Found(handler, match.groupdict())
        known_path = True
    return known_path
