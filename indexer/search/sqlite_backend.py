"""The embedded search backend: one SQLite file, no server.

What is stored (``SCHEMA_VERSION``, kept in SQLite's ``user_version``):

- ``profiles``: each served profile as JSON, by ``rid`` (its row id); ``facets``: its
  ``(field, value)`` pairs, alias ids included; ``profiles_text``: its text, in FTS5 (bm25).
- ``ranks``: one narrow row per active profile (only those are searched) holding all a filter or
  a sort reads (verified, rating, review count, the rating factor of the best-match blend) and
  ``tags``: the codes (``facet_codes``) of its facet values as ``' 3 17 42 '``. A facet filter
  is a substring test on the row being read, not a lookup elsewhere.
- ``places``: the same columns once per location, clustered by latitude (profiles with one
  location apart from those with several), with the latitude in radians and its cosine. A
  radius search reads one latitude range of the table and filters it on longitude (the bounding
  box), then measures the exact great-circle (haversine) distance with SQLite's math functions,
  in the very operations of ``indexer.geo.distance_km``.
- ``facet_bits``: per facet value, a bitmap of the rids that carry it, updated by every write.
  A facet count is the popcount of (matches AND bitmap): it costs the same however many facet
  rows the index holds, which a ``GROUP BY`` over the facet rows of the matches does not.

A search computes its matches once, into a temporary table whose generated columns hold the
best-match blend (``best_match_score``, rounded to 32 bits exactly as it does), then reads the
total, the page and the match set (for the facet counts) from it. Free text is two FTS5 queries:
the required words, all of them (a filter), and every word and phrase of the text, any of them,
whose bm25 is the text score, computed only for the matches (a match holding none of the
optional words scores 0). Paging is keyset paging on the sort key plus the profile id, so pages
never repeat or skip a hit.

Writes run in transactions and the database is in WAL mode: a rebuild deletes and refills every
table in one transaction, so a concurrent search sees the old index until the commit and the new
one after it, and a failed rebuild rolls back to the old index. Rows are inserted in batches,
thousands of rows a statement; during a rebuild a thread inserts one batch while the next is
made (SQLite runs a statement without holding Python's GIL). An index file written by an
older tdir is brought up to this storage version in place, once, by the first process to open
it (``_prepare``).
"""

from __future__ import annotations

