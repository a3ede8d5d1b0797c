"""Benchmark: tdir's crawl of one directory source beside a bare Scrapy spider on the same URLs.

It generates a demo web (cached under ``var/bench/``), serves it, and times, alternating over
several rounds, each in a fresh process:

- ``tdir``: ``tdir crawl atlas --no-delay`` into a fresh data directory (robots.txt, the
  sitemap, link following, the HTTP cache, extraction, the run record and the items feed);
- ``bare``: a Scrapy spider with tdir's concurrency and robots.txt settings that fetches the
  very URLs tdir fetched in its first round and does nothing with them.

Pages are counted from the demo web's own request log, per crawler (by user agent); before
timing, the bare spider is checked to have fetched every URL tdir did. It prints the medians of
pages per second (wall) and CPU milliseconds per page, and tdir's share of the bare spider's
throughput.

    .venv/bin/python -m benchmarks.crawl --therapists 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from crawler.demoweb import DemoWeb, generate_world, open_world
from crawler.settings import crawl_settings

ROOT = Path("var/bench")
SOURCE = "atlas"
BARE_AGENT = "bare-scrapy-benchmark"


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


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to its end; return its wall seconds and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--therapists", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # the child's entry point
    args = parser.parse_args(argv)
    if args.bare:
        run_bare(args.bare)
        return
    world = ROOT / f"world-{args.therapists}"
    if not (world / "population.sqlite").exists():
        generate_world(world, seed=args.seed, therapists=args.therapists)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "requests.jsonl"
        manifest = Path(tmp) / "sites.json"
        with DemoWeb.start(open_world(world), request_log=log, manifest=manifest) as web:
            base = web.urls[SOURCE]
            urls_file = Path(tmp) / "urls.txt"
            results: dict[str, list[tuple[int, float, float]]] = {"tdir": [], "bare": []}
            for round_number in range(args.rounds):
                home = Path(tmp) / f"home-{round_number}"
                env = {**os.environ, "TDIR_HOME": str(home), "TDIR_CRAWL_TIMEOUT": "120"}
                offset = log.stat().st_size if log.exists() else 0
                command = [sys.executable, "-m", "tdir.cli", "crawl", SOURCE]
                wall, cpu = _timed([*command, "--sites", str(manifest), "--no-delay"], env)
                paths = _fetched(log, offset, "tdir")
                results["tdir"].append((len(paths), wall, cpu))
                if round_number == 0:
                    urls_file.write_text("\n".join(base + p for p in paths), encoding="utf-8")
                    wanted = set(paths)
                offset = log.stat().st_size
                wall, cpu = _timed(
                    [sys.executable, "-m", "benchmarks.crawl", "--bare", str(urls_file)], env
                )
                bare_paths = _fetched(log, offset, BARE_AGENT)
                missing = wanted - set(bare_paths)
                if missing:
                    raise AssertionError(f"the bare spider missed {len(missing)} of tdir's URLs")
                results["bare"].append((len(bare_paths), wall, cpu))
    print(f"{args.therapists} therapists; source {SOURCE}; {args.rounds} rounds, alternating")
    print(f"{'crawler':<8}{'pages':>8}{'pages/s':>10}{'CPU ms/page':>13}")
    rates = {}
    for name, rows in results.items():
        pages = statistics.median(r[0] for r in rows)
        rates[name] = statistics.median(r[0] / r[1] for r in rows)
        cpu = statistics.median(r[2] / r[0] * 1000 for r in rows)
        print(f"{name:<8}{pages:>8.0f}{rates[name]:>10.1f}{cpu:>13.2f}")
    print(f"tdir's throughput is {rates['tdir'] / rates['bare']:.2f} of the bare spider's")


if __name__ == "__main__":
    main()
