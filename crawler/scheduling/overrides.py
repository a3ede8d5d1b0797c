"""Admins' changes to the catalog's schedules: a schedule of their own, and pauses.

An override wins over the catalog's schedule until it is reset, so an edit of the catalog does
not silently undo what an admin chose. Pausing is kept apart from the schedule: resuming brings
back whichever schedule is in force. Each row says who changed it last and when.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from crawler.catalog import Schedule
from crawler.scheduling.database import timestamp


@dataclass(frozen=True)
class ScheduleOverride:
    """What an admin changed about one source's schedule."""

    source: str
    schedule: Schedule | None  # None: the catalog's schedule is in force
    paused: bool
    updated_by: str
    updated_at: str


def overrides(conn: sqlite3.Connection) -> dict[str, ScheduleOverride]:
    """Every source's override, by source."""
    found = {}
    for row in conn.execute("SELECT * FROM schedules"):
        schedule = None
        if row["every_seconds"] is not None:
            schedule = Schedule(interval_seconds=row["every_seconds"])
        elif row["cron"] is not None:
            schedule = Schedule(cron=row["cron"])
        found[row["source"]] = ScheduleOverride(
            row["source"], schedule, bool(row["paused"]), row["updated_by"], row["updated_at"]
        )
    return found


def set_schedule(conn: sqlite3.Connection, source: str, schedule: Schedule | None, by: str) -> None:
    """Put an admin's schedule in force for the source (None: back to the catalog's)."""
    conn.execute(
        "INSERT INTO schedules (source, every_seconds, cron, updated_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET"
        " every_seconds = excluded.every_seconds, cron = excluded.cron,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (
            source,
            schedule.interval_seconds if schedule else None,
            schedule.cron if schedule else None,
            by,
            timestamp(),
        ),
    )
    _forget_if_empty(conn, source)


def set_paused(conn: sqlite3.Connection, source: str, paused: bool, by: str) -> None:
    """Pause or resume the source's schedule."""
    conn.execute(
        "INSERT INTO schedules (source, paused, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET paused = excluded.paused,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (source, int(paused), by, timestamp()),
    )
    _forget_if_empty(conn, source)


def _forget_if_empty(conn: sqlite3.Connection, source: str) -> None:
    conn.execute(
        "DELETE FROM schedules WHERE source = ? AND every_seconds IS NULL AND cron IS NULL"
        " AND paused = 0",
        (source,),
    )


def fingerprint(conn: sqlite3.Connection) -> tuple[tuple[object, ...], ...]:
    """Every override as plain values: equal fingerprints mean nothing changed."""
    return tuple(
        tuple(row)
        for row in conn.execute(
            "SELECT source, every_seconds, cron, paused FROM schedules ORDER BY source"
        )
    )
