"""Benchmark: normalisation + resolution + indexing throughput, in listings per second.

For each population size it generates the demo web (cached), crawls every catalog source over
HTTP with politeness delays off (cached), then times, several times over:

- ``build``: current records -> normalised listings -> resolved therapists -> profiles;
- ``write``: an atomic rebuild of the index from those profiles, per backend.

It prints medians and the ratio of each size's throughput to the smallest size's, the baseline:
a ratio near 1 means the work scales linearly with the number of listings.

    .venv/bin/python -m benchmarks.index_throughput --therapists 300 100000 \\
        --backends sqlite elasticsearch

Elasticsearch: ``TDIR_ES_URL`` if set, else a node provisioned as the tests do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.demoweb import DemoWeb, generate_world, open_world
from crawler.runs import CrawlStore
from indexer.build import IndexState, build_profiles, write_index
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.sqlite_backend import SqliteBackend

ROOT = Path("var/bench")


def prepare(therapists: int, seed: int) -> Path:
    """Generate and crawl a demo web of this size once; return its TDIR_HOME."""
    home = ROOT / f"home-{therapists}"
    world = ROOT / f"world-{therapists}"
    done = home / "crawled.json"
    if done.exists():
        return home
    if not (world / "population.sqlite").exists():
        started = time.perf_counter()
        generate_world(world, seed=seed, therapists=therapists)
        print(f"  generated {therapists} therapists in {time.perf_counter() - started:.0f}s")
    store = CrawlStore(home)
    with DemoWeb.start(open_world(world), manifest=world / "sites.json") as web:
        started = time.perf_counter()
        for _attempt in range(3):
            # Sources without a finished run yet; an interrupted run resumes where it stopped.
            todo = [
                name
                for name in web.urls
                if not any(r.status == "finished" for r in store.runs(name))
            ]
            if not todo:
                break
            # One crawl per process (Scrapy's reactor cannot be started twice). A big world's
            # sitemaps take a while to render, hence the generous timeout.
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tdir.cli",
                    "crawl",
                    *todo,
                    "--sites",
                    str(web.manifest),
                    "--no-delay",
                ],
                env={**os.environ, "TDIR_HOME": str(home), "TDIR_CRAWL_TIMEOUT": "180"},
                check=False,
            )
        seconds = time.perf_counter() - started
    pages = sum(r.pages for name in store.sources() for r in store.runs(name)[-1:])
    print(f"  crawled {pages} pages in {seconds:.0f}s")
    done.write_text(json.dumps({"pages": pages, "seconds": seconds}))
    return home


@contextlib.contextmanager
def elasticsearch_url() -> Iterator[str]:
    """An Elasticsearch to write to: TDIR_ES_URL, else a fresh local node."""
    if os.environ.get("TDIR_ES_URL"):
        yield os.environ["TDIR_ES_URL"]
        return
    from tests.support.elasticsearch_node import running_node

    with running_node(heap="1g") as node:
        yield node.url


def measure(home: Path, backends: list[str], repeats: int, es_url: str | None) -> dict[str, Any]:
    """Time the build and each backend's write; return medians."""
    store = CrawlStore(home)
    builds: list[float] = []
    build = None
    for _ in range(repeats):
        started = time.perf_counter()
        build = build_profiles(store)
        builds.append(time.perf_counter() - started)
    assert build is not None
    listings = build.summary.listings
    result: dict[str, Any] = {
        "listings": listings,
        "profiles": build.summary.profiles,
        "build_s": statistics.median(builds),
    }
    for name in backends:
        writes: list[float] = []
        for attempt in range(repeats):
            if name == "sqlite":
                backend: Any = SqliteBackend(home / f"bench-{attempt}.sqlite3")
            else:
                from elasticsearch import Elasticsearch

                backend = ElasticsearchBackend(
                    Elasticsearch(es_url, request_timeout=120), f"tdir-bench-{attempt}"
                )
            started = time.perf_counter()
            write_index(
                backend,
                build.profiles,
                IndexState(home / f"bench-state-{name}.json"),
                rebuild=True,
            )
            writes.append(time.perf_counter() - started)
            backend.close()
        result[f"{name}_write_s"] = statistics.median(writes)
        total = result["build_s"] + result[f"{name}_write_s"]
        result[f"{name}_listings_per_s"] = listings / total
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, nargs="+", default=[300])
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite"], choices=["sqlite", "elasticsearch"]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    ROOT.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        es_url = None
        if "elasticsearch" in args.backends:
            es_url = stack.enter_context(elasticsearch_url())
        for size in sorted(args.therapists):
            print(f"{size} therapists:")
            home = prepare(size, args.seed)
            results[size] = measure(home, args.backends, args.repeats, es_url)
            print(f"  {results[size]}")
    baseline = results[min(results)]
    print(f"\n{'therapists':>10} {'listings':>9} {'profiles':>9} {'build s':>8}", end="")
    for name in args.backends:
        print(f" {name + ' write s':>22} {name + ' listings/s':>24} {'ratio':>6}", end="")
    print()
    for size, r in sorted(results.items()):
        print(f"{size:>10} {r['listings']:>9} {r['profiles']:>9} {r['build_s']:>8.1f}", end="")
        for name in args.backends:
            rate = r[f"{name}_listings_per_s"]
            ratio = rate / baseline[f"{name}_listings_per_s"]
            print(f" {r[f'{name}_write_s']:>22.1f} {rate:>24.0f} {ratio:>6.2f}", end="")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
