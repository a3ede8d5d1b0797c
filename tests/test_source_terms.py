"""Providers' storage terms as catalog data, obeyed by the index build.

Yelp and Google Places are crawled over real HTTP from the demo web's stand-ins; the index is then
built as of different moments. Within a source's ``refresh_within`` its businesses, ratings and
reviews are served (profiles and search results); past it they are not, while the provider ids
stay in the crawl store and the next crawl fetches those businesses again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.catalog import CatalogError, parse_catalog, source_terms
from crawler.demoweb import GroundTruth
from crawler.runs import CrawlStore
from indexer.build import Build, build_profiles, write_index
from indexer.profile import Profile
from indexer.search import SearchQuery
from indexer.search.sqlite_backend import SqliteBackend
from indexer.state import IndexState
from tests.crawling import Crawled, crawl, crawl_sources, latest_records

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

YELP, GOOGLE = "yelp", "google-places"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("terms")


@pytest.fixture(scope="module")
def crawled(home: Path, demo_web: Any, demo_world: Path) -> Crawled:
    return crawl_sources(home, demo_web, demo_world, YELP, GOOGLE)


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


def fetched(crawled: Crawled) -> datetime:
    """When the module's crawl fetched its last record."""
    return max(
        datetime.fromisoformat(r["provenance"]["fetched_at"])
        for records in crawled.records.values()
        for r in records
    )


def index_as_of(home: Path, moment: datetime, where: Path) -> tuple[Build, SqliteBackend]:
    """Build the index of ``home`` as of ``moment`` into a new embedded index at ``where``."""
    build = build_profiles(CrawlStore(home), now=moment)
    backend = SqliteBackend(where / "index.sqlite3")
    write_index(backend, build.profiles.values(), IndexState(where / "state.json"), rebuild=True)
    return build, backend


def both_platforms(truth: GroundTruth) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An owner with a business on Yelp and on Google Maps, and the two businesses."""
    google = {owner["person"]: b for owner, b in truth.businesses(GOOGLE)}
    for owner, business in truth.businesses(YELP):
        if owner["person"] in google:
            return owner, business, google[owner["person"]]
    raise AssertionError("someone has a business on both platforms")


def only_on_yelp(truth: GroundTruth) -> tuple[dict[str, Any], dict[str, Any]]:
    google = {owner["person"] for owner, _ in truth.businesses(GOOGLE)}
    return next((o, b) for o, b in truth.businesses(YELP) if o["person"] not in google)


def near(backend: SqliteBackend, person: dict[str, Any]) -> list[Profile]:
    """The profiles a search within a kilometre of the person's office finds."""
    point = (person["address"]["lat"], person["address"]["lon"])
    result = backend.search(SearchQuery(near=point, radius_km=1, page_size=100))
    return [hit.profile for hit in result.hits]


def providers(profile: Profile) -> set[str]:
    """The sources whose content the profile shows, anywhere in it."""
    return (
        {item.source for item in profile.listings}
        | set(profile.rating.by_source)
        | {r.source for r in profile.reviews}
    )


def test_terms_are_the_catalogs_data() -> None:
    terms = source_terms()
    assert terms[YELP].keep_forever == terms[GOOGLE].keep_forever == ("id",)
    assert terms[YELP].refresh_within == timedelta(days=1)
    assert terms[GOOGLE].refresh_within == timedelta(days=30)
    assert terms[GOOGLE].attribution is not None
    assert terms[GOOGLE].attribution.name == "Google Maps"
    assert "review_author" in terms[GOOGLE].attribution.links
    assert terms[YELP].attribution is not None and "business_page" in terms[YELP].attribution.links
    # A directory states no terms: nothing limits how long its pages' records are served.
    assert "atlas" not in terms


@pytest.mark.parametrize(
    ("terms", "named"),
    [
        ("{refresh_within: soon}", "terms.refresh_within"),
        ("{keep_forever: [name]}", "terms.keep_forever"),
        ("{keep_for: [id]}", r"terms: unknown field\(s\) keep_for"),
        ("{attribution: {links: [logo]}}", "terms.attribution"),
        ("{attribution: {name: Yelp, links: [logo]}}", "terms.attribution.links"),
    ],
)
def test_terms_that_cannot_be_obeyed_are_refused_naming_the_field(terms: str, named: str) -> None:
    text = (
        "sources:\n  - {name: yelp, kind: reviews, spider: yelp_api, "
        f"start_urls: ['http://127.0.0.1:1/v3/'], terms: {terms}}}\n"
    )
    with pytest.raises(CatalogError, match=rf"source 'yelp': {named}"):
        parse_catalog(text, "catalog.yaml")


