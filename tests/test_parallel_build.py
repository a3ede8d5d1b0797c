"""A build mapped over worker processes gives exactly what a build in one process gives."""

from __future__ import annotations

import multiprocessing
import os
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from crawler.items import CredentialRecord, Provenance, stable_id
from crawler.runs import CrawlStore
from indexer import build as index_build
from indexer import parallel
from indexer.build import build_profiles
from indexer.parallel import build_workers, forked_map, parallel_map
from indexer.search.document import stored_form
from tests.test_index_build import listing, review, write_run

NAMES = ["Jane A. Doe, LMT", "Doe, Jane", "BOB SMITH", "Dr. Ana de la Cruz", "Li Wei NMT"]
STREETS = ["1200 S Congress Ave Suite 200", "9 Oak St", "400 W 2nd St #5", "77 Elm Rd"]


def _store(root: Path) -> CrawlStore:
    store = CrawlStore(root)
    for source in ("atlas", "guild"):
        records: list[object] = []
        for n in range(60):
            ref = f"http://{source}/t/{n}"
            name = NAMES[n % len(NAMES)].replace("Doe", f"Doe{n}")
            records.append(
                listing(source, ref, name, f"(512) 555-{n:04d}", STREETS[n % len(STREETS)])
            )
            records.extend(review(source, ref, k, f"{1 + (n + k) % 5}/5") for k in range(n % 3))
        write_run(store, source, "20250901T000000Z", records, "finished")
    board = [
        CredentialRecord(
            id=stable_id("board-tx", f"MT{n}"),
            provenance=Provenance(
                "board-tx", f"http://board/{n}", "2025-09-01T00:00:00+00:00", "h"
            ),
            issuer_kind="state_board",
            issuer="Texas Department of Licensing and Regulation",
            name_raw=f"DOE{n}, JANE",
            number=f"MT{n:06d}",
            state="TX",
            credential_raw="Massage Therapist",
            status_raw="Active",
            expires_raw="12/31/2027",
        )
        for n in range(30)
    ]
    write_run(store, "board-tx", "20250901T000000Z", board, "finished")
    return store


def _content(store: CrawlStore) -> dict[str, object]:
    build = build_profiles(store)
    return {
        "profiles": {pid: stored_form(p) for pid, p in build.profiles.items()},
        "listings": build.listing_to_profile,
        "summary": build.summary,
    }


def test_a_build_over_worker_processes_equals_one_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path)
    monkeypatch.setenv("TDIR_BUILD_WORKERS", "1")
    alone = _content(store)
    monkeypatch.setenv("TDIR_BUILD_WORKERS", "2")
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    pools: list[str] = []

    def context(method: str) -> object:
        pools.append(method)
        return get_context(method)

    monkeypatch.setattr(parallel, "get_context", context)
    # Reviews and listings are mapped a batch at a time: a source's 60 reviews in 9 batches,
    # its 60 listings in 3; the board's issuer records in one; the profiles in one more.
    monkeypatch.setattr(index_build, "REVIEW_BATCH", 7)
    monkeypatch.setattr(index_build, "LISTING_BATCH", 25)
    shared = _content(store)
    assert len(pools) == 2 * (9 + 3) + 1 + 1, "each source's batches, the records, the profiles"
    assert shared == alone
    assert len(alone["profiles"]) > 50


def test_answers_come_back_in_the_items_order() -> None:
    items = list(range(5000, 0, -1))
    assert list(parallel_map(_square_pid, items, workers=2, parallel_from=1)) == [
        (n * n, True) for n in items
    ]


def test_items_sent_with_their_chunks_come_back_in_order_too() -> None:
    items = [(n, str(n) * (n % 7)) for n in range(3000, 0, -1)]
    with forked_map(_sized, items, workers=2, parallel_from=1, send_items=True) as answers:
        assert list(answers) == [(n, len(text), True) for n, text in items]


def _sized(item: tuple[int, str]) -> tuple[int, int, bool]:
    return item[0], len(item[1]), os.getpid() != PARENT


def test_workers_are_forked_on_entry_and_gone_on_exit() -> None:
    items = list(range(3000))
    with forked_map(_square_pid, items, workers=2, parallel_from=1) as answers:
        # Forked before any answer is asked for: a caller may start threads now.
        assert len(multiprocessing.active_children()) == 2
        taken = [next(answers) for _ in range(10)]  # and the rest left untaken
    assert taken == [(n * n, True) for n in range(10)]
    assert multiprocessing.active_children() == []


def test_answers_not_taken_stay_a_few_chunks_ahead() -> None:
    started = multiprocessing.get_context("fork").Value("i", 0)
    items = list(range(40 * parallel.CHUNK))
    workers = 2
    with forked_map(partial(_counted, started=started), items, workers=workers) as answers:
        for taken, answer in enumerate(answers, start=1):
            assert answer == (taken - 1) * 3
            # Every item started belongs to a chunk whose answer was taken or to one of the
            # AHEAD chunks per worker submitted beyond them; none further.
            chunks_taken = -(-taken // parallel.CHUNK)
            assert started.value <= (chunks_taken + parallel.AHEAD * workers) * parallel.CHUNK


def _counted(n: int, started: Any) -> int:
    with started.get_lock():
        started.value += 1
    return n * 3


def test_a_failing_task_is_raised_here_and_stops_the_workers() -> None:
    with pytest.raises(ValueError, match="item 2100 is bad"):
        list(parallel_map(_fails_at_2100, list(range(5000)), workers=2, parallel_from=1))
    assert multiprocessing.active_children() == []


def _fails_at_2100(n: int) -> int:
    if n == 2100:
        raise ValueError(f"item {n} is bad")
    return n


def _square_pid(n: int) -> tuple[int, bool]:
    return n * n, os.getpid() != PARENT


PARENT = os.getpid()


def test_the_worker_count_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDIR_BUILD_WORKERS", "two")
    with pytest.raises(ValueError, match="TDIR_BUILD_WORKERS must be a whole number"):
        build_workers()
    monkeypatch.setenv("TDIR_BUILD_WORKERS", "0")
    with pytest.raises(ValueError, match="at least 1"):
        build_workers()
    monkeypatch.setenv("TDIR_BUILD_WORKERS", "3")
    assert build_workers() == 3
