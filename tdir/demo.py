"""``tdir demo``: the whole system end to end on this machine, with no infrastructure.

It generates the demo web (once), serves it on 127.0.0.1, crawls every catalog source over real
HTTP, builds the index on the configured backend (embedded SQLite by default), and serves the
dashboard while the demo web stays up for recrawls.

``tdir evaluate``: entity resolution scored against a ground truth, a generated demo world's or a
truth file (:mod:`indexer.evaluate`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.catalog import load_catalog, site_variables
from crawler.cli import summary_table
from crawler.demoweb import DemoWeb, GroundTruth, generate_world, open_world
from crawler.runner import crawl, print_progress
from crawler.runs import CrawlStore
from dashboard.launch import streamlit_command
from indexer.build import Build, build_profiles, streamed_build, write_index
from indexer.cli import progress_bar, summary_text
from indexer.evaluate import Truth, TruthError, load_truth, mistakes, pair_scores
from indexer.search import open_backend
from indexer.state import IndexState, state_file
from tdir.config import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` and ``evaluate`` subcommands."""
    demo = commands.add_parser(
        "demo",
        help="generate and serve the demo web, crawl it, index it, serve the dashboard",
        description="Run the whole system locally: the demo web on 127.0.0.1, a crawl of every "
        "catalog source, an index build on the configured backend, then the dashboard.",
    )
    demo.add_argument("--port", type=int, default=8501, help="dashboard port (default 8501)")
    demo.add_argument("--seed", type=int, default=42, help="demo web seed (default 42)")
    demo.add_argument(
        "--therapists", type=int, default=300, help="demo web population (default 300)"
    )
    demo.add_argument("--no-serve", action="store_true", help="stop after building the index")
    demo.set_defaults(handler=run_demo)

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


def run_demo(args: argparse.Namespace) -> int:
    """Demo web → crawl → index → dashboard."""
    settings = Settings.from_env()
    world_dir = settings.home / "demo-web" / f"seed-{args.seed}-{args.therapists}"
    if not (world_dir / "population.sqlite").exists():
        print(f"Generating the demo web ({args.therapists} therapists) in {world_dir} ...")
        # As of today: its licenses lapse and renew around the day the demo is used, not a
        # fixed day that would leave most of them expired a year on.
        generate_world(
            world_dir, seed=args.seed, therapists=args.therapists, as_of=datetime.now(UTC).date()
        )
    with DemoWeb.start(
        open_world(world_dir),
        request_log=world_dir / "requests.jsonl",
        manifest=settings.sites_manifest,
    ) as web:
        print(f"Demo web: {len(web.urls)} sites on 127.0.0.1 (list in {settings.sites_manifest})")
        catalog = load_catalog(variables=site_variables(web.urls))
        records = crawl(
            catalog.enabled(), settings.home, loopback_fast=True, progress=print_progress
        )
        sys.stderr.write("\n")
        print(summary_table(records))
        backend = open_backend(settings)
        try:
            with streamed_build(CrawlStore(settings.home)) as profiles:
                stats = write_index(
                    backend, profiles, IndexState(state_file(settings)), rebuild=True
                )
        finally:
            backend.close()
        print(summary_text(profiles.summary, stats, settings.backend))
        if args.no_serve:
            return 0
        url = f"http://127.0.0.1:{args.port}"
        env = os.environ.copy()
        if not env.get("TDIR_ADMIN_PASSWORD"):
            # The admin area stays closed without a password; the demo makes one up and says so.
            env["TDIR_ADMIN_PASSWORD"] = secrets.token_urlsafe(9)
            print(f"Admin sign-in password for this demo: {env['TDIR_ADMIN_PASSWORD']}")
        print(f"Dashboard: {url}  (Ctrl+C to stop)", flush=True)
        return _serve_dashboard(streamlit_command("127.0.0.1", args.port), env)


def _serve_dashboard(command: list[str], env: dict[str, str]) -> int:
    """Run the dashboard until it ends, or until Ctrl+C or SIGTERM stop both (a service manager
    or `docker stop` sends SIGTERM to this process alone: the dashboard must not outlive it)."""
    dashboard = subprocess.Popen(command, env=env)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return dashboard.wait()
    except KeyboardInterrupt:
        dashboard.terminate()
        try:
            dashboard.wait(timeout=30)
        except subprocess.TimeoutExpired:
            dashboard.kill()
            dashboard.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def truth_of(path: Path) -> Truth:
    """Which true person each listing (site, path) is: a generated demo world's ground truth,
    or a truth file's (TruthError if it cannot be read)."""
    if path.is_dir():
        return GroundTruth(path).person_by_listing()
    return load_truth(path)


def run_evaluate(args: argparse.Namespace) -> int:
    """Print entity-resolution scores against a ground truth, and the worst mistakes."""
    try:
        truth = truth_of(args.truth)
    except TruthError as error:
        print(f"tdir evaluate: {error}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    build: Build = build_profiles(CrawlStore(settings.home), progress=progress_bar)
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
