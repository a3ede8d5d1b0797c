"""Crawling the demo web's TDLR license file and its Socrata credential dataset, over real HTTP.

``board-tx`` is read from the Texas board's license data file (TDLR's real layout, massage
establishments among the therapists), ``data-wa`` from Washington's open-data API (Socrata
paging, tokens and errors). Both are crawled by ``tdir crawl`` in a subprocess and compared with
the ground truth; a changed header, bad rows, a refused query and a bad token are served by
stand-ins on 127.0.0.1 (the demo web, or a file server started here) and crawled the same way.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
import yaml

from crawler.catalog import DEFAULT_CATALOG
from crawler.demoweb.sites.opendata import APP_TOKEN
from crawler.items import CredentialRecord, from_dict
from crawler.runs import CrawlStore, RunRecord
from indexer.normalize.names import parse_person_name
from indexer.snapshots import load_snapshot
from indexer.taxonomy import load_taxonomy
from indexer.verify import Claim, Registry, to_issuer_record
from tests.crawling import Crawled, crawl_sources, run_tdir, standing_today

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SOURCES = ("board-tx", "data-wa")
EXPIRY = "LICENSE EXPIRATION DATE (MMDDCCYY)"


@pytest.fixture(scope="module")
def crawled(demo_web: Any, demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    return crawl_sources(
        tmp_path_factory.mktemp("crawl-license-files"), demo_web, demo_world, *SOURCES
    )


@pytest.fixture(scope="module")
def tdlr_rows(crawled: Crawled) -> list[dict[str, str]]:
    """The TX board's file as a person would read it (the csv module, not the code under test)."""
    summary = crawled.site("board-tx")
    with urlopen(crawled.urls["board-tx"] + summary["csv_path"]) as answer:
        return list(csv.DictReader(io.StringIO(answer.read().decode("utf-8"))))


def published(crawled: Crawled, source: str) -> dict[str, dict[str, Any]]:
    """The true licenses a source publishes, by number: its state's, of the statuses it lists."""
    summary = crawled.site(source)
    return {
        c["number"]: c
        for c in crawled.credentials("state_license", state=summary["state"])
        if c["status"] in summary["statuses"]
    }


def holder_key(name: dict[str, Any]) -> set[str]:
    """The matching key of a person, as the indexer makes it from a listed name."""
    parsed = parse_person_name(f"{name['first']} {name['last']}", taxonomy=load_taxonomy()).value
    assert parsed is not None and parsed.name.key
    return {parsed.name.key}


# -- the crawls of the demo web --------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_the_crawl_finishes_without_errors(crawled: Crawled, source: str) -> None:
    run = crawled.runs[source]
    assert run.status == "finished"
    assert run.errors == {}
    assert run.duplicates_dropped == 0
    assert set(run.items) == {"credential_record"}


@pytest.mark.parametrize("source", SOURCES)
def test_every_license_a_source_publishes_is_gathered_once(crawled: Crawled, source: str) -> None:
    records = crawled.records[source]
    truth = published(crawled, source)
    assert len(records) == crawled.site(source)["records"] == len(truth)
    assert crawled.runs[source].items["credential_record"] == len(truth)
    assert len({r["id"] for r in records}) == len(records)
    assert {r["number"] for r in records} == set(truth)


def test_the_tdlr_file_lists_establishments_and_no_suspended_license(
    crawled: Crawled, tdlr_rows: list[dict[str, str]]
) -> None:
    summary = crawled.site("board-tx")
    assert summary["statuses"] == ["active", "expired"]
    types = [row["LICENSE TYPE"] for row in tdlr_rows]
    assert types.count("Massage Establishment") == summary["establishments"] > 0
    assert types.count("Massage Therapist") == summary["records"]
    every = {c["number"] for c in crawled.credentials("state_license", state="TX")}
    listed = {row["LICENSE NUMBER"] for row in tdlr_rows}
    assert every - listed == {
        c["number"]
        for c in crawled.credentials("state_license", state="TX")
        if c["status"] in ("suspended", "revoked")
    }


