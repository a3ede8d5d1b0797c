"""The embedded backend's searches, checked against a brute-force reading of the same profiles.

Hypothesis draws small populations (locations that often coincide, around two Texas metros and
far away; a few modalities, conditions and credentials with the issuers' answers; ratings and
review counts on a coarse grid, so sort keys tie; flags; inactive profiles) and queries (a point
or none, a radius or none, each filter, a surname or a technique or condition as text, every
sort, small pages). Each answer must equal a pass over the profiles in Python: the total, every
page through the cursor, the order of every sort, the distances and the facet counts, exactly.
The backend measures distances and blends ratings in the very operations of ``distance_km`` and
``best_match_score``, so nothing is compared approximately; only text relevance, bm25's own
order, is compared as a set and by the order of its scores.

A random sequence of upserts and deletes (facet bitmaps updated value by value, rids reused)
must answer as the brute force over what is left; the blend computed in SQL must be
``best_match_score`` to the bit at any distance. EXPLAIN QUERY PLAN of every statement of a
search shows what SQLite does: the facet table is never read, and a radius search reads one
latitude range of ``places``. An index in the first storage layout is upgraded in place.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.geo import distance_km
from indexer.profile import (
    CredentialCheck,
    DataFlag,
    Location,
    Profile,
    Rating,
    Verification,
)
from indexer.search import BackendError, SearchQuery, SearchResult, SortOrder, sqlite_backend
from indexer.search.document import to_search_document
from indexer.search.query import FACETS, best_match_rating_part, best_match_score
from indexer.search.results import order_facet
from indexer.search.sqlite_backend import _MATCHED, SCHEMA_VERSION, SqliteBackend
from indexer.taxonomy import fold, load_taxonomy

TAXONOMY = load_taxonomy()
CENTRES = {  # name: (lat, lon, state)
    "austin": (30.27, -97.74, "TX"),
    "round rock": (30.51, -97.68, "TX"),
    "dallas": (32.78, -96.80, "TX"),
    "denver": (39.74, -104.99, "CO"),
}
OFFSETS = (0.0, 0.0, 0.004, -0.03, 0.08, 0.2)  # degrees: few, so that locations coincide
SURNAMES = ("Okafor", "Lindqvist", "Tanaka", "Moreau")
MODALITIES = (
    "neuromuscular_therapy",  # covers trigger point therapy, which covers ischemic compression
    "trigger_point_therapy",
    "deep_tissue",
    "pnf_stretching",
    "swedish_massage",
)
CONDITIONS = ("sciatica", "low_back_pain", "fibromyalgia")
CREDENTIALS = ("lmt", "cmt", "bctmb")
RATINGS = (None, 3.5, 4.0, 4.5, 4.8, 5.0)
BIOS = ("Sciatica relief and deep work.", "Trigger point release.", "Quiet sessions.", None)
TEXTS = ("okafor", "Tanaka", "sciatica", "trigger point", "moreau sciatica", "nobody")

SEARCHES = settings(
    max_examples=120,
    deadline=None,
    database=None,  # nothing written into the working tree
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WRITES = settings(SEARCHES, max_examples=40)


# -- populations ----------------------------------------------------------------------------


@st.composite
def places(draw: st.DrawFn) -> Location:
    name = draw(st.sampled_from(sorted(CENTRES)))
    lat, lon, state = CENTRES[name]
    return Location(
        lat=lat + draw(st.sampled_from(OFFSETS)),
        lon=lon + draw(st.sampled_from(OFFSETS)),
        precision="rooftop",
        city=name.title(),
        state=state,
    )


@st.composite
def credentials(draw: st.DrawFn) -> tuple[CredentialCheck, ...]:
    checks = []
    for type_ in draw(st.lists(st.sampled_from(CREDENTIALS), max_size=2, unique=True)):
        term = TAXONOMY.term("credential", type_)
        status = draw(st.sampled_from(("verified", "expired", "not_found")))
        checks.append(
            CredentialCheck(
                type=type_,
                label=term.label,
                kind=term.kind or "",
                state="TX",
                number="1",
                claimed_by=("atlas",),
                status=status,
                checked_on="2026-11-18",
                issuer=term.issuer,
                record_url=None,
                reason="",
            )
        )
    return tuple(checks)


@st.composite
def profiles(draw: st.DrawFn, profile_id: str) -> Profile:
    checks = draw(credentials())
    rating = draw(st.sampled_from(RATINGS))
    return Profile(
        id=profile_id,
        name=f"{draw(st.sampled_from(('Ana', 'Ben', 'Dev')))} {draw(st.sampled_from(SURNAMES))}",
        practice_name=draw(st.sampled_from(("Cedar Studio", None))),
        bio=draw(st.sampled_from(BIOS)),
        locations=tuple(draw(st.lists(places(), max_size=3))),
        modalities=tuple(draw(st.lists(st.sampled_from(MODALITIES), max_size=2, unique=True))),
        conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=1))),
        credentials=checks,
        verification=Verification.of(list(checks)),
        credential_flags=("claim not confirmed",) if draw(st.booleans()) else (),
        data_flags=(DataFlag("atlas", "phones", "unparseable", "x"),)
        if draw(st.integers(0, 3)) == 0
        else (),
        rating=Rating(combined=rating, review_count=draw(st.integers(0, 3)) if rating else 0),
        active=draw(st.integers(0, 9)) > 0,
    )


@st.composite
def populations(draw: st.DrawFn, max_size: int = 30) -> list[Profile]:
    count = draw(st.integers(0, max_size))
    return [draw(profiles(f"p{n:02d}")) for n in range(count)]


# -- queries --------------------------------------------------------------------------------


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    """A query's arguments, in the words a client would use."""
    args: dict[str, Any] = {"page_size": draw(st.integers(1, 7))}
    if draw(st.integers(0, 3)):
        lat, lon, _ = CENTRES[draw(st.sampled_from(sorted(CENTRES)))]
        args["near"] = (lat + draw(st.sampled_from(OFFSETS)), lon + draw(st.sampled_from(OFFSETS)))
        if draw(st.booleans()):
            args["radius_km"] = draw(
                st.sampled_from((0.5, 3.0, 9.0, 25.0, 60.0)) | st.floats(1, 90)
            )
    sorts = [s for s in SortOrder if "near" in args or s is not SortOrder.DISTANCE]
    args["sort"] = draw(st.sampled_from(sorts))

    def now_and_then(strategy: st.SearchStrategy[Any], one_in: int) -> Any:
        # Each filter is drawn rarely enough that most queries still find something.
        present = draw(st.sampled_from([False] * (one_in - 1) + [True]))
        return draw(strategy) if present else None

    for name, pool in (("modalities", MODALITIES), ("conditions", CONDITIONS)):
        args[name] = now_and_then(st.lists(st.sampled_from(pool), min_size=1, max_size=2), 5)
    args["credentials"] = now_and_then(st.sampled_from(CREDENTIALS), 5)
    args["verified_only"] = bool(now_and_then(st.just(True), 5))
    args["state"] = now_and_then(st.sampled_from(("TX", "CO", "WA")), 8)
    args["min_rating"] = now_and_then(st.sampled_from((3.5, 4.5)), 5)
    args["min_reviews"] = now_and_then(st.integers(0, 3), 6)
    args["flagged"] = now_and_then(
        st.sampled_from((("credential",), ("data",), ("credential", "data"))), 6
    )
    args["text"] = now_and_then(st.sampled_from(TEXTS), 4)
    return {name: value for name, value in args.items() if value is not None}


