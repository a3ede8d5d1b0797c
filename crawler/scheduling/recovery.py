"""Runs whose process died: found, ended as ``abandoned``, their sources freed, retried.

A run is marked ``running`` by the process performing it, its *owner* (the scheduler service,
``tdir schedule run-now --wait`` or the dashboard), which records its end. An owner killed
outright (SIGKILL, the OOM killer, a power cut) records nothing, and its run would stay running
for ever. The scheduler service looks for such runs when it starts and on every tick:

- **Is the owner dead?** An owner on this host is checked by its pid *and* start time, so that a
  pid handed to a later process, even to the restarted scheduler itself, does not keep a dead
  run alive (:mod:`crawler.scheduling.processes`). An owner on another host, or a run recorded
  before runs named their owner, is judged by its source's lease, which a live owner renews
  every ``ttl / 3`` and which expires ``ttl`` (2 minutes) after its owner stopped.
- **A crawl or index process left behind** is made to stop. Its lifeline
  (:mod:`crawler.scheduling.lifeline`) has already sent it SIGTERM, so it is given the time to
  close its run; one still there after that is killed. It is not adopted instead: it is not a
  child of the new scheduler, which could neither wait for it nor read its output and exit
  status, and its source stays locked while it runs, so the run that should follow would fail.
  Stopping it loses nothing: a crawl stopped with SIGTERM is ``interrupted``, and the source's
  next crawl resumes it with everything it gathered.
- **The run** is ended ``abandoned``, saying who died and what became of its crawl; the leases
  the dead owner held (its source's, the index's) are released. The service then plans its
  retry as for a failed run, so the next run follows at once, resumes the crawl and indexes it.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from crawler.runs import CrawlStore, RunRecord
from crawler.scheduling import history
from crawler.scheduling.book import source_lease
from crawler.scheduling.database import ScheduleDatabase, parse_timestamp
from crawler.scheduling.history import RunEntry
from crawler.scheduling.leases import LeaseHolder, current_holder, release_dead
from crawler.scheduling.lifeline import STOP_PATIENCE
from crawler.scheduling.processes import ProcessRef, wait_or_kill

log = logging.getLogger(__name__)

# A child left behind had SIGTERM from its lifeline and kills itself STOP_PATIENCE later; one
# still there a while after that does not listen.
LEFT_BEHIND_PATIENCE = STOP_PATIENCE + 15.0


def owner_alive(conn: sqlite3.Connection, run: RunEntry) -> bool:
    """True while the process performing the run may still be alive (see the module)."""
    owner = ProcessRef.parse(run.owner)
    if owner is not None:
        alive = owner.alive()
        if alive is not None:
            return alive
    holder = current_holder(conn, source_lease(run.source))
    if holder is None:
        return False
    return owner is None or owner.same(holder.host, holder.pid, holder.started)


def running_runs(conn: sqlite3.Connection) -> list[tuple[RunEntry, bool]]:
    """Every run marked running, oldest first, each with whether its owner is alive."""
    runs = history.list_runs(conn, states=("running",), limit=1000, oldest_first=True)
    return [(run, owner_alive(conn, run)) for run in runs]


def abandon_dead_runs(
    db: ScheduleDatabase, home: Path, *, patience: float = LEFT_BEHIND_PATIENCE
) -> list[RunEntry]:
    """End every run whose owner died as ``abandoned`` and free its source; return them.

    Waits (up to ``patience``) for a crawl or index process a dead owner left running to stop,
    killing it if it does not.
    """
    with db.read() as conn:
        dead = [run for run, alive in running_runs(conn) if not alive]
    ended = []
    for run in dead:
        left = _end_left_behind(run, patience)
        entry = _abandon(db, home, run, left)
        if entry is not None:
            log.warning("%s: run #%d %s", entry.source, entry.id, entry.error)
            ended.append(entry)
    return ended


def _end_left_behind(run: RunEntry, patience: float) -> str | None:
    """Make sure the process a dead owner left running has ended; say how, or None if there was
    none. Done outside any transaction: it may take a minute."""
    child = ProcessRef.parse(run.child)
    if child is None or not child.alive():
        return None
    log.warning(
        "%s: run #%d: its owner is gone; waiting for %s, which it left running, to stop",
        run.source,
        run.id,
        child.describe(),
    )
    how = wait_or_kill(child, patience)
    return f"the process it left running ({child.describe()}) {how}"


def _abandon(db: ScheduleDatabase, home: Path, run: RunEntry, left: str | None) -> RunEntry | None:
    with db.write() as conn:
        current = history.get_run(conn, run.id)
        # Checked again under the write lock: the run may have ended or been taken over since.
        if current is None or current.state != "running" or owner_alive(conn, current):
            return None
        crawl = _crawl_of(home, current)
        if crawl is not None and current.crawl_run_id is None:
            history.record_crawl(conn, current.id, crawl.run_id, crawl.status)
        history.abandon_run(conn, current.id, _reason(current, left, crawl))
        _release_owner_leases(conn, current)
        return history.get_run(conn, current.id)


def _release_owner_leases(conn: sqlite3.Connection, run: RunEntry) -> None:
    owner = ProcessRef.parse(run.owner)
    if owner is None:
        # A run from before owners were recorded: its owner is whoever held its source.
        row = conn.execute(
            "SELECT * FROM leases WHERE name = ?", (source_lease(run.source),)
        ).fetchone()
        if row is None:
            return
        owner = LeaseHolder(**dict(row)).process
    release_dead(conn, owner)


def _crawl_of(home: Path, run: RunEntry) -> RunRecord | None:
    """The crawl run the run's crawl process worked on, if it left a record: the source's
    latest one that ended (or started) after the run started."""
    if run.started_at is None:
        return None
    started = parse_timestamp(run.started_at).replace(microsecond=0)
    try:
        records = CrawlStore(home).runs(run.source)
    except (OSError, ValueError, TypeError):
        return None  # an unreadable record: the run is ended all the same
    for record in reversed(records):
        moment = record.finished_at or record.started_at
        if parse_timestamp(moment) >= started:
            return record
    return None


def _reason(run: RunEntry, left: str | None, crawl: RunRecord | None) -> str:
    parts = [f"abandoned: {run.runner or 'its process'} ended before the run did"]
    if left is not None:
        parts.append(left)
    if crawl is not None:
        resumes = "; the next run resumes it" if crawl.status == "interrupted" else ""
        parts.append(f"its crawl {crawl.run_id} is {crawl.status}{resumes}")
    return "; ".join(parts)
