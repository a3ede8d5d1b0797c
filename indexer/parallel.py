"""One pure function over many records, on every core the machine gives the build.

Normalising a listing, a review or an issuer's record depends on that record alone, and costs
far more than sending it to another process; the rest of a build (resolution, profiles) needs
all of them at once. So a build maps those steps over worker processes forked from itself —
they start with its loaded vocabularies, tables, caches and the records themselves, so only the
answers travel — and takes the answers back in the records' order, so a build's output does
not depend on how many workers made it.

``TDIR_BUILD_WORKERS`` sets how many (default: the cores this process may run on; 1 runs
everything in this process). Small batches stay in this process: forking costs more than they
do.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many records a batch is mapped in this process.
PARALLEL_FROM = 2000
CHUNK = 256  # records per message: large enough that sending costs little beside the work
# Chunks per worker submitted ahead of the answers taken: enough to keep every worker busy,
# few enough that answers not taken yet (a write slower than its profiles) stay a few chunks.
AHEAD = 2

# Set in this process just before the workers are forked, which inherit them.
_task: Callable[[Any], Any] | None = None
_items: Sequence[Any] = ()


def build_workers() -> int:
    """How many processes a build maps its per-record steps over."""
    configured = os.environ.get("TDIR_BUILD_WORKERS", "").strip()
    if configured:
        try:
            workers = int(configured)
        except ValueError:
            raise ValueError(
                f"TDIR_BUILD_WORKERS must be a whole number of processes, not {configured!r}"
            ) from None
        if workers < 1:
            raise ValueError(f"TDIR_BUILD_WORKERS must be at least 1, not {workers}")
        return workers
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(
    task: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    parallel_from: int | None = None,
) -> Iterator[R]:
    """``task`` of each item, in the items' order, mapped over ``workers`` forked processes
    (default :func:`build_workers`) when there are at least ``parallel_from`` items (default
    :data:`PARALLEL_FROM`)."""
    with forked_map(task, items, workers=workers, parallel_from=parallel_from) as answers:
        yield from answers


@contextmanager
def forked_map(
    task: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    parallel_from: int | None = None,
    send_items: bool = False,
) -> Iterator[Iterator[R]]:
    """:func:`parallel_map`, with the workers forked on entry rather than on the first answer
    asked for: for a map whose answers are taken while this process runs threads of its own
    (an index writer's), which a fork must not catch holding a lock. The answers come as
    they are taken, at most :data:`AHEAD` chunks before them; the workers stop on exit.

    ``send_items``: each chunk's items are sent to its worker rather than read from the memory
    it was forked with. Reading an object there writes its reference count, which copies its
    page into the worker: worth avoiding for many small items read over a long map (a build's
    clusters), which every worker would otherwise end up holding a copy of."""
    workers = build_workers() if workers is None else workers
    smallest = PARALLEL_FROM if parallel_from is None else parallel_from
    if workers < 2 or len(items) < smallest:
        yield map(task, items)
        return
    global _task, _items
    bounds = iter([(i, min(i + CHUNK, len(items))) for i in range(0, len(items), CHUNK)])

    def submit(chunk: tuple[int, int]) -> Future[list[Any]]:
        if send_items:
            return pool.submit(_run_items, items[chunk[0] : chunk[1]])
        return pool.submit(_run_chunk, chunk)

    pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
    try:
        # Forked workers start with the task (and the items) in their memory: only the bounds
        # of each chunk go to them, and only the answers come back. Out of the cyclic
        # collector's sight as they are forked: a collection in a worker writes to every object
        # it looks at, and so copies each page of this process it touches, until a worker forked
        # from a large build is as large as the build.
        outer = _task, _items
        _task, _items = task, items
        gc.freeze()
        try:
            # The first submission forks every worker (a fork-context pool starts them all).
            pending = deque(submit(chunk) for chunk in islice(bounds, AHEAD * workers))
        finally:
            gc.unfreeze()
            _task, _items = outer
        yield _answers(pending, bounds, submit)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _answers(
    pending: deque[Future[list[Any]]],
    bounds: Iterator[tuple[int, int]],
    submit: Callable[[tuple[int, int]], Future[list[Any]]],
) -> Iterator[Any]:
    """The chunks' answers in order, a chunk submitted for each one taken."""
    while pending:
        answers = pending.popleft().result()
        following = next(bounds, None)
        if following is not None:
            pending.append(submit(following))
        yield from answers


def _run_chunk(bounds: tuple[int, int]) -> list[object]:
    assert _task is not None
    start, end = bounds
    return [_task(item) for item in _items[start:end]]


def _run_items(items: Sequence[object]) -> list[object]:
    assert _task is not None
    return [_task(item) for item in items]
