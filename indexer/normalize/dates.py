"""Dates as review sites and registries write them, made deterministic by a reference date.

"March 3, 2024", "03/04/2024", "2024-03-04", "Mar 2024", "3 weeks ago" and "Reviewed on May 2,
2023" all parse. Every answer carries its precision: a month-precise date is the first day of
that month, a year-precise one the first of January; "3 weeks ago" is the reference date minus
21 days, at week precision. Relative phrases are read against the reference date the caller
passes (usually when the page was fetched), never against the clock, so a re-run of old pages
gives the same dates.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

from dateparser.date import DateDataParser

from indexer.normalize.flags import Flag, Normalized

DatePrecision = Literal["day", "week", "month", "year"]
DateOrder = Literal["MDY", "DMY", "YMD"]

# Older than this is a placeholder ("01/01/1900"), not a real review or licence date.
EARLIEST_YEAR = 1950

_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_YEAR = re.compile(r"\b\d{4}\b")
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*$")
# The shapes review sites write most, read without dateparser (a millisecond a call, and a build
# reads millions of dates). Anything else, or anything these cannot make a calendar date of,
# goes to dateparser; tests/test_dates.py checks the two agree on every shape read here.
_MONTHS = {
    **{name.lower(): n for n, name in enumerate(calendar.month_name) if name},
    **{name.lower(): n for n, name in enumerate(calendar.month_abbr) if name},
    "sept": 9,
}
_MONTH = r"([A-Za-z]{3,9})\.?"
_MONTH_DAY_YEAR = re.compile(rf"^{_MONTH} (\d{{1,2}}),? (\d{{4}})$")
_DAY_MONTH_YEAR = re.compile(rf"^(\d{{1,2}}) {_MONTH},? (\d{{4}})$")
_MONTH_YEAR = re.compile(rf"^{_MONTH},? (\d{{4}})$")
_NUMERIC_FULL_YEAR = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})$")
_AGO = re.compile(r"^(\d{1,3}|an?|one) (day|week|month|year)s? ago$", re.IGNORECASE)
_PERIODS: dict[str, DatePrecision] = {
    "time": "day",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
}


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A calendar date and how precisely the source gave it."""

    value: date
    precision: DatePrecision


def parse_date(
    raw: str | None,
    *,
    reference: date,
    field: str = "date",
    date_order: DateOrder = "MDY",
    allow_future: bool = False,
) -> Normalized[ParsedDate]:
    """Return the date a text names, read against ``reference`` (the day it was fetched).

    ``date_order`` is the source's order for all-numeric dates (US month-first by default).
    Dates after ``reference`` are refused with a ``future_date`` flag unless ``allow_future``
    (licence expiry dates). Other reasons: ``unparsed_date``, ``ambiguous_date`` (numbers with no
    year such as "4.5"), ``implausible_date`` (before 1950) and ``date_order`` (a day-first date
    in a month-first source: parsed as the only reading possible, flagged since it hints the
    source's order is set wrong). An ISO 8601 timestamp keeps the date it was written in, not
    the UTC date. ``reference`` may be a datetime; only its date counts. Nothing given gives
    ``None`` without a flag.
    """
    if raw is None or not raw.strip():
        return Normalized(None)
    text = raw.strip()
    if isinstance(reference, datetime):
        reference = reference.date()
    has_year = _HAS_YEAR.search(text) or _NUMERIC_DATE.match(text)
    if not has_year and not _HAS_LETTER.search(text):
        return Normalized(None, (Flag(field, "ambiguous_date", raw, "numbers without a year"),))

    flags: list[Flag] = []
    parsed = _parse_iso(text) or _parse_text(text, reference, date_order, allow_future)
    if parsed is None:
        return Normalized(None, (Flag(field, "unparsed_date", raw),))
    numeric = _NUMERIC_DATE.match(text)
    if numeric and date_order == "MDY" and int(numeric[1]) > 12:
        flags.append(Flag(field, "date_order", raw, "day-first date in a month-first source"))
    if parsed.value.year < EARLIEST_YEAR:
        return Normalized(None, (*flags, Flag(field, "implausible_date", raw)))
    if parsed.value > reference and not allow_future:
        detail = f"{parsed.value.isoformat()} is after {reference.isoformat()}"
        return Normalized(None, (*flags, Flag(field, "future_date", raw, detail)))
    return Normalized(parsed, tuple(flags))


