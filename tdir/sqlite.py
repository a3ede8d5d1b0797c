"""The one way tdir writes to its SQLite databases (index, scheduler, corrections)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


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
