"""A build streams: facts wait on disk, profiles are assembled as the writer takes them, and a
write cut short leaves the index as it was."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.runs import CrawlStore
from indexer import build as index_build
from indexer.build import (
    BuiltProfile,
    IndexState,
    build_profiles,
    profile_hash,
    streamed_build,
    write_index,
)
from indexer.ratings import ReviewFact
from indexer.search import SearchQuery
from indexer.search.document import stored_form, to_search_document
from indexer.search.sqlite_backend import SqliteBackend
from indexer.spill import BuildSpill, SpillError, review_row
from indexer.taxonomy import load_taxonomy
from tests.test_index_build import listing, review, write_run

# -- the spill --------------------------------------------------------------------------------


def _fact(review_id: str, source: str = "atlas", body: str = "") -> ReviewFact:
    return ReviewFact(review_id, source, "http://x", None, 5.0, date(2025, 1, 1), body)


@pytest.fixture
def spill(tmp_path: Path) -> Iterator[BuildSpill]:
    kept = BuildSpill(tmp_path)
    yield kept
    kept.close()


def _listing_row(listing_id: str, ref: str, source: str = "atlas") -> tuple[Any, ...]:
    return (listing_id, source, ref, ref + "?from=search", pickle.dumps(listing_id))


def test_a_review_read_again_is_replaced_where_it_was_first_read(spill: BuildSpill) -> None:
    spill.put_listings([_listing_row("L1", "http://atlas/t/1")])
    rows = [
        review_row(
            "atlas", _fact(rid, body=body), "http://atlas/t/1", "http://atlas/t/1", expired=False
        )
        for rid, body in (("r1", "first"), ("r2", "second"), ("r1", "first, edited"))
    ]
    spill.put_reviews(rows)
    assert spill.attach_reviews() == 0
    assert [(r.id, r.body) for r in spill.reviews(["L1"])] == [
        ("r1", "first, edited"),
        ("r2", "second"),
    ]


def test_a_reference_leads_to_the_listing_read_first_and_pages_are_tried_in_order(
    spill: BuildSpill,
) -> None:
    spill.put_listings(
        [_listing_row("L1", "http://atlas/t/1"), _listing_row("L2", "http://atlas/t/2/")]
    )
    spill.put_listings([_listing_row("L3", "http://atlas/t/1")])  # the same reference, read later
    spill.put_reviews(
        [
            review_row("atlas", _fact("a"), "http://atlas/t/1", "http://elsewhere", expired=False),
            # Its reference is the page with a query; the page itself names L2 (slash dropped).
            review_row("atlas", _fact("b"), "http://atlas/t/2?page=3", "http://x", expired=False),
            # No reference matches; the page it was seen on does.
            review_row(
                "atlas", _fact("c"), "http://nowhere", "http://atlas/t/2#reviews", expired=False
            ),
            # The same reference, but the review says it is another source's: no listing there.
            review_row(
                "guild", _fact("d", source="guild"), "http://atlas/t/1", "http://x", expired=False
            ),
        ]
    )
    assert spill.attach_reviews() == 1
    assert [r.id for r in spill.reviews(["L1"])] == ["a"]
    assert [r.id for r in spill.reviews(["L2"])] == ["b", "c"]
    assert spill.reviews(["L3"]) == []


def test_reviews_past_their_terms_go_as_last_read(spill: BuildSpill) -> None:
    spill.put_reviews(
        [
            review_row("yelp", _fact("old"), "http://y/1", "http://y/1", expired=True),
            review_row("yelp", _fact("fresh"), "http://y/1", "http://y/1", expired=True),
            review_row("yelp", _fact("fresh"), "http://y/1", "http://y/1", expired=False),
            review_row("atlas", _fact("old"), "http://y/1", "http://y/1", expired=True),
        ]
    )
    assert spill.withdraw_expired_reviews("yelp") == 1  # "fresh" was fetched again in time
    assert spill.withdraw_expired_reviews("yelp") == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["s1", "s2"]), st.integers(0, 12), st.integers(0, 4)),
        max_size=60,
    )
)
def test_reviews_come_back_as_a_snapshot_would_hold_them(
    tmp_path_factory: pytest.TempPathFactory, reads: list[tuple[str, int, int]]
) -> None:
    """Any sequence of reviews read (ids repeating, listings changing): each listing's reviews
    are those a dict keyed by (snapshot, id) ends with, in the dict's order."""
    spill = BuildSpill(tmp_path_factory.mktemp("spill"))
    listings = [f"L{n}" for n in range(5)]
    spill.put_listings(_listing_row(lid, f"http://s/{lid}", source="s") for lid in listings)
    model: dict[tuple[str, str], str] = {}
    rows = []
    for snapshot, n, about in reads:
        review_id = f"r{n}"
        model[(snapshot, review_id)] = listings[about]
        rows.append(
            review_row(
                snapshot, _fact(review_id, "s"), f"http://s/{listings[about]}", "", expired=False
            )
        )
    spill.put_reviews(rows)
    assert spill.attach_reviews() == 0
    for lid in listings:
        expected = [rid for (_, rid), about in model.items() if about == lid]
        assert [r.id for r in spill.reviews([lid])] == expected
    shuffled = listings[::-1]
    assert [r.id for r in spill.reviews(shuffled)] == [
        rid for lid in shuffled for (_, rid), about in model.items() if about == lid
    ]
    spill.close()


