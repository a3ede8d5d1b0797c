"""The one way tdir opens and writes to its SQLite databases (index, scheduler, corrections)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(
    path: Path | str, *, timeout: float = 30.0, check_same_thread: bool = True
) -> sqlite3.Connection:
    """An autocommit connection to the database at ``path``, in WAL mode, waiting on locks.

    Switching a database to WAL needs a moment of exclusive access, and SQLite answers "database
    is locked" at once (without its busy handler) when another process holds the file at that
    moment, as two processes opening a new database together do; so the switch is retried until
    ``timeout``. Any other error is raised.
    """
    conn = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread
    )
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return conn
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                conn.close()
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in a ``BEGIN IMMEDIATE`` transaction on an autocommit connection.

    The write lock is taken at the first statement, so writers from other processes queue
    (up to the connection's timeout) instead of failing half-way; the block commits if it ends
    normally and rolls back on any exception, which is re-raised.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
