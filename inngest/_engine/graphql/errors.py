"""Errors reported in a GraphQL response's ``errors`` array, and the codes of those found
before execution.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from inngest._engine.errors import EngineError
from inngest._engine.graphql.syntax import Location

PathKey = Union[str, int]


# Codes of errors found before execution, as the real server (gqlgen) names them.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class GraphQLError(EngineError):
    """An error reported in the ``errors`` array of a GraphQL response."""

    code = "graphql_error"

    def __init__(
        self,
        message: str,
        locations: Iterable[Location] = (),
        path: Iterable[PathKey] | None = None,
    ) -> None:
        super().__init__(message)
        self.locations = list(locations)
        self.path = None if path is None else list(path)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"message": self.message}
        if self.locations:
            out["locations"] = [{"line": ln, "column": col} for ln, col in self.locations]
        if self.path is not None:
            out["path"] = self.path
        return out
