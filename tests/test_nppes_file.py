"""The NPPES downloadable file (the NPI registry's bulk data) as a source kind.

Unit tests read rows in the real 330-column layout; the crawls go over real HTTP, by ``tdir
crawl`` in a subprocess: the demo web's registry (its download page, a monthly full file and
weekly update files generated from the demo population) compared with its ground truth, and a
stand-in server on 127.0.0.1 serving damaged bundles, and one large enough to stop a crawl in
the middle of it and resume it.
"""

from __future__ import annotations

import csv
import http.server
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from benchmarks.nppes_file import write_bundle
from crawler.catalog import CatalogError, Source
from crawler.extract.nppes import (
    DEACTIVATION_DATE,
    LAST_UPDATE,
    NEEDED_COLUMNS,
    REACTIVATION_DATE,
    BulkLayout,
    NoDataFileError,
    NppesLayoutError,
    bulk_file_header,
    massage_slots,
    open_data_file,
    read_row,
    records_for,
)
from crawler.extract.nppes_downloads import reading_order
from crawler.extract.nppes_merge import HeldVersion, UpdateMerge
from crawler.items import CredentialRecord, Listing, Provenance
from crawler.runs import CrawlStore, RunRecord
from crawler.spiders.nppes_file import BulkOptions, NppesFileSpider, StreamProgress
from tests.crawling import Crawled, crawl, crawl_sources, latest_records
from tests.support.waiting import wait_until

MASSAGE = "225700000X"
HEADER = bulk_file_header()
COLUMN = {name: i for i, name in enumerate(HEADER)}
PROVENANCE = Provenance("npi-file", "https://download.example/full.zip", "2025-09-01T00:00:00", "0")
# Codes a massage therapist's row never holds: other taxonomies, near misses, free text.
NOT_MASSAGE = st.one_of(
    st.sampled_from(
        ["", "171100000X", "225100000X", "225700000Y", "2257000000", "225700000x", "225700000"]
    ),
    st.text(alphabet="0123456789ABCDEFGHX ", min_size=1, max_size=12).filter(
        lambda code: code.strip() != MASSAGE
    ),
)


def blank_row() -> list[str]:
    return [""] * len(HEADER)


def person_row(npi: str = "1234567893", **values: str) -> list[str]:
    """A massage therapist's row (slot 1), every other column empty; ``values`` by column."""
    row = blank_row()
    defaults = {
        "NPI": npi,
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": "DOE",
        "Provider First Name": "JANE",
        "Provider Name Prefix Text": "--",
        "Provider First Line Business Practice Location Address": "1500 S LAMAR BLVD",
        "Provider Second Line Business Practice Location Address": "STE 110",
        "Provider Business Practice Location Address City Name": "AUSTIN",
        "Provider Business Practice Location Address State Name": "TX",
        "Provider Business Practice Location Address Postal Code": "787041234",
        "Provider Business Practice Location Address Telephone Number": "5125550143",
        "Provider Enumeration Date": "05/23/2007",
        "Last Update Date": "07/08/2024",
        "Healthcare Provider Taxonomy Code_1": MASSAGE,
        "Provider License Number_1": "MT123456",
        "Provider License Number State Code_1": "TX",
        "Healthcare Provider Primary Taxonomy Switch_1": "Y",
    }
    for column, value in {**defaults, **values}.items():
        row[COLUMN[column]] = value
    return row


def layout() -> BulkLayout:
    return BulkLayout.from_header(HEADER, "test")


