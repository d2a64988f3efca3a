"""Function options (triggers and flow control), validated at construction."""

from __future__ import annotations

import dataclasses
import typing

from inngest import _durations, _errors
from inngest._model import Model

OptionalDuration = typing.Optional[_durations.Duration]


def _fail(owner: str, field: str, problem: str) -> typing.NoReturn:
    raise _errors.FunctionConfigInvalidError(f"{owner}.{field}: {problem}")


def _require_str(owner: str, field: str, value: object, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        _fail(owner, field, f"must be a string, got {type(value).__name__}")
    if not optional and not value:
        _fail(owner, field, "must not be empty")


def _require_int(owner: str, field: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(owner, field, f"must be an integer, got {type(value).__name__}")
    if value < minimum:
        _fail(owner, field, f"must be at least {minimum}")


def _require_duration(owner: str, field: str, value: object, optional: bool = False) -> None:
    if value is None and optional:
        return
    try:
        _durations.to_duration_str(typing.cast(_durations.Duration, value))
    except _errors.FunctionConfigInvalidError as err:
        _fail(owner, field, err.message)


def _duration(value: OptionalDuration) -> str | None:
    return None if value is None else _durations.to_duration_str(value)


def _without_none(values: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerEvent(Model):
    event: str
    expression: str | None = None

    def __post_init__(self) -> None:
        _require_str("TriggerEvent", "event", self.event)
        _require_str("TriggerEvent", "expression", self.expression, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"event": self.event, "expression": self.expression})


@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerCron(Model):
    cron: str
    jitter: str | None = None

    def __post_init__(self) -> None:
        _require_str("TriggerCron", "cron", self.cron)
        _require_str("TriggerCron", "jitter", self.jitter, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"cron": self.cron, "jitter": self.jitter})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Batch(Model):
    max_size: int
    timeout: OptionalDuration = None
    key: str | None = None
    if_exp: str | None = None

    def __post_init__(self) -> None:
        _require_int("Batch", "max_size", self.max_size, 1)
        _require_duration("Batch", "timeout", self.timeout, optional=True)
        _require_str("Batch", "key", self.key, optional=True)
        _require_str("Batch", "if_exp", self.if_exp, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none(
            {
                "maxSize": self.max_size,
                "timeout": _duration(self.timeout),
                "key": self.key,
                "if": self.if_exp,
            }
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cancel(Model):
    event: str
    if_exp: str | None = None
    timeout: OptionalDuration = None

    def __post_init__(self) -> None:
        _require_str("Cancel", "event", self.event)
        _require_str("Cancel", "if_exp", self.if_exp, optional=True)
        _require_duration("Cancel", "timeout", self.timeout, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none(
            {"event": self.event, "if": self.if_exp, "timeout": _duration(self.timeout)}
        )


_SCOPES = ("account", "env", "fn")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Concurrency(Model):
    limit: int
    key: str | None = None
    scope: typing.Literal["account", "env", "fn"] | None = None

    def __post_init__(self) -> None:
        _require_int("Concurrency", "limit", self.limit, 0)
        _require_str("Concurrency", "key", self.key, optional=True)
        if self.scope is not None and self.scope not in _SCOPES:
            _fail("Concurrency", "scope", f"must be one of {', '.join(_SCOPES)}")

    def to_dict(self) -> dict[str, object]:
        return _without_none({"key": self.key, "limit": self.limit, "scope": self.scope})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Debounce(Model):
    period: _durations.Duration
    key: str | None = None
    timeout: OptionalDuration = None

    def __post_init__(self) -> None:
        _require_duration("Debounce", "period", self.period)
        _require_str("Debounce", "key", self.key, optional=True)
        _require_duration("Debounce", "timeout", self.timeout, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none(
            {"key": self.key, "period": _duration(self.period), "timeout": _duration(self.timeout)}
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Priority(Model):
    run: str | None = None

    def __post_init__(self) -> None:
        _require_str("Priority", "run", self.run, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"run": self.run})


@dataclasses.dataclass(frozen=True, kw_only=True)
class RateLimit(Model):
    limit: int
    period: _durations.Duration
    key: str | None = None

    def __post_init__(self) -> None:
        _require_int("RateLimit", "limit", self.limit, 1)
        _require_duration("RateLimit", "period", self.period)
        _require_str("RateLimit", "key", self.key, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none(
            {"key": self.key, "limit": self.limit, "period": _duration(self.period)}
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Throttle(Model):
    limit: int
    period: _durations.Duration
    key: str | None = None
    burst: int = 1

    def __post_init__(self) -> None:
        _require_int("Throttle", "limit", self.limit, 1)
        _require_duration("Throttle", "period", self.period)
        _require_str("Throttle", "key", self.key, optional=True)
        _require_int("Throttle", "burst", self.burst, 1)

    def to_dict(self) -> dict[str, object]:
        return _without_none(
            {
                "key": self.key,
                "limit": self.limit,
                "period": _duration(self.period),
                "burst": self.burst,
            }
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Timeouts(Model):
    start: OptionalDuration = None
    finish: OptionalDuration = None

    def __post_init__(self) -> None:
        _require_duration("Timeouts", "start", self.start, optional=True)
        _require_duration("Timeouts", "finish", self.finish, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"start": _duration(self.start), "finish": _duration(self.finish)})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Singleton(Model):
    mode: typing.Literal["skip", "cancel"]
    key: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("skip", "cancel"):
            _fail("Singleton", "mode", "must be 'skip' or 'cancel'")
        _require_str("Singleton", "key", self.key, optional=True)

    def to_dict(self) -> dict[str, object]:
        return _without_none({"key": self.key, "mode": self.mode})
