"""The run history: one row per scheduled, missed or requested run of a source.

A manual request is inserted ``queued`` and becomes ``running`` when a process starts it; a
scheduled run is inserted ``running`` when it starts, or ``skipped`` when its source was busy.
Every run ends ``succeeded`` or ``failed`` with its error, the crawl run it made and the index
summary, so the history answers "what did each run do" without reading logs.

A running run names its *owner*, the process performing it, and the *child* process under way
(its crawl, then its index update), each as a :class:`~crawler.scheduling.processes.ProcessRef`
token. A run whose owner died before recording its end is ended ``abandoned`` by the scheduler
service (:mod:`crawler.scheduling.recovery`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from crawler.scheduling.database import timestamp
from crawler.scheduling.processes import ProcessRef

Trigger = Literal["schedule", "manual", "missed"]
RunState = Literal["queued", "running", "succeeded", "failed", "skipped", "abandoned"]
DONE_STATES = ("succeeded", "failed", "skipped", "abandoned")
ENDED_STATES = ("succeeded", "failed", "abandoned")  # runs that ran, unlike skipped ones


@dataclass(frozen=True)
class RunEntry:
    """One run in the history."""

    id: int
    source: str
    trigger: Trigger
    state: RunState
    requested_by: str | None
    queued_at: str
    started_at: str | None
    finished_at: str | None
    runner: str | None  # which process ran it: "scheduler pid 12 on host-a"
    crawl_run_id: str | None
    crawl_status: str | None  # the crawl run's own status: finished, interrupted, failed
    index_summary: Mapping[str, Any] | None
    error: str | None
    owner: str | None = None  # the process performing it: a ProcessRef token
    child: str | None = None  # its latest crawl or index process: a ProcessRef token

    @property
    def done(self) -> bool:
        """True once the run has ended (or was skipped)."""
        return self.state in DONE_STATES

    @property
    def child_pid(self) -> int | None:
        """The pid of its latest crawl or index process, if it started one."""
        child = ProcessRef.parse(self.child)
        return child.pid if child else None

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain data (for JSON)."""
        return asdict(self)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunEntry:
        """Read a row of the ``runs`` table."""
        data = dict(row)
        summary = data.pop("index_summary")
        return cls(**data, index_summary=json.loads(summary) if summary else None)


def get_run(conn: sqlite3.Connection, run_id: int) -> RunEntry | None:
    """One run by id."""
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    return RunEntry.from_row(row) if row else None


def list_runs(
    conn: sqlite3.Connection,
    source: str | None = None,
    *,
    limit: int = 50,
    states: tuple[str, ...] | None = None,
    oldest_first: bool = False,
) -> list[RunEntry]:
    """Runs, newest first (or oldest first), of one source or all, optionally in some states."""
    where, params = [], []
    if source is not None:
        where.append("source = ?")
        params.append(source)
    if states:
        where.append(f"state IN ({', '.join('?' for _ in states)})")
        params.extend(states)
    sql = "SELECT * FROM runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY id {'ASC' if oldest_first else 'DESC'} LIMIT ?"
    return [RunEntry.from_row(r) for r in conn.execute(sql, (*params, limit))]


def latest_runs(conn: sqlite3.Connection) -> dict[tuple[str, str], RunEntry]:
    """The latest run of each source in each state, keyed by ``(source, state)``."""
    rows = conn.execute(
        "SELECT * FROM runs WHERE id IN (SELECT MAX(id) FROM runs GROUP BY source, state)"
    )
    return {(r["source"], r["state"]): RunEntry.from_row(r) for r in rows}


def insert_run(
    conn: sqlite3.Connection,
    source: str,
    trigger: Trigger,
    state: RunState,
    *,
    requested_by: str | None = None,
    queued_at: str | None = None,
    runner: str | None = None,
    owner: str | None = None,
    error: str | None = None,
) -> int:
    """Add a run; return its id. A running or skipped run starts (and a skipped one ends) now.

    Raises sqlite3.IntegrityError when the source already has a run in the same state and that
    state is ``queued`` or ``running``.
    """
    now = timestamp()
    cursor = conn.execute(
        "INSERT INTO runs (source, trigger, state, requested_by, queued_at, started_at,"
        " finished_at, runner, owner, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            trigger,
            state,
            requested_by,
            queued_at or now,
            now if state in ("running", "skipped") else None,
            now if state == "skipped" else None,
            runner,
            owner if state == "running" else None,
            error,
        ),
    )
    return int(cursor.lastrowid or 0)


