"""One therapist is one profile across every kind of source: the directories, Yelp and Google
Maps (read through their APIs), the NPI registry's bulk file and a state board's license file.

The demo web's sources are crawled over HTTP (``tdir crawl``), once for the module, and profiles
are built from what was crawled. Every therapist the ground truth gives a business of their own
on Yelp and on Google Maps, an active record in the registry's file and an active license in a
crawled board's file must be exactly one profile, holding all of their listings and no one
else's, with the license confirmed by that board. So must a therapist whose directory listings
show a license number the board never issued: the registry's record of their NPI, with their
true number, joins those listings rather than standing apart, whatever order the listings'
ids put them in.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from crawler.runs import CrawlStore
from indexer.build import Build, build_profiles, listing_keys
from indexer.evaluate import listing_key
from indexer.normalize.records import normalize_listing
from indexer.profile import Profile
from indexer.resolve import resolve
from indexer.snapshots import load_snapshots
from tests.crawling import Crawled, crawl_sources, standing_today

pytestmark = pytest.mark.system  # crawls the demo web: left out of `make test-fast`

LISTING_SITES = ("atlas", "guild", "pages", "reviews")
PLATFORMS = ("yelp", "google-places")
REGISTRY = "npi-file"
REGISTRY_SITE = "npi"  # the demo site that serves the registry's files and its API
BOARDS = {  # the boards crawled, and the issuer each one's catalog entry names
    "board-tx": "Texas Department of Licensing and Regulation",
    "board-fl": "Florida Board of Massage Therapy",
}
SOURCES = (*LISTING_SITES, *PLATFORMS, REGISTRY, *BOARDS)
# What a board says of a license, as a profile's credential check reports it.
CHECKED_AS = {"active": "verified", "expired": "expired"}


@dataclass
class Merged:
    """The crawl, the profiles built from it, and which person each profile's listing is."""

    home: Path
    crawled: Crawled
    build: Build
    person_of: dict[str, int]  # listing id -> true person
    registry_ref: dict[str, str]  # NPPES listing id -> its source_ref

    def profiles_of(self, person: int) -> list[Profile]:
        """The profiles holding any listing of ``person``."""
        ids = {self.build.listing_to_profile[i] for i, p in self.person_of.items() if p == person}
        return [self.build.profiles[i] for i in sorted(ids)]

    def people_in(self, profile: Profile) -> set[int]:
        """The true people whose listings a profile holds (listings the truth knows)."""
        return {self.person_of[item.id] for item in profile.listings if item.id in self.person_of}


