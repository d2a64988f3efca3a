"""Reading a function's flow-control options: which limits apply to a run, under which keys.

Keys are evaluated against the run's first event (``{"event": ...}``) as on the server.
Everything here is pure: config and event in, keys and numbers out.
"""

from __future__ import annotations

import dataclasses
import functools
import typing

from inngest._engine import cel, timeparse
from inngest._engine.flow.gcra import Rate
from inngest._engine.models import JSON, PRIORITY_LIMIT_S, Function
from inngest._engine.payload import array_or_empty, is_array, object_or_empty

# How the real server writes the rate limit an ``idempotency`` key stands for.
IDEMPOTENCY_PERIOD = "24h0m0s"
_SCOPES = ("fn", "env", "account")
# A concurrency or throttle key that fails is false on the real server.
_FAILED = "false"
# The dev server's default bound on a function's steps executing at once.
DEFAULT_FUNCTION_STEPS = 1000


@dataclasses.dataclass(frozen=True)
class Concurrency:
    """At most ``limit`` steps (or, for run limits, runs) sharing ``key`` at once."""

    key: str
    limit: int


@dataclasses.dataclass(frozen=True)
class RunLimits:
    """What the queue checks before letting one of a run's items call the SDK.

    ``concurrency`` bounds steps executing at once; ``run_concurrency`` holds are taken
    when the run starts and kept until it ends.
    """

    concurrency: tuple[Concurrency, ...] = ()
    throttle: Rate | None = None
    run_concurrency: tuple[Concurrency, ...] = ()


def duration_ms(value: JSON) -> int | None:
    """A str2duration value in milliseconds, at most the longest Go duration; None when
    absent or invalid."""
    if not value:
        return None
    try:
        seconds = timeparse.parse_duration(str(value))
    except timeparse.DurationError:
        return None
    # Sync accepts longer timeouts, as the real server does; unclamped, the time they end at
    # is too large for the store.
    return round(min(seconds, timeparse.MAX_DURATION_S) * 1000)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key_value(expression: JSON, event: dict[str, JSON], invalid: str) -> str:
    """The key's value as the real server writes it (see ``cel.evaluate_key``); ``invalid``
    when the expression fails."""
    return cel.evaluate_key(str(expression), {"event": event}, invalid)


def _switch_key(expression: JSON, event: dict[str, JSON]) -> str | None:
    """A rate limit, idempotency or singleton key: None (the option is off) when the
    expression evaluates to false or reads a field the event lacks. Raises
    ExpressionError when it fails."""
    value = cel.key_value(str(expression), {"event": event})
    return None if value is False else cel.go_string(value)


def _section(fn: Function, option: str) -> typing.Mapping[str, JSON] | None:
    """The function's ``option`` when it is an object (a section such as ``throttle``), else
    None. Most functions have none of these: absent, that is the answer without the ABC's
    isinstance check (a microsecond per option on each event)."""
    config = fn.config.get(option)
    if config is None or not isinstance(config, typing.Mapping):
        return None
    return config


# Queue-level limits


def run_limits(fn: Function, event: dict[str, JSON]) -> RunLimits:
    if fn.config.get("concurrency") is None and fn.config.get("throttle") is None:
        return _default_limits(fn.id)  # most functions: asked once per run
    return RunLimits(tuple(concurrency(fn, event)), throttle(fn, event),
                     tuple(run_concurrency(fn, event)))


@functools.lru_cache(maxsize=256)
def _default_limits(fn_id: str) -> RunLimits:
    """The limits of a function without concurrency or throttle options: the dev server's
    default bound on its steps."""
    return RunLimits((Concurrency(f"default:{fn_id}", DEFAULT_FUNCTION_STEPS),))


def _concurrency_entries(value: JSON) -> tuple[list[JSON], list[JSON]]:
    """(run entries, step entries): only the ``{"fn": [...], "step": [...]}`` form has runs."""
    if isinstance(value, typing.Mapping) and ("fn" in value or "step" in value):
        fn_entries = array_or_empty(value.get("fn"), "concurrency.fn")
        return list(fn_entries), list(array_or_empty(value.get("step"), "concurrency.step"))
    if is_array(value):
        return [], list(value)
    return [], [value]


def concurrency(fn: Function, event: dict[str, JSON]) -> list[Concurrency]:
    """Step limits: the function's own, and the dev server's default per function."""
    value = fn.config.get("concurrency")
    default = Concurrency(f"default:{fn.id}", DEFAULT_FUNCTION_STEPS)
    if value is None:
        return [default]
    limit = _int(value)
    if limit is not None:
        return [Concurrency(f"fn:{fn.id}", limit), default] if limit > 0 else [default]
    return _limits(fn, _concurrency_entries(value)[1], event, "") + [default]


def run_concurrency(fn: Function, event: dict[str, JSON]) -> list[Concurrency]:
    """Limits on runs in progress at once (the ``fn`` entries of the object form)."""
    value = fn.config.get("concurrency")
    if value is None or _int(value) is not None:
        return []
    return _limits(fn, _concurrency_entries(value)[0], event, "run:")


