"""The search query model shared by every backend, and its validation.

A ``SearchQuery`` is built from a user's words (from the CLI, the dashboard or a URL) and checked
once, here: a bad value raises ``QueryError`` naming the field, before any backend sees it.
Modality, condition and credential words are resolved to the taxonomy's canonical ids, so a
backend only ever filters on ids.

It also states the two ranking rules both backends implement, so they order results alike:

- **Text relevance** (a query with free text, sorted by relevance): each backend's own text score
  (bm25 in SQLite, Lucene's BM25 in Elasticsearch), reported on one 0-1 scale (see
  ``indexer.search.results``). Words naming a taxonomy term filter by that term and also score;
  the other words are required.
- **Best match near a place** (a point, no free text, sorted by relevance)::

      best_match = (combined rating / 5) * 0.5 ** ((distance / 10 mi) ** 2)

  The rating part is the combined rating on 0-1; an unrated profile counts as the rating prior
  (4.0 stars, what ``indexer.ratings`` starts every therapist with). The distance part is a
  gaussian decay from the nearest location: 1 at the point, half weight at 10 miles, a quarter at
  about 14 miles, 1/16 at 20 miles. A profile without a location scores 0. Ties are broken by
  combined rating, review count, then id. See ``best_match_score``.

  Without a point and without text, relevance is the combined rating (then review count, id).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from indexer.geo import DistanceUnit, GeoPoint, from_km, to_km
from indexer.normalize.states import state_code
from indexer.ratings import PRIOR_MEAN
from indexer.taxonomy import FIELD_VOCABULARY, Taxonomy, Vocabulary, fold, load_taxonomy

MAX_PAGE_SIZE = 100
MAX_RADIUS_KM = 20_000.0  # half the earth's circumference: anything larger means "everywhere"
FACETS = ("modality", "condition", "credential", "state", "verified")
FLAG_KINDS = ("credential", "data")  # what the indexer flags: unconfirmed claims, unusable values
_TEXT_VOCABULARIES: tuple[Vocabulary, ...] = ("modality", "condition")  # what free text may name
DEFAULT_RADIUS_MI = 25.0  # how far a search around a place looks unless told otherwise

# "Best match" near a place (see the module docstring). Elasticsearch evaluates it with a
# function_score query (a `gauss` decay on the location times a `field_value_factor` on the
# rating); the embedded backend calls ``best_match_score``.
BEST_MATCH_HALF_WEIGHT_KM = to_km(10, "mi")  # the distance at which the weight halves
BEST_MATCH_DECAY = 0.5  # the weight at BEST_MATCH_HALF_WEIGHT_KM
BEST_MATCH_RATING_FACTOR = 0.2  # combined rating (0-5) to 0-1
BEST_MATCH_UNRATED = PRIOR_MEAN  # an unrated profile counts as the prior every rating starts at
# The gaussian's variance in square metres, derived from scale and decay as Elasticsearch does;
# negative, so that exp() decays.
BEST_MATCH_VARIANCE_M2 = (
    0.5 * (BEST_MATCH_HALF_WEIGHT_KM * 1000.0) ** 2 / math.log(BEST_MATCH_DECAY)
)


class QueryError(ValueError):
    """A query value that cannot be searched; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SortOrder(StrEnum):
    """How results are ordered. Ties are always broken by profile id, so order is total."""

    RELEVANCE = "relevance"  # text score; without text, best match near a point, else RATING
    DISTANCE = "distance"
    RATING = "rating"  # combined rating, then review count
    REVIEWS = "reviews"  # review count, then combined rating


class SortKey(StrEnum):
    """One key of a result order (see ``SearchQuery.sort_keys``), each best first."""

    TEXT_SCORE = "text_score"  # text relevance, highest first
    BEST_MATCH = "best_match"  # the best-match blend near a place, highest first
    RATING = "rating"  # combined rating (unrated last), highest first
    REVIEWS = "reviews"  # review count, most first
    DISTANCE = "distance"  # to the nearest location, nearest first
    ID = "id"  # the profile id, ascending: breaks every tie


# A number (its sign read, so that "-5mi" is refused as below 0, not as gibberish) and a unit
# in any of the ways people write miles and kilometres.
_RADIUS = re.compile(
    r"^\s*(?P<value>[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))\s*"
    r"(?:(?P<unit>km|kms|kilomet(?:er|re)s?|mi|mile|miles)\.?)?\s*$",
    re.I,
)


