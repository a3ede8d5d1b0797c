"""Benchmark: the wall time of a ``tdir search`` process, beside a raw Python + sqlite3 script.

A person types ``tdir search --near 78704 --radius 10mi --json`` and waits for the whole
process: the interpreter's start, the imports, the ZIP's lookup, the search and the printing.
This runs that command as a subprocess, against the index of N synthetic profiles that
``benchmarks.search_latency`` builds and caches under ``var/bench/``, and beside it a **raw
baseline**: a subprocess of the same interpreter running a short script that imports nothing
but ``sqlite3``, ``json``, ``math``, ``struct`` and ``sys`` and answers the same search in SQL
written by hand (``benchmarks.search_latency``'s: a box on the location table, the exact
distance, best-match order, facet counts through the facet table) and prints it as JSON. The
script is handed the ZIP's centroid; ``tdir`` looks the ZIP up itself.

Both answers are checked equal (total, the page's ids, facet counts) before anything is timed;
then the two alternate for ``--rounds`` rounds (which goes first alternates too) so that they
share the machine's noise, and it prints the medians and their ratio::

    .venv/bin/python -m benchmarks.cli_latency --profiles 100000 --rounds 21
    .venv/bin/python -m benchmarks.cli_latency --checkout /tmp/before   # another tree's tdir

Both sides run as an installed ``tdir`` runs once it has run before: with bytecode caching on
(``PYTHONPYCACHEPREFIX``) and, for ``tdir``, its copy of the ZIP table (``TDIR_CACHE_DIR``),
both in ``var/bench/cli-cache/``; the untimed warm-up rounds fill them. Each process is timed
from its start to its end by a small launcher, which also reads its CPU time and peak RSS
(``benchmarks.measure``).

``run(quick)`` is the benchmark suite's stage (``python -m benchmarks all``): 100,000 profiles
and 21 rounds, or 5,000 profiles and 7 rounds with ``quick``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import ChildRun, alternate, run_child
from benchmarks.search_latency import ROOT, build_index
from benchmarks.suite import StageResult, print_results
from indexer.geo import KM_PER_MILE
from indexer.geocode import geocode_place
from indexer.taxonomy import load_taxonomy

PAGE_SIZE = 20  # tdir search's default --limit
QUICK = {"profiles": 5_000, "rounds": 7}
FULL = {"profiles": 100_000, "rounds": 21}

# The raw baseline: argv is the index file, the point's latitude and longitude, the radius in km
# and the page size. It prints {"total", "ids", "facets"} and the page's stored profiles.
RAW_SEARCH = r"""
import json, math, sqlite3, struct, sys

path, lat, lon, radius, size = sys.argv[1], *map(float, sys.argv[2:5]), int(sys.argv[5])
EARTH_KM = 6371.0087714
VARIANCE_M2 = 0.5 * (10 * 1.609344 * 1000.0) ** 2 / math.log(0.5)
FACETS = ("modality", "condition", "credential", "state", "verified")


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def gc_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def best_match(rating, dist):
    part = (4.0 if rating is None else f32(rating)) * f32(0.2)
    return f32(math.exp(0.5 * (dist * 1000.0) ** 2 / VARIANCE_M2) * part)


angular = radius / EARTH_KM
dlat = math.degrees(angular)
dlon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
conn.create_function("gc_km", 4, gc_km, deterministic=True)
conn.create_function("best_match", 2, best_match, deterministic=True)
conn.execute("BEGIN")
conn.execute(
    "CREATE TEMP TABLE matched AS SELECT p.rid, p.id, n.dist, p.rating, p.rating_sort,"
    " p.review_count FROM (SELECT rid, MIN(gc_km(?1, ?2, lat, lon)) AS dist FROM places"
    " WHERE lat BETWEEN ?3 AND ?4 AND lon BETWEEN ?5 AND ?6 GROUP BY rid) n"
    " JOIN profiles p ON p.rid = n.rid WHERE p.active = 1 AND n.dist <= ?7",
    (lat, lon, lat - dlat, lat + dlat, lon - dlon, lon + dlon, radius),
)
total = conn.execute("SELECT COUNT(*) FROM matched").fetchone()[0]
page = conn.execute(
    "SELECT m.id, m.dist, p.profile FROM matched m JOIN profiles p ON p.rid = m.rid"
    " ORDER BY -best_match(m.rating, m.dist), -m.rating_sort, -m.review_count, m.id LIMIT ?",
    (size,),
).fetchall()
facets = {name: {} for name in FACETS}
for field, value, n in conn.execute(
    "SELECT f.field, f.value, COUNT(*) FROM matched m CROSS JOIN facets f ON f.rid = m.rid"
    f" WHERE f.field IN ({', '.join('?' * len(FACETS))}) GROUP BY f.field, f.value",
    FACETS,
):
    facets[field][value] = n
conn.execute("COMMIT")
json.dump(
    {
        "total": total,
        "ids": [row[0] for row in page],
        "facets": facets,
        "hits": [{"distance_km": row[1], "profile": json.loads(row[2])} for row in page],
    },
    sys.stdout,
    indent=2,
)
sys.stdout.write("\n")
"""


def tdir_command() -> list[str]:
    """The ``tdir`` console script of this interpreter's environment, else ``python -m``."""
    script = Path(sys.executable).with_name("tdir")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tdir.cli"]


