"""Benchmark: structured-data extraction per page, beside extruct alone on the same pages.

It fetches the profile pages of the demo web's JSON-LD directory (the Bodywork Atlas) once,
then times, alternating page set by page set over several rounds:

- ``tdir``: :func:`crawler.extract.structured.extract_structured` as the spider calls it for a
  profile page (parse, JSON-LD with repair, the walk into listings and reviews, records);
- ``extruct``: ``extruct.extract(body, syntaxes=["json-ld"], uniform=True)`` on the same bytes:
  the parse and the JSON-LD alone, no records.

Before timing, both are checked to read the same thing: every page's therapist name in tdir's
listing is the ``name`` of a node extruct returns. It prints the medians (CPU ms per page) and
their ratio. The pages are fetched by a child process (the demo web's generation and serving
stay out of this process's peak RSS, which is then that of the pages and the two extractors).

    .venv/bin/python -m benchmarks.extraction --therapists 300 --rounds 7

``run(quick)`` is the benchmark suite's stage (``python -m benchmarks all``).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import extruct

from benchmarks.measure import alternate, peak_rss_mb
from benchmarks.suite import StageResult, print_results
from crawler.demoweb import DemoWeb, generate_world
from crawler.demoweb.truth import GroundTruth
from crawler.extract.structured import extract_structured
from crawler.extract.syntaxes import JSON_LD
from crawler.items import Listing, Provenance, body_hash

QUICK = {"therapists": 100, "rounds": 3}
FULL = {"therapists": 300, "rounds": 7}


def fetch_pages(therapists: int, seed: int) -> list[tuple[str, bytes]]:
    """The atlas's profile pages of a fresh demo web of this size: (url, body)."""
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world"
        generate_world(world, seed=seed, therapists=therapists)
        truth = GroundTruth(world)
        with DemoWeb.start(world) as web:
            base = web.urls["atlas"]
            paths = sorted({item["path"] for _, item in truth.listings("atlas")})
            pages = []
            for path in paths:
                with urllib.request.urlopen(base + path, timeout=30) as response:
                    pages.append((base + path, response.read()))
    return pages


def tdir_extract(url: str, body: bytes) -> list[Any]:
    provenance = Provenance("atlas", url, "2026-01-01T00:00:00+00:00", body_hash(body))
    return extract_structured(body, provenance, syntaxes=(JSON_LD,), listing_ref=url).records


def extruct_extract(url: str, body: bytes) -> list[Any]:
    return list(extruct.extract(body, base_url=url, syntaxes=["json-ld"], uniform=True)["json-ld"])


def _extruct_reads(url: str, body: bytes) -> bool:
    try:
        extruct_extract(url, body)
    except ValueError:  # JSONDecodeError: the site's deliberately broken scripts
        return False
    return True


def _names(value: Any) -> Iterator[str]:
    """Every ``name`` anywhere in extruct's JSON-LD."""
    if isinstance(value, dict):
        if isinstance(value.get("name"), str):
            yield value["name"]
        for child in value.values():
            yield from _names(child)
    elif isinstance(value, list):
        for child in value:
            yield from _names(child)


def check_same(pages: list[tuple[str, bytes]]) -> None:
    """Both read every page's therapist; raise if not."""
    for url, body in pages:
        listings = [r for r in tdir_extract(url, body) if isinstance(r, Listing)]
        if len(listings) != 1:
            raise AssertionError(f"{url}: tdir read {len(listings)} listings, not 1")
        if listings[0].name_raw not in set(_names(extruct_extract(url, body))):
            raise AssertionError(f"{url}: extruct has no node named {listings[0].name_raw!r}")


def time_per_page(
    extract: Callable[[str, bytes], list[Any]], pages: list[tuple[str, bytes]]
) -> float:
    started = time.process_time()  # CPU time: what a busy, shared machine leaves alone
    for url, body in pages:
        extract(url, body)
    return (time.process_time() - started) / len(pages) * 1000


def fetch_in_child(therapists: int, seed: int) -> list[tuple[str, bytes]]:
    """:func:`fetch_pages` in a child process, so that this one's memory is the extraction's."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pages.pickle"
        command = [sys.executable, "-m", "benchmarks.extraction", "--fetch", str(out)]
        command += ["--therapists", str(therapists), "--seed", str(seed)]
        subprocess.run(command, check=True)
        pages: list[tuple[str, bytes]] = pickle.loads(out.read_bytes())
    return pages


def measure(therapists: int, seed: int, rounds: int) -> StageResult:
    """Fetch the pages, check both read every page's therapist, time both alternately."""
    fetched = fetch_in_child(therapists, seed)
    pages = [(url, body) for url, body in fetched if _extruct_reads(url, body)]
    size = sum(len(body) for _, body in pages) / len(pages)
    left_out = len(fetched) - len(pages)
    print(
        f"{len(pages)} atlas profile pages, {size / 1024:.1f} KiB each on average "
        f"({left_out} left out: their broken JSON-LD stops extruct, which tdir repairs)"
    )
    check_same(pages)
    times = alternate(
        {
            "tdir": lambda: time_per_page(tdir_extract, pages),
            "extruct": lambda: time_per_page(extruct_extract, pages),
        },
        rounds,
    )
    tdir, raw = statistics.median(times["tdir"]), statistics.median(times["extruct"])
    return StageResult(
        stage="extraction",
        tdir=f"{tdir:.2f} ms/page",
        baseline=f"{raw:.2f} ms/page",
        ratio=tdir / raw,
        sizes=f"{len(pages)} pages ({therapists} therapists), {rounds} rounds",
        peak_rss_mb=peak_rss_mb(),
        notes="CPU time per page; baseline: extruct's JSON-LD alone (uniform), no records; "
        f"{left_out} pages with broken JSON-LD (which extruct refuses, tdir repairs) left out; "
        "peak RSS: the benchmark's process (the pages and both extractors)",
    )


def run(quick: bool) -> StageResult:
    """The suite's stage: 100 therapists and 3 rounds if ``quick``, else 300 and 7."""
    sizes = QUICK if quick else FULL
    return measure(sizes["therapists"], 42, sizes["rounds"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--therapists", type=int, default=FULL["therapists"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=FULL["rounds"])
    parser.add_argument("--fetch", type=Path, help=argparse.SUPPRESS)  # the child's entry point
    args = parser.parse_args(argv)
    if args.fetch:
        args.fetch.write_bytes(pickle.dumps(fetch_pages(args.therapists, args.seed)))
        return
    print_results(measure(args.therapists, args.seed, args.rounds))


if __name__ == "__main__":
    main()
