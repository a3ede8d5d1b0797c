"""Three shapes real directories publish, read from the served pages and held to the ground truth.

1. An aggregate rating over every review, with only the newest few reviews on the page (atlas),
   next to sites that publish every review (guild on the page, the review site on its pages).
2. Several offices on one listing: an ``address`` array or ``location`` places (atlas), two
   microdata addresses (guild); the other sites list one office.
3. One office given with exact coordinates on one site and only its city on another.

The default demo world (seed 42, 300 therapists) served for the session is parsed directly:
JSON-LD with :mod:`json`, microdata with extruct, plain HTML with regular expressions.
"""

from __future__ import annotations

import json
import math
import re
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import zipcodes
from extruct.w3cmicrodata import MicrodataExtractor

from crawler.demoweb import GroundTruth
from crawler.demoweb.sites.atlas import EMBEDDED_REVIEWS
from crawler.demoweb.truth import ListedLocation, PublishedAggregate, TrueLocation

Json = dict[str, Any]


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


@pytest.fixture(scope="module")
def urls(demo_web: Any) -> dict[str, str]:
    return dict(demo_web.urls)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


GARBLED = ("invalid_jsonld", "unclosed_html")
"""Defects that garble a page's markup (a crawler repairs them; these tests do not)."""


def person_listings(truth: GroundTruth, site: str) -> Iterator[tuple[Json, Json]]:
    """A site's listings whose page is not broken in a way that garbles its markup."""
    for person, item in truth.listings(site):
        if item["defect"] not in GARBLED:
            yield person, item


# -- reading the pages ---------------------------------------------------------------------------


def atlas_business(html: str) -> Json:
    """The practice node of an atlas profile's JSON-LD (nested employee or ``@graph``)."""
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    doc = json.loads(script)
    nodes = doc.get("@graph", [doc])
    return next(n for n in nodes if n.get("@id", "").endswith("#business"))


def guild_business(html: str, url: str) -> Json:
    """The practice item of a guild profile's microdata, as extruct reads it."""
    items = MicrodataExtractor().extract(html, base_url=url)
    return next(i for i in items if i["type"].endswith("/HealthAndBeautyBusiness"))


@dataclass(frozen=True)
class PageOffice:
    """One office as a page gives it: locality, ZIP (first five digits) and coordinates."""

    city: str
    state: str
    zip5: str | None
    lat: float | None
    lon: float | None


def _zip5(raw: Any) -> str | None:
    return str(raw)[:5] if raw else None


def atlas_offices(business: Json) -> list[PageOffice]:
    """The offices an atlas practice node publishes, in order."""
    places = business.get("location")
    if places:
        return [
            PageOffice(
                p["address"]["addressLocality"],
                p["address"]["addressRegion"],
                _zip5(p["address"]["postalCode"]),
                float(p["geo"]["latitude"]),
                float(p["geo"]["longitude"]),
            )
            for p in places
        ]
    geo = business["geo"]
    addresses = as_list(business.get("address"))
    if not addresses:
        return [PageOffice("", "", None, float(geo["latitude"]), float(geo["longitude"]))]
    out = []
    for k, a in enumerate(addresses):
        lat, lon = (float(geo["latitude"]), float(geo["longitude"])) if k == 0 else (None, None)
        out.append(
            PageOffice(a["addressLocality"], a["addressRegion"], _zip5(a["postalCode"]), lat, lon)
        )
    return out


def guild_offices(business: Json) -> list[PageOffice]:
    """The offices a guild practice item publishes; its one ``geo`` is the first office's."""
    geo = business["properties"]["geo"]["properties"]
    out = []
    for k, item in enumerate(as_list(business["properties"]["address"])):
        a = item["properties"]
        lat, lon = (float(geo["latitude"]), float(geo["longitude"])) if k == 0 else (None, None)
        out.append(
            PageOffice(a["addressLocality"], a["addressRegion"], _zip5(a["postalCode"]), lat, lon)
        )
    return out


