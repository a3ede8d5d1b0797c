"""Benchmark: embedded (SQLite) search latency at scale, beside hand-written SQL.

It builds an index of N synthetic profiles once, written through ``SqliteBackend.rebuild`` and
cached under ``var/bench/`` (keyed by N, the generator's version and the backend's storage
version). The profiles sit at real US ZIP centroids (the ``zipcodes`` table the gazetteer uses),
most of them around 29 metro areas weighted by population, the rest anywhere; each has a few
modalities, conditions and credentials (with the issuers' answers), a combined rating and review
count, a name drawn from Zipf-weighted real surnames, a bio and reviews.

Then a fixed, seeded mix of searches near a metro (5, 10 or 25 mi; a modality, condition or
credential; verified only; a minimum rating; the text "sciatica" or a surname; each sort; page
2 through the cursor) runs through ``SqliteBackend.search``, repeated, and the same searches are
answered by a **raw baseline** in the same run: plain ``sqlite3`` SQL written by hand for the
same hits, total and facet counts (a box on the file's location index, then the exact distance;
filters through the facet table; facets counted per match through its ``rid`` index). Every
search's answers are checked equal on both sides before anything is timed; the two then
alternate so they share the machine's noise. It prints p50 / p95 per kind of search and
overall, and the ratio backend / raw::

    .venv/bin/python -m benchmarks.search_latency --profiles 100000
    .venv/bin/python -m benchmarks.search_latency --profiles 100000 --save var/bench/after.json \\
        --before var/bench/before.json     # a saved earlier run's figures beside this one's

The raw side fetches the page's stored profiles as JSON text; the backend also reads them into
``Profile`` objects, which is part of what it is asked to do.

``run(quick)`` is the benchmark suite's stage (``python -m benchmarks all``): 100,000 profiles,
6 searches of each kind, 7 repeats; or 5,000 profiles, 2 of each kind, 5 repeats with ``quick``.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import json
import math
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import zipcodes

from benchmarks.measure import peak_rss_mb
from benchmarks.suite import StageResult, print_results
from indexer.geo import KM_PER_MILE, bounding_box, distance_km
from indexer.profile import (
    CredentialCheck,
    DataFlag,
    ListingRef,
    Location,
    Profile,
    Rating,
    ReviewEntry,
    SourceRating,
    Verification,
)
from indexer.search import SearchQuery, SearchResult
from indexer.search import sqlite_backend as backend_module
from indexer.search.backend import SearchBackend
from indexer.search.query import FACETS, best_match_score
from indexer.search.sqlite_backend import SqliteBackend
from indexer.taxonomy import Taxonomy, load_taxonomy

GENERATOR_VERSION = 1  # bump when the generated profiles change, so cached indexes are rebuilt
ROOT = Path("var/bench")
PAGE_SIZE = 20
SEEN = "2026-11-20T10:00:00+00:00"
QUICK = {"profiles": 5_000, "instances": 2, "repeats": 5}
FULL = {"profiles": 100_000, "instances": 6, "repeats": 7}


@dataclass(frozen=True, slots=True)
class Metro:
    name: str
    state: str
    lat: float
    lon: float
    weight: float  # metro population, millions


METROS = (
    Metro("New York", "NY", 40.7128, -74.0060, 19.5),
    Metro("Los Angeles", "CA", 34.0522, -118.2437, 13.0),
    Metro("Chicago", "IL", 41.8781, -87.6298, 9.4),
    Metro("Dallas", "TX", 32.7767, -96.7970, 7.9),
    Metro("Houston", "TX", 29.7604, -95.3698, 7.3),
    Metro("Washington", "DC", 38.9072, -77.0369, 6.3),
    Metro("Philadelphia", "PA", 39.9526, -75.1652, 6.2),
    Metro("Miami", "FL", 25.7617, -80.1918, 6.1),
    Metro("Atlanta", "GA", 33.7490, -84.3880, 6.1),
    Metro("Boston", "MA", 42.3601, -71.0589, 4.9),
    Metro("Phoenix", "AZ", 33.4484, -112.0740, 4.9),
    Metro("San Francisco", "CA", 37.7749, -122.4194, 4.6),
    Metro("Detroit", "MI", 42.3314, -83.0458, 4.4),
    Metro("Seattle", "WA", 47.6062, -122.3321, 4.0),
    Metro("Minneapolis", "MN", 44.9778, -93.2650, 3.7),
    Metro("San Diego", "CA", 32.7157, -117.1611, 3.3),
    Metro("Tampa", "FL", 27.9506, -82.4572, 3.2),
    Metro("Denver", "CO", 39.7392, -104.9903, 3.0),
    Metro("St. Louis", "MO", 38.6270, -90.1994, 2.8),
    Metro("Orlando", "FL", 28.5383, -81.3792, 2.7),
    Metro("Charlotte", "NC", 35.2271, -80.8431, 2.7),
    Metro("San Antonio", "TX", 29.4241, -98.4936, 2.6),
    Metro("Portland", "OR", 45.5152, -122.6784, 2.5),
    Metro("Austin", "TX", 30.2672, -97.7431, 2.4),
    Metro("Las Vegas", "NV", 36.1699, -115.1398, 2.3),
    Metro("Kansas City", "MO", 39.0997, -94.5786, 2.2),
    Metro("Nashville", "TN", 36.1627, -86.7816, 2.0),
    Metro("San Jose", "CA", 37.3382, -121.8863, 2.0),
    Metro("Salt Lake City", "UT", 40.7608, -111.8910, 1.3),
)


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


METRO_SHARE = 0.7  # of profiles around a metro; the rest anywhere in the country
METRO_SPREAD_KM = 18.0  # the gaussian spread of a metro's practices around its centre

SURNAMES = words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez"
    " Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris"
    " Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill"
    " Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips"
    " Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers"
    " Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson"
    " Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo"
    " Sanders Patel Myers Long Ross Foster Jimenez Okafor Lindqvist Tanaka Moreau Kowalski Haddad"
    " Brennan Novak Petrov Schmidt Muller Rossi Silva Cohen Nakamura Okonkwo Abernathy Delacroix"
)
FIRST_NAMES = words(
    "Mary James Patricia John Jennifer Robert Linda Michael Elizabeth David Barbara William Susan"
    " Richard Jessica Joseph Sarah Thomas Karen Charles Lisa Christopher Nancy Daniel Betty Matthew"
    " Sandra Anthony Ashley Mark Emily Steven Donna Andrew Michelle Joshua Carol Kevin Amanda Brian"
    " Melissa George Deborah Timothy Stephanie Ana Elena Farid Grace Hugo Chloe Dev Lena Nina Bea"
    " Maria Rosa Luis Carlos Mei Wei Aisha Omar Priya Ravi Sofia Mateo Noah Olivia Liam Emma"
)
SOURCES = ("atlas", "guild", "pages", "reviews")
# How often each modality is offered: Swedish and deep tissue everywhere, the rest less so.
MODALITY_WEIGHTS = {
    "swedish_massage": 30,
    "deep_tissue": 28,
    "neuromuscular_therapy": 10,
    "trigger_point_therapy": 12,
    "myofascial_release": 10,
    "sports_massage": 12,
    "prenatal": 8,
    "hot_stone": 9,
    "reflexology": 6,
    "craniosacral": 5,
    "lymphatic_drainage": 5,
    "stretching_mobilization": 4,
    "pnf_stretching": 3,
    "cross_fiber_friction": 2,
    "muscle_stripping": 1,
    "ischemic_compression": 1,
    "postural_analysis": 2,
}
# The state-license credential each state issues; "lmt" where not listed.
STATE_LICENSE = {"WA": "lmp", "NC": "lmbt", "CA": "cmt", "NY": "lmt", "FL": "lmt"}
LICENSE_STATUS = {"verified": 70, "expired": 8, "inactive": 3, "not_found": 6, "unverifiable": 13}
REVIEW_LINES = (
    "Found the knot in my shoulder in minutes and worked it out patiently.",
    "Clean studio, on time, and listened to what I needed.",
    "My sciatica is calmer after three sessions; I can sit through meetings again.",
    "Firm pressure, explained everything, would book again.",
    "A little rushed this time but still good work on my lower back.",
)


# -- the synthetic population -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Zip:
    code: str
    city: str
    state: str
    lat: float
    lon: float


class Places:
    """Where practices are: ZIP centroids, near a metro (denser towards its centre) or anywhere."""

    def __init__(self) -> None:
        self.zips = [
            Zip(z["zip_code"], z["city"], z["state"], float(z["lat"]), float(z["long"]))
            for z in zipcodes.list_all()
            if z["active"] and z["zip_code_type"] == "STANDARD" and z["lat"] and z["long"]
        ]
        self.metro_weights = list(accumulate(m.weight for m in METROS))
        self.near: list[tuple[list[Zip], list[float]]] = []
        for metro in METROS:
            around = []
            for z in self.zips:
                km = distance_km(metro.lat, metro.lon, z.lat, z.lon)
                if km < 3 * METRO_SPREAD_KM:
                    around.append((z, math.exp(-0.5 * (km / METRO_SPREAD_KM) ** 2)))
            self.near.append(([z for z, _ in around], list(accumulate(w for _, w in around))))

    def metro(self, rng: random.Random) -> int:
        return bisect.bisect(self.metro_weights, rng.random() * self.metro_weights[-1])

    def zip_near(self, rng: random.Random, metro: int) -> Zip:
        zips, weights = self.near[metro]
        return zips[bisect.bisect(weights, rng.random() * weights[-1])]

    def anywhere(self, rng: random.Random) -> Zip:
        return rng.choice(self.zips)


class Population:
    """Synthetic served profiles, the same for a given seed."""

    def __init__(self, taxonomy: Taxonomy, seed: int) -> None:
        self.taxonomy = taxonomy
        self.seed = seed
        self.places = Places()
        self.surname_weights = list(
            accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(SURNAMES)))
        )
        self.modalities = list(MODALITY_WEIGHTS)
        self.modality_weights = list(MODALITY_WEIGHTS.values())
        self.conditions = taxonomy.ids("condition")

    def profiles(self, count: int) -> Iterator[Profile]:
        for number in range(count):
            yield self.profile(random.Random(self.seed * 1_000_003 + number), number)

    def profile(self, rng: random.Random, number: int) -> Profile:
        first = rng.choice(FIRST_NAMES)
        last = SURNAMES[
            bisect.bisect(self.surname_weights, rng.random() * self.surname_weights[-1])
        ]
        name = f"{first} {last}"
        locations = self._locations(rng)
        state = (locations[0].state if locations else None) or rng.choice(["TX", "NY", "CA"])
        modalities = self._modalities(rng)
        conditions = tuple(sorted(rng.sample(self.conditions, rng.choice((0, 0, 1, 1, 2, 3)))))
        credentials = self._credentials(rng, state, number)
        rating = self._rating(rng)
        sources = tuple(rng.sample(SOURCES, rng.choice((1, 1, 2, 2, 3))))
        city = locations[0].city if locations else None
        pid = f"t-{number:07d}"
        return Profile(
            id=pid,
            name=name,
            alias_ids=(pid, f"t-old-{number:07d}") if rng.random() < 0.03 else (pid,),
            other_names=(f"{name}, LMT",),
            practice_name=rng.choice(
                (f"{last} Massage", f"{city or 'Main Street'} Bodywork", "Wellness Studio", None)
            ),
            bio=self._bio(rng, first, city, modalities, conditions),
            locations=locations,
            phones=(f"+1{rng.randrange(200, 999)}{rng.randrange(10**7):07d}",),
            website=f"https://{pid}.example/" if rng.random() < 0.5 else None,
            modalities=modalities,
            conditions=conditions,
            credentials=credentials,
            verification=Verification.of(list(credentials)),
            credential_flags=tuple(
                f"{c.type}: {c.status.replace('_', ' ')}"
                for c in credentials
                if c.status in ("not_found", "expired")
            ),
            rating=rating,
            reviews=self._reviews(rng, pid, sources),
            listings=tuple(
                ListingRef(f"{pid}-{s}", s, f"https://{s}.example/{pid}", name, SEEN, True)
                for s in sources
            ),
            provenance={
                "name": [
                    {"source": s, "url": f"https://{s}.example/{pid}", "last_seen": SEEN}
                    for s in sources
                ]
            },
            data_flags=(DataFlag(sources[0], "phones", "unparseable", "555-CALL-NOW"),)
            if rng.random() < 0.03
            else (),
            active=rng.random() > 0.03,
            last_confirmed=SEEN,
        )

    def _locations(self, rng: random.Random) -> tuple[Location, ...]:
        if rng.random() < 0.02:
            return ()
        if rng.random() < METRO_SHARE:
            metro = self.places.metro(rng)
            zips = [self.places.zip_near(rng, metro)]
            if rng.random() < 0.12:  # a second office in the same metro
                zips.append(self.places.zip_near(rng, metro))
        else:
            zips = [self.places.anywhere(rng)]
        if rng.random() < 0.03:  # and one far away
            zips.append(self.places.anywhere(rng))
        return tuple(self._location(rng, z) for z in zips)

    @staticmethod
    def _location(rng: random.Random, z: Zip) -> Location:
        exact = rng.random() < 0.8
        return Location(
            lat=round(z.lat + (rng.gauss(0, 0.012) if exact else 0.0), 6),
            lon=round(z.lon + (rng.gauss(0, 0.015) if exact else 0.0), 6),
            precision="rooftop" if exact else "zip",
            street=f"{rng.randrange(1, 9999)} {rng.choice(('Main', 'Oak', 'Elm', 'Lake'))} St"
            if exact
            else None,
            city=z.city.title(),
            state=z.state,
            postal_code=z.code,
            sources=("atlas",),
        )

    def _modalities(self, rng: random.Random) -> tuple[str, ...]:
        chosen: set[str] = set()
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            chosen.add(rng.choices(self.modalities, self.modality_weights)[0])
        return tuple(sorted(chosen))

    def _credentials(
        self, rng: random.Random, state: str, number: int
    ) -> tuple[CredentialCheck, ...]:
        claims: list[tuple[str, str | None, str]] = []
        if rng.random() < 0.9:
            status = rng.choices(list(LICENSE_STATUS), list(LICENSE_STATUS.values()))[0]
            claims.append((STATE_LICENSE.get(state, "lmt"), state, status))
        for type_, share in (("bctmb", 0.15), ("nctmb", 0.05), ("cnmt", 0.05), ("npi", 0.3)):
            if rng.random() < share:
                claims.append((type_, None, "verified" if rng.random() < 0.85 else "not_found"))
        for type_, share in (("amta_member", 0.2), ("abmp_member", 0.15)):
            if rng.random() < share:
                claims.append((type_, None, "unverifiable"))
        checks = []
        for type_, where, status in claims:
            term = self.taxonomy.term("credential", type_)
            checks.append(
                CredentialCheck(
                    type=type_,
                    label=term.label,
                    kind=term.kind or "",
                    state=where,
                    number=f"{number + 100000}",
                    claimed_by=("atlas",),
                    status=status,  # type: ignore[arg-type]
                    checked_on="2026-11-18" if status != "unverifiable" else None,
                    issuer=term.issuer,
                    record_url=None,
                    reason="" if status == "verified" else f"the issuer says {status}",
                )
            )
        return tuple(checks)

    @staticmethod
    def _rating(rng: random.Random) -> Rating:
        if rng.random() < 0.15:
            return Rating()
        combined = round(min(5.0, max(3.0, rng.gauss(4.5, 0.35))), 1)
        count = max(1, int(rng.lognormvariate(3.0, 1.1)))
        return Rating(
            combined=combined,
            review_count=count,
            by_source={"reviews": SourceRating(combined, count, "2026-10-02", "published")},
            distribution={"1": 0, "2": 0, "3": 1, "4": 2, "5": 4},
        )

    def _bio(
        self,
        rng: random.Random,
        first: str,
        city: str | None,
        modalities: tuple[str, ...],
        conditions: tuple[str, ...],
    ) -> str:
        labels = ", ".join(self.taxonomy.label("modality", m).lower() for m in modalities)
        bio = f"{first} offers {labels} in {city or 'the area'}."
        if conditions:
            names = " and ".join(self.taxonomy.label("condition", c).lower() for c in conditions)
            bio += f" Clients come with {names}."
        if rng.random() < 0.05:
            bio += " Many of my clients have sciatica."
        return bio + " " + rng.choice(REVIEW_LINES[1:4:2])

    @staticmethod
    def _reviews(rng: random.Random, pid: str, sources: tuple[str, ...]) -> tuple[ReviewEntry, ...]:
        return tuple(
            ReviewEntry(
                id=f"{pid}-r{n}",
                source=sources[0],
                url=f"https://{sources[0]}.example/{pid}#r{n}",
                author=rng.choice(FIRST_NAMES),
                rating=float(rng.randint(3, 5)),
                published="2026-09-14",
                body=rng.choice(REVIEW_LINES),
            )
            for n in range(rng.choice((0, 1, 2, 3)))
        )


def index_path(profiles: int) -> Path:
    storage = getattr(backend_module, "SCHEMA_VERSION", 0)
    return ROOT / f"search-{profiles}-g{GENERATOR_VERSION}-s{storage}.sqlite3"


def build_index(profiles: int, seed: int, taxonomy: Taxonomy) -> Path:
    """The cached index of ``profiles`` synthetic profiles, written through the backend."""
    path = index_path(profiles)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in partial.parent.glob(partial.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    backend = SqliteBackend(partial, taxonomy)
    written = backend.rebuild(Population(taxonomy, seed).profiles(profiles))
    backend.close()
    partial.rename(path)  # only a finished index is ever reused
    print(f"built {path} ({written} profiles) in {time.perf_counter() - started:.0f}s")
    return path


# -- the searches -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One search of the mix, as the backend gets it and as the raw SQL answers it."""

    kind: str
    query: SearchQuery
    text_filter: str | None = None  # FTS5 query every hit must match (a required word)
    text_score: str | None = None  # FTS5 query whose bm25 scores the hits
    text_facet: tuple[str, str] | None = None  # a taxonomy term the text names filters too
    offset: int = 0  # where the page starts (page 2: after the first page)