def test_establishments_never_become_their_owners_credentials(
    crawled: Crawled, tdlr_rows: list[dict[str, str]]
) -> None:
    establishments = [r for r in tdlr_rows if r["LICENSE TYPE"] == "Massage Establishment"]
    numbers = {r["number"] for r in crawled.records["board-tx"]}
    assert not numbers & {r["LICENSE NUMBER"] for r in establishments}
    truth = published(crawled, "board-tx")
    for row in establishments:
        # The owner is a therapist of the population; what they hold is their own license only.
        owned = [r for r in crawled.records["board-tx"] if r["name_raw"] == row["OWNER NAME"]]
        assert owned, row["OWNER NAME"]
        assert all(truth[r["number"]]["holder"]["last"].upper() in r["name_raw"] for r in owned)
        assert all(r["credential_raw"] == "Massage Therapist" for r in owned)


def test_tdlr_fields_match_the_truth(crawled: Crawled) -> None:
    truth = published(crawled, "board-tx")
    as_of = crawled.truth.summary["as_of"]
    for record in crawled.records["board-tx"]:
        license_ = truth[record["number"]]
        holder = license_["holder"]
        assert record["issuer_kind"] == "state_board"
        assert (record["state"], record["credential_raw"]) == ("TX", "Massage Therapist")
        assert record["status_raw"] is None and record["issued_raw"] is None
        assert record["expires_raw"] == license_["expires"]
        assert record["extras"]["as_written"]["expires"] == (
            license_["expires"][5:7] + license_["expires"][8:10] + license_["expires"][:4]
        )
        assert record["extras"]["name_parts"] == {
            "last": holder["last"].upper(),
            "first": holder["first"].upper(),
            "middle": (holder["middle"] or "").upper(),
        }
        assert record["extras"]["data_as_of"] == as_of
        person = license_["person"]
        home = (
            person["address"] if person["address"]["state"] == "TX" else person["previous_address"]
        )
        assert record["city_raw"] == home["city"].upper()
        assert record["address"]["postal_code"] == home["zip"]
        assert record["address"]["region"] == "TX"
        assert record["telephone_raw"] == person["phone"]


def test_tdlr_licenses_verify_as_their_truth_says(
    crawled: Crawled, tdlr_rows: list[dict[str, str]]
) -> None:
    """From the crawled file through the indexer's verification: in force verifies, lapsed is
    expired (the file has no status), what the file does not list is not found."""
    taxonomy = load_taxonomy()
    registry = Registry(
        to_issuer_record(from_dict(r), taxonomy)  # type: ignore[arg-type]
        for r in crawled.records["board-tx"]
    )
    expected = {"active": "verified", "expired": "expired", "suspended": "not_found"}
    expected["revoked"] = "not_found"
    seen = set()
    for license_ in crawled.credentials("state_license", state="TX"):
        claim = Claim("lmt", "state_license", "TX", license_["number"])
        outcome = registry.verify(claim, holder_key(license_["holder"]))
        assert outcome.status == expected[standing_today(license_)], license_
        seen.add(standing_today(license_))
    assert {"active", "expired"} <= seen
    for row in tdlr_rows:
        if row["LICENSE TYPE"] == "Massage Establishment":
            owner = parse_person_name(row["OWNER NAME"], taxonomy=taxonomy).value
            assert owner is not None and owner.name.key
            claim = Claim("lmt", "state_license", "TX", row["LICENSE NUMBER"])
            assert registry.verify(claim, {owner.name.key}).status == "not_found"


def test_socrata_fields_match_the_truth(crawled: Crawled) -> None:
    truth = published(crawled, "data-wa")
    for record in crawled.records["data-wa"]:
        license_ = truth[record["number"]]
        holder = license_["holder"]
        assert (record["state"], record["issuer_kind"]) == ("WA", "state_board")
        assert record["credential_raw"] == "Massage Therapist License"
        assert record["status_raw"].casefold() == license_["status"]
        assert (record["issued_raw"], record["expires_raw"]) == (
            license_["issued"],
            license_["expires"],
        )
        assert record["name_raw"].startswith(f"{holder['last'].upper()}, {holder['first'].upper()}")