def claim_run(conn: sqlite3.Connection, run_id: int, runner: str, owner: str | None = None) -> bool:
    """Mark a queued run running; False if it is no longer queued (another process took it)."""
    return (
        conn.execute(
            "UPDATE runs SET state = 'running', started_at = ?, runner = ?, owner = ?"
            " WHERE id = ? AND state = 'queued'",
            (timestamp(), runner, owner, run_id),
        ).rowcount
        == 1
    )


def record_child(conn: sqlite3.Connection, run_id: int, child: str) -> None:
    """Note the crawl or index process a run has just started (a ProcessRef token)."""
    conn.execute("UPDATE runs SET child = ? WHERE id = ?", (child, run_id))


def record_crawl(
    conn: sqlite3.Connection, run_id: int, crawl_run_id: str | None, crawl_status: str | None
) -> None:
    """Note the crawl run a run made, as soon as it is known."""
    conn.execute(
        "UPDATE runs SET crawl_run_id = ?, crawl_status = ? WHERE id = ?",
        (crawl_run_id, crawl_status, run_id),
    )


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    error: str | None,
    index_summary: Mapping[str, Any] | None = None,
) -> None:
    """End a run: succeeded without an error, failed with one."""
    conn.execute(
        "UPDATE runs SET state = ?, finished_at = ?, error = ?, index_summary = ? WHERE id = ?",
        (
            "failed" if error else "succeeded",
            timestamp(),
            error,
            json.dumps(dict(index_summary)) if index_summary is not None else None,
            run_id,
        ),
    )


def abandon_run(conn: sqlite3.Connection, run_id: int, reason: str) -> bool:
    """End a run whose owner died as ``abandoned``; False if it is no longer running."""
    return (
        conn.execute(
            "UPDATE runs SET state = 'abandoned', finished_at = ?, error = ?"
            " WHERE id = ? AND state = 'running'",
            (timestamp(), reason, run_id),
        ).rowcount
        == 1
    )


def fail_abandoned(conn: sqlite3.Connection, source: str, reason: str) -> int:
    """End as failed every run of ``source`` still marked running; return how many.

    Call it holding the source's lease: then nobody is running the source, and a run still
    marked running belongs to a process that died before it could record its end.
    """
    return conn.execute(
        "UPDATE runs SET state = 'failed', finished_at = ?, error = ?"
        " WHERE source = ? AND state = 'running'",
        (timestamp(), reason, source),
    ).rowcount


def consecutive_failures(conn: sqlite3.Connection, source: str) -> int:
    """How many of the source's latest ended runs failed or were abandoned in a row (skipped
    runs not counted): a source whose runs keep taking their scheduler down backs off too."""
    count = 0
    for row in conn.execute(
        "SELECT state FROM runs WHERE source = ? AND state IN ('succeeded', 'failed',"
        " 'abandoned') ORDER BY id DESC",
        (source,),
    ):
        if row["state"] == "succeeded":
            break
        count += 1
    return count


def longest_success_seconds(conn: sqlite3.Connection, source: str) -> float | None:
    """How long the source's longest successful run took, or None if none succeeded."""
    row = conn.execute(
        "SELECT MAX(julianday(finished_at) - julianday(started_at)) FROM runs"
        " WHERE source = ? AND state = 'succeeded'",
        (source,),
    ).fetchone()
    # julianday() is a float of days: rounded to the milliseconds the timestamps hold.
    return round(row[0] * 86400, 3) if row[0] is not None else None


def plan_retry(conn: sqlite3.Connection, source: str, retry_at: str) -> None:
    """Ask for the source's next scheduled run at ``retry_at`` (the service applies it, unless
    the schedule comes sooner)."""
    conn.execute(
        "INSERT OR REPLACE INTO retries (source, retry_at) VALUES (?, ?)", (source, retry_at)
    )


def planned_retries(conn: sqlite3.Connection) -> dict[str, str]:
    """Every retry asked for and not yet applied, by source."""
    return {r["source"]: r["retry_at"] for r in conn.execute("SELECT * FROM retries")}


def forget_retry(conn: sqlite3.Connection, source: str, retry_at: str) -> None:
    """Drop a retry once applied (unless a newer one replaced it meanwhile)."""
    conn.execute("DELETE FROM retries WHERE source = ? AND retry_at = ?", (source, retry_at))


def cancel_run(conn: sqlite3.Connection, run_id: int, reason: str) -> bool:
    """End a queued run without running it (recorded as skipped); False if it already started."""
    return (
        conn.execute(
            "UPDATE runs SET state = 'skipped', finished_at = ?, error = ?"
            " WHERE id = ? AND state = 'queued'",
            (timestamp(), reason, run_id),
        ).rowcount
        == 1
    )
