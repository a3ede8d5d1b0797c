"""How every benchmark measures: two sides in alternation, child processes' wall time, CPU time
and peak memory (from the kernel's own accounting of each child), medians.

Peak memory is the resident set's high-water mark, ``ru_maxrss``, which Linux reports in
kilobytes. A process inherits a floor for it: ``execve`` carries over the high-water mark of the
memory it replaces, and a child started by ``fork`` or ``vfork`` begins with its parent's. A
benchmark's process holds a served demo web or a whole index, so a child it started directly
would report at least that. Each measured child is therefore started by a small launcher (a
bare interpreter, some 10 MB) which spawns it, reaps it with ``wait4`` and writes down its
wall time, CPU time and peak RSS: the child's own, above the launcher's 10 MB floor.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ERROR_TAIL_LINES = 30
INTERRUPT_GRACE_SECONDS = 60

# argv: the report file, then the command. The child gets the launcher's environment and
# output; SIGINT and SIGTERM are passed on to it, so stopping the launcher stops the child.
LAUNCHER = r"""
import json, os, signal, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ)
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda number, frame: os.kill(pid, number))
while True:
    try:
        _, status, usage = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
wall = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as out:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
               "maxrss_kb": usage.ru_maxrss, "returncode": code}, out)
sys.exit(code if code >= 0 else 128 - code)
"""


def peak_rss_mb() -> float:
    """This process's peak resident set so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class ChildRun:
    """One child process, run to its end."""

    wall_s: float
    cpu_s: float  # user + system, of the child (and any processes it waited for)
    peak_rss_mb: float  # of the child (or the largest process it waited for)
    stdout: str
    returncode: int = 0


class ChildFailed(RuntimeError):
    """A measured process exited with an error."""


def run_child(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    capture: bool = True,
) -> ChildRun:
    """Run ``command`` to its end; its wall time, its own CPU time and peak RSS, its output
    (``capture``; else it writes to this process's own output, and ``stdout`` is empty)."""
    with tempfile.TemporaryDirectory(prefix="tdir-measure-") as scratch:
        report = Path(scratch) / "usage.json"
        out_path, err_path = Path(scratch) / "stdout", Path(scratch) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            launcher = [sys.executable, "-S", "-I", "-c", LAUNCHER, str(report), *command]
            child = subprocess.Popen(
                launcher,
                env=env,
                stdout=out if capture else None,
                stderr=err if capture else None,
            )
            try:
                child.wait()
            except BaseException:
                # Interrupted: the launcher passes SIGINT on, so the measured process unwinds
                # (stops what it started) as on Ctrl+C; killed if it does not end in time.
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(timeout=INTERRUPT_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                raise
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        tail = "".join(f"\n{line}" for line in stderr.splitlines()[-ERROR_TAIL_LINES:])
        if not report.exists():
            raise ChildFailed(f"{' '.join(command[:4])} ... could not be started{tail}")
        usage = json.loads(report.read_text(encoding="utf-8"))
        if check and usage["returncode"] != 0:
            raise ChildFailed(
                f"{' '.join(command[:4])} ... exited with {usage['returncode']}"
                + (f":{tail}" if tail else "")
            )
    return ChildRun(
        usage["wall_s"], usage["cpu_s"], usage["maxrss_kb"] / 1024, stdout, usage["returncode"]
    )


def alternate(
    sides: Mapping[str, Callable[[], T]],
    rounds: int,
    progress: Callable[[int, dict[str, T]], None] | None = None,
) -> dict[str, list[T]]:
    """Run every side once per round, which side goes first alternating round by round, so that
    both share the machine's noise; each side's results in round order. ``progress`` is told
    each finished round's results."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, not {rounds}")
    results: dict[str, list[T]] = {name: [] for name in sides}
    for round_number in range(rounds):
        order = list(sides) if round_number % 2 == 0 else list(sides)[::-1]
        for name in order:
            results[name].append(sides[name]())
        if progress is not None:
            progress(round_number, {name: values[-1] for name, values in results.items()})
    return results
