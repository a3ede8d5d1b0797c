"""Named leases in the schedule database: at most one process holds each at a time.

A lease (``source:atlas``, ``index``, ``service``) is a row naming its holder (a random token,
the host, the pid and the process's start) and when it expires. The holder renews it while it
works; a process that dies stops renewing, and its lease is taken over once it expires, or at
once when the holder's process is gone from this host (its pid gone, or given to a process that
started later: see :mod:`crawler.scheduling.processes`). Unlike a file lock it works for every
process that can open the database, and it says who holds it, which the admin area shows.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from crawler.scheduling.database import ScheduleDatabase, timestamp
from crawler.scheduling.errors import RunRefusedError
from crawler.scheduling.processes import ProcessRef

DEFAULT_TTL = 120.0  # seconds a lease lasts without renewal


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, for what, and until when it is theirs without renewal."""

    name: str
    holder: str
    host: str
    pid: int
    purpose: str
    acquired_at: str
    expires_at: float
    started: str | None = None  # the holder process's start; None in leases of older versions

    @property
    def process(self) -> ProcessRef:
        """The process holding the lease."""
        return ProcessRef(self.host, self.pid, self.started)

    def describe(self) -> str:
        """``pid 123 on host-a since 2025-09-01T03:00:00.000+00:00 (run #12)``."""
        return f"pid {self.pid} on {self.host} since {self.acquired_at} ({self.purpose})"

    def alive(self, now: float | None = None) -> bool:
        """True while the lease is unexpired and its holder, if on this host, still runs."""
        if (now or time.time()) >= self.expires_at:
            return False
        return self.process.alive() is not False


class LeaseBusyError(RunRefusedError):
    """Someone else holds the lease; ``holder`` says who."""

    def __init__(self, message: str, holder: LeaseHolder) -> None:
        super().__init__(message)
        self.holder = holder


def current_holder(conn: sqlite3.Connection, name: str) -> LeaseHolder | None:
    """The live holder of a lease, or None when it is free (or held by a dead process)."""
    row = conn.execute("SELECT * FROM leases WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    holder = LeaseHolder(**dict(row))
    return holder if holder.alive() else None


class Lease:
    """One named lease, acquired by this process. Use as a context manager: it is acquired on
    entry (LeaseBusyError if held), renewed in the background and released on exit."""

    def __init__(
        self,
        db: ScheduleDatabase,
        name: str,
        *,
        purpose: str,
        ttl: float = DEFAULT_TTL,
        on_acquire: Callable[[sqlite3.Connection, LeaseHolder | None], None] | None = None,
    ) -> None:
        """``on_acquire(conn, stale)`` runs in the acquiring transaction, with the expired or
        dead holder the lease was taken from (or None): work recorded as the lease's must begin
        in the same transaction as the lease, or another process could slip in between."""
        self.db = db
        self.name = name
        self.purpose = purpose
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self._on_acquire = on_acquire
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # set when a renewal found the lease taken over

    def acquire(self) -> None:
        """Take the lease now, or raise LeaseBusyError naming its live holder."""
        me = ProcessRef.current()
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM leases WHERE name = ?", (self.name,)).fetchone()
            stale = LeaseHolder(**dict(row)) if row is not None else None
            if stale is not None and stale.alive():
                raise LeaseBusyError(f"{self.name} is held by {stale.describe()}", stale)
            conn.execute(
                "INSERT OR REPLACE INTO leases"
                " (name, holder, host, pid, purpose, acquired_at, expires_at, started)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.name,
                    self.token,
                    me.host,
                    me.pid,
                    self.purpose,
                    timestamp(),
                    time.time() + self.ttl,
                    me.start,
                ),
            )
            if self._on_acquire is not None:
                self._on_acquire(conn, stale)

    def wait(self, stop: threading.Event | None = None, poll: float = 1.0) -> bool:
        """Take the lease, waiting while another process holds it; False if ``stop`` was set
        first."""
        while True:
            try:
                self.acquire()
                return True
            except LeaseBusyError:
                if stop is not None and stop.wait(poll):
                    return False
                if stop is None:
                    time.sleep(poll)

    def renew(self) -> bool:
        """Extend the lease; False (and ``lost`` set) if another process took it over."""
        with self.db.write() as conn:
            updated = conn.execute(
                "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?",
                (time.time() + self.ttl, self.name, self.token),
            ).rowcount
        self.lost = updated == 0
        return not self.lost

    def release(self) -> None:
        """Give the lease up (nothing happens if it was already taken over)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM leases WHERE name = ? AND holder = ?", (self.name, self.token)
            )

    def keep_alive(self) -> None:
        """Renew the lease in a background thread until :meth:`release`."""
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_until_released, name=f"lease {self.name}", daemon=True
        )
        self._renewer.start()

    def _renew_until_released(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                if not self.renew():
                    return
            except sqlite3.Error:
                continue  # a busy database now is no reason to give the lease up

    def __enter__(self) -> Lease:
        self.acquire()
        self.keep_alive()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def release_dead(conn: sqlite3.Connection, process: ProcessRef) -> list[str]:
    """Delete the leases a process that has died still holds; return their names."""
    released = []
    rows = conn.execute(
        "SELECT * FROM leases WHERE host = ? AND pid = ?", (process.host, process.pid)
    ).fetchall()
    for row in rows:
        holder = LeaseHolder(**dict(row))
        if process.same(holder.host, holder.pid, holder.started) and not holder.alive():
            conn.execute(
                "DELETE FROM leases WHERE name = ? AND holder = ?", (holder.name, holder.holder)
            )
            released.append(holder.name)
    return released
