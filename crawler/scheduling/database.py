"""The schedule database: admins' schedule overrides, the run history, retries of failed runs
and leases, in SQLite.

One file under ``<TDIR_HOME>/scheduler/``, shared by the scheduler service, the command line and
the dashboard, each in its own process. Every write is a short ``BEGIN IMMEDIATE`` transaction so
that a decision ("is a run of atlas already queued?") and the write acting on it cannot be split
by another process. WAL mode lets readers go on while a writer commits.

Two partial unique indexes make the database itself refuse a second queued or a second running
run of one source, whatever the code above it does.

The schema's version is SQLite's ``user_version``. A database written by an earlier tdir is
migrated in place, once, by the first process of this version to open it (in one transaction,
so that a process opening it at the same moment waits, then finds it migrated):

- version 1: runs may be ``abandoned`` (the CHECK constraint is widened, which SQLite can only
  do by copying the table), and record their ``owner`` and the ``child`` process under way;
  leases record their holder's process ``started`` (see :mod:`crawler.scheduling.processes`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from tdir.sqlite import connect, immediate_transaction

SCHEMA_VERSION = 1
RUN_STATES = ("queued", "running", "succeeded", "failed", "skipped", "abandoned")
_RUNS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {{name}} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'missed')),
    state TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in RUN_STATES)})),
    requested_by TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    runner TEXT,
    crawl_run_id TEXT,
    crawl_status TEXT,
    index_summary TEXT,
    error TEXT,
    owner TEXT,
    child TEXT
)"""
_RUNS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS runs_by_source ON runs (source, id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS one_queued_run ON runs (source) WHERE state = 'queued'",
    "CREATE UNIQUE INDEX IF NOT EXISTS one_running_run ON runs (source) WHERE state = 'running'",
)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS schedules (
    source TEXT PRIMARY KEY,
    every_seconds INTEGER,
    cron TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (every_seconds IS NULL OR cron IS NULL)
)""",
    _RUNS_TABLE.format(name="runs"),
    *_RUNS_INDEXES,
    """CREATE TABLE IF NOT EXISTS retries (
    source TEXT PRIMARY KEY,
    retry_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at REAL NOT NULL,
    started TEXT
)""",
)


def prepare(conn: sqlite3.Connection) -> None:
    """Create the schema in a new database, or bring an older one up to this version."""
    if _version(conn) >= SCHEMA_VERSION:
        return  # the usual case, and no write lock taken for it
    with immediate_transaction(conn):
        if _version(conn) >= SCHEMA_VERSION:
            return  # another process migrated it while this one waited for the lock
        for statement in SCHEMA:
            conn.execute(statement)  # a new database gets this version's tables at once
        _allow_abandoned_runs(conn)
        _add_column(conn, "leases", "started", "TEXT")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_column(conn: sqlite3.Connection, table: str, column: str, kind: str) -> None:
    if column not in _columns(conn, table):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _allow_abandoned_runs(conn: sqlite3.Connection) -> None:
    """Copy a version 0 ``runs`` table into one that allows the ``abandoned`` state and has the
    ``owner`` and ``child`` columns (SQLite cannot change a CHECK constraint in place)."""
    old = _columns(conn, "runs")
    if "owner" in old:
        return  # created by this version
    kept = ", ".join(sorted(old))
    sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    conn.execute(_RUNS_TABLE.format(name="runs_migrated"))
    conn.execute(f"INSERT INTO runs_migrated ({kept}) SELECT {kept} FROM runs")
    conn.execute("DROP TABLE runs")
    conn.execute("ALTER TABLE runs_migrated RENAME TO runs")
    for statement in _RUNS_INDEXES:
        conn.execute(statement)
    if sequence is not None:
        # Ids are never handed out twice, even those of rows the copy did not carry over.
        conn.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'runs'", (sequence[0],)
        )


def scheduler_dir(home: Path) -> Path:
    """Where the scheduler keeps its databases and run logs."""
    return home / "scheduler"


def timestamp(moment: datetime | None = None) -> str:
    """An ISO 8601 UTC timestamp with milliseconds: sortable as text, precise enough to order
    runs that start within the same second."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


def parse_timestamp(text: str) -> datetime:
    """Read a timestamp written by :func:`timestamp` (or any ISO 8601 form; naive means UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ScheduleDatabase:
    """The schedule database of one data directory; opens a short connection per operation."""

    def __init__(self, home: Path) -> None:
        self.path = scheduler_dir(home) / "schedule.sqlite3"
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        conn.row_factory = sqlite3.Row
        if not self._ready:
            prepare(conn)
            self._ready = True
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, holding the database's write lock from its first statement."""
        conn = self._connect()
        try:
            with immediate_transaction(conn):
                yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement sees the last committed state)."""
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()
