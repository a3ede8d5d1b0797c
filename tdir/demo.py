"""``tdir demo``: the whole system end to end on this machine, with no infrastructure.

It generates the demo web (once), serves it on 127.0.0.1, crawls every catalog source over real
HTTP, builds the index on the configured backend (embedded SQLite by default), and serves the
dashboard while the demo web stays up for recrawls.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys

from crawler.catalog import load_catalog, site_variables
from crawler.cli import summary_table
from crawler.demoweb import DemoWeb, generate_world, open_world
from crawler.runner import crawl, print_progress
from crawler.runs import CrawlStore
from dashboard.launch import streamlit_command
from indexer.build import IndexState, build_profiles, write_index
from indexer.cli import state_file, summary_text
from indexer.search import open_backend
from tdir.config import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
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


def run_demo(args: argparse.Namespace) -> int:
    """Demo web → crawl → index → dashboard."""
    settings = Settings.from_env()
    world_dir = settings.home / "demo-web" / f"seed-{args.seed}-{args.therapists}"
    if not (world_dir / "population.sqlite").exists():
        print(f"Generating the demo web ({args.therapists} therapists) in {world_dir} ...")
        generate_world(world_dir, seed=args.seed, therapists=args.therapists)
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
        build = build_profiles(CrawlStore(settings.home))
        backend = open_backend(settings)
        try:
            stats = write_index(
                backend, build.profiles, IndexState(state_file(settings)), rebuild=True
            )
        finally:
            backend.close()
        print(summary_text(build.summary, stats, settings.backend))
        if args.no_serve:
            return 0
        url = f"http://127.0.0.1:{args.port}"
        env = os.environ.copy()
        if not env.get("TDIR_ADMIN_PASSWORD"):
            # The admin area stays closed without a password; the demo makes one up and says so.
            env["TDIR_ADMIN_PASSWORD"] = secrets.token_urlsafe(9)
            print(f"Admin sign-in password for this demo: {env['TDIR_ADMIN_PASSWORD']}")
        print(f"Dashboard: {url}  (Ctrl+C to stop)", flush=True)
        command = streamlit_command("127.0.0.1", args.port)
        try:
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 0
