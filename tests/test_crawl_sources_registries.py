"""Crawling the license boards, the certification registry and the NPI registry of the demo web.

Two boards are read from their licensee CSV files (csv spider), two from their lookup pages (html
spider); the certification registry is read from its pages, the NPI registry from its API. All
are crawled once for the module, over real HTTP, by ``tdir crawl`` in a subprocess, and compared
with the ground truth.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from crawler.catalog import load_catalog, site_variables
from crawler.demoweb import SITE_NAMES
from tests.crawling import Crawled, crawl, crawl_sources, latest_records

BOARDS = ("board-fl", "board-tx", "board-nc", "board-wa")
SOURCES = (*BOARDS, "certregistry", "npi")
_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y")


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(
        tmp_path_factory.mktemp("crawl-registries"), demo_web, demo_world, *SOURCES
    )


def _day(raw: str) -> date:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"unexpected date {raw!r}")


@pytest.mark.parametrize("source", SOURCES)
def test_the_crawl_finishes_without_errors(crawled: Crawled, source: str) -> None:
    run = crawled.runs[source]
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0
    assert run.robots_disallowed == 0
    assert set(run.items) == {"credential_record"}


def test_a_recrawl_gives_every_record_the_same_id(
    crawled: Crawled, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("recrawl-registries")
    again = ("board-fl", "board-nc")
    crawl(home, crawled.manifest, *again)
    for source in again:
        assert {r["id"] for r in latest_records(home, source)} == {
            r["id"] for r in crawled.records[source]
        }


def test_boards_are_read_both_ways() -> None:
    catalog = load_catalog(None, site_variables({s: "http://127.0.0.1:1" for s in SITE_NAMES}))
    spiders = {catalog.get(b).spider for b in BOARDS}
    assert spiders == {"csv", "html"}


@pytest.mark.parametrize("source", BOARDS)
def test_every_license_a_board_publishes_is_gathered_once(crawled: Crawled, source: str) -> None:
    records = crawled.records[source]
    summary = crawled.truth.summary["sites"][source]
    assert len(records) == summary["records"]
    assert crawled.runs[source].items["credential_record"] == summary["records"]
    assert len({r["id"] for r in records}) == len(records)
    truth = {
        c["number"]: c
        for c in crawled.credentials("state_license", state=summary["state"])
        if c["status"] in summary["statuses"]  # TDLR's file cannot list a suspended license
    }
    assert {r["number"] for r in records} == set(truth)


# board-tx's file is TDLR's (no status, no issue date): tests/test_crawl_license_files.py.
@pytest.mark.parametrize("source", [b for b in BOARDS if b != "board-tx"])
def test_license_fields_match_the_board_truth(crawled: Crawled, source: str) -> None:
    state = crawled.truth.summary["sites"][source]["state"]
    truth = {c["number"]: c for c in crawled.credentials("state_license", state=state)}
    for record in crawled.records[source]:
        license_ = truth[record["number"]]
        assert record["issuer_kind"] == "state_board"
        assert record["issuer"]
        assert record["state"] == state
        assert record["credential_raw"] == license_["title"]
        assert record["status_raw"].casefold() == license_["status"]
        assert _day(record["issued_raw"]).isoformat() == license_["issued"]
        assert _day(record["expires_raw"]).isoformat() == license_["expires"]
        # Boards write "LAST, FIRST M" and keep it so.
        holder = license_["holder"]
        assert record["name_raw"].startswith(f"{holder['last'].upper()}, {holder['first'].upper()}")
        assert record["city_raw"]


def test_license_statuses_include_every_kind(crawled: Crawled) -> None:
    statuses = Counter(
        r["status_raw"].casefold()
        for source in BOARDS
        for r in crawled.records[source]
        if r["status_raw"] is not None  # TDLR's file has no status column
    )
    assert {"active", "expired"} <= set(statuses)


def test_every_board_certification_is_gathered_once(crawled: Crawled) -> None:
    records = crawled.records["certregistry"]
    assert len(records) == crawled.truth.summary["sites"]["certregistry"]["records"]
    truth = {c["number"]: c for c in crawled.credentials("board_certification", credential="bctmb")}
    assert {r["number"] for r in records} == set(truth)
    for record in records:
        certification = truth[record["number"]]
        assert record["issuer_kind"] == "certification_registry"
        assert record["issuer"] == "NCBTMB"
        assert record["credential_raw"] == "BCTMB"
        active = certification["status"] == "active"
        assert record["status_raw"] == ("Board Certified" if active else "Certification Expired")
        assert _day(record["issued_raw"]).isoformat() == certification["issued"]
        assert _day(record["expires_raw"]).isoformat() == certification["expires"]
        holder = certification["holder"]
        assert record["name_raw"].startswith(holder["first"])
        assert record["name_raw"].endswith(holder["last"])
        address = certification["person"]["address"]
        assert (record["city_raw"], record["state"]) == (address["city"], address["state"])


def test_every_npi_record_of_a_massage_therapist_is_gathered(crawled: Crawled) -> None:
    records = crawled.records["npi"]
    truth = {c["number"]: c for c in crawled.credentials("identifier", credential="npi")}
    assert len(truth) == crawled.truth.summary["sites"]["npi"]["records"]
    assert {r["npi"] for r in records} == set(truth)
    # One record per taxonomy entry: one per state license, or one for a therapist without any.
    expected = 0
    for credential in truth.values():
        licenses = [c for c in credential["person"]["credentials"] if c["kind"] == "state_license"]
        expected += max(1, len(licenses))
    assert len(records) == expected
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert record["extras"]["taxonomy_code"] == "225700000X"
        assert record["issuer_kind"] == "npi_registry"
        person = truth[record["npi"]]["person"]
        assert person["name"]["last"].upper() in record["name_raw"]
        if record["number"] is not None:
            numbers = {c["number"] for c in person["credentials"] if c["kind"] == "state_license"}
            assert record["number"] in numbers


def test_npi_queries_stay_within_the_api_limits(crawled: Crawled) -> None:
    queries = [
        entry["path"]
        for entry in _our_requests(crawled, "npi")
        if entry["path"].startswith("/api/")
    ]
    assert queries
    for path in queries:
        assert "version=2.1" in path and "taxonomy_description=Massage+Therapist" in path
        assert "limit=200" in path


@pytest.mark.parametrize("source", SOURCES)
def test_robots_disallowed_paths_are_never_requested(crawled: Crawled, source: str) -> None:
    with urlopen(f"{crawled.urls[source]}/robots.txt") as robots:
        rules = [
            line.split(":", 1)[1].strip()
            for line in robots.read().decode().splitlines()
            if line.lower().startswith("disallow:") and line.split(":", 1)[1].strip()
        ]
    assert rules
    ours = _our_requests(crawled, source)
    assert any(e["path"] == "/robots.txt" for e in ours)
    assert [e["path"] for e in ours if any(e["path"].startswith(rule) for rule in rules)] == []


def _our_requests(crawled: Crawled, site: str) -> list[dict[str, Any]]:
    lines = crawled.request_log.read_text(encoding="utf-8").splitlines()
    return [
        entry
        for entry in map(json.loads, lines)
        if entry["site"] == site and entry["user_agent"].startswith("tdir-bot/")
    ]
