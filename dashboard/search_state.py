"""The state of a search as the URL carries it, so a search can be bookmarked and shared.

``SearchState`` is what a client asked for, in their words and units. It reads itself from query
parameters (tolerating hand-edited URLs: a value it cannot use is dropped and reported, never a
crash), writes itself back (defaults left out, so URLs stay short), and becomes a ``SearchQuery``
once the place has been geocoded.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Protocol

from indexer.geo import DistanceUnit, GeoPoint, to_km
from indexer.search import SearchQuery, SortOrder
from indexer.search.query import DEFAULT_RADIUS_MI
from indexer.taxonomy import Taxonomy, Vocabulary

DEFAULT_RADIUS = DEFAULT_RADIUS_MI  # the default unit is miles, as in the CLI
# The radius slider's range, in the search's own unit.
MIN_RADIUS = 1.0
MAX_RADIUS = 500.0
PAGE_SIZE = 20
MAX_COMPARE = 4
# The longest search words a query takes (``SearchQuery`` refuses more) and the longest place.
MAX_TEXT = 500
MAX_NEAR = 200
SORT_LABELS: dict[str, str] = {
    SortOrder.RELEVANCE.value: "Best match",
    SortOrder.DISTANCE.value: "Distance",
    SortOrder.RATING.value: "Combined rating",
    SortOrder.REVIEWS.value: "Number of reviews",
}
# What a filter's display label adds to a term's name: its count among the results, "(9)".
_COUNT_SUFFIX = re.compile(r"\s*\((?:\d[\d,]*)\)\s*$")
_LAST_SPACE = re.compile(r"\s(?=\S*$)")


class ParamSource(Protocol):
    """Where query parameters are read from (``st.query_params`` is one)."""

    def get_all(self, key: str) -> list[str]:
        """Every value of a repeated parameter, in order; [] when absent."""
        ...


@dataclass(frozen=True)
class SearchState:
    """A client's search: where, how far, what for, in which order, which page."""

    near: str = ""
    radius: float = DEFAULT_RADIUS
    unit: DistanceUnit = "mi"
    text: str = ""
    modalities: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    verified_only: bool = False
    min_rating: float | None = None
    min_reviews: int | None = None
    sort: str = SortOrder.RELEVANCE.value
    cursor: str | None = None
    page: int = 1
    compare: tuple[str, ...] = field(default=(), compare=False)

    @property
    def radius_km(self) -> float:
        """The radius in kilometres."""
        return to_km(self.radius, self.unit)

    def first_page(self) -> SearchState:
        """The same search from its first page (any change of the search starts there)."""
        return replace(self, cursor=None, page=1)

    def to_params(self) -> dict[str, str | list[str]]:  # noqa: C901 - one branch per URL parameter, mirroring read_state
        """Query parameters for this state; defaults are left out."""
        params: dict[str, str | list[str]] = {}
        if self.near:
            params["near"] = self.near
            if self.radius != DEFAULT_RADIUS:
                params["radius"] = _number(self.radius)
        if self.unit != "mi":
            params["unit"] = self.unit
        if self.text:
            params["q"] = self.text
        for key, values in (
            ("modality", self.modalities),
            ("condition", self.conditions),
            ("credential", self.credentials),
            ("compare", self.compare),
        ):
            if values:
                params[key] = list(values)
        if self.verified_only:
            params["verified"] = "1"
        if self.min_rating is not None:
            params["min_rating"] = _number(self.min_rating)
        if self.min_reviews is not None:
            params["min_reviews"] = str(self.min_reviews)
        if self.sort != SortOrder.RELEVANCE.value:
            params["sort"] = self.sort
        if self.cursor:
            params["cursor"] = self.cursor
            params["page"] = str(self.page)
        return params

    def to_query(self, point: GeoPoint | None, taxonomy: Taxonomy) -> SearchQuery:
        """The backend query for this state, with ``point`` the geocoded ``near``.

        Without a point there is no radius, and a distance sort falls back to best match.
        Raises QueryError for values the query model refuses (the caller reports them).
        """
        sort = self.sort
        if point is None and sort == SortOrder.DISTANCE.value:
            sort = SortOrder.RELEVANCE.value
        return SearchQuery(
            text=self.text,
            near=point,
            radius_km=self.radius_km if point is not None else None,
            modalities=self.modalities,
            conditions=self.conditions,
            credentials=self.credentials,
            verified_only=self.verified_only,
            min_rating=self.min_rating,
            min_reviews=self.min_reviews,
            sort=sort,
            page_size=PAGE_SIZE,
            cursor=self.cursor,
            taxonomy=taxonomy,
        )