@pytest.fixture(scope="module")
def merged(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Merged:
    home = tmp_path_factory.mktemp("cross-source")
    crawled = crawl_sources(home, demo_web, demo_world, *SOURCES)
    for source in SOURCES:
        assert crawled.runs[source].status == "finished", (source, crawled.runs[source])
    build = build_profiles(CrawlStore(home))
    truth = crawled.truth
    by_page = truth.person_by_listing()
    # The registry's listings share one page (the bundle): each is known by its source_ref,
    # the registry's own record of the NPI, which the truth gives with every NPI.
    registry = crawled.urls[REGISTRY_SITE]
    by_record = {
        registry + c["record_path"]: p["person"]
        for p in truth.people()
        for c in p["credentials"]
        if c["credential"] == "npi"
    }
    registry_ref = {r["id"]: r["source_ref"] for r in crawled.of(REGISTRY, "listing")}
    person_of = {}
    for profile in build.profiles.values():
        for item in profile.listings:
            if item.source == REGISTRY:
                who = by_record.get(registry_ref[item.id])
            else:
                who = by_page.get(listing_key(item.source, item.url))
            if who is not None:
                person_of[item.id] = who
    return Merged(home, crawled, build, person_of, registry_ref)


def wrong_number_people(merged: Merged) -> list[dict[str, Any]]:
    """Therapists whose listings show a license number the board never issued, who have an
    active NPI in the registry's file and a listing on a crawled site."""
    return [
        person
        for person in merged.crawled.truth.people()
        if any(c["reason"] == "unknown_number" for c in person["false_claims"])
        and registry_record(person) is not None
        and any(item["site"] in LISTING_SITES for item in person["listings"])
    ]


def registry_record(person: dict[str, Any]) -> dict[str, Any] | None:
    """The person's NPI, if the registry's file lists it as active."""
    npi = next((c for c in person["credentials"] if c["credential"] == "npi"), None)
    return npi if npi and npi["bulk_file"]["status"] == "active" else None


def expected_refs(merged: Merged, person: dict[str, Any]) -> set[tuple[str, str]]:
    """(source, page path) of the person's listings that must be in their profile: their own
    businesses on Yelp and Google, and their listings on the crawled sites (those the site
    publishes whole)."""
    owned = {(b["site"], b["path"]) for b in person["businesses"] if b["owner"]}
    listed = {
        (item["site"], item["path"])
        for item in person["listings"]
        if item["site"] in LISTING_SITES and item["defect"] is None
    }
    return owned | listed


def one_profile(merged: Merged, person: dict[str, Any]) -> Profile:
    """The one profile holding every crawled listing of ``person``, and nobody else's."""
    found = merged.profiles_of(person["person"])
    assert len(found) == 1, (person["name"], [[i.url for i in p.listings] for p in found])
    profile = found[0]
    assert merged.people_in(profile) == {person["person"]}, (person["name"], profile.listings)
    held = {listing_key(i.source, i.url) for i in profile.listings if i.source != REGISTRY}
    missing = expected_refs(merged, person) - held
    assert not missing, (person["name"], missing)
    npi = registry_record(person)
    if npi is not None:
        registry = merged.crawled.urls[REGISTRY_SITE]
        refs = [merged.registry_ref[i.id] for i in profile.listings if i.source == REGISTRY]
        assert refs == [registry + npi["record_path"]], (person["name"], refs)
    return profile


def board_license(person: dict[str, Any]) -> dict[str, Any] | None:
    """The person's active license at a crawled board, if any."""
    return next(
        (
            c
            for c in person["credentials"]
            if c["kind"] == "state_license"
            and c["issuer_site"] in BOARDS
            and c["status"] == "active"
        ),
        None,
    )


def test_a_therapist_on_every_kind_of_source_is_one_verified_profile(merged: Merged) -> None:
    truth = merged.crawled.truth
    chosen = [
        person
        for person in truth.people()
        if set(PLATFORMS) <= {b["site"] for b in person["businesses"] if b["owner"]}
        and registry_record(person) is not None
        and board_license(person) is not None
    ]
    # The demo world (seed 42) has one such therapist in Texas and one in Florida.
    assert {board_license(p)["issuer_site"] for p in chosen} == set(BOARDS), chosen
    for person in chosen:
        profile = one_profile(merged, person)
        assert {i.source for i in profile.listings} >= {*PLATFORMS, REGISTRY}
        assert {i.source for i in profile.listings} & set(LISTING_SITES), person["name"]
        lic = board_license(person)
        assert lic is not None
        board = lic["issuer_site"]
        csv_url = merged.crawled.urls[board] + truth.summary["sites"][board]["csv_path"]
        # Checked at the board: verified while in force today, expired once past its date.
        in_force = standing_today(lic) == "active"
        confirmed = [
            c
            for c in profile.credentials
            if c.kind == "state_license"
            and c.state == lic["state"]
            and c.number == lic["number"]
            and c.status == ("verified" if in_force else "expired")
            and c.issuer == BOARDS[board]
            and c.record_url == csv_url
        ]
        assert confirmed, (person["name"], lic, profile.credentials)
        assert profile.verification.license_verified == in_force, person["name"]


def test_a_wrong_license_number_on_the_directories_keeps_no_registry_record_apart(
    merged: Merged,
) -> None:
    chosen = wrong_number_people(merged)
    boards_checked = 0
    for person in chosen:
        profile = one_profile(merged, person)
        assert REGISTRY in {i.source for i in profile.listings}, person["name"]
        checks = defaultdict(set)
        for c in profile.credentials:
            if c.kind == "state_license":
                checks[(c.state, c.number)].add(c.status)
        for claim in person["false_claims"]:
            if claim["reason"] != "unknown_number" or claim["issuer_site"] not in BOARDS:
                continue
            boards_checked += 1
            assert checks[(claim["state"], claim["number"])] == {"not_found"}, person["name"]
            # The registry's record gives the true number, which the board knows.
            true = next(
                c
                for c in person["credentials"]
                if c["kind"] == "state_license" and c["state"] == claim["state"]
            )
            assert checks[(true["state"], true["number"])] == {CHECKED_AS[true["status"]]}
    # The demo world (seed 42) has two such therapists, one licensed in Texas.
    assert len(chosen) >= 2 and boards_checked >= 1, [p["name"] for p in chosen]


@pytest.mark.parametrize("salt", ["a", "b", "c", "d"])
def test_the_registry_record_joins_in_whatever_order_the_listings_come(
    merged: Merged, salt: str
) -> None:
    """Listing ids are made from URLs, whose ports change from one demo web to the next: the
    merges must not depend on the order the ids put the listings in."""
    keys = [
        listing_keys(listing, normalize_listing(listing))
        for snapshot in load_snapshots(CrawlStore(merged.home))
        for listing in snapshot.listings.values()
    ]
    renamed = {k.id: hashlib.sha256(f"{salt}{k.id}".encode()).hexdigest()[:20] for k in keys}
    resolution = resolve([replace(k, id=renamed[k.id]) for k in keys])
    cluster_of = {i: n for n, c in enumerate(resolution.clusters) for i in c.listing_ids}
    chosen = wrong_number_people(merged)
    assert chosen
    for person in chosen:
        ids = {renamed[i] for i, who in merged.person_of.items() if who == person["person"]}
        assert len({cluster_of[i] for i in ids}) == 1, (salt, person["name"])
