"""Processes that open a new SQLite database at the same moment all get a working connection."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from tdir.sqlite import connect, immediate_transaction

_OPENERS = 3


def _open_and_write(path: str, barrier: multiprocessing.synchronize.Barrier, errors) -> None:
    barrier.wait()
    try:
        conn = connect(path)
        conn.executescript("CREATE TABLE IF NOT EXISTS visits (who INTEGER);")
        with immediate_transaction(conn):
            conn.execute("INSERT INTO visits VALUES (1)")
        conn.close()
    except sqlite3.Error as exc:
        errors.put(f"{path}: {exc}")


def test_simultaneous_first_opens_neither_fail_nor_lose_writes(tmp_path: Path) -> None:
    # Converting a new file to WAL races between processes; SQLite reports the loser as
    # "database is locked" without waiting, which scheduler commands started together hit.
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    databases = [tmp_path / f"race{n}.sqlite3" for n in range(40)]
    for path in databases:
        barrier = context.Barrier(_OPENERS)
        openers = [
            context.Process(target=_open_and_write, args=(str(path), barrier, errors))
            for _ in range(_OPENERS)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == []
    for path in databases:
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == _OPENERS
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.sqlite3"
    not_a_database.write_bytes(b"this is plain text, not an SQLite file" * 100)
    try:
        connect(not_a_database, timeout=5)
    except sqlite3.DatabaseError as exc:
        assert "not a database" in str(exc)
    else:
        raise AssertionError("opening a non-database file must fail")