def assert_office_matches(page: PageOffice, listed: ListedLocation) -> None:
    """A published office is the true one, exactly as precisely as the truth says."""
    true = listed.location
    if page.city:
        assert (page.city, page.state) == (true.city, true.state)
    if listed.precision == "coordinates":
        assert page.lat == pytest.approx(true.lat, abs=1e-9)
        assert page.lon == pytest.approx(true.lon, abs=1e-9)
    else:
        assert (page.lat, page.lon) == (None, None)
    if listed.precision in ("coordinates", "street") and page.city:
        assert page.zip5 == true.zip


# -- 1. aggregates over more reviews than a page carries ------------------------------------------


def crawlable_reviews(person: Json, item: Json) -> Counter[tuple[str, str]]:
    return Counter(
        (r["author"], r["published"])
        for r in person["reviews"]
        if (r["site"], r["path"]) == (item["site"], item["path"]) and r["crawlable"]
    )


def test_atlas_publishes_the_aggregate_of_every_review_but_only_the_newest_five(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    partial = complete = 0
    for person, item in person_listings(truth, "atlas"):
        url = urls["atlas"] + item["path"]
        html = fetch(url)
        business = atlas_business(html)
        aggregate = truth.published_aggregate("atlas", url)
        if aggregate is None:
            assert "aggregateRating" not in business and "review" not in business
            assert item["reviews"] == 0
            continue
        published = business["aggregateRating"]
        assert float(published["ratingValue"]) == aggregate.value
        assert published["reviewCount"] == aggregate.count
        assert aggregate.count == sum(r["path"] == item["path"] for r in person["reviews"])
        embedded = Counter((r["author"]["name"], r["datePublished"]) for r in business["review"])
        assert sum(embedded.values()) == item["reviews"] == min(aggregate.count, EMBEDDED_REVIEWS)
        assert embedded == crawlable_reviews(person, item)
        # The page shows the same few reviews, and says the rest need a signed-in user.
        assert html.count('<li class="review">') == sum(embedded.values())
        assert aggregate.all_embedded == (aggregate.count <= EMBEDDED_REVIEWS)
        if aggregate.all_embedded:
            complete += 1
        else:
            assert f"most recent of {aggregate.count} reviews" in html
            newest = max(r["published"] for r in person["reviews"] if r["path"] == item["path"])
            assert newest in {day for _, day in embedded}
            partial += 1
    assert partial >= 30 and complete >= 100, (partial, complete)


def test_guild_embeds_every_testimonial_under_its_aggregate(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    checked = 0
    for _, item in person_listings(truth, "guild"):
        url = urls["guild"] + item["path"]
        business = guild_business(fetch(url), url)["properties"]
        aggregate = truth.published_aggregate("guild", url)
        reviews = as_list(business.get("review"))
        assert len(reviews) == item["reviews"]
        if aggregate is None:
            # No reviews, or a template that drops the rating while keeping the testimonials.
            assert "aggregateRating" not in business
            assert item["reviews"] == 0 or item["defect"] == "missing_rating"
            continue
        published = business["aggregateRating"]["properties"]
        assert float(published["ratingValue"]) == aggregate.value
        assert int(published["reviewCount"]) == aggregate.count == len(reviews)
        assert aggregate.all_embedded
        checked += 1
    assert checked > 50


def test_review_site_publishes_every_review_across_its_pages(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    paginated = 0
    for person, item in truth.listings("reviews"):
        url = urls["reviews"] + item["path"]
        aggregate = truth.published_aggregate("reviews", url)
        if aggregate is None:
            assert item["reviews"] == 0
            continue
        assert aggregate.all_embedded and aggregate.count == item["reviews"]
        if aggregate.count <= 10:
            continue  # one page: the server tests read those
        pages = sorted({r["path"] for r in person["reviews"] if r["site"] == "reviews"})
        first = fetch(url)
        overall = re.search(r'<span class="big">([\d.]+)</span>.*?(\d+) reviews</div>', first)
        assert overall is not None
        assert (float(overall.group(1)), int(overall.group(2))) == (
            aggregate.value,
            aggregate.count,
        )
        shown = sum(fetch(urls["reviews"] + page).count('<div class="rv"') for page in pages)
        assert shown == aggregate.count
        paginated += 1
    assert paginated >= 5


def test_aggregates_and_crawlable_reviews_add_up_to_the_summary(truth: GroundTruth) -> None:
    for site in ("atlas", "guild", "reviews"):
        summary = truth.summary["sites"][site]
        items = [item for _, item in truth.listings(site)]
        # "reviews" are those published in full; the aggregate ratings count every review.
        assert sum(i["reviews"] for i in items) == summary["reviews"]
        every = [r for p in truth.people() for r in p["reviews"] if r["site"] == site]
        assert sum(r["crawlable"] for r in every) == summary["reviews"]
        assert len(every) == summary["aggregate_reviews"] >= summary["reviews"]
        rated = [i["aggregate"] for i in items if i["aggregate"]]
        partial = sum(not a["all_embedded"] for a in rated)
        assert partial == summary["partial_review_listings"]
    assert truth.summary["sites"]["atlas"]["partial_review_listings"] > 0
    assert truth.summary["sites"]["guild"]["partial_review_listings"] == 0
    assert truth.summary["sites"]["reviews"]["partial_review_listings"] == 0


# -- 2. several offices on one listing -------------------------------------------------------------


def test_some_therapists_practise_at_two_real_offices_in_their_metro(truth: GroundTruth) -> None:
    several = 0
    for person in truth.people():
        offices = truth.practice_locations(person["person"])
        assert offices[0] == TrueLocation.from_doc(person["address"])
        if len(offices) == 1:
            continue
        several += 1
        main, other = offices
        (z,) = zipcodes.matching(other.zip)
        assert (z["city"], z["state"]) == (other.city, other.state)
        assert other.state == main.state and other.zip != main.zip
        assert _km(main, other) >= 1.5
    assert several == truth.summary["people_with_several_offices"]
    assert 20 <= several <= 60


def _km(a: TrueLocation, b: TrueLocation) -> float:
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


def test_atlas_lists_several_offices_as_an_address_array_or_as_places(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    styles: Counter[str] = Counter()
    for person, item in person_listings(truth, "atlas"):
        url = urls["atlas"] + item["path"]
        listed = truth.listed_locations("atlas", url)
        offices = atlas_offices(atlas_business(fetch(url)))
        assert len(offices) == len(listed)
        for page, true in zip(offices, listed, strict=True):
            assert_office_matches(page, true)
        if len(listed) > 1:
            assert [loc.office for loc in listed] == [0, 1]
            styles["places" if listed[1].precision == "coordinates" else "address_list"] += 1
        elif len(person["offices"]) > 1:
            # Only a page predating the move or without a street shows fewer offices.
            assert item["stale_address"] or item["defect"] == "missing_address"
    assert styles["places"] >= 8 and styles["address_list"] >= 8, styles


def test_guild_lists_both_offices_as_microdata_addresses(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    several = 0
    for _, item in person_listings(truth, "guild"):
        url = urls["guild"] + item["path"]
        listed = truth.listed_locations("guild", url)
        offices = guild_offices(guild_business(fetch(url), url))
        assert len(offices) == len(listed)
        for page, true in zip(offices, listed, strict=True):
            assert_office_matches(page, true)
        several += len(listed) > 1
    assert several == truth.summary["sites"]["guild"]["several_office_listings"] >= 10


def test_plain_directory_and_review_site_list_one_office(truth: GroundTruth) -> None:
    for site in ("pages", "reviews"):
        for _, item in truth.listings(site):
            (only,) = truth.listed_locations(site, item["path"])
            assert only.office == (None if item["stale_address"] else 0)
            assert only.precision in ("street", "city")
        assert truth.summary["sites"][site]["several_office_listings"] == 0


# -- 3. one office exact on one site, city-only on another -----------------------------------------


def city_row(site: str, html: str) -> str | None:
    """The location a plain listing gives when it has no street, or None when it has one."""
    if site == "pages":
        if "Address:</td>" in html:
            return None
        found = re.search(r'<td class="lbl">City:</td><td>([^<]+)</td>', html)
    else:
        head = re.search(r'<div class="biz-head">(.*?)<div class="overall">', html, re.S)
        assert head is not None
        lines = re.findall(r"<div>([^<]*)</div>", head.group(1))
        found = re.fullmatch(r"([^,]+, [A-Z]{2})", unescape(lines[1]) if len(lines) > 1 else "")
    return unescape(found.group(1)) if found else None


def geo_on_page(site: str, url: str, office: int) -> tuple[float | None, float | None]:
    """The coordinates a structured listing gives for one of its offices."""
    html = fetch(url)
    if site == "atlas":
        offices = atlas_offices(atlas_business(html))
    else:
        offices = guild_offices(guild_business(html, url))
    return offices[office].lat, offices[office].lon


def test_one_office_is_exact_on_one_site_and_city_only_on_another(
    truth: GroundTruth, urls: dict[str, str]
) -> None:
    both: set[int] = set()
    for person in truth.people():
        exact: dict[int, list[tuple[str, str, int]]] = {}
        city_only: set[int] = set()
        for item in person["listings"]:
            url = urls[item["site"]] + item["path"]
            for k, loc in enumerate(truth.listed_locations(item["site"], url)):
                if loc.office is None:
                    continue
                if loc.precision == "coordinates" and item["defect"] not in GARBLED:
                    exact.setdefault(loc.office, []).append((item["site"], url, k))
                elif loc.precision == "city":
                    city_only.add(loc.office)
                    html = fetch(url)
                    true = loc.location
                    assert city_row(item["site"], html) == f"{true.city}, {true.state}"
                    assert true.zip not in html
        for office in city_only & exact.keys():
            true = truth.practice_locations(person["person"])[office]
            for site, url, k in exact[office]:
                assert geo_on_page(site, url, k) == (
                    pytest.approx(true.lat, abs=1e-9),
                    pytest.approx(true.lon, abs=1e-9),
                )
            both.add(person["person"])
    assert len(both) >= 25, len(both)
    sites = truth.summary["sites"]
    assert sites["pages"]["city_only_listings"] + sites["reviews"]["city_only_listings"] >= 40


# -- the accessors ---------------------------------------------------------------------------------


def test_accessors_take_a_full_url_or_a_path(truth: GroundTruth, urls: dict[str, str]) -> None:
    person, item = next(
        (p, i)
        for p, i in truth.listings("atlas")
        if i["aggregate"] and i["aggregate"]["count"] > EMBEDDED_REVIEWS
    )
    url = urls["atlas"] + item["path"]
    assert truth.listing("atlas", url) == truth.listing("atlas", item["path"]) == (person, item)
    aggregate = truth.published_aggregate("atlas", url)
    assert isinstance(aggregate, PublishedAggregate)
    value, count, all_embedded = aggregate.value, aggregate.count, aggregate.all_embedded
    assert (count, all_embedded) == (item["aggregate"]["count"], False)
    assert item["reviews"] == EMBEDDED_REVIEWS < count
    assert 1 <= value <= 5
    pages_item = next(i for _, i in truth.listings("pages"))
    assert truth.published_aggregate("pages", pages_item["path"]) is None
    query_url = urls["pages"] + pages_item["path"]
    assert truth.listing("pages", query_url)[1] == pages_item
    with pytest.raises(KeyError):
        truth.listing("atlas", "/therapist/nobody-1")
