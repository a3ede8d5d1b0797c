"""Index builds from crawl runs: vanished listings, interrupted runs, incremental writes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from crawler.items import Listing, PostalAddress, Provenance, Rating, Review, stable_id, to_dict
from crawler.runs import CrawlStore, RunRecord
from indexer.build import IndexState, WriteStats, build_profiles, profile_hash, write_index
from indexer.cli import summary_text
from indexer.search import SearchQuery
from indexer.search.sqlite_backend import SqliteBackend


def listing(source: str, ref: str, name: str, phone: str, street: str) -> Listing:
    return Listing(
        id=stable_id(source, ref),
        provenance=Provenance(source, ref, "2025-09-01T00:00:00+00:00", "h"),
        source_ref=ref,
        name_raw=name,
        telephone_raw=phone,
        address=PostalAddress(street=street, locality="Austin", region="TX", postal_code="78704"),
        modalities_raw=["NMT", "sciatica"],
    )


def review(source: str, listing_ref: str, n: int, stars: str) -> Review:
    return Review(
        id=stable_id(source, f"{listing_ref}#r{n}"),
        provenance=Provenance(source, listing_ref, "2025-09-01T00:00:00+00:00", "h"),
        listing_ref=listing_ref,
        author_raw=f"Reviewer {n}",
        rating=Rating(stars, float(stars.split("/")[0]), best=5.0),
        published_raw="2025-05-01",
        body=f"Review number {n} of a very good neuromuscular session, would book again.",
    )


def write_run(store: CrawlStore, source: str, run_id: str, records: list, status: str) -> None:
    run_dir = store.run_dir(source, run_id)
    run_dir.mkdir(parents=True)
    with (run_dir / "items.jsonl").open("w") as out:
        for record in records:
            out.write(json.dumps(to_dict(record)) + "\n")
    store.write_record(
        RunRecord(source=source, run_id=run_id, started_at="2025-09-01T00:00:00", status=status)
    )


JANE_A = listing(
    "atlas",
    "http://atlas/jane",
    "Jane A. Doe, LMT",
    "(512) 555-0100",
    "1200 S Congress Ave Suite 200",
)
JANE_G = listing(
    "guild", "http://guild/m/1", "Doe, Jane", "512.555.0100", "1200 S Congress Ave #200"
)
BOB_A = listing("atlas", "http://atlas/bob", "Bob Smith", "(512) 555-0199", "9 Oak St")


@pytest.fixture
def store(tmp_path: Path) -> CrawlStore:
    store = CrawlStore(tmp_path)
    write_run(
        store,
        "atlas",
        "20250901T000000Z",
        [JANE_A, BOB_A, review("atlas", "http://atlas/jane", 1, "5/5")],
        "finished",
    )
    write_run(
        store,
        "guild",
        "20250901T000000Z",
        [JANE_G, review("guild", "http://guild/m/1", 2, "4/5")],
        "finished",
    )
    return store


def test_listings_of_one_person_become_one_profile(store: CrawlStore) -> None:
    build = build_profiles(store)
    assert build.summary.profiles == 2
    jane = build.profiles[build.listing_to_profile[JANE_A.id]]
    assert build.listing_to_profile[JANE_G.id] == jane.id
    assert jane.name == "Jane A. Doe"
    assert jane.phones == ("+15125550100",)
    assert len(jane.locations) == 1  # "Suite 200" and "#200" are one address
    assert jane.modalities == ("neuromuscular_therapy",)
    assert jane.conditions == ("sciatica",)  # a condition listed among the techniques
    # (5*4 + 5 + 4) / (5 + 2) = 29/7
    assert jane.rating.combined == pytest.approx(4.143, abs=0.001)
    (evidence,) = jane.merge_evidence
    assert evidence["reason"].startswith("weighed evidence: first name same, surname same")
    for agreement in ("first name same", "surname same", "phone same", "address same address"):
        assert agreement in evidence["fields"]
    assert float(evidence["match_weight"]) > 10
    assert {p["source"] for p in jane.provenance["phones"]} == {"atlas", "guild"}


def test_a_listing_gone_after_a_complete_run_is_inactive(store: CrawlStore, tmp_path: Path) -> None:
    write_run(store, "atlas", "20250902T000000Z", [JANE_A], "finished")
    build = build_profiles(store)
    bob = build.profiles[build.listing_to_profile[BOB_A.id]]
    assert bob.active is False
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    write_index(backend, build.profiles.values(), IndexState(tmp_path / "state.json"))
    assert backend.get(bob.id) is not None  # kept, not deleted
    assert bob.id not in backend.search(SearchQuery(page_size=50)).ids
    backend.close()


def test_an_interrupted_run_never_makes_listings_vanish(store: CrawlStore) -> None:
    write_run(store, "atlas", "20250902T000000Z", [JANE_A], "interrupted")
    build = build_profiles(store)
    assert build.profiles[build.listing_to_profile[BOB_A.id]].active is True


def test_rebuilding_from_the_same_records_changes_nothing(
    store: CrawlStore, tmp_path: Path
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    state = IndexState(tmp_path / "state.json")
    first = write_index(backend, build_profiles(store).profiles.values(), state)
    assert (first.rebuilt, first.written) == (True, 2)
    again = write_index(
        backend, build_profiles(store).profiles.values(), IndexState(tmp_path / "state.json")
    )
    assert (again.written, again.unchanged, again.deleted) == (0, 2, 0)
    write_run(
        store,
        "guild",
        "20250902T000000Z",
        [JANE_G, review("guild", "http://guild/m/1", 3, "1/5")],
        "finished",
    )
    changed = write_index(
        backend, build_profiles(store).profiles.values(), IndexState(tmp_path / "state.json")
    )
    assert (changed.written, changed.unchanged) == (1, 1)  # only Jane's reviews changed
    backend.close()


def test_links_to_a_profile_survive_a_new_listing_changing_its_id(
    store: CrawlStore, tmp_path: Path
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    state = IndexState(tmp_path / "state.json")
    before = build_profiles(store)
    old_id = before.listing_to_profile[JANE_A.id]
    write_index(backend, before.profiles.values(), state)
    # A third site lists Jane; its listing id happens to sort first, so the profile id moves.
    jane_p = next(
        candidate
        for n in range(1000)
        if (
            candidate := listing(
                "pages",
                f"http://pages/listing.php?id={n}",
                "JANE DOE",
                "512-555-0100",
                "1200 S Congress Ave Ste 200",
            )
        ).id
        < min(JANE_A.id, JANE_G.id)
    )
    write_run(store, "pages", "20250903T000000Z", [jane_p], "finished")
    after = build_profiles(store)
    new_id = after.listing_to_profile[jane_p.id]
    assert after.listing_to_profile[JANE_A.id] == new_id != old_id
    write_index(backend, after.profiles.values(), state)
    assert backend.get(old_id).id == new_id
    assert old_id in after.profiles[new_id].alias_ids
    backend.close()


def test_merge_weights_alone_do_not_change_a_profile(store: CrawlStore) -> None:
    """Weights move with every re-estimate; which listings merged, and why, is the content."""
    profile = next(p for p in build_profiles(store).profiles.values() if p.merge_evidence)
    reweighed = replace(
        profile,
        merge_evidence=tuple(
            {**e, "match_weight": "1.0", "fields": "phone same (+1.0)"}
            for e in profile.merge_evidence
        ),
    )
    assert profile_hash(reweighed) == profile_hash(profile)
    other_rule = replace(
        profile,
        merge_evidence=tuple({**e, "reason": "same NPI"} for e in profile.merge_evidence),
    )
    assert profile_hash(other_rule) != profile_hash(profile)


def test_the_summary_reports_unreadable_records_per_source(store: CrawlStore) -> None:
    assert "unreadable" not in summary_text(build_profiles(store).summary, WriteStats(), "sqlite")
    items = store.run_dir("atlas", "20250901T000000Z") / "items.jsonl"
    with items.open("a") as out:
        out.write(json.dumps({"record_type": "listing", "name_raw": "no provenance"}) + "\n")
    build = build_profiles(store)
    assert build.summary.unreadable_records == {"atlas": 1}
    assert build.summary.profiles == 2
    text = summary_text(build.summary, WriteStats(), "sqlite")
    assert "unreadable records, left out: atlas 1" in text.splitlines()
