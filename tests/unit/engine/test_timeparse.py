from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from inngest._engine.timeparse import (
    DurationError,
    format_rfc3339_ms,
    parse_date,
    parse_duration,
    parse_retry_after,
    parse_time_or_duration,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("-0", 0.0),
        ("1s", 1.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1w2d3h4m5s", 604800.0 + 172800.0 + 10800.0 + 240.0 + 5.0),
        ("500ms", 0.5),
        ("10us", 10e-6),
        ("10\u00b5s", 10e-6),
        ("10\u03bcs", 10e-6),
        ("3ns", 3e-9),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("+2m", 120.0),
        ("-1m30s", -90.0),
    ],
)
def test_parse_duration_accepts_str2duration_strings(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "10", "1x", "1 m", "m", "1m 30s", "--1s", ".s", "1h-30m", "1S", " 1s"]
)
def test_parse_duration_rejects_malformed_strings(text: str) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(text)


def test_duration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-01T10:20:30Z", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("2024-06-01T10:20:30.5Z", datetime(2024, 6, 1, 10, 20, 30, 500000, tzinfo=timezone.utc)),
        (
            "2024-06-01T10:20:30.123456789Z",
            datetime(2024, 6, 1, 10, 20, 30, 123456, tzinfo=timezone.utc),
        ),
        ("2024-06-01T12:20:30+02:00", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("2024-06-01T05:20:30-05:00", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("2024-06-01T10:20:30", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("Sat, 01 Jun 2024 10:20:30 GMT", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("Sat, 01 Jun 2024 10:20:30 MST", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("Sat, 01 Jun 2024 12:20:30 +0200", datetime(2024, 6, 1, 10, 20, 30, tzinfo=timezone.utc)),
        ("2024-06-01", datetime(2024, 6, 1, tzinfo=timezone.utc)),
    ],
)
def test_parse_date_reads_server_formats_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_date(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01",
        "2024-02-30T00:00:00Z",
        "Sat, 01 Foo 2024 10:20:30 GMT",
        "yesterday",
        "2024-6-1",
    ],
)
def test_parse_date_returns_none_for_non_dates(text: str) -> None:
    assert parse_date(text) is None


def test_parse_time_or_duration_prefers_dates_of_ten_or_more_characters() -> None:
    assert parse_time_or_duration("2030-01-01", NOW) == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert parse_time_or_duration("2020-01-01T00:00:00Z", NOW) == datetime(
        2020, 1, 1, tzinfo=timezone.utc
    )


def test_parse_time_or_duration_adds_durations_to_now() -> None:
    assert parse_time_or_duration("1h30m", NOW) == NOW + timedelta(minutes=90)
    assert parse_time_or_duration("1000000000ns", NOW) == NOW + timedelta(seconds=1)


def test_parse_time_or_duration_rejects_garbage_and_huge_durations() -> None:
    with pytest.raises(DurationError):
        parse_time_or_duration("tomorrow-ish", NOW)
    with pytest.raises(DurationError, match="out of range"):
        parse_time_or_duration("99999999999w", NOW)


def test_format_rfc3339_ms_uses_utc_and_milliseconds() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert format_rfc3339_ms(datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=eastern)) == (
        "2024-01-02T08:04:05.678Z"
    )
    assert format_rfc3339_ms(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05.000Z"
    assert format_rfc3339_ms(datetime(999, 1, 1, tzinfo=timezone.utc)) == "0999-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("value", "delay"),
    [
        ("30", timedelta(seconds=30)),
        (" 120 ", timedelta(seconds=120)),
        ("0", timedelta(seconds=1)),
        ("-5", timedelta(seconds=1)),
        ("9999999", timedelta(hours=24)),
        ("2024-05-01T12:10:00Z", timedelta(minutes=10)),
        ("Wed, 01 May 2024 13:00:00 GMT", timedelta(hours=1)),
        ("2020-01-01T00:00:00Z", timedelta(seconds=1)),
        ("2030-01-01T00:00:00Z", timedelta(hours=24)),
    ],
)
def test_parse_retry_after_clamps_to_one_second_through_a_day(
    value: str, delay: timedelta
) -> None:
    assert parse_retry_after(value, NOW) == NOW + delay


@pytest.mark.parametrize("value", ["", "abc", "1.5", "12345678", "not a date at all"])
def test_parse_retry_after_returns_none_when_unparseable(value: str) -> None:
    assert parse_retry_after(value, NOW) is None