def bundle(members: dict[str, list[list[str]] | str]) -> bytes:
    """A ZIP of CSV members (rows, or text as it is)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, str):
                archive.writestr(name, content)
                continue
            text = io.StringIO()
            csv.writer(text, quoting=csv.QUOTE_ALL).writerows(content)
            archive.writestr(name, text.getvalue())
    return out.getvalue()


# -- the layout -----------------------------------------------------------------------------------


def test_the_shipped_header_is_the_readme_layout() -> None:
    assert len(HEADER) == 330 == len(set(HEADER))
    assert HEADER[0] == "NPI" and HEADER[-1] == "Certification Date"
    # Positions the readme's Exhibit 2-1 gives (0-based here).
    assert HEADER.index("Healthcare Provider Taxonomy Code_1") == 47
    assert HEADER.index("Healthcare Provider Primary Taxonomy Switch_15") == 106
    assert HEADER.index("Other Provider Identifier Issuer_50") == 306
    assert HEADER.index("Is Sole Proprietor") == 307
    assert HEADER.index("Healthcare Provider Taxonomy Group_15") == 328
    assert set(NEEDED_COLUMNS) <= set(HEADER)


def test_columns_are_found_by_name_in_any_order_and_vintage() -> None:
    older = [("Provider Gender Code" if name == "Provider Sex Code" else name) for name in HEADER]
    reordered = list(reversed(older))
    found = BulkLayout.from_header(reordered, "old.csv")
    row = list(reversed(person_row()))
    assert massage_slots(row, found) == [1]
    assert read_row(row, found, MASSAGE, "old.csv").npi == "1234567893"


def test_a_header_without_needed_columns_names_every_one() -> None:
    header = [
        name
        for name in HEADER
        if name not in ("Last Update Date", "Provider License Number State Code_7")
    ]
    with pytest.raises(NppesLayoutError) as caught:
        BulkLayout.from_header(header, "npidata_pfile_20250818-20250824.csv")
    message = str(caught.value)
    assert "npidata_pfile_20250818-20250824.csv" in message
    assert "'Last Update Date'" in message
    assert "'Provider License Number State Code_7'" in message
    assert "328 columns" in message
    assert caught.value.missing == ("Last Update Date", "Provider License Number State Code_7")


def test_a_zip_without_the_data_file_says_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "weekly.zip"
    path.write_bytes(
        bundle(
            {
                "npidata_pfile_20250818-20250824_fileheader.csv": [list(HEADER)],
                "othername_pfile_20250818-20250824.csv": [["NPI"]],
            }
        )
    )
    with pytest.raises(NoDataFileError) as caught, open_data_file(path, "weekly.zip"):
        pass
    assert "no npidata_pfile_<from>-<to>.csv" in str(caught.value)
    assert "npidata_pfile_20250818-20250824_fileheader.csv" in str(caught.value)
    assert "othername_pfile_20250818-20250824.csv" in str(caught.value)


def test_the_data_file_is_read_row_by_row_beside_its_header_file(tmp_path: Path) -> None:
    path = tmp_path / "full.zip"
    path.write_bytes(
        bundle(
            {
                "npidata_pfile_20050523-20250817_fileheader.csv": [list(HEADER)],
                "npidata_pfile_20050523-20250817.csv": [list(HEADER), person_row(), blank_row()],
            }
        )
    )
    with open_data_file(path, "full.zip") as data:
        assert data.name == "npidata_pfile_20050523-20250817.csv"
        assert data.period == ("20050523", "20250817")
        assert not isinstance(data.rows, list)
        rows = list(data.rows)
    assert [massage_slots(row, data.layout) for row in rows] == [[1], []]


# -- rows -----------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    slot=st.integers(min_value=1, max_value=15),
    others=st.lists(NOT_MASSAGE, min_size=15, max_size=15),
    number=st.text(alphabet="ABMT0123456789.-", min_size=1, max_size=12),
)
def test_a_massage_taxonomy_in_any_of_the_15_slots_is_found(
    slot: int, others: list[str], number: str
) -> None:
    row = person_row(**{"Healthcare Provider Taxonomy Code_1": others[0]})
    for k in range(2, 16):
        row[COLUMN[f"Healthcare Provider Taxonomy Code_{k}"]] = others[k - 1]
    row[COLUMN[f"Healthcare Provider Taxonomy Code_{slot}"]] = MASSAGE
    row[COLUMN[f"Provider License Number_{slot}"]] = number
    row[COLUMN[f"Provider License Number State Code_{slot}"]] = "FL"
    assert massage_slots(row, layout()) == [slot]
    found = read_row(row, layout(), MASSAGE, "test")
    assert found.slots == [slot]
    records, _ = records_for(found, PROVENANCE)
    listing, registry = records
    assert isinstance(listing, Listing) and isinstance(registry, CredentialRecord)
    assert listing.npi == registry.npi == "1234567893"
    assert [(c.number, c.state) for c in listing.credentials] == [(number, "FL")]


@settings(max_examples=150, deadline=None)
@given(codes=st.lists(NOT_MASSAGE, min_size=15, max_size=15))
def test_a_row_without_the_massage_taxonomy_is_never_kept(codes: list[str]) -> None:
    row = person_row()
    for k, code in enumerate(codes, 1):
        row[COLUMN[f"Healthcare Provider Taxonomy Code_{k}"]] = code
    # The code elsewhere in the row (a license number, a taxonomy group) makes no therapist.
    row[COLUMN["Provider License Number_2"]] = MASSAGE
    row[COLUMN["Healthcare Provider Taxonomy Group_1"]] = MASSAGE
    assert massage_slots(row, layout()) == []
    assert read_row(row, layout(), MASSAGE, "test").slots == []


def test_a_row_becomes_a_listing_and_a_registry_record() -> None:
    row = person_row(
        **{
            "Provider Middle Name": "A",
            "Provider Credential Text": "LMT",
            "Healthcare Provider Taxonomy Code_2": "171100000X",
            "Healthcare Provider Taxonomy Code_3": MASSAGE,
            "Provider License Number_3": "NA",
            "Provider License Number State Code_3": "CO",
        }
    )
    found = read_row(row, layout(), MASSAGE, "test")
    (listing, registry), problems = records_for(
        found, PROVENANCE, record_url="https://registry.example/{npi}", data_file="f.csv"
    )
    assert problems == []
    assert isinstance(listing, Listing)
    assert listing.name_raw == "JANE A DOE"  # "--": no prefix given
    assert listing.source_ref == "https://registry.example/1234567893"
    assert listing.address is not None
    assert listing.address.street == "1500 S LAMAR BLVD, STE 110"
    assert listing.address.postal_code == "78704-1234"
    assert listing.telephone_raw == "5125550143"
    assert [(c.name_raw, c.number, c.state) for c in listing.credentials] == [
        ("Massage Therapist license", "MT123456", "TX"),
        ("Massage Therapist license", None, "CO"),  # "NA" is no number
    ]
    assert listing.extras["taxonomy_slots"] == [1, 3]
    assert listing.extras["last_updated"] == "07/08/2024"
    assert listing.extras["data_file"] == "f.csv"
    assert isinstance(registry, CredentialRecord)
    assert (registry.issuer_kind, registry.issuer, registry.status_raw) == (
        "npi_registry",
        "NPPES",
        "Active",
    )
    assert registry.credential_raw == "Massage Therapist"
    assert registry.extras["credential_text_raw"] == "LMT"
    # The same NPI gives the same ids, from whichever file.
    again, _ = records_for(found, Provenance("npi-file", "https://x/weekly.zip", "t", "1"))
    assert [r.id for r in again] == [listing.id, registry.id]


@pytest.mark.parametrize(
    ("deactivated", "reactivated", "status"),
    [
        ("03/01/2020", "", "Deactivated"),
        ("03/01/2020", "06/01/2021", "Active"),
        ("06/01/2021", "03/01/2020", "Deactivated"),  # deactivated again after the reactivation
        ("03/01/2020", "sometime", "Active"),  # a reactivation date is only ever a later one
        ("", "", "Active"),
    ],
)
def test_a_deactivated_npi_is_recorded_as_such_and_listed_nowhere(
    deactivated: str, reactivated: str, status: str
) -> None:
    row = person_row(**{DEACTIVATION_DATE: deactivated, REACTIVATION_DATE: reactivated})
    records, _ = records_for(read_row(row, layout(), MASSAGE, "t"), PROVENANCE)
    registry = records[-1]
    assert isinstance(registry, CredentialRecord)
    assert registry.status_raw == status
    assert any(isinstance(r, Listing) for r in records) == (status == "Active")
    # A newer file's deactivation applied to this row's data.
    records, _ = records_for(
        read_row(row, layout(), MASSAGE, "t"), PROVENANCE, deactivated_on="08/28/2025"
    )
    [applied] = records
    assert isinstance(applied, CredentialRecord)
    assert applied.status_raw == "Deactivated"
    assert applied.extras["deactivation_date"] == "08/28/2025"


def test_a_bad_date_and_an_unknown_license_state_are_reported_and_the_row_kept() -> None:
    row = person_row(**{LAST_UPDATE: "13/45/2024", "Provider License Number State Code_1": "ZZ"})
    found = read_row(row, layout(), MASSAGE, "full.csv")
    assert [p.kind for p in found.problems] == ["nppes/bad-date"]
    assert "'13/45/2024'" in found.problems[0].message
    assert found.last_update is None
    records, problems = records_for(found, PROVENANCE)
    assert [p.kind for p in problems] == ["nppes/unknown-license-state"]
    assert "'ZZ'" in problems[0].message
    listing = records[0]
    assert isinstance(listing, Listing)
    assert listing.credentials[0].state == "ZZ"  # kept as written; the indexer flags it too
    assert listing.extras["last_updated"] == "13/45/2024"


# -- files and versions ---------------------------------------------------------------------------


def test_the_download_page_gives_weekly_files_newest_first_then_the_newest_full_file() -> None:
    base = "https://download.cms.gov/nppes/"
    links = [
        base + name
        for name in (
            "NPI_Files.html",
            "NPPES_Data_Dissemination_July_2025.zip",
            "NPPES_Data_Dissemination_August_2025.zip",
            "NPPES_Data_Dissemination_August_2025_V2.zip",
            "NPPES_Data_Dissemination_081125_081725_Weekly.zip",
            "NPPES_Data_Dissemination_082525_083125_Weekly_V2.zip",
            "NPPES_Data_Dissemination_082525_083125_Weekly.zip",
            "NPPES_Data_Dissemination_081825_082425_Weekly.zip",
            "NPPES_Deactivated_NPI_Report_090825.zip",
            "NPPES_Data_Dissemination_Readme.pdf",
        )
    ]
    assert [f.name for f in reading_order(links)] == [
        "NPPES_Data_Dissemination_082525_083125_Weekly_V2.zip",
        "NPPES_Data_Dissemination_081825_082425_Weekly.zip",
        "NPPES_Data_Dissemination_081125_081725_Weekly.zip",
        "NPPES_Data_Dissemination_August_2025_V2.zip",
    ]
    assert reading_order([base + "NPI_Files.html"]) == []


def test_the_newer_version_of_an_npi_wins_and_a_tie_goes_to_the_full_file() -> None:
    merge = UpdateMerge()
    newest = HeldVersion(as_of=date(2025, 8, 28), file=0, records=[])
    assert merge.offer("1", newest)
    # An older weekly file's version of the same NPI is older: not held.
    assert not merge.offer("1", HeldVersion(as_of=date(2025, 8, 20), file=1, records=None))
    # A same-day version of an older file neither.
    assert not merge.offer("1", HeldVersion(as_of=date(2025, 8, 28), file=1, records=None))
    assert merge.settle("1", date(2025, 8, 10)).held is newest  # the full file is older
    assert "1" not in merge.held
    merge.offer("2", HeldVersion(as_of=date(2025, 8, 12), file=2))
    assert merge.settle("2", date(2025, 8, 12)).use_full  # a tie: the full file
    merge.offer("3", HeldVersion(as_of=None, file=0))
    assert merge.settle("3", date(2020, 1, 1)).use_full  # an undated version loses
    notice = HeldVersion(as_of=date(2025, 8, 28), file=0, deactivated_on="08/28/2025")
    merge.offer("4", notice)
    assert merge.settle("4", date(2024, 1, 1)).deactivated_on == "08/28/2025"
    merge.offer("5", HeldVersion(as_of=date(2025, 8, 30), file=0, records=[]))
    assert [v.as_of for v in merge.leftovers()] == [date(2025, 8, 30)]
    assert merge.held == {}


def test_progress_is_reported_in_the_log_and_the_stats(caplog: pytest.LogCaptureFixture) -> None:
    stats = get_crawler().stats
    assert stats is not None
    logger = logging.getLogger("test.nppes")
    with caplog.at_level(logging.INFO, logger="test.nppes"):
        progress = StreamProgress(stats, logger, "full.zip", every=0.0)
        progress.add(4096, 120)
        progress.add(4096, 80)
        progress.report(done=True)
    assert stats.get_value("tdir/nppes/rows-read") == 8192
    assert stats.get_value("tdir/nppes/rows-kept") == 200
    assert stats.get_value("tdir/nppes/rows-per-second") > 0
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("full.zip: 4,096 rows read, 120 kept (")
    assert lines[-1].startswith("full.zip: done, 8,192 rows read, 200 kept (")
    assert lines[-1].endswith(" rows/s)")


def source(**options: Any) -> Source:
    return Source(
        name="npi-file",
        kind="npi_registry",
        spider="nppes_file",
        title="NPPES",
        start_urls=("http://127.0.0.1:1/downloads/",),
        options=options,
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"taxonomies": ["x"]}, "unknown option"),
        ({"record_url": "https://registry.example/"}, "must hold {npi}"),
        ({"max_file_bytes": "big"}, "max_file_bytes"),
        ({"taxonomy": " "}, "taxonomy"),
    ],
)
def test_options_the_spider_cannot_use_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        NppesFileSpider.check_options(source(**options))
    assert BulkOptions.from_options({}, "x").taxonomy == MASSAGE


# -- the demo web's registry, crawled -------------------------------------------------------------

SOURCE = "npi-file"


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(tmp_path_factory.mktemp("crawl-npi-file"), demo_web, demo_world, SOURCE)


@pytest.fixture(scope="module")
def published(crawled: Crawled) -> dict[str, dict[str, Any]]:
    """What the files publish of each therapist's NPI, by NPI (with the person)."""
    return {
        c["number"]: {**c["bulk_file"], "person": c["person"]}
        for c in crawled.credentials("identifier", credential="npi")
    }