def query_mix(seed: int, instances: int, taxonomy: Taxonomy) -> list[Case]:
    """``instances`` searches of each kind, near metros drawn by population."""
    rng = random.Random(seed)
    weights = list(accumulate(m.weight for m in METROS))
    cases: list[Case] = []

    def near() -> tuple[float, float]:
        metro = METROS[bisect.bisect(weights, rng.random() * weights[-1])]
        return metro.lat + rng.gauss(0, 0.04), metro.lon + rng.gauss(0, 0.05)

    def add(kind: str, radius_mi: float, **options: Any) -> None:
        extra = {
            k: options.pop(k)
            for k in ("text_filter", "text_score", "text_facet", "offset")
            if k in options
        }
        query = SearchQuery(
            near=near(),
            radius_km=radius_mi * KM_PER_MILE,
            page_size=PAGE_SIZE,
            taxonomy=taxonomy,
            **options,
        )
        cases.append(Case(kind, query, **extra))

    modalities = ("neuromuscular_therapy", "deep_tissue", "trigger_point_therapy", "prenatal")
    conditions = ("sciatica", "low_back_pain", "neck_pain", "fibromyalgia")
    surnames = SURNAMES[: len(SURNAMES) // 2]
    for _ in range(instances):
        add("radius 5 mi", 5)
        add("radius 10 mi", 10)
        add("radius 25 mi", 25)
        add("+ modality", rng.choice((10, 25)), modalities=(rng.choice(modalities),))
        add("+ condition", rng.choice((10, 25)), conditions=(rng.choice(conditions),))
        add("+ credential", rng.choice((10, 25)), credentials=(rng.choice(("lmt", "bctmb")),))
        add("+ verified only", rng.choice((10, 25)), verified_only=True)
        add("+ min rating 4.5", rng.choice((10, 25)), min_rating=4.5)
        add(
            "text sciatica",
            25,
            text="sciatica",
            text_score='"sciatica"',
            text_facet=("condition", "sciatica"),
        )
        surname = rng.choice(surnames).lower()
        add("text surname", 25, text=surname, text_filter=f'"{surname}"', text_score=f'"{surname}"')
        add("sort distance", 25, sort="distance")
        add("sort rating", 25, sort="rating")
        add("sort reviews", 25, sort="reviews")
        add("page 2", 25, sort=rng.choice(("relevance", "distance", "rating")), offset=PAGE_SIZE)
    return cases


def with_cursor(backend: SearchBackend, case: Case) -> Case:
    """Page 2 is asked for with the cursor the first page handed out."""
    if not case.offset:
        return case
    first = backend.search(case.query)
    query = dataclasses.replace(case.query, cursor=first.next_cursor)
    return Case(case.kind, query, case.text_filter, case.text_score, case.text_facet, case.offset)


# -- the raw baseline ---------------------------------------------------------------------------


@dataclass
class Answer:
    """Hits, total and facet counts, in a form both sides produce."""

    ids: list[str]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class RawSearch:
    """The same searches in SQL written by hand over the index's tables: the matches into a
    temporary table (a box on the location index, then the exact distance, filters through the
    facet table's primary key), then the page, the total and the facet counts from there."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self.conn.create_function("gc_km", 4, distance_km, deterministic=True)
        self.conn.create_function("best_match", 2, best_match_score, deterministic=True)
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master")}
        # The location index of the file: one table clustered by latitude, or (in the first
        # storage version) an R*Tree of boxes beside a table of points.
        self.near = _NEAR_BY_LATITUDE if "places" in tables else _NEAR_IN_RTREE

    def search(self, case: Case) -> Answer:
        query = case.query
        point = query.point
        assert point is not None and query.radius_km is not None
        box = bounding_box(point, query.radius_km)
        assert box.min_lon <= box.max_lon  # no search here crosses the antimeridian
        where = ["p.active = 1", "n.dist <= :radius"]
        params: dict[str, Any] = {
            "lat": point.lat,
            "lon": point.lon,
            "min_lat": box.min_lat,
            "max_lat": box.max_lat,
            "min_lon": box.min_lon,
            "max_lon": box.max_lon,
            "radius": query.radius_km,
        }
        facets = [("modality", m) for m in query.modalities]
        facets += [("condition", c) for c in query.conditions]
        credential_field = "verified_credential" if query.verified_only else "credential"
        facets += [(credential_field, c) for c in query.credentials]
        if case.text_facet:
            facets.append(case.text_facet)
        for n, (name, value) in enumerate(facets):
            where.append(
                "EXISTS (SELECT 1 FROM facets f"
                f" WHERE f.field = :field{n} AND f.value = :value{n} AND f.rid = p.rid)"
            )
            params[f"field{n}"], params[f"value{n}"] = name, value
        if query.verified_only:
            where.append("p.license_verified = 1")
        if query.min_rating is not None:
            where.append("p.rating >= :min_rating")
            params["min_rating"] = query.min_rating
        if case.text_filter:
            where.append(
                "p.rid IN (SELECT rowid FROM profiles_text WHERE profiles_text MATCH :words)"
            )
            params["words"] = case.text_filter
        score, scored = "NULL", ""
        if case.text_score:
            score = "COALESCE(t.bm25, 0.0)"
            scored = (
                " LEFT JOIN (SELECT rowid AS rid, bm25(profiles_text, 3.0, 2.0, 1.0) AS bm25"
                " FROM profiles_text WHERE profiles_text MATCH :text) t ON t.rid = p.rid"
            )
            params["text"] = case.text_score
        sql = (
            f"CREATE TEMP TABLE raw_matched AS SELECT p.rid, p.id, n.dist, {score} AS score,"
            f" p.rating, p.rating_sort, p.review_count FROM ({self.near}) n"
            f" JOIN profiles p ON p.rid = n.rid{scored} WHERE {' AND '.join(where)}"
        )
        conn = self.conn
        conn.execute("BEGIN")
        try:
            conn.execute("DROP TABLE IF EXISTS temp.raw_matched")
            conn.execute(sql, params)
            total = conn.execute("SELECT COUNT(*) FROM temp.raw_matched").fetchone()[0]
            rows = conn.execute(
                "SELECT m.id, m.dist, m.score, p.profile FROM temp.raw_matched m"
                f" JOIN profiles p ON p.rid = m.rid ORDER BY {_raw_order(case)} LIMIT ? OFFSET ?",
                (query.page_size, case.offset),
            ).fetchall()
            # CROSS JOIN keeps the matches as the outer loop: each one's facets come from the
            # rid index, instead of every facet row of the index being read and tested.
            facet_rows = conn.execute(
                "SELECT f.field, f.value, COUNT(*) FROM temp.raw_matched m"
                " CROSS JOIN facets f ON f.rid = m.rid"
                f" WHERE f.field IN ({', '.join('?' * len(FACETS))}) GROUP BY f.field, f.value",
                FACETS,
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for name, value, n in facet_rows:
            counts[name][value] = n
        return Answer([r[0] for r in rows], total, counts)


_NEAR_BY_LATITUDE = (
    "SELECT rid, MIN(gc_km(:lat, :lon, lat, lon)) AS dist FROM places"
    " WHERE lat BETWEEN :min_lat AND :max_lat AND lon BETWEEN :min_lon AND :max_lon GROUP BY rid"
)
_NEAR_IN_RTREE = (
    "SELECT pt.rid, MIN(gc_km(:lat, :lon, pt.lat, pt.lon)) AS dist"
    " FROM points_box b JOIN points pt ON pt.pid = b.pid"
    " WHERE b.max_lat >= :min_lat AND b.min_lat <= :max_lat"
    " AND b.max_lon >= :min_lon AND b.min_lon <= :max_lon GROUP BY pt.rid"
)


def _raw_order(case: Case) -> str:
    sort = str(case.query.sort)
    if sort == "relevance" and case.text_score:
        return "m.score, m.id"
    if sort == "relevance":
        return "-best_match(m.rating, m.dist), -m.rating_sort, -m.review_count, m.id"
    if sort == "distance":
        return "m.dist, m.id"
    if sort == "reviews":
        return "-m.review_count, -m.rating_sort, m.id"
    return "-m.rating_sort, -m.review_count, m.id"


def answer_of(result: SearchResult) -> Answer:
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    return Answer(result.ids, result.total, facets)


# -- measuring ----------------------------------------------------------------------------------

Side = Callable[[Case], Any]  # one side's search: a case in, whatever that side answers with


def timed(side: Side, case: Case) -> float:
    """Milliseconds of one search."""
    started = time.perf_counter()
    side(case)
    return (time.perf_counter() - started) * 1000.0


def check(backend: SearchBackend, raw: Callable[[Case], Answer], cases: list[Case]) -> None:
    """Both sides give the same hits, total and facet counts for every search."""
    for case in cases:
        ours, theirs = answer_of(backend.search(case.query)), raw(case)
        if ours != theirs:
            raise SystemExit(
                f"{case.kind}: the backend and the raw baseline disagree on {case.query}:\n"
                f"  backend {ours}\n  raw     {theirs}"
            )


def measure(
    sides: dict[str, Side], cases: list[Case], repeats: int, seed: int
) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per search, by kind and side ("backend", "raw"); each search alternates
    which side goes first."""
    times: dict[str, dict[str, list[float]]] = {c.kind: {} for c in cases}  # in the mix's order
    order = list(range(len(cases)))
    rng = random.Random(seed)
    names = list(sides)
    for repeat in range(repeats):
        rng.shuffle(order)
        for turn, index in enumerate(order):
            case = cases[index]
            for side in names if (repeat + turn) % 2 == 0 else reversed(names):
                times[case.kind].setdefault(side, []).append(timed(sides[side], case))
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def summary(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    everything: dict[str, list[float]] = {"backend": [], "raw": []}
    for kind, sides in times.items():
        rows[kind] = {}
        for side, values in sides.items():
            rows[kind][f"{side}_p50"] = statistics.median(values)
            rows[kind][f"{side}_p95"] = percentile(values, 0.95)
            everything[side] += values
    rows["overall"] = {}
    for side, values in everything.items():
        rows["overall"][f"{side}_p50"] = statistics.median(values)
        rows["overall"][f"{side}_p95"] = percentile(values, 0.95)
    return rows


def print_table(
    rows: dict[str, dict[str, float]],
    matches: dict[str, int],
    before: dict[str, dict[str, float]] | None,
) -> None:
    head = f"{'search':<18} {'matches':>8}"
    if before:
        head += f" | {'before p50':>10} {'p95':>6}"
    head += f" | {'backend p50':>11} {'p95':>6} | {'raw p50':>7} {'p95':>6} | {'ratio':>5}"
    print(head)
    print("-" * len(head))
    for kind, r in rows.items():
        line = f"{kind:<18} {matches.get(kind, ''):>8}"
        if before:
            was = before.get(kind, {})
            p50, p95 = was.get("backend_p50", math.nan), was.get("backend_p95", math.nan)
            line += f" | {p50:>10.1f} {p95:>6.1f}"
        line += (
            f" | {r['backend_p50']:>11.1f} {r['backend_p95']:>6.1f}"
            f" | {r['raw_p50']:>7.1f} {r['raw_p95']:>6.1f}"
            f" | {r['backend_p50'] / r['raw_p50']:>5.2f}"
        )
        print(line)
    print("(milliseconds; ratio: backend p50 / raw p50; matches: median total of the kind)")


@dataclass(frozen=True)
class SearchFigures:
    """A search benchmark's figures: per kind of search and overall, and the suite's row."""

    rows: dict[str, dict[str, float]]  # kind -> backend_p50, backend_p95, raw_p50, raw_p95
    matches: dict[str, int]  # kind -> the median total
    result: StageResult


def search_figures(
    stage: str,
    backend: SearchBackend,
    raw: Callable[[Case], Answer],
    cases: list[Case],
    repeats: int,
    seed: int,
    sizes: str,
    notes: str,
) -> SearchFigures:
    """Check both sides agree on every case, then time them alternately; the figures."""
    check(backend, raw, cases)  # also warms both sides' caches
    matches: dict[str, list[int]] = {}
    for case in cases:
        matches.setdefault(case.kind, []).append(raw(case).total)
    print(f"{sizes}: {len(cases)} searches x {repeats} repeats per side", flush=True)
    sides: dict[str, Side] = {"backend": lambda c: backend.search(c.query), "raw": raw}
    rows = summary(measure(sides, cases, repeats, seed))
    overall = rows["overall"]
    result = StageResult(
        stage=stage,
        tdir=f"p50 {overall['backend_p50']:.1f} ms, p95 {overall['backend_p95']:.1f} ms",
        baseline=f"p50 {overall['raw_p50']:.1f} ms, p95 {overall['raw_p95']:.1f} ms",
        ratio=overall["backend_p50"] / overall["raw_p50"],
        sizes=f"{sizes}, {len(cases)} searches x {repeats}",
        peak_rss_mb=peak_rss_mb(),
        notes=notes,
    )
    return SearchFigures(rows, {k: int(statistics.median(v)) for k, v in matches.items()}, result)


def measure_sqlite(profiles: int, instances: int, repeats: int, seed: int) -> SearchFigures:
    """Build (or reuse) the index; the embedded backend beside hand-written SQL."""
    taxonomy = load_taxonomy()
    cached = index_path(profiles).exists()
    path = build_index(profiles, seed, taxonomy)
    backend = SqliteBackend(path, taxonomy)
    raw = RawSearch(path)
    try:
        cases = [with_cursor(backend, c) for c in query_mix(seed, instances, taxonomy)]
        return search_figures(
            "search sqlite",
            backend,
            raw.search,
            cases,
            repeats,
            seed,
            f"{profiles:,} profiles",
            notes="wall time per search near a metro, in one process; p50 of every search of "
            "the mix; baseline: hand-written SQL on the same file (checked equal: hits, totals, "
            "facet counts); peak RSS: the benchmark's process (both sides"
            + ("" if cached else ", and the index's build")
            + ")",
        )
    finally:
        backend.close()


def run(quick: bool) -> StageResult:
    """The suite's stage: 5,000 profiles if ``quick``, else 100,000."""
    sizes = QUICK if quick else FULL
    return measure_sqlite(sizes["profiles"], sizes["instances"], sizes["repeats"], 7).result


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the index, check both sides agree, time them and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=FULL["profiles"])
    parser.add_argument(
        "--instances", type=int, default=FULL["instances"], help="searches of each kind"
    )
    parser.add_argument(
        "--repeats", type=int, default=FULL["repeats"], help="times each search is timed"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--before", type=Path, help="a saved run to print beside this one")
    args = parser.parse_args(argv)
    figures = measure_sqlite(args.profiles, args.instances, args.repeats, args.seed)
    before = json.loads(args.before.read_text()) if args.before else None
    print_table(figures.rows, figures.matches, before["rows"] if before else None)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(
            json.dumps({"profiles": args.profiles, "rows": figures.rows}, indent=1)
        )
    print_results(figures.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
