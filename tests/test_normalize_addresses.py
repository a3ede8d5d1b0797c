"""US addresses: one canonical street line, split places, ZIP+4, a matching key, raw kept."""

from __future__ import annotations

import pytest

from crawler.items import PostalAddress
from indexer.normalize.addresses import normalize_address, normalize_zip


def _line(raw: str) -> str | None:
    return normalize_address(raw).value.street_line


@pytest.mark.parametrize(
    "raw",
    [
        "1200 N Lamar Blvd, Suite 200, Austin, TX 78704",
        "1200 North Lamar Boulevard Ste. 200, Austin, TX 78704",
        "1200 N. Lamar Blvd. #200, Austin, Texas 78704",
        "1200 N LAMAR BLVD STE 200 AUSTIN TX 78704",
        "1200 n lamar blvd # 200, austin, tx 78704",
        "1200 N Lamar Blvd, Suite #200, Austin, TX 78704",
    ],
)
def test_suite_spellings_become_one_street_line_and_one_key(raw: str) -> None:
    address = normalize_address(raw).value
    assert address.street_line == "1200 N Lamar Blvd Ste 200"
    assert (address.street, address.unit) == ("1200 N Lamar Blvd", "Ste 200")
    assert (address.city, address.state, address.zip5) == ("Austin", "TX", "78704")
    assert address.match_key == "1200 n lamar blvd|200|78704"


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ("55 West 39th Street, New York, NY 10018", "55 W 39th St"),
        ("4021 Oak Avenue Southwest, Seattle, WA 98116", "4021 Oak Ave SW"),
        ("4021 Oak Ave. SW, Seattle, WA 98116", "4021 Oak Ave SW"),
        ("310 Northeast Dekum Street, Portland, OR 97211", "310 NE Dekum St"),
        ("9 Elm Court, Apt. 3B, Durham, NC 27701", "9 Elm Ct Apt 3B"),
    ],
)
def test_suffixes_and_directionals_take_their_usps_abbreviations(raw: str, line: str) -> None:
    assert _line(raw) == line


def test_zip_plus_four_is_split() -> None:
    address = normalize_address("500 Court St, Brooklyn, NY 11231-4512").value
    assert (address.zip5, address.zip4) == ("11231", "4512")
    assert address.match_key == "500 court st||11231"


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("78704", ("78704", None)),
        ("78704-1234", ("78704", "1234")),
        ("787041234", ("78704", "1234")),
        ("7870", (None, None)),
        ("ABCDE", (None, None)),
    ],
)
def test_zip_codes(raw: str, parts: tuple[str | None, str | None]) -> None:
    assert normalize_zip(raw) == parts


def test_fields_the_source_split_are_used_and_state_names_become_codes() -> None:
    source = PostalAddress(
        street="1200 North Lamar Blvd., Ste. 200",
        locality="Austin",
        region="Texas",
        postal_code="78704",
    )
    result = normalize_address(source)
    assert result.flags == ()
    assert result.value.street_line == "1200 N Lamar Blvd Ste 200"
    assert result.value.state == "TX"
    assert result.value.raw == "1200 North Lamar Blvd., Ste. 200, Austin, Texas 78704"


def test_a_zip_in_the_street_text_that_disagrees_is_flagged_and_the_split_field_wins() -> None:
    source = PostalAddress(street="1200 N Lamar Blvd, Austin TX 78705", postal_code="78704")
    result = normalize_address(source)
    assert result.value.zip5 == "78704"
    assert [(f.field, f.reason) for f in result.flags] == [("address.zip", "conflicting_address")]


@pytest.mark.parametrize("raw", ["blah blah", "123 Main St, 456 Oak Ave", "Call for location"])
def test_unparseable_addresses_keep_raw_and_are_flagged(raw: str) -> None:
    result = normalize_address(raw)
    assert result.value.raw == raw
    assert result.value.parsed is False
    assert result.value.street is None
    assert result.value.match_key is None
    assert [f.reason for f in result.flags] == ["unparseable_address"]


def test_city_and_state_alone_are_not_unparseable_but_have_no_street() -> None:
    result = normalize_address("Austin, TX")
    assert (result.value.city, result.value.state, result.value.street) == ("Austin", "TX", None)
    assert [f.reason for f in result.flags] == ["no_street"]


def test_unknown_state_and_bad_zip_are_flagged_not_coerced() -> None:
    result = normalize_address(
        PostalAddress(street="1 Main St", locality="Springfield", region="ZZ", postal_code="7870")
    )
    assert (result.value.state, result.value.zip5) == (None, None)
    assert {(f.field, f.reason, f.raw) for f in result.flags} == {
        ("address.state", "unknown_state", "ZZ"),
        ("address.zip", "invalid_zip", "7870"),
    }


def test_no_key_without_a_place() -> None:
    assert normalize_address("1 Main St").value.match_key is None


def test_po_boxes() -> None:
    address = normalize_address("P.O. Box 123, Austin, TX 78704").value
    assert address.street == "PO Box 123"


def test_foreign_country_is_flagged() -> None:
    source = PostalAddress(street="10 Downing St", locality="London", country="United Kingdom")
    assert "foreign_address" in [f.reason for f in normalize_address(source).flags]


def test_nothing_given() -> None:
    assert normalize_address(None).value is None
    assert normalize_address(PostalAddress()).flags == ()


@pytest.mark.parametrize("designator", ["Rm", "Room", "Ste", "Suite", "Unit", "Apt", "#"])
@pytest.mark.parametrize("street", ["3105 W Biscayne Way", "3105 West Biscayne Way", "12 Oak Ave"])
def test_a_unit_is_one_unit_with_or_without_the_comma_before_it(
    street: str, designator: str
) -> None:
    # Without the comma usaddress reads some designators ("Way Rm 165") as a direction.
    keys = {
        normalize_address(
            PostalAddress(street=f"{street}{comma} {designator} 165", postal_code="11237")
        ).value.match_key
        for comma in ("", ",")
    }
    street_key = normalize_address(PostalAddress(street=street, postal_code="11237")).value
    assert keys == {f"{street_key.match_key.split('|')[0]}|165|11237"}