def _mdy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%m/%d/%Y")


@pytest.mark.system
def test_the_crawl_finishes_without_errors(crawled: Crawled) -> None:
    run = crawled.runs[SOURCE]
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0


@pytest.mark.system
def test_every_therapist_the_files_publish_is_gathered_exactly_once(
    crawled: Crawled, published: dict[str, dict[str, Any]]
) -> None:
    summary = crawled.site("npi")["bulk_files"]
    listings = crawled.of(SOURCE, "listing")
    registry = crawled.of(SOURCE, "credential_record")
    active = {npi for npi, fact in published.items() if fact["status"] == "active"}
    assert len(published) == summary["therapists"] == crawled.site("npi")["records"]
    assert len(active) == summary["active"] > 0
    assert summary["deactivated"] > 0 and summary["reactivated"] > 0
    assert summary["updated_after_full"] > 0 and summary["massage_not_first"] > 0
    assert summary["organisations_with_massage_taxonomy"] > 0
    assert len(listings) == len(active) == crawled.runs[SOURCE].items["listing"]
    assert {r["npi"] for r in listings} == active
    assert len(registry) == len(published) == crawled.runs[SOURCE].items["credential_record"]
    assert {r["npi"] for r in registry} == set(published)
    assert len({r["id"] for r in crawled.records[SOURCE]}) == len(crawled.records[SOURCE])


