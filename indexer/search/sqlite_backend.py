"""The embedded search backend: one SQLite file, no server.

Text search uses FTS5 (bm25), geo search an R*Tree bounding-box prefilter followed by the exact
great-circle distance, facets a ``(field, value, profile)`` table. Paging is keyset paging on the
sort key plus the profile id, so pages never repeat or skip a hit.

Free text is two FTS5 queries: the required words, all of them (a filter), and every word and
phrase of the text, any of them, whose bm25 is the text score (a profile matching none of the
optional words scores 0). The best-match blend near a place is ``best_match_score`` from the
query model, registered as an SQL function, so it is the very formula the Elasticsearch backend
asks its server for.

Writes run in transactions and the database is in WAL mode: a rebuild deletes and refills every
table in one transaction, so a concurrent search sees the old index until the commit and the new
one after it, and a failed rebuild rolls back to the old index.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from indexer.geo import bounding_box, distance_km
from indexer.profile import Profile
from indexer.search.backend import BackendError, DamagedIndexError
from indexer.search.document import LAYOUT_VERSION, SearchDocument, to_search_document
from indexer.search.query import (
    FACETS,
    SearchPlan,
    SearchQuery,
    SortOrder,
    best_match_score,
    decode_cursor,
    encode_cursor,
)
from indexer.search.results import Hit, SearchResult, order_facet, relative_score
from indexer.taxonomy import Taxonomy, load_taxonomy
from tdir.sqlite import connect, immediate_transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    rating REAL,
    rating_sort REAL NOT NULL,
    review_count INTEGER NOT NULL,
    license_verified INTEGER NOT NULL,
    active INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS facets (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    rid INTEGER NOT NULL,
    PRIMARY KEY (field, value, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facets_by_profile ON facets (rid);
CREATE TABLE IF NOT EXISTS points (
    pid INTEGER PRIMARY KEY,
    rid INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS points_by_profile ON points (rid);
CREATE VIRTUAL TABLE IF NOT EXISTS points_box USING rtree(pid, min_lat, max_lat, min_lon, max_lon);
CREATE VIRTUAL TABLE IF NOT EXISTS profiles_text USING fts5(
    name, practice_name, body, tokenize = 'unicode61 remove_diacritics 2'
);
"""

# bm25 weights per FTS column: a word in the name counts most, as in the Elasticsearch backend.
_BM25 = "bm25(profiles_text, 3.0, 2.0, 1.0)"


class _Matched(NamedTuple):
    """The SELECT of every matching profile, its parameters and how to order it."""

    sql: str
    params: list[Any]
    sort_columns: list[str]
    scored: bool  # whether there is free text, so hits carry a text score


