"""``tdir scrapyd``: the Scrapyd nodes crawls are dispatched to, and the crawler egg."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING

from tdir.config import ConfigError, ScrapydSettings, Settings

if TYPE_CHECKING:
    from crawler.scrapyd.dispatch import ScrapydDispatcher

Handler = Callable[[argparse.Namespace], int]


def _reported(handler: Handler) -> Handler:
    """Print a node's or the egg build's failure as ``tdir: error:`` (exit status 2)."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        from crawler.scrapyd.client import ScrapydError
        from crawler.scrapyd.egg import EggBuildError

        try:
            return handler(args)
        except (ScrapydError, EggBuildError) as exc:
            print(f"tdir: error: {exc}", file=sys.stderr)
            return 2

    return run


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``scrapyd`` subcommand."""
    parser = commands.add_parser(
        "scrapyd",
        help="the Scrapyd nodes crawls run on (TDIR_SCRAPYD_URL), and the crawler egg",
        description="With TDIR_SCRAPYD_URL set, the scheduler runs each crawl as a job on the "
        "least busy Scrapyd node, deploying the crawler egg to nodes that lack it.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="run a Scrapyd node here (its files under $TDIR_HOME/scrapyd/node)",
        description="Run Scrapyd with a scrapyd.conf written into its own directory, where it "
        "keeps its eggs, logs and queues. Crawls run on it write their runs into TDIR_HOME, "
        "which must be the scheduler's data directory (shared).",
    )
    serve.add_argument("--bind", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=6800, help="port (default 6800)")
    serve.add_argument(
        "--max-proc", type=int, default=0, help="crawls at once (default: 4 per CPU)"
    )
    serve.add_argument(
        "--poll", type=float, default=1.0, help="seconds between looks at the queue (default 1)"
    )
    serve.add_argument(
        "--directory", type=Path, help="the node's directory (default $TDIR_HOME/scrapyd/node)"
    )
    serve.set_defaults(handler=run_serve)
    status = actions.add_parser("status", help="each node's jobs and deployed versions")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=run_status)
    deploy = actions.add_parser(
        "deploy", help="upload the egg of this code to every node that lacks it"
    )
    deploy.set_defaults(handler=run_deploy)
    build = actions.add_parser(
        "build-egg", help="build the egg of this code (for deploying it by other means)"
    )
    build.add_argument(
        "--output", type=Path, default=Path("."), help="directory to write it to (default: .)"
    )
    build.set_defaults(handler=run_build_egg)


def run_serve(args: argparse.Namespace) -> int:
    """Become a Scrapyd node (never returns)."""
    from crawler.scrapyd.node import NodeConfig, serve

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be a port number, not {args.port}")
    if args.max_proc < 0 or args.poll <= 0:
        raise ConfigError("--max-proc must be 0 or more and --poll more than 0")
    directory = args.directory or Settings.from_env().home / "scrapyd" / "node"
    serve(
        NodeConfig(
            directory=directory.resolve(),
            bind=args.bind,
            port=args.port,
            max_proc=args.max_proc,
            poll_seconds=args.poll,
        )
    )
    return 0  # not reached: serve() replaces this process


@_reported
def run_status(args: argparse.Namespace) -> int:
    """Print each node's load and versions; exit status 1 if a node does not answer."""
    dispatcher = _dispatcher()
    version = dispatcher.egg().version
    reports = dispatcher.report()
    if args.json:
        data = {"project": dispatcher.project, "version": version}
        json.dump({**data, "nodes": [asdict(r) for r in reports]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"project {dispatcher.project}, this code's version {version}")
        for report in reports:
            if report.problem is not None:
                print(f"{report.node}: {report.problem}")
                continue
            has = "deployed" if version in report.versions else "not deployed yet"
            print(
                f"{report.node}: {report.running} running, {report.pending} pending; "
                f"this version {has} ({len(report.versions)} versions)"
            )
    return 1 if any(r.problem for r in reports) else 0


@_reported
def run_deploy(args: argparse.Namespace) -> int:
    """Deploy to every node; exit status 1 if a node could not be deployed to."""
    done = _dispatcher().deploy_everywhere()
    for node, what in done.items():
        print(f"{node}: {what}")
    return 1 if any(what.startswith("failed") for what in done.values()) else 0


@_reported
def run_build_egg(args: argparse.Namespace) -> int:
    """Build the egg; print its path and the version to deploy it as."""
    from crawler.scrapyd.egg import build_egg

    egg = build_egg(args.output.resolve())
    print(f"{egg.path}\nversion {egg.version}")
    return 0


def _dispatcher() -> ScrapydDispatcher:
    # Imported here: it loads Scrapy, which the rest of the command line does not need.
    from crawler.scrapyd.dispatch import ScrapydDispatcher

    settings = ScrapydSettings.from_env()
    if not settings.enabled:
        raise ConfigError("TDIR_SCRAPYD_URL names no Scrapyd node (e.g. http://localhost:6800)")
    return ScrapydDispatcher(settings, Settings.from_env().home)
