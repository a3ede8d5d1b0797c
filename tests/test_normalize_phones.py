"""Telephone numbers in every US format to E.164."""

from __future__ import annotations

import pytest

from indexer.normalize.phones import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "(512) 867-5309",
        "512-867-5309",
        "512.867.5309",
        "+1 512 867 5309",
        "5128675309",
        "(512)867-5309",
        "1-512-867-5309",
        "Tel: 512 867 5309",
    ],
)
def test_us_formats_become_e164(raw: str) -> None:
    result = normalize_phone(raw)
    assert result.value.e164 == "+15128675309"
    assert result.flags == ()


def test_extension_is_kept_apart() -> None:
    phone = normalize_phone("512-867-5309 ext. 12").value
    assert (phone.e164, phone.extension) == ("+15128675309", "12")


def test_vanity_numbers_are_dialled_as_digits() -> None:
    assert normalize_phone("1-800-FLOWERS").value.e164 == "+18003569377"


@pytest.mark.parametrize("raw", ["867-5309", "123-456-7890", "call me", "000"])
def test_invalid_numbers_give_none_and_a_flag(raw: str) -> None:
    result = normalize_phone(raw)
    assert result.value is None
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [
        ("telephone", "invalid_phone", raw)
    ]


def test_two_numbers_in_one_field_keep_the_first_and_flag() -> None:
    result = normalize_phone("(512) 867-5309 / (512) 867-5310")
    assert result.value.e164 == "+15128675309"
    assert [f.reason for f in result.flags] == ["several_phones"]


def test_a_foreign_number_is_kept_and_flagged() -> None:
    result = normalize_phone("+44 20 7946 0958")
    assert result.value.e164 == "+442079460958"
    assert [f.reason for f in result.flags] == ["foreign_phone"]


def test_no_number_is_not_a_problem() -> None:
    assert normalize_phone(None).value is None
    assert normalize_phone("  ").flags == ()
