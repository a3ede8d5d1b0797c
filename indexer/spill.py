"""What a build reads once and needs again one therapist at a time, kept on disk in between.

A build must read every source's listings and reviews before it can tell which listings are one
therapist, and then needs them again, one therapist at a time, to assemble profiles. Held in
memory in between, they were most of a large build's footprint (16 KB a listing: 5.5 GB at
100,000 therapists). So each listing's facts and each review's facts go, pickled, into a
temporary SQLite file as they are read, and come back by listing id when their therapist's
profile is built; the build holds in memory only what resolution compares of each listing and
the issuers' records.

The file keeps the orders a build's output depends on: reviews in the order their source's
records first named them (a later version of a review replaces it in place, as a snapshot's
``reviews`` would), and a reference naming two listings of one source leads to the one read
first.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from indexer.profiles import ListingFacts
from indexer.ratings import ReviewFact

_SCHEMA = """
CREATE TABLE listings (id TEXT PRIMARY KEY, fact BLOB NOT NULL);
-- (source, reference) -> the first listing read with that reference: its own, or its page's.
CREATE TABLE refs (source TEXT, ref TEXT, listing_id TEXT, PRIMARY KEY (source, ref))
    WITHOUT ROWID;
CREATE TABLE reviews (
    seq INTEGER PRIMARY KEY,
    snapshot TEXT NOT NULL,        -- the source whose records hold it (ids are unique there)
    id TEXT NOT NULL,
    source TEXT NOT NULL,          -- the source it says it is from: its listing's
    ref TEXT, ref_page TEXT, url_page TEXT,  -- what names its listing, tried in this order
    expired INTEGER NOT NULL,      -- past its source's storage terms
    listing_id TEXT,
    fact BLOB NOT NULL,
    UNIQUE (snapshot, id)
);
"""
# Plenty of rows per statement, few statements: SQLite caps a statement's variables at 32,766.
_BATCH = 900


def page_of(url: str) -> str:
    """A URL without its query, fragment and trailing slash: the page a reference points into."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


ReviewRow = tuple[str, str, str, str, str, str, bool, bytes]


class SpillError(RuntimeError):
    """The build's temporary file could not be written or read (a full disk, most often)."""


def review_row(
    snapshot: str, fact: ReviewFact, listing_ref: str, page_url: str, *, expired: bool
) -> ReviewRow:
    """How a review is kept: found in ``snapshot``'s records, about the listing ``listing_ref``
    names, shown on ``page_url``, and whether it is past its source's terms."""
    return (
        snapshot,
        fact.id,
        fact.source,
        listing_ref,
        page_of(listing_ref),
        page_of(page_url),
        expired,
        pickle.dumps(fact, pickle.HIGHEST_PROTOCOL),
    )