# -- the build --------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> CrawlStore:
    store = CrawlStore(tmp_path / "crawl")
    records: list[object] = []
    for n in range(30):
        ref = f"http://atlas/t/{n}"
        records.append(listing("atlas", ref, f"Jane Doe{n}", f"(512) 555-{n:04d}", f"{n} Oak St"))
        records.append(review("atlas", ref, 1, f"{1 + n % 5}/5"))
    write_run(store, "atlas", "20250901T000000Z", records, "finished")
    run = store.read_record("atlas", "20250901T000000Z")
    store.write_record(replace(run, items={"listing": 30, "review": 30}))
    return store


def test_profiles_are_assembled_as_they_are_taken(
    store: CrawlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assembled: list[str] = []
    real = index_build.build_profile

    def counted(cluster: Any, *args: Any) -> Any:
        assembled.append(cluster.listing_ids[0])
        return real(cluster, *args)

    monkeypatch.setattr(index_build, "build_profile", counted)
    with streamed_build(store) as stream:
        assert len(stream) == 30 and assembled == []
        profiles = iter(stream)
        first = next(profiles)
        assert len(assembled) == 1 and first.entry.profile().rating.review_count == 1
        rest = list(profiles)
    assert len(assembled) == 30 and len(rest) == 29
    assert stream.summary.profiles == 30 and stream.summary.reviews == 30


def test_the_stream_builds_what_the_collected_build_does(store: CrawlStore) -> None:
    collected = build_profiles(store)
    with streamed_build(store) as stream:
        streamed = {b.id: stored_form(b.entry.profile()) for b in stream}
    assert streamed == {pid: stored_form(p) for pid, p in collected.profiles.items()}
    assert stream.listing_to_profile == collected.listing_to_profile
    assert stream.summary == collected.summary


def test_what_the_workers_make_is_what_the_writer_would_make_of_the_profile(
    store: CrawlStore,
) -> None:
    """A built profile's document, stored JSON, hash and counted facts, made on a worker, are
    those of the profile it stores."""
    taxonomy = load_taxonomy()
    with streamed_build(store) as stream:
        built = list(stream)
    assert len(built) == 30
    for one in built:
        profile = one.entry.profile()
        assert one == BuiltProfile.of(profile, taxonomy, corrected=one.corrected)
        assert one.content_hash == profile_hash(profile)
        assert one.entry.document == to_search_document(profile, taxonomy)


def test_an_index_written_from_the_stream_is_the_one_written_from_the_profiles(
    store: CrawlStore, tmp_path: Path
) -> None:
    collected = build_profiles(store)
    streamed = SqliteBackend(tmp_path / "streamed.sqlite3")
    direct = SqliteBackend(tmp_path / "direct.sqlite3")
    with streamed_build(store) as stream:
        write_index(streamed, stream, IndexState(tmp_path / "s.json"), rebuild=True)
    write_index(direct, collected.profiles.values(), IndexState(tmp_path / "d.json"), rebuild=True)
    query = SearchQuery(page_size=50)
    assert streamed.search(query).ids == direct.search(query).ids
    assert streamed.search(query).facets == direct.search(query).facets
    for pid in collected.profiles:
        assert streamed.get(pid) == direct.get(pid) == collected.profiles[pid]
    assert (tmp_path / "s.json").read_text() == (tmp_path / "d.json").read_text()
    streamed.close()
    direct.close()


@pytest.mark.parametrize("rebuild", [True, False])
def test_a_write_cut_short_leaves_the_index_and_its_state_as_they_were(
    store: CrawlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuild: bool
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    state_path = tmp_path / "state.json"
    with streamed_build(store) as stream:
        write_index(backend, stream, IndexState(state_path), rebuild=True)
    before = {p: backend.get(p) for p in backend.search(SearchQuery(page_size=50)).ids}
    saved = state_path.read_text()
    # A recrawl changes every rating; the next build fails on its 11th therapist.
    records: list[object] = []
    for n in range(30):
        ref = f"http://atlas/t/{n}"
        records.append(listing("atlas", ref, f"Jane Doe{n}", f"(512) 555-{n:04d}", f"{n} Oak St"))
        records.append(review("atlas", ref, 2, "1/5"))
    write_run(store, "atlas", "20250902T000000Z", records, "finished")
    real = index_build.build_profile
    assembled: list[str] = []

    def failing(cluster: Any, *args: Any) -> Any:
        assembled.append(cluster.listing_ids[0])
        if len(assembled) == 11:
            raise RuntimeError("a fault in the 11th profile")
        return real(cluster, *args)

    monkeypatch.setattr(index_build, "build_profile", failing)
    with pytest.raises(RuntimeError, match="11th"), streamed_build(store) as stream:
        write_index(backend, stream, IndexState(state_path), rebuild=rebuild)
    assert {p: backend.get(p) for p in backend.search(SearchQuery(page_size=50)).ids} == before
    assert state_path.read_text() == saved
    monkeypatch.setattr(index_build, "build_profile", real)
    with streamed_build(store) as stream:
        stats = write_index(backend, stream, IndexState(state_path), rebuild=rebuild)
    assert stats.written == 30
    assert {backend.get(p).rating.distribution.get("1") for p in before} == {1}
    backend.close()


def test_the_spill_goes_with_the_build(
    store: CrawlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spills = tmp_path / "spills"
    spills.mkdir()
    monkeypatch.setenv("TMPDIR", str(spills))
    monkeypatch.setattr(index_build.tempfile, "tempdir", None)  # read TMPDIR again
    with streamed_build(store) as stream:
        assert [p.name for p in spills.iterdir() if p.name.startswith("tdir-build-")]
        next(iter(stream))
    assert not list(spills.iterdir())


def test_long_reads_show_progress_with_their_expected_counts(store: CrawlStore) -> None:
    shown: list[tuple[str, int, int]] = []

    def progress(items: Any, label: str, total: int) -> Iterator[Any]:
        count = 0
        for item in items:
            count += 1
            yield item
        shown.append((label, total, count))

    with streamed_build(store, progress=progress) as stream:
        list(stream)
    # The run's record counts what it wrote; the progress goes through every line of it.
    assert ("reading atlas", 60, 60) in shown
    assert ("normalising atlas", 30, 30) in shown


@pytest.mark.system
def test_a_build_stopped_by_sigterm_leaves_the_index_and_no_files(tmp_path: Path) -> None:
    """``tdir index`` stopped mid-build (a service manager's SIGTERM): exit 130, the index as
    the last complete build left it, and the build's files on disk removed."""
    home, spills = tmp_path / "home", tmp_path / "spills"
    spills.mkdir()
    store = CrawlStore(home)
    few = [
        listing("atlas", f"http://atlas/t/{n}", f"Jane Doe{n}", "", f"{n} Oak St") for n in range(3)
    ]
    write_run(store, "atlas", "20250901T000000Z", few, "finished")
    env = {**os.environ, "TDIR_HOME": str(home), "TMPDIR": str(spills)}
    env.pop("TDIR_ES_URL", None)
    command = [sys.executable, "-m", "tdir.cli", "index"]
    assert subprocess.run(command, env=env, capture_output=True, timeout=300).returncode == 0
    index = SqliteBackend(home / "index.sqlite3")
    before = index.count()
    states = {f: f.read_bytes() for f in home.glob("index-state/**/*") if f.is_file()}
    assert states, "the first build saved what it wrote"
    index.close()
    many = [
        listing(
            "guild",
            f"http://guild/m/{n}",
            f"Ana Cruz{n}",
            f"(512) 555-{n % 10000:04d}",
            f"{n} Elm St",
        )
        for n in range(6000)
    ]
    write_run(store, "guild", "20250902T000000Z", many, "finished")
    build = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Stopped once its files are on disk, that is, while it is building.
    while build.poll() is None and not list(spills.glob("tdir-build-*/spill.sqlite3")):
        time.sleep(0.05)
    assert build.poll() is None, "the build ended before it could be stopped"
    build.send_signal(signal.SIGTERM)
    _, stderr = build.communicate(timeout=300)
    assert build.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr
    assert list(spills.iterdir()) == []
    index = SqliteBackend(home / "index.sqlite3")
    assert index.count() == before >= 1
    index.close()
    assert {f: f.read_bytes() for f in home.glob("index-state/**/*") if f.is_file()} == states


def test_a_full_disk_under_the_build_is_named_with_what_sets_its_place(tmp_path: Path) -> None:
    spill = BuildSpill(tmp_path)
    spill.conn.execute("PRAGMA max_page_count = 8")  # a disk that fills at once
    with pytest.raises(
        SpillError, match=r"spill\.sqlite3 failed: database or disk is full.*TMPDIR"
    ):
        spill.put_listings([_listing_row(f"L{n}", f"http://atlas/t/{n}" * 40) for n in range(500)])
    spill.close()
