"""The admin's index commands: removals and corrections a therapist asked for, and alerts.

``tdir suppress`` takes the profile out of the index at once; ``tdir correct`` rewrites the
stored profile at once. Lifting either (``unsuppress``, ``uncorrect``) needs the crawled data
again, so it shows from the next ``tdir index`` (the scheduler runs one after every crawl).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crawler.scheduling.book import ScheduleBook
from indexer.corrections import CORRECTABLE, CorrectionBook, CorrectionError
from indexer.freshness import source_alerts
from indexer.live_corrections import correct_profile, suppress_profile
from tdir.config import Settings

_NEXT_INDEX = "shows from the next `tdir index`"


def _reported(handler: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Report a refused request as ``tdir: error: ...`` with status 2, as ``tdir`` reports its
    other user errors."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CorrectionError as exc:
            print(f"tdir: error: {exc}", file=sys.stderr)
            return 2

    return run


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``suppress``, ``unsuppress``, ``correct``, ``uncorrect``, ``corrections`` and
    ``alerts``."""
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--by", required=True, help="the admin recording it")

    suppress = commands.add_parser(
        "suppress",
        parents=[who],
        help="remove a therapist's listing at their request (kept out of every rebuild)",
        description="Take the profile out of the index now and out of every later build, "
        "matched by its listings, NPI and license numbers even if its id changes.",
    )
    suppress.add_argument("profile_id", metavar="PROFILE_ID")
    suppress.add_argument("--reason", required=True, help="why (e.g. 'therapist asked by email')")
    suppress.set_defaults(handler=run_suppress)

    unsuppress = commands.add_parser(
        "unsuppress", parents=[who], help=f"lift a removal ({_NEXT_INDEX})"
    )
    unsuppress.add_argument("profile_id", metavar="PROFILE_ID")
    unsuppress.set_defaults(handler=run_unsuppress)

    correct = commands.add_parser(
        "correct",
        parents=[who],
        help="replace a crawled field of a profile at the therapist's request",
        description=f"Fields: {', '.join(CORRECTABLE)}. Lists (phones, modalities, "
        "conditions) are comma-separated; an empty value removes an optional field.",
    )
    correct.add_argument("profile_id", metavar="PROFILE_ID")
    correct.add_argument("field", metavar="FIELD", choices=CORRECTABLE)
    correct.add_argument("value", metavar="VALUE")
    correct.set_defaults(handler=run_correct)

    uncorrect = commands.add_parser(
        "uncorrect", parents=[who], help=f"lift a correction ({_NEXT_INDEX})"
    )
    uncorrect.add_argument("profile_id", metavar="PROFILE_ID")
    uncorrect.add_argument("field", metavar="FIELD", choices=CORRECTABLE)
    uncorrect.set_defaults(handler=run_uncorrect)

    listing = commands.add_parser("corrections", help="removals and corrections on record")
    actions = listing.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("list", help="the removals and corrections in force")
    show.add_argument("--all", action="store_true", help="also those lifted")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_list)

    alerts = commands.add_parser(
        "alerts",
        help="stale sources, sudden drops in what a crawl extracts, failing, stuck and "
        "abandoned runs",
        description="Alerts about the enabled sources, each saying since when and what to do "
        "(see indexer/freshness.py for when each is raised).",
    )
    alerts.add_argument("--catalog", type=Path, help="catalog file (default: TDIR_CATALOG)")
    alerts.add_argument("--json", action="store_true")
    alerts.add_argument("--check", action="store_true", help="exit with status 1 if any alert")
    alerts.set_defaults(handler=run_alerts)


@_reported
def run_suppress(args: argparse.Namespace) -> int:
    """Record a removal and take the profile out of the index now."""
    suppression = suppress_profile(
        Settings.from_env(), args.profile_id, by=args.by, reason=args.reason
    )
    print(
        f"{args.profile_id} removed from the index; kept out of every build by "
        f"{len(suppression.keys)} keys (its listings, NPI and license numbers)"
    )
    return 0


@_reported
def run_unsuppress(args: argparse.Namespace) -> int:
    """Lift a removal."""
    settings = Settings.from_env()
    CorrectionBook(settings.home).unsuppress(args.profile_id, by=args.by)
    print(f"{args.profile_id}: removal lifted; the profile {_NEXT_INDEX}")
    return 0


@_reported
def run_correct(args: argparse.Namespace) -> int:
    """Record a correction and rewrite the stored profile with it now."""
    correction = correct_profile(
        Settings.from_env(), args.profile_id, args.field, args.value, by=args.by
    )
    value = json.dumps(correction.value, ensure_ascii=False)
    print(f"{args.profile_id}: {args.field} is now {value}")
    return 0


@_reported
def run_uncorrect(args: argparse.Namespace) -> int:
    """Lift a correction."""
    settings = Settings.from_env()
    CorrectionBook(settings.home).uncorrect(args.profile_id, args.field, by=args.by)
    print(f"{args.profile_id}: correction of {args.field} lifted; the crawled value {_NEXT_INDEX}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the removals and corrections on record."""
    book = CorrectionBook(Settings.from_env().home)
    suppressions = book.suppressions(include_lifted=args.all)
    corrections = book.corrections(include_lifted=args.all)
    if args.json:
        _dump(
            {
                "suppressions": [s.to_dict() for s in suppressions],
                "corrections": [c.to_dict() for c in corrections],
            }
        )
        return 0
    scope = "" if args.all else " in force"
    print(f"removals{scope}: {len(suppressions)}")
    for s in suppressions:
        lifted = f"; lifted by {s.lifted_by} at {s.lifted_at}" if s.lifted_at else ""
        print(f"  {s.profile_id}  by {s.requested_by} at {s.requested_at}: {s.reason}{lifted}")
    print(f"corrections{scope}: {len(corrections)}")
    for c in corrections:
        lifted = f"; lifted by {c.lifted_by} at {c.lifted_at}" if c.lifted_at else ""
        value = json.dumps(c.value, ensure_ascii=False)
        print(
            f"  {c.profile_id}  {c.field} = {value}  by {c.requested_by} at {c.requested_at}"
            f"{lifted}"
        )
    return 0


def run_alerts(args: argparse.Namespace) -> int:
    """Print the alerts about sources."""
    alerts = source_alerts(ScheduleBook(Settings.from_env().home.resolve(), catalog=args.catalog))
    if args.json:
        _dump([a.to_dict() for a in alerts])
    elif not alerts:
        print("no alerts")
    else:
        for alert in alerts:
            print(f"{alert.kind:<19} {alert.message}")
    return 1 if args.check and alerts else 0


def _dump(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
