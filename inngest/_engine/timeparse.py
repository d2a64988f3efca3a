"""Durations and timestamps as the Inngest server reads them.

Durations follow str2duration (Go ``time.ParseDuration`` plus ``d`` and
``w``); timestamps follow the server's date formats (RFC3339 first, then a
zone-less ISO date-time, RFC1123 and a plain date).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from inngest._engine.errors import EngineError

_UNIT_SECONDS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek small letter mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_SEGMENT_PATTERN = r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d|w)"
_SEGMENT = re.compile(_SEGMENT_PATTERN)
_DURATION = re.compile(rf"[+-]?(?:{_SEGMENT_PATTERN})+")
_ZERO_DURATION = re.compile(r"[+-]?0")

_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})?"
)
_PLAIN_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_RFC1123 = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
    r"(?P<zone>[A-Z]{1,5}|[+-]\d{4})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
# The longest Go ``time.Duration`` (about 292 years): the real server holds no longer one.
MAX_DURATION_S = (2**63 - 1) / 1e9
_RETRY_AFTER_SECONDS = re.compile(r"[+-]?\d+")
_RETRY_AFTER_MIN = timedelta(seconds=1)
_RETRY_AFTER_MAX = timedelta(hours=24)


class DurationError(EngineError, ValueError):
    """The text is neither a duration nor (where accepted) a timestamp."""

    code = "duration_invalid"


def parse_duration(s: str) -> float:
    """Seconds in a duration such as ``1m30s``, ``1.5h``, ``2d``, ``-500ms``."""
    if _ZERO_DURATION.fullmatch(s):
        return 0.0
    if not _DURATION.fullmatch(s):
        raise DurationError(f"invalid duration {s!r}")
    seconds = sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _SEGMENT.findall(s))
    return -seconds if s.startswith("-") else seconds


def parse_date(s: str) -> datetime | None:
    """The UTC instant written in one of the server's date formats, else None.

    Zone-less date-times and plain dates are taken as UTC; RFC1123 zone
    abbreviations other than numeric offsets count as UTC, which is what Go
    does for abbreviations unknown to the server's zone.
    """
    try:
        parsed = _parse_iso_datetime(s) or _parse_rfc1123(s) or _parse_plain_date(s)
    except ValueError:  # well-formed text naming an impossible date, e.g. month 13
        return None
    return parsed.astimezone(timezone.utc) if parsed else None


# Go's time.RFC3339 as it parses: a "T", whole seconds, any fraction, "Z" or an offset.
_STRICT_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def parse_rfc3339(s: str) -> datetime | None:
    """The UTC instant of an RFC 3339 time as Go's ``time.Parse(time.RFC3339, s)`` reads
    it, else None (whatever Python's ``fromisoformat`` of this version would take)."""
    return parse_date(s) if _STRICT_RFC3339.fullmatch(s) else None


def _parse_iso_datetime(s: str) -> datetime | None:
    match = _ISO_DATETIME.fullmatch(s)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    microsecond = int((match.group(7) or "0").ljust(6, "0")[:6])
    zone = _iso_zone(match.group("zone"))
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=zone)


def _iso_zone(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text.startswith("-") else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_rfc1123(s: str) -> datetime | None:
    match = _RFC1123.fullmatch(s)
    if match is None or match.group(2) not in _MONTHS:
        return None
    day, year, hour, minute, second = (int(match.group(i)) for i in (1, 3, 4, 5, 6))
    zone = _numeric_zone(match.group("zone"))
    return datetime(year, _MONTHS[match.group(2)], day, hour, minute, second, tzinfo=zone)


def _numeric_zone(text: str) -> timezone:
    if text[0] not in "+-":
        return timezone.utc
    sign = -1 if text.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5])))


def _parse_plain_date(s: str) -> datetime | None:
    match = _PLAIN_DATE.fullmatch(s)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    return datetime(year, month, day, tzinfo=timezone.utc)


def parse_time_or_duration(s: str, now: datetime) -> datetime:
    """An absolute time (for strings of 10+ characters that are dates) or ``now + s``."""
    if len(s) >= 10:
        parsed = parse_date(s)
        if parsed is not None:
            return parsed
    try:
        return now + timedelta(seconds=parse_duration(s))
    except OverflowError as exc:
        raise DurationError(f"duration {s!r} is out of range") from exc


def format_rfc3339_ms(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC; naive datetimes are taken as UTC."""
    aware = dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)
    utc = aware.astimezone(timezone.utc)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def parse_retry_after(value: str, now: datetime) -> datetime | None:
    """When to retry per a ``Retry-After`` value, clamped to 1s..24h from ``now``.

    Short values (up to 7 characters) are whole seconds; longer ones are
    dates. Anything unparseable gives None.
    """
    text = value.strip()
    if len(text) <= 7:
        if not _RETRY_AFTER_SECONDS.fullmatch(text):
            return None
        target = now + timedelta(seconds=int(text))
    else:
        parsed = parse_date(text)
        if parsed is None:
            return None
        target = parsed
    return min(max(target, now + _RETRY_AFTER_MIN), now + _RETRY_AFTER_MAX)


def rfc3339(ms: int | None) -> str | None:
    """Epoch milliseconds as the real server writes times (Go's RFC 3339 with nanoseconds,
    which drops a fraction's trailing zeros): ``2026-01-02T03:04:05.6Z``, ``…:05Z``."""
    if ms is None:
        return None
    second, milli = divmod(ms, 1000)
    text = _second_texts.get(second)
    if text is None:
        if len(_second_texts) >= _KEPT_SECONDS:
            _second_texts.clear()
        text = _second_texts[second] = datetime.fromtimestamp(second, timezone.utc).isoformat(
            timespec="seconds").removesuffix("+00:00")
    fraction = f"{milli:03d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


# The text of recent whole seconds, for rfc3339 (the times of a run, of its events and now
# are written again and again), up to this many (then forgotten all at once).
_KEPT_SECONDS = 256
_second_texts: dict[int, str] = {}


def rfc3339_seconds(ms: int) -> str:
    """Epoch milliseconds to the second, as the real server writes some times:
    ``2026-01-02T03:04:05Z``."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
