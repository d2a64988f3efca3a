"""Five-field cron schedules (``minute hour day-of-month month day-of-week``).

An optional ``TZ=<zone> `` or ``CRON_TZ=<zone> `` prefix selects the zone the
fields are read in; without one the machine's local zone is used. A real
instant fires when its wall-clock time in that zone matches every field, so
wall times skipped by a DST change never fire and repeated ones may fire
twice, as with the Go scheduler the server uses.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inngest._engine.errors import EngineError
from inngest._engine.timeparse import DurationError, parse_duration

_TZ_PREFIX = re.compile(r"(?:CRON_)?TZ=(\S+)\s+")
_NUMBER = re.compile(r"\d+")
_SEARCH_YEARS = 10  # longer than the worst gap between two 29ths of February
_MIN_JITTER_SECONDS = 1.0
_MAX_JITTER_SECONDS = 300.0
_SUNDAY_ALIAS = 7
_DAYS_IN_MONTH_MAX = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronError(EngineError, ValueError):
    """A cron expression or jitter that the server would reject."""

    code = "cron_invalid"


class _Field(NamedTuple):
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def value_of(self, token: str) -> int:
        if _NUMBER.fullmatch(token):
            return int(token)
        upper = token.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        raise CronError(f"invalid {self.name} value {token!r}")


_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY_OF_MONTH = _Field("day-of-month", 1, 31)
_MONTH = _Field(
    "month", 1, 12,
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
)
_DAY_OF_WEEK = _Field(
    "day-of-week", 0, _SUNDAY_ALIAS, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
)
_FIELDS = (_MINUTE, _HOUR, _DAY_OF_MONTH, _MONTH, _DAY_OF_WEEK)


class _ParsedField(NamedTuple):
    values: frozenset[int]
    is_wildcard: bool


@dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression; ``days_of_week`` uses 0 for Sunday."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    day_of_month_restricted: bool
    day_of_week_restricted: bool
    zone: tzinfo

    def next_after(self, t: datetime) -> datetime:
        """The first firing time strictly after ``t`` (naive ``t`` is UTC), in UTC."""
        cursor = _next_whole_minute(t)
        last_year = cursor.year + _SEARCH_YEARS
        while cursor.year <= last_year:
            later = self._skip_mismatch(cursor.astimezone(self.zone))
            if later is None:
                return cursor
            cursor = later
        raise CronError(f"cron {self.expression!r} does not fire within {_SEARCH_YEARS} years")

    def matches_day(self, day: date) -> bool:
        """Whether ``day`` satisfies the day-of-month and day-of-week fields."""
        dom_matches = day.day in self.days_of_month
        dow_matches = day.isoweekday() % 7 in self.days_of_week
        if self.day_of_month_restricted and self.day_of_week_restricted:
            return dom_matches or dow_matches
        return dom_matches and dow_matches

    def _skip_mismatch(self, local: datetime) -> datetime | None:
        """None if ``local`` fires, else a later UTC instant no firing lies before."""
        if local.month not in self.months:
            return self._start_of_next_month(local)
        if not self.matches_day(local.date()):
            return self._start_of_next_day(local)
        if local.hour not in self.hours:
            return _start_of_next_hour(local)
        if local.minute not in self.minutes:
            return self._next_minute(local)
        return None

    def _start_of_next_month(self, local: datetime) -> datetime:
        later = [month for month in sorted(self.months) if month > local.month]
        if later:
            return _midnight(local.year, later[0], 1, self.zone)
        return _midnight(local.year + 1, min(self.months), 1, self.zone)

    def _start_of_next_day(self, local: datetime) -> datetime:
        month_length = calendar.monthrange(local.year, local.month)[1]
        for day in range(local.day + 1, month_length + 1):
            if self.matches_day(local.date().replace(day=day)):
                return _midnight(local.year, local.month, day, self.zone)
        first_of_next = local.date().replace(day=1) + timedelta(days=month_length)
        return _midnight(first_of_next.year, first_of_next.month, 1, self.zone)

    def _next_minute(self, local: datetime) -> datetime:
        later = [minute for minute in self.minutes if minute > local.minute]
        if not later:
            return _start_of_next_hour(local)
        # Offsets change on hour boundaries, so moving within the hour is plain arithmetic.
        return local.astimezone(timezone.utc) + timedelta(minutes=min(later) - local.minute)


def _next_whole_minute(t: datetime) -> datetime:
    aware = t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)


def _start_of_next_hour(local: datetime) -> datetime:
    # Real-time addition, so a wall-clock hour repeated by DST is visited twice.
    hour_start = local.replace(minute=0, second=0, microsecond=0)
    return hour_start.astimezone(timezone.utc) + timedelta(hours=1)


def _midnight(year: int, month: int, day: int, zone: tzinfo) -> datetime:
    # For a midnight skipped by DST, fold=0 resolves to the end of the gap.
    return datetime(year, month, day, tzinfo=zone).astimezone(timezone.utc)


def parse_cron(expr: str) -> CronSchedule:
    """Parse a five-field cron expression with an optional ``TZ=``/``CRON_TZ=`` prefix."""
    try:
        return _parse(expr)
    except CronError as exc:
        raise CronError(f"invalid cron expression {expr!r}: {exc}") from None


def validate_cron(expr: str) -> None:
    """Raise CronError unless ``expr`` is a cron expression the server accepts."""
    parse_cron(expr)


def _parse(expr: str) -> CronSchedule:
    text = expr.strip()
    zone: tzinfo = _local_zone()
    prefix = _TZ_PREFIX.match(text)
    if prefix:
        zone = _load_zone(prefix.group(1))
        text = text[prefix.end():]
    if text.startswith("@"):
        raise CronError("descriptors such as @daily are not supported")
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CronError(f"expected 5 fields, got {len(parts)}")
    minutes, hours, doms, months, dows = (
        _parse_field(part, field) for part, field in zip(parts, _FIELDS)
    )
    schedule = CronSchedule(
        expression=expr,
        minutes=minutes.values,
        hours=hours.values,
        days_of_month=doms.values,
        months=months.values,
        days_of_week=frozenset(day % _SUNDAY_ALIAS for day in dows.values),
        day_of_month_restricted=not doms.is_wildcard,
        day_of_week_restricted=not dows.is_wildcard,
        zone=zone,
    )
    _reject_impossible_dates(schedule)
    return schedule


def _local_zone() -> tzinfo:
    return datetime.now().astimezone().tzinfo or timezone.utc


def _load_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name!r}") from None


def _parse_field(text: str, field: _Field) -> _ParsedField:
    values: set[int] = set()
    is_wildcard = False
    for item in text.split(","):
        item_values, item_is_wildcard = _parse_item(item, field)
        values |= item_values
        is_wildcard = is_wildcard or item_is_wildcard
    return _ParsedField(frozenset(values), is_wildcard)


def _parse_item(item: str, field: _Field) -> tuple[set[int], bool]:
    """Values of one list item: ``*``, ``N``, ``N-M``, each optionally ``/step``."""
    span, has_step, step_text = item.partition("/")
    step = _parse_step(step_text, field) if has_step else 1
    if span in ("*", "?"):
        return set(range(field.low, _open_end(field) + 1, step)), step == 1
    first_text, has_end, last_text = span.partition("-")
    first = field.value_of(first_text)
    last = field.value_of(last_text) if has_end else (_open_end(field) if has_step else first)
    if not field.low <= first <= last <= field.high:
        raise CronError(
            f"{field.name} {span!r} is not an ascending range within {field.low}-{field.high}"
        )
    return set(range(first, last + 1, step)), False


def _open_end(field: _Field) -> int:
    """Where ``*`` and ``N/step`` stop; for weekdays Saturday, so Sunday is not doubled."""
    return _SUNDAY_ALIAS - 1 if field is _DAY_OF_WEEK else field.high


def _parse_step(text: str, field: _Field) -> int:
    if not _NUMBER.fullmatch(text) or int(text) == 0:
        raise CronError(f"invalid {field.name} step {text!r}")
    return int(text)


def _reject_impossible_dates(schedule: CronSchedule) -> None:
    """Refuse day-of-month/month pairs that never occur, e.g. ``30 2``."""
    if schedule.day_of_week_restricted and schedule.day_of_month_restricted:
        return  # either field may match, and weekdays always come round
    if not any(
        day <= _DAYS_IN_MONTH_MAX[month - 1]
        for month in schedule.months
        for day in schedule.days_of_month
    ):
        raise CronError("the day-of-month never occurs in the selected months")


def parse_jitter(s: str | None) -> float:
    """Cron jitter in seconds: absent or zero gives 0, otherwise it must be 1s..5m."""
    if not s:
        return 0.0
    try:
        seconds = parse_duration(s)
    except DurationError:
        raise CronError(f"invalid cron jitter {s!r}") from None
    if seconds == 0:
        return 0.0
    if not _MIN_JITTER_SECONDS <= seconds <= _MAX_JITTER_SECONDS:
        raise CronError(f"cron jitter {s!r} must be between 1s and 5m")
    return seconds
