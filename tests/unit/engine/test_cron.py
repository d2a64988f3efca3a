from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from inngest._engine.cron import CronError, parse_cron, parse_jitter, validate_cron

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def firings(expr: str, start: datetime, count: int) -> list[datetime]:
    schedule = parse_cron(expr)
    result: list[datetime] = []
    for _ in range(count):
        start = schedule.next_after(start)
        result.append(start)
    return result


def test_next_after_is_strictly_after_and_in_utc() -> None:
    schedule = parse_cron("TZ=UTC */5 * * * *")
    result = schedule.next_after(utc(2024, 1, 1, 10, 5))
    assert result == utc(2024, 1, 1, 10, 10)
    assert result.tzinfo == UTC


def test_next_after_rounds_up_partial_minutes() -> None:
    schedule = parse_cron("TZ=UTC * * * * *")
    almost = datetime(2024, 1, 1, 10, 5, 59, 999, tzinfo=UTC)
    assert schedule.next_after(almost) == utc(2024, 1, 1, 10, 6)


def test_next_after_accepts_other_zones_and_naive_utc() -> None:
    schedule = parse_cron("TZ=UTC 0 * * * *")
    plus_two = datetime(2024, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert schedule.next_after(plus_two) == utc(2024, 1, 1, 11)
    assert schedule.next_after(datetime(2024, 1, 1, 12, 30)) == utc(2024, 1, 1, 13)


def test_steps_ranges_and_lists() -> None:
    assert firings("TZ=UTC 1-10/3,30 8 * * *", utc(2024, 1, 1), 6) == [
        utc(2024, 1, 1, 8, 1),
        utc(2024, 1, 1, 8, 4),
        utc(2024, 1, 1, 8, 7),
        utc(2024, 1, 1, 8, 10),
        utc(2024, 1, 1, 8, 30),
        utc(2024, 1, 2, 8, 1),
    ]


def test_start_with_step_runs_to_the_end_of_the_range() -> None:
    schedule = parse_cron("TZ=UTC 50/5 * * * *")
    assert schedule.minutes == frozenset({50, 55})


def test_crossing_month_and_year_ends() -> None:
    assert firings("TZ=UTC 0 12 31 * *", utc(2024, 10, 31, 12), 3) == [
        utc(2024, 12, 31, 12),
        utc(2025, 1, 31, 12),
        utc(2025, 3, 31, 12),
    ]


def test_leap_day_schedule_waits_for_a_leap_year() -> None:
    assert firings("TZ=UTC 0 0 29 2 *", utc(2024, 3, 1), 2) == [
        utc(2028, 2, 29),
        utc(2032, 2, 29),
    ]


def test_leap_day_across_a_skipped_century_leap_year_is_fast() -> None:
    schedule = parse_cron("TZ=UTC 0 0 29 2 *")
    started = time.perf_counter()
    assert schedule.next_after(utc(2097, 1, 1)) == utc(2104, 2, 29)
    assert time.perf_counter() - started < 0.5


def test_month_and_weekday_names_are_case_insensitive() -> None:
    assert firings("TZ=UTC 0 9 * jan-FEB Mon", utc(2024, 2, 25), 2) == [
        utc(2024, 2, 26, 9),
        utc(2025, 1, 6, 9),
    ]


def test_seven_means_sunday() -> None:
    assert parse_cron("0 0 * * 7").days_of_week == frozenset({0})
    assert parse_cron("0 0 * * 5-7").days_of_week == frozenset({5, 6, 0})
    assert firings("TZ=UTC 0 0 * * 7", utc(2024, 1, 1), 1) == [utc(2024, 1, 7)]


def test_weekday_wildcard_step_does_not_count_sunday_twice() -> None:
    assert parse_cron("0 0 * * */2").days_of_week == frozenset({0, 2, 4, 6})
    assert parse_cron("0 0 * * MON/2").days_of_week == frozenset({1, 3, 5})


def test_day_of_month_or_day_of_week_when_both_are_restricted() -> None:
    # 13th of the month or any Friday.
    assert firings("TZ=UTC 0 0 13 * FRI", utc(2024, 9, 1), 4) == [
        utc(2024, 9, 6),
        utc(2024, 9, 13),
        utc(2024, 9, 20),
        utc(2024, 9, 27),
    ]


def test_only_the_restricted_day_field_applies_when_the_other_is_a_wildcard() -> None:
    assert firings("TZ=UTC 0 0 * * FRI", utc(2024, 9, 1), 2) == [utc(2024, 9, 6), utc(2024, 9, 13)]
    assert firings("TZ=UTC 0 0 13 * ?", utc(2024, 9, 1), 2) == [utc(2024, 9, 13), utc(2024, 10, 13)]


def test_tz_prefix_reads_fields_in_that_zone() -> None:
    schedule = parse_cron("TZ=America/New_York 0 9 * * *")
    assert schedule.zone == NEW_YORK
    assert schedule.next_after(utc(2024, 1, 15)) == utc(2024, 1, 15, 14)
    assert schedule.next_after(utc(2024, 7, 15)) == utc(2024, 7, 15, 13)


def test_cron_tz_prefix_is_accepted() -> None:
    schedule = parse_cron("CRON_TZ=Asia/Tokyo 0 0 1 1 *")
    assert schedule.next_after(utc(2024, 6, 1)) == utc(2024, 12, 31, 15)


def test_without_prefix_the_machine_local_zone_is_used() -> None:
    schedule = parse_cron("0 0 * * *")
    local_now = datetime.now().astimezone()
    assert schedule.zone.utcoffset(local_now) == local_now.utcoffset()


def test_wall_times_skipped_by_spring_forward_do_not_fire() -> None:
    # 2024-03-10 02:30 does not exist in New York.
    assert firings("TZ=America/New_York 30 2 * * *", utc(2024, 3, 9, 12), 2) == [
        datetime(2024, 3, 11, 2, 30, tzinfo=NEW_YORK).astimezone(UTC),
        datetime(2024, 3, 12, 2, 30, tzinfo=NEW_YORK).astimezone(UTC),
    ]


def test_hourly_schedule_fires_in_both_passes_of_a_repeated_hour() -> None:
    assert firings("TZ=America/New_York 15 * * * *", utc(2024, 11, 3, 5, 0), 3) == [
        utc(2024, 11, 3, 5, 15),  # 01:15 EDT
        utc(2024, 11, 3, 6, 15),  # 01:15 EST
        utc(2024, 11, 3, 7, 15),  # 02:15 EST
    ]


def test_first_pass_of_a_repeated_hour_still_finds_second_pass_firing() -> None:
    # 01:45 EDT; the next :15 is 01:15 EST, an earlier wall time but a later instant.
    schedule = parse_cron("TZ=America/New_York 15 * * * *")
    assert schedule.next_after(utc(2024, 11, 3, 5, 45)) == utc(2024, 11, 3, 6, 15)


def test_midnight_missing_because_of_dst_fires_at_the_end_of_the_gap() -> None:
    # Sao Paulo skipped from 00:00 to 01:00 on 2018-11-04.
    schedule = parse_cron("TZ=America/Sao_Paulo 0 * 4 11 *")
    assert schedule.next_after(utc(2018, 11, 3, 12)) == utc(2018, 11, 4, 3)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("@daily", "descriptors"),
        ("@every 5m", "descriptors"),
        ("* * * *", "expected 5 fields"),
        ("* * * * * *", "expected 5 fields"),
        ("60 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day-of-month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day-of-week"),
        ("5-1 * * * *", "ascending"),
        ("*/0 * * * *", "step"),
        ("*/x * * * *", "step"),
        ("1,,2 * * * *", "minute"),
        ("* * * FOO *", "month"),
        ("* * * * FUNDAY", "day-of-week"),
        ("0 0 30 2 *", "never occurs"),
        ("0 0 31 4,6 *", "never occurs"),
        ("TZ=Mars/Olympus 0 0 * * *", "time zone"),
        ("TZ=../etc 0 0 * * *", "time zone"),
        ("", "expected 5 fields"),
    ],
)
def test_invalid_expressions_are_rejected(expr: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        validate_cron(expr)


def test_error_message_names_the_expression() -> None:
    with pytest.raises(CronError, match="'61 \\* \\* \\* \\*'"):
        parse_cron("61 * * * *")


def test_impossible_date_is_allowed_when_a_weekday_can_match() -> None:
    validate_cron("0 0 30 2 MON")


def test_schedule_is_immutable() -> None:
    schedule = parse_cron("0 0 * * *")
    with pytest.raises(AttributeError):
        schedule.expression = "1 1 * * *"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 0.0), ("", 0.0), ("0s", 0.0), ("1s", 1.0), ("30s", 30.0), ("5m", 300.0)],
)
def test_parse_jitter_accepts_zero_or_one_second_to_five_minutes(
    value: str | None, seconds: float
) -> None:
    assert parse_jitter(value) == seconds


@pytest.mark.parametrize("value", ["500ms", "5m1s", "1h", "-1s", "soon"])
def test_parse_jitter_rejects_other_values(value: str) -> None:
    with pytest.raises(CronError, match="jitter"):
        parse_jitter(value)