def read_state(params: ParamSource, taxonomy: Taxonomy) -> tuple[SearchState, list[str]]:  # noqa: C901 - one branch per URL parameter, mirroring SearchState.to_params
    """Read a search from query parameters.

    Returns the state and a list of problems: each value that could not be used, in words for
    the client. Such a value is left out of the state rather than failing the page.
    """
    problems: list[str] = []

    def last(key: str) -> str:
        values = params.get_all(key)
        return values[-1].strip() if values else ""

    radius = DEFAULT_RADIUS
    if raw := last("radius"):
        value = _float(raw)
        if value is None or not MIN_RADIUS <= value <= MAX_RADIUS:
            problems.append(
                f"The radius {raw!r} is not a number from {MIN_RADIUS:.0f} to {MAX_RADIUS:.0f}."
            )
        else:
            radius = value
    unit: DistanceUnit = "km" if last("unit").lower() == "km" else "mi"
    min_rating = None
    if raw := last("min_rating"):
        value = _float(raw)
        if value is None or not 0 <= value <= 5:
            problems.append(f"The minimum rating {raw!r} is not a number from 0 to 5.")
        elif value > 0:
            min_rating = value
    min_reviews = None
    if raw := last("min_reviews"):
        if not raw.isdigit():
            problems.append(f"The minimum number of reviews {raw!r} is not a whole number.")
        elif int(raw) > 0:
            min_reviews = int(raw)
    sort = last("sort") or SortOrder.RELEVANCE.value
    if sort not in SORT_LABELS:
        problems.append(f"Unknown sort {sort!r}; showing the best matches first.")
        sort = SortOrder.RELEVANCE.value
    page_raw = last("page")
    page = int(page_raw) if page_raw.isdigit() and int(page_raw) > 0 else 1
    cursor = last("cursor") or None
    near, text = last("near"), last("q")
    for what, words, limit in (("place", near, MAX_NEAR), ("search words", text, MAX_TEXT)):
        if len(words) > limit:
            problems.append(too_long(what, limit))
    state = SearchState(
        near=clip_words(near, MAX_NEAR),
        radius=radius,
        unit=unit,
        text=clip_words(text, MAX_TEXT),
        modalities=_terms(params.get_all("modality"), "modality", taxonomy, problems),
        conditions=_terms(params.get_all("condition"), "condition", taxonomy, problems),
        credentials=_terms(params.get_all("credential"), "credential", taxonomy, problems),
        verified_only=last("verified").lower() in ("1", "true", "yes", "on"),
        min_rating=min_rating,
        min_reviews=min_reviews,
        sort=sort,
        cursor=cursor,
        page=page if cursor else 1,
        compare=tuple(dict.fromkeys(v for v in params.get_all("compare") if v))[:MAX_COMPARE],
    )
    return state, problems


def clip_words(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else as many of its whole words as fit.

    The search box and the URL both hold what this gives, so a search reads back the same
    after a reload: a cut in the middle of a word would search for a word nobody typed. Only
    a single word longer than ``limit`` is cut inside itself (it has no end to cut at).
    """
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit].rstrip()
    space = _LAST_SPACE.search(text[:limit])
    return text[: space.start()].rstrip() if space else text[:limit]


def too_long(what: str, limit: int) -> str:
    """The notice for a place or search words cut by :func:`clip_words`."""
    return f"The {what} had more than {limit} characters: cut after the last whole word that fits."


def option_id(value: object, vocabulary: Vocabulary, taxonomy: Taxonomy) -> str | None:
    """The taxonomy id a filter widget's value stands for, or None if it stands for none.

    A filter's options are ids and only their display labels carry counts, but a browser holds
    a multiselect's choice by the label it showed ("Neuromuscular therapy (9)"). When the count
    has changed since, Streamlit hands that stale label back as the value; it is mapped back
    to its id here (count taken off, then looked up like any spelling).
    """
    text = str(value).strip()
    if text in taxonomy.terms[vocabulary]:
        return text
    return taxonomy.lookup(vocabulary, text) or taxonomy.lookup(
        vocabulary, _COUNT_SUFFIX.sub("", text)
    )


def option_ids(values: object, vocabulary: Vocabulary, taxonomy: Taxonomy) -> list[str]:
    """A filter widget's values as taxonomy ids, in order, without repeats; values that stand
    for no term are left out."""
    ids: list[str] = []
    for value in values if isinstance(values, list | tuple) else ():
        term_id = option_id(value, vocabulary, taxonomy)
        if term_id is not None and term_id not in ids:
            ids.append(term_id)
    return ids


def _terms(
    words: list[str], vocabulary: Vocabulary, taxonomy: Taxonomy, problems: list[str]
) -> tuple[str, ...]:
    ids: list[str] = []
    for word in words:
        term_id = taxonomy.lookup(vocabulary, word)
        if term_id is None:
            problems.append(f"Unknown {vocabulary} {word!r} was left out.")
        elif term_id not in ids:
            ids.append(term_id)
    return tuple(ids)


def _float(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number(value: float) -> str:
    """A number for a URL: "25", not "25.0"."""
    return str(int(value)) if float(value).is_integer() else str(value)