def test_socrata_pages_are_ordered_and_stop_at_the_first_short_one(crawled: Crawled) -> None:
    queries = [parse_qs(urlsplit(path).query) for path in _paths(crawled, "data-wa", "/resource/")]
    total = crawled.site("data-wa")["records"]
    assert sorted(int(q["$offset"][0]) for q in queries) == list(range(0, total + 1, 5))
    for query in queries:
        assert query["$order"] == [":id"] and query["$limit"] == ["5"]
        assert query["$where"] == ["credentialtype = 'Massage Therapist License'"]


# -- tokens and refused queries --------------------------------------------------------------------


def test_an_app_token_is_sent_and_a_wrong_one_refused(crawled: Crawled, tmp_path: Path) -> None:
    good = _crawl(tmp_path / "good", crawled.manifest, "data-wa", TDIR_DATA_WA_APP_TOKEN=APP_TOKEN)
    assert (good.status, good.errors) == ("finished", {})
    assert good.items["credential_record"] == crawled.site("data-wa")["records"]
    bad = _crawl(tmp_path / "bad", crawled.manifest, "data-wa", TDIR_DATA_WA_APP_TOKEN="stolen")
    assert bad.status == "failed"
    assert bad.errors == {"http/403": 1}
    assert bad.items == {}
    assert "Invalid app_token specified" in bad.log
    assert "$TDIR_DATA_WA_APP_TOKEN" in bad.log


def test_a_query_naming_a_missing_column_is_refused_with_the_portals_words(
    crawled: Crawled, tmp_path: Path
) -> None:
    catalog = _catalog(tmp_path, "data-wa", where="credentialtyp = 'Massage Therapist License'")
    run = _crawl(tmp_path / "home", crawled.manifest, "data-wa", catalog=catalog)
    assert (run.status, run.errors) == ("failed", {"http/400": 1})
    assert "query.soql.no-such-column: No such column: credentialtyp" in run.log


def test_a_dataset_that_fills_its_last_page_exactly_ends_on_an_empty_one(
    crawled: Crawled, tmp_path: Path
) -> None:
    total = crawled.site("data-wa")["records"]
    # A distinct $order tells this crawl's requests apart in the shared request log.
    catalog = _catalog(tmp_path, "data-wa", page_size=total, order=":id ASC")
    run = _crawl(tmp_path / "home", crawled.manifest, "data-wa", catalog=catalog)
    assert (run.status, run.errors, run.items) == ("finished", {}, {"credential_record": total})
    offsets = [
        int(parse_qs(urlsplit(p).query)["$offset"][0])
        for p in _paths(crawled, "data-wa", "/resource/")
        if "%3Aid+ASC" in p
    ]
    assert sorted(offsets) == [0, total]


# -- a license file that changed, or has bad rows --------------------------------------------------


def test_a_file_whose_header_changed_is_one_clear_error_and_loses_nothing(
    crawled: Crawled, tmp_path: Path
) -> None:
    original = _tdlr_text(crawled)
    with FileServer(original) as server:
        catalog = _catalog(tmp_path, "board-tx", start_urls=[server.url])
        home = tmp_path / "home"
        first = _crawl(home, None, "board-tx", catalog=catalog)
        assert (first.status, first.errors) == ("finished", {})
        server.body = original.replace(EXPIRY, "LICENSE EXPIRATION DATE").encode()
        second = _crawl(home, None, "board-tx", catalog=catalog)
    assert second.status == "failed"
    assert second.errors == {"csv/missing-column": 1}
    assert server.url in second.log
    assert "'license expiration date (mmddccyy)'" in second.log
    # What the last complete crawl gathered is still what the source says.
    snapshot = load_snapshot(CrawlStore(home), "board-tx")
    assert snapshot.latest_complete is not None
    assert snapshot.latest_complete.run_id == first.run_id
    assert len(snapshot.credential_records) == first.items["credential_record"]


