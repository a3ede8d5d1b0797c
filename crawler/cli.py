"""``tdir crawl``, ``tdir coverage`` and ``tdir sources check``: run crawls, report what they
gathered, and say what each source still needs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from crawler.catalog import CatalogError, catalog_text, load_catalog, site_variables
from crawler.coverage import field_coverage
from crawler.readiness import check_catalog, probe_url, unready
from crawler.runs import CrawlStore, RunRecord
from tdir.config import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``crawl`` and ``coverage`` subcommands."""
    parser = commands.add_parser(
        "crawl",
        help="crawl sources from the catalog",
        description="Crawl the named catalog sources (or all enabled ones), politely. An "
        "interrupted run of a source is resumed by the next crawl of it.",
    )
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="catalog source names")
    parser.add_argument("--all", action="store_true", help="every enabled source")
    parser.add_argument("--catalog", type=Path, help="catalog file (default: TDIR_CATALOG)")
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fill ${NAME} in the catalog (repeatable)",
    )
    parser.add_argument(
        "--sites",
        type=Path,
        metavar="SITES_JSON",
        help="a site manifest ({name: base URL}); each site fills ${NAME_URL} in the catalog "
        "(default: TDIR_SITES, else $TDIR_HOME/sites.json if it exists)",
    )
    parser.add_argument(
        "--no-delay",
        action="store_true",
        help="turn politeness delays off (refused unless every host is this machine)",
    )
    parser.add_argument("--json", action="store_true", help="print the run records as JSON")
    parser.set_defaults(handler=run_crawl)

    report = commands.add_parser(
        "coverage",
        help="field coverage of each source's latest finished run",
        description="What share of each source's listings has an address, coordinates, a "
        "phone, a rating, credentials...",
    )
    report.add_argument("sources", nargs="*", metavar="SOURCE")
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=run_coverage)

    sources = commands.add_parser(
        "sources",
        help="what each catalog source still needs (keys, URLs), without crawling",
        description="Check the catalog's sources without crawling them.",
    )
    source_commands = sources.add_subparsers(dest="sources_command", required=True)
    check = source_commands.add_parser(
        "check",
        help="per source: what is missing (API key, URL), its quota, whether its host answers",
        description="Per source: what stops it from being crawled (an unset API key or "
        "${NAME}), notes (optional tokens, the quota its last run met) and whether its host "
        "answers (one request for its robots.txt). Exit status 1 when an enabled source is not "
        "ready.",
    )
    check.add_argument("--catalog", type=Path, help="catalog file (default: TDIR_CATALOG)")
    check.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    check.add_argument("--sites", type=Path, metavar="SITES_JSON", help="a site manifest")
    check.add_argument(
        "--offline", action="store_true", help="do not ask the sources' hosts for anything"
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=run_sources_check)


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """Parse ``NAME=VALUE`` pairs; CatalogError for a pair without '='."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CatalogError(f"--var {pair!r} is not NAME=VALUE")
        values[name] = value
    return values


def catalog_variables(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The ``${NAME}`` values a command gives: its site manifest's URLs, then its ``--var``s."""
    manifest = args.sites or settings.sites_manifest
    variables = {}
    if args.sites or manifest.exists():
        try:
            variables.update(site_variables(json.loads(manifest.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"site manifest {manifest}: {exc}") from None
    variables.update(parse_vars(args.var))
    return variables


def run_sources_check(args: argparse.Namespace) -> int:
    """Print what each source needs; 1 when an enabled source is not ready."""
    settings = Settings.from_env()
    text, label = catalog_text(args.catalog)
    checks = check_catalog(
        text,
        label,
        variables=catalog_variables(args, settings),
        store=CrawlStore(settings.home),
        probe=None if args.offline else probe_url,
    )
    if args.json:
        rows = [{**vars(c), "ready": c.ready} for c in checks]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for c in checks:
            state = "ready" if c.ready else ("disabled" if not c.enabled else "NOT READY")
            print(f"{c.name:<22} {state:<10} {c.title}")
            for line in [*c.missing, *c.notes, *([c.reachability] if c.reachability else [])]:
                print(f"{'':<22} - {line}")
    return 0 if all(c.ready for c in checks if c.enabled) else 1


def run_crawl(args: argparse.Namespace) -> int:
    """Crawl, then print a summary table (or JSON)."""
    # Here, not at the top: Scrapy and Twisted take most of a second to import, and only a
    # crawl needs them (not ``tdir coverage``, nor ``tdir crawl --help``).
    from crawler.runner import crawl, print_progress

    settings = Settings.from_env()
    catalog = load_catalog(args.catalog, catalog_variables(args, settings))
    if args.all == bool(args.sources):
        raise CatalogError("name the sources to crawl, or give --all (not both)")
    sources = catalog.enabled() if args.all else [catalog.get(n) for n in args.sources]
    if args.all:
        # A source that lacks its operator's key counts as disabled until it has it.
        lacking = unready(sources)
        for name, missing in lacking.items():
            print(f"tdir: not crawling {name}: {'; '.join(missing)}", file=sys.stderr)
        sources = [s for s in sources if s.name not in lacking]
    records = crawl(
        sources,
        settings.home,
        loopback_fast=args.no_delay,
        progress=None if args.json else print_progress,
    )
    if args.json:
        json.dump([vars(r) for r in records], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stderr.write("\n")
        print(summary_table(records))
    return 0 if all(r.complete for r in records) else 1


def summary_table(records: list[RunRecord]) -> str:
    """A plain-text table: one line per run.

    ``new``, ``changed``, ``same`` and ``gone`` count records of every type against the
    source's previous complete run (``gone`` only for a complete run; ``-``: not counted).
    """
    header = (
        f"{'source':<22} {'status':<12} {'pages':>6} {'listings':>8} {'creds':>6} "
        f"{'reviews':>7} {'dupes':>5} {'errors':>6} {'new':>6} {'changed':>7} {'same':>6} "
        f"{'gone':>5}"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        totals = r.change_totals()
        new, changed, same, gone = (
            (totals["new"], totals["changed"], totals["unchanged"], totals["vanished"])
            if totals is not None
            else ("-", "-", "-", "-")
        )
        lines.append(
            f"{r.source:<22} {r.status:<12} {r.pages:>6} {r.items.get('listing', 0):>8} "
            f"{r.items.get('credential_record', 0):>6} {r.items.get('review', 0):>7} "
            f"{r.duplicates_dropped:>5} {sum(r.errors.values()):>6} {new:>6} {changed:>7} "
            f"{same:>6} {gone:>5}"
        )
        for kind, count in r.errors.items():
            lines.append(f"{'':<22}   error {kind}: {count}")
        for template, pages in r.suspected_traps.items():
            lines.append(
                f"{'':<22}   warning: trap suspected under {template}: {pages} pages, 0 records"
            )
        if r.in_doubt:
            lines.append(
                f"{'':<22}   {r.in_doubt} listings not reached, their pages failed: kept, not gone"
            )
    return "\n".join(lines)


def run_coverage(args: argparse.Namespace) -> int:
    """Print each source's field coverage from its latest finished run (else its latest run)."""
    store = CrawlStore(Settings.from_env().home)
    names = args.sources or store.sources()
    report: dict[str, Mapping[str, float]] = {}
    for name in names:
        runs = store.runs(name)
        if not runs:
            raise CatalogError(f"source {name!r} has not been crawled yet")
        run = store.latest_complete(name) or runs[-1]
        report[name] = field_coverage(store.records(name, run.run_id))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for name, coverage in report.items():
        print(name)
        for field_name, share in coverage.items():
            print(f"  {field_name:<18} {share:6.1%}  {'#' * round(share * 30)}")
    return 0
