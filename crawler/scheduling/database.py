"""The schedule database: admins' schedule overrides, the run history, retries of failed runs
and leases, in SQLite.

One file under ``<TDIR_HOME>/scheduler/``, shared by the scheduler service, the command line and
the dashboard, each in its own process. Every write is a short ``BEGIN IMMEDIATE`` transaction so
that a decision ("is a run of atlas already queued?") and the write acting on it cannot be split
by another process. WAL mode lets readers go on while a writer commits.

Two partial unique indexes make the database itself refuse a second queued or a second running
run of one source, whatever the code above it does.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from tdir.sqlite import connect, immediate_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    source TEXT PRIMARY KEY,
    every_seconds INTEGER,
    cron TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (every_seconds IS NULL OR cron IS NULL)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'missed')),
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
    requested_by TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    runner TEXT,
    crawl_run_id TEXT,
    crawl_status TEXT,
    index_summary TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_source ON runs (source, id);
CREATE UNIQUE INDEX IF NOT EXISTS one_queued_run ON runs (source) WHERE state = 'queued';
CREATE UNIQUE INDEX IF NOT EXISTS one_running_run ON runs (source) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS retries (
    source TEXT PRIMARY KEY,
    retry_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


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
            conn.executescript(SCHEMA)
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
