"""How numbers, dates, distances and statuses read on screen: one place, so pages agree."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from indexer.geo import DistanceUnit, from_km

MISSING = "\u2013"  # an en dash: shown where a value is unknown
BadgeColor = Literal["green", "orange", "red", "gray", "blue", "violet"]


def format_distance(km: float | None, unit: DistanceUnit) -> str:
    """ "3.2 mi", "12 km"; an empty string when there is no distance."""
    if km is None:
        return ""
    value = from_km(km, unit)
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"


def format_rating(value: float | None) -> str:
    """A rating on the 0-5 scale with two decimals, or an en dash when there is none."""
    return MISSING if value is None else f"{value:.2f}"


def stars(value: float | None) -> str:
    """Five stars, filled to the nearest whole star (for a glance, not for reading a score)."""
    if value is None:
        return "☆☆☆☆☆"
    filled = max(0, min(5, round(value)))
    return "★" * filled + "☆" * (5 - filled)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 review", "3 reviews"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def parse_when(value: Any) -> datetime | None:
    """Read an ISO date or timestamp as an aware UTC datetime; None if it is not one."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_date(value: Any) -> str:
    """ "Apr 8, 2024" for an ISO date or timestamp; the text itself if it is not one."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value:%b} {value.day}, {value.year}"
    parsed = parse_when(value)
    if parsed is None:
        return "" if value is None else str(value)
    return f"{parsed:%b} {parsed.day}, {parsed.year}"


def format_age(value: Any, now: datetime | None = None) -> str:
    """How long ago a timestamp was: "just now", "5 min ago", "3 h ago", "12 days ago"."""
    parsed = parse_when(value)
    if parsed is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - parsed).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{plural(int(seconds // 86400), 'day')} ago"


def format_interval(seconds: int) -> str:
    """A recrawl interval for people: "every 12 h", "every 3 days", "every week"."""
    if seconds % 604800 == 0:
        weeks = seconds // 604800
        return "every week" if weeks == 1 else f"every {weeks} weeks"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "every day" if days == 1 else f"every {days} days"
    if seconds % 3600 == 0:
        return f"every {seconds // 3600} h"
    return f"every {seconds // 60} min"


def format_phone(e164: str) -> str:
    """A US number in E.164 as (512) 555-0100; any other number as given."""
    match = re.fullmatch(r"\+1(\d{3})(\d{3})(\d{4})", e164 or "")
    return f"({match[1]}) {match[2]}-{match[3]}" if match else (e164 or "")


_ABBREVIATION = re.compile(r"\(([^)]*)\)\s*$")


def short_label(label: str) -> str:
    """The abbreviation a credential label ends with: "Licensed … (LMT)" -> "LMT"."""
    match = _ABBREVIATION.search(label or "")
    if not match:
        return label
    return match[1].split("/")[0].split(",")[0].strip()


def format_moment(value: Any) -> str:
    """A timestamp to the minute, in UTC, for admins' tables: "2026-11-21 03:00"."""
    parsed = parse_when(value)
    if parsed is None:
        return MISSING
    return f"{parsed.astimezone(UTC):%Y-%m-%d %H:%M}"


def format_took(start: Any, end: Any, now: datetime | None = None) -> str:
    """How long something took, or has been going on if it has not ended: "42 s", "3 min 05 s",
    "2 h 10 min"."""
    began = parse_when(start)
    if began is None:
        return MISSING
    ended = parse_when(end) or now or datetime.now(UTC)
    seconds = max(0, int((ended - began).total_seconds()))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