def test_rows_with_a_bad_date_or_an_unknown_state_are_counted_and_the_rest_gathered(
    crawled: Crawled, tmp_path: Path
) -> None:
    rows = list(csv.reader(io.StringIO(_tdlr_text(crawled))))
    header, therapists = rows[0], [r for r in rows[1:] if r[0] == "Massage Therapist"]
    expiry, place = header.index(EXPIRY), header.index("MAILING ADDRESS CITY, STATE ZIP")
    therapists[0][expiry] = "2/30/2027"
    city = therapists[1][place].rsplit(" ", 2)[0].rstrip(",")
    therapists[1][place] = f"{city}, ZZ 78704"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *therapists])
    with FileServer(buf.getvalue()) as server:
        catalog = _catalog(tmp_path, "board-tx", start_urls=[server.url])
        run = _crawl(tmp_path / "home", None, "board-tx", catalog=catalog)
    assert run.status == "finished"
    assert run.errors == {"value/date-format": 1, "value/state-unknown": 1}
    # The row without a readable expiry is dropped; the one with an odd address is kept.
    assert run.items["credential_record"] == len(therapists) - 1
    records = {r.number: r for r in _records(tmp_path / "home", "board-tx")}
    assert therapists[0][1] not in records
    kept = records[therapists[1][1]]
    assert kept.city_raw is None and kept.expires_raw


# -- helpers ---------------------------------------------------------------------------------------


@dataclass
class CrawlRun:
    """A crawl's run record and its log (what ``tdir crawl`` wrote on stderr)."""

    record: RunRecord
    log: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def _crawl(
    home: Path, manifest: Path | None, source: str, *, catalog: Path | None = None, **env: str
) -> CrawlRun:
    args = ["crawl", source, "--no-delay", "--json"]
    if manifest is not None:
        args += ["--sites", str(manifest)]
    if catalog is not None:
        args += ["--catalog", str(catalog)]
    done = run_tdir(home, *args, timeout=600, **env)
    assert done.returncode in (0, 1), done.stderr
    [record] = json.loads(done.stdout)
    return CrawlRun(RunRecord.from_dict(record), done.stderr)


def _records(home: Path, source: str) -> list[CredentialRecord]:
    store = CrawlStore(home)
    last = store.runs(source)[-1]
    return [from_dict(r) for r in store.records(source, last.run_id)]  # type: ignore[misc]


def _catalog(directory: Path, source: str, **changes: Any) -> Path:
    """A catalog of one demo source with some of its settings changed."""
    demo = yaml.safe_load((Path(__file__).parents[1] / "crawler" / DEFAULT_CATALOG).read_text())
    entry = copy.deepcopy(next(s for s in demo["sources"] if s["name"] == source))
    for key, value in changes.items():
        if key == "start_urls":
            entry[key] = value
        else:
            entry["options"][key] = value
    path = directory / f"{source}-catalog.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry]}, sort_keys=False), encoding="utf-8")
    return path


def _tdlr_text(crawled: Crawled) -> str:
    with urlopen(crawled.urls["board-tx"] + crawled.site("board-tx")["csv_path"]) as answer:
        return answer.read().decode("utf-8")


def _paths(crawled: Crawled, site: str, prefix: str) -> list[str]:
    lines = crawled.request_log.read_text(encoding="utf-8").splitlines()
    return [
        entry["path"]
        for entry in map(json.loads, lines)
        if entry["site"] == site
        and entry["user_agent"].startswith("tdir-bot/")
        and entry["path"].startswith(prefix)
    ]


class FileServer:
    """A licensee file served on 127.0.0.1, its body replaceable between crawls."""

    def __init__(self, text: str) -> None:
        self.body = text.encode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/licfile/massage.csv":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(server.body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/licfile/massage.csv"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
