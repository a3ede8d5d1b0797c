"""Benchmark: streaming an NPPES full file, in rows per second and peak memory, against csv.reader.

Writes a synthetic bundle (a ZIP holding ``npidata_pfile_<from>-<to>.csv``) of ``--rows`` rows in
the real header layout (all 330 columns, every value quoted, most empty), a few percent of them
massage therapists (taxonomy 225700000X in one of the 15 slots, with a license), the rest other
providers, some of them organisations. Then reads it twice, each time in a process of its own so
that one reading's peak RSS is not the other's:

- ``stream``: what the NPPES spider does with each row (``crawler.extract.nppes``): the data
  file opened in the ZIP and read row by row, the taxonomy filter, and for a kept row its
  columns read, dates parsed and its listing and registry record made;
- ``raw``: the baseline, ``csv.reader`` over the same member of the same ZIP with the same filter
  (the massage therapist code in any of the 15 taxonomy columns), nothing else.

Before anything is timed, both readings are checked to keep the same rows (the same NPIs, in the
same order), and every timed reading is checked again; the two alternate for ``--rounds``
rounds, each reading in a fresh process. It prints the medians: rows per second and peak RSS of
each, and the stream's time per row as a ratio of the baseline's::

    .venv/bin/python -m benchmarks.nppes_file --rows 1000000

The ZIP is kept under ``var/bench`` and reused by a later run of the same size and seed.
``run(quick)`` is the benchmark suite's stage (``python -m benchmarks all``): 1,000,000 rows,
or 50,000 with ``quick``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import statistics
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.measure import alternate, peak_rss_mb, run_child
from benchmarks.suite import StageResult, print_results
from crawler.extract.nppes import (
    DATA_FILE,
    PERSON,
    bulk_file_header,
    massage_slots,
    open_data_file,
    read_row,
    records_for,
    taxonomy_code,
    valid_npi,
)
from crawler.items import Provenance

ROOT = Path("var/bench")
QUICK_ROWS, FULL_ROWS = 50_000, 1_000_000
ROUNDS = 3
MASSAGE = "225700000X"
OTHER_CODES = ("171100000X", "225100000X", "225X00000X", "111N00000X", "363L00000X", "207Q00000X")
STATES = ("TX", "FL", "NC", "WA", "CO", "CA", "NY", "IL", "GA", "AZ")
LAST = ("SMITH", "JOHNSON", "GARCIA", "NGUYEN", "PATEL", "KIM", "BROWN", "LOPEZ", "WALKER")
FIRST = ("MARY", "JAMES", "ANA", "WEI", "PRIYA", "JOHN", "LATOYA", "DIEGO", "EMMA", "OMAR")


def write_bundle(
    path: Path, rows: int, *, massage_share: float = 0.03, seed: int = 7, end: str = "20250817"
) -> int:
    """Write a synthetic full-file bundle of ``rows`` rows; return how many are massage
    therapists (people with the massage therapist taxonomy)."""
    header = bulk_file_header()
    column = {name: i for i, name in enumerate(header)}
    rng = random.Random(seed)
    therapists = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(f"npidata_pfile_20050523-{end}.csv", "w", force_zip64=True) as member,
    ):
        text = io.TextIOWrapper(member, encoding="utf-8", newline="")
        writer = csv.writer(text, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for n in range(rows):
            row = [""] * len(header)
            massage = rng.random() < massage_share
            organisation = not massage and rng.random() < 0.15
            row[column["NPI"]] = f"{1_000_000_000 + n}"
            row[column["Entity Type Code"]] = "2" if organisation else "1"
            if organisation:
                row[column["Provider Organization Name (Legal Business Name)"]] = "ACME CARE LLC"
            else:
                row[column["Provider Last Name (Legal Name)"]] = rng.choice(LAST)
                row[column["Provider First Name"]] = rng.choice(FIRST)
            state = rng.choice(STATES)
            for kind in ("Business Mailing Address", "Business Practice Location Address"):
                row[column[f"Provider First Line {kind}"]] = f"{rng.randint(1, 9999)} MAIN ST"
                row[column[f"Provider {kind} City Name"]] = "SPRINGFIELD"
                row[column[f"Provider {kind} State Name"]] = state
                row[column[f"Provider {kind} Postal Code"]] = f"{rng.randint(10000, 99999)}0000"
                row[column[f"Provider {kind} Country Code (If outside U.S.)"]] = "US"
                row[column[f"Provider {kind} Telephone Number"]] = f"512555{n % 10000:04d}"
            row[column["Provider Enumeration Date"]] = "05/23/2007"
            row[column["Last Update Date"]] = f"{rng.randint(1, 12):02d}/15/2024"
            codes = rng.sample(OTHER_CODES, rng.randint(1, 3))
            if massage:
                codes.insert(rng.randint(0, min(len(codes), 14)), MASSAGE)
                therapists += 1
            for k, code in enumerate(codes, 1):
                row[column[f"Healthcare Provider Taxonomy Code_{k}"]] = code
                row[column[f"Provider License Number_{k}"]] = f"MT{rng.randint(10000, 99999)}"
                row[column[f"Provider License Number State Code_{k}"]] = state
                row[column[f"Healthcare Provider Primary Taxonomy Switch_{k}"]] = (
                    "Y" if k == 1 else "N"
                )
            writer.writerow(row)
        text.flush()
        text.detach()
    return therapists


def measure_stream(path: Path) -> dict[str, Any]:
    """Read the bundle as the spider does; count rows and records."""
    provenance = Provenance("bench", str(path), "2025-01-01T00:00:00+00:00", "-")
    rows = records = 0
    kept: list[str] = []
    started = time.perf_counter()
    with open_data_file(path, path.name) as data:
        for row in data.rows:
            rows += 1
            if not massage_slots(row, data.layout, MASSAGE):
                continue
            found = read_row(row, data.layout, MASSAGE, data.name)
            if found.entity_type != PERSON or not valid_npi(found.npi):
                continue
            made, _ = records_for(found, provenance, data_file=data.name)
            kept.append(found.npi)
            records += len(made)
    return _result(rows, kept, time.perf_counter() - started, records=records)


def measure_raw(path: Path) -> dict[str, Any]:
    """The baseline: csv.reader over the same member, the same taxonomy filter, nothing else."""
    rows = 0
    kept: list[str] = []
    started = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if DATA_FILE.search(n))
        with archive.open(name) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            header = next(reader)
            npi = header.index("NPI")
            slots = [header.index(taxonomy_code(k)) for k in range(1, 16)]
            for row in reader:
                rows += 1
                if any(row[i] == MASSAGE for i in slots):
                    kept.append(row[npi])
    return _result(rows, kept, time.perf_counter() - started)


def _result(rows: int, kept: list[str], seconds: float, **more: Any) -> dict[str, Any]:
    return {
        "rows": rows,
        "kept": len(kept),
        # Which rows were kept, in order: both readings must agree on it.
        "kept_digest": hashlib.sha256("\n".join(kept).encode()).hexdigest(),
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        **more,
    }


def _in_process(mode: str, path: Path) -> dict[str, Any]:
    """One reading in a fresh process; its figures (the process's own peak RSS among them)."""
    child = run_child([sys.executable, "-m", "benchmarks.nppes_file", "--measure", mode, str(path)])
    result: dict[str, Any] = json.loads(child.stdout)
    result["peak_rss_mb"] = round(child.peak_rss_mb, 1)  # as the kernel accounted it
    return result


def _same_rows(stream: dict[str, Any], raw: dict[str, Any]) -> None:
    """Both readings read every row and kept the same ones; raise if not."""
    for key in ("rows", "kept", "kept_digest"):
        if stream[key] != raw[key]:
            raise AssertionError(
                f"nppes: the stream and csv.reader disagree on {key}: {stream[key]} vs {raw[key]}"
            )


def bundle(rows: int, seed: int = 7, massage_share: float = 0.03) -> Path:
    """The synthetic bundle of this size, written once under ``var/bench``."""
    path = ROOT / f"nppes-{rows}-{seed}-{massage_share}.zip"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_name(path.name + ".partial")
        therapists = write_bundle(partial, rows, massage_share=massage_share, seed=seed)
        partial.rename(path)  # only a finished bundle is ever reused
        print(
            f"wrote {rows:,} rows ({therapists:,} massage therapists) in "
            f"{time.perf_counter() - started:.0f}s: {path} ({path.stat().st_size / 1e6:.0f} MB)"
        )
    return path


def measure(path: Path, rounds: int) -> StageResult:
    """Check both readings agree (untimed, which also brings the file into the page cache),
    then time them alternately, each reading in a fresh process."""
    with zipfile.ZipFile(path) as archive:
        size = sum(info.file_size for info in archive.infolist())
    print(f"{path}: data file {size / 1e6:,.0f} MB uncompressed")
    _same_rows(_in_process("stream", path), _in_process("raw", path))

    def progress(round_number: int, last: dict[str, dict[str, Any]]) -> None:
        _same_rows(last["stream"], last["raw"])
        print(
            f"  round {round_number + 1}: stream {last['stream']['rows_per_second']:,} rows/s,"
            f" raw {last['raw']['rows_per_second']:,} rows/s",
            flush=True,
        )

    runs = alternate(
        {"stream": lambda: _in_process("stream", path), "raw": lambda: _in_process("raw", path)},
        rounds,
        progress,
    )
    stream, raw = runs["stream"], runs["raw"]
    rows, kept = stream[0]["rows"], stream[0]["kept"]
    seconds = {side: statistics.median(r["seconds"] for r in runs[side]) for side in runs}
    raw_rss = max(r["peak_rss_mb"] for r in raw)

    def per_row(side: str) -> str:
        return f"{seconds[side] / rows * 1e6:.1f} µs/row ({rows / seconds[side]:,.0f} rows/s)"

    return StageResult(
        stage="nppes file",
        tdir=per_row("stream"),
        baseline=per_row("raw"),
        ratio=seconds["stream"] / seconds["raw"],
        sizes=f"{rows:,} rows ({kept:,} kept), {rounds} rounds",
        peak_rss_mb=max(r["peak_rss_mb"] for r in stream),
        notes="wall time of the reading; each reading in a fresh process; peak RSS: the "
        f"stream's process (csv.reader's: {raw_rss:.0f} MB)",
    )


def run(quick: bool) -> StageResult:
    """The suite's stage: 50,000 rows if ``quick``, else 1,000,000."""
    return measure(bundle(QUICK_ROWS if quick else FULL_ROWS), ROUNDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--massage-share", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--measure", choices=("stream", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_one = measure_stream if args.measure == "stream" else measure_raw
        print(json.dumps(measure_one(args.path)))
        return
    print_results(measure(bundle(args.rows, args.seed, args.massage_share), args.rounds))


if __name__ == "__main__":
    main()
