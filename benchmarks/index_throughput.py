"""Benchmark: normalisation + resolution + indexing throughput, in listings per second.

For each population size it generates the demo web (cached), crawls every catalog source over
HTTP with politeness delays off, a process per core (cached; it prints how many of each
directory's published listings were captured), then times, several times over:

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
from crawler.demoweb.truth import SUMMARY_NAME
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
    summary = json.loads((world / SUMMARY_NAME).read_text(encoding="utf-8"))
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
            _crawl_in_parallel(home, web.manifest, _largest_first(todo, summary))
        seconds = time.perf_counter() - started
    # Each source's latest finished run: what the index is built from.
    runs = {
        name: next(r for r in reversed(store.runs(name)) if r.status == "finished")
        for name in store.sources()
        if any(r.status == "finished" for r in store.runs(name))
    }
    pages = sum(run.pages for run in runs.values())
    print(f"  crawled {pages} pages in {seconds:.0f}s ({pages / seconds:.0f} pages/s)")
    coverage = {}
    for name, facts in summary["sites"].items():
        if facts["kind"] == "directory" and name in runs:
            got = runs[name].items.get("listing", 0)
            coverage[name] = {"published": facts["listings"], "captured": got}
            print(f"  {name}: {got} of {facts['listings']} published listings captured")
    done.write_text(json.dumps({"pages": pages, "seconds": seconds, "coverage": coverage}))
    return home


def _largest_first(sources: list[str], summary: dict[str, Any]) -> list[str]:
    def size(name: str) -> int:
        facts = summary["sites"].get(name, {})
        return int(facts.get("sitemap_urls") or facts.get("records") or 0)

    return sorted(sources, key=size, reverse=True)


def _crawl_in_parallel(home: Path, manifest: Path | None, sources: list[str]) -> None:
    """Crawl each source in its own process, as many at once as there are cores.

    One Scrapy process keeps one core busy; the demo web's rendering costs far less than the
    crawler's parsing, so a process per core is what makes a big crawl finish in reasonable time.
    """
    env = {**os.environ, "TDIR_HOME": str(home), "TDIR_CRAWL_TIMEOUT": "180"}
    pending = list(sources)
    running: list[subprocess.Popen[bytes]] = []
    while pending or running:
        while pending and len(running) < (os.cpu_count() or 1):
            command = [sys.executable, "-m", "tdir.cli", "crawl", pending.pop(0)]
            command += ["--sites", str(manifest), "--no-delay"]
            running.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
        time.sleep(1)
        running = [proc for proc in running if proc.poll() is None]


@contextlib.contextmanager
def elasticsearch_url() -> Iterator[str]:
    """An Elasticsearch to write to: TDIR_ES_URL, else a fresh local node."""
    if os.environ.get("TDIR_ES_URL"):
        yield os.environ["TDIR_ES_URL"]
        return
    from tests.support.elasticsearch_node import running_node

    with running_node(heap="1g") as node:
        yield node.url


def _one_run(home: Path, backends: list[str], es_url: str | None, attempt: int) -> dict[str, Any]:
    """Build once and write to each backend, in this process; return the seconds of each step.

    The build (normalise + resolve + profiles) does not depend on the backend, so one build
    serves every backend's write."""
    store = CrawlStore(home)
    started = time.perf_counter()
    build = build_profiles(store)
    timings: dict[str, Any] = {
        "build_s": time.perf_counter() - started,
        "listings": build.summary.listings,
        "profiles": build.summary.profiles,
    }
    for backend in backends:
        if backend == "sqlite":
            target: Any = SqliteBackend(home / f"bench-{attempt}.sqlite3")
        else:
            from elasticsearch import Elasticsearch

            target = ElasticsearchBackend(
                Elasticsearch(es_url, request_timeout=300), f"tdir-bench-{attempt}"
            )
        started = time.perf_counter()
        state = IndexState(home / f"bench-state-{backend}.json")
        write_index(target, build.profiles.values(), state, rebuild=True)
        timings[f"{backend}_write_s"] = time.perf_counter() - started
        target.close()
    return timings


def measure(home: Path, backends: list[str], repeats: int, es_url: str | None) -> dict[str, Any]:
    """Time build + write per backend, each repeat in a fresh process (cold caches, as a
    scheduled index run has); return medians."""
    code = (
        "import json, sys; from pathlib import Path; "
        "from benchmarks.index_throughput import _one_run; "
        "print(json.dumps(_one_run(Path(sys.argv[1]), sys.argv[2].split(','), "
        "sys.argv[3] or None, int(sys.argv[4]))))"
    )
    runs = []
    for attempt in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", code, str(home), ",".join(backends), es_url or "", str(attempt)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  repeat {attempt + 1}: {runs[-1]}")
    build_s = statistics.median(r["build_s"] for r in runs)
    result: dict[str, Any] = {"listings": runs[0]["listings"], "profiles": runs[0]["profiles"]}
    for name in backends:
        write_s = statistics.median(r[f"{name}_write_s"] for r in runs)
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
