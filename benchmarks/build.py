"""Benchmark: the index build — normalise, resolve, verify, profiles — against an earlier build.

The build has no raw baseline outside tdir (nothing else turns listings into profiles), so its
baseline is tdir's own build at an earlier revision (``--baseline-rev``, default the revision
the README's figures were first taken at), checked out beside this tree and run on the same
crawl store by the same interpreter. Each side runs in a fresh process per round, alternating
which goes first (:mod:`benchmarks.measure`), and reports:

- **CPU per listing**: the process's CPU time (its worker processes' included) for the whole
  build, less the CPU time of a build over an empty crawl store, over the listings read;
- **start-up**: the wall time of a build over an empty crawl store (imports, vocabularies,
  tables), from the process's start;
- **listings/s**: listings over the wall time of the whole build process;
- **peak RSS** of the build process.

Before timing, both sides must group the listings into the same profiles; a difference is
reported (a change of behaviour between the revisions), not hidden. The crawl store is a demo
web crawled over HTTP (cached under ``var/bench/``, as :mod:`benchmarks.index_throughput`
makes it), or any ``TDIR_HOME`` given with ``--home``::

    .venv/bin/python -m benchmarks.build [--quick] [--therapists 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from benchmarks.index_throughput import ROOT, prepare
from benchmarks.measure import ChildRun, alternate, run_child
from benchmarks.suite import StageResult

# The revision the build's figures in the README were first measured at.
BASELINE_REV = "5d1c647"
REPO = Path(__file__).resolve().parent.parent

# Run by each side's interpreter with only that side's tree on its path: the API both revisions
# share (CrawlStore, build_profiles), nothing of this module.
BUILD = r"""
import hashlib, json, sys
from pathlib import Path
from crawler.runs import CrawlStore
from indexer.build import build_profiles
build = build_profiles(CrawlStore(Path(sys.argv[1])))
groups = {}
for listing_id, profile_id in build.listing_to_profile.items():
    groups.setdefault(profile_id, []).append(listing_id)
clusters = sorted(",".join(sorted(ids)) for ids in groups.values())
print(json.dumps({
    "listings": build.summary.listings,
    "profiles": build.summary.profiles,
    "clusters": hashlib.sha256("\n".join(clusters).encode()).hexdigest(),
    "cluster_list": clusters if len(sys.argv) > 2 else None,
}))
"""


def checkout(rev: str) -> Path:
    """A tree of ``rev`` beside this one (made once, in the temporary directory: inside this
    tree, the linters and the tests would take it for part of the project)."""
    sha = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = Path(tempfile.gettempdir()) / f"tdir-rev-{sha}"
    if not (tree / "indexer" / "build.py").exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--force", "--detach", str(tree), sha],
            capture_output=True,
            check=True,
        )
    return tree


def build_once(tree: Path, home: Path, *, clusters: bool = False) -> tuple[ChildRun, dict]:
    """One build of ``home``'s crawl store by the code of ``tree``, in a fresh process."""
    command = [sys.executable, "-P", "-c", BUILD, str(home)] + (["clusters"] if clusters else [])
    run = run_child(command, env={**os.environ, "PYTHONPATH": str(tree)})
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def _same_profiles(trees: Mapping[str, Path], home: Path) -> str:
    """Whether both sides group the listings alike; a note saying how they differ if not."""
    answers = {name: build_once(tree, home, clusters=True)[1] for name, tree in trees.items()}
    tdir, base = answers["tdir"], answers["baseline"]
    if tdir["clusters"] == base["clusters"]:
        return f"both sides build the same {tdir['profiles']:,} profiles"
    ours, theirs = set(tdir["cluster_list"]), set(base["cluster_list"])
    return (
        f"the sides differ: {len(ours - theirs)} of tdir's {tdir['profiles']:,} profiles are "
        f"not the baseline's ({len(theirs - ours)} of its {base['profiles']:,})"
    )


def measure(home: Path, baseline_rev: str, rounds: int) -> StageResult:
    """Time both sides on ``home`` and on an empty store; the suite's row."""
    trees = {"tdir": REPO, "baseline": checkout(baseline_rev)}
    agreement = _same_profiles(trees, home)
    print(f"  {agreement}")
    with tempfile.TemporaryDirectory(prefix="tdir-empty-home-") as empty:
        sides = {
            name: (lambda tree=tree: (build_once(tree, home), build_once(tree, Path(empty))))
            for name, tree in trees.items()
        }
        results = alternate(sides, rounds, lambda n, r: print(f"  round {n + 1}: {_brief(r)}"))
    figures = {name: _figures(runs) for name, runs in results.items()}
    listings = figures["tdir"]["listings"]
    tdir, base = figures["tdir"], figures["baseline"]
    return StageResult(
        stage="index build",
        tdir=f"{tdir['cpu_ms']:.2f} ms CPU/listing, {tdir['rate']:,.0f} listings/s, "
        f"start-up {tdir['startup_s']:.1f} s",
        baseline=f"{base['cpu_ms']:.2f} ms CPU/listing, {base['rate']:,.0f} listings/s, "
        f"start-up {base['startup_s']:.1f} s ({baseline_rev})",
        ratio=tdir["cpu_ms"] / base["cpu_ms"],
        sizes=f"{listings:,} listings → {tdir['profiles']:,} profiles, {rounds} rounds",
        peak_rss_mb=tdir["rss_mb"],
        notes=(
            f"ratio: CPU per listing; listings/s {tdir['rate'] / base['rate']:.2f} times the "
            f"baseline's; baseline peak RSS {base['rss_mb']:.0f} MB; {agreement}"
        ),
    )


def _figures(runs: list[tuple[tuple[ChildRun, dict], tuple[ChildRun, dict]]]) -> dict:
    full = [run for (run, _), _ in runs]
    empty = [run for _, (run, _) in runs]
    answer = runs[0][0][1]
    listings = answer["listings"]
    startup_cpu = statistics.median(r.cpu_s for r in empty)
    return {
        "listings": listings,
        "profiles": answer["profiles"],
        "cpu_ms": (statistics.median(r.cpu_s for r in full) - startup_cpu) * 1000 / listings,
        "rate": listings / statistics.median(r.wall_s for r in full),
        "startup_s": statistics.median(r.wall_s for r in empty),
        "rss_mb": max(r.peak_rss_mb for r in full),
    }


def _brief(results: Mapping[str, tuple[tuple[ChildRun, dict], tuple[ChildRun, dict]]]) -> str:
    return ", ".join(
        f"{name} {full.cpu_s:.1f} s CPU ({empty.wall_s:.1f} s start-up)"
        for name, ((full, _), (empty, _)) in results.items()
    )


def run(quick: bool) -> StageResult:
    """The suite's stage: a demo web of 300 therapists (``quick``) or 1,000, crawled once."""
    therapists = 300 if quick else 1000
    return measure(prepare(therapists, 42), BASELINE_REV, 3 if quick else 5)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--therapists", type=int, help="demo web size (default 1000; 300 quick)")
    parser.add_argument("--home", type=Path, help="a TDIR_HOME with a crawl store to build")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args(argv)
    ROOT.mkdir(parents=True, exist_ok=True)
    home = args.home or prepare(args.therapists or (300 if args.quick else 1000), 42)
    result = measure(home.resolve(), args.baseline_rev, args.rounds or (3 if args.quick else 5))
    for key, value in result.__dict__.items():
        print(f"{key:>12}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
