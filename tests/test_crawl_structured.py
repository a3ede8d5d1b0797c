"""The structured-data spider on the demo web's schema.org directories, against the ground truth.

``atlas`` publishes JSON-LD (a practice with its therapist nested as ``employee``, or both in an
``@graph``), ``guild`` microdata. Both are crawled once for the module; every listing, review,
claimed credential and broken page is compared with what the sites publish.
"""

from __future__ import annotations

import json
import re
import urllib.request
import urllib.robotparser
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import GroundTruth
from crawler.items import ClaimedCredential
from crawler.runs import RunRecord
from indexer.normalize.credentials import normalize_credential, normalize_license_number
from tests.crawling import crawl, latest_records, run_tdir

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SOURCES = ("atlas", "guild")
# What each kind of broken page the demo web serves must show up as in run.json.
DEFECT_ERRORS = {
    "invalid_jsonld": "jsonld/repaired",
    "unclosed_html": "html/unclosed-elements",
    "missing_address": "listing/missing-address",
    "missing_phone": "listing/missing-telephone",
    "missing_name": "listing/no-name",
    "missing_rating": "listing/missing-rating",
}
# Broken pages whose fields may legitimately differ from the truth.
BROKEN_FIELDS = {
    "missing_address": {"address"},
    "missing_phone": {"phone"},
    "missing_name": {"name"},
    "missing_rating": {"rating"},
    # the practice's name lands inside the therapist's element when it is never closed
    "unclosed_html": {"practice"},
}


