"""Crawling the plain-HTML directory and the review site of the demo web with the html spider.

Both sources are crawled once for the module, over real HTTP, by ``tdir crawl`` in a subprocess;
the tests compare what was gathered with the ground truth of the world the sites publish.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from tests.crawling import Crawled, crawl_sources

SOURCES = ("pages", "reviews")


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(
        tmp_path_factory.mktemp("crawl-directories"), demo_web, demo_world, *SOURCES
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _digits(text: str | None) -> str:
    digits = re.sub(r"\D", "", text or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _truth_address(person: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    if item["stale_address"] and person["previous_address"]:
        return person["previous_address"]
    return person["address"]


# -- both sources ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_the_crawl_finishes_without_download_errors(crawled: Crawled, source: str) -> None:
    run = crawled.runs[source]
    assert run.status == "finished"
    assert run.duplicates_dropped == 0
    assert not [k for k in run.errors if k.startswith(("download/", "http/", "spider/"))]
    # The link rules never even ask for a page robots.txt disallows.
    assert run.robots_disallowed == 0


@pytest.mark.parametrize("source", SOURCES)
def test_every_published_listing_is_gathered_once(crawled: Crawled, source: str) -> None:
    site = crawled.site(source)
    nameless = site["broken_pages"].get("missing_name", 0)
    listings = crawled.of(source, "listing")
    assert len(listings) == site["listings"] - nameless
    assert crawled.runs[source].items.get("listing", 0) == site["listings"] - nameless
    # A listing page without a name cannot make a listing: it is counted, not lost silently.
    assert crawled.runs[source].errors.get("listing/no-name", 0) == nameless

    truth_paths = {
        item["path"]
        for _, item in crawled.truth.listings(source)
        if item["defect"] != "missing_name"
    }
    assert {_path(r["source_ref"]) for r in listings} == truth_paths
    assert len({r["id"] for r in listings}) == len(listings)


@pytest.mark.parametrize("source", SOURCES)
def test_listing_names_addresses_and_phones_match_the_truth(crawled: Crawled, source: str) -> None:
    by_path = {_path(r["source_ref"]): r for r in crawled.of(source, "listing")}
    checked = 0
    for person, item in crawled.truth.listings(source):
        listing = by_path.get(item["path"])
        if listing is None:
            continue
        name = listing["name_raw"].casefold()
        # Sites write names their own way ("DOE, JANE", "Jane A. Doe, LMT"); both parts are there.
        assert person["name"]["first"].casefold() in name, listing["name_raw"]
        assert person["name"]["last"].casefold() in name, listing["name_raw"]
        assert listing["practice_name_raw"] == person["practice"]
        address = _truth_address(person, item)
        assert listing["address"]["locality"] == address["city"]
        assert listing["address"]["region"] == address["state"]
        if item["defect"] != "missing_address":
            assert listing["address"]["street"].startswith(address["number"] + " ")
        if item["defect"] != "missing_phone":
            assert _digits(listing["telephone_raw"]) == person["phone"]
        assert listing["modalities_raw"], listing["source_ref"]
        checked += 1
    assert checked == len(by_path)


@pytest.mark.parametrize("source", SOURCES)
def test_robots_disallowed_paths_are_never_requested(crawled: Crawled, source: str) -> None:
    base = crawled.urls[source]
    with urlopen(f"{base}/robots.txt") as robots:
        rules = [
            line.split(":", 1)[1].strip()
            for line in robots.read().decode().splitlines()
            if line.lower().startswith("disallow:") and line.split(":", 1)[1].strip()
        ]
    assert rules
    ours = [
        entry
        for entry in map(json.loads, crawled.request_log.read_text(encoding="utf-8").splitlines())
        if entry["site"] == source and entry["user_agent"].startswith("tdir-bot/")
    ]
    assert any(e["path"] == "/robots.txt" for e in ours)
    assert len(ours) >= crawled.runs[source].pages
    refused = [e["path"] for e in ours if any(e["path"].startswith(rule) for rule in rules)]
    assert refused == []


# What each kind of broken listing page is counted as; the review site shows no bare
# street line or phone row to miss, so its template defects are names and markup only.
ERROR_OF_DEFECT = {
    "missing_name": "listing/no-name",
    "missing_address": "listing/missing-street",
    "missing_phone": "listing/missing-telephone",
    "unclosed_html": "html/unclosed-elements",
}


@pytest.mark.parametrize("source", SOURCES)
def test_broken_pages_are_the_errors_of_the_crawl(crawled: Crawled, source: str) -> None:
    expected: Counter[str] = Counter()
    for _, item in crawled.truth.listings(source):
        if item["defect"] is None:
            continue
        # Every page of a profile comes from the same template: ten reviews a page.
        pages = max(1, math.ceil(item["reviews"] / 10)) if item["defect"] == "unclosed_html" else 1
        expected[ERROR_OF_DEFECT[item["defect"]]] += pages
    assert expected["html/unclosed-elements"] > 0
    assert crawled.runs[source].errors == dict(expected)


# -- pages: a plain-HTML directory -----------------------------------------------------------------


def test_pages_counts_listings_without_street_or_phone_as_errors(crawled: Crawled) -> None:
    broken = crawled.site("pages")["broken_pages"]
    errors = crawled.runs["pages"].errors
    assert errors.get("listing/missing-street", 0) == broken.get("missing_address", 0)
    assert errors.get("listing/missing-telephone", 0) == broken.get("missing_phone", 0)
    assert broken.get("missing_address", 0) > 0
    for record in crawled.of("pages", "listing"):
        assert record["address"]["locality"], record["source_ref"]


def test_pages_claimed_credentials_keep_state_and_number(crawled: Crawled) -> None:
    by_path = {_path(r["source_ref"]): r for r in crawled.of("pages", "listing")}
    numbered = 0
    for _, item in crawled.truth.listings("pages"):
        listing = by_path[item["path"]]
        claimed = {(c["number"], c["state"]) for c in listing["credentials"]}
        for claim in item["claims"]:
            if claim["number"] is None:
                continue
            if claim["credential"] == "npi":
                assert listing["npi"] == claim["number"]
                continue
            assert (claim["number"], claim["state"]) in claimed, listing["credentials"]
            numbered += 1
        assert len(listing["credentials"]) == len(item["claims"])
        assert listing["bio"] and "<" not in listing["bio"]
    assert numbered > 50


def test_pages_listings_on_a_page_with_unclosed_markup_are_complete(crawled: Crawled) -> None:
    by_path = {_path(r["source_ref"]): r for r in crawled.of("pages", "listing")}
    unclosed = [
        item for _, item in crawled.truth.listings("pages") if item["defect"] == "unclosed_html"
    ]
    assert unclosed
    for item in unclosed:
        listing = by_path[item["path"]]
        assert listing["telephone_raw"] and listing["bio"] and listing["address"]["postal_code"]
        assert len(listing["credentials"]) == len(item["claims"])


# -- reviews: a review site with paginated review pages --------------------------------------------


def test_reviews_every_published_review_is_gathered_once(crawled: Crawled) -> None:
    site = crawled.site("reviews")
    reviews = crawled.of("reviews", "review")
    assert len(reviews) == site["reviews"]
    assert crawled.runs["reviews"].items["review"] == site["reviews"]
    assert len({r["id"] for r in reviews}) == len(reviews)


def test_reviews_authors_and_ratings_match_the_truth_page_by_page(crawled: Crawled) -> None:
    crawled_by_page: dict[str, Counter[tuple[str, float]]] = {}
    for review in crawled.of("reviews", "review"):
        rating = review["rating"]
        assert rating["value"] is not None, rating["raw"]
        # Ratings stay on the source's own scale ("9/10"); on five points they are the truth's.
        stars = round(rating["value"] / rating["best"] * 5, 2)
        page = _path(review["provenance"]["url"])
        crawled_by_page.setdefault(page, Counter())[(review["author_raw"], stars)] += 1
    truth_by_page: dict[str, Counter[tuple[str, float]]] = {}
    for person in crawled.truth.people():
        for review in person["reviews"]:
            if review["site"] == "reviews":
                page = truth_by_page.setdefault(review["path"], Counter())
                page[(review["author"], review["rating"])] += 1
    assert crawled_by_page == truth_by_page


def test_reviews_keep_every_rating_style_raw(crawled: Crawled) -> None:
    raws = [r["rating"]["raw"] for r in crawled.of("reviews", "review")]
    assert any("★" in raw for raw in raws)
    assert any(re.fullmatch(r"\d,\d", raw) for raw in raws)
    assert any(raw.endswith("/10") for raw in raws)
    assert any(raw.endswith("/5") for raw in raws)
    assert any("out of" in raw for raw in raws)
    dates = [r["published_raw"] for r in crawled.of("reviews", "review")]
    assert all(dates)
    assert any(d.endswith("ago") for d in dates) and any(
        re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dates
    )


def test_reviews_belong_to_the_listing_of_their_profile(crawled: Crawled) -> None:
    listings = {r["source_ref"]: r for r in crawled.of("reviews", "listing")}
    nameless = {
        item["path"]
        for _, item in crawled.truth.listings("reviews")
        if item["defect"] == "missing_name"
    }
    for review in crawled.of("reviews", "review"):
        ref = review["listing_ref"]
        assert "?" not in ref and "#" not in ref
        if _path(ref) in nameless:
            continue
        listing = listings[ref]
        assert review["subject_name_raw"] == listing["name_raw"]
        assert review["body"] and "Report" not in review["body"]


def test_reviews_listing_ratings_summarise_the_reviews(crawled: Crawled) -> None:
    counts = Counter(r["listing_ref"] for r in crawled.of("reviews", "review"))
    for listing in crawled.of("reviews", "listing"):
        reviews = counts.get(listing["source_ref"], 0)
        rating = listing["aggregate_rating"]
        if reviews == 0:
            assert rating is None
            continue
        assert rating["count"] == reviews
        assert 1 <= rating["value"] <= 5


def test_reviews_nameless_listing_is_counted_and_its_reviews_kept(crawled: Crawled) -> None:
    nameless = [
        (person, item)
        for person, item in crawled.truth.listings("reviews")
        if item["defect"] == "missing_name"
    ]
    assert crawled.runs["reviews"].errors.get("listing/no-name", 0) == len(nameless)
    gathered = Counter(_path(r["listing_ref"]) for r in crawled.of("reviews", "review"))
    for _, item in nameless:
        assert gathered[item["path"]] == item["reviews"]
