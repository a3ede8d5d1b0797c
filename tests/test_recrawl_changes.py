"""What a run changed against the source's previous complete run, and what the index rewrites.

Small, hand-checkable cases: record fingerprints, change counts (nothing vanishes in a partial
run), run indexes and their fallback, the crawl summary table, and index writes that skip
profiles whose only news is that their sources were fetched again.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import summary_table
from crawler.items import Listing, PostalAddress, Provenance, stable_id, to_dict
from crawler.runs import (
    CrawlStore,
    RunRecord,
    count_changes,
    index_line,
    record_fingerprint,
)
from indexer.build import REFRESH_AFTER, IndexState, build_profiles, profile_hash, write_index
from indexer.profile import CredentialCheck, ListingRef, Profile, Verification
from indexer.search.sqlite_backend import SqliteBackend
from indexer.snapshots import load_snapshot


def listing(ref: str, street: str = "1200 S Congress Ave", fetched: str = "2025-09-01") -> Listing:
    return Listing(
        id=stable_id("atlas", ref),
        provenance=Provenance("atlas", ref, f"{fetched}T00:00:00+00:00", "page-hash-" + fetched),
        source_ref=ref,
        name_raw="Jane A. Doe, LMT",
        telephone_raw="(512) 555-0100",
        address=PostalAddress(street=street, locality="Austin", region="TX", postal_code="78704"),
        modalities_raw=["NMT"],
    )


# -- fingerprints and counts ----------------------------------------------------------------


def test_a_fingerprint_ignores_when_a_record_was_fetched_and_nothing_else() -> None:
    first = to_dict(listing("http://atlas/jane"))
    again = to_dict(listing("http://atlas/jane", fetched="2025-10-01"))
    moved = to_dict(listing("http://atlas/jane", street="9 Oak St", fetched="2025-10-01"))
    assert first["provenance"] != again["provenance"]
    assert record_fingerprint(first) == record_fingerprint(again)
    assert record_fingerprint(first) != record_fingerprint(moved)
    # the fingerprint of a record is the one its JSON line gives back
    assert record_fingerprint(json.loads(json.dumps(first))) == record_fingerprint(first)


def test_changes_are_counted_per_record_type() -> None:
    before = {"listing": {"a": "1", "b": "2", "c": "3"}, "review": {"r": "9"}}
    after = {"listing": {"a": "1", "b": "changed", "d": "4"}, "review": {"r": "9", "s": "8"}}
    assert count_changes(before, after, complete=True) == {
        "listing": {"new": 1, "changed": 1, "unchanged": 1, "vanished": 1},
        "review": {"new": 1, "changed": 0, "unchanged": 1, "vanished": 0},
    }


def test_a_partial_run_never_reports_anything_vanished() -> None:
    before = {"listing": {"a": "1", "b": "2", "c": "3"}, "review": {"r": "9"}}
    after = {"listing": {"a": "1"}}
    assert count_changes(before, after, complete=False) == {
        "listing": {"new": 0, "changed": 0, "unchanged": 1, "vanished": 0},
        "review": {"new": 0, "changed": 0, "unchanged": 0, "vanished": 0},
    }


def test_without_a_previous_complete_run_everything_is_new() -> None:
    after = {"listing": {"a": "1", "b": "2"}}
    assert count_changes(None, after, complete=True) == {
        "listing": {"new": 2, "changed": 0, "unchanged": 0, "vanished": 0}
    }


# -- run indexes ------------------------------------------------------------------------------


def write_items(store: CrawlStore, run_id: str, records: list[dict[str, Any]]) -> None:
    run_dir = store.run_dir("atlas", run_id)
    run_dir.mkdir(parents=True)
    with store.items_path("atlas", run_id).open("w", encoding="utf-8") as out:
        for data in records:
            out.write(json.dumps(data) + "\n")


def test_a_run_without_an_index_file_is_indexed_from_its_records(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    records = [to_dict(listing("http://atlas/jane")), to_dict(listing("http://atlas/bob"))]
    write_items(store, "20250901T000000Z", records)
    from_records = store.read_index("atlas", "20250901T000000Z")
    assert from_records == {"listing": {r["id"]: record_fingerprint(r) for r in records}}
    assert store.write_index("atlas", "20250901T000000Z", records) == 2
    assert store.index_path("atlas", "20250901T000000Z").exists()
    assert store.read_index("atlas", "20250901T000000Z") == from_records


def test_an_index_line_cut_short_is_skipped(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    records = [to_dict(listing("http://atlas/jane")), to_dict(listing("http://atlas/bob"))]
    write_items(store, "20250901T000000Z", records)
    path = store.index_path("atlas", "20250901T000000Z")
    path.write_text(index_line(records[0]) + index_line(records[1])[:12], encoding="utf-8")
    assert store.read_index("atlas", "20250901T000000Z") == {
        "listing": {records[0]["id"]: record_fingerprint(records[0])}
    }


def test_the_previous_complete_run_is_the_latest_finished_one_before(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    for run_id, status in [
        ("20250901T000000Z", "finished"),
        ("20250902T000000Z", "interrupted"),
        ("20250903T000000Z", "failed"),
        ("20250904T000000Z", "running"),
    ]:
        store.run_dir("atlas", run_id).mkdir(parents=True)
        store.write_record(RunRecord("atlas", run_id, "2025-09-01T00:00:00", status=status))
    previous = store.previous_complete("atlas", "20250904T000000Z")
    assert previous is not None and previous.run_id == "20250901T000000Z"
    assert store.previous_complete("atlas", "20250901T000000Z") is None


def test_a_record_written_before_runs_counted_changes_reads_back() -> None:
    record = RunRecord.from_dict(
        {"source": "atlas", "run_id": "r1", "started_at": "2025-09-01T00:00:00", "pages": 3}
    )
    assert record.changes is None and record.compared_with is None
    assert record.change_totals() is None


# -- the crawl summary table ------------------------------------------------------------------


def test_the_summary_table_sums_changes_over_record_types() -> None:
    counted = RunRecord(
        "atlas",
        "r2",
        "2025-09-02T00:00:00",
        status="finished",
        items={"listing": 10, "review": 30},
        changes={
            "listing": {"new": 1, "changed": 2, "unchanged": 7, "vanished": 3},
            "review": {"new": 4, "changed": 0, "unchanged": 26, "vanished": 5},
        },
    )
    uncounted = RunRecord("guild", "r1", "2025-09-01T00:00:00", status="failed")
    lines = summary_table([counted, uncounted]).splitlines()
    assert lines[0].split()[-4:] == ["new", "changed", "same", "gone"]
    assert lines[2].split()[-4:] == ["5", "2", "33", "8"]
    assert lines[3].split()[-4:] == ["-", "-", "-", "-"]


# -- index writes -----------------------------------------------------------------------------


def profile(pid: str, confirmed: str, name: str = "Jane Doe") -> Profile:
    license = CredentialCheck(
        "lmt",
        "LMT",
        "state_license",
        "TX",
        "MT1",
        ("atlas",),
        "verified",
        confirmed[:10],
        "TX board",
        None,
        "found by number",
    )
    return Profile(
        id=pid,
        name=name,
        listings=(ListingRef("l1", "atlas", "http://atlas/l1", name, confirmed, True),),
        credentials=(license,),
        verification=Verification.of([license]),
        last_confirmed=confirmed,
    )


def test_freshness_dates_alone_do_not_change_a_profile() -> None:
    seen = profile("t1", "2025-09-01T00:00:00+00:00")
    again = profile("t1", "2025-09-02T00:00:00+00:00")
    assert profile_hash(seen) == profile_hash(again)
    assert profile_hash(seen) != profile_hash(profile("t1", seen.last_confirmed, "J. Doe"))


def test_a_profile_is_rewritten_for_its_freshness_dates_once_they_fall_behind(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    state_path = tmp_path / "state.json"
    start = "2025-09-01T00:00:00+00:00"
    first = write_index(backend, [profile("t1", start)], IndexState(state_path))
    assert (first.rebuilt, first.written) == (True, 1)
    day_later = write_index(
        backend, [profile("t1", "2025-09-02T00:00:00+00:00")], IndexState(state_path)
    )
    assert (day_later.written, day_later.unchanged) == (0, 1)
    stored = backend.get("t1")
    assert stored is not None and stored.last_confirmed == start
    assert REFRESH_AFTER.days == 7
    week_later = write_index(
        backend, [profile("t1", "2025-09-08T00:00:00+00:00")], IndexState(state_path)
    )
    assert week_later.written == 1
    stored = backend.get("t1")
    assert stored is not None and stored.last_confirmed == "2025-09-08T00:00:00+00:00"
    assert IndexState(state_path).confirmed == {"t1": "2025-09-08T00:00:00+00:00"}
    backend.close()


def test_an_index_state_of_hashes_only_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"t1": "abc"}), encoding="utf-8")
    state = IndexState(path)
    assert (state.hashes, state.confirmed) == ({"t1": "abc"}, {})
    state.save()
    assert IndexState(path).hashes == {"t1": "abc"}


def test_profiles_do_not_depend_on_the_order_a_crawl_wrote_listings_in(tmp_path: Path) -> None:
    jane = listing("http://atlas/jane")
    twins = [
        replace(jane, id=stable_id("atlas", f"http://atlas/jane/{n}"), source_ref=f"jane/{n}")
        for n in range(4)
    ]
    builds = []
    for name, order in (("a", twins), ("b", twins[::-1])):
        store = CrawlStore(tmp_path / name)
        store.run_dir("atlas", "r1").mkdir(parents=True)
        with store.items_path("atlas", "r1").open("w", encoding="utf-8") as out:
            for record in order:
                out.write(json.dumps(to_dict(record)) + "\n")
        store.write_record(RunRecord("atlas", "r1", "2025-09-01T00:00:00", status="finished"))
        builds.append(build_profiles(store).profiles)
    assert len(builds[0]) == 1
    assert builds[0] == builds[1]


@pytest.mark.parametrize("status", ["interrupted", "failed"])
def test_only_finished_runs_are_compared_with(tmp_path: Path, status: str) -> None:
    store = CrawlStore(tmp_path)
    store.run_dir("atlas", "r1").mkdir(parents=True)
    store.write_record(RunRecord("atlas", "r1", "2025-09-01T00:00:00", status=status))
    assert store.previous_complete("atlas", "r2") is None


def test_a_vanished_listing_keeps_the_last_version_a_complete_run_saw(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    jane, bob, ann = (listing(f"http://atlas/{n}") for n in ("jane", "bob", "ann"))
    bob_moved = replace(bob, address=PostalAddress(street="9 Oak St", locality="Austin"))
    history = [
        ("r1", [jane, bob, ann], "finished"),
        ("r2", [jane, bob_moved], "finished"),
        ("r3", [jane], "finished"),
        ("r4", [], "interrupted"),  # reaching nothing, it makes nothing vanish
    ]
    for run_id, records, status in history:
        store.run_dir("atlas", run_id).mkdir(parents=True)
        with store.items_path("atlas", run_id).open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(to_dict(record)) + "\n")
        store.write_index("atlas", run_id, store.records("atlas", run_id))
        store.write_record(RunRecord("atlas", run_id, "2025-09-01T00:00:00", status=status))
    snapshot = load_snapshot(store, "atlas")
    assert snapshot.latest_complete is not None and snapshot.latest_complete.run_id == "r3"
    assert set(snapshot.listings) == {jane.id, bob.id, ann.id}
    assert snapshot.vanished == {bob.id, ann.id}
    address = snapshot.listings[bob.id].address
    assert address is not None and address.street == "9 Oak St"
