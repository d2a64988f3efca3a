"""A request's query parameters, keeping every value of a repeated one."""

from __future__ import annotations

import typing


class Query(typing.Dict[str, str]):
    """As a dict, each parameter's first value, as Go's ``Query().Get`` reads it (what most
    routes read); ``values_of`` gives every value a parameter was given, in order (REST v2
    reads repeated parameters)."""

    def __init__(self, pairs: typing.Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        self._values: dict[str, list[str]] = {}
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
