"""A synced function's flow control as the GraphQL ``FunctionConfiguration`` object.

The shapes, defaults and duration texts follow the real dev server's answers for the
same synced config (measured; see tests/unit/engine/test_graphql_function_config.py).
"""

from __future__ import annotations

import typing

from inngest._engine import timeparse
from inngest._engine.flow import keys as flow_keys
from inngest._engine.models import JSON, DEFAULT_RETRIES, Function
from inngest._engine.payload import is_array

Object = dict[str, object]

_SCOPES = {"fn": "FUNCTION", "env": "ENVIRONMENT", "account": "ACCOUNT"}
# What the real server lists when a function sets no concurrency at all.
_PLAN_LIMIT: Object = {"scope": "ACCOUNT", "key": None,
                       "limit": {"value": -1, "isPlanLimit": True}}


def configuration(fn: Function) -> Object:
    config = fn.config
    return {
        "cancellations": _cancellations(config.get("cancel")),
        "retries": _retries(fn),
        "priority": _priority(config.get("priority")),
        "eventsBatch": _events_batch(config.get("batchEvents")),
        "concurrency": _concurrency_limits(config.get("concurrency")),
        "rateLimit": _rate_limit(flow_keys.rate_limit_config(fn)),
        "debounce": _debounce(config.get("debounce")),
        "throttle": _throttle(config.get("throttle")),
        "singleton": _singleton(config.get("singleton")),
    }


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


def _concurrency_limits(value: JSON) -> list[Object]:
    if value is None:
        return [_PLAN_LIMIT]
    return [{"scope": _scope(entry), "key": entry.get("key") or None,
             "limit": {"value": _int(entry.get("limit")), "isPlanLimit": False}}
            for entry in _concurrency_entries(value)]


def _scope(entry: typing.Mapping[str, JSON]) -> str:
    return _SCOPES.get(str(entry.get("scope") or "fn").lower(), "FUNCTION")


def _cancellations(value: JSON) -> list[Object]:
    entries = value if is_array(value) else []
    return [{"event": entry.get("event"), "timeout": entry.get("timeout") or None,
             "condition": entry.get("if") or None}
            for entry in entries if isinstance(entry, typing.Mapping)]


def _retries(fn: Function) -> Object:
    # The real server counts an explicit ``retries: 4`` as the default too.
    value = fn.max_attempts - 1
    return {"value": value, "isDefault": value == DEFAULT_RETRIES}


def _priority(value: JSON) -> object:
    return value.get("run") or None if isinstance(value, typing.Mapping) else None


def _events_batch(value: JSON) -> Object | None:
    if not isinstance(value, typing.Mapping):
        return None
    return {"maxSize": _int(value.get("maxSize")), "timeout": value.get("timeout"),
            "key": value.get("key") or None}


def _rate_limit(value: typing.Mapping[str, JSON] | None) -> Object | None:
    if value is None:
        return None
    return {"limit": _int(value.get("limit")), "period": value.get("period"),
            "key": value.get("key") or None}


def _debounce(value: JSON) -> Object | None:
    if not isinstance(value, typing.Mapping):
        return None
    return {"period": value.get("period"), "key": value.get("key") or None}


def _throttle(value: JSON) -> Object | None:
    if not isinstance(value, typing.Mapping):
        return None
    # Unlike the other periods, the real server answers the throttle's parsed and
    # re-formatted as a Go duration: "90m" -> "1h30m0s".
    return {"limit": _int(value.get("limit")), "burst": _int(value.get("burst")),
            "period": _go_duration_text(value.get("period")), "key": value.get("key") or None}


def _singleton(value: JSON) -> Object | None:
    if not isinstance(value, typing.Mapping):
        return None
    return {"mode": str(value.get("mode") or "skip").upper(), "key": value.get("key") or None}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _go_duration_text(value: JSON) -> object:
    try:
        seconds = timeparse.parse_duration(str(value))
    except timeparse.DurationError:
        return value
    return go_duration(round(seconds * 1_000_000_000))


def go_duration(nanoseconds: int) -> str:
    """``nanoseconds`` as Go's ``time.Duration.String`` writes it: ``1h0m0s``, ``1.5s``,
    ``250ms``."""
    sign, ns = ("-" if nanoseconds < 0 else ""), abs(nanoseconds)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        unit, size = ("ns", 1) if ns < 1_000 else ("µs", 1_000) if ns < 1_000_000 \
            else ("ms", 1_000_000)
        return f"{sign}{_decimal(ns, size)}{unit}"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{_decimal(rest, 1_000_000_000)}s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    return f"{sign}{minutes}m{seconds}" if minutes else f"{sign}{seconds}"


def _decimal(amount: int, unit: int) -> str:
    whole, fraction = divmod(amount, unit)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
