"""Benchmark: tdir's crawl of one directory source beside a bare Scrapy spider on the same URLs.

It generates a demo web (cached under ``var/bench/``), serves it, and times, alternating over
several rounds, each in a fresh process:

- ``tdir``: ``tdir crawl atlas --no-delay`` into a fresh data directory (robots.txt, the
  sitemap, link following, the HTTP cache, extraction, the run record and the items feed);
- ``bare``: a Scrapy spider with tdir's concurrency and robots.txt settings that fetches the
  very URLs tdir fetched in its first round and does nothing with them.

Pages are counted from the demo web's own request log, per crawler (by user agent). An untimed
first round of each gives the URLs tdir fetches and checks that the bare spider fetches every one
of them (the same pages); every timed round is checked again. It prints the medians of pages per
second (wall) and CPU milliseconds per page (of each crawl process, with its peak RSS, as the
kernel accounts them when the process ends), and tdir's time per page as a ratio of the bare
spider's.

    .venv/bin/python -m benchmarks.crawl --therapists 2000 --rounds 3

``run(quick)`` is the benchmark suite's stage (``python -m benchmarks all``): 2,000 therapists
and 3 rounds, or 300 and 2 with ``quick``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from benchmarks.measure import alternate, run_child
from benchmarks.suite import StageResult, print_results
from crawler.demoweb import DemoWeb, generate_world, open_world
from crawler.settings import crawl_settings

ROOT = Path("var/bench")
SOURCE = "atlas"
BARE_AGENT = "bare-scrapy-benchmark"
QUICK = {"therapists": 300, "rounds": 2}
FULL = {"therapists": 2000, "rounds": 3}


class BareSpider(scrapy.Spider):
    """Fetches the URLs it is given and nothing else: the floor any crawler stands on."""

    name = "bare"

    def __init__(self, urls_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls_file).read_text(encoding="utf-8").split()

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return iter(())


def bare_settings() -> dict[str, Any]:
    """tdir's download settings with politeness off (as ``--no-delay``), nothing else of it."""
    polite = crawl_settings(
        http_cache_dir=Path(tempfile.gettempdir()),
        job_dir=Path(tempfile.gettempdir()),
        loopback_fast=True,
        env={},
    )
    kept = (
        "ROBOTSTXT_OBEY",
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "DOWNLOAD_DELAY",
        "AUTOTHROTTLE_ENABLED",
        "DOWNLOAD_TIMEOUT",
    )
    return {
        **{key: polite[key] for key in kept if key in polite},
        "USER_AGENT": BARE_AGENT,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
    }


def run_bare(urls_file: Path) -> None:
    process = CrawlerProcess(bare_settings())
    process.crawl(BareSpider, urls_file=str(urls_file))
    process.start()


def _fetched(log: Path, offset: int, agent_part: str) -> list[str]:
    """The URLs the demo web served (200) to this crawler since ``offset``."""
    urls = []
    with log.open(encoding="utf-8") as lines:
        lines.seek(offset)
        for line in lines:
            entry = json.loads(line)
            if agent_part in entry.get("user_agent", "") and entry.get("status") == 200:
                urls.append(entry["path"])
    return urls


@dataclass(frozen=True)
class Crawl:
    """One crawl process: the pages it was served, its wall and CPU seconds, its peak RSS."""

    paths: list[str]
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


