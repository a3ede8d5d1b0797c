"""Benchmark: a crawl of a faulty demo web, then of the healed one, against a healthy crawl.

Three crawls of every source of the demo catalog, each into a fresh data directory but the
last, with politeness delays off (every host is this machine):

- ``healthy``: the demo web as it should be (the baseline);
- ``faulty``: the same web with injected faults (default: 10% server errors, 5% stalls past the
  crawl's timeout, 5% bodies cut short, 2% resets, an endless calendar);
- ``recrawl``: the faulty crawl's data directory crawled again once the web has healed.

For each it prints the directory listings captured (current, not vanished) of those published,
the pages spent in the calendar, errors by kind and the wall time, and the faulty crawl's time
as a ratio of the healthy one's::

    .venv/bin/python -m benchmarks.chaos_crawl --therapists 300
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from crawler.demoweb import DemoWeb, FaultPlan, GroundTruth, generate_world
from crawler.runs import CrawlStore
from indexer.snapshots import load_snapshot

DIRECTORIES = ("atlas", "guild", "pages", "reviews")
DEFAULT_FAULTS = "5xx=0.1,stall=0.05:8s,truncate=0.05,reset=0.02,trap=calendar"


def crawl_all(home: Path, sites: Path, timeout: str) -> tuple[list[dict[str, Any]], float]:
    """Crawl every source; the run records and the wall time."""
    env = {**os.environ, "TDIR_HOME": str(home), "TDIR_CRAWL_TIMEOUT": timeout}
    command = [sys.executable, "-m", "tdir.cli", "crawl", "--all", "--sites", str(sites)]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--no-delay", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"crawl failed:\n{done.stderr}")
    return json.loads(done.stdout), elapsed


def captured(home: Path, urls: dict[str, str], truth: GroundTruth) -> tuple[int, int]:
    """Directory listings current in the crawl store, of those the truth publishes."""
    store = CrawlStore(home)
    found = published = 0
    for source in DIRECTORIES:
        paths = {item["path"] for _, item in truth.listings(source)}
        published += len(paths)
        snapshot = load_snapshot(store, source)
        current = {
            listing.source_ref.removeprefix(urls[source])
            for listing_id, listing in snapshot.listings.items()
            if listing_id not in snapshot.vanished
        }
        found += len(paths & current)
    return found, published


def report(name: str, runs: list[dict[str, Any]], elapsed: float, counts: tuple[int, int]) -> None:
    errors: Counter[str] = Counter()
    for run in runs:
        errors.update(run["errors"])
    traps = sum(sum(run.get("suspected_traps", {}).values()) for run in runs)
    statuses = Counter(run["status"] for run in runs)
    print(
        f"{name:<8} {elapsed:7.1f} s  listings {counts[0]}/{counts[1]}  "
        f"pages {sum(r['pages'] for r in runs):>6}  trap pages {traps:>4}  "
        f"runs {dict(statuses)}"
    )
    interesting = {k: v for k, v in errors.items() if k.startswith(("http/", "download/"))}
    if interesting:
        print(f"{'':<8} failed for good: {dict(sorted(interesting.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=300)
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--fault-seed", type=int, default=7)
    parser.add_argument("--timeout", default="5", help="TDIR_CRAWL_TIMEOUT of the crawls")
    args = parser.parse_args(argv)
    plan = FaultPlan.parse(args.faults, seed=args.fault_seed)
    with tempfile.TemporaryDirectory(prefix="tdir-chaos-") as scratch:
        root = Path(scratch)
        world = generate_world(root / "world", seed=42, therapists=args.therapists).directory
        truth = GroundTruth(world)
        print(f"demo web: {args.therapists} therapists; faults {plan.spec()}")
        with DemoWeb.start(world, manifest=root / "healthy.json") as web:
            runs, elapsed = crawl_all(root / "healthy", root / "healthy.json", args.timeout)
            report("healthy", runs, elapsed, captured(root / "healthy", web.urls, truth))
            baseline = elapsed
        with DemoWeb.start(world, faults=plan, manifest=root / "faulty.json") as web:
            home = root / "faulty"
            runs, elapsed = crawl_all(home, root / "faulty.json", args.timeout)
            report("faulty", runs, elapsed, captured(home, web.urls, truth))
            print(f"{'':<8} wall time {elapsed / baseline:.2f}x the healthy crawl's")
            web.heal()
            runs, elapsed = crawl_all(home, root / "faulty.json", args.timeout)
            report("recrawl", runs, elapsed, captured(home, web.urls, truth))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
