"""``demo-web``: generate, serve and mutate the offline demo web.

``register(commands)`` adds the command to an argparse sub-parser collection; each subcommand
sets ``handler`` (a function of the parsed arguments returning an exit status).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from crawler.demoweb.faults import FaultPlan
from crawler.demoweb.mutation import mutate
from crawler.demoweb.server import MANIFEST_NAME, DemoWeb
from crawler.demoweb.store import DB_NAME
from crawler.demoweb.truth import SUMMARY_NAME
from crawler.demoweb.world import generate_world

DEFAULT_BASE_PORT = 8700


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo-web`` command and its ``generate``, ``serve`` and ``mutate`` subcommands."""
    demo = commands.add_parser(
        "demo-web",
        help="generate and serve the offline demo web of directories and registries",
        description="A seeded world of therapist directories, a review site, license boards, a "
        "certification registry and an NPI-style API, served on 127.0.0.1 for offline crawling.",
    )
    sub = demo.add_subparsers(dest="demo_web_command", required=True, metavar="SUBCOMMAND")

    gen = sub.add_parser("generate", help="generate a population and its ground truth")
    gen.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    gen.add_argument("--therapists", type=int, default=300, help="population size (default 300)")
    gen.add_argument("--as-of", type=date.fromisoformat, help="the world's 'today' (YYYY-MM-DD)")
    gen.add_argument("--out", type=Path, required=True, help="directory to write")
    gen.set_defaults(handler=run_generate)

    serve = sub.add_parser("serve", help="serve every site until interrupted")
    serve.add_argument(
        "--data",
        type=Path,
        help="a generated directory; generated there first if it holds none "
        "(default: a temporary directory)",
    )
    serve.add_argument("--seed", type=int, default=42, help="seed when generating (default 42)")
    serve.add_argument(
        "--therapists", type=int, default=300, help="population size when generating (default 300)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"site k listens on base+k; 0 picks free ports (default {DEFAULT_BASE_PORT})",
    )
    serve.add_argument(
        "--public-host",
        help="host name crawlers reach the sites by, for the site list (default: --host)",
    )
    serve.add_argument("--request-log", type=Path, help="append one JSON line per request here")
    serve.add_argument(
        "--manifest",
        type=Path,
        help=f"where to write site name -> base URL (default DATA/{MANIFEST_NAME})",
    )
    serve.add_argument(
        "--faults",
        type=_fault_plan,
        metavar="SPEC",
        help="misbehave: e.g. '5xx=0.1,stall=0.05:3s,truncate=0.05,reset=0.02,trap=calendar' "
        "(rates of requests per fault; stall lasts 30s unless given)",
    )
    serve.add_argument(
        "--fault-seed",
        type=int,
        default=0,
        help="seed of which requests get which fault (default 0)",
    )
    serve.set_defaults(handler=run_serve)

    mut = sub.add_parser("mutate", help="derive the next state of a world (moves, retirements...)")
    mut.add_argument("--data", type=Path, required=True, help="the world to start from")
    mut.add_argument("--out", type=Path, required=True, help="directory for the next state")
    mut.add_argument("--seed", type=int, default=1, help="seed of this mutation (default 1)")
    mut.set_defaults(handler=run_mutate)


def _fault_plan(spec: str) -> FaultPlan:
    try:
        return FaultPlan.parse(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _progress(count: int) -> None:
    print(f"  {count:,} therapists", file=sys.stderr, flush=True)


def _print_summary(directory: Path) -> None:
    summary = json.loads((directory / SUMMARY_NAME).read_text(encoding="utf-8"))
    print(
        f"{summary['therapists']:,} therapists (seed {summary['seed']}, "
        f"generation {summary['generation']}, as of {summary['as_of']}) in {directory}"
    )
    for name, site in summary["sites"].items():
        if site["kind"] == "directory":
            print(f"  {name:<13} {site['listings']:>9,} listings {site['reviews']:>10,} reviews")
        else:
            print(f"  {name:<13} {site['records']:>9,} records")


def run_generate(args: argparse.Namespace) -> int:
    """Generate a world into ``--out`` and print what the sites will publish."""
    generate_world(
        args.out, seed=args.seed, therapists=args.therapists, as_of=args.as_of, progress=_progress
    )
    _print_summary(args.out)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve a world (generating it first when needed) until interrupted."""
    with tempfile.TemporaryDirectory(prefix="demoweb-") as scratch:
        data = args.data or Path(scratch)
        if not (data / DB_NAME).exists():
            print(
                f"Generating {args.therapists} therapists (seed {args.seed}) in {data}",
                file=sys.stderr,
            )
            generate_world(data, seed=args.seed, therapists=args.therapists, progress=_progress)
        manifest = args.manifest or data / MANIFEST_NAME
        faults = replace(args.faults, seed=args.fault_seed) if args.faults else None
        web = DemoWeb.start(
            data,
            host=args.host,
            base_port=args.base_port,
            request_log=args.request_log,
            manifest=manifest,
            public_host=args.public_host,
            faults=faults,
        )
        try:
            for name, url in web.urls.items():
                print(f"  {name:<13} {url}")
            if faults is not None:
                print(f"Faults: {faults.spec()} (seed {faults.seed})")
            print(f"Site list written to {manifest}. Ctrl+C to stop.", flush=True)
            web.wait()
        finally:
            web.stop()
    return 0


def run_mutate(args: argparse.Namespace) -> int:
    """Write the next state of ``--data`` into ``--out``."""
    mutate(args.data, args.out, seed=args.seed)
    _print_summary(args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``demo-web`` on its own (``python -m crawler.demoweb``)."""
    parser = argparse.ArgumentParser(prog="python -m crawler.demoweb")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register(commands)
    args = parser.parse_args(["demo-web", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args))
