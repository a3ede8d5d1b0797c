"""The US ZIP code table the ``zipcodes`` package ships, in a form that opens in milliseconds.

``zipcodes`` decompresses and loads its whole table (a second or more) on a process's first
query: longer than the rest of a ``tdir search``, and most of an index build's start-up. So its
columns tdir reads (ZIP, type, point, city, acceptable city names, state) are copied once, on
first use, into an SQLite file per ``zipcodes`` version and layout in ``TDIR_CACHE_DIR``
(default ``$XDG_CACHE_HOME/tdir``, else ``~/.cache/tdir``). Where no copy can be kept or read,
``zipcodes`` answers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, suppress
from functools import cache
from pathlib import Path
from typing import Any

import zipcodes

# Part of the copy's file name: a copy of another layout is never read as this one.
LAYOUT = 2
_LOCK = threading.Lock()  # the copy's one connection serves every thread


def copy_name() -> str:
    """The file name of the copy for the installed ``zipcodes``."""
    return f"zipcodes-{zipcodes.__version__}.v{LAYOUT}.sqlite3"


def zip_row(zip5: str) -> tuple[str, str, str, str] | None:
    """The latitude, longitude, city and state of a ZIP code (latitude "" where unknown)."""
    table = _table()
    if table is not None:
        try:
            with _LOCK:
                return table.execute(
                    "SELECT lat, long, city, state FROM zips WHERE zip = ?", (zip5,)
                ).fetchone()
        except sqlite3.Error:
            pass  # a damaged copy: zipcodes answers
    found = zipcodes.matching(zip5)
    if not found:
        return None
    row = found[0]
    return row.get("lat") or "", row["long"], row["city"], row["state"]


def zip_rows() -> Iterator[dict[str, Any]]:
    """Every ZIP code, as ``zipcodes.list_all`` gives it but with only the columns copied."""
    table = _table()
    if table is not None:
        try:
            with _LOCK:
                rows = table.execute(
                    "SELECT zip, type, lat, long, city, acceptable, state FROM zips"
                ).fetchall()
        except sqlite3.Error:
            rows = None  # a damaged copy: zipcodes answers
        if rows is not None:
            for zip5, kind, lat, lon, city, acceptable, state in rows:
                yield {
                    "zip_code": zip5,
                    "zip_code_type": kind,
                    "lat": lat,
                    "long": lon,
                    "city": city,
                    "acceptable_cities": json.loads(acceptable),
                    "state": state,
                }
            return
    yield from zipcodes.list_all()


@cache
def _table() -> sqlite3.Connection | None:
    """The copy, made on first use; None where it can be neither read nor made."""
    try:
        configured = os.environ.get("TDIR_CACHE_DIR")
        base = Path(configured or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = (base if configured else base / "tdir") / copy_name()
        if not path.exists():
            _copy(path)
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except (OSError, RuntimeError, sqlite3.Error):  # RuntimeError: no home directory
        return None


def _copy(path: Path) -> None:
    """Write the copy whole, then put it in place: a reader never sees half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=path.name, suffix=".partial", dir=path.parent)
    os.close(handle)
    os.chmod(partial, 0o644)  # public data: whoever shares the cache directory may read it
    try:
        with closing(sqlite3.connect(partial)) as conn, conn:
            conn.execute(
                "CREATE TABLE zips (zip TEXT PRIMARY KEY, type TEXT NOT NULL, lat TEXT NOT NULL,"
                " long TEXT NOT NULL, city TEXT NOT NULL, acceptable TEXT NOT NULL,"
                " state TEXT NOT NULL) WITHOUT ROWID"
            )
            conn.executemany(
                "INSERT INTO zips VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        row["zip_code"],
                        row["zip_code_type"],
                        row["lat"] or "",
                        row["long"],
                        row["city"],
                        json.dumps(row["acceptable_cities"]),
                        row["state"],
                    )
                    for row in zipcodes.list_all()
                ),
            )
        os.replace(partial, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(partial)