@pytest.mark.system
def test_deactivated_npis_are_recorded_as_deactivated(
    crawled: Crawled, published: dict[str, dict[str, Any]]
) -> None:
    for record in crawled.of(SOURCE, "credential_record"):
        fact = published[record["npi"]]
        if fact["status"] == "deactivated":
            assert record["status_raw"] == "Deactivated"
            assert record["extras"]["deactivation_date"] == _mdy(fact["deactivated_on"])
            assert record["extras"]["deactivated_in"] == fact["deactivated_in"]
        else:
            assert record["status_raw"] == "Active"
            if fact["reactivated_on"]:
                assert record["extras"]["reactivation_date"] == _mdy(fact["reactivated_on"])


@pytest.mark.system
def test_each_listing_is_the_newest_version_the_files_publish(
    crawled: Crawled, published: dict[str, dict[str, Any]]
) -> None:
    newer_in_weekly = 0
    for listing in crawled.of(SOURCE, "listing"):
        fact = published[listing["npi"]]
        person = fact["person"]
        extras = listing["extras"]
        assert extras["last_updated"] == _mdy(fact["last_updated"])
        assert extras["data_file"] == fact["data_file"]
        assert extras["taxonomy_slots"] == fact["taxonomy_slots"]
        newer_in_weekly += (
            fact["earlier_version_in_full"] and "Weekly" in listing["provenance"]["url"]
        )
        # The practice location of that version: the former one when the registry never had
        # the move (or has it in no file yet).
        office = person["previous_address"] if fact["former_address"] else person["address"]
        assert listing["address"]["postal_code"] == f"{office['zip']}-{office['zip4']}"
        assert listing["address"]["locality"] == office["city"].upper()
        assert listing["telephone_raw"] == person["phone"]
        assert person["name"]["last"].upper() in listing["name_raw"]
        licenses = {c["number"] for c in person["credentials"] if c["kind"] == "state_license"}
        assert {c["number"] for c in listing["credentials"] if c["number"]} <= licenses
    assert newer_in_weekly == crawled.site("npi")["bulk_files"]["updated_after_full"]


