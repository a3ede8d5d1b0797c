"""``tdir scheduler`` (the service) and ``tdir schedule`` (what admins do with schedules)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from crawler.scheduling.book import ScheduleBook, SourceSchedule
from crawler.scheduling.errors import RunRefusedError, ScheduleError
from crawler.scheduling.execution import RunExecutor, RunSettings
from crawler.scheduling.history import RunEntry
from crawler.scheduling.leases import LeaseBusyError
from crawler.scheduling.triggers import describe, parse_duration
from tdir.config import Settings


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``scheduler`` and ``schedule`` subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", type=Path, help="catalog file (default: TDIR_CATALOG)")
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--by", default=None, help="who makes the change (default: your login)")
    crawl = argparse.ArgumentParser(add_help=False)
    crawl.add_argument(
        "--no-delay",
        action="store_true",
        help="crawl without politeness delays (refused unless every host is this machine)",
    )

    service = commands.add_parser(
        "scheduler",
        parents=[common, crawl],
        help="run the scheduler service: every source crawled and indexed on its schedule",
        description="Crawl each enabled catalog source on its schedule (or the one an admin "
        "set), then update the index incrementally; start the runs admins request. A source "
        "whose runs were missed while the service was down runs once on start. Stops "
        "gracefully on Ctrl+C or SIGTERM.",
    )
    service.add_argument(
        "--once",
        action="store_true",
        help="run every source that is due and every queued request, then exit "
        "(exit status 1 if a run failed)",
    )
    service.add_argument("--workers", type=int, default=2, help="sources run at once (default 2)")
    service.add_argument(
        "--poll", default="5s", help="how often requests and changes are picked up (default 5s)"
    )
    service.add_argument(
        "--retry-after",
        default="5m",
        help="first retry of a failed source; doubles per failure in a row, at most one period "
        "(default 5m)",
    )
    service.add_argument("--json", action="store_true", help="with --once: print the runs as JSON")
    service.set_defaults(handler=run_scheduler)

    schedule = commands.add_parser(
        "schedule",
        help="show and change source schedules, request runs, read the run history",
        description="Schedules are the catalog's unless an admin set one; an admin's schedule "
        "wins until reset. Cron expressions are in UTC.",
    )
    actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", parents=[common], help="every source's schedule")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)

    setting = actions.add_parser(
        "set", parents=[common, who], help="set a source's schedule (wins over the catalog's)"
    )
    setting.add_argument("source", metavar="SOURCE")
    when = setting.add_mutually_exclusive_group(required=True)
    when.add_argument("--every", help="an interval: 30m, 6h, 1d, 1w")
    when.add_argument("--cron", help='five cron fields, in UTC: "0 3 * * *"')
    setting.set_defaults(handler=run_set)

    for action, text in (
        ("reset", "go back to the catalog's schedule"),
        ("pause", "stop scheduled runs of a source"),
        ("resume", "resume scheduled runs of a source"),
    ):
        change = actions.add_parser(action, parents=[common, who], help=text)
        change.add_argument("source", metavar="SOURCE")
        change.set_defaults(handler=run_change, change=action)

    now = actions.add_parser(
        "run-now",
        parents=[common, who, crawl],
        help="run a source now (crawl, then index)",
        description="Queue a run of the source for the scheduler service. With --wait, wait "
        "for it to end, running it here when no scheduler is running.",
    )
    now.add_argument("source", metavar="SOURCE")
    now.add_argument("--wait", action="store_true", help="wait for the run to end")
    now.add_argument("--json", action="store_true", help="print the run as JSON")
    now.set_defaults(handler=run_now)

    past = actions.add_parser("history", parents=[common], help="runs, newest first")
    past.add_argument("source", nargs="?", metavar="SOURCE")
    past.add_argument("--limit", type=int, default=20)
    past.add_argument("--json", action="store_true")
    past.set_defaults(handler=run_history)


# -- handlers ---------------------------------------------------------------------------------


def run_scheduler(args: argparse.Namespace) -> int:
    """Run the service until stopped, or one pass with ``--once``."""
    # Imported here: the job store's SQLAlchemy is only needed by the service itself.
    from crawler.scheduling.service import SchedulerService, ServiceOptions

    if args.workers < 1:
        raise ScheduleError(f"--workers must be at least 1, not {args.workers}")
    poll = parse_duration(args.poll, "--poll")
    if poll <= 0:
        raise ScheduleError(f"--poll must be more than 0, not {args.poll!r}")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    service = SchedulerService(
        _run_settings(args, role="scheduler"),
        ServiceOptions(
            workers=args.workers,
            poll_seconds=poll,
            retry_after=parse_duration(args.retry_after, "--retry-after"),
        ),
    )
    if args.once:
        runs = service.run_once()
        _print_runs(runs, args.json)
        return 1 if any(r.state == "failed" for r in runs) else 0
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    service.run_forever(stop)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print every source's schedule."""
    book = _book(args)
    schedules = book.schedules()
    if args.json:
        service = book.service()
        _dump(
            {
                "service": service.describe() if service else None,
                "sources": [s.to_dict() for s in schedules],
            }
        )
        return 0
    service = book.service()
    print(f"scheduler: {'running, ' + service.describe() if service else 'not running'}")
    header = f"{'source':<16} {'state':<10} {'schedule':<22} {'next run (UTC)':<20} last run"
    print(header)
    print("-" * len(header))
    for item in schedules:
        print(_schedule_line(item))
        if item.problem:
            print(f"{'':<16} problem: {item.problem}")
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Set a source's schedule."""
    item = _book(args).set(args.source, every=args.every, cron=args.cron, by=_by(args))
    print(f"{item.source}: {describe(item.schedule)} (set by {item.changed_by})")
    return 0


