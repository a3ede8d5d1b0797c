"""Admin: every catalog source with its health, schedule, runs, coverage and a recrawl button."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from crawler.catalog import CatalogError
from crawler.coverage import LISTING_FIELDS
from crawler.runs import RunRecord
from dashboard import admin_data
from dashboard.admin_guard import require_admin
from dashboard.formatting import MISSING, format_age, format_date, parse_when, plural
from dashboard.markup import escape_markdown, plain_text
from dashboard.recrawl import RecrawlBusyError, RecrawlJobs
from dashboard.source_health import FRESHNESS_ORDER, SourceHealth

FRESHNESS_BADGES = {
    "fresh": ":green-badge[:material/check_circle: fresh]",
    "due": ":orange-badge[:material/schedule: due]",
    "overdue": ":red-badge[:material/warning: overdue]",
    "failing": ":red-badge[:material/error: failing]",
    "never crawled": ":gray-badge[:material/block: never crawled]",
    "running": ":blue-badge[:material/sync: running]",
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


def duration(record: RunRecord) -> str:
    """How long a run took (or has been running)."""
    start = parse_when(record.started_at)
    end = parse_when(record.finished_at) or datetime.now(UTC)
    if start is None:
        return MISSING
    seconds = int((end - start).total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def overview_table(health: list[SourceHealth]) -> pd.DataFrame:
    """One row per source, the most urgent first."""
    rows = []
    for item in sorted(health, key=lambda h: (FRESHNESS_ORDER[h.freshness], h.source.name)):
        last = item.last_run
        rows.append(
            {
                "Source": item.source.name,
                "Kind": item.source.kind.replace("_", " "),
                "Enabled": item.source.enabled,
                "Schedule": item.schedule_text,
                "Health": item.freshness,
                "Last run": format_age(last.started_at) if last else "never",
                "Status": last.status if last else MISSING,
                "Pages": last.pages if last else 0,
                "Items": item.items,
                "Errors": item.errors,
                "Next due": format_date(item.next_due) if item.next_due else MISSING,
            }
        )
    return pd.DataFrame(rows)


def health_style(freshness: str) -> str:
    """CSS for one health cell."""
    text, background = FRESHNESS_COLORS.get(freshness, ("inherit", "inherit"))
    return f"color: {text}; background-color: {background}; font-weight: 600"


def history_table(runs: list[RunRecord]) -> pd.DataFrame:
    """A source's runs, newest first."""
    return pd.DataFrame(
        [
            {
                "Run": r.run_id,
                "Started": format_date(r.started_at) + " " + (r.started_at[11:16] or ""),
                "Took": duration(r),
                "Status": r.status,
                "Why it ended": r.finish_reason or MISSING,
                "Resumed": r.resumed,
                "Pages": r.pages,
                "Listings": r.items.get("listing", 0),
                "Reviews": r.items.get("review", 0),
                "Credentials": r.items.get("credential_record", 0),
                "Duplicates dropped": r.duplicates_dropped,
                "Errors": sum(r.errors.values()),
            }
            for r in reversed(runs)
        ]
    )


def recrawl_panel(jobs: RecrawlJobs, item: SourceHealth) -> None:
    """The recrawl button and, while a recrawl runs, its progress, refreshed every few seconds."""
    source = item.source.name
    job = jobs.job(source)
    running = job is not None and job.running
    if st.button(
        "Recrawl now",
        key=f"recrawl_{source}",
        icon=":material/refresh:",
        type="primary",
        disabled=running or not item.source.enabled,
        help="Crawl this source now, then update the index.",
    ):
        try:
            jobs.start(source)
        except RecrawlBusyError as exc:
            st.warning(escape_markdown(exc))
        admin_data.forget_runs()
        st.rerun()

    @st.fragment(run_every=3 if running else None)
    def progress() -> None:
        current = jobs.job(source)
        if current is None:
            return
        if running and not current.running:
            # Done: a full rerun shows the new run in the health table and history.
            admin_data.forget_runs()
            st.rerun()
        if current.running:
            st.info(escape_markdown(current.summary), icon=":material/sync:")
        elif current.stage == "finished":
            st.success(escape_markdown(current.summary), icon=":material/task_alt:")
        else:
            st.error(escape_markdown(current.summary), icon=":material/error:")
        with st.expander("Recrawl output", expanded=current.running):
            st.code(current.log_tail() or "(no output yet)", language=None)

    progress()


