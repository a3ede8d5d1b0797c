"""State license data files and open-data APIs, mapped by catalog options, on rows written here.

The rows are in the real layouts: the Texas TDLR license file (quoted headers with commas in
them, ``MMDDCCYY`` expiry, ``LAST, FIRST MIDDLE`` owners, one field for city, state and ZIP, no
status column) and Washington's Socrata credential dataset (lower-case API field names, nulls
left out, floating timestamps). They are mapped with the demo catalog's own entries, so these
tests pin the catalog as well as the code. The crawls of the demo web's stand-ins are in
tests/test_crawl_license_files.py.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.catalog import CatalogError, Source, load_catalog, site_variables
from crawler.demoweb import SITE_NAMES
from crawler.extract.cells import (
    CellError,
    compile_parser,
    parse_date,
    split_city_state_zip,
    split_name,
)
from crawler.extract.csv_records import CsvMapping, parse_csv
from crawler.extract.record_mapping import LeftOut, RecordMapping, data_date
from crawler.extract.result import ExtractionError
from crawler.extract.socrata import SocrataDataset, error_description, map_page, page_rows
from crawler.items import CredentialRecord, Provenance
from indexer.normalize.names import parse_person_name
from indexer.taxonomy import load_taxonomy
from indexer.verify import Claim, Registry, to_issuer_record

URL = "http://tdlr.example/LicenseSearch/massage.csv"
FETCHED = "2026-12-07T11:00:00+00:00"
TDLR_HEADER = (
    "LICENSE TYPE,LICENSE NUMBER,BUSINESS COUNTY,BUSINESS NAME,BUSINESS ADDRESS-LINE1,"
    'BUSINESS ADDRESS-LINE2,"BUSINESS CITY, STATE ZIP",BUSINESS TELEPHONE,'
    "LICENSE EXPIRATION DATE (MMDDCCYY),OWNER NAME,MAILING ADDRESS LINE1,MAILING ADDRESS LINE2,"
    '"MAILING ADDRESS CITY, STATE ZIP",MAILING ADDRESS COUNTY,OWNER TELEPHONE,LICENSE SUBTYPE,'
    "CONTINUING EDUCATION FLAG"
)
THERAPIST = (
    'Massage Therapist,MT012345,NACOGDOCHES,"RISINGER, JIM MARVIN",,,,,08102027,'
    '"RISINGER, JIM MARVIN",7668 S US HWY 59,,NACOGDOCHES TX 75964,NACOGDOCHES,9365550100,'
    "Massage Therapist,Y"
)
LAPSED = (
    'Massage Therapist,MT000777,TRAVIS,"LEE, ANN",,,,,03012026,"LEE, ANN",12 ELM ST,STE 2,'
    '"AUSTIN, TX 78704",TRAVIS,5125550143,Massage Therapist,N'
)
ESTABLISHMENT = (
    "Massage Establishment,ME10001,TRAVIS,RIVERSIDE NMT,1500 S LAMAR BLVD,STE 110,"
    '"AUSTIN, TX 78704",5125550199,12312027,"RISINGER, JIM MARVIN",1500 S LAMAR BLVD,STE 110,'
    '"AUSTIN, TX 78704",TRAVIS,5125550199,Massage Establishment,N'
)


def catalog_source(name: str) -> Source:
    """A source of the demo catalog, its URLs pointing nowhere."""
    variables = site_variables({s: "http://127.0.0.1:1" for s in SITE_NAMES})
    return load_catalog(None, variables).get(name)


TDLR = CsvMapping.from_options(catalog_source("board-tx").options, "board-tx")
WA = SocrataDataset.from_options(catalog_source("data-wa").options, "data-wa")


def tdlr_file(*rows: str, header: str = TDLR_HEADER) -> str:
    return "\r\n".join((header, *rows)) + "\r\n"


def mapped(text: str, mapping: CsvMapping = TDLR, **kwargs: Any) -> list[Any]:
    provenance = Provenance("board-tx", URL, FETCHED, "h")
    return list(parse_csv(text, mapping, provenance, source_kind="license_board", **kwargs))


def records(rows: list[Any]) -> list[CredentialRecord]:
    return [r for r in rows if isinstance(r, CredentialRecord)]


def error_kinds(rows: list[Any]) -> list[str]:
    return [r.kind for r in rows if isinstance(r, ExtractionError)]


# -- the TDLR file ---------------------------------------------------------------------------------


def test_a_tdlr_row_becomes_a_license_with_its_parts_read_by_the_declared_shapes() -> None:
    rows = mapped(tdlr_file(THERAPIST, LAPSED))
    assert error_kinds(rows) == []
    first, second = records(rows)
    assert (first.number, first.credential_raw, first.issuer, first.state) == (
        "MT012345",
        "Massage Therapist",
        "Texas Department of Licensing and Regulation",
        "TX",
    )
    assert first.issuer_kind == "state_board"
    assert first.name_raw == "RISINGER, JIM MARVIN"
    assert first.extras["name_parts"] == {"last": "RISINGER", "first": "JIM", "middle": "MARVIN"}
    assert first.expires_raw == "2027-08-10"
    assert first.extras["as_written"]["expires"] == "08102027"
    assert first.status_raw is None  # the file has no status column
    assert first.issued_raw is None
    assert first.city_raw == "NACOGDOCHES"
    assert first.address is not None
    assert (first.address.street, first.address.locality) == ("7668 S US HWY 59", "NACOGDOCHES")
    assert (first.address.region, first.address.postal_code) == ("TX", "75964")
    assert first.telephone_raw == "9365550100"
    assert first.extras["county"] == "NACOGDOCHES"
    assert first.extras["continuing_education"] == "Y"
    assert first.extras["source_ref"] == "MT012345"
    # "AUSTIN, TX 78704" and "NACOGDOCHES TX 75964" are both TDLR's way.
    assert second.address is not None
    assert (second.city_raw, second.address.postal_code) == ("AUSTIN", "78704")
    # Both mailing lines make the street; an empty second line adds nothing.
    assert second.address.street == "12 ELM ST STE 2"
    assert second.expires_raw == "2026-03-01"


def test_a_massage_establishment_is_left_out_not_made_its_owners_credential() -> None:
    rows = mapped(tdlr_file(ESTABLISHMENT, THERAPIST))
    assert [r.number for r in records(rows)] == ["MT012345"]
    assert [r for r in rows if isinstance(r, LeftOut)] == [
        LeftOut("credential", "Massage Establishment")
    ]
    assert error_kinds(rows) == []  # a business in the file is no error


def test_columns_a_later_vintage_adds_at_the_end_change_nothing() -> None:
    rows = mapped(tdlr_file(THERAPIST + ",N", header=TDLR_HEADER + ",Business Mailing"))
    assert error_kinds(rows) == []
    assert [r.expires_raw for r in records(rows)] == ["2027-08-10"]


def test_a_header_without_a_required_column_is_one_error_naming_it_and_the_file() -> None:
    header = TDLR_HEADER.replace("LICENSE EXPIRATION DATE (MMDDCCYY)", "EXPIRES")
    rows = mapped(tdlr_file(THERAPIST, LAPSED, header=header))
    assert records(rows) == []
    [error] = [r for r in rows if isinstance(r, ExtractionError)]
    assert error.kind == "csv/missing-column"
    assert URL in error.message
    assert "'license expiration date (mmddccyy)'" in error.message
    assert "no row was read: expires is required" in error.message


def test_a_header_without_optional_columns_names_them_all_and_reads_the_rows() -> None:
    header = TDLR_HEADER.replace("OWNER TELEPHONE", "PHONE").replace(
        "MAILING ADDRESS COUNTY", "COUNTY"
    )
    rows = mapped(tdlr_file(THERAPIST, header=header))
    [error] = [r for r in rows if isinstance(r, ExtractionError)]
    assert error.kind == "csv/missing-column"
    assert "telephone ('owner telephone')" in error.message
    assert "extras.county ('mailing address county')" in error.message
    assert "rows were read without them" in error.message
    [record] = records(rows)
    assert (record.telephone_raw, record.expires_raw) == (None, "2027-08-10")


def test_a_malformed_date_drops_its_row_and_the_file_goes_on() -> None:
    bad = THERAPIST.replace("08102027", "8/10/27").replace("MT012345", "MT099999")
    rows = mapped(tdlr_file(bad, LAPSED))
    assert error_kinds(rows) == ["value/date-format"]
    [error] = [r for r in rows if isinstance(r, ExtractionError)]
    assert "line 2" in error.message and "'8/10/27'" in error.message
    # Without its expiry the license could never be told lapsed: it is not kept.
    assert [r.number for r in records(rows)] == ["MT000777"]


def test_an_unknown_state_in_an_address_is_counted_and_the_license_kept() -> None:
    odd = LAPSED.replace('"AUSTIN, TX 78704"', '"AUSTIN, ZZ 78704"')
    rows = mapped(tdlr_file(odd))
    assert error_kinds(rows) == ["value/state-unknown"]
    [record] = records(rows)
    assert record.city_raw is None and record.number == "MT000777"
    assert record.extras["as_written"]["city"] == "AUSTIN, ZZ 78704"


def test_a_license_whose_issuing_state_is_unknown_is_counted_and_skipped() -> None:
    mapping = CsvMapping.from_options(
        {
            "columns": {"number": "Number", "name": "Name", "credential": "Type", "state": "ST"},
            "constants": {"issuer": "Some Board"},
        },
        "test",
    )
    text = 'Number,Name,Type,ST\r\n1,"DOE, JANE",LMT,ZZ\r\n2,"ROE, RICK",LMT,tx\r\n'
    rows = mapped(text, mapping)
    assert error_kinds(rows) == ["value/state-unknown"]
    assert [(r.number, r.state) for r in records(rows)] == [("2", "TX")]


def test_an_owner_not_written_last_name_first_is_counted() -> None:
    rows = mapped(tdlr_file(THERAPIST.replace('"RISINGER, JIM MARVIN"', "JIM RISINGER")))
    assert error_kinds(rows) == ["value/name-order"]
    assert records(rows) == []


def test_the_files_own_date_is_kept_as_the_day_its_expiries_describe() -> None:
    assert data_date(b"Mon, 01 Sep 2025 06:00:00 GMT", FETCHED) == "2025-09-01"
    assert data_date(b"Mon, 07 Dec 2026 06:00:00 GMT", FETCHED) == "2026-12-07"
    assert data_date(b"Fri, 01 Jan 2100 06:00:00 GMT", FETCHED) is None  # a clock gone wrong
    assert data_date(b"yesterday", FETCHED) is None
    assert data_date(None, FETCHED) is None
    [record] = records(mapped(tdlr_file(THERAPIST), data_as_of="2025-09-01"))
    assert record.extras["data_as_of"] == "2025-09-01"


# -- verification of a file without a status -------------------------------------------------------


def test_a_tdlr_license_verifies_while_current_and_is_expired_once_past_its_expiry() -> None:
    """From the file's rows through the indexer's own verification."""
    taxonomy = load_taxonomy()
    rows = records(mapped(tdlr_file(THERAPIST, LAPSED, ESTABLISHMENT)))
    registry = Registry(to_issuer_record(r, taxonomy) for r in rows)

    def claim(number: str) -> Claim:
        return Claim("lmt", "state_license", "TX", number)

    def holder(listed_as: str) -> set[str]:
        parsed = parse_person_name(listed_as, taxonomy=taxonomy).value
        assert parsed is not None and parsed.name.key
        return {parsed.name.key}

    current = registry.verify(claim("MT012345"), holder("Jim M. Risinger, LMT"))
    lapsed = registry.verify(claim("MT000777"), holder("Ann Lee"))
    business = registry.verify(claim("ME10001"), holder("Jim Risinger"))
    assert (current.status, current.checked_on) == ("verified", "2026-12-07")
    assert lapsed.status == "expired"
    # The establishment's number is no credential of its owner's.
    assert business.status == "not_found"


def test_a_file_of_an_earlier_day_verifies_only_until_the_expiry_it_shows() -> None:
    taxonomy = load_taxonomy()
    # Lapsed on 2026-03-01: still current in a file of 2025-09-01.
    [old] = records(mapped(tdlr_file(LAPSED), data_as_of="2025-09-01"))
    [now] = records(mapped(tdlr_file(LAPSED)))
    issued = to_issuer_record(old, taxonomy)
    assert issued.standing(date(2026, 1, 15)) == "verified"
    assert issued.standing(date(2026, 3, 2)) == "expired"
    assert to_issuer_record(now, taxonomy).standing(date(2025, 9, 1)) == "expired"
    # Before the expiry, a verification from the older file is dated by it, not the download.
    assert issued.holder_key is not None
    claim = Claim("lmt", "state_license", "TX", old.number)
    found = Registry([issued], today=date(2026, 1, 15)).verify(claim, {issued.holder_key})
    assert (found.status, found.checked_on) == ("verified", "2025-09-01")
    # Past it, the file's word is no verification today.
    found = Registry([issued], today=date(2026, 12, 7)).verify(claim, {issued.holder_key})
    assert found.status == "expired"


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(["Active", "Current", "Clear", "", "Expired", "Suspended"]),
    expires=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    today=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_no_record_verifies_a_claim_after_its_expiry_date(
    status: str, expires: date, today: date
) -> None:
    record = replace(
        records(mapped(tdlr_file(THERAPIST)))[0],
        status_raw=status or None,
        expires_raw=expires.strftime("%m/%d/%Y"),
    )
    issued = to_issuer_record(record, load_taxonomy())
    found = Registry([issued], today=today).verify(
        Claim("lmt", "state_license", "TX", record.number), {issued.holder_key or ""}
    )
    if expires < today:
        assert found.status != "verified"


# -- the cells' shapes, for any value --------------------------------------------------------------

_WORD = st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ'-"), min_size=1, max_size=12)
_LAST = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_MIDDLE = st.lists(_WORD, max_size=2).map(" ".join)


@given(last=_LAST, first=_WORD, middle=_MIDDLE, spaces=st.sampled_from(["", " ", "  "]))
def test_any_last_first_middle_name_round_trips_to_its_parts(
    last: str, first: str, middle: str, spaces: str
) -> None:
    written = f"{spaces}{last},{spaces or ' '}{first} {middle}{spaces}"
    parts = split_name(written, "last_first")
    assert (parts.last, parts.first, parts.middle) == (last, first, middle)
    again = split_name(f"{parts.last}, {parts.first} {parts.middle}", "last_first")
    assert again == parts


@given(day=st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
def test_any_valid_mmddyyyy_parses_to_that_date(day: date) -> None:
    assert parse_date(day.strftime("%m%d%Y"), "%m%d%Y") == day
    parse = compile_parser({"date_format": "%m%d%Y"})
    assert parse(day.strftime("%m%d%Y")).value == day.isoformat()
    assert parse_date(f"{day.isoformat()}T00:00:00.000", "iso") == day


@given(
    city=st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ.'-", min_size=1), max_size=3)
    .map(" ".join)
    .filter(bool),
    state=st.sampled_from(["TX", "WA", "NY", "PR", "DC"]),
    zip5=st.from_regex(r"\d{5}", fullmatch=True),
    comma=st.booleans(),
)
def test_any_city_state_zip_splits_into_its_parts(
    city: str, state: str, zip5: str, comma: bool
) -> None:
    place = split_city_state_zip(f"{city}{',' if comma else ''} {state} {zip5}")
    assert (place.city, place.state, place.postal_code) == (city, state, zip5)


@pytest.mark.parametrize(
    ("text", "parse", "kind"),
    [
        ("13322027", {"date_format": "%m%d%Y"}, "value/date-format"),
        ("2027-02-30", {"date_format": "iso"}, "value/date-format"),
        ("RISINGER JIM", {"name_order": "last_first"}, "value/name-order"),
        (", JIM", {"name_order": "last_first"}, "value/name-order"),
        ("RISINGER,", {"name_order": "last_first"}, "value/name-order"),
        ("AUSTIN TEXAS 78704", "city_state_zip", "value/city-state-zip"),
        ("AUSTIN, TX", "city_state_zip", "value/city-state-zip"),
        ("AUSTIN, QQ 78704", "city_state_zip", "value/state-unknown"),
    ],
)
def test_a_cell_not_in_its_declared_shape_is_an_error_of_its_kind(
    text: str, parse: Any, kind: str
) -> None:
    with pytest.raises(CellError) as raised:
        compile_parser(parse)(text)
    assert raised.value.kind == kind
    assert repr(text) in str(raised.value)


# -- the catalog options ---------------------------------------------------------------------------

BASE_OPTIONS: dict[str, Any] = {
    "columns": {"number": "N", "name": "Name", "credential": "T"},
    "constants": {"issuer": "Board", "state": "TX"},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"expires": {"column": "E", "parse": "when"}}}, "'when' is not a parser"),
        ({"columns": {"expires": {"column": "E", "parse": {"date_format": "MMDD"}}}}, "directive"),
        ({"columns": {"name": {"column": "N", "parse": {"name_order": "up"}}}}, "last_first"),
        ({"columns": {"name": {"column": "N", "template": "{a}"}}}, "either column or template"),
        ({"columns": {"name": {"template": "no placeholders"}}}, "placeholders"),
        ({"only": {"status": ["Active"]}}, "status is neither a column nor a constant"),
        ({"only": {"credential": []}}, "expected a value or a list"),
        ({"constants": {"issuer": "Board", "state": "Texas Republic"}}, "not a US state"),
        ({"page_size": 5}, "unknown option"),
    ],
)
def test_file_options_that_cannot_work_are_refused_with_where(
    change: dict[str, Any], message: str
) -> None:
    options = {**BASE_OPTIONS, **change}
    if "columns" in change:
        options["columns"] = {**BASE_OPTIONS["columns"], **change["columns"]}
    with pytest.raises(CatalogError, match=re.escape(message)) as raised:
        CsvMapping.from_options(options, "source 'x': options")
    assert "source 'x': options" in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"number": ["credentialnumber", "licno"]}}, "one API field name"),
        ({"columns": {"number": "Credential Number"}}, "one API field name"),
        ({"page_size": 0}, "page_size: must be 1 to 50000"),
        ({"page_size": "many"}, "page_size: must be a number"),
        ({"app_token_env": "my token"}, "environment variable name"),
        ({"where": "  "}, "SoQL condition"),
        ({"delimiter": ";"}, "unknown option"),
    ],
)
def test_socrata_options_that_cannot_work_are_refused(change: dict[str, Any], message: str) -> None:
    options = {**BASE_OPTIONS, **change}
    if "columns" in change:
        options["columns"] = {**BASE_OPTIONS["columns"], **change["columns"]}
    with pytest.raises(CatalogError, match=re.escape(message)):
        SocrataDataset.from_options(options, "source 'x': options")


def test_the_mapping_is_one_for_files_and_api_rows() -> None:
    assert isinstance(TDLR.rows, RecordMapping) and isinstance(WA.rows, RecordMapping)
    assert WA.rows.required == ("name", "number", "credential")


# -- the Socrata dataset ---------------------------------------------------------------------------


def test_pages_ask_for_the_mapped_columns_in_a_stable_order() -> None:
    url = WA.page_url("http://data.example/resource/qxh8-f4bd.json", 10)
    parts = urlsplit(url)
    assert parts.path == "/resource/qxh8-f4bd.json"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "$select": "credentialnumber,credentialtype,lastname,firstname,middlename,status,"
        "firstissuedate,expirationdate,lastissuedate,actiontaken",
        "$where": "credentialtype = 'Massage Therapist License'",
        "$order": ":id",
        "$limit": "5",
        "$offset": "10",
    }
    assert WA.next_offset(10, 5) == 15
    assert WA.next_offset(15, 4) is None
    assert WA.next_offset(15, 0) is None


def test_api_rows_map_like_file_rows_with_nulls_left_out() -> None:
    rows = page_rows(
        b'[{"credentialnumber": "MA60123456", "lastname": "DOE", "firstname": "JANE",'
        b' "credentialtype": "Massage Therapist License", "status": "Active",'
        b' "firstissuedate": "2019-05-02T00:00:00.000",'
        b' "expirationdate": "2026-05-02T00:00:00.000",'
        b' "actiontaken": "No"},'
        b' {"credentialnumber": "MA60999999", "lastname": "ROE", "firstname": "RICK",'
        b' "credentialtype": "Massage Therapist License", "status": "Expired",'
        b' "expirationdate": "05/02/2026"}]'
    )
    provenance = Provenance("data-wa", "http://data.example/resource/x.json", FETCHED, "h")
    out = list(map_page(rows, WA, provenance, source_kind="license_board", offset=5))
    record, undated = records(out)
    assert (record.number, record.name_raw, record.state) == ("MA60123456", "DOE, JANE", "WA")
    assert record.extras["name_parts"] == {"last": "DOE", "first": "JANE", "middle": ""}
    assert (record.status_raw, record.issued_raw, record.expires_raw) == (
        "Active",
        "2019-05-02",
        "2026-05-02",
    )
    assert record.extras["action_taken"] == "No"
    [error] = [r for r in out if isinstance(r, ExtractionError)]
    assert error.kind == "value/date-format" and "row 7" in error.message
    # The dataset states the standing itself: an expiry is not required, the row is kept.
    assert (undated.status_raw, undated.expires_raw) == ("Expired", None)


def test_a_refused_querys_body_is_read_for_the_log() -> None:
    body = b'{"message": "No such column: foo", "errorCode": "query.soql.no-such-column"}'
    assert error_description(body) == "query.soql.no-such-column: No such column: foo"
    legacy = b'{"code": "invalid_app_token", "error": true, "message": "Invalid app_token"}'
    assert error_description(legacy) == "invalid_app_token: Invalid app_token"
    assert error_description(b"<h1>Bad gateway</h1>") == "<h1>Bad gateway</h1>"


def test_a_page_that_is_not_rows_is_refused() -> None:
    from crawler.extract.socrata import SocrataAnswerError

    for body in (b"<html>", b'{"rows": []}', b"[1, 2]"):
        with pytest.raises(SocrataAnswerError):
            page_rows(body)


# -- the demo web writes the real layout -----------------------------------------------------------


def test_the_demo_tx_file_has_the_real_header() -> None:
    from crawler.demoweb.sites.tdlr_file import HEADER

    assert next(csv.reader(io.StringIO(TDLR_HEADER))) == list(HEADER)