def run_change(args: argparse.Namespace) -> int:
    """Reset, pause or resume a source's schedule."""
    book = _book(args)
    item = getattr(book, args.change)(args.source, by=_by(args))
    print(f"{item.source}: {item.state}, {describe(item.schedule)}")
    return 0


def run_now(args: argparse.Namespace) -> int:
    """Queue a run; with ``--wait``, wait for it (running it here if no service runs)."""
    book = _book(args)
    run = book.request_run(args.source, by=_by(args))
    if not args.wait:
        service = book.service()
        where = (
            "the scheduler starts it within seconds"
            if service
            else "no scheduler is running: start `tdir scheduler` (or `tdir scheduler --once`)"
        )
        print(f"queued run #{run.id} of {run.source}; {where}")
        return 0
    try:
        if book.service() is None:
            entry = _run_here(book, run, _run_settings(args, role="run-now"))
        else:
            print(f"queued run #{run.id}; waiting for the scheduler to run it", file=sys.stderr)
            entry = _wait_for(book, run.id)
    except KeyboardInterrupt:
        if book.cancel_request(run.id, by=_by(args)):
            print(f"run #{run.id} cancelled", file=sys.stderr)
        raise
    _print_runs([entry], args.json)
    return 0 if entry.state == "succeeded" else 1


def run_history(args: argparse.Namespace) -> int:
    """Print the run history."""
    if args.limit < 1:
        raise ScheduleError(f"--limit must be at least 1, not {args.limit}")
    runs = _book(args).history(args.source, limit=args.limit)
    _print_runs(runs, args.json)
    return 0


# -- helpers ----------------------------------------------------------------------------------


def _home() -> Path:
    return Settings.from_env().home.resolve()


def _book(args: argparse.Namespace) -> ScheduleBook:
    return ScheduleBook(_home(), catalog=args.catalog)


def _run_settings(args: argparse.Namespace, *, role: str) -> RunSettings:
    return RunSettings(
        home=_home(),
        catalog=args.catalog,
        crawl_args=("--no-delay",) if args.no_delay else (),
        role=role,
    )


def _by(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise ScheduleError("say who makes the change with --by NAME") from None


def _run_here(book: ScheduleBook, run: RunEntry, settings: RunSettings) -> RunEntry:
    """Run a queued request in this process, once its source is free."""
    executor = RunExecutor(settings)
    told = False
    while True:
        try:
            active = executor.start_requested(run)
            break
        except LeaseBusyError as exc:
            if not told:
                print(f"run #{run.id} waits: {exc}", file=sys.stderr)
                told = True
            time.sleep(1.0)
        except RunRefusedError:
            return _wait_for(book, run.id)  # a scheduler started meanwhile took it over
    print(f"run #{run.id} of {run.source} started", file=sys.stderr)
    return executor.perform(active)


def _wait_for(book: ScheduleBook, run_id: int, poll: float = 1.0) -> RunEntry:
    while True:
        entry = book.run(run_id)
        if entry is None:
            raise ScheduleError(f"run #{run_id} is not in the history")
        if entry.done:
            return entry
        time.sleep(poll)


def _when(text: str | None) -> str:
    return text[:19].replace("T", " ") if text else "-"


def _schedule_line(item: SourceSchedule) -> str:
    schedule = describe(item.schedule)
    if item.override is not None:
        schedule += " *"  # an admin's, not the catalog's
    last = item.last_run
    last_text = f"#{last.id} {last.state} {_when(last.finished_at)}" if last else "-"
    if item.queued_run is not None:
        last_text += f"; #{item.queued_run.id} queued"
    return (
        f"{item.source:<16} {item.state:<10} {schedule:<22} {_when(item.next_run_at):<20} "
        f"{last_text}"
    )


def _print_runs(runs: list[RunEntry], as_json: bool) -> None:
    if as_json:
        _dump([r.to_dict() for r in runs])
        return
    if not runs:
        print("no runs")
        return
    for r in runs:
        crawl = f"crawl {r.crawl_run_id} {r.crawl_status}" if r.crawl_run_id else "no crawl"
        summary = r.index_summary or {}
        index = (
            f"index: {summary.get('profiles')} profiles, {summary.get('written')} written, "
            f"{summary.get('deleted')} deleted"
            if summary
            else "no index update"
        )
        print(
            f"#{r.id:<5} {r.source:<14} {r.trigger:<8} {r.state:<9} "
            f"started {_when(r.started_at)}  ended {_when(r.finished_at)}  {crawl}; {index}"
        )
        if r.state == "running" and r.child_pid is not None:
            print(f"{'':7}process under way: pid {r.child_pid}")
        if r.error:
            print(f"{'':7}error: {r.error}")


def _dump(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")
