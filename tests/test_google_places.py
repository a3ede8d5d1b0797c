"""The Google Places API (New) spider against the demo web's Places stand-in, over real HTTP.

The demo world's places are crawled whole and compared with the ground truth; a stand-in of
their own lets tests spend the daily quota mid-crawl (and resume the next "day"), refuse the key
and cut searches at a low cap (tiling). The stand-in's field masks, keys and paging are checked
against what Google documents.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.demoweb import GroundTruth
from crawler.demoweb.businesses import platform_settings
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

SOURCE = SITE = "google-places"
KEY = platform_settings(SITE)["key"]
MISSING_MASK = (
    "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters "
    "on how to provide it."
)


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(tmp_path_factory.mktemp("crawl-places"), demo_web, demo_world, SOURCE)


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def call(
    url: str, headers: dict[str, str] | None = None, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """A GET (or a POST of ``body`` as JSON) to the API: the status and the decoded answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# -- a whole crawl ----------------------------------------------------------------------------


def test_every_place_is_gathered_once_with_its_reviews(
    crawled: Crawled, truth: GroundTruth
) -> None:
    run = crawled.runs[SOURCE]
    site = truth.summary["sites"][SITE]
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0
    assert run.items == {"listing": site["businesses"], "review": site["reviews"]}
    listings = crawled.of(SOURCE, "listing")
    assert {_path(r["provenance"]["url"]) for r in listings} == {
        business["path"] for _, business in truth.businesses(SITE)
    }


def test_a_listing_is_its_place_as_google_maps_shows_it(
    crawled: Crawled, truth: GroundTruth
) -> None:
    businesses = {b["path"]: (owner, b) for owner, b in truth.businesses(SITE)}
    base = crawled.urls[SITE]
    for record in crawled.of(SOURCE, "listing"):
        owner, business = businesses[_path(record["provenance"]["url"])]
        assert record["name_raw"] == business["name"]
        assert record["extras"]["provider_id"] == business["provider_id"]
        # The place's Google Maps page (googleMapsUri) is what the listing is known by.
        assert record["source_ref"] == record["extras"]["page_url"] == base + business["page"]
        rating = record["aggregate_rating"]
        assert (rating["value"], rating["count"]) == (
            business["aggregate"]["value"],
            business["aggregate"]["count"],
        )
        address = owner["address"]
        assert record["address"]["locality"] == address["city"]
        assert record["address"]["region"] == address["state"]
        assert record["address"]["postal_code"] == address["zip"]
        assert record["address"]["street"].startswith(address["number"] + " ")
        assert (record["latitude"], record["longitude"]) == (address["lat"], address["lon"])
        digits = "".join(ch for ch in record["telephone_raw"] if ch.isdigit())
        assert digits == owner["phone"]


def test_reviews_keep_their_author_attribution(crawled: Crawled, truth: GroundTruth) -> None:
    base = crawled.urls[SITE]
    by_place: dict[str, Counter[tuple[str, float, str]]] = {}
    for review in crawled.of(SOURCE, "review"):
        assert review["extras"]["author_url"].startswith(base + "/maps/contrib/")
        assert review["extras"]["page_url"].startswith(review["listing_ref"] + "&review=")
        key = (review["author_raw"], review["rating"]["value"], review["published_raw"][:19])
        by_place.setdefault(review["listing_ref"], Counter())[key] += 1
    expected: dict[str, Counter[tuple[str, float, str]]] = {}
    for _, business in truth.businesses(SITE):
        assert len(business["shown_reviews"]) <= 5
        for shown in business["shown_reviews"]:
            place = expected.setdefault(base + business["page"], Counter())
            place[(shown["author"], float(shown["rating"]), shown["published"][:19])] += 1
    assert by_place == expected


# -- quotas and keys --------------------------------------------------------------------------