def environment(
    index: Path, home: Path, cache: Path, checkout: Path | None = None
) -> dict[str, str]:
    """What both sides run with: the benchmark's index, and caches of their own (bytecode, and
    tdir's copy of the ZIP table); ``checkout``: where ``tdir`` is imported from instead."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TDIR_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        TDIR_HOME=str(home),
        TDIR_BACKEND="sqlite",
        TDIR_SQLITE_PATH=str(index.resolve()),
        TDIR_CACHE_DIR=str(cache.resolve()),
        PYTHONPYCACHEPREFIX=str((cache / "pycache").resolve()),
    )
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout.resolve())  # ahead of this tree's editable install
    return env


def run_process(command: list[str], env: dict[str, str]) -> ChildRun:
    """One process to its end: its wall time, CPU time, peak RSS and what it printed."""
    return run_child(command, env=env)


def answer(printed: str, *, tdir: bool) -> dict[str, Any]:
    """Total, page ids and facet counts, from either side's JSON."""
    document = json.loads(printed)
    ids = [h["id"] for h in document["hits"]] if tdir else document["ids"]
    return {"total": document["total"], "ids": ids, "facets": document["facets"]}


def measure(
    profiles: int,
    rounds: int,
    *,
    zip_code: str = "78704",
    radius_mi: float = 10.0,
    warmup: int = 2,
    seed: int = 7,
    checkout: Path | None = None,
) -> StageResult:
    """Build (or reuse) the index, check both sides agree, time them alternately."""
    index = build_index(profiles, seed, load_taxonomy())
    point = geocode_place(zip_code).point
    radius_km = radius_mi * KM_PER_MILE
    home = Path(tempfile.mkdtemp(prefix="tdir-cli-latency-"))
    env = environment(index, home, ROOT / "cli-cache", checkout)
    sides = {
        "tdir": [
            *tdir_command(),
            *("search", "--near", zip_code, "--radius", f"{radius_mi:g}mi", "--json"),
        ],
        "raw": [
            *(sys.executable, "-c", RAW_SEARCH, str(index.resolve())),
            *(repr(point.lat), repr(point.lon), repr(radius_km), str(PAGE_SIZE)),
        ],
    }
    try:
        for _ in range(max(1, warmup)):
            printed = {side: run_process(command, env).stdout for side, command in sides.items()}
        ours, theirs = answer(printed["tdir"], tdir=True), answer(printed["raw"], tdir=False)
        if ours != theirs:
            raise SystemExit(f"tdir and the raw script disagree:\n  tdir {ours}\n  raw  {theirs}")
        runs = alternate(
            {side: functools.partial(run_process, command, env) for side, command in sides.items()},
            rounds,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(
        f"{profiles} profiles; tdir search --near {zip_code} --radius {radius_mi:g}mi"
        f" --json: {ours['total']} matches, {len(ours['ids'])} on the page (both sides);"
        f" {rounds} rounds, alternating" + (f"; tdir from {checkout}" if checkout else "")
    )
    print(f"{'side':<6} {'median':>8} {'min':>8} {'max':>8} {'CPU':>8} {'peak MB':>8}")
    for side, values in runs.items():
        walls = [r.wall_s for r in values]
        print(
            f"{side:<6} {statistics.median(walls):>7.3f}s {min(walls):>7.3f}s"
            f" {max(walls):>7.3f}s {statistics.median(r.cpu_s for r in values):>7.3f}s"
            f" {max(r.peak_rss_mb for r in values):>8.0f}"
        )
    tdir = statistics.median(r.wall_s for r in runs["tdir"])
    raw = statistics.median(r.wall_s for r in runs["raw"])
    raw_rss = max(r.peak_rss_mb for r in runs["raw"])
    return StageResult(
        stage="cli search",
        tdir=f"{tdir:.3f} s/process",
        baseline=f"{raw:.3f} s/process",
        ratio=tdir / raw,
        sizes=f"{profiles:,} profiles, {ours['total']:,} matches, {rounds} rounds",
        peak_rss_mb=max(r.peak_rss_mb for r in runs["tdir"]),
        notes=f"wall time of `tdir search --near {zip_code} --radius {radius_mi:g}mi --json`, "
        "start to end, beside a python + sqlite3 script given the ZIP's point (checked equal: "
        "total, page ids, facets); peak RSS: the tdir process (the script's: "
        f"{raw_rss:.0f} MB)" + (f"; tdir from {checkout}" if checkout else ""),
    )


def run(quick: bool) -> StageResult:
    """The suite's stage: 5,000 profiles and 7 rounds if ``quick``, else 100,000 and 21."""
    sizes = QUICK if quick else FULL
    return measure(sizes["profiles"], sizes["rounds"])


def main(argv: list[str] | None = None) -> int:
    """Time ``tdir search`` beside the raw script; print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=FULL["profiles"])
    parser.add_argument("--zip", default="78704", help="the ZIP searched near (default 78704)")
    parser.add_argument("--radius-mi", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=FULL["rounds"], help="timed runs of each side"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each side first")
    parser.add_argument("--seed", type=int, default=7, help="of the index (as search_latency)")
    parser.add_argument(
        "--checkout",
        type=Path,
        help="run the tdir of this source tree instead, e.g. an earlier commit's "
        "(git worktree add /tmp/before HEAD~1), for a figure to compare with",
    )
    args = parser.parse_args(argv)
    result = measure(
        args.profiles,
        args.rounds,
        zip_code=args.zip,
        radius_mi=args.radius_mi,
        warmup=args.warmup,
        seed=args.seed,
        checkout=args.checkout,
    )
    print_results(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
