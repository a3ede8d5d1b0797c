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


def _one_run(home: Path, backend: str, es_url: str | None, attempt: int) -> dict[str, float]:
    """Build and write once, in this process; return the seconds of each step."""
    store = CrawlStore(home)
    started = time.perf_counter()
    build = build_profiles(store)
    build_s = time.perf_counter() - started
    if backend == "sqlite":
        target: Any = SqliteBackend(home / f"bench-{attempt}.sqlite3")
    else:
        from elasticsearch import Elasticsearch

        target = ElasticsearchBackend(
            Elasticsearch(es_url, request_timeout=300), f"tdir-bench-{attempt}"
        )
    started = time.perf_counter()
    write_index(
        target, build.profiles, IndexState(home / f"bench-state-{backend}.json"), rebuild=True
    )
    write_s = time.perf_counter() - started
    target.close()
    return {
        "build_s": build_s,
        "write_s": write_s,
        "listings": build.summary.listings,
        "profiles": build.summary.profiles,
    }


def measure(home: Path, backends: list[str], repeats: int, es_url: str | None) -> dict[str, Any]:
    """Time build + write per backend, each repeat in a fresh process (cold caches, as a
    scheduled index run has); return medians."""
    result: dict[str, Any] = {}
    for name in backends:
        runs = []
        for attempt in range(repeats):
            code = (
                "import json, sys; from pathlib import Path; "
                "from benchmarks.index_throughput import _one_run; "
                "print(json.dumps(_one_run(Path(sys.argv[1]), sys.argv[2], "
                "sys.argv[3] or None, int(sys.argv[4]))))"
            )
            done = subprocess.run(
                [sys.executable, "-c", code, str(home), name, es_url or "", str(attempt)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        result["listings"] = runs[0]["listings"]
        result["profiles"] = runs[0]["profiles"]
        build_s = statistics.median(r["build_s"] for r in runs)
        write_s = statistics.median(r["write_s"] for r in runs)
        result[f"{name}_build_s"] = build_s
        result[f"{name}_write_s"] = write_s
        result[f"{name}_listings_per_s"] = result["listings"] / (build_s + write_s)
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
    print(f"\n{'therapists':>10} {'listings':>9} {'profiles':>9}", end="")
    for name in args.backends:
        print(f" | {name}: build s  write s  listings/s  ratio", end="")
    print()
    for size, r in sorted(results.items()):
        print(f"{size:>10} {r['listings']:>9} {r['profiles']:>9}", end="")
        for name in args.backends:
            rate = r[f"{name}_listings_per_s"]
            ratio = rate / baseline[f"{name}_listings_per_s"]
            print(
                f" | {r[f'{name}_build_s']:>14.1f} {r[f'{name}_write_s']:>8.1f} {rate:>11.0f}"
                f" {ratio:>6.2f}",
                end="",
            )
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
