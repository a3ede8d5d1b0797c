"""Credential claims: taxonomy id and kind, comparable license numbers, state."""

from __future__ import annotations

import pytest

from crawler.items import ClaimedCredential
from indexer.normalize.credentials import (
    normalize_credential,
    normalize_license_number,
    normalize_npi,
    npi_is_valid,
)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("MA 12345", "MA12345"),
        ("ma-12345", "MA12345"),
        ("MA12345", "MA12345"),
        ("Lic # MA12345", "MA12345"),
        ("License No. MT-12345P", "MT12345P"),
        ("MT 0012 345", "MT0012345"),
        ("227.012345", "227012345"),
        ("#012345", "012345"),
        ("n/a", None),
        ("", None),
    ],
)
def test_license_numbers(raw: str, number: str | None) -> None:
    assert normalize_license_number(raw) == number


def _claim(**kwargs: object) -> tuple:
    result = normalize_credential(ClaimedCredential(**kwargs))
    value = result.value
    return (value.credential_id, value.kind, value.number, value.state), [
        (f.field, f.reason) for f in result.flags
    ]


def test_a_florida_license_claim() -> None:
    assert _claim(name_raw="LMT", number="ma 12345", state="Florida") == (
        ("lmt", "state_license", "MA12345", "FL"),
        [],
    )


def test_board_certification_in_words() -> None:
    assert _claim(name_raw="Board Certified (BCTMB)", number="123456") == (
        ("bctmb", "board_certification", "123456", None),
        [],
    )


def test_an_unknown_name_falls_back_to_its_alternate_name() -> None:
    claim = ClaimedCredential(
        name_raw="Certified by the National Board (NCB)", alternate_name_raw="BCTMB"
    )
    normalized = normalize_credential(claim)
    assert normalized.value is not None
    assert (normalized.value.credential_id, normalized.value.kind) == (
        "bctmb",
        "board_certification",
    )
    assert [f.reason for f in normalized.flags] == []


def test_a_title_one_state_issues_supplies_the_state() -> None:
    assert _claim(name_raw="LMBT", number="12345") == (
        ("lmbt", "state_license", "12345", "NC"),
        [],
    )


def test_a_title_claimed_in_a_state_that_does_not_issue_it_is_flagged() -> None:
    assert _claim(name_raw="LMBT", number="12345", state="TX")[1] == [
        ("credentials.state", "state_mismatch")
    ]


def test_unknown_credential_is_kept_and_flagged() -> None:
    result = normalize_credential(ClaimedCredential(name_raw="Reiki Master"))
    assert result.value.credential_id is None
    assert result.value.name_raw == "Reiki Master"
    assert [(f.reason, f.raw) for f in result.flags] == [("unknown_credential", "Reiki Master")]


def test_unknown_state_is_flagged() -> None:
    assert _claim(name_raw="LMT", number="12345", state="Texsas") == (
        ("lmt", "state_license", "12345", None),
        [("credentials.state", "unknown_state")],
    )


def test_a_florida_establishment_number_claimed_as_a_license_is_flagged() -> None:
    assert _claim(name_raw="LMT", number="MM 1234", state="FL")[1] == [
        ("credentials.number", "establishment_license")
    ]


def test_a_number_with_no_digits_is_flagged() -> None:
    assert _claim(name_raw="LMT", number="pending", state="TX") == (
        ("lmt", "state_license", None, "TX"),
        [("credentials.number", "invalid_number")],
    )


def test_one_claim_naming_two_credentials_keeps_the_first_and_flags() -> None:
    assert _claim(name_raw="LMT, BCTMB") == (
        ("lmt", "state_license", None, None),
        [("credentials", "several_credentials")],
    )


def test_npi_check_digit() -> None:
    # 1234567893 is the example NPI of the CMS check-digit specification.
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert normalize_npi("1234-567-893").value == "1234567893"
    assert [f.reason for f in normalize_npi("1234567890").flags] == ["invalid_npi"]
    assert _claim(name_raw="NPI", number="1234567890") == (
        ("npi", "identifier", None, None),
        [("credentials.number", "invalid_npi")],
    )
