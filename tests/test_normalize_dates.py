"""Dates in every format sites use, read against a fixed reference date."""

from __future__ import annotations

import calendar
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.normalize.dates import DateOrder, _parse_common, parse_date, read_with_dateparser

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


# -- the common shapes read without dateparser agree with dateparser -----------------------------

_MONTH_NAMES = [m for m in calendar.month_name if m] + [m for m in calendar.month_abbr if m]


@st.composite
def _common_shape(draw: st.DrawFn) -> str:
    """A date in one of the shapes read without dateparser, valid or not (February 30)."""
    year = draw(st.integers(1950, 2030))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 31))
    name = draw(st.sampled_from([*_MONTH_NAMES, "Sept"])) if draw(st.booleans()) else None
    name = name or calendar.month_name[month]
    cased = draw(st.sampled_from([str, str.lower, str.upper]))(name)
    dot = "." if len(name) <= 4 and draw(st.booleans()) else ""
    sep = draw(st.sampled_from("/.-"))
    count = draw(st.sampled_from(["a", "an", "one", *map(str, range(0, 40))]))
    unit = draw(st.sampled_from(["day", "week", "month", "year"]))
    plural = "s" if draw(st.booleans()) else ""
    return draw(
        st.sampled_from(
            [
                f"{cased}{dot} {day}, {year}",
                f"{cased}{dot} {day} {year}",
                f"{day} {cased}{dot} {year}",
                f"{cased}{dot} {year}",
                f"{month}{sep}{day}{sep}{year}",
                f"{day}{sep}{month}{sep}{year}",
                f"{month:02d}{sep}{day:02d}{sep}{year}",
                f"{count} {unit}{plural} ago",
                draw(st.sampled_from(["today", "Today", "yesterday", "Yesterday"])),
            ]
        )
    )


@settings(max_examples=400, deadline=None)
@given(
    text=_common_shape(),
    reference=st.dates(date(1990, 1, 1), date(2030, 12, 31)),
    order=st.sampled_from(["MDY", "DMY", "YMD"]),
    allow_future=st.booleans(),
)
def test_common_shapes_read_as_dateparser_reads_them(
    text: str, reference: date, order: DateOrder, allow_future: bool
) -> None:
    fast = _parse_common(text, reference, order)
    if fast is None:
        return  # not read here: dateparser alone reads it
    assert fast == read_with_dateparser(text, reference, order, allow_future), text


@pytest.mark.parametrize(
    "text",
    ["March 3, 2024", "3 Mar 2024", "Sept 2024", "04.13.2024", "3 weeks ago", "an year ago"],
)
def test_the_common_shapes_are_read_without_dateparser(text: str) -> None:
    # "an year ago" is no English, but dateparser reads it too; the point is the fast path
    # answers all of these, so a build never pays dateparser's millisecond for them.
    assert _parse_common(text, FETCHED, "MDY") is not None
