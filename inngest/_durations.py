"""Duration encoding for function configuration (``1m``, ``90s``, ``2w``)."""

from __future__ import annotations

import datetime

from inngest import _errors

Duration = int | datetime.timedelta
_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def to_milliseconds(value: Duration) -> int:
    if isinstance(value, datetime.timedelta):
        return round(value.total_seconds() * 1000)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _errors.FunctionConfigInvalidError(
            f"duration must be int milliseconds or timedelta, got {type(value).__name__}"
        )
    return value


def to_duration_str(value: Duration) -> str:
    """Largest whole unit that divides the duration; at least one whole second."""
    ms = to_milliseconds(value)
    if ms < 1000:
        raise _errors.FunctionConfigInvalidError("duration must be at least 1 second")
    if ms % 1000:
        raise _errors.FunctionConfigInvalidError("duration must be a whole number of seconds")
    seconds = ms // 1000
    for suffix, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{suffix}"
    raise AssertionError("unreachable: seconds always divide")