def test_a_spent_quota_stops_the_crawl_and_the_next_day_resumes_it(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    site = truth.summary["sites"][SITE]
    home = tmp_path / "home"
    with private_web(demo_world, tmp_path / "web") as web:
        stand_in = web.sites[SITE]
        stand_in.limits.daily_limit = 100
        done, (first,) = run_crawl(home, web, SOURCE)
        assert done.returncode == 1
        assert first.status == "interrupted"
        assert first.finish_reason.startswith("quota exhausted")
        assert "Google Places refused further calls today (RESOURCE_EXHAUSTED)" in done.stderr
        assert first.errors.get("api/quota-exhausted", 0) >= 1
        assert 0 < first.items.get("listing", 0) < site["businesses"]
        assert stand_in.limits.used == 100
        # The next day: the quota starts again, and the next crawl resumes the same run.
        stand_in.limits.new_day()
        stand_in.limits.daily_limit = 5000
        done, (second,) = run_crawl(home, web, SOURCE)
        assert done.returncode == 0, done.stderr
        log = [e for e in requests(web.log.path, SITE) if e["path"].startswith("/v1/")]
        second_day = stand_in.limits.used
    assert (second.run_id, second.resumed, second.status) == (first.run_id, True, "finished")
    assert second.items == {"listing": site["businesses"], "review": site["reviews"]}
    records = latest_records(home, SOURCE)
    assert len(records) == len({r["id"] for r in records}) == site["businesses"] + site["reviews"]
    # Resumed, not started over: every place was read once, and the day-one calls (searches
    # included) were not made again.
    details = answered([e for e in log if e["method"] == "GET"])
    assert len(details) == site["businesses"] and max(details.values()) == 1
    assert sum(answered(log).values()) == 100 + second_day


def test_a_spent_per_minute_quota_is_backed_off_and_asked_again(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    entry = demo_entry(SOURCE)
    entry["options"]["areas"] = [metro_area(SOURCE, "los-angeles")]
    catalog = write_catalog(tmp_path / "catalog.yaml", entry)
    expected = {b["path"] for owner, b in truth.businesses(SITE) if owner["metro"] == "los-angeles"}
    with private_web(demo_world, tmp_path / "web") as web:
        limits = web.sites[SITE].limits
        # Three calls a "minute" of one second: the catalog's pace (40 a second) is far too fast.
        limits.per_window, limits.window_seconds = 3, 1.0
        done, (run,) = run_crawl(tmp_path / "home", web, SOURCE, catalog=catalog)
        log = requests(web.log.path, SITE)
        refused = dict(limits.refused)
    assert done.returncode == 0, done.stderr
    assert run.status == "finished" and run.errors == {}
    throttled = [e for e in log if e["status"] == 429]
    assert throttled and refused == {"rate": len(throttled), "quota": 0}
    listings = [
        r for r in latest_records(tmp_path / "home", SOURCE) if r["record_type"] == "listing"
    ]
    assert len(listings) == len(expected)
    assert {_path(r["provenance"]["url"]) for r in listings} == expected
    # Each refused call was asked again and answered: every place read exactly once.
    details = answered([e for e in log if e["method"] == "GET" and e["path"].startswith("/v1/")])
    assert set(details) == {("GET", path) for path in expected}
    assert max(details.values()) == 1


def test_a_refused_key_fails_at_once_naming_the_variable(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with private_web(demo_world, tmp_path / "web") as web:
        done, (run,) = run_crawl(home, web, SOURCE, TDIR_GOOGLE_PLACES_API_KEY="not-the-key")
        refused = [e for e in requests(web.log.path, SITE) if e["path"].startswith("/v1/")]
        assert done.returncode == 1
        assert run.status == "interrupted"
        assert "TDIR_GOOGLE_PLACES_API_KEY" in run.finish_reason
        assert "API key not valid" in done.stderr
        assert refused and all(e["status"] == 400 for e in refused) and len(refused) <= 4
        done, (again,) = run_crawl(home, web, SOURCE)
    assert done.returncode == 0, done.stderr
    assert (again.run_id, again.status) == (run.run_id, "finished")
    site = truth.summary["sites"][SITE]
    assert again.items == {"listing": site["businesses"], "review": site["reviews"]}


def test_a_search_reaching_the_cap_inside_its_circle_is_split(
    demo_world: Path, truth: GroundTruth, tmp_path: Path
) -> None:
    entry = demo_entry(SOURCE)
    entry["options"].update(areas=[metro_area(SOURCE, "los-angeles")], max_results=6, page_size=2)
    catalog = write_catalog(tmp_path / "catalog.yaml", entry)
    expected = {b["path"] for owner, b in truth.businesses(SITE) if owner["metro"] == "los-angeles"}
    assert len(expected) > 6
    with private_web(demo_world, tmp_path / "web") as web:
        web.sites[SITE].max_results = 6
        web.sites[SITE].page_size = 2
        done, (run,) = run_crawl(tmp_path / "home", web, SOURCE, catalog=catalog)
        searches = [e for e in requests(web.log.path, SITE) if e["method"] == "POST"]
    assert done.returncode == 0, done.stderr
    assert run.status == "finished" and run.errors == {}
    listings = [
        r for r in latest_records(tmp_path / "home", SOURCE) if r["record_type"] == "listing"
    ]
    assert {_path(r["provenance"]["url"]) for r in listings} == expected
    # Four first tiles of at most three pages each make twelve searches: more were split off.
    assert len(searches) > 12
    assert all(e["status"] == 200 for e in searches)


# -- the stand-in's fidelity ----------------------------------------------------------------


def test_the_field_mask_is_mandatory_and_honoured(demo_web: Any, truth: GroundTruth) -> None:
    base = demo_web.urls[SITE] + "/v1"
    owner, business = next(truth.businesses(SITE))
    query = {
        "textQuery": "massage therapist",
        "locationBias": {
            "circle": {
                "center": {
                    "latitude": owner["address"]["lat"],
                    "longitude": owner["address"]["lon"],
                },
                "radius": 5000.0,
            }
        },
        "pageSize": 2,
    }
    key = {"X-Goog-Api-Key": KEY}
    status, error = call(f"{base}/places:searchText", key, query)
    assert status == 400
    assert error["error"]["status"] == "INVALID_ARGUMENT"
    assert error["error"]["message"].startswith(MISSING_MASK)
    status, error = call(f"{base}/places/{business['provider_id']}", key)
    assert (status, error["error"]["status"]) == (400, "INVALID_ARGUMENT")
    masked = {**key, "X-Goog-FieldMask": "places.id,places.fooBar"}
    status, error = call(f"{base}/places:searchText", masked, query)
    assert (status, error["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert "places.fooBar" in error["error"]["message"]
    # Only the masked fields come back; the next page's token only when asked for.
    masked = {**key, "X-Goog-FieldMask": "places.id,places.displayName"}
    status, found = call(f"{base}/places:searchText", masked, query)
    assert status == 200 and set(found) == {"places"}
    assert found["places"][0] == {
        "id": business["provider_id"],
        "displayName": {"text": business["name"], "languageCode": "en"},
    }
    masked = {**key, "X-Goog-FieldMask": "places.id,nextPageToken"}
    status, first = call(f"{base}/places:searchText", masked, query)
    assert [set(p) for p in first["places"]] == [{"id"}, {"id"}]
    status, second = call(
        f"{base}/places:searchText", masked, {**query, "pageToken": first["nextPageToken"]}
    )
    assert status == 200
    assert not {p["id"] for p in first["places"]} & {p["id"] for p in second["places"]}
    status, wrong = call(
        f"{base}/places:searchText", masked, {**query, "textQuery": "x", "pageToken": "bad"}
    )
    assert (status, wrong["error"]["status"]) == (400, "INVALID_ARGUMENT")
    masked = {**key, "X-Goog-FieldMask": "rating,reviews.authorAttribution"}
    status, place = call(f"{base}/places/{business['provider_id']}", masked)
    assert status == 200 and set(place) == {"rating", "reviews"}
    assert place["rating"] == business["aggregate"]["value"]
    assert [set(r) for r in place["reviews"]] == [{"authorAttribution"}] * len(
        business["shown_reviews"]
    )


def test_keys_are_checked_as_google_checks_them(demo_web: Any, truth: GroundTruth) -> None:
    base = demo_web.urls[SITE] + "/v1"
    _, business = next(truth.businesses(SITE))
    url = f"{base}/places/{business['provider_id']}"
    mask = {"X-Goog-FieldMask": "id"}
    status, error = call(url, mask)
    assert (status, error["error"]["status"]) == (403, "PERMISSION_DENIED")
    status, error = call(url, {**mask, "X-Goog-Api-Key": "wrong"})
    assert (status, error["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert error["error"]["message"] == "API key not valid. Please pass a valid API key."
    assert error["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    status, place = call(url, {**mask, "X-Goog-Api-Key": KEY})
    assert (status, place) == (200, {"id": business["provider_id"]})
    status, error = call(f"{base}/places/ChIJnothereatall", {**mask, "X-Goog-Api-Key": KEY})
    assert (status, error["error"]["status"]) == (404, "NOT_FOUND")