class Crawls:
    """Crawls of one source of a served demo web, by tdir or by the bare spider."""

    def __init__(self, scratch: Path, base: str, log: Path, manifest: Path) -> None:
        self.scratch = scratch
        self.base = base
        self.log = log
        self.manifest = manifest
        self.urls_file = scratch / "urls.txt"
        self.wanted: set[str] = set()
        self.count = 0

    def _crawl(self, command: list[str], agent_part: str) -> Crawl:
        self.count += 1
        home = self.scratch / f"home-{self.count}"  # a fresh data directory: no HTTP cache
        env = {**os.environ, "TDIR_HOME": str(home), "TDIR_CRAWL_TIMEOUT": "120"}
        offset = self.log.stat().st_size if self.log.exists() else 0
        child = run_child(command, env=env)
        return Crawl(
            _fetched(self.log, offset, agent_part), child.wall_s, child.cpu_s, child.peak_rss_mb
        )

    def tdir(self) -> Crawl:
        command = [sys.executable, "-m", "tdir.cli", "crawl", SOURCE]
        crawl = self._crawl([*command, "--sites", str(self.manifest), "--no-delay"], "tdir")
        if self.wanted and set(crawl.paths) != self.wanted:
            raise AssertionError(
                f"tdir fetched {len(crawl.paths)} pages, "
                f"not the {len(self.wanted)} of its first crawl"
            )
        return crawl

    def bare(self) -> Crawl:
        command = [sys.executable, "-m", "benchmarks.crawl", "--bare", str(self.urls_file)]
        crawl = self._crawl(command, BARE_AGENT)
        missing = self.wanted - set(crawl.paths)
        if missing:
            raise AssertionError(f"the bare spider missed {len(missing)} of tdir's URLs")
        return crawl

    def reference(self) -> None:
        """tdir's first crawl, untimed: the URLs the bare spider is given and must fetch."""
        paths = self.tdir().paths
        self.urls_file.write_text("\n".join(self.base + p for p in paths), encoding="utf-8")
        self.wanted = set(paths)
        self.bare()


def measure(therapists: int, seed: int, rounds: int) -> StageResult:
    """Serve the demo web, fix and check the URLs, then crawl with each alternately."""
    world = ROOT / f"world-{therapists}"
    if not (world / "population.sqlite").exists():
        generate_world(world, seed=seed, therapists=therapists)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "requests.jsonl"
        manifest = Path(tmp) / "sites.json"
        with DemoWeb.start(open_world(world), request_log=log, manifest=manifest) as web:
            crawls = Crawls(Path(tmp), web.urls[SOURCE], log, manifest)
            crawls.reference()

            def progress(round_number: int, last: dict[str, Crawl]) -> None:
                print(
                    f"  round {round_number + 1}: "
                    + ", ".join(
                        f"{name} {len(c.paths)} pages in {c.wall_s:.1f}s"
                        for name, c in last.items()
                    ),
                    flush=True,
                )

            results = alternate({"tdir": crawls.tdir, "bare": crawls.bare}, rounds, progress)
    print(f"{therapists} therapists; source {SOURCE}; {rounds} rounds, alternating")
    print(f"{'crawler':<8}{'pages':>8}{'pages/s':>10}{'CPU ms/page':>13}{'peak MB':>9}")
    wall, cpu = {}, {}
    for name, crawled in results.items():
        pages = statistics.median(len(c.paths) for c in crawled)
        wall[name] = statistics.median(c.wall_s / len(c.paths) * 1000 for c in crawled)
        cpu[name] = statistics.median(c.cpu_s / len(c.paths) * 1000 for c in crawled)
        rss = max(c.peak_rss_mb for c in crawled)
        print(f"{name:<8}{pages:>8.0f}{1000 / wall[name]:>10.1f}{cpu[name]:>13.2f}{rss:>9.0f}")
    return StageResult(
        stage="crawl",
        tdir=f"{wall['tdir']:.1f} ms/page ({1000 / wall['tdir']:.0f} pages/s)",
        baseline=f"{wall['bare']:.1f} ms/page ({1000 / wall['bare']:.0f} pages/s)",
        ratio=wall["tdir"] / wall["bare"],
        sizes=f"{len(crawls.wanted):,} pages of {SOURCE} ({therapists:,} therapists), "
        f"{rounds} rounds",
        peak_rss_mb=max(c.peak_rss_mb for c in results["tdir"]),
        notes=f"wall time of the crawl process, start to end; CPU ms/page: tdir {cpu['tdir']:.2f},"
        f" bare Scrapy {cpu['bare']:.2f}; peak RSS: the tdir crawl process (the bare spider's: "
        f"{max(c.peak_rss_mb for c in results['bare']):.0f} MB)",
    )


def run(quick: bool) -> StageResult:
    """The suite's stage: 300 therapists and 2 rounds if ``quick``, else 2,000 and 3."""
    sizes = QUICK if quick else FULL
    return measure(sizes["therapists"], 42, sizes["rounds"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--therapists", type=int, default=FULL["therapists"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=FULL["rounds"])
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # the child's entry point
    args = parser.parse_args(argv)
    if args.bare:
        run_bare(args.bare)
        return
    print_results(measure(args.therapists, args.seed, args.rounds))


if __name__ == "__main__":
    main()