class BuildSpill:
    """A build's listings and reviews on disk, read back per therapist.

    Lives in ``directory`` (a build's temporary directory); nothing in it outlives the build,
    so it is written without a journal or syncs.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / "spill.sqlite3"
        self.pid = os.getpid()
        self.sealed = False
        self._worker_conn: sqlite3.Connection | None = None
        with self._reporting():
            self.conn = sqlite3.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536"):
                self.conn.execute(f"PRAGMA {pragma}")
            self.conn.executescript(_SCHEMA)
            self.conn.execute("BEGIN")

    def seal(self) -> None:
        """Commit what was written: from now on the file is only read, and processes forked
        from this one (:mod:`indexer.parallel`) can read it too."""
        with self._reporting():
            self.conn.execute("COMMIT")
        self.sealed = True

    def _connection(self) -> sqlite3.Connection:
        """This process's connection: a forked worker opens its own, read-only (a connection
        is never used across a fork)."""
        if os.getpid() == self.pid:
            return self.conn
        if self._worker_conn is None:
            assert self.sealed, "a worker reads the file only once it is sealed"
            with self._reporting():
                self._worker_conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
                self._worker_conn.execute("PRAGMA cache_size = -16384")
        return self._worker_conn

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """SQLite's errors as a SpillError naming the file and what sets where it goes."""
        try:
            yield
        except sqlite3.Error as exc:
            raise SpillError(
                f"the index build's temporary file {self.path} failed: {exc} "
                "(TMPDIR sets where it goes; it needs about 6 KB a listing)"
            ) from exc

    def _execute(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows a statement gives, or for one that changes rows, ``[(how many,)]``."""
        with self._reporting():
            cursor = self._connection().execute(sql, parameters)
            return cursor.fetchall() if cursor.description else [(cursor.rowcount,)]

    def _executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._reporting():
            self.conn.executemany(sql, rows)

    def close(self) -> None:
        """Close the file (its directory goes with the build)."""
        self.conn.close()

    # -- writing, as records are read ------------------------------------------------------

    def put_listings(self, rows: Iterable[tuple[str, str, str, str, bytes]]) -> None:
        """Keep listings, in the order they are read: each its id, source, reference, URL
        and pickled :class:`~indexer.profiles.ListingFacts`."""
        refs: list[tuple[str, str, str]] = []
        facts: list[tuple[str, bytes]] = []
        for listing_id, source, source_ref, url, blob in rows:
            facts.append((listing_id, blob))
            for ref in (source_ref, url):
                refs.append((source, ref, listing_id))
                refs.append((source, page_of(ref), listing_id))
        self._executemany("INSERT OR REPLACE INTO listings VALUES (?, ?)", facts)
        self._executemany("INSERT OR IGNORE INTO refs VALUES (?, ?, ?)", refs)

    def put_reviews(self, rows: Iterable[ReviewRow]) -> None:
        """Keep reviews (:func:`review_row`), in the order read; a later version of one already
        kept replaces it in place."""
        self._executemany(
            "INSERT INTO reviews (snapshot, id, source, ref, ref_page, url_page, expired, fact)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (snapshot, id) DO UPDATE SET"
            " source = excluded.source, ref = excluded.ref, ref_page = excluded.ref_page,"
            " url_page = excluded.url_page, expired = excluded.expired, fact = excluded.fact",
            rows,
        )

    def withdraw_expired_reviews(self, snapshot: str) -> int:
        """Drop a source's reviews past its terms (as last read); return how many went."""
        [(withdrawn,)] = self._execute(
            "DELETE FROM reviews WHERE snapshot = ? AND expired", (snapshot,)
        )
        return int(withdrawn)

    def attach_reviews(self) -> int:
        """Give each review the listing it is about: by its listing's reference, else that
        reference's page, else its own page's. Return how many found none (their listing was
        not crawled)."""
        for column in ("ref", "ref_page", "url_page"):
            self._execute(
                f"UPDATE reviews SET listing_id = (SELECT listing_id FROM refs"
                f" WHERE refs.source = reviews.source AND refs.ref = reviews.{column})"
                f" WHERE listing_id IS NULL AND {column} IS NOT NULL"
            )
        self._execute("CREATE INDEX reviews_by_listing ON reviews (listing_id, seq)")
        self._execute("DROP TABLE refs")
        [(orphans,)] = self._execute("SELECT count(*) FROM reviews WHERE listing_id IS NULL")
        return int(orphans)

    # -- reading, per therapist ------------------------------------------------------------

    def listings(self, listing_ids: Sequence[str]) -> list[ListingFacts]:
        """The facts of these listings, in the order given."""
        found: dict[str, ListingFacts] = {}
        for batch in _batches(listing_ids):
            marks = ",".join("?" * len(batch))
            for listing_id, blob in self._execute(
                f"SELECT id, fact FROM listings WHERE id IN ({marks})",
                batch,
            ):
                found[listing_id] = pickle.loads(blob)
        return [found[i] for i in listing_ids]

    def reviews(self, listing_ids: Sequence[str]) -> list[ReviewFact]:
        """The reviews of these listings: listing by listing in the order given, each
        listing's in the order its source named them."""
        found: dict[str, list[ReviewFact]] = defaultdict(list)
        for batch in _batches(listing_ids):
            marks = ",".join("?" * len(batch))
            for listing_id, blob in self._execute(
                f"SELECT listing_id, fact FROM reviews WHERE listing_id IN ({marks}) ORDER BY seq",
                batch,
            ):
                found[listing_id].append(pickle.loads(blob))
        return [review for i in listing_ids for review in found.get(i, ())]


def _batches(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]