def parse_radius(text: str, default_unit: DistanceUnit = "mi") -> float:
    """Parse "10mi", "15 km" or "10" (in ``default_unit``) into kilometres."""
    return to_km(*parse_distance(text, default_unit))


def parse_distance(text: str, default_unit: DistanceUnit = "mi") -> tuple[float, DistanceUnit]:
    """Read "10mi", "15 km" or "10" (in ``default_unit``) as a value and the unit it is in.

    Raises QueryError naming ``text`` as typed when it is not a distance, or is one no search
    can use (0 or less, or more than ``MAX_RADIUS_KM``)."""
    match = _RADIUS.match(text)
    if not match:
        raise QueryError(
            "radius",
            f"{text!r} is not a distance: use a number with mi or km, such as '10mi', '5 mi' "
            f"or '15km' (a number alone is in {default_unit})",
        )
    unit: DistanceUnit = "mi" if (match["unit"] or default_unit).lower().startswith("mi") else "km"
    value = float(match["value"])
    _check_radius(to_km(value, unit), text)
    return value, unit


@dataclass(frozen=True)
class SearchQuery:
    """What a client asks for. Construct it with the user's words; it validates itself.

    ``modalities``, ``conditions`` and ``credentials`` accept any spelling the taxonomy knows and
    hold canonical ids afterwards. Every filter must hold for a profile to match (they are ANDed);
    within ``modalities`` and ``conditions``, every listed id is required too.
    """

    text: str = ""
    near: GeoPoint | tuple[float, float] | None = None
    radius_km: float | None = None
    modalities: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    verified_only: bool = False
    state: str | None = None
    min_rating: float | None = None
    min_reviews: int | None = None
    # Only profiles carrying any of these flag kinds (admin review); empty means no such filter.
    flagged: tuple[str, ...] = ()
    sort: SortOrder | str = SortOrder.RELEVANCE
    page_size: int = 20
    cursor: str | None = None
    taxonomy: Taxonomy = field(default_factory=load_taxonomy, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "text", (self.text or "").strip())
        if len(self.text) > 500:
            raise QueryError("text", "is longer than 500 characters")
        set_(self, "near", _point(self.near))
        set_(self, "radius_km", _radius(self.radius_km, self.near))
        for name, vocabulary in FIELD_VOCABULARY.items():
            set_(self, name, self._resolve_all(name, vocabulary, getattr(self, name)))
        set_(self, "state", _state(self.state))
        if self.min_rating is not None and not (
            isinstance(self.min_rating, int | float) and 0 <= self.min_rating <= 5
        ):
            raise QueryError("min_rating", f"must be between 0 and 5, got {self.min_rating!r}")
        if self.min_reviews is not None and not (
            isinstance(self.min_reviews, int) and self.min_reviews >= 0
        ):
            raise QueryError(
                "min_reviews", f"must be a whole number >= 0, got {self.min_reviews!r}"
            )
        set_(self, "flagged", _flag_kinds(self.flagged))
        set_(self, "sort", _sort_order(self.sort, self.near))
        if not (isinstance(self.page_size, int) and 1 <= self.page_size <= MAX_PAGE_SIZE):
            raise QueryError(
                "page_size", f"must be between 1 and {MAX_PAGE_SIZE}, got {self.page_size!r}"
            )
        if self.cursor is not None:
            decode_cursor(self.cursor, self.fingerprint())

    def _resolve_all(self, name: str, vocabulary: Vocabulary, words: Any) -> tuple[str, ...]:
        if isinstance(words, str):
            words = (words,)
        resolved: list[str] = []
        for word in words or ():
            term_id = self.taxonomy.lookup(vocabulary, str(word))
            if term_id is None:
                raise QueryError(name, f"unknown {vocabulary} {word!r}")
            if term_id not in resolved:
                resolved.append(term_id)
        return tuple(resolved)

    @property
    def point(self) -> GeoPoint | None:
        """The validated search point (``near`` after construction)."""
        return self.near if isinstance(self.near, GeoPoint) else None

    def plan(self) -> SearchPlan:
        """Split free text into vocabulary terms and remaining words, merged with the filters.

        A term found in the text filters (its id joins the modality or condition filters) and
        scores: the words it was typed with and its canonical label (a phrase) are optional
        text, so "NMT" also ranks the profiles that spell out "neuromuscular therapy" first.
        """
        found, rest = self.taxonomy.find_terms(self.text)
        words = rest.split()
        labels = [
            fold(self.taxonomy.label(vocabulary, term_id))
            for vocabulary in _TEXT_VOCABULARIES
            for term_id in found[vocabulary]
        ]
        typed = _without(fold(self.text).split(), words)
        return SearchPlan(
            words=tuple(words),
            term_words=_unique([*typed, *(label for label in labels if " " not in label)]),
            term_phrases=_unique(label for label in labels if " " in label),
            modalities=_merge(self.modalities, found["modality"]),
            conditions=_merge(self.conditions, found["condition"]),
        )

    @property
    def ranked_by_best_match(self) -> bool:
        """Whether results are ranked by the best-match blend: by relevance, near a point,
        without free text."""
        return self.sort_keys()[0] is SortKey.BEST_MATCH

    def identity(self) -> tuple[Any, ...]:
        """Everything that makes two searches different, but the cursor (which page of it).

        The one definition of a search's identity: cursors are bound to its digest
        (``fingerprint``), caches key on it (``cache_key``)."""
        return (
            self.text,
            self.near,
            self.radius_km,
            self.modalities,
            self.conditions,
            self.credentials,
            self.verified_only,
            self.state,
            self.min_rating,
            self.min_reviews,
            self.flagged,
            str(self.sort),
            self.page_size,
        )

    def fingerprint(self) -> str:
        """A short digest of ``identity``: a cursor only continues its own search."""
        # The repr of a list, not of the tuple: cursors already handed out carry this digest.
        digest = hashlib.sha1(repr(list(self.identity())).encode()).digest()[:6]
        return base64.urlsafe_b64encode(digest).decode()

    def cache_key(self) -> tuple[Any, ...]:
        """A hashable key naming this page of this search: ``identity`` and the cursor."""
        return (*self.identity(), self.cursor)

    def sort_keys(self, plan: SearchPlan | None = None) -> tuple[SortKey, ...]:
        """The keys results are ordered by, most significant first; the profile id last, so the
        order is total and a cursor (the last hit's values of these keys) continues it exactly.

        ``plan``: this query's plan, when the caller has it already."""
        has_text = (plan or self.plan()).has_text
        if self.sort is SortOrder.RELEVANCE and has_text:
            return (SortKey.TEXT_SCORE, SortKey.ID)
        if self.sort is SortOrder.RELEVANCE and self.point is not None:
            return (SortKey.BEST_MATCH, SortKey.RATING, SortKey.REVIEWS, SortKey.ID)
        if self.sort is SortOrder.DISTANCE:
            return (SortKey.DISTANCE, SortKey.ID)
        if self.sort is SortOrder.REVIEWS:
            return (SortKey.REVIEWS, SortKey.RATING, SortKey.ID)
        return (SortKey.RATING, SortKey.REVIEWS, SortKey.ID)


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """The parts of a query every backend translates: free text and required ids.

    ``words`` must all appear in a matching profile's text; ``term_words`` and ``term_phrases``
    (single words, and multi-word labels to match as phrases) only add to the text score: the
    terms they name already filter through ``modalities`` / ``conditions``.
    """

    words: tuple[str, ...]
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]
    term_words: tuple[str, ...] = ()
    term_phrases: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """Whether there is free text to score (results then carry a text score)."""
        return bool(self.words or self.term_words or self.term_phrases)

    @property
    def optional_text(self) -> tuple[str, ...]:
        """The words and phrases that score without being required."""
        return (*self.term_words, *self.term_phrases)


