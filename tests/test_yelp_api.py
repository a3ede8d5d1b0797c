"""The Yelp Fusion API spider against the demo web's Yelp stand-in, over real HTTP.

The demo world's Yelp businesses are crawled whole and compared with the ground truth; then a
stand-in of their own lets tests spend the daily quota mid-crawl (and resume the next "day"),
refuse the key, throttle calls per second and cut searches at a low cap (tiling). The stand-in's
own answers are checked against Yelp's documented behaviour.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from crawler.catalog import CatalogError, load_catalog, site_variables
from crawler.demoweb import SITE_NAMES, GroundTruth
from crawler.demoweb.businesses import platform_settings
from crawler.runs import CrawlStore
from crawler.spiders.yelp_api import YelpApiSpider
from indexer.build import build_profiles
from indexer.evaluate import listing_key
from tests.crawling import Crawled, crawl_sources
from tests.platform_crawls import (
    answered,
    demo_entry,
    latest_records,
    metro_area,
    private_web,
    requests,
    run_crawl,
    write_catalog,
)

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SOURCE = SITE = "yelp"
KEY = platform_settings(SITE)["key"]


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(tmp_path_factory.mktemp("crawl-yelp"), demo_web, demo_world, SOURCE)


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def call(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """GET an API URL: status, headers and the decoded JSON body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


AUTH = {"Authorization": f"Bearer {KEY}"}


# -- a whole crawl ----------------------------------------------------------------------------


def test_every_business_is_gathered_once_with_its_review_excerpts(
    crawled: Crawled, truth: GroundTruth
) -> None:
    run = crawled.runs[SOURCE]
    site = truth.summary["sites"][SITE]
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0
    assert run.items == {"listing": site["businesses"], "review": site["reviews"]}
    listings = crawled.of(SOURCE, "listing")
    assert len({r["id"] for r in listings}) == len(listings)
    assert {_path(r["provenance"]["url"]) for r in listings} == {
        business["path"] for _, business in truth.businesses(SITE)
    }


def test_a_listing_is_its_business_as_yelp_shows_it(crawled: Crawled, truth: GroundTruth) -> None:
    businesses = {b["path"]: (owner, b) for owner, b in truth.businesses(SITE)}
    base = crawled.urls[SITE]
    for record in crawled.of(SOURCE, "listing"):
        owner, business = businesses[_path(record["provenance"]["url"])]
        assert record["name_raw"] == business["name"] == owner["practice"]
        assert record["extras"]["provider_id"] == business["provider_id"]
        # The Yelp page, without Yelp's tracking parameters, is what the listing is known by.
        assert record["source_ref"] == record["extras"]["page_url"] == base + business["page"]
        assert "utm_source=" in record["extras"]["provider_url"]
        rating = record["aggregate_rating"]
        assert (rating["value"], rating["count"]) == (
            business["aggregate"]["value"],
            business["aggregate"]["count"],
        )
        assert rating["value"] * 2 == int(rating["value"] * 2), "Yelp rates in half stars"
        address = owner["address"]
        assert record["address"]["locality"] == address["city"]
        assert record["address"]["postal_code"] == address["zip"]
        assert (record["latitude"], record["longitude"]) == (address["lat"], address["lon"])
        digits = "".join(ch for ch in record["telephone_raw"] if ch.isdigit())
        assert digits == owner["phone"]


def test_reviews_are_the_excerpts_the_api_gives_while_the_count_is_every_review(
    crawled: Crawled, truth: GroundTruth
) -> None:
    base = crawled.urls[SITE]
    by_page: dict[str, Counter[tuple[str, float, str]]] = {}
    for review in crawled.of(SOURCE, "review"):
        assert review["extras"]["page_url"].startswith(review["listing_ref"] + "?")
        assert review["extras"]["author_url"].startswith(base + "/user_details?userid=")
        key = (review["author_raw"], review["rating"]["value"], review["published_raw"])
        by_page.setdefault(review["listing_ref"], Counter())[key] += 1
    expected: dict[str, Counter[tuple[str, float, str]]] = {}
    for _, business in truth.businesses(SITE):
        assert len(business["shown_reviews"]) <= 3 <= max(3, business["aggregate"]["count"])
        for shown in business["shown_reviews"]:
            when = shown["published"][:19].replace("T", " ")
            page = expected.setdefault(base + business["page"], Counter())
            page[(shown["author"], float(shown["rating"]), when)] += 1
    assert by_page == expected


def test_a_business_of_several_therapists_is_one_listing(truth: GroundTruth) -> None:
    groups = [b for _, b in truth.businesses(SITE) if len(b["members"]) > 1]
    assert groups, "some practices on Yelp have several therapists"
    assert truth.summary["sites"][SITE]["group_businesses"] == len(groups)
    # Colleagues have no business of their own: the practice's is where they work.
    for _, business in truth.businesses(SITE):
        for member in business["members"][1:]:
            (entry,) = [e for e in truth.person(member)["businesses"] if e["site"] == SITE]
            assert not entry["owner"] and entry["path"] == business["path"]


