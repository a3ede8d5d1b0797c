"""Properties of search, checked on random queries against an index of random profiles.

The profiles (``PROFILES``) are generated once from a fixed seed: therapists clustered around
eight US metro areas, some with a second location or none, ratings on the 0.1 grid of the
combined rating (or none), a few modalities each. Hypothesis draws the queries: a point in the
continental US (often near a metro), a radius of 1-100 miles, a sort, a modality filter, a
minimum rating, a taxonomy term and a surname as free text, a page size.

Every answer is checked against a brute-force pass over the profiles in Python: the total, the
matched ids, each hit's distance (the great-circle distance to its nearest location), the radius,
the order of every sort across pages, and text scores on [0, 1]. Then both backends must return
the same ids in the same order. Two hits whose sort keys differ only in floating-point rounding
(a distance or a best-match score equal to 1 part in a million) may come in either order:
Elasticsearch measures from its indexed, centimetre-rounded coordinates and keeps 32-bit scores.
Text relevance orders are compared as sets, since each engine has its own BM25.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.geo import KM_PER_MILE, distance_km
from indexer.profile import Profile
from indexer.search import Hit, SearchQuery, SortOrder
from indexer.search.query import best_match_score
from indexer.taxonomy import fold, load_taxonomy

SEED = 20_251_206
METROS = {  # name, state: centre
    ("Austin", "TX"): (30.27, -97.74),
    ("Dallas", "TX"): (32.78, -96.80),
    ("Denver", "CO"): (39.74, -104.99),
    ("Seattle", "WA"): (47.61, -122.33),
    ("Chicago", "IL"): (41.88, -87.63),
    ("Brooklyn", "NY"): (40.68, -73.94),
    ("Atlanta", "GA"): (33.75, -84.39),
    ("Phoenix", "AZ"): (33.45, -112.07),
}
CONTINENTAL_US = ((24.5, 49.4), (-124.8, -66.9))  # latitude and longitude ranges
MODALITIES = (
    "neuromuscular_therapy",
    "trigger_point_therapy",
    "deep_tissue",
    "sports_massage",
    "swedish_massage",
    "myofascial_release",
    "reflexology",
    "craniosacral",
)
# Free text: a technique (it filters and scores) and a surname (a required word). Surnames
# appear in names only, so whether a profile holds one is plain to see.
TERMS = ("trigger point", "NMT", "deep tissue", "sports massage")
SURNAMES = ("Okonkwo", "Lindqvist", "Tanaka", "Moreau", "Kowalski", "Haddad", "Brennan")
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo")
PRACTICES = ("Harbor Studio", "Cedar Wellness", "Summit Clinic", "Riverside Rooms", None)
BIOS = (
    "Trigger point release and focused work.",
    "Deep tissue work for runners and climbers.",
    "Neuromuscular therapy for chronic pain.",
    "Sports massage before and after races.",
    "Quiet, unhurried appointments.",
    None,
)
RATINGS = [round(3.0 + i / 10, 1) for i in range(21)]  # 3.0 .. 5.0

# Elasticsearch answers a few dozen searches per example; 40 examples keep the file well under a
# minute on two cores while still covering every sort, filter and paging path.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written into the working tree
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _profile(rng: random.Random, number: int) -> dict[str, Any]:
    """One random therapist, in the profile form the indexer serves."""
    count = rng.choices([0, 1, 2], weights=[1, 7, 2])[0]
    locations = []
    for _ in range(count):
        city, state = rng.choice(list(METROS))
        lat, lon = METROS[city, state]
        # Spread over a metro area: a few tens of kilometres.
        lat += rng.gauss(0, 0.35)
        lon += rng.gauss(0, 0.35) / math.cos(math.radians(lat))
        locations.append(
            {"lat": lat, "lon": lon, "city": city, "state": state, "precision": "rooftop"}
        )
    rating = None if rng.random() < 0.15 else rng.choice(RATINGS)
    return {
        "id": f"r{number:03d}",
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
        "practice_name": rng.choice(PRACTICES),
        "bio": rng.choice(BIOS),
        "locations": locations,
        "modalities": rng.sample(MODALITIES, rng.randint(1, 3)),
        "conditions": [],
        "credentials": [],
        "rating": {
            "combined": rating,
            "review_count": 0 if rating is None else rng.randint(1, 300),
        },
        "active": rng.random() > 0.05,
    }


PROFILES = [_profile(random.Random(SEED + n), n) for n in range(500)]
STORED = [Profile.from_dict(p) for p in PROFILES]  # what the indexer hands a backend


# -- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One drawn query, in the words a client would use."""

    lat: float
    lon: float
    radius_mi: float
    sort: SortOrder
    modality: str | None
    min_rating: float | None
    term: str | None
    surname: str | None
    page_size: int

    @property
    def text(self) -> str:
        return " ".join(w for w in (self.term, self.surname) if w)

    def query(self, cursor: str | None = None, page_size: int | None = None) -> SearchQuery:
        return SearchQuery(
            text=self.text,
            near=(self.lat, self.lon),
            radius_km=self.radius_mi * KM_PER_MILE,
            modalities=(self.modality,) if self.modality else (),
            min_rating=self.min_rating,
            sort=self.sort,
            page_size=page_size or self.page_size,
            cursor=cursor,
        )


