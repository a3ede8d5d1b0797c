"""Parsing ratings in the forms review sites write them, on the source's own scale.

"4.5/5", "4,5", "4.5 out of 5", "★★★★☆", "★★★★½", "9/10", "90%", "5 stars" and plain numbers
all parse. A rating that does not parse, or lies outside its scale, keeps its raw text and gets
``value=None`` so the indexer can flag it; nothing is rescaled here.
"""

from __future__ import annotations

import re
from typing import Any

from crawler.items import Rating

# schema.org's defaults for bestRating and worstRating.
DEFAULT_BEST = 5.0
DEFAULT_WORST = 1.0

_FULL_STARS = "★⭐✭✮✪✯🌟"
_HALF_STARS = "½⯨⯪"
_EMPTY_STARS = "☆✩✰"
_STAR_GLYPHS = frozenset(_FULL_STARS + _HALF_STARS + _EMPTY_STARS + "\ufe0f")

_NUM = r"(-?\d+(?:[.,]\d+)?)"
_PERCENT = re.compile(rf"^{_NUM}\s*%$")
_ON_SCALE = re.compile(rf"{_NUM}\s*(?:/|out\s+of|of)\s*{_NUM}", re.IGNORECASE)
_FIRST_NUMBER = re.compile(_NUM)
_NUMBER = re.compile(_NUM)
_NUMERIC = int | float  # built once: a union written in the call is built on every call


def parse_rating(
    raw: Any,
    *,
    best: Any = None,
    worst: Any = None,
    count: int | None = None,
) -> Rating:
    """Parse a rating value or text into a :class:`Rating` on the source's own scale.

    ``best`` and ``worst`` are the scale the source declares (``bestRating``/``worstRating``,
    raw or parsed) and default to schema.org's 5 and 1. A scale written in the text itself
    ("9/10", "90%", a row of stars with empty ones) takes precedence. ``value`` is None when
    nothing parses or the value lies outside ``[worst, best]``; ``raw`` is always kept.
    """
    best_value = _to_number(best)
    worst_value = _to_number(worst)
    scale_best = best_value if best_value is not None else DEFAULT_BEST
    scale_worst = worst_value if worst_value is not None else DEFAULT_WORST

    raw_text = _raw_text(raw)
    value: float | None
    if isinstance(raw, _NUMERIC) and not isinstance(raw, bool):
        value = float(raw)
    else:
        value, text_best, text_worst = _parse_text(raw_text, scale_best)
        if text_best is not None:
            scale_best = text_best
        if text_worst is not None:
            scale_worst = text_worst

    if value is not None and not (scale_worst <= value <= scale_best and scale_worst < scale_best):
        value = None
    return Rating(raw=raw_text, value=value, best=scale_best, worst=scale_worst, count=count)


def _parse_text(text: str, default_best: float) -> tuple[float | None, float | None, float | None]:
    """Return (value, best written in the text, worst written in the text)."""
    stripped = text.strip()
    if not stripped:
        return None, None, None
    if not _STAR_GLYPHS.isdisjoint(stripped):
        return _parse_stars(stripped, default_best)
    percent = _PERCENT.match(stripped)
    if percent:
        return _to_number(percent.group(1)), 100.0, 0.0
    on_scale = _ON_SCALE.search(stripped)
    if on_scale:
        return _to_number(on_scale.group(1)), _to_number(on_scale.group(2)), None
    first = _FIRST_NUMBER.search(stripped)
    if first:
        return _to_number(first.group(1)), None, None
    return None, None, None


def _parse_stars(text: str, default_best: float) -> tuple[float | None, float | None, None]:
    glyphs = "".join(text.split())
    if any(c not in _STAR_GLYPHS for c in glyphs):
        # Stars mixed with other text ("★ 4.5") carry their number in the text.
        without = "".join(c for c in text if c not in _STAR_GLYPHS)
        value, best, _ = _parse_text(without, default_best)
        return value, best, None
    full = sum(glyphs.count(c) for c in _FULL_STARS)
    half = sum(glyphs.count(c) for c in _HALF_STARS)
    empty = sum(glyphs.count(c) for c in _EMPTY_STARS)
    slots = full + half + empty
    # Empty stars show the scale; without them the row may be cut short, so keep the default.
    best = float(slots) if empty else max(default_best, float(slots))
    return full + 0.5 * half, best, None


def _to_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, _NUMERIC):
        return float(value)
    candidate = str(value).strip()
    if not _NUMBER.fullmatch(candidate):
        return None
    return float(candidate.replace(",", "."))


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()
