"""Generating a demo world on disk: the population file plus its ground truth."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from crawler.demoweb.generator import GenerationConfig, generate
from crawler.demoweb.model import Therapist
from crawler.demoweb.numbering import NumberPlan
from crawler.demoweb.sites.directory import ORDINALS
from crawler.demoweb.store import Population, PopulationWriter
from crawler.demoweb.truth import TruthWriter

Progress = Callable[[int], None]


def id_space_for(therapists: int) -> int:
    """The size of the sites' public-id space: room for ten times the population, at least 10^6."""
    needed = max(1, therapists) * ORDINALS * 10
    return max(10**6, 10 ** math.ceil(math.log10(needed)))


def write_world(
    directory: Path,
    therapists: Iterable[Therapist],
    meta: dict[str, Any],
    plan: NumberPlan,
    progress: Progress | None = None,
) -> Population:
    """Store ``therapists`` and write the ground truth; return the opened population.

    ``meta`` must hold ``seed``, ``as_of``, ``generation`` and ``id_space``; the plan is stored
    after the stream is consumed, so its counters include every number issued.
    """
    writer = PopulationWriter(directory)
    last_id = -1
    for t in therapists:
        writer.add(t)
        last_id = max(last_id, t.id)
        if progress and writer.count % 10_000 == 0:
            progress(writer.count)
    writer.finish({**meta, "next_id": last_id + 1, "numbers": plan.to_doc()})
    population = Population(directory)
    TruthWriter(population).write(directory)
    return population


def generate_world(
    directory: Path | str,
    *,
    seed: int = 42,
    therapists: int = 300,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Population:
    """Generate a seeded world into ``directory`` and return it opened.

    The same seed and size always give byte-identical pages and ground truth.
    """
    config = GenerationConfig(
        seed=seed, therapists=therapists, **({"as_of": as_of} if as_of else {})
    )
    plan, stream = generate(config)
    meta = {
        "seed": config.seed,
        "as_of": config.as_of.isoformat(),
        "generation": 0,
        "id_space": id_space_for(config.therapists),
    }
    return write_world(Path(directory), stream, meta, plan, progress)


def open_world(directory: Path | str) -> Population:
    """Open a world written by :func:`generate_world` or :func:`crawler.demoweb.mutation.mutate`."""
    return Population(directory)