def _limits(fn: Function, entries: list[JSON], event: dict[str, JSON],
            prefix: str) -> list[Concurrency]:
    out = []
    for entry in entries:
        if not isinstance(entry, typing.Mapping):
            continue
        limit = _int(entry.get("limit"))
        scope = str(entry.get("scope") or "fn").lower()
        key = entry.get("key")
        if limit is None or limit <= 0 or scope not in _SCOPES or (scope != "fn" and not key):
            continue
        value_part = f":{_key_value(key, event, _FAILED)}" if key else ""
        # fn-scoped keys belong to the function; env and account keys are shared by all.
        owner = f"fn:{fn.id}" if scope == "fn" else scope
        out.append(Concurrency(f"{prefix}{owner}{value_part}", limit))
    return out


def throttle(fn: Function, event: dict[str, JSON]) -> Rate | None:
    config = _section(fn, "throttle")
    if config is None:
        return None
    period = duration_ms(config.get("period"))
    if not period:
        return None
    limit = max(1, _int(config.get("limit")) or 1)
    burst = max(0, _int(config.get("burst")) or 0)
    key = config.get("key")
    suffix = f":{_key_value(key, event, _FAILED)}" if key else ""
    # The server hands GCRA a burst of limit + burst - 1: limit + burst starts back-to-back.
    return Rate.per_period(f"throttle:{fn.id}{suffix}", limit, period, limit + burst)


# Limits decided when a run is created


def rate_limit_config(fn: Function) -> typing.Mapping[str, JSON] | None:
    """The function's rate limit as the real server keeps it: an ``idempotency`` key takes
    the place of any ``rateLimit``, as a limit of 1 per 24 hours per key value."""
    expression = fn.config.get("idempotency")
    if expression:
        return {"limit": 1, "period": IDEMPOTENCY_PERIOD, "key": expression}
    return _section(fn, "rateLimit")


def rate_limit(fn: Function, event: dict[str, JSON]) -> Rate | None:
    """None when the function has no rate limit (or idempotency key) or its key is off.
    Raises ExpressionError when the key fails: the real server then starts no run."""
    config = rate_limit_config(fn)
    if config is None:
        return None
    limit, period = _int(config.get("limit")), duration_ms(config.get("period"))
    if not limit or limit <= 0 or not period:
        return None
    key = config.get("key")
    suffix = ""
    if key:
        value = _switch_key(key, event)
        if value is None:
            return None
        suffix = f":{value}"
    return Rate.per_period(f"ratelimit:{fn.id}{suffix}", limit, period, limit // 10 + 1)


def priority_seconds(fn: Function, event: dict[str, JSON]) -> int:
    config = fn.config.get("priority")
    if config is None:
        return 0
    expression = object_or_empty(config, "priority").get("run")
    if not expression:
        return 0
    try:
        value = cel.evaluate(str(expression), {"event": event})
    except cel.ExpressionError:
        return 0
    factor = _int(value)
    if factor is None:
        return 0
    return max(-PRIORITY_LIMIT_S, min(PRIORITY_LIMIT_S, factor))


@dataclasses.dataclass(frozen=True)
class Singleton:
    key: str
    mode: str


def singleton(fn: Function, event: dict[str, JSON]) -> Singleton | None:
    config = _section(fn, "singleton")
    if config is None:
        return None
    mode = str(config.get("mode") or "skip").lower()
    key = config.get("key")
    if not key:
        return Singleton(fn.id, mode)
    try:
        value = _switch_key(key, event)
    except cel.ExpressionError:
        return None  # the real server ignores a singleton key it cannot evaluate
    return None if value is None else Singleton(f"{fn.id}:{value}", mode)


# Buffers


@dataclasses.dataclass(frozen=True)
class Debounce:
    key: str
    period_ms: int
    timeout_ms: int | None


def debounce(fn: Function, event: dict[str, JSON]) -> Debounce | None:
    config = _section(fn, "debounce")
    if config is None:
        return None
    period = duration_ms(config.get("period"))
    if not period:
        return None
    key = config.get("key")
    return Debounce(_key_value(key, event, cel.INVALID_KEY) if key else "", period,
                    duration_ms(config.get("timeout")))


@dataclasses.dataclass(frozen=True)
class Batching:
    key: str
    max_size: int
    timeout_ms: int


def batching(fn: Function, event: dict[str, JSON]) -> Batching | None:
    """None when the function does not batch, or this event fails the batch ``if``.
    Raises ExpressionError when the batch key fails: the real server drops the event."""
    config = _section(fn, "batchEvents")
    if config is None:
        return None
    condition = config.get("if")
    if condition and not cel.matches(str(condition), {"event": event}):
        return None
    key = config.get("key")
    return Batching(cel.go_string(cel.key_value(str(key), {"event": event})) if key else "",
                    max(1, _int(config.get("maxSize")) or 1),
                    duration_ms(config.get("timeout")) or 1000)


def timeouts(fn: Function) -> tuple[int | None, int | None]:
    """(start, finish) timeouts in milliseconds."""
    config = _section(fn, "timeouts")
    if config is None:
        return None, None
    return duration_ms(config.get("start")), duration_ms(config.get("finish"))
