"""A synced function's flow control as the GraphQL API reports it.

It follows the real dev server's answers for the same synced config (measured; see
tests/unit/engine/test_graphql_function_config.py).
"""

from __future__ import annotations

import typing

from inngest._engine.models import JSON, Function
from inngest._engine.payload import is_array

_SCOPES = {"fn": "FUNCTION", "env": "ENVIRONMENT", "account": "ACCOUNT"}


def function_scope_limit(fn: Function) -> int:
    """``Function.concurrency``: the limit on the function's runs as a whole (its
    function-scoped limit without a key), 0 when it has none."""
    for entry in _concurrency_entries(fn.config.get("concurrency")):
        if _scope(entry) == "FUNCTION" and not entry.get("key"):
            return _int(entry.get("limit"))
    return 0


def _concurrency_entries(value: JSON) -> list[typing.Mapping[str, JSON]]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"limit": value}]
    if isinstance(value, typing.Mapping) and ("fn" in value or "step" in value):
        value = value.get("step")
    entries = value if is_array(value) else [value]
    return [entry for entry in entries if isinstance(entry, typing.Mapping)]


def _scope(entry: typing.Mapping[str, JSON]) -> str:
    return _SCOPES.get(str(entry.get("scope") or "fn").lower(), "FUNCTION")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
