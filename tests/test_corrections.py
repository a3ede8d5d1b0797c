"""Therapists' removal and correction requests, applied by every build until lifted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.items import Listing, PostalAddress, Provenance, stable_id, to_dict
from crawler.runs import CrawlStore, RunRecord
from indexer.build import build_profiles
from indexer.corrections import (
    CorrectionBook,
    CorrectionError,
    Curation,
    Suppression,
    parse_value,
    profile_keys,
)
from indexer.profile import CredentialCheck, ListingRef, Profile, VerificationStatus
from indexer.taxonomy import load_taxonomy


def listing(source: str, ref: str, name: str, phone: str, npi: str | None = None) -> Listing:
    return Listing(
        id=stable_id(source, ref),
        provenance=Provenance(source, ref, "2025-09-01T00:00:00+00:00", "h"),
        source_ref=ref,
        name_raw=name,
        practice_name_raw=f"{name} Bodywork",
        telephone_raw=phone,
        address=PostalAddress(
            street="1200 S Congress Ave", locality="Austin", region="TX", postal_code="78704"
        ),
        modalities_raw=["NMT"],
        npi=npi,
    )


def write_run(store: CrawlStore, source: str, run_id: str, records: list[Listing]) -> None:
    run_dir = store.run_dir(source, run_id)
    run_dir.mkdir(parents=True)
    with (run_dir / "items.jsonl").open("w") as out:
        for record in records:
            out.write(json.dumps(to_dict(record)) + "\n")
    store.write_record(RunRecord(source, run_id, "2025-09-01T00:00:00+00:00", status="finished"))


JANE_A = listing("atlas", "http://atlas/jane", "Jane A. Doe, LMT", "(512) 555-0100", "1234567893")
JANE_G = listing("guild", "http://guild/m/1", "Doe, Jane", "512.555.0100")
BOB_A = listing("atlas", "http://atlas/bob", "Bob Smith", "(512) 555-0199")


@pytest.fixture
def store(tmp_path: Path) -> CrawlStore:
    store = CrawlStore(tmp_path)
    write_run(store, "atlas", "20250901T000000Z", [JANE_A, BOB_A])
    write_run(store, "guild", "20250901T000000Z", [JANE_G])
    return store


def profile_of(store: CrawlStore, listing_id: str) -> Profile | None:
    build = build_profiles(store)
    profile_id = build.listing_to_profile.get(listing_id)
    return build.profiles.get(profile_id) if profile_id else None


# -- removals ---------------------------------------------------------------------------------


def test_a_suppressed_profile_is_left_out_of_every_build(store: CrawlStore) -> None:
    jane = profile_of(store, JANE_A.id)
    assert jane is not None and {item.id for item in jane.listings} == {
        JANE_A.id,
        JANE_G.id,
    }
    CorrectionBook(store.root.parent).suppress(jane, by="ann", reason="asked by phone")
    build = build_profiles(store)
    assert build.summary.suppressed_profiles == 1
    assert jane.id not in build.profiles
    assert JANE_A.id not in build.listing_to_profile and JANE_G.id not in build.listing_to_profile
    assert profile_of(store, BOB_A.id) is not None  # nobody else is touched


def test_a_suppression_holds_when_a_new_listing_changes_the_profile_id(store: CrawlStore) -> None:
    jane = profile_of(store, JANE_A.id)
    CorrectionBook(store.root.parent).suppress(jane, by="ann", reason="asked by email")
    # A new site lists her too; its listing id sorts first, so her profile gets a new id.
    ref = next(
        f"http://pages/{n}"
        for n in range(10_000)
        if stable_id("pages", f"http://pages/{n}") < min(JANE_A.id, JANE_G.id)
    )
    write_run(store, "pages", "20250902T000000Z", [listing("pages", ref, "Jane Doe", "5125550100")])
    build = build_profiles(store)
    assert stable_id("pages", ref) not in build.listing_to_profile
    assert build.summary.suppressed_profiles == 1
    assert [p.name for p in build.profiles.values()] == ["Bob Smith"]


SEEN = "2025-09-01T00:00:00+00:00"


def _profile(pid: str, listing_ids: list[str], credentials: list[CredentialCheck]) -> Profile:
    listings = tuple(
        ListingRef(lid, "atlas", f"http://atlas/{lid}", "Jane Doe", SEEN, True)
        for lid in listing_ids
    )
    return Profile(id=pid, name="Jane Doe", listings=listings, credentials=tuple(credentials))


def _claim(
    kind: str, state: str | None, number: str, status: VerificationStatus
) -> CredentialCheck:
    type_ = "npi" if kind == "identifier" else "lmt"
    return CredentialCheck(
        type_, type_, kind, state, number, ("atlas",), status, None, None, None, ""
    )


def test_strong_keys_match_a_profile_sharing_none_of_the_listings() -> None:
    npi = _claim("identifier", None, "1234567893", "unverifiable")
    texas = _claim("state_license", "TX", "MT1", "verified")
    florida = _claim("state_license", "FL", "MA9", "not_found")
    removed = _profile("t1", ["a1"], [npi, texas, florida])
    assert profile_keys(removed) == {"profile:t1", "listing:a1", "npi:1234567893", "license:TX:MT1"}
    curation = Curation(
        [Suppression(1, "t1", profile_keys(removed), "asked", "ann", "2025-09-01T00:00:00+00:00")],
        [],
    )
    same_npi = _profile("t2", ["b1"], [npi])
    same_license = _profile("t3", [], [texas])
    # A license number the board does not know for her may be somebody else's: no match on it.
    denied_license = _profile("t4", [], [florida])
    stranger = _profile("t5", ["c1"], [])
    assert curation.suppression_of(same_npi) is not None
    assert curation.suppression_of(same_license) is not None
    assert curation.suppression_of(denied_license) is None
    assert curation.suppression_of(stranger) is None


def test_requests_are_recorded_with_who_and_when_and_lifted_once(store: CrawlStore) -> None:
    book = CorrectionBook(store.root.parent)
    jane = profile_of(store, JANE_A.id)
    first = book.suppress(jane, by="ann", reason="asked by email")
    assert (first.requested_by, first.reason, first.lifted_at) == ("ann", "asked by email", None)
    with pytest.raises(CorrectionError, match=f"profile {jane.id} is already suppressed"):
        book.suppress(jane, by="bob", reason="again")
    with pytest.raises(CorrectionError, match="say why"):
        book.suppress(profile_of(store, BOB_A.id), by="bob", reason=" ")
    lifted = book.unsuppress(jane.id, by="bob")
    assert lifted.lifted_by == "bob" and lifted.lifted_at is not None
    with pytest.raises(CorrectionError, match="is not suppressed"):
        book.unsuppress(jane.id, by="bob")
    assert book.suppressions() == [] and len(book.suppressions(include_lifted=True)) == 1
    assert profile_of(store, JANE_A.id) is not None  # back in the next build


# -- corrections ------------------------------------------------------------------------------


def test_a_correction_overrides_the_crawled_field_until_lifted(store: CrawlStore) -> None:
    book = CorrectionBook(store.root.parent)
    jane = profile_of(store, JANE_A.id)
    assert jane.phones == ("+15125550100",)
    book.correct(jane, "phones", ["+15125550111"], by="ann")
    book.correct(jane, "practice_name", None, by="ann")  # she asked for it to go
    corrected = profile_of(store, JANE_A.id)
    assert corrected.phones == ("+15125550111",)
    assert corrected.practice_name is None
    assert [(c["field"], c["value"], c["by"]) for c in corrected.corrections] == [
        ("phones", ["+15125550111"], "ann"),
        ("practice_name", None, "ann"),
    ]
    assert corrected.provenance["phones"] == [
        {
            "source": "correction",
            "url": None,
            "last_seen": corrected.corrections[0]["at"],
            "by": "ann",
        }
    ]
    assert build_profiles(store).summary.corrected_profiles == 1
    # Correcting the same field again replaces the earlier correction.
    book.correct(jane, "phones", ["+15125550122"], by="bob")
    assert profile_of(store, JANE_A.id).phones == ("+15125550122",)
    assert len(book.corrections()) == 2 and len(book.corrections(include_lifted=True)) == 3
    book.uncorrect(jane.id, "phones", by="bob")
    book.uncorrect(jane.id, "practice_name", by="bob")
    restored = profile_of(store, JANE_A.id)
    assert restored == jane  # exactly the crawled profile again
    with pytest.raises(CorrectionError, match="has no correction of 'phones'"):
        book.uncorrect(jane.id, "phones", by="bob")


def test_correction_values_are_checked_and_normalised() -> None:
    taxonomy = load_taxonomy()
    assert parse_value("phones", "(512) 555-0100; 512.555.0199", taxonomy) == [
        "+15125550100",
        "+15125550199",
    ]
    assert parse_value("modalities", "NMT, trigger point therapy", taxonomy) == [
        "neuromuscular_therapy",
        "trigger_point_therapy",
    ]
    assert parse_value("website", " ", taxonomy) is None
    assert parse_value("bio", "", taxonomy) is None
    for field, raw, message in [
        ("name", " ", "a profile cannot be left without a name"),
        ("phones", "555", "phones: '555' is not a valid phone number"),
        ("modalities", "NMT, banana", "modalities: unknown modality 'banana'"),
        ("website", "ftp://example.org", "website: 'ftp://example.org' is not an http(s) URL"),
        ("rating", "5", "field 'rating' cannot be corrected"),
        ("bio", "x" * 100_000, "bio: 100,000 characters; at most 5,000"),
        ("name", "Jane " * 200, "name: 999 characters; at most 500"),
    ]:
        with pytest.raises(CorrectionError, match=re.escape(message)):
            parse_value(field, raw, taxonomy)