class SqliteBackend:
    """Search backend on an SQLite database file (created on first use)."""

    name = "sqlite"

    def __init__(self, path: Path | str, taxonomy: Taxonomy | None = None) -> None:
        self.path = Path(path)
        self.taxonomy = taxonomy or load_taxonomy()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            with conn:
                conn.executescript(_SCHEMA)
                # A new index starts in the current layout; a filled one keeps the layout it was
                # written in (none recorded: the first layout) until a rebuild.
                conn.execute(
                    "INSERT OR IGNORE INTO meta SELECT 'layout_version', ?"
                    " WHERE NOT EXISTS (SELECT 1 FROM profiles)",
                    (LAYOUT_VERSION,),
                )
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
            conn.create_function("gc_km", 4, distance_km, deterministic=True)
            conn.create_function("best_match", 2, best_match_score, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with immediate_transaction(self._conn()) as conn:
            yield conn

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, profiles: Iterable[Profile]) -> int:
        """Add or replace profiles by id; return how many were written."""
        written = 0
        try:
            with self._transaction() as conn:
                for profile in profiles:
                    doc = to_search_document(profile, self.taxonomy)
                    self._delete_ids(conn, [doc.id])
                    self._insert(conn, doc, profile)
                    written += 1
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: upsert failed after {written} profiles: {exc}") from exc
        return written

    def delete(self, profile_ids: Iterable[str]) -> int:
        """Remove profiles by id; return how many existed."""
        try:
            with self._transaction() as conn:
                return self._delete_ids(conn, list(profile_ids))
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: delete failed: {exc}") from exc

    def rebuild(self, profiles: Iterable[Profile]) -> int:
        """Replace every profile in one transaction; the old index serves until it commits."""
        written = 0
        try:
            with self._transaction() as conn:
                for table in ("profiles", "facets", "points", "points_box", "profiles_text"):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('layout_version', ?)", (LAYOUT_VERSION,)
                )
                for profile in profiles:
                    doc = to_search_document(profile, self.taxonomy)
                    # A profile listed twice keeps its last version, as an upsert would.
                    self._delete_ids(conn, [doc.id])
                    self._insert(conn, doc, profile)
                    written += 1
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: rebuild failed, old index kept: {exc}") from exc
        return written

    def _insert(self, conn: sqlite3.Connection, doc: SearchDocument, profile: Profile) -> None:
        cur = conn.execute(
            "INSERT INTO profiles (id, profile, rating, rating_sort, review_count,"
            " license_verified, active) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                doc.id,
                json.dumps(profile.to_dict(), ensure_ascii=False, separators=(",", ":")),
                doc.rating,
                doc.rating_sort,
                doc.review_count,
                int(doc.license_verified),
                int(doc.active),
            ),
        )
        rid = cur.lastrowid
        conn.executemany(
            "INSERT OR IGNORE INTO facets (field, value, rid) VALUES (?, ?, ?)",
            [(f, v, rid) for f, values in doc.facet_values().items() for v in values],
        )
        for point in doc.points:
            pid = conn.execute(
                "INSERT INTO points (rid, lat, lon) VALUES (?, ?, ?)", (rid, point.lat, point.lon)
            ).lastrowid
            conn.execute(
                "INSERT INTO points_box VALUES (?, ?, ?, ?, ?)",
                (pid, point.lat, point.lat, point.lon, point.lon),
            )
        conn.execute(
            "INSERT INTO profiles_text (rowid, name, practice_name, body) VALUES (?, ?, ?, ?)",
            (rid, doc.name, doc.practice_name, doc.body),
        )

    def _delete_ids(self, conn: sqlite3.Connection, ids: list[str]) -> int:
        deleted = 0
        for profile_id in ids:
            row = conn.execute("SELECT rid FROM profiles WHERE id = ?", (profile_id,)).fetchone()
            if row is None:
                continue
            rid = row[0]
            conn.execute(
                "DELETE FROM points_box WHERE pid IN (SELECT pid FROM points WHERE rid = ?)", (rid,)
            )
            for table in ("points", "facets", "profiles"):
                conn.execute(f"DELETE FROM {table} WHERE rid = ?", (rid,))
            conn.execute("DELETE FROM profiles_text WHERE rowid = ?", (rid,))
            deleted += 1
        return deleted

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
        return self._read("SELECT COUNT(*) FROM profiles", ()).fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        """Return one page of matching active profiles with facets and the total."""
        matched = self._matched(query)
        conn = self._conn()
        try:
            # One read transaction, so the page, total and facets come from one snapshot even
            # while a rebuild commits.
            conn.execute("BEGIN")
            conn.execute("DROP TABLE IF EXISTS temp.matched")
            conn.execute(f"CREATE TEMP TABLE matched AS {matched.sql}", matched.params)
            total, best = conn.execute("SELECT COUNT(*), MIN(score) FROM temp.matched").fetchone()
            keys = [*matched.sort_columns, "m.id"]
            page_sql = (
                f"SELECT m.id, m.dist, m.score, p.profile, {', '.join(keys)}"
                " FROM temp.matched m JOIN profiles p ON p.rid = m.rid"
            )
            page_params: list[Any] = []
            if query.cursor:
                after = decode_cursor(query.cursor, query.fingerprint())
                if len(after) != len(keys):
                    raise BackendError("sqlite: cursor does not fit this search")
                page_sql += f" WHERE ({', '.join(keys)}) > ({', '.join('?' * len(keys))})"
                page_params.extend(after)
            page_sql += f" ORDER BY {', '.join(keys)} LIMIT ?"
            page_params.append(query.page_size + 1)
            rows = conn.execute(page_sql, page_params).fetchall()
            facet_rows = conn.execute(
                "SELECT f.field, f.value, COUNT(*) FROM facets f"
                " WHERE f.rid IN (SELECT rid FROM temp.matched)"
                f" AND f.field IN ({', '.join('?' * len(FACETS))}) GROUP BY f.field, f.value",
                FACETS,
            ).fetchall()
            conn.execute("DROP TABLE temp.matched")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise BackendError(f"sqlite: search failed: {exc}") from exc
        hits = [
            Hit(
                id=r[0],
                profile=Profile.from_dict(json.loads(r[3])),
                distance_km=r[1],
                # FTS5's bm25 is negative, lower is better (0 here: no optional word matched).
                score=relative_score(-r[2], -best if best is not None else None)
                if matched.scored
                else None,
            )
            for r in rows[: query.page_size]
        ]
        next_cursor = None
        if len(rows) > query.page_size:
            last = rows[query.page_size - 1]
            next_cursor = encode_cursor(query.fingerprint(), list(last[4:]))
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for field_name, value, n in facet_rows:
            counts[field_name][value] = n
        return SearchResult(
            hits=hits,
            total=total,
            facets={name: order_facet(c) for name, c in counts.items()},
            next_cursor=next_cursor,
        )

    def _read(self, sql: str, params: tuple) -> sqlite3.Cursor:
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: read failed: {exc}") from exc

    def _matched(self, query: SearchQuery) -> _Matched:
        """Build the SELECT of every matching profile with its sort columns."""
        plan = query.plan()
        point = query.point
        params: list[Any] = []
        dist = "NULL"
        if point is not None:
            dist = "(SELECT MIN(gc_km(?, ?, pt.lat, pt.lon)) FROM points pt WHERE pt.rid = p.rid)"
            params += [point.lat, point.lon]
        score = "NULL"
        source = "profiles p"
        where = ["p.active = 1"]
        where_params: list[Any] = []
        if plan.has_text:
            # A profile must hold every required word; only those (inner join) or, when every
            # word is optional, every profile (left join: no word at all scores 0) get a score.
            join = "JOIN" if plan.words else "LEFT JOIN"
            source = (
                f"profiles p {join} (SELECT rowid AS rid, {_BM25} AS bm25 FROM profiles_text"
                " WHERE profiles_text MATCH ?) t ON t.rid = p.rid"
            )
            params.append(_any_of((*plan.words, *plan.optional_text)))
            score = "COALESCE(t.bm25, 0.0)"
        if plan.words:
            where.append("p.rid IN (SELECT rowid FROM profiles_text WHERE profiles_text MATCH ?)")
            where_params.append(_all_of(plan.words))
        required = [
            *(("modality", m) for m in plan.modalities),
            *(("condition", c) for c in plan.conditions),
            *(
                ("verified_credential" if query.verified_only else "credential", c)
                for c in query.credentials
            ),
        ]
        if query.state:
            required.append(("state", query.state))
        for field_name, value in required:
            where.append("p.rid IN (SELECT rid FROM facets WHERE field = ? AND value = ?)")
            where_params += [field_name, value]
        if query.verified_only:
            where.append("p.license_verified = 1")
        if query.flagged:
            marks = ", ".join("?" for _ in query.flagged)
            where.append(
                f"p.rid IN (SELECT rid FROM facets WHERE field = 'flag' AND value IN ({marks}))"
            )
            where_params += list(query.flagged)
        if query.sort is SortOrder.DISTANCE:
            # A profile without a location has no place in a list ordered by distance.
            where.append("EXISTS (SELECT 1 FROM points pt WHERE pt.rid = p.rid)")
        if query.min_rating is not None:
            where.append("p.rating >= ?")
            where_params.append(query.min_rating)
        if query.min_reviews is not None:
            where.append("p.review_count >= ?")
            where_params.append(query.min_reviews)
        if point is not None and query.radius_km is not None:
            box = bounding_box(point, query.radius_km)
            lon_sql = " OR ".join("(b.max_lon >= ? AND b.min_lon <= ?)" for _ in box.lon_ranges())
            where.append(
                "p.rid IN (SELECT pt.rid FROM points_box b JOIN points pt ON pt.pid = b.pid"
                f" WHERE b.max_lat >= ? AND b.min_lat <= ? AND ({lon_sql}))"
            )
            where_params += [box.min_lat, box.max_lat]
            for lo, hi in box.lon_ranges():
                where_params += [lo, hi]
        sql = (
            f"SELECT p.rid AS rid, p.id AS id, {dist} AS dist, {score} AS score,"
            " p.rating AS rating, -p.rating_sort AS neg_rating, -p.review_count AS neg_reviews"
            f" FROM {source} WHERE {' AND '.join(where)}"
        )
        params += where_params
        # Negated, so that every sort column ascends and one row comparison pages through.
        blend = "-best_match(c.rating, c.dist)" if query.ranked_by_best_match else "NULL"
        sql = f"SELECT c.*, {blend} AS neg_blend FROM ({sql}) c"
        if point is not None and query.radius_km is not None:
            sql += " WHERE c.dist <= ?"
            params.append(query.radius_km)
        return _Matched(sql, params, _sort_columns(query, plan), plan.has_text)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


def _sort_columns(query: SearchQuery, plan: SearchPlan) -> list[str]:
    sort = query.sort
    if sort is SortOrder.RELEVANCE and plan.has_text:
        return ["m.score"]  # bm25: lower is better
    if query.ranked_by_best_match:
        return ["m.neg_blend", "m.neg_rating", "m.neg_reviews"]
    if sort is SortOrder.DISTANCE:
        return ["m.dist"]
    if sort is SortOrder.REVIEWS:
        return ["m.neg_reviews", "m.neg_rating"]
    return ["m.neg_rating", "m.neg_reviews"]


def _quoted(text: str) -> str:
    """One FTS5 string (a word or a phrase): the user's text is never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _all_of(words: tuple[str, ...]) -> str:
    return " ".join(_quoted(w) for w in words)


def _any_of(texts: tuple[str, ...]) -> str:
    return " OR ".join(_quoted(t) for t in dict.fromkeys(texts))
