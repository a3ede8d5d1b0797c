"""``tdir index``: build the index from the crawled records."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from crawler.runs import CrawlStore
from indexer.build import BuildSummary, WriteStats, streamed_build, write_index
from indexer.search import DamagedIndexError, open_backend
from indexer.spill import SpillError
from indexer.state import IndexState, state_file
from tdir.config import Settings

T = TypeVar("T")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``index`` subcommand."""
    index = commands.add_parser(
        "index",
        help="build the search index from the crawled records",
        description="Normalise, resolve, verify and aggregate the crawled records into one "
        "profile per therapist and write them to the configured backend: only changed profiles "
        "(default), or everything atomically (--rebuild).",
    )
    index.add_argument("--rebuild", action="store_true", help="rebuild the whole index atomically")
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.set_defaults(handler=run_index)


def progress_bar(items: Iterable[T], label: str, total: int) -> Iterable[T]:
    return tqdm(items, desc=label, total=total, unit="", leave=False, disable=total < 1000)


def run_index(args: argparse.Namespace) -> int:
    """Build profiles, write them, print the summary."""
    settings = Settings.from_env()
    # The backend first: an unreachable node or a damaged file is reported before the build.
    try:
        backend = open_backend(settings)
    except DamagedIndexError:
        if not (args.rebuild and settings.backend == "sqlite"):
            raise
        aside = set_aside(settings.sqlite_path)
        print(f"the damaged index was moved to {aside}; building a new one", file=sys.stderr)
        backend = open_backend(settings)
    try:
        # Profiles are written as they are built: a build holds one therapist's at a time.
        with (
            _stopped_by_sigterm(),
            streamed_build(CrawlStore(settings.home), progress=progress_bar) as profiles,
        ):
            stats = write_index(
                backend,
                profiles,
                IndexState(state_file(settings)),
                rebuild=args.rebuild,
                progress=progress_bar,
            )
    except SpillError as exc:
        print(f"tdir: error: {exc}; the index is as it was", file=sys.stderr)
        return 2
    finally:
        backend.close()
    if args.json:
        json.dump(summary_json(profiles.summary, stats), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary_text(profiles.summary, stats, settings.backend))
    return 0


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (a service manager, ``docker stop``, the scheduler) stops a build as Ctrl+C
    does: the write is rolled back or left unswapped, and the build's files on disk (a large
    build's are gigabytes) are removed, which dying on the signal would leave behind."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def set_aside(path: Path) -> Path:
    """Move a damaged SQLite index (and its WAL files) aside, keeping it for inspection."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(aside.with_name(aside.name + suffix))
    return aside


def summary_json(summary: BuildSummary, stats: WriteStats) -> dict:
    """The build summary and write statistics as plain data."""
    return {
        **{k: v for k, v in vars(summary).items()},
        "written": stats.written,
        "unchanged": stats.unchanged,
        "deleted": stats.deleted,
        "rebuilt": stats.rebuilt,
    }


def summary_text(summary: BuildSummary, stats: WriteStats, backend: str) -> str:
    """A short report for people."""
    creds = ", ".join(f"{n} {s}" for s, n in summary.credentials.most_common()) or "none"
    lines = [
        f"{summary.profiles} profiles from {summary.listings} listings of {summary.sources} "
        f"sources ({summary.merged_listings} listings merged, {summary.inactive_listings} "
        "no longer listed)",
        f"resolution: {summary.candidate_pairs} candidate pairs weighed, "
        f"{summary.refused_merges} matches refused (they would join different licenses, NPIs, "
        "suffixes or given names)",
        f"{summary.reviews} reviews ({summary.copied_reviews} copies counted once, "
        f"{summary.orphan_reviews} without a crawled listing)",
        f"credentials: {creds}; {summary.license_verified} profiles with a state license "
        f"verified active; {summary.flagged_profiles} profiles flagged",
        f"ratings: {summary.published_ratings} source ratings are the source's published aggregate",
        f"therapists' requests: {summary.suppressed_profiles} profiles removed, "
        f"{summary.corrected_profiles} corrected",
        f"unknown terms: {sum(summary.unknown_terms.values())} "
        f"({', '.join(t for t, _ in summary.unknown_terms.most_common(5)) or '-'})",
        f"data flags: {sum(summary.data_flags.values())} "
        f"({', '.join(f'{k} {n}' for k, n in summary.data_flags.most_common(4)) or '-'})",
        f"{backend}: {'rebuilt with' if stats.rebuilt else 'wrote'} {stats.written} profiles, "
        f"{stats.unchanged} unchanged, {stats.deleted} deleted",
    ]
    if summary.unreadable_records:
        # A stored line the build cannot read is a record lost to search; say where it is.
        per_source = ", ".join(f"{s} {n}" for s, n in sorted(summary.unreadable_records.items()))
        lines.insert(1, f"unreadable records, left out: {per_source}")
    return "\n".join(lines)
