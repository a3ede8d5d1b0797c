"""Which process is which: a pid with its start time, so that a reused pid is not taken for the
process that had it before.

A pid names a process only while it lives: once it has died, the kernel hands the number to a
later process, and in a container, where the scheduler is often pid 1 on every start, a dead
scheduler's pid soon belongs to the scheduler restarted in its place. So a process is recorded
as its host, its pid and its *start*: the boot id and the start time in clock ticks since boot
(``/proc/<pid>/stat``, field 22), which together never repeat on a host. A process of another
host cannot be checked from here (see :meth:`ProcessRef.alive`).

Without ``/proc`` (macOS, the BSDs) the start is unknown and the pid alone is checked, as leases
always did: a reused pid then passes for the dead process until its lease expires.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

HOST = socket.gethostname()
_PROC = Path("/proc")
_GONE_STATES = frozenset("ZXx")  # a zombie (or one being reaped) runs no more, reaped or not


@dataclass(frozen=True)
class ProcessRef:
    """One process, for as long as it lives: host, pid and start (None where unknown)."""

    host: str
    pid: int
    start: str | None = None

    @classmethod
    def current(cls) -> ProcessRef:
        """This process."""
        return cls.local(os.getpid())

    @classmethod
    def local(cls, pid: int) -> ProcessRef:
        """The process of this host that has ``pid`` now."""
        return cls(HOST, pid, process_start(pid))

    @property
    def token(self) -> str:
        """``host/pid/start`` (the start empty where unknown), as the schedule database keeps
        it. Host names hold no ``/``."""
        return f"{self.host}/{self.pid}/{self.start or ''}"

    @classmethod
    def parse(cls, token: str | None) -> ProcessRef | None:
        """Read a :attr:`token`; None for None or anything malformed."""
        if not token:
            return None
        host, _, rest = token.partition("/")
        pid, _, start = rest.partition("/")
        if not host or not pid.isdigit():
            return None
        return cls(host, int(pid), start or None)

    def describe(self) -> str:
        """``pid 123 on host-a``."""
        return f"pid {self.pid} on {self.host}"

    def same(self, host: str, pid: int, start: str | None) -> bool:
        """True if ``host``, ``pid`` and ``start`` name this process (a start unknown on either
        side is not compared)."""
        if (host, pid) != (self.host, self.pid):
            return False
        return start is None or self.start is None or start == self.start

    def alive(self) -> bool | None:
        """True while the process runs; False once it has ended (or its pid belongs to a later
        process); None for a process of another host, which cannot be checked from here."""
        if self.host != HOST:
            return None
        return local_alive(self.pid, self.start)


def local_alive(pid: int, start: str | None = None) -> bool:
    """True if a process of this host has ``pid`` and, when ``start`` is given, that start."""
    if pid <= 0 or not _exists(pid):
        return False
    stat = _stat(pid)
    if stat is None:
        return True  # it exists; /proc cannot say more (missing, or hiding other users' pids)
    state, ticks = stat
    if state in _GONE_STATES:
        return False
    return start is None or start == _start_token(ticks)


def process_start(pid: int) -> str | None:
    """The start of the process with ``pid`` (``<boot id>:<ticks since boot>``), or None where
    ``/proc`` cannot tell."""
    stat = _stat(pid)
    return _start_token(stat[1]) if stat is not None else None


def wait_or_kill(process: ProcessRef, patience: float, *, poll: float = 0.2) -> str:
    """Wait up to ``patience`` seconds for a process of this host to end, then kill it.

    Returns ``"ended"`` (by itself) or ``"killed"``. Only a process that is still the one
    recorded (same start) is ever signalled.
    """
    deadline = time.monotonic() + patience
    while process.alive():
        if time.monotonic() >= deadline:
            _signal(process, signal.SIGKILL)
            while process.alive() and time.monotonic() < deadline + 10:
                time.sleep(poll)
            return "killed"
        time.sleep(poll)
    return "ended"


def _signal(process: ProcessRef, signum: int) -> None:
    if not process.alive():
        return
    # Gone meanwhile, or another user's: nothing this process may do about it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(process.pid, signum)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    return True


def _stat(pid: int) -> tuple[str, str] | None:
    """A process's state letter and start time in clock ticks, from ``/proc/<pid>/stat``."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces and ")".
    fields = text[text.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]  # fields 3 and 22 of proc(5)


def _start_token(ticks: str) -> str:
    return f"{_boot_id()}:{ticks}"


@functools.cache
def _boot_id() -> str:
    """This boot's id: start times in ticks since boot repeat across reboots, with it they
    cannot."""
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
