"""Alerts about sources at the top of the sources page: failing runs, sudden drops in what a
crawl extracts, stale sources (see :mod:`indexer.freshness` for when each is raised).

They come first on the page and in red or orange, because each means the directory may be
showing listings that are no longer true. Their messages quote run errors, which quote crawl
output, so every message is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard.formatting import plural
from dashboard.markup import escape_markdown
from indexer.freshness import Alert


@dataclass(frozen=True)
class AlertStyle:
    """How one kind of alert is shown."""

    title: str
    short: str  # for a table cell
    box: Callable[..., Any]
    icon: str
    advice: str


STYLES: dict[str, AlertStyle] = {
    "failing": AlertStyle(
        "Failing",
        "failing",
        st.error,
        ":material/error:",
        "The latest run failed; its error is in the source's run history.",
    ),
    "extraction_dropped": AlertStyle(
        "Extraction dropped",
        "dropped",
        st.error,
        ":material/trending_down:",
        "A complete crawl found far fewer records than the one before: the site's pages "
        "may have changed shape.",
    ),
    "abandoned": AlertStyle(
        "Abandoned",
        "abandoned",
        st.error,
        ":material/link_off:",
        "A scheduled run outlived its scheduler. Its crawl was stopped and is resumed by the "
        "next run; keep `tdir scheduler` running (a service manager restarts it).",
    ),
    "stuck": AlertStyle(
        "Stuck",
        "stuck",
        st.warning,
        ":material/hourglass_top:",
        "A run has gone on far longer than this source's runs ever did. Its log (named above) "
        "says how far it got; if it is not moving, stop its crawl (SIGTERM): the next run "
        "resumes it.",
    ),
    "stale": AlertStyle(
        "Stale",
        "stale",
        st.warning,
        ":material/history:",
        "No complete crawl within twice the schedule's period: its listings may be out of date.",
    ),
}
ORDER = ("failing", "abandoned", "extraction_dropped", "stuck", "stale")


def severity(alerts: list[Alert], source: str) -> int:
    """How serious the source's worst alert is: 0 for failing, up to ``len(ORDER)`` for none."""
    ranks = [ORDER.index(a.kind) for a in alerts if a.source == source and a.kind in ORDER]
    return min(ranks, default=len(ORDER))


def alerts_by_source(alerts: list[Alert]) -> dict[str, str]:
    """Each source's alert kinds, as one short text for a table cell."""
    kinds: dict[str, list[str]] = {}
    for alert in sorted(alerts, key=lambda a: ORDER.index(a.kind) if a.kind in ORDER else 9):
        label = STYLES[alert.kind].short if alert.kind in STYLES else alert.kind
        if label not in kinds.setdefault(alert.source, []):
            kinds[alert.source].append(label)
    return {source: ", ".join(labels) for source, labels in kinds.items()}


def never_crawled(alert: Alert) -> bool:
    """True for a stale alert about a source that never had a complete crawl."""
    return alert.kind == "stale" and alert.since is None


def _lines(group: list[Alert]) -> list[str]:
    """One escaped line per alert; sources never crawled share one line, as a new directory
    has many and each would say the same."""
    lines = [escape_markdown(a.message, max_length=500) for a in group if not never_crawled(a)]
    never = sorted(a.source for a in group if never_crawled(a))
    if never:
        paused = any(a.details.get("paused") for a in group if never_crawled(a))
        lines.append(
            "never crawled completely: "
            + ", ".join(escape_markdown(s) for s in never)
            + (" (some are paused)" if paused else "")
        )
    return lines


def alerts_panel(alerts: list[Alert]) -> None:
    """Every alert, grouped by kind, the most serious first."""
    if not alerts:
        st.success(
            "No alerts: every enabled source has a recent complete crawl, extracts as much as "
            "before, and its last run succeeded.",
            icon=":material/task_alt:",
        )
        return
    for kind in (*ORDER, *sorted({a.kind for a in alerts} - set(ORDER))):
        group = [a for a in alerts if a.kind == kind]
        if not group:
            continue
        style = STYLES.get(kind, AlertStyle(kind, kind, st.warning, ":material/warning:", ""))
        sources = {a.source for a in group}
        lines = "\n".join(f"- {line}" for line in _lines(group))
        style.box(
            f"**{escape_markdown(style.title)}: {plural(len(sources), 'source')}**  \n"
            f"{escape_markdown(style.advice)}\n\n{lines}",
            icon=style.icon,
        )
