"""Server-side state of admin sign-in: failed attempts (for lockout) and revoked cookies.

Kept in ``$TDIR_HOME/admin/security.sqlite3`` so that neither a reload nor a new browser tab
gives fresh password attempts, and a signed-out cookie stays refused. Failures are counted per
key: one for the account (the name typed at sign-in) and, where Streamlit knows it, one for the
client's address (``st.context.ip_address``, which is None on localhost). A key with
``MAX_FAILURES`` failures, the last less than ``LOCKOUT`` seconds ago, is locked; a successful
sign-in clears the keys it used.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_FAILURES = 5
LOCKOUT = 15 * 60  # seconds


def store_path(home: Path) -> Path:
    """The SQLite file under the data directory."""
    return home / "admin" / "security.sqlite3"


def account_key(name: str) -> str:
    """The lockout key of the account an admin names at sign-in."""
    return "account:" + " ".join(name.split()).casefold()


def client_key(address: str) -> str:
    """The lockout key of a client address."""
    return "client:" + address


class AdminStore:
    """Failed sign-ins and revoked cookies of one data directory."""

    def __init__(self, home: Path) -> None:
        self.path = store_path(home)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute(
                "CREATE TABLE IF NOT EXISTS failures "
                "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS revoked (nonce TEXT PRIMARY KEY, expires REAL NOT NULL)"
            )
            yield db
        finally:
            db.close()

    def locked(self, keys: Iterable[str], now: float | None = None) -> bool:
        """True when any of the keys has used up its attempts."""
        now = time.time() if now is None else now
        keys = list(keys)
        if not keys:
            return False
        marks = ",".join("?" * len(keys))
        with self._db() as db:
            row = db.execute(
                f"SELECT 1 FROM failures WHERE key IN ({marks}) AND count >= ? AND last > ?",
                (*keys, MAX_FAILURES, now - LOCKOUT),
            ).fetchone()
        return row is not None

    def record_failure(self, keys: Iterable[str], now: float | None = None) -> None:
        """Count one failed attempt against every key (a stale count starts again)."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            for key in keys:
                db.execute(
                    "INSERT INTO failures (key, count, last) VALUES (?, 1, ?) "
                    "ON CONFLICT(key) DO UPDATE SET "
                    "count = CASE WHEN last > ? THEN count + 1 ELSE 1 END, last = excluded.last",
                    (key, now, now - LOCKOUT),
                )
            db.execute("COMMIT")

    def clear(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (after a successful sign-in)."""
        with self._db() as db:
            db.executemany("DELETE FROM failures WHERE key = ?", [(k,) for k in keys])

    def revoke(self, nonce: str, expires: float, now: float | None = None) -> None:
        """Refuse the cookie with this id from now on (and drop expired revocations)."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("DELETE FROM revoked WHERE expires < ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO revoked (nonce, expires) VALUES (?, ?)", (nonce, expires)
            )

    def is_revoked(self, nonce: str) -> bool:
        """True when the cookie with this id was signed out."""
        with self._db() as db:
            return (
                db.execute("SELECT 1 FROM revoked WHERE nonce = ?", (nonce,)).fetchone() is not None
            )
