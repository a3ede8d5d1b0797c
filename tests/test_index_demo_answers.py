"""The three answers a client relies on — nearby, licensed, well rated — on a real crawl of the
demo web, on both backends, checked against its ground truth and with invariants over random
queries.

The demo web has the shapes real directories have: one office exact on one site and only its
city on another, listings with two offices, pages that publish "4.7 from 112" and embed five
reviews. The index is built once from one crawl (`tdir crawl --all`, `tdir index`) and copied to
Elasticsearch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.demoweb import GroundTruth
from indexer.evaluate import listing_key
from indexer.geo import KM_PER_MILE, distance_km
from indexer.profile import Profile
from indexer.search import SearchQuery
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.sqlite_backend import SqliteBackend
from tests.crawling import copy_home, run_tdir

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SAME_OFFICE_KM = 0.3


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, crawled_demo: Path) -> Path:
    home = copy_home(crawled_demo, tmp_path_factory.mktemp("index-demo-answers"))
    done = run_tdir(home, "index")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def profiles(home: Path) -> dict[str, Profile]:
    backend = SqliteBackend(home / "index.sqlite3")
    rows = backend._conn().execute("SELECT profile FROM profiles").fetchall()
    backend.close()
    found = [Profile.from_dict(json.loads(r[0])) for r in rows]
    return {p.id: p for p in found}


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


@pytest.fixture(scope="module")
def people_of(profiles: dict[str, Profile], truth: GroundTruth) -> dict[str, set[int]]:
    person_of = truth.person_by_listing()
    return {
        pid: {
            person_of[key]
            for listing in profile.listings
            if (key := listing_key(listing.source, listing.url)) in person_of
        }
        for pid, profile in profiles.items()
    }


@pytest.fixture(scope="module", params=["sqlite", "elasticsearch"])
def demo_backend(
    request: pytest.FixtureRequest, home: Path, profiles: dict[str, Profile]
) -> Iterator[Any]:
    """The demo index on each backend in turn."""
    if request.param == "sqlite":
        backend: Any = SqliteBackend(home / "index.sqlite3")
        yield backend
        backend.close()
        return
    es_client = request.getfixturevalue("es_client")
    alias = f"tdir-demo-answers-{uuid.uuid4().hex[:8]}"
    backend = ElasticsearchBackend(es_client, alias)
    backend.rebuild(profiles.values())
    yield backend
    for index in es_client.indices.get(index=f"{alias}-v*"):
        es_client.indices.delete(index=index)


def _offices_points(truth: GroundTruth) -> list[tuple[float, float]]:
    return [(o["lat"], o["lon"]) for p in truth.people() for o in p.get("offices") or ()]


# -- nearby -----------------------------------------------------------------------------------


@st.composite
def near_an_office(draw: st.DrawFn, points: list[tuple[float, float]]) -> tuple[float, float]:
    lat, lon = draw(st.sampled_from(points))
    return (
        round(lat + draw(st.floats(-0.15, 0.15)), 5),
        round(lon + draw(st.floats(-0.15, 0.15)), 5),
    )


def test_every_distance_is_to_the_nearest_served_location_within_the_radius(
    demo_backend: Any, profiles: dict[str, Profile], truth: GroundTruth
) -> None:
    points = _offices_points(truth)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(near_an_office(points), st.floats(1.0, 30.0), st.sampled_from(["distance", "relevance"]))
    def check(point: tuple[float, float], radius_mi: float, sort: str) -> None:
        radius_km = radius_mi * KM_PER_MILE
        cursor = None
        seen: list[float] = []
        found: set[str] = set()
        while True:
            query = SearchQuery(
                near=point, radius_km=radius_km, sort=sort, page_size=50, cursor=cursor
            )
            result = demo_backend.search(query)
            for hit in result.hits:
                profile = profiles[hit.id]
                nearest = min(distance_km(*point, loc.lat, loc.lon) for loc in profile.locations)
                assert hit.distance_km == pytest.approx(nearest, abs=1e-3), hit.id
                assert hit.distance_km <= radius_km + 1e-6
                seen.append(hit.distance_km)
                found.add(hit.id)
            cursor = result.next_cursor
            if cursor is None:
                break
        if sort == "distance":
            assert seen == sorted(seen)
        expected = {
            pid
            for pid, p in profiles.items()
            if p.active
            and any(distance_km(*point, loc.lat, loc.lon) <= radius_km for loc in p.locations)
        }
        assert found == expected

    check()


def test_one_office_is_one_location_at_its_most_precise_position(
    profiles: dict[str, Profile], people_of: dict[str, set[int]], truth: GroundTruth
) -> None:
    """Against the truth: each location of a profile is a distinct office, and an office any
    source gives exactly is served at that exact point, never beside a city-centre guess."""
    stale = {p["person"] for p in truth.people() if any(i["stale_address"] for i in p["listings"])}
    checked_exact_and_city = 0
    for pid, profile in profiles.items():
        people = people_of[pid]
        if len(people) != 1 or people & stale:
            continue

        addresses = [(loc.street, loc.postal_code) for loc in profile.locations if loc.street]
        assert len(addresses) == len(set(addresses)), (pid, addresses)
        published = {}
        precision_by_office: dict[int, set[str]] = {}
        for listing in profile.listings:
            for listed in truth.listed_locations(listing.source, listing.url):
                if listed.office is None:
                    continue
                published[listed.office] = listed.location
                precision_by_office.setdefault(listed.office, set()).add(listed.precision)
        # No more locations than the offices the listings publish.
        assert len(profile.locations) <= len(published), (pid, profile.locations)
        for office, location in published.items():
            if "coordinates" not in precision_by_office[office]:
                continue
            exact = [
                loc
                for loc in profile.locations
                if distance_km(loc.lat, loc.lon, location.lat, location.lon) <= SAME_OFFICE_KM
            ]
            assert len(exact) == 1 and not exact[0].approximate, (pid, office, profile.locations)
            if "city" in precision_by_office[office]:
                checked_exact_and_city += 1
                assert not any(loc.precision == "city" for loc in profile.locations), pid
    assert checked_exact_and_city >= 10, "the demo web lists offices exact and city-only"


def test_every_office_a_listing_publishes_is_served(
    profiles: dict[str, Profile], people_of: dict[str, set[int]], truth: GroundTruth
) -> None:
    several = 0
    for pid, profile in profiles.items():
        if len(people_of[pid]) != 1:
            continue
        for listing in profile.listings:
            listed = [
                loc
                for loc in truth.listed_locations(listing.source, listing.url)
                if loc.office is not None and loc.precision == "coordinates"
            ]
            several += len(listed) > 1
            for loc in listed:
                assert any(
                    distance_km(s.lat, s.lon, loc.location.lat, loc.location.lon) <= SAME_OFFICE_KM
                    for s in profile.locations
                ), (pid, listing.url, loc)
    assert several >= 5, "the demo web has listings with two exact offices"


# -- licensed ---------------------------------------------------------------------------------


def test_verified_only_means_an_active_license_its_board_confirms(
    demo_backend: Any,
    profiles: dict[str, Profile],
    people_of: dict[str, set[int]],
    truth: GroundTruth,
) -> None:
    result = demo_backend.search(SearchQuery(verified_only=True, page_size=100))
    hits = list(result.hits)
    while result.next_cursor:
        result = demo_backend.search(
            SearchQuery(verified_only=True, page_size=100, cursor=result.next_cursor)
        )
        hits += result.hits
    assert hits
    for hit in hits:
        profile = hit.profile
        assert profile.verification.license_verified
        assert any(
            c.kind == "state_license" and c.status == "verified" and c.checked_on
            for c in profile.credentials
        )
        # The truth agrees: the person holds an active license at a board that is crawled.
        assert any(
            c["kind"] == "state_license" and c["status"] == "active" and c["issuer_site"]
            for person in people_of[hit.id]
            for c in truth.person(person)["credentials"]
        ), hit.id
    # Every active profile whose board confirms its license is found: nothing else counts.
    expected = {p.id for p in profiles.values() if p.active and p.verification.license_verified}
    assert {h.id for h in hits} == expected


def test_an_npi_or_certification_alone_never_counts_as_verified(
    profiles: dict[str, Profile],
) -> None:
    others_only = [
        p
        for p in profiles.values()
        if any(c.status == "verified" for c in p.credentials)
        and not any(c.kind == "state_license" and c.status == "verified" for c in p.credentials)
    ]
    assert others_only, "the demo web has therapists with an NPI or BCTMB and no license"
    assert not any(p.verification.license_verified for p in others_only)


# -- well rated -------------------------------------------------------------------------------


def test_a_published_aggregate_is_the_sources_rating(
    profiles: dict[str, Profile], truth: GroundTruth
) -> None:
    partial = 0
    for profile in profiles.values():
        for listing in profile.listings:
            if not listing.active:
                continue
            try:
                published = truth.published_aggregate(listing.source, listing.url)
            except KeyError:
                continue  # a page the site does not publish any more
            if published is None:
                continue
            shown = profile.rating.by_source[listing.source]
            # The site's own score and count, whether its page embeds a few reviews or all.
            assert (shown.rating, shown.count, shown.basis) == (
                published.value,
                published.count,
                "published",
            ), (profile.id, listing.url)
            if not published.all_embedded:
                partial += 1
                assert shown.reviews_crawled < published.count
    assert partial >= 10, "the demo web publishes aggregates beside a few reviews"