def _merge(first: tuple[str, ...], second: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _without(words: list[str], taken: list[str]) -> list[str]:
    """``words`` less one occurrence of each word in ``taken``, in order.

    The words of the text that the taxonomy recognised are those ``find_terms`` did not leave
    over; a word both leftover and part of a term keeps its other occurrence.
    """
    left = Counter(taken)
    kept: list[str] = []
    for word in words:
        if left[word] > 0:
            left[word] -= 1
        else:
            kept.append(word)
    return kept


def best_match_score(rating: float | None, distance_km: float | None) -> float:
    """The best-match blend of combined rating and distance (see the module docstring).

    Computed the way Elasticsearch computes its function_score, so both backends round alike:
    the rating is read as the 32-bit float the index stores and multiplied by the 32-bit factor,
    the gaussian decay is evaluated in double precision on metres, and the product is rounded to
    a 32-bit float score (far beyond the decay's reach, some 120 miles, it is 0.0 on both).
    Elasticsearch measures from its indexed, centimetre-rounded coordinates, so the two may still
    differ in the last bit: only hits that tie to about a millionth can swap places.
    """
    if distance_km is None:
        return 0.0  # no location, no place in a ranking by nearness
    decay = math.exp(0.5 * (distance_km * 1000.0) ** 2 / BEST_MATCH_VARIANCE_M2)
    return float32(decay * best_match_rating_part(rating))


def best_match_rating_part(rating: float | None) -> float:
    """The rating factor of ``best_match_score``: the 32-bit rating (or the prior) times the
    32-bit factor, in double precision."""
    value = BEST_MATCH_UNRATED if rating is None else float32(rating)
    return value * float32(BEST_MATCH_RATING_FACTOR)


def float32(value: float) -> float:
    """Round to the nearest 32-bit float (Elasticsearch scores and float fields are 32-bit)."""
    rounded: float = struct.unpack("f", struct.pack("f", value))[0]
    return rounded


def _radius(radius_km: Any, near: object) -> float | None:
    if radius_km is None:
        return None
    if not isinstance(radius_km, int | float):
        raise QueryError("radius", f"must be greater than 0, got {radius_km!r}")
    _check_radius(radius_km, radius_km)
    if near is None:
        raise QueryError("radius", "needs a point to measure from (near)")
    return float(radius_km)


def _check_radius(radius_km: float, given: object) -> None:
    """Refuse a radius no search can use, naming it as it was ``given`` (text or a number)."""
    if not radius_km > 0:  # also NaN
        raise QueryError("radius", f"must be greater than 0, got {given!r}")
    if radius_km > MAX_RADIUS_KM:
        most = f"{MAX_RADIUS_KM:,.0f} km ({from_km(MAX_RADIUS_KM, 'mi'):,.0f} mi)"
        raise QueryError("radius", f"must be at most {most}, got {given!r}")


def _state(state: str | None) -> str | None:
    if state is None:
        return None
    code = state.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or state_code(code) != code:
        raise QueryError("state", f"{state!r} is not a US state code (TX, FL...)")
    return code


def _flag_kinds(flagged: Any) -> tuple[str, ...]:
    kinds = (flagged,) if isinstance(flagged, str) else tuple(flagged or ())
    for kind in kinds:
        if kind not in FLAG_KINDS:
            raise QueryError(
                "flagged", f"unknown flag kind {kind!r}; use {' or '.join(FLAG_KINDS)}"
            )
    return tuple(sorted(set(kinds)))


def _sort_order(sort: Any, near: object) -> SortOrder:
    try:
        order = SortOrder(sort)
    except ValueError:
        options = ", ".join(s.value for s in SortOrder)
        raise QueryError("sort", f"unknown sort {sort!r}; use one of {options}") from None
    if order is SortOrder.DISTANCE and near is None:
        raise QueryError("sort", "sorting by distance needs a point (near)")
    return order


def _point(value: Any) -> GeoPoint | None:
    if value is None or isinstance(value, GeoPoint):
        return value
    try:
        lat, lon = value
        return GeoPoint(float(lat), float(lon))
    except (TypeError, ValueError) as exc:
        raise QueryError(
            "near", str(exc) if "outside" in str(exc) else f"bad point {value!r}"
        ) from None


def encode_cursor(fingerprint: str, sort_values: list[Any]) -> str:
    """Return an opaque cursor continuing after a hit with these sort values."""
    payload = json.dumps([fingerprint, sort_values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    """Return the sort values a cursor holds; QueryError if it is corrupt or from another search."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        owner, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise QueryError("cursor", "is not a cursor this service issued") from None
    if owner != fingerprint or not isinstance(values, list):
        raise QueryError("cursor", "belongs to a different search; start again from page one")
    return values
