"""The stored population: one SQLite file with every therapist and the lookups the sites need.

Each therapist is one compressed JSON document; small index tables carry what the sites search
or page over (listings by city, licenses by number and name, certificants, NPI records). Pages are
rendered on request from these rows, so a million-therapist world costs one file, not millions.
"""

from __future__ import annotations

import json
import queue
import re
import sqlite3
import threading
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from crawler.demoweb.model import Address, Therapist

DB_NAME = "population.sqlite"
FORMAT_VERSION = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE therapist (id INTEGER PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE listing (
    site TEXT NOT NULL, therapist_id INTEGER NOT NULL, ordinal INTEGER NOT NULL,
    state TEXT NOT NULL, city TEXT NOT NULL, city_slug TEXT NOT NULL, sort_key TEXT NOT NULL,
    reviews INTEGER NOT NULL,
    PRIMARY KEY (site, therapist_id, ordinal)
) WITHOUT ROWID;
CREATE TABLE license (
    state TEXT NOT NULL, number TEXT NOT NULL, therapist_id INTEGER NOT NULL,
    last_name TEXT NOT NULL, first_name TEXT NOT NULL, middle TEXT NOT NULL, city TEXT NOT NULL,
    status TEXT NOT NULL, title TEXT NOT NULL, issued TEXT NOT NULL, expires TEXT NOT NULL,
    PRIMARY KEY (state, number)
) WITHOUT ROWID;
CREATE TABLE certification (
    id TEXT PRIMARY KEY, therapist_id INTEGER NOT NULL, last_name TEXT NOT NULL,
    first_name TEXT NOT NULL, middle TEXT NOT NULL, state TEXT NOT NULL, city TEXT NOT NULL,
    status TEXT NOT NULL, issued TEXT NOT NULL, expires TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE npi (
    number INTEGER PRIMARY KEY, therapist_id INTEGER NOT NULL, state TEXT NOT NULL,
    city TEXT NOT NULL, postal_code TEXT NOT NULL, last_name TEXT NOT NULL,
    first_name TEXT NOT NULL
);
"""

_INDEXES = """
CREATE INDEX listing_city ON listing (site, city_slug, sort_key, therapist_id, ordinal);
CREATE INDEX license_name ON license (state, last_name, first_name);
CREATE INDEX certification_name ON certification (last_name, first_name);
CREATE INDEX certification_state ON certification (state, last_name, first_name);
CREATE INDEX npi_state ON npi (state, number);
CREATE INDEX npi_city ON npi (city, number);
CREATE INDEX npi_postal ON npi (postal_code, number);
CREATE INDEX npi_last ON npi (last_name, number);
CREATE INDEX npi_first ON npi (first_name, number);
"""


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (``Saint Paul`` -> ``saint-paul``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def city_slug(city: str, state: str) -> str:
    """The slug the directories use for a city, e.g. ``round-rock-tx``."""
    return f"{slugify(city)}-{state.lower()}"


def listing_address(t: Therapist, stale: bool) -> Address:
    """The address a listing shows: the previous one for a stale listing of a mover."""
    return t.previous_address if stale and t.previous_address else t.address


def _pack(doc: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)


def _unpack(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))


class PopulationWriter:
    """Writes a population into a new SQLite file, one therapist at a time."""

    _BATCH = 2000

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DB_NAME
        if self.path.exists():
            self.path.unlink()
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            "therapist": [],
            "listing": [],
            "license": [],
            "certification": [],
            "npi": [],
        }
        self.count = 0

    def add(self, t: Therapist) -> None:
        """Queue one therapist and its index rows."""
        self._rows["therapist"].append((t.id, _pack(t.to_doc())))
        last, first = t.last.upper(), t.first.upper()
        middle = (t.middle or "").upper()
        for item in t.listings:
            addr = listing_address(t, item.stale)
            reviews = sum(1 for r in t.reviews if r.site == item.site) if item.ordinal == 0 else 0
            self._rows["listing"].append(
                (
                    item.site,
                    t.id,
                    item.ordinal,
                    addr.state,
                    addr.city,
                    city_slug(addr.city, addr.state),
                    f"{last} {first} {t.id:08d}",
                    reviews,
                )
            )
        for lic in t.licenses:
            on_record = t.address if lic.state == t.address.state else t.previous_address
            city = on_record.city if on_record else ""
            self._rows["license"].append(
                (
                    lic.state,
                    lic.number,
                    t.id,
                    last,
                    first,
                    middle,
                    city,
                    lic.status,
                    lic.title,
                    lic.issued.isoformat(),
                    lic.expires.isoformat(),
                )
            )
        if t.bctmb:
            self._rows["certification"].append(
                (
                    t.bctmb.id,
                    t.id,
                    last,
                    first,
                    middle,
                    t.address.state,
                    t.address.city,
                    t.bctmb.status,
                    t.bctmb.issued.isoformat(),
                    t.bctmb.expires.isoformat(),
                )
            )
        if t.npi:
            loc = listing_address(t, t.npi.stale_address)
            self._rows["npi"].append(
                (t.npi.number, t.id, loc.state, loc.city.upper(), loc.zip + loc.zip4, last, first)
            )
        self.count += 1
        if len(self._rows["therapist"]) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        with self._db:
            for table, rows in self._rows.items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    self._db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
                    rows.clear()

    def finish(self, meta: dict[str, Any]) -> Path:
        """Write the metadata, build the indexes and close the file."""
        self._flush()
        with self._db:
            self._db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in {**meta, "format": FORMAT_VERSION}.items()],
            )
            self._db.executescript(_INDEXES)
        self._db.execute("ANALYZE")
        self._db.close()
        return self.path


class Population:
    """Read access to a stored population, safe to share between server threads."""

    def __init__(self, directory: Path | str, *, pool_size: int = 8) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        if not self.path.exists():
            raise FileNotFoundError(f"no population at {self.path}")
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._pool_lock = threading.Lock()
        self._opened = 0
        self._pool_size = pool_size
        with self._connection() as db:
            rows = db.execute("SELECT key, value FROM meta").fetchall()
        self.meta: dict[str, Any] = {k: json.loads(v) for k, v in rows}
        self._therapist = lru_cache(maxsize=8192)(self._load_therapist)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        db.execute("PRAGMA query_only=ON")
        return db

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None
        try:
            db = self._pool.get_nowait()
        except queue.Empty:
            db = self._connect()
        try:
            yield db
        finally:
            with self._pool_lock:
                if self._pool.qsize() < self._pool_size:
                    self._pool.put(db)
                    db = None
            if db is not None:
                db.close()

    def close(self) -> None:
        """Close pooled connections."""
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query and return all rows."""
        with self._connection() as db:
            return db.execute(sql, params).fetchall()

    def _load_therapist(self, tid: int) -> Therapist | None:
        rows = self.query("SELECT doc FROM therapist WHERE id = ?", (tid,))
        return Therapist.from_doc(_unpack(rows[0][0])) if rows else None

    def therapist(self, tid: int) -> Therapist | None:
        """The therapist with id ``tid`` (cached), or ``None``."""
        return self._therapist(tid)

    def therapists(self, batch: int = 1000) -> Iterator[Therapist]:
        """Every therapist in id order, streamed."""
        last = -1
        while True:
            rows = self.query(
                "SELECT id, doc FROM therapist WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            )
            if not rows:
                return
            for _, blob in rows:
                yield Therapist.from_doc(_unpack(blob))
            last = rows[-1][0]

    @property
    def count(self) -> int:
        """How many therapists the population holds."""
        return int(self.query("SELECT count(*) FROM therapist")[0][0])
