"""Credential verification against issuer records."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from crawler.items import CredentialRecord, Provenance
from indexer.taxonomy import load_taxonomy
from indexer.verify import Claim, Registry, issuer_status, to_issuer_record


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