import json
import logging
import math
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from indexer.geo import EARTH_RADIUS_KM, bounding_box
from indexer.profile import Profile
from indexer.search.backend import BackendError, DamagedIndexError
from indexer.search.document import (
    LAYOUT_VERSION,
    IndexEntry,
    index_entry,
)
from indexer.search.pipeline import FetchedPage, PagedSearch, PageRequest, Row
from indexer.search.query import (
    BEST_MATCH_VARIANCE_M2,
    FACETS,
    SearchPlan,
    SearchQuery,
    SortKey,
    SortOrder,
    best_match_rating_part,
    float32,
)
from indexer.taxonomy import Taxonomy, load_taxonomy
from tdir.sqlite import connect, immediate_transaction

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Version of the file's tables (``PRAGMA user_version``), apart from the document layout
(``LAYOUT_VERSION``): 0 is the first, an R*Tree of points and the facet table, read by every
search; 1 adds ``ranks``, ``places`` and the facet bitmaps, and drops the points."""
MIN_SQLITE = (3, 33, 0)  # generated columns (3.31), UPDATE ... FROM (3.33)

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS profiles (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    rating REAL,
    rating_sort REAL NOT NULL,
    review_count INTEGER NOT NULL,
    license_verified INTEGER NOT NULL,
    active INTEGER NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS facets (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    rid INTEGER NOT NULL,
    PRIMARY KEY (field, value, rid)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS facets_by_profile ON facets (rid)",
    """CREATE VIRTUAL TABLE IF NOT EXISTS profiles_text USING fts5(
    name, practice_name, body, tokenize = 'unicode61 remove_diacritics 2'
)""",
    """CREATE TABLE IF NOT EXISTS facet_codes (
    code INTEGER PRIMARY KEY,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (field, value)
)""",
    "CREATE TABLE IF NOT EXISTS facet_bits (code INTEGER PRIMARY KEY, bits BLOB NOT NULL)",
    """CREATE TABLE IF NOT EXISTS ranks (
    rid INTEGER PRIMARY KEY,
    located INTEGER NOT NULL,
    id TEXT NOT NULL,
    license_verified INTEGER NOT NULL,
    rating REAL,
    rating_sort REAL NOT NULL,
    review_count INTEGER NOT NULL,
    rating_part REAL NOT NULL,
    tags TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS places (
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    rid INTEGER NOT NULL,
    phi REAL NOT NULL,
    cos_phi REAL NOT NULL,
    single INTEGER NOT NULL,
    id TEXT NOT NULL,
    license_verified INTEGER NOT NULL,
    rating REAL,
    rating_sort REAL NOT NULL,
    review_count INTEGER NOT NULL,
    rating_part REAL NOT NULL,
    tags TEXT NOT NULL,
    PRIMARY KEY (single, lat, lon, rid)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS places_by_profile ON places (rid)",
)
_RANK_COLUMNS = "id, license_verified, rating, rating_sort, review_count, rating_part, tags"
_PLACE_COLUMNS = f"lat, lon, rid, phi, cos_phi, single, {_RANK_COLUMNS}"
_DERIVED_TABLES = ("ranks", "places", "facet_codes", "facet_bits")

# bm25 weights per FTS column: a word in the name counts most, as in the Elasticsearch backend.
_BM25 = "bm25(profiles_text, 3.0, 2.0, 1.0)"

# The great-circle distance in km from the search point to a ``places`` row, in the operations of
# ``indexer.geo.distance_km`` (same libm, same order), so both give the very same double.
_DISTANCE = (
    "2 * :earth_km * asin(min(1.0, sqrt(pow(sin((phi - :phi) / 2), 2)"
    " + :cos_phi * cos_phi * pow(sin((lon - :lon) * :deg / 2), 2))))"
)
_MATH: dict[str, tuple[int, Callable[..., float]]] = {
    "sin": (1, math.sin),
    "cos": (1, math.cos),
    "asin": (1, math.asin),
    "sqrt": (1, math.sqrt),
    "pow": (2, math.pow),
    "exp": (1, math.exp),
}


def _sql_float32(value: float | None) -> float | None:
    return None if value is None else float32(value)


def _sql_float(value: float) -> str:
    """An SQL expression of exactly this double: SQLite does not read every decimal literal to
    the nearest double, but integers below 2**53 and divisions by powers of two are exact."""
    mantissa, exponent = math.frexp(value)
    digits, exponent = int(mantissa * 2**53), exponent - 53
    text = f"CAST({digits} AS REAL)"
    while exponent < 0:
        step = min(-exponent, 62)
        text, exponent = f"({text} / {2**step})", exponent + step
    while exponent > 0:
        step = min(exponent, 62)
        text, exponent = f"({text} * {2**step})", exponent - step
    return text


# Rounding a double to the nearest 32-bit float (ties to even) by Veltkamp's splitting: exact
# for every double in the 32-bit normal range; 0 at or below half the least 32-bit subnormal;
# Python (``float32``) in between, which only a blend some 115 miles away ever reaches.
_NORMAL_32 = _sql_float(2.0**-126)
_ZERO_32 = _sql_float(2.0**-150)
_SPLIT = "536870913.0"  # 2**29 + 1: keeps 53 - 29 = 24 significant bits
# The columns every search fills, then sorts and pages on. ``blend`` is ``best_match_score``
# before its rounding, ``neg_blend`` the score itself, negated: every sort key ascends.
_MATCHED = f"""CREATE TEMP TABLE IF NOT EXISTS search_matched (
    rid INTEGER NOT NULL,
    id TEXT NOT NULL,
    dist REAL,
    score REAL,
    rating_part REAL,
    neg_rating REAL NOT NULL,
    neg_reviews INTEGER NOT NULL,
    blend REAL AS (CASE
        WHEN rating_part IS NULL THEN NULL
        WHEN dist IS NULL THEN 0.0
        ELSE exp(0.5 * pow(dist * 1000.0, 2) / {_sql_float(BEST_MATCH_VARIANCE_M2)}) * rating_part
    END) STORED,
    neg_blend REAL AS (CASE
        WHEN blend IS NULL THEN NULL
        WHEN blend >= {_NORMAL_32} THEN -(blend * {_SPLIT} - (blend * {_SPLIT} - blend))
        WHEN blend <= {_ZERO_32} THEN 0.0
        ELSE -float32(blend)
    END) STORED
)"""
_SCORES = "CREATE TEMP TABLE IF NOT EXISTS search_scores (rid INTEGER PRIMARY KEY, bm25 REAL)"
_WORDS = "CREATE TEMP TABLE IF NOT EXISTS search_words (rid INTEGER PRIMARY KEY)"


class SqliteBackend(PagedSearch[str]):
    """Search backend on an SQLite database file (created on first use)."""

    name = "sqlite"

    def __init__(self, path: Path | str, taxonomy: Taxonomy | None = None) -> None:
        self.path = Path(path)
        self.taxonomy = taxonomy or load_taxonomy()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise BackendError(
                f"sqlite: SQLite {'.'.join(map(str, MIN_SQLITE))} or newer is needed, "
                f"this Python has {sqlite3.sqlite_version}"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            self._prepare(conn)
            with immediate_transaction(conn):
                # A new index starts in the current layout; a filled one keeps the layout it was
                # written in (none recorded: the first layout) until a rebuild.
                conn.execute(
                    "INSERT OR IGNORE INTO meta SELECT 'layout_version', ?"
                    " WHERE NOT EXISTS (SELECT 1 FROM profiles)",
                    (LAYOUT_VERSION,),
                )
        except BackendError:
            raise
        except sqlite3.DatabaseError as exc:
            raise DamagedIndexError(
                f"sqlite: the index at {self.path} is damaged ({exc}): "
                "run `tdir index --rebuild` to build it again"
            ) from exc
        except (OSError, sqlite3.Error) as exc:
            raise BackendError(f"sqlite: cannot open index at {self.path}: {exc}") from exc

    # Connections are per thread: sqlite3 connections must not be shared across threads, and
    # the dashboard serves each session from its own thread.
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # check_same_thread=False only so close() can close every thread's connection.
            conn = connect(self.path, check_same_thread=False)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            # The narrow tables a search reads stay in memory between searches.
            conn.execute("PRAGMA cache_size=-65536")
            _add_functions(conn)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the tables of a new index, or bring an older file up to ``SCHEMA_VERSION``."""
        version = _storage_version(conn)
        if version > SCHEMA_VERSION:
            raise BackendError(
                f"sqlite: the index at {self.path} was written by a newer tdir (storage version "
                f"{version}, this one reads {SCHEMA_VERSION}): use that tdir, or rebuild it with "
                "`tdir index --rebuild`"
            )
        if version == SCHEMA_VERSION:
            return  # the usual case, and no write lock taken for it
        older = _has_table(conn, "points")  # else a new file, without any table yet
        try:
            with immediate_transaction(conn):
                if _storage_version(conn) == SCHEMA_VERSION:
                    return  # another process upgraded it while this one waited for the lock
                for statement in _TABLES:
                    conn.execute(statement)
                if older:
                    logger.warning("upgrading the search index at %s (once)", self.path)
                    _upgrade_from_first(conn, self.taxonomy)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.OperationalError as exc:
            if not older:
                raise
            raise BackendError(
                f"sqlite: the index at {self.path} was written by an older tdir and could not be "
                f"upgraded in place ({exc}): open it once where it can be written, or build it "
                "again with `tdir index --rebuild`"
            ) from exc

    @contextmanager
    def _writer(self, *, fresh: bool = False) -> Iterator[_Writer]:
        """A write transaction; ``fresh`` empties the index first."""
        with immediate_transaction(self._conn()) as conn:
            if fresh:
                for table in ("profiles", "facets", "profiles_text", *_DERIVED_TABLES):
                    conn.execute(f"DELETE FROM {table}")
            writer = _Writer(conn, self.taxonomy, fresh=fresh)
            try:
                yield writer
                writer.finish()
            finally:
                writer.close()  # before the transaction ends, whichever way

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Add or replace profiles by id; return how many were written."""
        written = 0
        try:
            with self._writer() as writer:
                for profile in profiles:
                    writer.put(profile)
                    written += 1
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: upsert failed after {written} profiles: {exc}") from exc
        return written

    def delete(self, profile_ids: Iterable[str]) -> int:
        """Remove profiles by id; return how many existed."""
        try:
            with self._writer() as writer:
                return sum(writer.remove(pid) is not None for pid in profile_ids)
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: delete failed: {exc}") from exc

    def rebuild(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Replace every profile in one transaction; the old index serves until it commits."""
        written = 0
        try:
            with self._writer(fresh=True) as writer:
                writer.conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('layout_version', ?)", (LAYOUT_VERSION,)
                )
                for profile in profiles:
                    # A profile listed twice keeps its last version, as an upsert would.
                    writer.put(profile)
                    written += 1
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: rebuild failed, old index kept: {exc}") from exc
        return written

    # -- reads ------------------------------------------------------------------------------

    def get(self, profile_id: str) -> Profile | None:
        """Return the stored profile with this id, or None."""
        row = self._read("SELECT profile FROM profiles WHERE id = ?", (profile_id,)).fetchone()
        if row is None:
            row = self._read(
                "SELECT p.profile FROM facets f JOIN profiles p ON p.rid = f.rid"
                " WHERE f.field = 'alias_id' AND f.value = ? ORDER BY p.id LIMIT 1",
                (profile_id,),
            ).fetchone()
        return Profile.from_dict(json.loads(row[0])) if row else None

    def outdated(self) -> bool:
        """Whether the stored index predates the current document layout."""
        row = self._read("SELECT value FROM meta WHERE key = 'layout_version'", ()).fetchone()
        return row is None or int(row[0]) < LAYOUT_VERSION

    def count(self) -> int:
        """Return how many profiles are stored."""
        count: int = self._read("SELECT COUNT(*) FROM profiles", ()).fetchone()[0]
        return count

    def _fetch(self, request: PageRequest) -> FetchedPage[str]:
        conn = self._conn()
        try:
            # One read transaction, so the page, total and facets come from one snapshot even
            # while a rebuild commits.
            conn.execute("BEGIN")
            found = _Search(conn, request, self._facet_bits(conn)).run()
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise BackendError(f"sqlite: search failed: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return found

    def _profile(self, stored: str) -> Profile:
        return Profile.from_dict(json.loads(stored))

    def _facet_bits(self, conn: sqlite3.Connection) -> _FacetBits:
        """The facet codes and bitmaps of the snapshot being read, kept per connection until a
        write changes them."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'facets_version'").fetchone()
        version = row[0] if row else None
        cached: _FacetBits | None = getattr(self._local, "facets", None)
        if cached is None or cached.version != version:
            cached = _FacetBits.load(conn, version)
            self._local.facets = cached
        return cached

    def _read(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: read failed: {exc}") from exc

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


# -- storage ---------------------------------------------------------------------------------


def _add_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("float32", 1, _sql_float32, deterministic=True)
    try:
        conn.execute("SELECT sin(0), pow(2, 2), exp(0)")
    except sqlite3.OperationalError:
        # An SQLite built without its math functions: Python's, which call the same libm.
        for name, (arity, function) in _MATH.items():
            conn.create_function(name, arity, function, deterministic=True)


def _storage_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None


class _Rank(NamedTuple):
    """What ``ranks`` and ``places`` hold of one active profile (in ``_RANK_COLUMNS`` order)."""

    id: str
    license_verified: int
    rating: float | None
    rating_sort: float
    review_count: int
    rating_part: float
    tags: str


# Each table's columns, in the order the writer gives its rows.
_COLUMNS = {
    "facet_codes": ("code", "field", "value"),
    "profiles": (
        "rid",
        "id",
        "profile",
        "rating",
        "rating_sort",
        "review_count",
        "license_verified",
        "active",
    ),
    "facets": ("field", "value", "rid"),
    "ranks": ("rid", "located", *_RANK_COLUMNS.split(", ")),
    "places": tuple(_PLACE_COLUMNS.split(", ")),
    "profiles_text": ("rowid", "name", "practice_name", "body"),
}
BATCH_PROFILES = 2000  # profiles whose rows are handed over for inserting at once
MAX_VALUES = 32766  # a statement's parameters: SQLite's default limit (3.32 on)


@lru_cache(maxsize=32)
def _insert_sql(table: str, rows: int) -> str:
    """An INSERT of this many rows into a table (a facet pair a profile repeats is kept once)."""
    columns = _COLUMNS[table]
    row = f"({', '.join('?' * len(columns))})"
    verb = "INSERT OR IGNORE" if table == "facets" else "INSERT"
    return f"{verb} INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"


class _Rows:
    """Rows not inserted yet, by table."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}

    def add_search(self, rid: int, rank: _Rank, points: Iterable[tuple[float, float]]) -> None:
        """The ``ranks`` row and the ``places`` rows of one active profile."""
        unique = sorted(set(points))
        self.tables["ranks"].append((rid, int(bool(unique)), *rank))
        single = int(len(unique) == 1)
        for lat, lon in unique:
            phi = math.radians(lat)
            self.tables["places"].append((lat, lon, rid, phi, math.cos(phi), single, *rank))

    def take_whole(self, per_statement: dict[str, int]) -> _Rows:
        """Take the rows that fill whole statements of ``per_statement`` rows; the rest stay."""
        taken = _Rows()
        for table, rows in self.tables.items():
            whole = len(rows) - len(rows) % per_statement[table]
            taken.tables[table] = rows[:whole]
            del rows[:whole]
        return taken

    def insert(self, conn: sqlite3.Connection, per_statement: dict[str, int]) -> None:
        """Insert the rows: ``per_statement`` rows a statement, the few left one by one.

        One statement for thousands of rows, rather than a statement run per row: binding them
        all is one loop in C, and SQLite runs the whole insert without taking Python's GIL back,
        so another thread makes the next rows meanwhile."""
        for table, rows in self.tables.items():
            size = per_statement[table]
            whole = len(rows) - len(rows) % size
            if whole:
                sql = _insert_sql(table, size)
                for start in range(0, whole, size):
                    conn.execute(sql, list(chain.from_iterable(rows[start : start + size])))
            if whole < len(rows):
                conn.executemany(_insert_sql(table, 1), rows[whole:])


class _Inserter:
    """Inserts batches of rows on a thread of its own while the writer makes the next batch.

    While SQLite runs a statement, Python's GIL is free for the thread making rows, so making
    rows (Python) and inserting them (SQLite) each have a core. Only the writer's thread uses
    the connection otherwise, and only once ``drain`` has returned."""

    def __init__(self, conn: sqlite3.Connection, per_statement: dict[str, int]) -> None:
        self.conn = conn
        self.per_statement = per_statement
        self.batches: queue.Queue[_Rows | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="sqlite-inserter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            batch = self.batches.get()
            try:
                if batch is None:
                    return
                # After a failure, or once the writer gave up, batches are only taken off.
                if self.error is None and not self.closing:
                    batch.insert(self.conn, self.per_statement)
            except BaseException as exc:
                self.error = exc
            finally:
                self.batches.task_done()

    def put(self, batch: _Rows) -> None:
        self._raise()
        self.batches.put(batch)

    def drain(self) -> None:
        """Wait until every batch handed over is inserted; raise what inserting one raised."""
        self.batches.join()
        self._raise()

    def close(self) -> None:
        """Stop the thread; batches not inserted yet are dropped (the transaction is ending:
        ``drain`` came first if it is to commit)."""
        self.closing = True
        if self.thread.is_alive():
            self.batches.put(None)
            self.thread.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


def _write_search_rows(
    conn: sqlite3.Connection, rid: int, rank: _Rank, points: Iterable[tuple[float, float]]
) -> None:
    """The ``ranks`` row and the ``places`` rows of one profile."""
    rows = _Rows()
    rows.add_search(rid, rank, points)
    rows.insert(conn, {table: 1 for table in _COLUMNS})


def _tags(codes: Iterable[int]) -> str:
    """``' 3 17 42 '``: every code between spaces, so that ``' 17 '`` finds one."""
    listed = " ".join(map(str, sorted(codes)))
    return f" {listed} " if listed else " "


class _Writer:
    """The bookkeeping of one write transaction: facet codes, which rids gain or lose which
    facet values (applied to the bitmaps once, at the end), and the rows not yet inserted.

    ``fresh``: the transaction emptied the index, so only a profile written twice in it has a
    stored version to replace, and rows are inserted by an ``_Inserter`` while the next are
    made. ``close`` must follow, whatever happened."""

    def __init__(
        self, conn: sqlite3.Connection, taxonomy: Taxonomy, *, fresh: bool = False
    ) -> None:
        self.conn = conn
        self.taxonomy = taxonomy
        self.fresh = fresh
        self.codes = {
            (field, value): code
            for code, field, value in conn.execute("SELECT code, field, value FROM facet_codes")
        }
        self.gained: dict[int, bytearray] = {}
        self.lost: dict[int, bytearray] = {}
        self.rows = _Rows()
        self.pending: set[str] = set()  # profiles whose rows are not all inserted yet
        self.unflushed = 0  # profiles put since the last flush
        self.written: set[str] = set()
        # The rid and the code SQLite would give the next new profile and facet value (one past
        # the largest), given here so that rows can carry them before they are inserted.
        self.next_rid: int = conn.execute(
            "SELECT COALESCE(MAX(rid), 0) + 1 FROM profiles"
        ).fetchone()[0]
        self.next_code: int = max(self.codes.values(), default=0) + 1
        most = min(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), MAX_VALUES)
        self.per_statement = {table: most // len(columns) for table, columns in _COLUMNS.items()}
        self.inserter = _Inserter(conn, self.per_statement) if fresh else None

    def put(self, profile: Profile | IndexEntry) -> None:
        """Write a profile, in place of any stored one with its id (keeping that one's rid, so
        the facet bitmaps stay as short as the index is large)."""
        entry = index_entry(profile, self.taxonomy)
        doc = entry.document
        if doc.id in self.pending:
            self.flush(everything=True)  # the version it replaces is stored before it is removed
        rid = None if self.fresh and doc.id not in self.written else self.remove(doc.id)
        if rid is None:
            rid = self.next_rid
            self.next_rid += 1
        self._insert(entry, rid)

    def remove(self, profile_id: str) -> int | None:
        """Delete a profile by id; return the rid it had, or None."""
        row = self.conn.execute(
            "SELECT p.rid, r.tags FROM profiles p LEFT JOIN ranks r ON r.rid = p.rid"
            " WHERE p.id = ?",
            (profile_id,),
        ).fetchone()
        if row is None:
            return None
        rid: int = row[0]
        tags: str | None = row[1]
        for code in (tags or "").split():
            self._mark(int(code), rid, self.lost, self.gained)
        for table in ("places", "ranks", "facets", "profiles"):
            self.conn.execute(f"DELETE FROM {table} WHERE rid = ?", (rid,))
        self.conn.execute("DELETE FROM profiles_text WHERE rowid = ?", (rid,))
        return rid

    def _insert(self, entry: IndexEntry, rid: int) -> None:
        doc = entry.document
        tables = self.rows.tables
        tables["profiles"].append(
            (
                rid,
                doc.id,
                entry.stored,
                doc.rating,
                doc.rating_sort,
                doc.review_count,
                int(doc.license_verified),
                int(doc.active),
            )
        )
        pairs = [(f, v) for f, values in doc.facet_values().items() for v in values]
        tables["facets"].extend([(f, v, rid) for f, v in pairs])
        if doc.active:  # an inactive profile is kept, but never searched
            rank = _Rank(
                doc.id,
                int(doc.license_verified),
                doc.rating,
                doc.rating_sort,
                doc.review_count,
                best_match_rating_part(doc.rating),
                self.tag(rid, pairs),
            )
            self.rows.add_search(rid, rank, ((p.lat, p.lon) for p in doc.points))
        tables["profiles_text"].append((rid, doc.name, doc.practice_name, doc.body))
        self.pending.add(doc.id)
        self.written.add(doc.id)
        self.unflushed += 1
        if self.unflushed >= BATCH_PROFILES:
            self.flush()

    def flush(self, *, everything: bool = False) -> None:
        """Insert the rows made so far that fill whole statements, or ``everything``; then the
        connection is the writer's again."""
        self.unflushed = 0
        if everything:
            batch, self.rows = self.rows, _Rows()
        else:
            batch = self.rows.take_whole(self.per_statement)
        if self.inserter is None:
            batch.insert(self.conn, self.per_statement)
        else:
            self.inserter.put(batch)
            if everything:
                self.inserter.drain()
        if everything:
            self.pending.clear()

    def close(self) -> None:
        """Stop inserting (after ``finish``, nothing is left to insert)."""
        if self.inserter is not None:
            self.inserter.close()

    def tag(self, rid: int, pairs: Iterable[tuple[str, str]]) -> str:
        """The tags of a profile carrying these facet values; they join its bitmaps."""
        known = self.codes
        codes = {known.get(pair) or self._code(*pair) for pair in pairs if pair[0] != "alias_id"}
        gained, lost = self.gained, self.lost
        for code in codes:  # _mark, inline: this runs for every facet value of every profile
            bits = gained.get(code)
            if bits is None:
                bits = gained[code] = bytearray()
            _set_bit(bits, rid)
            if code in lost:
                _clear_bit(lost[code], rid)
        return _tags(codes)

    def _code(self, field: str, value: str) -> int:
        code = self.codes.get((field, value))
        if code is None:
            code = self.codes[field, value] = self.next_code
            self.next_code += 1
            self.rows.tables["facet_codes"].append((code, field, value))
        return code

    @staticmethod
    def _mark(
        code: int, rid: int, into: dict[int, bytearray], out_of: dict[int, bytearray]
    ) -> None:
        # The last of a transaction's changes to a (value, rid) pair is the one that holds.
        _set_bit(into.setdefault(code, bytearray()), rid)
        if code in out_of:
            _clear_bit(out_of[code], rid)

    def finish(self) -> None:
        """Insert the rows left, apply the changes to the facet bitmaps, and tell readers they
        changed."""
        self.flush(everything=True)
        for code in self.gained.keys() | self.lost.keys():
            row = self.conn.execute("SELECT bits FROM facet_bits WHERE code = ?", (code,))
            stored = row.fetchone()
            bits = int.from_bytes(stored[0], "little") if stored else 0
            bits &= ~_as_int(self.lost.get(code))
            bits |= _as_int(self.gained.get(code))
            if bits:
                self.conn.execute(
                    "INSERT OR REPLACE INTO facet_bits (code, bits) VALUES (?, ?)",
                    (code, bits.to_bytes((bits.bit_length() + 7) // 8, "little")),
                )
            else:
                self.conn.execute("DELETE FROM facet_bits WHERE code = ?", (code,))
        # A new token, not a counter: a file replaced by another never passes for this one.
        self.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('facets_version', ?)", (uuid.uuid4().hex,)
        )


def _set_bit(bits: bytearray, index: int) -> None:
    byte = index >> 3
    if byte >= len(bits):
        bits.extend(bytes(byte + 1 - len(bits) + len(bits) // 2))  # amortised growth
    bits[byte] |= 1 << (index & 7)


def _clear_bit(bits: bytearray, index: int) -> None:
    byte = index >> 3
    if byte < len(bits):
        bits[byte] &= ~(1 << (index & 7)) & 0xFF


def _as_int(bits: bytearray | None) -> int:
    return int.from_bytes(bits, "little") if bits else 0


def _upgrade_from_first(conn: sqlite3.Connection, taxonomy: Taxonomy) -> None:
    """Derive the version 1 tables from what a version 0 file holds, then drop its points."""
    writer = _Writer(conn, taxonomy)
    profiles = conn.execute(
        "SELECT rid, id, license_verified, rating, rating_sort, review_count"
        " FROM profiles WHERE active = 1 ORDER BY rid"
    ).fetchall()
    for rid, pid, verified, rating, rating_sort, reviews in profiles:
        pairs = conn.execute("SELECT field, value FROM facets WHERE rid = ?", (rid,)).fetchall()
        rank = _Rank(
            pid,
            verified,
            rating,
            rating_sort,
            reviews,
            best_match_rating_part(rating),
            writer.tag(rid, pairs),
        )
        points = conn.execute("SELECT lat, lon FROM points WHERE rid = ?", (rid,)).fetchall()
        _write_search_rows(conn, rid, rank, points)
    writer.finish()
    for table in ("points_box", "points"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


# -- searching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FacetBits:
    """The facet codes of one version of the index, and the bitmaps of the counted facets."""

    version: str | None
    codes: dict[tuple[str, str], int]
    counted: list[tuple[str, str, int]]  # (facet, value, bitmap of rids)

    @classmethod
    def load(cls, conn: sqlite3.Connection, version: str | None) -> _FacetBits:
        codes: dict[tuple[str, str], int] = {}
        counted = []
        rows = conn.execute(
            "SELECT c.code, c.field, c.value, b.bits FROM facet_codes c"
            " LEFT JOIN facet_bits b ON b.code = c.code ORDER BY c.code"
        )
        for code, field, value, bits in rows:
            codes[field, value] = code
            if field in FACETS and bits:
                counted.append((field, value, int.from_bytes(bits, "little")))
        return cls(version, codes, counted)

    def count(self, rids: list[int]) -> dict[str, dict[str, int]]:
        """How many of these rids carry each value of each facet."""
        matched = bytearray((max(rids) >> 3) + 1)
        for rid in rids:  # inline: this loop runs once per match
            matched[rid >> 3] |= 1 << (rid & 7)
        mask = int.from_bytes(matched, "little")
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for field, value, bits in self.counted:
            n = (mask & bits).bit_count()
            if n:
                counts[field][value] = n
        return counts


class _Search:
    """One search, inside its read transaction: the matches into ``temp.search_matched``, then
    the total, the page and the facet counts from there."""

    def __init__(self, conn: sqlite3.Connection, request: PageRequest, facets: _FacetBits) -> None:
        self.conn = conn
        self.request = request
        self.query = request.query
        self.plan = request.plan
        self.facets = facets
        self.keys = [_SORT_COLUMNS[key] for key in request.sort_keys]

    def run(self) -> FetchedPage[str]:
        where = _where(self.query, self.plan, self.facets.codes)
        if where is None:  # a filter value no profile carries
            return FetchedPage.empty()
        self.conn.execute(_MATCHED)
        self.conn.execute("DELETE FROM temp.search_matched")
        if self.plan.words:
            self._find_words()
        _fill(self.conn, self.request, *where)
        if self.plan.has_text:
            self._score()
        total, best = self.conn.execute(
            "SELECT COUNT(*), MIN(score) FROM temp.search_matched"
        ).fetchone()
        rows = self._page()
        counts = self.facets.count(self._rids()) if total else {}
        self.conn.execute("DELETE FROM temp.search_matched")
        # FTS5's bm25 is negative, lower is better (0 here: no optional word matched).
        return FetchedPage(rows, total, None if best is None else -best, counts)

    def _find_words(self) -> None:
        """The profiles holding every required word, into ``temp.search_words``, once (the
        statements that fill the matches test it row by row)."""
        self.conn.execute(_WORDS)
        self.conn.execute("DELETE FROM temp.search_words")
        self.conn.execute(
            "INSERT INTO temp.search_words (rid)"
            " SELECT rowid FROM profiles_text WHERE profiles_text MATCH ?",
            (_all_of(self.plan.words),),
        )

    def _score(self) -> None:
        """bm25 of the matches that hold any of the text's words or phrases (0 for the rest).

        FTS5 is not told which rows are wanted (the ``+``): it walks the words' lists, which is
        cheap, and bm25 is computed for the matches alone, which is most of the cost."""
        self.conn.execute(_SCORES)
        self.conn.execute("DELETE FROM temp.search_scores")
        self.conn.execute(
            f"INSERT INTO temp.search_scores (rid, bm25) SELECT rowid, {_BM25} FROM profiles_text"
            " WHERE profiles_text MATCH ? AND +rowid IN (SELECT rid FROM temp.search_matched)",
            (_any_of((*self.plan.words, *self.plan.optional_text)),),
        )
        self.conn.execute(
            "UPDATE temp.search_matched SET score = s.bm25 FROM temp.search_scores s"
            " WHERE s.rid = search_matched.rid"
        )

    def _page(self) -> list[Row[str]]:
        """The page's rows and the next one's first, with their stored profiles."""
        keys = ", ".join(self.keys)
        sql = f"SELECT rid, id, dist, score, {keys} FROM temp.search_matched"
        params: list[Any] = []
        if self.request.after is not None:
            sql += f" WHERE ({keys}) > ({', '.join('?' * len(self.keys))})"
            params += self.request.after
        sql += f" ORDER BY {keys} LIMIT ?"
        params.append(self.request.limit)
        rows = self.conn.execute(sql, params).fetchall()
        stored = dict(
            self.conn.execute(
                f"SELECT rid, profile FROM profiles WHERE rid IN ({', '.join('?' * len(rows))})",
                [row[0] for row in rows],
            )
        )
        return [
            Row(
                id=pid,
                stored=stored[rid],
                sort_values=sort_values,
                distance_km=dist,
                text_score=None if score is None else -score,
            )
            for rid, pid, dist, score, *sort_values in rows
        ]

    def _rids(self) -> list[int]:
        # One string rather than a row per match: much less to hand over from SQLite.
        (joined,) = self.conn.execute(
            "SELECT group_concat(rid) FROM temp.search_matched"
        ).fetchone()
        return [int(rid) for rid in joined.split(",")]


# The column of ``temp.search_matched`` each sort key reads, all ascending (best first).
_SORT_COLUMNS = {
    SortKey.TEXT_SCORE: "score",  # bm25: lower is better
    SortKey.BEST_MATCH: "neg_blend",
    SortKey.RATING: "neg_rating",
    SortKey.REVIEWS: "neg_reviews",
    SortKey.DISTANCE: "dist",
    SortKey.ID: "id",
}


def _where(
    query: SearchQuery, plan: SearchPlan, codes: dict[tuple[str, str], int]
) -> tuple[str, dict[str, Any]] | None:
    """The filters, on the columns ``ranks`` and ``places`` share; None when a required facet
    value is carried by no profile at all (nothing can match)."""
    terms = ["1"]  # only active profiles are in ranks and places
    params: dict[str, Any] = {}

    def tagged(field: str, value: str) -> str | None:
        code = codes.get((field, value))
        if code is None:
            return None
        name = f"tag{len(params)}"
        params[name] = f" {code} "
        return f"instr(tags, :{name}) > 0"

    credential_field = "verified_credential" if query.verified_only else "credential"
    required = [
        *(("modality", m) for m in plan.modalities),
        *(("condition", c) for c in plan.conditions),
        *((credential_field, c) for c in query.credentials),
        *((("state", query.state),) if query.state else ()),
    ]
    for field, value in required:
        term = tagged(field, value)
        if term is None:
            return None
        terms.append(term)
    if query.flagged:
        any_of = [t for t in (tagged("flag", kind) for kind in query.flagged) if t]
        if not any_of:
            return None
        terms.append(f"({' OR '.join(any_of)})")
    if query.verified_only:
        terms.append("license_verified = 1")
    if query.min_rating is not None:
        terms.append("rating >= :min_rating")
        params["min_rating"] = query.min_rating
    if query.min_reviews is not None:
        terms.append("review_count >= :min_reviews")
        params["min_reviews"] = query.min_reviews
    return " AND ".join(terms), params


_INSERT_MATCHED = (
    "INSERT INTO temp.search_matched (rid, id, dist, score, rating_part, neg_rating, neg_reviews)"
)


def _fill(
    conn: sqlite3.Connection, request: PageRequest, where: str, params: dict[str, Any]
) -> None:
    """Insert every match into ``temp.search_matched``."""
    query, plan = request.query, request.plan
    best_match = "rating_part" if request.query.ranked_by_best_match else "NULL"
    values = (
        f"rid, id, {{dist}}, {'0.0' if plan.has_text else 'NULL'},"
        f" {best_match}, -rating_sort, -review_count"
    )
    # The box leads, even where the required words are rarer than its locations: a box is a
    # range of the table, a word's profiles as many lookups in it (the "+" keeps it so).
    words = " AND {}rid IN temp.search_words" if plan.words else ""
    unplaced = f"{_INSERT_MATCHED} SELECT {values.format(dist='NULL')} FROM ranks WHERE {where}"
    if query.point is None:
        conn.execute(unplaced + words.format(""), params)
        return
    geo = {**params, **_distance_params(query)}
    box = _box(query, geo)
    near = f"{box} AND {where}{words.format('+' if box else '')}"
    # A location's profile is a match once; the rows of a profile with several are grouped,
    # those of the many with one are not (grouping is a sort).
    one, nearest = values.format(dist=_DISTANCE), values.format(dist=f"MIN({_DISTANCE})")
    conn.execute(f"{_INSERT_MATCHED} SELECT {one} FROM places WHERE single = 1{near}", geo)
    conn.execute(
        f"{_INSERT_MATCHED} SELECT {nearest} FROM places WHERE single = 0{near} GROUP BY rid", geo
    )
    if query.radius_km is not None:
        # The box's corners hold locations beyond the radius.
        conn.execute("DELETE FROM temp.search_matched WHERE dist > ?", (query.radius_km,))
    elif query.sort is not SortOrder.DISTANCE:
        # A profile without a location has no place in a list ordered by distance, only here.
        conn.execute(f"{unplaced} AND located = 0{words.format('')}", params)


def _distance_params(query: SearchQuery) -> dict[str, float]:
    """What ``_DISTANCE`` needs of the search point."""
    assert query.point is not None
    phi = math.radians(query.point.lat)
    return {
        "earth_km": EARTH_RADIUS_KM,
        "phi": phi,
        "cos_phi": math.cos(phi),
        "lon": query.point.lon,
        "deg": math.pi / 180.0,
    }


def _box(query: SearchQuery, params: dict[str, Any]) -> str:
    """The bounding box of the radius, as SQL on ``places`` (empty without a radius)."""
    point = query.point
    if point is None or query.radius_km is None:
        return ""
    box = bounding_box(point, query.radius_km)
    params.update(min_lat=box.min_lat, max_lat=box.max_lat)
    ranges = []
    for n, (low, high) in enumerate(box.lon_ranges()):
        params[f"lon_low{n}"], params[f"lon_high{n}"] = low, high
        ranges.append(f"lon BETWEEN :lon_low{n} AND :lon_high{n}")
    return f" AND lat BETWEEN :min_lat AND :max_lat AND ({' OR '.join(ranges)})"


def _quoted(text: str) -> str:
    """One FTS5 string (a word or a phrase): the user's text is never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _all_of(words: tuple[str, ...]) -> str:
    return " ".join(_quoted(w) for w in words)


def _any_of(texts: tuple[str, ...]) -> str:
    return " OR ".join(_quoted(t) for t in dict.fromkeys(texts))
