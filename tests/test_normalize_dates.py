"""Dates in every format sites use, read against a fixed reference date."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from indexer.normalize.dates import parse_date

FETCHED = date(2024, 6, 15)


def _parsed(raw: str, **kwargs: object) -> tuple[date, str]:
    result = parse_date(raw, reference=FETCHED, **kwargs)
    assert result.flags == ()
    return result.value.value, result.value.precision


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("March 3, 2024", (date(2024, 3, 3), "day")),
        ("03/04/2024", (date(2024, 3, 4), "day")),
        ("2024-03-04", (date(2024, 3, 4), "day")),
        ("3 Mar 2024", (date(2024, 3, 3), "day")),
        ("Mar 2024", (date(2024, 3, 1), "month")),
        ("June 2024", (date(2024, 6, 1), "month")),
        ("2023", (date(2023, 1, 1), "year")),
        ("3 weeks ago", (date(2024, 5, 25), "week")),
        ("yesterday", (date(2024, 6, 14), "day")),
        ("5 days ago", (date(2024, 6, 10), "day")),
        ("2 months ago", (date(2024, 4, 1), "month")),
        ("a year ago", (date(2023, 1, 1), "year")),
        ("Reviewed on March 3, 2024", (date(2024, 3, 3), "day")),
        ("Posted 2 days ago", (date(2024, 6, 13), "day")),
    ],
)
def test_formats(raw: str, expected: tuple[date, str]) -> None:
    assert _parsed(raw) == expected


def test_month_first_is_the_default_and_day_first_sources_say_so() -> None:
    assert _parsed("3.4.2024") == (date(2024, 3, 4), "day")
    assert _parsed("3.4.2024", date_order="DMY") == (date(2024, 4, 3), "day")
    assert _parsed("03/04/2024", date_order="DMY") == (date(2024, 4, 3), "day")


def test_a_day_first_date_in_a_month_first_source_is_read_and_flagged() -> None:
    result = parse_date("13/04/2024", reference=FETCHED)
    assert result.value.value == date(2024, 4, 13)
    assert [f.reason for f in result.flags] == ["date_order"]


def test_relative_dates_follow_the_reference_not_the_clock() -> None:
    other = parse_date("3 weeks ago", reference=date(2020, 1, 22)).value
    assert other.value == date(2020, 1, 1)


def test_a_datetime_reference_counts_by_its_date() -> None:
    result = parse_date("yesterday", reference=datetime(2024, 6, 15, 23, 59))
    assert result.value.value == date(2024, 6, 14)


def test_a_date_without_a_year_is_the_latest_one_not_after_the_reference() -> None:
    assert _parsed("March 3") == (date(2024, 3, 3), "day")
    assert _parsed("Dec 3") == (date(2023, 12, 3), "day")


def test_an_iso_timestamp_keeps_its_own_calendar_date() -> None:
    assert _parsed("2023-11-05T23:30:00-06:00") == (date(2023, 11, 5), "day")


@pytest.mark.parametrize("raw", ["July 4, 2025", "in 3 days", "tomorrow", "12/31/2099"])
def test_future_dates_are_refused_and_flagged(raw: str) -> None:
    result = parse_date(raw, reference=FETCHED, field="published")
    assert result.value is None
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [("published", "future_date", raw)]


def test_future_dates_are_fine_where_they_are_expected() -> None:
    result = parse_date("12/31/2026", reference=FETCHED, allow_future=True)
    assert result.value.value == date(2026, 12, 31)
    assert result.flags == ()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not a date", "unparsed_date"),
        ("4.5", "ambiguous_date"),
        ("5", "ambiguous_date"),
        ("2024-02-30", "unparsed_date"),
        ("01/01/1900", "implausible_date"),
    ],
)
def test_bad_dates_give_none_and_a_reason(raw: str, reason: str) -> None:
    result = parse_date(raw, reference=FETCHED)
    assert result.value is None
    assert [f.reason for f in result.flags] == [reason]


def test_nothing_given() -> None:
    assert parse_date(None, reference=FETCHED).flags == ()
