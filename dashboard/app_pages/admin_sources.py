"""Admin: every catalog source with its alerts, health, schedule and runs; recrawl now; change a
schedule, pause or resume it. Recrawl requests and schedule changes go to the audit log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from crawler.catalog import CatalogError
from crawler.scheduling import ScheduleError, SourceSchedule
from crawler.scheduling.leases import LeaseHolder
from dashboard import admin_data, audit, notices
from dashboard.admin_guard import require_admin
from dashboard.alert_panel import alerts_by_source, alerts_panel, severity
from dashboard.crawl_panel import crawls_tab
from dashboard.formatting import MISSING, format_age
from dashboard.headings import page_heading
from dashboard.markup import escape_markdown, plain_text
from dashboard.schedule_form import next_run_value, schedule_editor
from dashboard.source_health import FRESHNESS_ORDER, SourceHealth
from dashboard.source_runs import recrawl_panel, run_history
from indexer.freshness import Alert

FRESHNESS_BADGES = {
    "fresh": ":green-badge[:material/check_circle: fresh]",
    "due": ":orange-badge[:material/schedule: due]",
    "overdue": ":red-badge[:material/warning: overdue]",
    "failing": ":red-badge[:material/error: failing]",
    "never crawled": ":gray-badge[:material/block: never crawled]",
    "running": ":blue-badge[:material/sync: running]",
}
STATE_BADGES = {
    "scheduled": ":green-badge[:material/event_repeat: scheduled]",
    "paused": ":orange-badge[:material/pause: paused]",
    "running": ":blue-badge[:material/sync: running]",
    "disabled": ":gray-badge[:material/block: disabled]",
}
# Cell colours of the health column (text, background), worst in red.
FRESHNESS_COLORS = {
    "fresh": ("#14532d", "#dcfce7"),
    "due": ("#7c2d12", "#ffedd5"),
    "overdue": ("#7f1d1d", "#fee2e2"),
    "failing": ("#7f1d1d", "#fee2e2"),
    "never crawled": ("#374151", "#f3f4f6"),
    "running": ("#1e3a8a", "#dbeafe"),
}


def next_run_cell(item: SourceSchedule | None) -> str:
    """When the source runs next, in the schedule form's words (:func:`next_run_value`): the
    time the scheduler service planned, ``paused``, ``disabled`` or ``not planned yet``. The
    table, the source's figures and its form say the same thing."""
    return next_run_value(item) if item is not None else MISSING


def schedule_cell(health: SourceHealth, item: SourceSchedule | None) -> str:
    """The schedule in force, marked when an admin set it."""
    text = health.schedule_text
    return f"{text} (set here)" if item is not None and item.override is not None else text


def switched_off(item: SourceHealth, schedules: dict[str, SourceSchedule]) -> bool:
    """Whether the catalog switches the source off (``enabled: false``): it is crawled only
    when someone names it, never on a schedule, so it is neither due nor failing."""
    schedule = schedules.get(item.source.name)
    return not item.source.enabled or (schedule is not None and not schedule.enabled)


def urgency(
    item: SourceHealth, schedules: dict[str, SourceSchedule], alerts: list[Alert]
) -> tuple[bool, int, int, str]:
    """How a source ranks on this page, most in need first: a source switched off (never
    crawled, but not waiting for anything) after every enabled one, then by its worst alert
    and its freshness."""
    return (
        switched_off(item, schedules),
        severity(alerts, item.source.name),
        FRESHNESS_ORDER[item.freshness],
        item.source.name,
    )


def overview_table(
    health: list[SourceHealth], schedules: dict[str, SourceSchedule], alerts: list[Alert]
) -> pd.DataFrame:
    """One row per source, the most urgent first."""
    flagged = alerts_by_source(alerts)
    rows = []
    ordered = sorted(health, key=lambda h: urgency(h, schedules, alerts))
    for item in ordered:
        name = item.source.name
        schedule = schedules.get(name)
        last = item.last_run
        rows.append(
            {
                "Source": name,
                "Kind": item.source.kind.replace("_", " "),
                "State": schedule.state if schedule else MISSING,
                "Schedule": schedule_cell(item, schedule),
                "Health": item.freshness,
                "Alerts": flagged.get(name, ""),
                "Last run": format_age(last.started_at) if last else "never",
                "Status": last.status if last else MISSING,
                "Pages": last.pages if last else 0,
                "Items": item.items,
                "Errors": item.errors,
                "Next run": next_run_cell(schedule),
            }
        )
    return pd.DataFrame(rows)


def health_style(freshness: str) -> str:
    """CSS for one health cell."""
    text, background = FRESHNESS_COLORS.get(freshness, ("inherit", "inherit"))
    return f"color: {text}; background-color: {background}; font-weight: 600"


def alert_style(alerts: str) -> str:
    """CSS for one alerts cell: red when there is any."""
    return "color: #7f1d1d; background-color: #fee2e2; font-weight: 600" if alerts else ""


def service_status(service: LeaseHolder | None) -> None:
    """Whether a scheduler service is running on this data directory."""
    if service is not None:
        st.success(
            f"Scheduler service running: {escape_markdown(service.describe())}. It runs each "
            "source on its schedule and starts requested recrawls within seconds.",
            icon=":material/schedule:",
        )
        return
    st.warning(
        "No scheduler service is running: sources are not recrawled on their schedules. "
        "Start it with `tdir scheduler`. Meanwhile **Recrawl now** still works: this "
        "dashboard runs the request itself.",
        icon=":material/event_busy:",
    )


