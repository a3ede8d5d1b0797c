"""Verification on a real crawl of the demo web, judged by its ground truth.

Every catalog source is crawled over HTTP (as ``tdir crawl --all`` does) and the profiles are
built from the crawl. The truth knows what each person really holds and which issuers publish a
record of it (``issuer_site``): a claim of a credential whose issuer is crawled is checked there
by number, however it is written; one whose issuer publishes nothing crawled is unverifiable,
never a red flag, and says why.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import GroundTruth
from crawler.runs import CrawlStore
from indexer.build import Build, build_profiles
from indexer.evaluate import listing_key
from indexer.profile import CredentialCheck, Profile
from tests.crawling import standing_today

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


@pytest.fixture(scope="module")
def built(crawled_demo: Path) -> Build:
    return build_profiles(CrawlStore(crawled_demo))  # reads the shared crawl, writes nothing


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> GroundTruth:
    return GroundTruth(demo_world)


def person_of(profile: Profile, truth: GroundTruth) -> dict[str, Any] | None:
    """The true person most of the profile's listings are."""
    by_listing = truth.person_by_listing()
    found = Counter(
        by_listing[key]
        for listing in profile.listings
        if (key := listing_key(listing.source, listing.url)) in by_listing
    )
    return truth.person(found.most_common(1)[0][0]) if found else None


def held(person: dict[str, Any], check: CredentialCheck) -> dict[str, Any] | None:
    """The person's true credential a check is of: of its number when it has one, of its state
    when a license; None when the check could be of several."""
    same = [c for c in person["credentials"] if c["credential"] == check.type]
    if check.number:
        numbered = [c for c in same if written_alike(c.get("number"), check.number)]
        if numbered:
            return numbered[0]
    if check.kind == "state_license":
        same = [c for c in same if c["state"] == check.state]
    return same[0] if len(same) == 1 else None


def squashed(number: str) -> str:
    """A number's letters and digits (the truth's "MA.60123456" is a listing's "MA60123456")."""
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def written_alike(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and squashed(a) == squashed(b)


def checks(built: Build, truth: GroundTruth) -> list[tuple[dict[str, Any], CredentialCheck]]:
    found = []
    for profile in built.profiles.values():
        person = person_of(profile, truth)
        if person is not None:
            found += [(person, check) for check in profile.credentials]
    return found


def test_a_true_credential_no_crawled_issuer_publishes_is_never_a_red_flag(
    built: Build, truth: GroundTruth
) -> None:
    """The legacy NCTMB, memberships, seminar certificates, licenses of states whose board is
    not crawled: nothing to check them against, so unverifiable, never "not found"."""
    seen: Counter[str] = Counter()
    for person, check in checks(built, truth):
        credential = held(person, check)
        if credential is None or credential["issuer_site"] is not None:
            continue
        assert check.status == "unverifiable", (person["name"], check)
        seen[check.type] += 1
    assert {"nctmb", "amta_member", "abmp_member", "cnmt"} <= set(seen), seen


def test_every_unverifiable_claim_says_why_in_words(built: Build, truth: GroundTruth) -> None:
    words = {
        "membership": "no public register of members",
        "specialty_certificate": "no public register of holders",
        "board_certification": "certification registry",
    }
    kinds: Counter[str] = Counter()
    for _, check in checks(built, truth):
        if check.status != "unverifiable":
            continue
        kinds[check.kind] += 1
        if check.kind == "state_license":
            assert check.reason and (
                (check.state and check.state in check.reason) or "names no state" in check.reason
            ), check
        else:
            assert words[check.kind] in check.reason, check
    assert set(words) | {"state_license"} <= set(kinds), kinds


def test_every_true_number_at_a_crawled_issuer_is_checked_there(
    built: Build, truth: GroundTruth
) -> None:
    """A claimed number that is the person's own at a crawled issuer gets that record's word:
    verified while in force, expired when lapsed (the license file lists no withdrawn ones)."""
    expected = {"active": "verified", "expired": "expired"}
    counted: Counter[str] = Counter()
    for person, check in checks(built, truth):
        for credential in person["credentials"]:
            if credential["issuer_site"] is None or standing_today(credential) not in expected:
                continue
            if not written_alike(check.number, credential.get("number")):
                continue
            assert check.status == expected[standing_today(credential)], (person["name"], check)
            assert check.record_url and check.checked_on, check
            counted[check.status] += 1
    assert counted["verified"] > 100 and counted["expired"] > 0, counted


def test_a_license_number_shown_without_its_state_is_found_at_its_board(
    built: Build, truth: GroundTruth
) -> None:
    """A listing that names no state (a therapist who moved, listed in two states) still has its
    number checked: at the one crawled board where it is the holder's."""
    stateless = [
        (person, check)
        for person, check in checks(built, truth)
        if check.kind == "state_license" and check.number and check.state is None
    ]
    assert stateless
    for person, check in stateless:
        true = [
            c
            for c in person["credentials"]
            if c["issuer_site"] and written_alike(c.get("number"), check.number)
        ]
        if true and standing_today(true[0]) == "active":
            assert check.status == "verified", (person["name"], check)
            assert f"{true[0]['state']} license board" in check.reason, check
        else:
            assert check.status != "not_found", (person["name"], check)
