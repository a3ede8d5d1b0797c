"""The scheduler's run history as admins read it: one row per run, and one run in detail.

A run (scheduled, missed or requested) is a crawl of one source followed by an incremental index
update. Its row says who or what started it, when it was queued, started and ended, how it went
and why it failed, which crawl run it made, what that crawl found changed since the previous one
(when the crawl counted it) and what the index update wrote. Every string from a run (errors
quote the crawl's own output) goes into dataframes and ``st.text`` only, never into markdown
unescaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from crawler.items import RECORD_LABELS
from crawler.runs import RunRecord
from crawler.scheduling.history import RunEntry
from dashboard.formatting import MISSING, format_moment, format_took, plural
from dashboard.markup import plain_text

TRIGGER_LABELS = {
    "schedule": "schedule",
    "manual": "requested",
    "missed": "missed, caught up",
}
STATE_LABELS = {
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "skipped": "skipped",
}
# Cell colours of the status column (text, background), failures in red.
STATE_COLORS = {
    "succeeded": ("#14532d", "#dcfce7"),
    "failed": ("#7f1d1d", "#fee2e2"),
    "running": ("#1e3a8a", "#dbeafe"),
    "queued": ("#374151", "#f3f4f6"),
    "skipped": ("#374151", "#f3f4f6"),
}
# What a crawl found compared with the source's previous complete crawl, in reading order.
CHANGE_LABELS = {
    "new": "New",
    "changed": "Changed",
    "unchanged": "Unchanged",
    "vanished": "Vanished",
}
# The index update's counts worth a column; the rest are in a run's details.
SUMMARY_COLUMNS = {"profiles": "Profiles", "written": "Written", "deleted": "Deleted"}
SUMMARY_LABELS = {
    "profiles": "Profiles in the index",
    "listings": "Listings read",
    "inactive_listings": "Listings no longer listed",
    "sources": "Sources read",
    "reviews": "Reviews",
    "written": "Profiles written",
    "unchanged": "Profiles unchanged",
    "deleted": "Profiles deleted",
    "rebuilt": "Full rebuild",
    "suppressed_profiles": "Profiles kept out (removed on request)",
    "corrected_profiles": "Profiles with corrections",
}


def run_changes(record: RunRecord | None) -> dict[str, dict[str, int]] | None:
    """A crawl's counts of new, changed, unchanged and vanished records by record type, when it
    counted them (crawls before the counts existed, and runs still going, did not)."""
    changes = getattr(record, "changes", None)
    if not isinstance(changes, Mapping) or not changes:
        return None
    return {
        str(kind): {str(k): int(n) for k, n in counts.items() if isinstance(n, int | float)}
        for kind, counts in changes.items()
        if isinstance(counts, Mapping)
    }


def record_label(record_type: str) -> str:
    """ "listings", "reviews", "credential records"."""
    return RECORD_LABELS.get(record_type, record_type.replace("_", " ") + "s")


def main_record_type(changes: Iterable[Mapping[str, Mapping[str, int]] | None]) -> str | None:
    """The record type a source's change columns count: listings when its crawls gather
    listings, else the type they gather most of (a license board's credential records)."""
    totals: dict[str, int] = {}
    for counts in changes:
        for record_type, kinds in (counts or {}).items():
            totals[record_type] = totals.get(record_type, 0) + sum(kinds.values())
    if not totals:
        return None
    if "listing" in totals:
        return "listing"
    return max(sorted(totals), key=lambda t: totals[t])


def history_table(
    runs: list[RunEntry], crawls: Mapping[str, RunRecord] | None = None
) -> tuple[pd.DataFrame, str | None]:
    """One row per run, as given (newest first), and the record type the change columns count.

    ``crawls`` are the crawl run records by run id; the counts of what each crawl found new,
    changed, unchanged and vanished get columns when any of them has them.
    """
    crawls = crawls or {}
    changes = {
        r.id: run_changes(crawls[r.crawl_run_id])
        for r in runs
        if r.crawl_run_id is not None and r.crawl_run_id in crawls
    }
    counted = main_record_type(changes.values())
    rows = []
    for run in runs:
        summary = run.index_summary or {}
        row: dict[str, Any] = {
            "Run": f"#{run.id}",
            "Trigger": TRIGGER_LABELS.get(run.trigger, run.trigger),
            "Requested by": plain_text(run.requested_by) or MISSING,
            "Queued": format_moment(run.queued_at),
            "Started": format_moment(run.started_at),
            "Finished": format_moment(run.finished_at),
            "Took": format_took(run.started_at, run.finished_at) if run.started_at else MISSING,
            "Status": STATE_LABELS.get(run.state, run.state),
            "Crawl run": run.crawl_run_id or MISSING,
            "Crawl status": run.crawl_status or MISSING,
        }
        if counted is not None:
            kinds = (changes.get(run.id) or {}).get(counted) or {}
            for kind, label in CHANGE_LABELS.items():
                row[label] = kinds.get(kind)
        for key, label in SUMMARY_COLUMNS.items():
            value = summary.get(key)
            row[label] = value if isinstance(value, int) else None
        row["Error"] = plain_text(run.error, max_length=300) or ""
        rows.append(row)
    table = pd.DataFrame(rows)
    # Nullable integers: a run without counts shows an empty cell, not "nan" or "1.0".
    numbers = [*CHANGE_LABELS.values(), *SUMMARY_COLUMNS.values()]
    for column in numbers:
        if column in table:
            table[column] = table[column].astype("Int64")
    return table, counted


def status_style(status: str) -> str:
    """CSS for one status cell."""
    text, background = STATE_COLORS.get(status, ("inherit", "inherit"))
    return f"color: {text}; background-color: {background}; font-weight: 600"


def run_facts(run: RunEntry) -> pd.DataFrame:
    """One run's facts, as label and value."""
    facts = [
        ("Trigger", TRIGGER_LABELS.get(run.trigger, run.trigger)),
        ("Requested by", plain_text(run.requested_by) or MISSING),
        ("Queued", format_moment(run.queued_at)),
        ("Started", format_moment(run.started_at)),
        ("Finished", format_moment(run.finished_at) if run.finished_at else "not yet"),
        ("Took", format_took(run.started_at, run.finished_at) if run.started_at else MISSING),
        ("Status", STATE_LABELS.get(run.state, run.state)),
        ("Run by", plain_text(run.runner) or MISSING),
        ("Crawl run", run.crawl_run_id or MISSING),
        ("Crawl status", run.crawl_status or MISSING),
    ]
    return pd.DataFrame([{"": label, "Value": value} for label, value in facts])


def summary_table(summary: Mapping[str, Any] | None) -> pd.DataFrame | None:
    """What the run's index update did, or None if it made none."""
    if not summary:
        return None
    rows = [
        {"Index update": SUMMARY_LABELS.get(key, key.replace("_", " ")), "Count": str(value)}
        for key, value in summary.items()
    ]
    return pd.DataFrame(rows)


def changes_table(changes: Mapping[str, Mapping[str, int]] | None) -> pd.DataFrame | None:
    """What a crawl found new, changed, unchanged and vanished, one row per record type
    (listings first), or None if it did not count them."""
    if not changes:
        return None
    order = sorted(changes, key=lambda t: (t != "listing", t))
    return pd.DataFrame(
        [
            {
                "Records": record_label(record_type),
                **{
                    label: changes[record_type].get(kind, 0)
                    for kind, label in CHANGE_LABELS.items()
                },
            }
            for record_type in order
        ]
    )


def crawl_warnings(crawl: RunRecord | None) -> list[str]:
    """What a crawl could not settle or walked into, in words (plain text): listings it kept
    because their pages failed, and URL templates it suspects of being traps."""
    if crawl is None:
        return []
    warnings = []
    if crawl.in_doubt:
        warnings.append(
            f"{plural(crawl.in_doubt, 'listing')} not reached because their pages (or the pages "
            "leading to them) failed: kept as last seen, not counted as vanished."
        )
    for template, pages in sorted(crawl.suspected_traps.items()):
        warnings.append(
            f"Trap suspected under {plain_text(template, max_length=200)}: "
            f"{plural(pages, 'page')} without a single record."
        )
    return warnings


def compared_text(crawl: RunRecord | None) -> str:
    """Which crawl a crawl's changes were counted against (plain text)."""
    previous = getattr(crawl, "compared_with", None)
    if previous:
        return f"Compared with crawl {previous}, the source's previous complete crawl."
    return "The source's first complete crawl: everything it found is new."