def source_detail(
    home: str,
    item: SourceHealth,
    schedule: SourceSchedule,
    service: LeaseHolder | None,
    by: str,
) -> None:
    """Everything about one source: recrawl and schedule, run history, crawls."""
    source = item.source
    st.markdown(
        f"### {escape_markdown(source.title)} {FRESHNESS_BADGES[item.freshness]} "
        f"{STATE_BADGES.get(schedule.state, '')}"
    )
    st.caption(
        f"{escape_markdown(source.name)} · {source.kind.replace('_', ' ')} · "
        f"{source.spider} spider" + ("" if source.enabled else " · disabled in the catalog")
    )
    if schedule.problem:
        st.error(
            f"This source cannot be crawled as the catalog stands: "
            f"{escape_markdown(schedule.problem)}",
            icon=":material/report:",
        )
    facts = st.columns(4)
    last = item.last_run
    facts[0].metric("Schedule", item.schedule_text)
    facts[1].metric("Last crawl", format_age(last.started_at) if last else "never")
    facts[2].metric(
        "Last complete crawl",
        format_age(item.last_complete.finished_at) if item.last_complete else "never",
    )
    facts[3].metric(
        "Next run (UTC)",
        next_run_cell(schedule),
        help="As the scheduler service planned it (`tdir schedule list` shows the same). "
        "Nothing is planned while no service has read the schedule.",
    )
    runs_tab, history_tab, crawls = st.tabs(["Recrawl & schedule", "Run history", "Crawls"])
    with runs_tab:
        recrawl, when = st.columns([1, 1.3], gap="large")
        with recrawl:
            st.markdown("**Recrawl**")
            recrawl_panel(home, schedule, service, by)
            with st.expander("Where it is crawled from"):
                for url in (*source.start_urls, *source.sitemap_urls):
                    st.text(url)
        with when:
            st.markdown("**Schedule**")
            schedule_editor(home, schedule, by)
    with history_tab:
        run_history(home, source.name)
    with crawls:
        crawls_tab(home, item)


AUDITED_KEY = "tdir_audited_notices"
AUDITED_SCOPES = {"schedule": "schedule", "recrawl": "recrawl"}


def audit_outcomes(home: str, by: str) -> None:
    """Record in the audit log the schedule changes and recrawl requests made since the last run.

    Their callbacks (in :mod:`dashboard.schedule_form` and :mod:`dashboard.source_runs`) run
    before this page is drawn and leave their outcome as a notice for the source; each such
    notice is recorded once, as the action it reports.
    """
    # The notices' store belongs to dashboard.notices; it is only read here.
    pending = st.session_state.get(notices._KEY, {})
    audited: set[int] = st.session_state.get(AUDITED_KEY, set())
    live: set[int] = set()
    for scope, items in pending.items():
        prefix, _, source = str(scope).partition(":")
        action = AUDITED_SCOPES.get(prefix)
        if action is None:
            continue
        for item in items:
            live.add(id(item))
            if id(item) in audited:
                continue
            kind, markdown = item
            audit.record(
                Path(home),
                action,
                by,
                outcome="ok" if kind in ("success", "info") else "failed",
                detail=f"{source}: {audit.unescape(markdown)}",
            )
    st.session_state[AUDITED_KEY] = live


def main() -> None:
    """Draw the sources page."""
    by = require_admin()
    page_heading("Sources", tab="Sources and recrawls")
    config = admin_data.settings()
    home = str(config.home)
    audit_outcomes(home, by)
    book = admin_data.schedule_book(home)
    try:
        schedules = {s.source: s for s in book.schedules()}
        alerts = admin_data.alerts(home)
    except ScheduleError as exc:
        st.error(f"The source catalog cannot be read: {escape_markdown(exc)}")
        return
    service = book.service()
    service_status(service)
    alerts_panel(alerts)
    try:
        health = admin_data.health(
            home, str(config.sites_manifest), {n: s.schedule for n, s in schedules.items()}
        )
    except CatalogError as exc:
        st.error(f"The source catalog cannot be loaded: {escape_markdown(exc)}")
        st.caption(
            "Crawls read base URLs from the site manifest (TDIR_SITES, else "
            "$TDIR_HOME/sites.json); the catalog cannot be read without it either."
        )
        return
    # A source switched off waits for nothing: counted apart, not as never crawled or overdue.
    switched_on = [h for h in health if not switched_off(h, schedules)]
    counts = {state: sum(h.freshness == state for h in switched_on) for state in FRESHNESS_COLORS}
    in_flight = sum(s.active_run is not None for s in schedules.values())
    queued = sum(s.queued_run is not None for s in schedules.values())
    summary = st.columns(6)
    summary[0].metric("Sources", len(health))
    summary[1].metric("Fresh", counts["fresh"])
    summary[2].metric("Due or overdue", counts["due"] + counts["overdue"])
    summary[3].metric("Failing or never crawled", counts["failing"] + counts["never crawled"])
    summary[4].metric(
        "Switched off",
        len(health) - len(switched_on),
        help="Disabled in the catalog: crawled only when named, never on a schedule.",
    )
    summary[5].metric("Runs going or queued", f"{in_flight} / {queued}")
    st.dataframe(
        overview_table(health, schedules, alerts)
        .style.map(health_style, subset=["Health"])
        .map(alert_style, subset=["Alerts"]),
        hide_index=True,
        width="stretch",
    )
    known = [h for h in health if h.source.name in schedules]
    if not known:
        st.info("The catalog lists no sources.")
        return
    # The most urgent first, as in the table: the page opens on the source most in need.
    known.sort(key=lambda h: urgency(h, schedules, alerts))
    titles = {h.source.name: plain_text(h.source.title) for h in known}
    chosen = st.selectbox(
        "Source", list(titles), key="admin_source", format_func=lambda n: f"{n} — {titles[n]}"
    )
    item = next(h for h in known if h.source.name == chosen)
    source_detail(home, item, schedules[chosen], service, by)


main()