# -- brute force ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """A profile the query should find, with what its sort keys are made of."""

    id: str
    distance: float | None
    rating: float | None
    rating_sort: float
    reviews: int
    facets: dict[str, set[str]]


def brute_force(profiles: list[Profile], query: SearchQuery) -> list[Expected]:
    """Every match, in the query's order (by id where that is text relevance)."""
    found = [e for e in (_expected(p, query) for p in profiles) if e is not None]
    return sorted(found, key=order_key(query) or (lambda e: (e.id,)))


def _expected(profile: Profile, query: SearchQuery) -> Expected | None:
    doc = to_search_document(profile, TAXONOMY)
    facets = {name: set(values) for name, values in doc.facet_values().items()}
    plan = query.plan()
    point = query.point
    distance = None
    if point is not None and doc.points:
        distance = min(distance_km(point.lat, point.lon, p.lat, p.lon) for p in doc.points)
    credential_field = "verified_credential" if query.verified_only else "credential"
    words = set(re.findall(r"[^\W_]+", f"{doc.name} {doc.practice_name} {doc.body}"))
    checks = [
        doc.active,
        all(m in facets["modality"] for m in plan.modalities),
        all(c in facets["condition"] for c in plan.conditions),
        all(c in facets[credential_field] for c in query.credentials),
        query.state is None or query.state in facets["state"],
        not query.flagged or any(kind in facets["flag"] for kind in query.flagged),
        not query.verified_only or doc.license_verified,
        query.min_rating is None or (doc.rating is not None and doc.rating >= query.min_rating),
        query.min_reviews is None or doc.review_count >= query.min_reviews,
        all(fold(word) in words for word in plan.words),
        query.radius_km is None or (distance is not None and distance <= query.radius_km),
        query.sort is not SortOrder.DISTANCE or distance is not None,
    ]
    if not all(checks):
        return None
    return Expected(doc.id, distance, doc.rating, doc.rating_sort, doc.review_count, facets)