def sometimes(draw: st.DrawFn, strategy: st.SearchStrategy[Any], one_in: int) -> Any:
    """A value of ``strategy`` about once in ``one_in`` draws, else None: filters are drawn
    rarely enough that most queries still find something."""
    return draw(strategy) if draw(st.integers(1, one_in)) == 1 else None


@st.composite
def points(draw: st.DrawFn) -> tuple[float, float]:
    """A point in the continental US: anywhere, or (mostly) within reach of a metro area."""
    if draw(st.integers(1, 8)) == 1:
        (lat_lo, lat_hi), (lon_lo, lon_hi) = CONTINENTAL_US
        return draw(st.floats(lat_lo, lat_hi)), draw(st.floats(lon_lo, lon_hi))
    lat, lon = METROS[draw(st.sampled_from(list(METROS)))]
    return lat + draw(st.floats(-0.3, 0.3)), lon + draw(st.floats(-0.3, 0.3))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    lat, lon = draw(points())
    return Case(
        lat=lat,
        lon=lon,
        # Hypothesis favours the bounds (1 mi finds little); half the draws are 10 mi or more.
        radius_mi=draw(st.floats(1.0, 100.0) | st.floats(10.0, 100.0)),
        sort=draw(st.sampled_from(list(SortOrder))),
        modality=sometimes(draw, st.sampled_from(MODALITIES), 4),
        # On the grid of stored ratings: Elasticsearch keeps ratings as 32-bit floats, so a
        # bound a rounding error away from a rating is not a case worth comparing.
        min_rating=sometimes(draw, st.sampled_from(RATINGS[:17]), 3),
        term=sometimes(draw, st.sampled_from(TERMS), 3),
        surname=sometimes(draw, st.sampled_from(SURNAMES), 5),
        page_size=draw(st.integers(3, 10)),
    )


# -- brute force ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a profile that should match looks like to the sort orders."""

    id: str
    distance: float
    rating: float | None
    reviews: int


def brute_force(case: Case) -> dict[str, Expected]:
    """Every profile the case should find, straight from the profiles."""
    taxonomy = load_taxonomy()
    required = [case.modality] if case.modality else []
    if case.term:
        required.append(taxonomy.resolve("modality", case.term))
    found = {}
    for profile in PROFILES:
        nearest = min(
            (
                distance_km(case.lat, case.lon, loc["lat"], loc["lon"])
                for loc in profile["locations"]
            ),
            default=None,
        )
        rating = profile["rating"]["combined"]
        offered = set(taxonomy.expand_modalities(profile["modalities"]))
        if (
            profile["active"]
            and nearest is not None
            and nearest <= case.radius_mi * KM_PER_MILE
            and all(m in offered for m in required)
            and (case.min_rating is None or (rating is not None and rating >= case.min_rating))
            and (case.surname is None or fold(case.surname) in fold(profile["name"]).split())
        ):
            reviews = profile["rating"]["review_count"]
            found[profile["id"]] = Expected(profile["id"], nearest, rating, reviews)
    return found


