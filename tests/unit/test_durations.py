import datetime

import pytest

from inngest import _errors
from inngest._durations import to_duration_str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000, "1s"),
        (60_000, "1m"),
        (90_000, "90s"),
        (150_000, "150s"),
        (datetime.timedelta(minutes=90), "90m"),
        (datetime.timedelta(hours=36), "36h"),
        (datetime.timedelta(days=10), "10d"),
        (datetime.timedelta(days=14), "2w"),
        (datetime.timedelta(hours=1), "1h"),
    ],
)
def test_largest_dividing_unit(value: int | datetime.timedelta, expected: str) -> None:
    assert to_duration_str(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (999, "at least 1 second"),
        (0, "at least 1 second"),
        (1500, "whole number of seconds"),
        (datetime.timedelta(milliseconds=2500), "whole number of seconds"),
    ],
)
def test_invalid_durations(value: int | datetime.timedelta, message: str) -> None:
    with pytest.raises(_errors.FunctionConfigInvalidError, match=message):
        to_duration_str(value)


def test_wrong_type() -> None:
    with pytest.raises(_errors.FunctionConfigInvalidError, match="str"):
        to_duration_str("1s")  # type: ignore[arg-type]