def test_a_practice_of_several_therapists_never_joins_them(
    demo_web: Any, demo_world: Path, truth: GroundTruth, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("resolution")
    crawl_sources(home, demo_web, demo_world, "atlas", "reviews", SOURCE, "google-places")
    build = build_profiles(CrawlStore(home))
    person_of = truth.person_by_listing()
    groups = {
        (site, b["path"]): set(b["members"])
        for site in (SOURCE, "google-places")
        for _, b in truth.businesses(site)
        if len(b["members"]) > 1
    }
    assert groups
    merged = 0
    for profile in build.profiles.values():
        keys = {listing_key(item.source, item.url) for item in profile.listings}
        people = {person_of[key] for key in keys if key in person_of}
        # No profile is two people; a practice's business joins its owner's profile at most.
        assert len(people) <= 1, profile.name
        for key in keys & set(groups):
            merged += len(keys) > 1
            (owner,) = people
            assert owner == person_of[key] and owner in groups[key]
    assert merged, "some practices' businesses joined their owners' profiles"


# -- quotas, keys, rates --------------------------------------------------------------------


def test_a_spent_quota_stops_the_crawl_and_the_next_day_resumes_it(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    site = truth.summary["sites"][SITE]
    home = tmp_path / "home"
    with private_web(demo_world, tmp_path / "web") as web:
        stand_in = web.sites[SITE]
        stand_in.limits.daily_limit = 90
        done, (first,) = run_crawl(home, web, SOURCE)
        assert done.returncode == 1
        assert first.status == "interrupted"
        assert first.finish_reason.startswith("quota exhausted")
        assert "Yelp refused further calls today (ACCESS_LIMIT_REACHED)" in done.stderr
        assert first.errors.get("api/quota-exhausted", 0) >= 1
        gathered = first.items.get("listing", 0)
        assert 0 < gathered < site["businesses"]
        assert stand_in.limits.used == 90

        # Midnight UTC: the quota starts again, and the next crawl resumes the same run.
        stand_in.limits.new_day()
        stand_in.limits.daily_limit = 5000
        done, (second,) = run_crawl(home, web, SOURCE)
        assert done.returncode == 0, done.stderr
        log = [e for e in requests(web.log.path, SITE) if e["path"].startswith("/v3/")]
    assert (second.run_id, second.resumed, second.status) == (first.run_id, True, "finished")
    assert second.items == {"listing": site["businesses"], "review": site["reviews"]}
    records = latest_records(home, SOURCE)
    assert len(records) == site["businesses"] + site["reviews"]
    assert len({r["id"] for r in records}) == len(records), "no record twice"
    # Resumed, not started over: no call was answered twice, and the calls the first day
    # answered were not made again.
    calls = answered(log)
    assert max(calls.values()) == 1
    assert sum(calls.values()) == 90 + stand_in.limits.used


def test_a_refused_key_fails_at_once_naming_the_variable_and_loses_nothing(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with private_web(demo_world, tmp_path / "web") as web:
        done, (run,) = run_crawl(home, web, SOURCE, TDIR_YELP_API_KEY="not-the-key")
        refused = [e for e in requests(web.log.path, SITE) if e["path"].startswith("/v3/")]
        assert done.returncode == 1
        assert run.status == "interrupted"
        assert "TDIR_YELP_API_KEY" in run.finish_reason
        assert "API key refused: Yelp does not accept the key in TDIR_YELP_API_KEY" in done.stderr
        assert "TOKEN_INVALID" in done.stderr
        assert run.errors.get("api/key-refused", 0) >= 1
        # At once: the calls already on their way, not the whole crawl.
        assert refused and all(e["status"] == 401 for e in refused)
        assert len(refused) <= 4
        # The right key (the demo key, the variable unset): the same run resumes and completes.
        done, (again,) = run_crawl(home, web, SOURCE)
    assert done.returncode == 0, done.stderr
    assert (again.run_id, again.status) == (run.run_id, "finished")
    site = truth.summary["sites"][SITE]
    assert again.items == {"listing": site["businesses"], "review": site["reviews"]}


def test_no_key_at_all_is_refused_before_any_call(demo_world: Path, tmp_path: Path) -> None:
    entry = demo_entry(SOURCE)
    del entry["options"]["demo_api_key"]
    catalog = write_catalog(tmp_path / "catalog.yaml", entry)
    with private_web(demo_world, tmp_path / "web") as web:
        done, runs = run_crawl(tmp_path / "home", web, SOURCE, catalog=catalog)
        assert not [e for e in requests(web.log.path, SITE) if e["path"].startswith("/v3/")]
    assert done.returncode != 0 and not runs
    assert "TDIR_YELP_API_KEY is not set" in done.stderr


def test_too_many_calls_a_second_are_backed_off_and_asked_again(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    entry = demo_entry(SOURCE)
    entry["options"]["areas"] = [metro_area(SOURCE, "los-angeles")]
    catalog = write_catalog(tmp_path / "catalog.yaml", entry)
    expected = {b["path"] for owner, b in truth.businesses(SITE) if owner["metro"] == "los-angeles"}
    with private_web(demo_world, tmp_path / "web") as web:
        web.sites[SITE].limits.per_window = 3  # the catalog says 40 a second: far too fast
        done, (run,) = run_crawl(tmp_path / "home", web, SOURCE, catalog=catalog)
        log = requests(web.log.path, SITE)
    assert done.returncode == 0, done.stderr
    assert run.status == "finished" and run.errors == {}
    throttled = [e for e in log if e["status"] == 429]
    assert throttled, "the stand-in refused calls for going too fast"
    listings = [
        r for r in latest_records(tmp_path / "home", SOURCE) if r["record_type"] == "listing"
    ]
    assert {_path(r["provenance"]["url"]) for r in listings} == expected


def test_a_tile_with_more_businesses_than_a_search_reaches_is_split(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    entry = demo_entry(SOURCE)
    entry["options"].update(areas=[metro_area(SOURCE, "los-angeles")], max_results=4, page_size=2)
    catalog = write_catalog(tmp_path / "catalog.yaml", entry)
    expected = {b["path"] for owner, b in truth.businesses(SITE) if owner["metro"] == "los-angeles"}
    assert len(expected) > 4
    with private_web(demo_world, tmp_path / "web") as web:
        web.sites[SITE].max_results = 4
        done, (run,) = run_crawl(tmp_path / "home", web, SOURCE, catalog=catalog)
        log = requests(web.log.path, SITE)
    assert done.returncode == 0, done.stderr
    assert run.status == "finished" and run.errors == {}
    listings = [
        r for r in latest_records(tmp_path / "home", SOURCE) if r["record_type"] == "listing"
    ]
    assert {_path(r["provenance"]["url"]) for r in listings} == expected
    searches = [e for e in log if e["path"].startswith("/v3/businesses/search")]
    radii = {parse_qs(urlsplit(e["path"]).query)["radius"][0] for e in searches}
    assert len(radii) > 2, "tiles were split into smaller circles"
    assert all(e["status"] == 200 for e in searches), "no search asked past the cap"


# -- the stand-in's fidelity ----------------------------------------------------------------


def test_the_stand_in_answers_as_yelp_documents(demo_web: Any, truth: GroundTruth) -> None:
    base = demo_web.urls[SITE] + "/v3/businesses"
    owner, business = next(truth.businesses(SITE))
    lat, lon = owner["address"]["lat"], owner["address"]["lon"]
    near = {
        "latitude": lat,
        "longitude": lon,
        "radius": 2000,
        "categories": "massage,massage_therapy",
    }
    status, headers, found = call(f"{base}/search?{urlencode(near)}", AUTH)
    assert status == 200
    assert {"RateLimit-DailyLimit", "RateLimit-Remaining", "RateLimit-ResetTime"} <= set(headers)
    assert business["provider_id"] in {b["id"] for b in found["businesses"]}
    assert found["total"] >= len(found["businesses"])
    assert call(f"{base}/search?{urlencode({**near, 'limit': 50, 'offset': 200})}", AUTH)[2] == {
        "error": {
            "code": "VALIDATION_ERROR",
            "description": "Too many results requested, limit+offset must be <= 240.",
        }
    }
    status, _, error = call(f"{base}/search?{urlencode({**near, 'radius': 40001})}", AUTH)
    assert (status, error["error"]["code"]) == (400, "VALIDATION_ERROR")
    status, _, error = call(f"{base}/search?{urlencode({**near, 'limit': 51})}", AUTH)
    assert (status, error["error"]["code"]) == (400, "VALIDATION_ERROR")
    status, _, reviews = call(f"{base}/{business['provider_id']}/reviews", AUTH)
    assert status == 200
    assert len(reviews["reviews"]) == min(3, business["aggregate"]["count"])
    assert reviews["total"] == business["aggregate"]["count"]
    status, _, error = call(f"{base}/{business['provider_id']}")
    assert (status, error["error"]["code"]) == (401, "TOKEN_MISSING")
    status, _, error = call(f"{base}/{business['provider_id']}", {"Authorization": "Bearer x"})
    assert (status, error["error"]["code"]) == (401, "TOKEN_INVALID")
    status, _, error = call(f"{base}/no-such-business-at-all-xx", AUTH)
    assert (status, error["error"]["code"]) == (404, "BUSINESS_NOT_FOUND")


def test_the_catalog_names_the_variable_and_the_stand_ins_key(tmp_path: Path) -> None:
    variables = site_variables({s: "http://127.0.0.1:1" for s in SITE_NAMES})
    source = load_catalog(None, variables).get(SOURCE)
    assert source.options["api_key_variable"] == "TDIR_YELP_API_KEY"
    # The demo catalog's fallback key is the one the demo web's stand-in accepts.
    assert source.options["demo_api_key"] == KEY
    assert source.terms is not None and source.terms.keep_forever == ("id",)
    entry = demo_entry(SOURCE)
    entry["options"]["tile_km"] = 90  # circles past Yelp's 40 km radius
    broken = load_catalog(write_catalog(tmp_path / "c.yaml", entry), variables).get(SOURCE)
    with pytest.raises(CatalogError, match="tile_km"):
        YelpApiSpider.check_options(broken)
