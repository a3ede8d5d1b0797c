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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

# Below this many records a batch is mapped in this process.
PARALLEL_FROM = 2000
CHUNK = 256  # records per message: large enough that sending costs little beside the work

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
    workers = build_workers() if workers is None else workers
    smallest = PARALLEL_FROM if parallel_from is None else parallel_from
    if workers < 2 or len(items) < smallest:
        yield from map(task, items)
        return
    global _task, _items
    # Forked workers start with the task and the items in their memory: only the bounds of each
    # chunk go to them, and only the answers come back.
    _task, _items = task, items
    # Out of the cyclic collector's sight while the workers run: a collection in a worker
    # writes to every object it looks at, and so copies each page of this process it touches,
    # until a worker forked from a large build is as large as the build.
    gc.freeze()
    try:
        bounds = [(i, min(i + CHUNK, len(items))) for i in range(0, len(items), CHUNK)]
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            for answers in pool.map(_run_chunk, bounds):
                yield from cast(list[R], answers)
    finally:
        gc.unfreeze()
        _task, _items = None, ()


def _run_chunk(bounds: tuple[int, int]) -> list[object]:
    assert _task is not None
    start, end = bounds
    return [_task(item) for item in _items[start:end]]
