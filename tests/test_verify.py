"""Credential verification against issuer records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from crawler.items import CredentialRecord, Provenance
from indexer.taxonomy import load_taxonomy
from indexer.verify import Claim, Registry, Verification, issuer_status, to_issuer_record


def board_record(
    number: str, name: str, status: str, expires: str = "2027-01-31", state: str = "TX"
) -> CredentialRecord:
    return CredentialRecord(
        id=f"{state}-{number}",
        provenance=Provenance(
            "board-tx", f"http://board/verify/{number}", "2025-09-01T10:00:00+00:00", "h"
        ),
        issuer_kind="state_board",
        issuer="Texas Department of Licensing and Regulation",
        credential_raw="LMT",
        number=number,
        name_raw=name,
        state=state,
        status_raw=status,
        expires_raw=expires,
    )


@pytest.fixture
def registry() -> Registry:
    taxonomy = load_taxonomy()
    records = [
        board_record("MT100", "DOE, JANE A", "Active"),
        board_record("MT200", "Smith, Robert", "Expired", "2024-02-01"),
        board_record("MT300", "Lee, Ann", "Suspended"),
        board_record("MT400", "Park, Linda", "", "2025-03-01"),  # no status, past expiry
    ]
    return Registry(to_issuer_record(r, taxonomy) for r in records)


LMT_TX = Claim("lmt", "state_license", "TX", None)


def test_an_active_license_found_by_number_is_verified_with_its_date(registry: Registry) -> None:
    result = registry.verify(replace(LMT_TX, number="MT100"), {"jane doe"})
    assert result.status == "verified"
    assert result.checked_on == "2025-09-01"
    assert result.record_url == "http://board/verify/MT100"


def test_expired_and_suspended_licenses_say_so(registry: Registry) -> None:
    assert registry.verify(replace(LMT_TX, number="MT200"), {"robert smith"}).status == "expired"
    assert registry.verify(replace(LMT_TX, number="MT300"), {"ann lee"}).status == "inactive"
    # No standing given and past its expiry date on the day it was checked.
    assert registry.verify(replace(LMT_TX, number="MT400"), {"linda park"}).status == "expired"


def test_an_unknown_number_is_not_found(registry: Registry) -> None:
    result = registry.verify(replace(LMT_TX, number="MT999"), {"jane doe"})
    assert result.status == "not_found"
    assert "no number MT999" in result.reason


def test_somebody_elses_number_is_not_found(registry: Registry) -> None:
    result = registry.verify(replace(LMT_TX, number="MT100"), {"mallory evans"})
    assert result.status == "not_found"
    assert "belongs to another holder" in result.reason


def test_a_claim_without_number_is_matched_by_name(registry: Registry) -> None:
    assert registry.verify(LMT_TX, {"jane doe"}).status == "verified"
    assert registry.verify(LMT_TX, {"nobody known"}).status == "not_found"


def test_states_and_issuers_not_crawled_cannot_be_checked(registry: Registry) -> None:
    assert registry.verify(replace(LMT_TX, state="OR"), {"jane doe"}).status == "unverifiable"
    assert (
        registry.verify(Claim("bctmb", "board_certification", None, "123"), {"jane doe"}).status
        == "unverifiable"
    )
    assert (
        registry.verify(Claim("amta_member", "membership", None, None), {"jane doe"}).status
        == "unverifiable"
    )


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Active", "active"),
        ("CLEAR/ACTIVE", "active"),
        ("A", "active"),
        ("Expired", "expired"),
        ("Null and Void", "expired"),
        ("Revoked", "inactive"),
        ("who knows", "unknown"),
    ],
)
def test_issuer_status_words(raw: str, status: str) -> None:
    assert issuer_status(raw) == status


def test_record_dates_are_parsed() -> None:
    record = to_issuer_record(
        board_record("MT1", "Doe, Jane", "Active", "01/31/2027"), load_taxonomy()
    )
    assert record.expires == date(2027, 1, 31)
    assert record.holder_key == "jane doe"
    assert record.credential_id == "lmt"


# -- what cannot be checked says why ------------------------------------------------------------


def cert_record(number: str, name: str, credential: str = "BCTMB") -> CredentialRecord:
    return CredentialRecord(
        id=f"cert-{number}",
        provenance=Provenance(
            "certregistry", f"http://cert/certificant/{number}", "2025-09-01T10:00:00+00:00", "h"
        ),
        issuer_kind="certification_registry",
        issuer="NCBTMB",
        credential_raw=credential,
        number=number,
        name_raw=name,
        status_raw="Board Certified",
        expires_raw="2027-01-31",
    )


def test_a_legacy_title_the_certification_registry_does_not_publish_is_no_red_flag() -> None:
    """NCTMB, which board certification replaced: a registry listing only BCTMB holders says
    nothing of it, so it is unverifiable, not "not found"."""
    taxonomy = load_taxonomy()
    registry = Registry([to_issuer_record(cert_record("604072", "Jane A. Doe"), taxonomy)])
    legacy = registry.verify(Claim("nctmb", "board_certification", None, None), {"jane doe"})
    assert legacy.status == "unverifiable"
    assert legacy.reason == "the certification registry publishes no NCTMB records (it lists BCTMB)"
    # What it does publish is still checked, by name as by number.
    assert (
        registry.verify(Claim("bctmb", "board_certification", None, None), {"jane doe"}).status
        == "verified"
    )
    assert (
        registry.verify(Claim("bctmb", "board_certification", None, "604073"), {"jane doe"}).status
        == "not_found"
    )


def test_a_registry_that_lists_the_legacy_title_checks_it() -> None:
    taxonomy = load_taxonomy()
    registry = Registry([to_issuer_record(cert_record("1234", "Jane Doe", "NCTMB"), taxonomy)])
    claim = Claim("nctmb", "board_certification", None, None)
    assert registry.verify(claim, {"jane doe"}).status == "verified"
    assert registry.verify(claim, {"mallory evans"}).status == "not_found"


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        (Claim("amta_member", "membership", None, None), "no public register of members"),
        (Claim("abmp_member", "membership", None, None), "no public register of members"),
        (Claim("cnmt", "specialty_certificate", None, None), "no public register of holders"),
    ],
)
def test_what_no_issuer_publishes_says_so(registry: Registry, claim: Claim, words: str) -> None:
    result = registry.verify(claim, {"jane doe"})
    assert result.status == "unverifiable"
    assert words in result.reason


def test_a_title_one_state_issues_names_its_state() -> None:
    """ "Jane Doe, LMBT" names no state; only North Carolina issues the LMBT."""
    taxonomy = load_taxonomy()
    nc = board_record("12345", "DOE, JANE", "Active", state="NC")
    registry = Registry([to_issuer_record(replace(nc, credential_raw="LMBT"), taxonomy)])
    result = registry.verify(Claim("lmbt", "state_license", None, None), {"jane doe"})
    assert (result.status, result.reason) == ("verified", "matched by name at the NC license board")
    # An LMT names no state by itself.
    lmt = registry.verify(Claim("lmt", "state_license", None, None), {"jane doe"})
    assert (lmt.status, lmt.reason) == ("unverifiable", "the claim names no state")


def test_a_number_claimed_without_its_state_is_looked_up_at_every_board() -> None:
    taxonomy = load_taxonomy()
    records = [
        board_record("MT100", "DOE, JANE A", "Active"),
        board_record("MA200", "Doe, Jane", "Active", state="FL"),
        board_record("MA300", "Evans, Mallory", "Active", state="FL"),
    ]
    registry = Registry(to_issuer_record(r, taxonomy) for r in records)

    def stateless(number: str) -> Verification:
        return registry.verify(Claim("lmt", "state_license", None, number), {"jane doe"})

    found = stateless("MA200")
    assert (found.status, found.reason) == (
        "verified",
        "found by number at the FL license board (the claim names no state)",
    )
    assert found.record_url == "http://board/verify/MA200"
    # Somebody else's number, or none a crawled board has: another state's board may have
    # issued it, so it is no red flag.
    assert stateless("MA300").status == "unverifiable"
    assert stateless("MA999").status == "unverifiable"
