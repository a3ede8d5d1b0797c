"""NPI registry API v2.1 payloads (real responses) into credential records, and paging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract.npi import (
    MASSAGE_THERAPIST_TAXONOMY,
    MAX_LIMIT,
    NpiApiError,
    format_postal_code,
    is_massage_therapist,
    massage_therapist_records,
    may_be_truncated,
    next_skip,
    page_params,
    parse_npi_response,
)
from crawler.items import Provenance, stable_id

NPI_DIR = Path(__file__).parent / "fixtures" / "realworld" / "npi"
PROVENANCE = Provenance(
    source="npi_registry",
    url="https://npiregistry.cms.hhs.gov/api/?version=2.1&taxonomy_description=Massage",
    fetched_at="2024-05-01T00:00:00+00:00",
    content_hash="0" * 64,
)


def load(name: str) -> dict:
    return json.loads((NPI_DIR / name).read_text())


def test_massage_therapist_gives_one_record_per_taxonomy_licence():
    page = parse_npi_response((NPI_DIR / "api-a769af.json").read_bytes(), PROVENANCE)
    rowell = [r for r in page.records if r.npi == "1003142399"]
    assert len(rowell) == 2
    by_state = {r.state: r for r in rowell}
    assert by_state["GA"].number == "MT004477"
    assert by_state["AK"].number == "140733"
    assert by_state["AK"].extras["taxonomy_primary"] is True
    assert by_state["GA"].extras["taxonomy_primary"] is False
    for record in rowell:
        assert record.issuer_kind == "npi_registry"
        assert record.issuer == "NPPES"
        assert record.credential_raw == "Massage Therapist"
        assert record.extras["credential_text_raw"] == "MT"
        assert record.name_raw == "SHAREE ROWELL"
        assert record.status_raw == "A"
        assert record.telephone_raw == "256-392-6234"
        assert record.city_raw == "WASILLA"


def test_npi_number_is_kept_as_a_string():
    page = parse_npi_response(load("api-a769af.json"), PROVENANCE)
    assert all(isinstance(r.npi, str) and len(r.npi) == 10 for r in page.records)


def test_record_ids_are_stable_and_distinct_per_licence():
    first = parse_npi_response(load("api-a769af.json"), PROVENANCE).records
    again = parse_npi_response(load("api-a769af.json"), PROVENANCE).records
    assert [r.id for r in first] == [r.id for r in again]
    assert len({r.id for r in first}) == len(first)
    ga = next(r for r in first if r.number == "MT004477")
    assert ga.id == stable_id("npi_registry", "1003142399/225700000X/GA/MT004477")


def test_nine_digit_postal_code_is_written_as_zip_plus_four():
    page = parse_npi_response(load("api-a769af.json"), PROVENANCE)
    record = page.records[0]
    assert record.address is not None
    assert record.address.postal_code == "99654-6569"
    assert record.address.street == "1700 E BOGARD RD STE A203"
    assert format_postal_code("30329") == "30329"
    assert format_postal_code("") is None


def test_result_count_is_reported_but_paging_uses_what_was_returned():
    page = parse_npi_response(load("api-a769af.json"), PROVENANCE)
    assert page.result_count == 200
    assert page.returned == 2


def test_licence_na_or_empty_and_empty_state_become_none_with_raw_kept():
    na = parse_npi_response(load("api-6b1573.json"), PROVENANCE)
    psych = next(r for r in na.records if r.npi == "1053975268")
    assert psych.number is None
    assert psych.extras["license_raw"] == "NA"

    empty = parse_npi_response(load("api-1f9cef.json"), PROVENANCE)
    group = next(r for r in empty.records if r.npi == "1568946812")
    assert group.number is None
    assert group.state is None
    assert group.extras["license_raw"] == ""
    assert group.name_raw == "CSP ANESTHESIA LLC"
    assert group.extras["enumeration_type"] == "NPI-2"


def test_credential_letters_are_kept_as_written():
    page = parse_npi_response(load("api-6b1573.json"), PROVENANCE)
    written = {r.extras["credential_text_raw"] for r in page.records}
    assert {"M.D", "DC PC", "PSYD"} <= written


@pytest.mark.parametrize(
    ("name", "field", "description"),
    [
        ("api-8d2d52.json", "generic", "No valid search criteria provided"),
        ("api-c85286.json", "enumeration_type", "enumeration_type requires additional search"),
    ],
)
def test_error_payload_raises_naming_fields_and_descriptions(name, field, description):
    with pytest.raises(NpiApiError) as caught:
        parse_npi_response(load(name), PROVENANCE)
    assert f"'{field}'" in str(caught.value)
    assert description in str(caught.value)
    assert caught.value.errors[0]["field"] == field


def test_unreadable_payload_raises_npi_api_error():
    with pytest.raises(NpiApiError):
        parse_npi_response(b"<html>Service Unavailable</html>", PROVENANCE)
    with pytest.raises(NpiApiError):
        parse_npi_response({"unexpected": True}, PROVENANCE)


def test_empty_result_gives_no_records():
    page = parse_npi_response(load("api-a2f836.json"), PROVENANCE)
    assert page.records == []
    assert (page.result_count, page.returned) == (0, 0)


def test_filter_to_massage_therapists():
    data = load("api-a769af.json")
    assert [is_massage_therapist(r) for r in data["results"]] == [True, False]
    records = parse_npi_response(data, PROVENANCE).records
    kept = massage_therapist_records(records)
    assert len(records) == 3
    assert {r.npi for r in kept} == {"1003142399"}
    assert all(r.extras["taxonomy_code"] == MASSAGE_THERAPIST_TAXONOMY for r in kept)


def test_paging_stops_on_a_short_page_and_at_the_api_skip_limit():
    assert next_skip(0, MAX_LIMIT, returned=200) == 200
    assert next_skip(800, MAX_LIMIT, returned=200) == 1000
    assert next_skip(1000, MAX_LIMIT, returned=200) is None
    assert may_be_truncated(1000, MAX_LIMIT, returned=200)
    assert next_skip(200, MAX_LIMIT, returned=57) is None
    assert not may_be_truncated(200, MAX_LIMIT, returned=57)


def test_page_params_carry_version_and_criteria_and_refuse_out_of_range():
    params = page_params(400, taxonomy_description="Massage Therapist", state="TX")
    assert params == {
        "taxonomy_description": "Massage Therapist",
        "state": "TX",
        "version": "2.1",
        "limit": "200",
        "skip": "400",
    }
    with pytest.raises(ValueError):
        page_params(0, limit=500)
    with pytest.raises(ValueError):
        page_params(1200)


def test_placeholder_dashes_in_name_parts_are_not_part_of_the_name() -> None:
    from crawler.extract.npi import _provider_name

    basic = {"name_prefix": "--", "first_name": "SHARON", "last_name": "CROSS", "name_suffix": "--"}
    assert _provider_name(basic) == "SHARON CROSS"


def test_secondary_practice_locations_are_kept_beside_the_location_address():
    [anesthesia] = parse_npi_response(load("api-8bdc8b.json"), PROVENANCE).records
    assert anesthesia.name_raw == "CSP ANESTHESIA LLC"
    assert anesthesia.address is not None
    assert (anesthesia.address.street, anesthesia.address.locality) == (
        "403 PERMIAN WAY STE D",
        "VILLA RICA",
    )
    assert anesthesia.extras["practice_locations"] == [
        {
            "street": "5505 ROSWELL RD STE 350B",
            "locality": "ATLANTA",
            "region": "GA",
            "postal_code": "30342-1985",
            "country": "US",
            "telephone_raw": "888-408-0200",
        }
    ]
    hiza = parse_npi_response(load("api-b2f594.json"), PROVENANCE).records
    # one record per taxonomy, each with the provider's every location
    assert [r.credential_raw for r in hiza] == [
        "Orthopaedic Surgery",
        "Student in an Organized Health Care Education/Training Program",
    ]
    assert [r.number for r in hiza] == ["2017-01132", None]
    for record in hiza:
        assert record.address is not None
        assert (record.address.street, record.address.postal_code) == (
            "111 VICTORIA RD",
            "28801-4811",
        )
        assert [p["street"] for p in record.extras["practice_locations"]] == [
            "49 JESSE HILL JR DR SE # 307"
        ]


def test_one_taxonomy_licensed_in_two_states_gives_two_records():
    page = parse_npi_response(load("api-f7d8ea.json"), PROVENANCE)
    emergency = [r for r in page.records if r.npi == "1568726677"]
    assert [(r.state, r.number, r.extras["taxonomy_primary"]) for r in emergency] == [
        ("NY", "279979", False),
        ("GA", "75505", True),
    ]
    assert len({r.id for r in emergency}) == 2
    assert {r.name_raw for r in emergency} == {"DR. BRENDA ODAMEN OIYEMHONLAN"}


def test_odd_registry_values_are_kept_as_written():
    page = parse_npi_response(load("api-f7d8ea.json"), PROVENANCE)
    [sprang] = [r for r in page.records if r.npi == "1053975268"]
    assert sprang.address is not None
    # A foreign-typed address: the state spelled out and an unknown country code
    assert (sprang.address.street, sprang.address.region, sprang.address.country) == (
        "12 EXECUTIVE PARK DRIVE NE, RM 388",
        "GEORGIA",
        "AA",
    )
    assert sprang.number is None and sprang.extras["license_raw"] == "NA"
    [smith] = [r for r in page.records if r.npi == "1508193921"]
    assert smith.extras["credential_text_raw"] == "CPNP, DNP"


def test_every_taxonomy_of_every_result_is_a_record():
    page = parse_npi_response(load("api-34c18d.json"), PROVENANCE)
    assert (page.result_count, page.returned, len(page.records)) == (10, 10, 13)
    biller = [r for r in page.records if r.npi == "1225035769"]
    assert [(r.extras["taxonomy_code"], r.number) for r in biller] == [
        ("213EP1101X", "N002835"),
        ("213E00000X", "N002835"),
    ]
    assert len({r.id for r in biller}) == 2