def test_content_within_its_time_is_served(
    home: Path, crawled: Crawled, truth: GroundTruth, tmp_path: Path
) -> None:
    owner, yelp_business, google_business = both_platforms(truth)
    build, backend = index_as_of(home, fetched(crawled) + timedelta(hours=1), tmp_path)
    try:
        found = near(backend, owner)
    finally:
        backend.close()
    assert build.summary.expired_records == {}
    for source, business in ((YELP, yelp_business), (GOOGLE, google_business)):
        page = crawled.urls[source] + business["path"]
        (profile,) = [p for p in found if page in {item.url for item in p.listings}]
        assert source in providers(profile)
        assert profile.rating.by_source[source].rating == business["aggregate"]["value"]
        assert profile.rating.by_source[source].count == business["aggregate"]["count"]
        shown = [r for r in profile.reviews if r.source == source]
        assert len(shown) == len(business["shown_reviews"])


def test_content_past_its_time_is_no_longer_served(
    home: Path, crawled: Crawled, truth: GroundTruth, tmp_path: Path
) -> None:
    owner, yelp_business, google_business = both_platforms(truth)
    lone_owner, lone_business = only_on_yelp(truth)
    yelp_records = latest_records(home, YELP)
    # Two days on: Yelp's day is past, Google's thirty days are not.
    build, backend = index_as_of(home, fetched(crawled) + timedelta(days=2), tmp_path / "later")
    try:
        found = near(backend, owner)
        near_after = {person["person"]: near(backend, person) for person in (owner, lone_owner)}
        stored = [backend.get(pid) for pid in build.profiles]
    finally:
        backend.close()
    assert build.summary.expired_records == {
        YELP: {
            "listing": sum(r["record_type"] == "listing" for r in yelp_records),
            "review": sum(r["record_type"] == "review" for r in yelp_records),
        }
    }
    assert stored and all(p is not None and YELP not in providers(p) for p in stored)
    google_page = crawled.urls[GOOGLE] + google_business["path"]
    (profile,) = [p for p in found if google_page in {item.url for item in p.listings}]
    assert providers(profile) == {GOOGLE}
    assert profile.rating.by_source[GOOGLE].rating == google_business["aggregate"]["value"]
    for gone, business in ((owner, yelp_business), (lone_owner, lone_business)):
        page = crawled.urls[YELP] + business["path"]
        assert not [p for p in near_after[gone["person"]] if page in {i.url for i in p.listings}]
    # A month on, Google's content is past its time too: nothing of either is served.
    build, backend = index_as_of(home, fetched(crawled) + timedelta(days=31), tmp_path / "month")
    try:
        assert build.profiles == {}
        assert near(backend, owner) == []
    finally:
        backend.close()
    businesses = truth.summary["sites"][GOOGLE]["businesses"]
    assert build.summary.expired_records[GOOGLE]["listing"] == businesses


def test_the_ids_are_kept_and_the_next_crawl_refreshes_the_businesses(
    demo_web: Any, truth: GroundTruth, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (first,) = crawl(home, demo_web.manifest, YELP)
    assert first.status == "finished"
    moment = datetime.fromisoformat(first.finished_at) + timedelta(days=2)
    build, backend = index_as_of(home, moment, tmp_path / "expired")
    backend.close()
    assert build.profiles == {}, "past its day, nothing of Yelp's is served"
    # What the terms let be kept is still there: every business's Yelp id.
    known = {
        r["extras"]["provider_id"]
        for r in latest_records(home, YELP)
        if r["record_type"] == "listing"
    }
    assert len(known) == truth.summary["sites"][YELP]["businesses"]
    log = Path(demo_web.log.path)
    before = len(log.read_text(encoding="utf-8").splitlines())
    (second,) = crawl(home, demo_web.manifest, YELP)
    assert second.status == "finished"
    asked = {
        json.loads(line)["path"]
        for line in log.read_text(encoding="utf-8").splitlines()[before:]
        if json.loads(line)["site"] == YELP
    }
    # The next crawl reads every known business again, by the id kept.
    assert {f"/v3/businesses/{provider_id}" for provider_id in known} <= asked
    build, backend = index_as_of(home, datetime.fromisoformat(second.finished_at), tmp_path / "now")
    backend.close()
    assert YELP not in build.summary.expired_records
    served = {
        item.url for p in build.profiles.values() for item in p.listings if item.source == YELP
    }
    assert len(served) == len(known)