def order_key(query: SearchQuery) -> Any:
    """The sort key of the query's order (None: text relevance, bm25's own)."""
    if query.sort is SortOrder.RELEVANCE and query.plan().has_text:
        return None
    if query.ranked_by_best_match:
        return lambda e: (-best_match_score(e.rating, e.distance), -e.rating_sort, -e.reviews, e.id)
    if query.sort is SortOrder.DISTANCE:
        return lambda e: (e.distance, e.id)
    if query.sort is SortOrder.REVIEWS:
        return lambda e: (-e.reviews, -e.rating_sort, e.id)
    return lambda e: (-e.rating_sort, -e.reviews, e.id)


def facet_counts(expected: list[Expected]) -> dict[str, Counter[str]]:
    return {name: Counter(v for e in expected for v in e.facets[name]) for name in FACETS}


def every_page(backend: SqliteBackend, args: dict[str, Any]) -> list[SearchResult]:
    pages = [backend.search(SearchQuery(**args))]
    while pages[-1].next_cursor:
        assert len(pages) < 100, "paging did not end"
        pages.append(backend.search(SearchQuery(**args, cursor=pages[-1].next_cursor)))
    return pages


def assert_answers(backend: SqliteBackend, profiles: list[Profile], args: dict[str, Any]) -> None:
    """The backend answers the query as the brute force does, page by page."""
    query = SearchQuery(**args)
    expected = brute_force(profiles, query)
    pages = every_page(backend, args)
    hits = [hit for page in pages for hit in page.hits]
    by_id = {e.id: e for e in expected}
    assert {page.total for page in pages} == {len(expected)}
    assert len(hits) == len(expected)
    if order_key(query) is None:
        assert sorted(h.id for h in hits) == [e.id for e in expected]
        scores = [h.score for h in hits]
        assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    else:
        assert [h.id for h in hits] == [e.id for e in expected]
    for hit in hits:
        assert hit.distance_km == by_id[hit.id].distance  # the same double, not approximately
        assert hit.profile.id == hit.id
    counts = facet_counts(expected)
    for page in pages:  # every page carries the facets of the whole match set
        for name in FACETS:
            assert page.facets[name] == order_facet(dict(counts[name])), name


# -- the properties -------------------------------------------------------------------------


@pytest.fixture
def backend(tmp_path: Path) -> Any:
    opened = SqliteBackend(tmp_path / "index.sqlite3", TAXONOMY)
    yield opened
    opened.close()


@SEARCHES
@given(population=populations(), args=queries())
def test_search_answers_as_brute_force(
    backend: SqliteBackend, population: list[Profile], args: dict[str, Any]
) -> None:
    backend.rebuild(population)
    assert_answers(backend, population, args)


