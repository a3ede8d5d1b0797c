"""Recrawl a source on demand: a run request in the scheduler's book, run by whoever is free.

"Recrawl now" always queues a request with :meth:`ScheduleBook.request_run`, so every recrawl is
in the one run history whoever asked for it. A running scheduler service starts the request
within seconds. When none is running, the dashboard runs it itself, through the scheduler's own
foreground path (:class:`~crawler.scheduling.execution.RunExecutor`, as ``tdir schedule run-now
--wait`` does): the crawl and the incremental index as processes of their own, recorded in the
history. The run holds the source's lease, so a source never runs twice at once, whichever
process runs it; a request for a source that is busy waits for the lease, and a request that a
scheduler service took over meanwhile, or that an admin cancelled, is left alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from crawler.scheduling.book import ScheduleBook
from crawler.scheduling.errors import RunRefusedError
from crawler.scheduling.execution import RunExecutor, RunSettings
from crawler.scheduling.history import RunEntry
from crawler.scheduling.leases import LeaseBusyError

log = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 2.0  # how often a request for a busy source tries for its lease again


@dataclass
class RecrawlRunner:
    """Runs queued run requests in this process, each in a worker thread (thread-safe).

    ``on_finished`` is called after each run this runner started has ended, however it ended,
    so that cached index results and run records can be dropped.
    """

    settings: RunSettings
    on_finished: Callable[[], None] | None = None
    poll_seconds: float = WAIT_POLL_SECONDS
    _workers: dict[int, threading.Thread] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, run: RunEntry) -> bool:
        """Run a queued request in the background; False if this runner already handles it."""
        with self._lock:
            current = self._workers.get(run.id)
            if current is not None and current.is_alive():
                return False
            worker = threading.Thread(
                target=self._run, args=(run,), name=f"recrawl-{run.source}-{run.id}", daemon=True
            )
            self._workers[run.id] = worker
        worker.start()
        return True

    def handles(self, run_id: int) -> bool:
        """True while this runner is waiting for or performing the run."""
        with self._lock:
            worker = self._workers.get(run_id)
            return worker is not None and worker.is_alive()

    def busy(self) -> list[int]:
        """The ids of the runs this runner is waiting for or performing."""
        with self._lock:
            return sorted(i for i, worker in self._workers.items() if worker.is_alive())

    def join(self, run_id: int, timeout: float | None = None) -> None:
        """Wait for the worker of a run to end (for tests and orderly shutdown)."""
        with self._lock:
            worker = self._workers.get(run_id)
        if worker is not None:
            worker.join(timeout)

    def _still_queued(self, run_id: int) -> bool:
        current = ScheduleBook(self.settings.home, catalog=self.settings.catalog).run(run_id)
        return current is not None and current.state == "queued"

    def _run(self, run: RunEntry) -> None:
        executor = RunExecutor(self.settings)
        while True:
            try:
                active = executor.start_requested(run)
                break
            except LeaseBusyError:
                # The source is running elsewhere; the request waits its turn, as the
                # scheduler service would make it, unless it was cancelled or taken meanwhile.
                if not self._still_queued(run.id):
                    return
                time.sleep(self.poll_seconds)
            except RunRefusedError:
                return  # started by a scheduler service meanwhile, or cancelled
            except Exception:  # the request stays queued for a scheduler service to take
                log.exception("could not start run #%d of %s", run.id, run.source)
                return
        try:
            executor.perform(active)
        except Exception:  # perform records every failure of the run itself in the history
            log.exception("run #%d of %s could not be recorded", run.id, run.source)
        finally:
            if self.on_finished is not None:
                self.on_finished()