def _parse_iso(text: str) -> ParsedDate | None:
    if not _ISO_DATE.match(text):
        return None
    try:
        return ParsedDate(datetime.fromisoformat(text.strip()).date(), "day")
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _parse_text(
    text: str, reference: date, order: DateOrder, allow_future: bool
) -> ParsedDate | None:
    # Most texts have one of the common shapes, read without dateparser; the rest cost it about a
    # millisecond each, and a crawl repeats the same strings ("3 weeks ago", "March 2024")
    # fetched on the same day over and over.
    return _parse_common(text, reference, order) or read_with_dateparser(
        text, reference, order, allow_future
    )


def read_with_dateparser(
    text: str, reference: date, order: DateOrder, allow_future: bool
) -> ParsedDate | None:
    """What dateparser makes of a text (the reading every fast path must agree with)."""
    parser = _parser(reference, order, "future" if allow_future else "past")
    found = parser.get_date_data(text)
    if found.date_obj is None:
        # A date inside a phrase ("Reviewed on March 3, 2024"): only an unambiguous single one.
        # Imported here: a quarter of a second to load, and most builds never need it.
        from dateparser.search import search_dates

        settings = _settings(reference, order, "future" if allow_future else "past")
        hits = search_dates(text, languages=["en"], settings=settings)
        if not hits or len(hits) != 1:
            return None
        found = parser.get_date_data(hits[0][0])
        if found.date_obj is None:
            return None
    return ParsedDate(found.date_obj.date(), _PERIODS.get(found.period or "day", "day"))


def _parse_common(text: str, reference: date, order: DateOrder) -> ParsedDate | None:
    """The date of one of the common shapes, as dateparser reads it; None for any other text."""
    try:
        if found := _MONTH_DAY_YEAR.match(text):
            return _calendar_day(found[3], found[1], found[2])
        if found := _DAY_MONTH_YEAR.match(text):
            return _calendar_day(found[3], found[2], found[1])
        if found := _MONTH_YEAR.match(text):
            month = _MONTHS.get(found[1].lower())
            return ParsedDate(date(int(found[2]), month, 1), "month") if month else None
        if found := _NUMERIC_FULL_YEAR.match(text):
            return _numeric_day(int(found[1]), int(found[3]), int(found[4]), order)
        if found := _AGO.match(text):
            return _ago(found[1].lower(), found[2].lower(), reference)
    except ValueError:  # no such day (February 30): dateparser decides what to make of it
        return None
    lowered = text.lower()
    if lowered == "today":
        return ParsedDate(reference, "day")
    if lowered == "yesterday":
        return ParsedDate(reference - timedelta(days=1), "day")
    return None


def _calendar_day(year: str, month_name: str, day: str) -> ParsedDate | None:
    month = _MONTHS.get(month_name.lower())
    return ParsedDate(date(int(year), month, int(day)), "day") if month else None


def _numeric_day(first: int, second: int, year: int, order: DateOrder) -> ParsedDate | None:
    if order == "YMD":
        return None
    month, day = (first, second) if order == "MDY" else (second, first)
    if month > 12 >= day:
        # The only reading possible (parse_date flags it in a month-first source).
        month, day = day, month
    return ParsedDate(date(year, month, day), "day")


def _ago(count_text: str, unit: str, reference: date) -> ParsedDate:
    count = 1 if count_text in {"a", "an", "one"} else int(count_text)
    if unit == "day":
        return ParsedDate(reference - timedelta(days=count), "day")
    if unit == "week":
        return ParsedDate(reference - timedelta(weeks=count), "week")
    if unit == "month":
        months = reference.year * 12 + reference.month - 1 - count
        return ParsedDate(date(months // 12, months % 12 + 1, 1), "month")
    return ParsedDate(date(reference.year - count, 1, 1), "year")


def _settings(reference: date, order: DateOrder, prefer: str) -> dict[str, object]:
    return {
        "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
        "PREFER_DATES_FROM": prefer,
        "DATE_ORDER": order,
        "RETURN_TIME_AS_PERIOD": True,
        # A month or a year stands for its first day, so equal texts give equal dates.
        "PREFER_DAY_OF_MONTH": "first",
        "PREFER_MONTH_OF_YEAR": "first",
        # Fixed, so the machine's local zone never shifts a date.
        "TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }


@lru_cache(maxsize=64)
def _parser(reference: date, order: DateOrder, prefer: str) -> DateDataParser:
    return DateDataParser(languages=["en"], settings=_settings(reference, order, prefer))
