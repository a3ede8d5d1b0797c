"""``tdir index`` and ``tdir evaluate``: build the index and measure it against a ground truth."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from crawler.runs import CrawlStore
from indexer.build import Build, BuildSummary, IndexState, WriteStats, build_profiles, write_index
from indexer.evaluate import TruthError, load_truth, mistakes, pair_scores
from indexer.search import DamagedIndexError, open_backend
from tdir.config import Settings

T = TypeVar("T")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``index`` and ``evaluate`` subcommands."""
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

    evaluate = commands.add_parser(
        "evaluate",
        help="score entity resolution against a ground truth",
        description="Pairwise precision, recall and F1 of the profiles built from the crawled "
        "records against a ground truth, and the worst false merges and false splits.",
    )
    evaluate.add_argument(
        "--truth",
        type=Path,
        required=True,
        help="a generated demo world, or a truth file "
        '({"listings": [{"site", "path", "person"}, ...]})',
    )
    evaluate.add_argument(
        "--worst", type=int, default=5, metavar="N", help="list the N worst merges and splits"
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=run_evaluate)


def _bar(items: Iterable[T], label: str, total: int) -> Iterable[T]:
    return tqdm(items, desc=label, total=total, unit="", leave=False, disable=total < 1000)


def state_file(settings: Settings) -> Path:
    """Where the hashes of what was last written to the configured backend are kept."""
    target = (
        str(settings.sqlite_path.resolve())
        if settings.backend == "sqlite"
        else (f"{settings.es_url}/{settings.es_index}")
    )
    digest = hashlib.sha1(target.encode()).hexdigest()[:10]
    return settings.home / "index-state" / f"{settings.backend}-{digest}.json"


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
    build = build_profiles(CrawlStore(settings.home), progress=_bar)
    try:
        stats = write_index(
            backend,
            build.profiles,
            IndexState(state_file(settings)),
            rebuild=args.rebuild,
            progress=_bar,
        )
    finally:
        backend.close()
    if args.json:
        json.dump(summary_json(build.summary, stats), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary_text(build.summary, stats, settings.backend))
    return 0


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
    return "\n".join(lines)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print entity-resolution scores against a ground truth, and the worst mistakes."""
    try:
        truth = load_truth(args.truth)
    except TruthError as error:
        print(f"tdir evaluate: {error}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    build: Build = build_profiles(CrawlStore(settings.home), progress=_bar)
    urls = {
        listing.id: (listing.source, listing.url)
        for profile in build.profiles.values()
        for listing in profile.listings
    }
    scores = pair_scores(build.listing_to_profile, urls, truth)
    merges, splits = mistakes(build.profiles, truth, limit=args.worst)
    if args.json:
        json.dump(
            {
                **vars(scores),
                "false_merges": [vars(m) for m in merges],
                "false_splits": [vars(m) for m in splits],
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    print(
        f"entity resolution: precision {scores.precision:.4f}  recall {scores.recall:.4f}  "
        f"F1 {scores.f1:.4f}  ({scores.correct_pairs} of {scores.predicted_pairs} predicted "
        f"pairs correct, {scores.true_pairs} true pairs, {scores.listings} listings, "
        f"{scores.unknown_listings} unknown to the truth)"
    )
    for title, found in (("worst false merges", merges), ("worst false splits", splits)):
        print(f"\n{title}: {'none' if not found else ''}")
        for mistake in found:
            print(f"  {mistake.wrong_pairs} wrong pairs:")
            for n, group in enumerate(mistake.groups, 1):
                who = "person" if mistake.kind == "false merge" else "profile"
                print(f"    {who} {n}: " + "; ".join(group))
            for item in mistake.evidence:
                print(
                    f"    joined by {item.get('reason')} (weight {item.get('match_weight')}): "
                    f"{item.get('fields')}"
                )
    return 0