@pytest.mark.system
def test_version_2_of_each_bundle_is_fetched_once_and_nothing_else(crawled: Crawled) -> None:
    summary = crawled.site("npi")["bulk_files"]
    fetched = []
    with crawled.request_log.open(encoding="utf-8") as lines:
        for line in lines:
            entry = json.loads(line)
            if entry["site"] == "npi" and entry["path"].endswith(".zip"):
                fetched.append(entry["path"].rsplit("/", 1)[-1])
    assert sorted(fetched) == sorted(f["names"][1] for f in summary["files"])
    assert summary["report"] not in fetched


@pytest.mark.system
def test_a_recrawl_gives_every_record_the_same_id(
    crawled: Crawled, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("recrawl-npi-file")
    [run] = crawl(home, crawled.manifest, SOURCE)
    assert run.status == "finished"
    assert {r["id"] for r in latest_records(home, SOURCE)} == {
        r["id"] for r in crawled.records[SOURCE]
    }


_STATS_SCRIPT = """
import json, sys
from pathlib import Path
from scrapy.crawler import CrawlerProcess
from crawler.catalog import load_catalog, site_variables
from crawler.runner import run_settings
from crawler.runs import CrawlStore
from crawler.spiders import spider_class

home, sites = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
source = load_catalog(None, site_variables(sites)).get("npi-file")
store = CrawlStore(home)
with store.lock(source.name):
    run_id, resumed = store.start_run(source.name)
    settings = run_settings(home, source.name, run_id, resumed, loopback_fast=True)
    settings["LOG_LEVEL"] = "INFO"
    base = spider_class(source.spider)
    process = CrawlerProcess({"LOG_LEVEL": "INFO"})
    crawler = process.create_crawler(type(base.__name__, (base,), {"custom_settings": settings}))
    process.crawl(crawler, source=source)
    process.start()
stats = crawler.stats.get_stats()
print(json.dumps({k: v for k, v in stats.items() if k.startswith("tdir/")}))
"""


@pytest.mark.system
def test_a_crawl_reports_its_progress_in_the_log_and_the_stats(
    crawled: Crawled, tmp_path: Path
) -> None:
    environment = {**os.environ, "TDIR_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _STATS_SCRIPT, str(tmp_path), str(crawled.manifest)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    files = crawled.site("npi")["bulk_files"]["files"]
    assert stats["tdir/nppes/rows-read"] == sum(f["rows"] for f in files)
    assert stats["tdir/nppes/rows-kept"] > 0
    assert stats["tdir/nppes/rows-per-second"] > 0
    assert stats["tdir/nppes/files-read"] == len(files)
    for f in files:
        name = f["names"][1]
        assert f"{name}: done, {f['rows']:,} rows read, " in done.stderr


# -- a stand-in registry serving damaged and large bundles ----------------------------------------


class StandIn(http.server.ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes); every other path is a 404. A path in ``slow`` is sent
    in small pieces with pauses; ``sent`` counts the bytes sent of each path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.slow: set[str] = set()
        self.sent: Counter[str] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def page(self, names: list[str]) -> None:
        links = "".join(f'<li><a href="/nppes/{n}">{n}</a></li>' for n in names)
        self.files["/nppes/NPI_Files.html"] = f"<html><body><ul>{links}</ul></body></html>".encode()


class _StandInHandler(http.server.BaseHTTPRequestHandler):
    server: StandIn
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        kind = "text/html" if self.path.endswith(".html") else "application/zip"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        piece = 16 * 1024 if self.path in self.server.slow else len(body)
        try:
            for start in range(0, len(body), piece):
                self.wfile.write(body[start : start + piece])
                self.server.sent[self.path] += min(piece, len(body) - start)
                if self.path in self.server.slow:
                    time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            return  # the crawler hung up

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def write_catalog(path: Path, name: str, url: str) -> Path:
    entry = {
        "name": name,
        "kind": "npi_registry",
        "spider": "nppes_file",
        "start_urls": [url],
        "options": {"taxonomy": MASSAGE},
    }
    path.write_text(json.dumps({"sources": [entry]}), encoding="utf-8")  # JSON is YAML
    return path


def crawl_command(name: str, catalog: Path) -> list[str]:
    """``tdir crawl`` of one source of a catalog file, delays off (the host is this machine)."""
    return [
        sys.executable,
        "-m",
        "tdir.cli",
        "crawl",
        name,
        "--catalog",
        str(catalog),
        "--no-delay",
        "--json",
    ]


def run_crawl(home: Path, catalog: Path, name: str) -> tuple[RunRecord, str]:
    environment = {**os.environ, "TDIR_HOME": str(home)}
    environment.pop("TDIR_ES_URL", None)
    done = subprocess.run(
        crawl_command(name, catalog),
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    [record] = json.loads(done.stdout)
    return RunRecord.from_dict(record), done.stderr


GOOD_NPIS = [f"10000000{k:02d}" for k in range(20)]


@pytest.mark.system
def test_damaged_bundles_are_reported_and_lose_nothing_of_the_others(
    stand_in: StandIn, tmp_path: Path
) -> None:
    full_rows = [list(HEADER)]
    for npi in GOOD_NPIS:
        full_rows.append(person_row(npi))
    full_rows[3][COLUMN[LAST_UPDATE]] = "13/45/2024"
    full_rows[4][COLUMN["Provider License Number State Code_1"]] = "ZZ"
    full_rows.append(person_row("1000000099")[:40])  # a row cut short
    stand_in.files["/nppes/NPPES_Data_Dissemination_August_2025.zip"] = bundle(
        {"npidata_pfile_20050523-20250817.csv": full_rows}
    )
    stand_in.files["/nppes/NPPES_Data_Dissemination_082525_083125_Weekly.zip"] = bundle(
        {"npidata_pfile_20250825-20250831_fileheader.csv": [list(HEADER)]}
    )
    changed = [n for n in HEADER if n not in ("Last Update Date", "NPI Reactivation Date")]
    stand_in.files["/nppes/NPPES_Data_Dissemination_081825_082425_Weekly.zip"] = bundle(
        {"npidata_pfile_20250818-20250824.csv": [changed, person_row("1000000098")[:328]]}
    )
    stand_in.page(
        [
            "NPPES_Data_Dissemination_August_2025.zip",
            "NPPES_Data_Dissemination_082525_083125_Weekly.zip",
            "NPPES_Data_Dissemination_081825_082425_Weekly.zip",
        ]
    )
    page = f"{stand_in.url}/nppes/NPI_Files.html"
    catalog = write_catalog(tmp_path / "catalog.yaml", "damaged", page)
    run, stderr = run_crawl(tmp_path / "home", catalog, "damaged")
    assert run.status == "finished"
    assert run.errors == {
        "nppes/bad-date": 1,
        "nppes/bad-row": 1,
        "nppes/missing-columns": 1,
        "nppes/no-data-file": 1,
        "nppes/unknown-license-state": 1,
    }
    records = latest_records(tmp_path / "home", "damaged")
    assert sorted(r["npi"] for r in records if r["record_type"] == "listing") == GOOD_NPIS
    assert "'Last Update Date', 'NPI Reactivation Date'" in stderr
    assert "no npidata_pfile_<from>-<to>.csv in the ZIP" in stderr
    # The damaged bundles are failed pages: no listing they held could be judged gone.
    store = CrawlStore(tmp_path / "home")
    pages = (store.run_dir("damaged", run.run_id) / "pages.tsv").read_text().splitlines()
    outcomes = dict(line.split("\t") for line in pages)
    weekly = f"{stand_in.url}/nppes/NPPES_Data_Dissemination_"
    assert outcomes[weekly + "082525_083125_Weekly.zip"] == "failed:nppes/no-data-file"
    assert outcomes[weekly + "081825_082425_Weekly.zip"] == "failed:nppes/missing-columns"
    assert outcomes[weekly + "August_2025.zip"] == "ok"


BIG_ROWS = 150_000
BIG = "/big/NPPES_Data_Dissemination_September_2025.zip"


@pytest.fixture(scope="module")
def big_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, set[str]]:
    """A full file of 150,000 rows (2% massage therapists) and the NPIs it lists them by."""
    path = tmp_path_factory.mktemp("big") / "big.zip"
    therapists = write_bundle(path, BIG_ROWS, massage_share=0.02, seed=11)
    expected = set()
    with open_data_file(path, "big.zip") as data:
        for row in data.rows:
            if massage_slots(row, data.layout) and row[COLUMN["Entity Type Code"]] == "1":
                expected.add(row[0])
    assert len(expected) == therapists
    return path.read_bytes(), expected


def stopped_crawl(home: Path, catalog: Path, name: str, ready: Any) -> RunRecord:
    """``tdir crawl`` of a source, stopped with a first Ctrl+C once ``ready(store)`` holds."""
    environment = {**os.environ, "TDIR_HOME": str(home)}
    environment.pop("TDIR_ES_URL", None)
    process = subprocess.Popen(
        crawl_command(name, catalog),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    store = CrawlStore(home)

    def time_to_stop() -> bool:
        assert process.poll() is None, process.communicate()[1]
        return bool(ready(store))

    try:
        wait_until(time_to_stop, timeout=300, interval=0.05, message="the moment to stop")
    except BaseException:
        process.kill()
        raise
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    [record] = [RunRecord.from_dict(r) for r in json.loads(out)]
    assert record.status == "interrupted", err
    return record


def serve_big(stand_in: StandIn, big_bundle: tuple[bytes, set[str]], tmp_path: Path) -> Path:
    """Serve the big file from a download page of its own; return a catalog of it."""
    stand_in.files[BIG] = big_bundle[0]
    stand_in.files["/big/NPI_Files.html"] = (
        b'<a href="NPPES_Data_Dissemination_September_2025.zip">full</a>'
    )
    return write_catalog(tmp_path / "catalog.yaml", "big", f"{stand_in.url}/big/NPI_Files.html")


def assert_resumed_and_complete(
    home: Path, catalog: Path, first: RunRecord, expected: set[str]
) -> None:
    """The next crawl resumes the stopped run and ends it with every therapist once."""
    store = CrawlStore(home)
    run, _ = run_crawl(home, catalog, "big")
    assert run.resumed and run.run_id == first.run_id
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0
    listings = [r for r in store.records("big", run.run_id) if r["record_type"] == "listing"]
    assert len(listings) == len({r["id"] for r in listings}) == len(expected)
    assert {r["npi"] for r in listings} == expected
    assert run.items == {"listing": len(expected), "credential_record": len(expected)}
    assert not list((store.source_dir("big") / "spool").glob("*"))


@pytest.mark.system
def test_a_crawl_stopped_while_reading_resumes_without_losing_or_repeating_a_row(
    stand_in: StandIn, big_bundle: tuple[bytes, set[str]], tmp_path: Path
) -> None:
    catalog = serve_big(stand_in, big_bundle, tmp_path)
    home = tmp_path / "home"

    def records_written(store: CrawlStore) -> bool:
        runs = store.runs("big")
        items = store.items_path("big", runs[-1].run_id) if runs else None
        return items is not None and items.exists() and items.stat().st_size > 0

    first = stopped_crawl(home, catalog, "big", records_written)
    store = CrawlStore(home)
    before = {r["npi"] for r in store.records("big", first.run_id) if r["record_type"] == "listing"}
    assert 0 < len(before) < len(big_bundle[1])
    assert_resumed_and_complete(home, catalog, first, big_bundle[1])


@pytest.mark.system
def test_a_crawl_stopped_while_downloading_does_not_wait_and_fetches_the_file_again(
    stand_in: StandIn, big_bundle: tuple[bytes, set[str]], tmp_path: Path
) -> None:
    catalog = serve_big(stand_in, big_bundle, tmp_path)
    stand_in.slow.add(BIG)
    stand_in.sent[BIG] = 0
    home = tmp_path / "home"
    try:
        first = stopped_crawl(home, catalog, "big", lambda store: stand_in.sent[BIG] > 0)
    finally:
        stand_in.slow.discard(BIG)
    # Stopped long before the slow transfer could have ended.
    assert stand_in.sent[BIG] < len(big_bundle[0])
    assert first.items == {}
    assert not list((CrawlStore(home).source_dir("big") / "spool").glob("*"))
    assert_resumed_and_complete(home, catalog, first, big_bundle[1])
