"""A minimal GraphQL-over-HTTP client for the dev server's ``/v0/gql``."""

from __future__ import annotations

import json
import typing

import urllib3

_HTTP = urllib3.PoolManager(retries=False)
TIMEOUT_SECONDS = 30.0


class GraphQLError(Exception):
    """The endpoint answered non-200 or reported errors."""


class Client:
    def __init__(self, endpoint: typing.Callable[[], str]) -> None:
        # A callable so the origin is read when a query runs (the port is chosen late).
        self._endpoint = endpoint

    def query(self, query: str, variables: dict[str, object]) -> dict[str, typing.Any]:
        body = json.dumps({"query": query, "variables": variables}).encode("utf-8")
        response = _HTTP.request(
            "POST",
            self._endpoint(),
            body=body,
            headers={"content-type": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        if response.status != 200:
            raise GraphQLError(f"GraphQL answered {response.status}: {response.data!r}")
        answer = json.loads(response.data)
        errors = answer.get("errors")
        if errors:
            raise GraphQLError(str(errors[0].get("message")))
        data = answer.get("data")
        if not isinstance(data, dict):
            raise GraphQLError(f"GraphQL answered without data: {answer!r}")
        return data