def order_key(case: Case) -> Callable[[Expected], tuple[float, ...]] | None:
    """The sort key of the case's order over expected hits (None: text relevance)."""

    def rating_sort(e: Expected) -> float:
        return -1.0 if e.rating is None else e.rating

    if case.sort is SortOrder.RELEVANCE and case.text:
        return None
    if case.sort is SortOrder.RELEVANCE:
        return lambda e: (-best_match_score(e.rating, e.distance), -rating_sort(e), -e.reviews)
    if case.sort is SortOrder.DISTANCE:
        return lambda e: (e.distance,)
    if case.sort is SortOrder.REVIEWS:
        return lambda e: (-e.reviews, -rating_sort(e))
    return lambda e: (-rating_sort(e), -e.reviews)


def assert_order(found: list[str], expected: list[Expected], case: Case) -> None:
    """``found`` is ``expected`` in the case's order, but for swaps of floating-point near-ties."""
    key = order_key(case)
    assert sorted(found) == sorted(e.id for e in expected)
    if key is None:
        return
    by_id = {e.id: e for e in expected}
    wanted = [e.id for e in sorted(expected, key=lambda e: (*key(e), e.id))]
    for got, want in zip(found, wanted, strict=True):
        if got != want:
            # Only the primary key may disagree, and only by rounding.
            assert key(by_id[got])[0] == pytest.approx(key(by_id[want])[0], rel=1e-6, abs=1e-9), (
                f"{got} where {want} was expected"
            )


def every_page(backend: Any, case: Case) -> tuple[list[Hit], set[int]]:
    """Follow next_cursor from the first page to the last; return the hits and the totals seen."""
    hits: list[Hit] = []
    totals: set[int] = set()
    cursor = None
    for _ in range(len(PROFILES) // case.page_size + 2):
        page = backend.search(case.query(cursor))
        hits += page.hits
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            return hits, totals
    raise AssertionError("paging did not end")


# -- the properties -------------------------------------------------------------------------


@pytest.fixture
def indexed(backend: Any) -> Any:
    """The backend under test, holding ``PROFILES``."""
    backend.rebuild(STORED)
    return backend


@PROPERTY_SETTINGS
@given(case=cases())
def test_search_agrees_with_brute_force(indexed: Any, case: Case) -> None:
    expected = brute_force(case)
    hits, totals = every_page(indexed, case)
    found = [h.id for h in hits]

    assert totals == {len(expected)}
    assert len(found) == len(set(found)), "a hit came twice across pages"
    assert_order(found, list(expected.values()), case)
    radius_km = case.radius_mi * KM_PER_MILE
    for hit in hits:
        assert hit.distance_km is not None
        assert hit.distance_km == pytest.approx(expected[hit.id].distance, abs=1e-3)
        assert hit.distance_km <= radius_km
    if case.sort is SortOrder.DISTANCE:
        distances = [h.distance_km for h in hits]
        assert distances == sorted(distances)
    scores = [h.score for h in hits]
    if case.text:
        assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
        if case.sort is SortOrder.RELEVANCE:
            assert scores == sorted(scores, reverse=True)
    else:
        assert scores == [None] * len(hits)


@pytest.fixture
def both_indexed(sqlite_backend: Any, elasticsearch_backend: Any) -> tuple[Any, Any]:
    """Both backends, holding the same ``PROFILES``."""
    for backend in (sqlite_backend, elasticsearch_backend):
        backend.rebuild(STORED)
    return sqlite_backend, elasticsearch_backend


@PROPERTY_SETTINGS
@given(case=cases())
def test_both_backends_return_the_same_hits_in_the_same_order(
    both_indexed: tuple[Any, Any], case: Case
) -> None:
    (embedded, _), (elastic, _) = (every_page(b, case) for b in both_indexed)
    embedded_ids, elastic_ids = [h.id for h in embedded], [h.id for h in elastic]
    assert sorted(embedded_ids) == sorted(elastic_ids)
    key = order_key(case)
    if key is None:
        return  # text relevance: each engine's own BM25
    expected = brute_force(case)
    for one, other in zip(embedded_ids, elastic_ids, strict=True):
        if one != other:
            assert key(expected[one])[0] == pytest.approx(
                key(expected[other])[0], rel=1e-6, abs=1e-9
            ), f"{embedded_ids} != {elastic_ids}"
    for one, other in zip(embedded, elastic, strict=True):
        if one.id == other.id:
            assert one.distance_km == pytest.approx(other.distance_km, abs=1e-9)
