"""A crawl or index process that stops when the process that started it dies.

``python -m tdir.lifeline [--log FILE] -- ARGS`` (see :func:`command`) runs ``tdir ARGS`` with
a *lifeline*: its stdin is a pipe whose write end only the starting process (the scheduler, ``tdir
schedule run-now --wait`` or the dashboard) holds until the child has ended. However that
process ends (stopped, crashed, killed with SIGKILL, killed by the OOM killer) the kernel closes
the write end; the child reads end-of-file, sends itself SIGTERM and so stops as on a first
Ctrl+C: a crawl closes its run as ``interrupted`` (its records kept, the next crawl of the source
resumes it), an index update stops before its next write. A child that has not ended a minute
later kills itself.

The starting process writes to the pipe only when it sends the child SIGTERM itself (stopping in
order, a first Ctrl+C): should it then die before the child has stopped (a second Ctrl+C, ``docker
stop`` running out of patience), the child is already stopping and is not sent SIGTERM again, as
Scrapy takes a second signal as an order to stop hard, leaving a crawl that cannot be resumed.

Why a pipe rather than Linux's ``prctl(PR_SET_PDEATHSIG)``: the death signal fires when the
*thread* that started the child ends, not its process, and the scheduler starts children from
worker threads; setting it takes a ``preexec_fn``, which is unsafe in a threaded process; it
exists on Linux only; and arriving on top of the SIGTERM a scheduler stopping in order sends, it
would be a second signal, on which Scrapy stops hard, leaving a crawl that cannot be resumed. The
pipe closes once, with the whole process, on every POSIX system.

Once the starting process is gone nobody reads the child's output, so the rest of it is
appended to the run's log (``--log``) instead of failing on a broken pipe.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
from collections.abc import Sequence

STOP_PATIENCE = 60.0  # seconds a child has to close its run after SIGTERM before it is killed
STOPPING = b"s"  # written on the lifeline by a parent that has sent the child SIGTERM itself


def command(args: Sequence[str], *, log_file: str | None = None) -> list[str]:
    """The command line that runs ``tdir ARGS`` with a lifeline on its stdin."""
    logged = ["--log", log_file] if log_file else []
    return [sys.executable, "-m", "tdir.lifeline", *logged, "--", *args]


def hold(fd: int, log_file: str | None, patience: float = STOP_PATIENCE) -> None:
    """Watch the lifeline on ``fd`` in a background thread; see the module's description.

    Nothing is watched unless ``fd`` is a pipe: run by hand, with a terminal or /dev/null on
    stdin, the child must not stop at once.
    """
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
    except OSError:
        return
    threading.Thread(
        target=_watch, args=(fd, log_file, patience), name="lifeline", daemon=True
    ).start()


def _watch(fd: int, log_file: str | None, patience: float) -> None:
    signalled = False
    try:
        while chunk := os.read(fd, 4096):
            signalled = signalled or STOPPING in chunk
    except OSError:
        pass  # a lifeline that cannot be read is one that has gone
    _divert_output(log_file)
    if not signalled:
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Event().wait(patience)
    os.kill(os.getpid(), signal.SIGKILL)


def _divert_output(log_file: str | None) -> None:
    """Point stdout and stderr, pipes nobody reads any more, at the run's log (or nowhere)."""
    try:
        target = os.open(log_file or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        target = os.open(os.devnull, os.O_WRONLY)
    if log_file:
        note = f"--- pid {os.getpid()}: the process that started it is gone; stopping\n"
        os.write(target, note.encode())
    for fd in (1, 2):
        os.dup2(target, fd)
    os.close(target)
