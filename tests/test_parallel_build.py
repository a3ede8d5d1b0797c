"""A build mapped over worker processes gives exactly what a build in one process gives."""

from __future__ import annotations

import os
from multiprocessing import get_context
from pathlib import Path

import pytest

from crawler.items import CredentialRecord, Provenance, stable_id
from crawler.runs import CrawlStore
from indexer import build as index_build
from indexer import parallel
from indexer.build import build_profiles
from indexer.parallel import build_workers, parallel_map
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
    # its 60 listings in 3; the board's issuer records in one.
    monkeypatch.setattr(index_build, "REVIEW_BATCH", 7)
    monkeypatch.setattr(index_build, "LISTING_BATCH", 25)
    shared = _content(store)
    assert len(pools) == 2 * (9 + 3) + 1, "each source's review and listing batches, its records"
    assert shared == alone
    assert len(alone["profiles"]) > 50


def test_answers_come_back_in_the_items_order() -> None:
    items = list(range(5000, 0, -1))
    assert list(parallel_map(_square_pid, items, workers=2, parallel_from=1)) == [
        (n * n, True) for n in items
    ]


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