def source_detail(home: str, item: SourceHealth, jobs: RecrawlJobs) -> None:
    """Everything about one source: schedule, recrawl, coverage, runs and one run's details."""
    source = item.source
    st.markdown(f"### {escape_markdown(source.title)} {FRESHNESS_BADGES[item.freshness]}")
    st.caption(
        f"{escape_markdown(source.name)} · {source.kind.replace('_', ' ')} · "
        f"{source.spider} spider · recrawled {item.schedule_text}"
        + ("" if source.enabled else " · disabled")
    )
    facts = st.columns(4)
    last = item.last_run
    facts[0].metric("Last run", format_age(last.started_at) if last else "never")
    facts[1].metric(
        "Last complete run",
        format_age(item.last_complete.finished_at) if item.last_complete else "never",
    )
    facts[2].metric("Next due", format_date(item.next_due) if item.next_due else "now")
    facts[3].metric("Runs recorded", f"{len(item.runs):,}")
    recrawl_panel(jobs, item)
    with st.expander("Where it is crawled from"):
        for url in (*source.start_urls, *source.sitemap_urls):
            st.text(url)
    coverage_column, errors_column = st.columns([3, 2], gap="large")
    with coverage_column:
        st.markdown("**Field coverage** of the latest run's listings")
        if last is None:
            st.caption("Not crawled yet.")
        else:
            shares = admin_data.coverage(home, source.name, last.run_id, last.status)
            if not shares:
                st.caption("The latest run gathered no listings.")
            else:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Field": list(LISTING_FIELDS),
                            "Share": [shares.get(f, 0.0) for f in LISTING_FIELDS],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "Share": st.column_config.ProgressColumn(
                            "Listings with it", min_value=0.0, max_value=1.0, format="percent"
                        )
                    },
                )
    with errors_column:
        st.markdown("**Errors in the latest run**")
        if last is None or not last.errors:
            st.caption("None.")
        else:
            st.dataframe(
                pd.DataFrame([{"Kind": k, "Count": n} for k, n in sorted(last.errors.items())]),
                hide_index=True,
                width="stretch",
            )
        if last is not None and last.robots_disallowed:
            st.caption(f"robots.txt kept the crawler off {plural(last.robots_disallowed, 'page')}.")
    st.markdown("**Run history**")
    if not item.runs:
        st.caption("No runs yet.")
        return
    st.dataframe(history_table(list(item.runs)), hide_index=True, width="stretch")
    run_ids = [r.run_id for r in reversed(item.runs)]
    chosen = st.selectbox("Run details", run_ids, key=f"run_{source.name}")
    record = next(r for r in item.runs if r.run_id == chosen)
    left, right = st.columns(2)
    left.dataframe(
        pd.DataFrame(
            [
                {"": "Started", "Value": record.started_at},
                {"": "Finished", "Value": record.finished_at or "still running"},
                {"": "Status", "Value": record.status},
                {"": "Why it ended", "Value": record.finish_reason or MISSING},
                {"": "Resumed an interrupted run", "Value": "yes" if record.resumed else "no"},
                {"": "Pages fetched", "Value": f"{record.pages:,}"},
                {"": "Bytes", "Value": f"{record.bytes:,}"},
                {"": "Duplicates dropped", "Value": f"{record.duplicates_dropped:,}"},
                {"": "Pages kept off by robots.txt", "Value": f"{record.robots_disallowed:,}"},
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    counts = [
        {"Gathered": kind.replace("_", " "), "Count": n} for kind, n in sorted(record.items.items())
    ]
    counts += [
        {"Gathered": f"error: {kind}", "Count": n} for kind, n in sorted(record.errors.items())
    ]
    right.dataframe(
        pd.DataFrame(counts or [{"Gathered": "nothing", "Count": 0}]),
        hide_index=True,
        width="stretch",
    )


def main() -> None:
    """Draw the sources page."""
    require_admin()
    st.title("Sources")
    config = admin_data.settings()
    home = str(config.home)
    try:
        health = admin_data.health(home, str(config.sites_manifest))
    except CatalogError as exc:
        st.error(f"The source catalog cannot be loaded: {escape_markdown(exc)}")
        st.caption(
            "Crawls read base URLs from the site manifest (TDIR_SITES, else "
            "$TDIR_HOME/sites.json); the catalog cannot be read without it either."
        )
        return
    jobs = admin_data.recrawl_jobs(home)
    counts = {state: sum(h.freshness == state for h in health) for state in FRESHNESS_COLORS}
    summary = st.columns(5)
    summary[0].metric("Sources", len(health))
    summary[1].metric("Fresh", counts["fresh"])
    summary[2].metric("Due or overdue", counts["due"] + counts["overdue"])
    summary[3].metric("Failing or never crawled", counts["failing"] + counts["never crawled"])
    summary[4].metric("Recrawls running", len(jobs.running()))
    st.dataframe(
        overview_table(health).style.map(health_style, subset=["Health"]),
        hide_index=True,
        width="stretch",
    )
    if not health:
        st.info("The catalog lists no sources.")
        return
    names = [h.source.name for h in health]
    chosen = st.selectbox(
        "Source",
        names,
        key="admin_source",
        format_func=lambda n: (
            f"{n} — {plain_text(next(h.source.title for h in health if h.source.name == n))}"
        ),
    )
    item = next(h for h in health if h.source.name == chosen)
    source_detail(home, item, jobs)


main()