@pytest.fixture(scope="module")
def home(demo_web: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("structured-home")


@pytest.fixture(scope="module")
def runs(demo_web: Any, home: Path) -> dict[str, RunRecord]:
    return {r.source: r for r in crawl(home, demo_web.manifest, *SOURCES)}


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


@pytest.fixture(scope="module")
def records(runs: dict[str, RunRecord], home: Path) -> dict[str, list[dict[str, Any]]]:
    return {source: latest_records(home, source) for source in SOURCES}


@pytest.fixture(scope="module")
def listings(
    records: dict[str, list[dict[str, Any]]], demo_web: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every crawled listing by (site, path), the ground truth's key."""
    out = {}
    for source, items in records.items():
        base = demo_web.urls[source]
        for record in items:
            if record["record_type"] == "listing":
                assert record["source_ref"].startswith(base)
                out[(source, record["source_ref"].removeprefix(base))] = record
    return out


def expected_listings(truth: GroundTruth, site: str) -> list[tuple[dict, dict]]:
    return list(truth.listings(site))


@pytest.mark.parametrize("source", SOURCES)
def test_run_finishes_with_exactly_the_published_counts(
    source: str, runs: dict[str, RunRecord], truth: GroundTruth
):
    run = runs[source]
    published = truth.summary["sites"][source]
    assert run.status == "finished"
    assert run.items == {"listing": published["listings"], "review": published["reviews"]}
    assert run.duplicates_dropped == 0


@pytest.mark.parametrize("source", SOURCES)
def test_every_published_listing_is_crawled_once_and_nothing_else(
    source: str,
    records: dict[str, list[dict[str, Any]]],
    listings: dict[tuple[str, str], dict[str, Any]],
    truth: GroundTruth,
):
    ids = [r["id"] for r in records[source]]
    assert len(ids) == len(set(ids))
    crawled = {path for site, path in listings if site == source}
    assert crawled == {item["path"] for _, item in truth.listings(source)}


@pytest.mark.parametrize("source", SOURCES)
def test_reviews_are_each_listings_own_with_author_rating_and_date(
    source: str,
    records: dict[str, list[dict[str, Any]]],
    demo_web: Any,
    truth: GroundTruth,
):
    crawled: dict[str, Counter[tuple]] = {}
    for r in records[source]:
        if r["record_type"] == "review":
            key = (r["author_raw"], r["rating"]["value"], r["published_raw"])
            crawled.setdefault(r["listing_ref"], Counter())[key] += 1
    published: dict[str, Counter[tuple]] = {}
    for person in truth.people():
        for review in person["reviews"]:
            # Only what the page shows: a site embedding a few reviews beside its published
            # aggregate hides the rest.
            if review["site"] == source and review["crawlable"]:
                ref = demo_web.urls[source] + review["path"]
                key = (review["author"], review["rating"], review["published"])
                published.setdefault(ref, Counter())[key] += 1
    assert crawled == published


def claim_key(claim: ClaimedCredential) -> tuple[str | None, str | None]:
    normalized = normalize_credential(claim).value
    assert normalized is not None
    return normalized.credential_id, normalized.number


@pytest.mark.parametrize("source", SOURCES)
def test_claimed_credentials_memberships_and_npi_match_what_each_listing_shows(
    source: str, listings: dict[tuple[str, str], dict[str, Any]], truth: GroundTruth
):
    wrong = []
    for _, item in truth.listings(source):
        listing = listings[(source, item["path"])]
        shown = sorted(
            (c["credential"], normalize_license_number(c["number"]))
            for c in item["claims"]
            if c["credential"] != "npi"
        )
        crawled = sorted(claim_key(ClaimedCredential(**c)) for c in listing["credentials"])
        npi = next((c["number"] for c in item["claims"] if c["credential"] == "npi"), None)
        if crawled != shown or listing["npi"] != npi:
            wrong.append((item["path"], shown, crawled, npi, listing["npi"]))
    assert wrong == []


def spot_check(person: dict, item: dict, listing: dict) -> set[str]:
    """The fields of a crawled listing that differ from the person behind it."""
    address = (
        person["previous_address"]
        if item["stale_address"] and person["previous_address"]
        else person["address"]
    )
    crawled_address = listing["address"] or {}
    website = (listing["website"] or "").split("//")[-1].strip("/")
    here = (item["site"], item["path"])
    ratings = [r["rating"] for r in person["reviews"] if (r["site"], r["path"]) == here]
    aggregate = listing["aggregate_rating"]
    checks = {
        "name": person["name"]["last"].lower() in listing["name_raw"].lower(),
        "practice": listing["practice_name_raw"] == person["practice"],
        "phone": re.sub(r"\D", "", listing["telephone_raw"] or "")[-10:] == person["phone"],
        "address": (crawled_address.get("postal_code") or "")[:5] == address["zip"]
        and crawled_address.get("locality") == address["city"]
        and crawled_address.get("region") == address["state"],
        "coordinates": listing["latitude"] == pytest.approx(address["lat"], abs=1e-5)
        and listing["longitude"] == pytest.approx(address["lon"], abs=1e-5),
        "website": website == (person["website"] or ""),
        "rating": (aggregate is None and not ratings)
        or (
            aggregate is not None
            and aggregate["value"] == pytest.approx(round(sum(ratings) / len(ratings), 1))
            and aggregate["count"] == len(ratings)
        ),
    }
    return {name for name, ok in checks.items() if not ok}


@pytest.mark.parametrize("source", SOURCES)
def test_field_values_match_the_truth_except_where_a_page_is_broken(
    source: str, listings: dict[tuple[str, str], dict[str, Any]], truth: GroundTruth
):
    wrong = {}
    for person, item in truth.listings(source):
        differing = spot_check(person, item, listings[(source, item["path"])])
        differing -= BROKEN_FIELDS.get(item["defect"], set())
        if differing:
            wrong[item["path"]] = differing
    assert wrong == {}


def test_listing_fields_as_the_site_writes_them(
    listings: dict[tuple[str, str], dict[str, Any]], truth: GroundTruth
):
    """One atlas listing in full: raw values kept as written, provenance set."""
    person, item = next(
        (p, i)
        for p, i in truth.listings("atlas")
        if not i["defect"] and i["reviews"] >= 2 and any(c["number"] for c in i["claims"])
    )
    listing = listings[("atlas", item["path"])]
    assert listing["provenance"]["source"] == "atlas"
    assert listing["provenance"]["url"].endswith(item["path"])
    assert len(listing["provenance"]["content_hash"]) == 64
    assert listing["extras"]["syntax"] == "json-ld"
    assert listing["address"]["country"] == "US"
    assert listing["aggregate_rating"]["best"] == 5.0
    assert person["modalities"] and listing["modalities_raw"]


@pytest.mark.parametrize("source", SOURCES)
def test_broken_pages_are_counted_by_kind(
    source: str,
    runs: dict[str, RunRecord],
    truth: GroundTruth,
    listings: dict[tuple[str, str], dict[str, Any]],
):
    expected: Counter[str] = Counter()
    for _, item in truth.listings(source):
        defect = item["defect"]
        # A missing rating only shows where there are reviews to rate.
        if defect and not (defect == "missing_rating" and item["reviews"] == 0):
            expected[DEFECT_ERRORS[defect]] += 1
    assert runs[source].errors == dict(expected)
    # every broken page still gave its listing
    for _, item in truth.listings(source):
        assert (source, item["path"]) in listings


def test_robots_rules_were_obeyed_and_the_crawler_said_who_it_is(
    runs: dict[str, RunRecord], demo_web: Any
):
    requests = [json.loads(line) for line in demo_web.log.path.read_text().splitlines()]
    crawler_requests = [r for r in requests if r["user_agent"].startswith("tdir-bot/")]
    assert {r["site"] for r in crawler_requests} >= set(SOURCES)
    robots = {}
    for site, url in demo_web.urls.items():
        parser = urllib.robotparser.RobotFileParser()
        with urllib.request.urlopen(f"{url}/robots.txt") as response:
            parser.parse(response.read().decode().splitlines())
        robots[site] = parser
    refused = [
        (r["site"], r["path"])
        for r in crawler_requests
        if not robots[r["site"]].can_fetch("tdir-bot", demo_web.urls[r["site"]] + r["path"])
    ]
    assert refused == []
    for r in crawler_requests:
        assert re.search(r"\(\+https?://\S+", r["user_agent"]), r["user_agent"]


def test_coverage_report_of_the_crawled_directories(
    runs: dict[str, RunRecord], home: Path, truth: GroundTruth
):
    done = run_tdir(home, "coverage", *SOURCES, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == set(SOURCES)
    for source in SOURCES:
        items = [i for _, i in truth.listings(source)]
        total = len(items)
        coverage = report[source]
        assert coverage["name"] == 1.0
        assert coverage["coordinates"] == 1.0
        assert coverage["credentials"] == round(sum(bool(i["claims"]) for i in items) / total, 4)
        missing_address = sum(i["defect"] == "missing_address" for i in items)
        assert coverage["address"] == round((total - missing_address) / total, 4)
        missing_phone = sum(i["defect"] == "missing_phone" for i in items)
        assert coverage["phone"] == round((total - missing_phone) / total, 4)
        rated = sum(i["reviews"] > 0 and i["defect"] != "missing_rating" for i in items)
        assert coverage["rating"] == round(rated / total, 4)
        with_npi = sum(any(c["credential"] == "npi" for c in i["claims"]) for i in items)
        assert coverage["npi"] == round(with_npi / total, 4)
    text = run_tdir(home, "coverage", "atlas")
    assert text.returncode == 0
    assert "atlas" in text.stdout and "coordinates" in text.stdout and "%" in text.stdout


def test_coverage_of_a_source_never_crawled_is_an_error(home: Path):
    done = run_tdir(home, "coverage", "nosuchsource")
    assert done.returncode == 2
    assert "not been crawled" in done.stderr