@st.composite
def write_sequences(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Upserts (new ids and replacements, a profile sometimes twice in one batch) and deletes
    (of ids that exist or not)."""
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 5))):
        ids = draw(st.lists(st.integers(0, 30), min_size=1, max_size=6))
        if draw(st.booleans()):
            steps.append(("upsert", [draw(profiles(f"p{n:02d}")) for n in ids]))
        else:
            steps.append(("delete", [f"p{n:02d}" for n in ids]))
    return steps


@WRITES
@given(
    population=populations(max_size=16),
    steps=write_sequences(),
    searches=st.lists(queries(), min_size=1, max_size=4),
)
def test_writes_keep_matches_and_facet_counts_exact(
    backend: SqliteBackend,
    population: list[Profile],
    steps: list[tuple[str, Any]],
    searches: list[dict[str, Any]],
) -> None:
    backend.rebuild(population)
    current = {p.id: p for p in population}
    for kind, batch in steps:
        if kind == "upsert":
            assert backend.upsert(batch) == len(batch)
            current.update((p.id, p) for p in batch)  # the last of an id wins
        else:
            assert backend.delete(batch) == len(set(batch) & current.keys())
            for profile_id in batch:
                current.pop(profile_id, None)
    assert backend.count() == len(current)
    for args in searches:
        assert_answers(backend, list(current.values()), args)


@settings(SEARCHES, max_examples=300)
@given(
    distance=st.floats(0.0, 2000.0) | st.sampled_from((0.0, 16.09344, 180.0, 185.0, 600.0)),
    rating=st.sampled_from(RATINGS) | st.floats(0.0, 5.0),
)
def test_the_blend_in_sql_is_best_match_score_to_the_bit(
    backend: SqliteBackend, distance: float, rating: float | None
) -> None:
    # Far away the blend leaves the 32-bit normal range (about 115 miles), then rounds to 0.
    conn = backend._conn()
    conn.execute(_MATCHED)
    conn.execute(
        "INSERT INTO temp.search_matched (rid, id, dist, rating_part, neg_rating, neg_reviews)"
        " VALUES (1, 'x', ?, ?, 0, 0)",
        (distance, best_match_rating_part(rating)),
    )
    (neg_blend,) = conn.execute("SELECT neg_blend FROM temp.search_matched").fetchone()
    conn.execute("DELETE FROM temp.search_matched")
    assert -neg_blend == best_match_score(rating, distance)


# -- what SQLite does -----------------------------------------------------------------------


def plain_population(size: int, seed: int = 1) -> list[Profile]:
    """Profiles of every kind around Austin, the same each time."""
    rng = random.Random(seed)
    return [
        Profile(
            id=f"q{n:02d}",
            name=f"Ana {rng.choice(SURNAMES)}",
            bio=rng.choice(BIOS),
            locations=tuple(
                Location(30.27 + rng.uniform(-0.3, 0.3), -97.74 + rng.uniform(-0.3, 0.3), "zip")
                for _ in range(rng.choice((0, 1, 1, 2)))
            ),
            modalities=(rng.choice(MODALITIES),),
            conditions=(rng.choice(CONDITIONS),),
            credential_flags=("claim not confirmed",) if n % 3 == 0 else (),
            rating=Rating(combined=rng.choice(RATINGS[1:]), review_count=n),
        )
        for n in range(size)
    ]


def plans_of(backend: SqliteBackend, query: SearchQuery) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement the search runs that reads a table."""
    conn = backend._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        backend.search(query)
    finally:
        conn.set_trace_callback(None)
    reading = [s for s in statements if s.startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]
    return [row[3] for s in reading for row in conn.execute(f"EXPLAIN QUERY PLAN {s}")]


@pytest.mark.parametrize(
    "args",
    [
        {"near": (30.27, -97.74), "radius_km": 20.0},
        {"near": (30.27, -97.74), "radius_km": 20.0, "modalities": ("trigger point",)},
        {"near": (30.27, -97.74), "radius_km": 20.0, "text": "sciatica", "verified_only": True},
        {"near": (30.27, -97.74), "radius_km": 20.0, "text": "okafor", "sort": "rating"},
        {"near": (30.27, -97.74), "radius_km": 20.0, "sort": "distance", "min_rating": 4.0},
    ],
)
def test_a_radius_search_reads_one_latitude_range_and_no_facet_rows(
    backend: SqliteBackend, args: dict[str, Any]
) -> None:
    backend.rebuild(plain_population(40))
    backend.search(SearchQuery(**args))  # the facet bitmaps are read once per index version
    plans = plans_of(backend, SearchQuery(**args))
    assert plans
    assert not [p for p in plans if "facets" in p], plans
    on_places = [p for p in plans if " places " in f"{p} "]
    assert on_places, plans
    assert all(
        p.startswith("SEARCH places USING PRIMARY KEY (single=? AND lat>") for p in on_places
    )
    assert not [p for p in plans if p.startswith(("SCAN ranks", "SCAN profiles "))], plans


def test_a_search_without_a_place_reads_no_facet_rows(backend: SqliteBackend) -> None:
    backend.rebuild(plain_population(40))
    query = SearchQuery(state="TX", flagged=("credential",), sort="reviews")
    backend.search(query)
    plans = plans_of(backend, query)
    assert plans and not [p for p in plans if "facets" in p], plans


# -- storage versions -----------------------------------------------------------------------

_FIRST_LAYOUT = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE profiles (
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, profile TEXT NOT NULL, rating REAL,
    rating_sort REAL NOT NULL, review_count INTEGER NOT NULL,
    license_verified INTEGER NOT NULL, active INTEGER NOT NULL
);
CREATE TABLE facets (
    field TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
    PRIMARY KEY (field, value, rid)
) WITHOUT ROWID;
CREATE INDEX facets_by_profile ON facets (rid);
CREATE TABLE points (pid INTEGER PRIMARY KEY, rid INTEGER NOT NULL, lat REAL NOT NULL,
    lon REAL NOT NULL);
CREATE INDEX points_by_profile ON points (rid);
CREATE VIRTUAL TABLE points_box USING rtree(pid, min_lat, max_lat, min_lon, max_lon);
CREATE VIRTUAL TABLE profiles_text USING fts5(
    name, practice_name, body, tokenize = 'unicode61 remove_diacritics 2'
);
"""


def write_first_layout(path: Path, profiles: list[Profile]) -> None:
    """An index as the first storage version wrote it (an R*Tree of points, no ``ranks``)."""
    conn = sqlite3.connect(path)
    conn.executescript(_FIRST_LAYOUT)
    with conn:
        conn.execute("INSERT INTO meta VALUES ('layout_version', 3)")
        for profile in profiles:
            doc = to_search_document(profile, TAXONOMY)
            rid = conn.execute(
                "INSERT INTO profiles (id, profile, rating, rating_sort, review_count,"
                " license_verified, active) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.id,
                    json.dumps(profile.to_dict()),
                    doc.rating,
                    doc.rating_sort,
                    doc.review_count,
                    int(doc.license_verified),
                    int(doc.active),
                ),
            ).lastrowid
            conn.executemany(
                "INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
                [(f, v, rid) for f, values in doc.facet_values().items() for v in values],
            )
            for point in doc.points:
                pid = conn.execute(
                    "INSERT INTO points (rid, lat, lon) VALUES (?, ?, ?)",
                    (rid, point.lat, point.lon),
                ).lastrowid
                conn.execute(
                    "INSERT INTO points_box VALUES (?, ?, ?, ?, ?)",
                    (pid, point.lat, point.lat, point.lon, point.lon),
                )
            conn.execute(
                "INSERT INTO profiles_text (rowid, name, practice_name, body) VALUES (?, ?, ?, ?)",
                (rid, doc.name, doc.practice_name, doc.body),
            )
    conn.close()


def test_an_index_of_the_first_storage_version_is_upgraded_in_place(
    tmp_path: Path, contract_data: dict[str, Any]
) -> None:
    profiles = contract_data["profiles"]
    path = tmp_path / "old.sqlite3"
    write_first_layout(path, profiles)
    upgraded = SqliteBackend(path, TAXONOMY)
    fresh = SqliteBackend(tmp_path / "fresh.sqlite3", TAXONOMY)
    fresh.rebuild(profiles)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert not {"points", "points_box"} & tables
    assert not upgraded.outdated()
    for args in (
        {"near": (30.25, -97.75), "radius_km": 12.0},
        {"near": (30.25, -97.75), "sort": "distance", "page_size": 3},
        {"text": "sciatica", "verified_only": True},
        {"flagged": ("credential", "data"), "sort": "rating"},
        {"modalities": ("nmt",), "state": "TX", "sort": "reviews"},
    ):
        old, new = upgraded.search(SearchQuery(**args)), fresh.search(SearchQuery(**args))
        assert (old.ids, old.total, old.facets) == (new.ids, new.total, new.facets)
        assert [h.distance_km for h in old.hits] == [h.distance_km for h in new.hits]
    # Writes go on from the upgraded tables, bitmaps included.
    upgraded.delete(["p01"])
    fresh.delete(["p01"])
    query = SearchQuery(near=(30.25, -97.75), radius_km=12.0)
    after = fresh.search(query)
    assert upgraded.search(query).facets == after.facets
    upgraded.close()
    fresh.close()
    reopened = SqliteBackend(path, TAXONOMY)  # stays upgraded: nothing to do the second time
    assert (reopened.search(query).ids, reopened.search(query).total) == (after.ids, after.total)
    reopened.close()


def test_an_old_index_that_cannot_be_upgraded_says_what_to_do_and_stays_as_it_was(
    tmp_path: Path, contract_data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    write_first_layout(path, contract_data["profiles"])

    def read_only(*_: Any) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(sqlite_backend, "_upgrade_from_first", read_only)
    with pytest.raises(BackendError, match=r"could not be upgraded in place .*--rebuild"):
        SqliteBackend(path, TAXONOMY)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM points").fetchone()[0] > 0


def test_an_index_from_a_newer_tdir_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path, TAXONOMY).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(BackendError, match="newer tdir"):
        SqliteBackend(path, TAXONOMY)
