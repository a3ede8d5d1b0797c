"""The indexer on a real crawl of the demo web, checked against the demo web's ground truth.

One crawl of every catalog source (over HTTP, as `tdir crawl --all` does), one index build per
backend; then: resolution scored against the true people, false credential claims flagged, true
active ones verified, combined ratings recomputed by hand, and a condition search near a ZIP.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import GroundTruth
from indexer.evaluate import listing_key
from indexer.geo import distance_km
from indexer.geocode import zip_centroid
from indexer.profile import Profile
from indexer.search import SearchQuery
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.sqlite_backend import SqliteBackend
from indexer.taxonomy import load_taxonomy
from tests.crawling import copy_home, run_tdir, standing_today

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, crawled_demo: Path) -> Path:
    home = copy_home(crawled_demo, tmp_path_factory.mktemp("index-demo"))
    done = run_tdir(home, "index", "--json")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture(scope="module")
def summary(home: Path) -> dict[str, Any]:
    done = run_tdir(home, "index", "--json")  # a second run over the same records
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def profiles(home: Path) -> list[Profile]:
    backend = SqliteBackend(home / "index.sqlite3")
    rows = backend._conn().execute("SELECT profile FROM profiles").fetchall()
    backend.close()
    return [Profile.from_dict(json.loads(r[0])) for r in rows]


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


@pytest.fixture(scope="module")
def person_of(truth: GroundTruth) -> dict[tuple[str, str], int]:
    return truth.person_by_listing()


def people_in(profile: Profile, person_of: dict[tuple[str, str], int]) -> set[int]:
    return {
        person_of[key]
        for listing in profile.listings
        if (key := listing_key(listing.source, listing.url)) in person_of
    }


def test_reindexing_the_same_records_changes_nothing(summary: dict[str, Any]) -> None:
    assert summary["written"] == 0
    assert summary["deleted"] == 0
    assert summary["unchanged"] == summary["profiles"] > 0


def test_resolution_matches_the_true_people(home: Path, demo_world: Path) -> None:
    done = run_tdir(home, "evaluate", "--truth", str(demo_world), "--json")
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    print(f"\nentity resolution on the demo web: {scores}")
    assert scores["unknown_listings"] == 0
    assert scores["f1"] >= 0.99


@pytest.fixture(scope="module")
def profiles_of_person(
    profiles: list[Profile], person_of: dict[tuple[str, str], int]
) -> dict[int, list[Profile]]:
    by_person: dict[int, list[Profile]] = defaultdict(list)
    for profile in profiles:
        for person in people_in(profile, person_of):
            by_person[person].append(profile)
    return by_person


def statuses(found: list[Profile], credential: str) -> set[str]:
    return {c.status for p in found for c in p.credentials if c.type == credential}


def test_every_false_claim_is_flagged(
    profiles_of_person: dict[int, list[Profile]], truth: GroundTruth
) -> None:
    flagged = unverifiable = 0
    for person in truth.people():
        found = profiles_of_person.get(person["person"], [])
        if not found:
            continue  # on no crawled site
        published = {
            claim["credential"]
            for listing in person["listings"]
            for claim in listing["claims"]
            if claim["false"]
        }
        for claim in person["false_claims"]:
            if claim["credential"] not in published:
                continue  # claimed only where the site does not show credentials
            seen = statuses(found, claim["credential"])
            if claim["issuer_site"] is None:
                # No registry of that issuer is crawled (a state without a board on the web).
                assert "unverifiable" in seen, (person["name"], claim, seen)
                unverifiable += 1
                continue
            assert "not_found" in seen, (person["name"], claim, seen)
            assert any(p.credential_flags for p in found)
            flagged += 1
    assert flagged > 0 and unverifiable > 0


def test_every_true_active_credential_is_verified(
    profiles_of_person: dict[int, list[Profile]], truth: GroundTruth
) -> None:
    verified = 0
    for person in truth.people():
        found = profiles_of_person.get(person["person"], [])
        claimed = {
            claim["credential"]
            for listing in person["listings"]
            for claim in listing["claims"]
            if not claim["false"]
        }
        for credential in person["credentials"]:
            if (
                not found
                or credential["issuer_site"] is None
                or standing_today(credential) != "active"
                or credential["credential"] not in claimed
            ):
                continue
            seen = statuses(found, credential["credential"])
            assert "verified" in seen, (person["name"], credential, seen)
            verified += 1
    assert verified > 0


def test_combined_ratings_recomputed_by_hand(profiles: list[Profile]) -> None:
    rated = [p for p in profiles if p.rating.review_count >= 3]
    assert rated
    for profile in rated:
        by_source = profile.rating.by_source
        # Reviews count one by one only from sources whose reviews were all crawled; a source
        # that publishes an aggregate counts with it.
        stars = [
            r.rating
            for r in profile.reviews
            if r.rating is not None and by_source[r.source].basis == "reviews"
        ]
        aggregates = [(s.rating, s.count) for s in by_source.values() if s.basis == "published"]
        total = sum(stars) + sum(r * n for r, n in aggregates)
        count = len(stars) + sum(n for _, n in aggregates)
        expected = (5 * 4.0 + total) / (5 + count)  # the README's prior: 5 reviews of 4 stars
        assert profile.rating.combined == pytest.approx(expected, abs=0.001)
        assert profile.rating.review_count == count


@pytest.mark.parametrize("backend_name", ["sqlite", "elasticsearch"])
def test_condition_search_near_a_zip_finds_exactly_who_addresses_it(
    backend_name: str, home: Path, profiles: list[Profile], es_client: Any
) -> None:
    taxonomy = load_taxonomy()
    addressing = set(taxonomy.term("condition", "sciatica").addressed_by)
    center = zip_centroid("78704")
    assert center is not None
    radius_km = 40.0
    expected = {
        p.id
        for p in profiles
        if p.active
        and set(taxonomy.expand_modalities(p.modalities)) & addressing
        and any(
            distance_km(center.point.lat, center.point.lon, loc.lat, loc.lon) <= radius_km
            for loc in p.locations
        )
    }
    assert expected, "the demo web has NMT therapists around Austin"
    if backend_name == "sqlite":
        backend: Any = SqliteBackend(home / "index.sqlite3")
    else:
        backend = ElasticsearchBackend(es_client, "tdir-index-demo-test")
        backend.rebuild(profiles)
    try:
        result = backend.search(
            SearchQuery(
                near=center.point, radius_km=radius_km, conditions=["sciatica"], page_size=100
            )
        )
    finally:
        if backend_name == "elasticsearch":
            for index in es_client.indices.get(index="tdir-index-demo-test-v*"):
                es_client.indices.delete(index=index)
        else:
            backend.close()
    assert set(result.ids) == expected
    assert all(h.distance_km is not None and h.distance_km <= radius_km for h in result.hits)


def test_condition_search_finds_people_who_truly_offer_an_addressing_modality(
    home: Path, truth: GroundTruth, person_of: dict[tuple[str, str], int]
) -> None:
    taxonomy = load_taxonomy()
    addressing = set(taxonomy.term("condition", "sciatica").addressed_by)
    true_modalities = {p["person"]: set(p["modalities"]) for p in truth.people()}
    center = zip_centroid("78704")
    assert center is not None
    backend = SqliteBackend(home / "index.sqlite3")
    result = backend.search(
        SearchQuery(near=center.point, radius_km=40, conditions=["sciatica"], page_size=100)
    )
    backend.close()
    assert result.hits
    for hit in result.hits:
        for person in people_in(hit.profile, person_of):
            offered = set(taxonomy.expand_modalities(true_modalities[person]))
            assert offered & addressing, (hit.profile.name, true_modalities[person])
