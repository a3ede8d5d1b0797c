"""One source's runs on the sources page: recrawl now, the run in progress or waiting, and the
scheduler's run history with any run in detail.

"Recrawl now" queues a request in the scheduler's book (see :mod:`dashboard.recrawl` for who
runs it), unless a run of the source is already queued or running: one recrawl of a source at a
time. The button is off while one is, and a click from a page drawn before it started (a second
click in a row, another admin's page) is refused with what is under way, as the request is
about to be made. While a run is queued or running the status refreshes itself every few
seconds, and the whole page is redrawn once it ends, so the history and health show the new run.
"""

from __future__ import annotations

import streamlit as st

from crawler.runs import RunRecord
from crawler.scheduling import RunEntry, ScheduleError, SourceSchedule
from crawler.scheduling.leases import LeaseHolder
from dashboard import admin_data
from dashboard.formatting import format_age, format_moment
from dashboard.markup import escape_markdown
from dashboard.notices import notify, show_notices
from dashboard.run_history import (
    TRIGGER_LABELS,
    changes_table,
    compared_text,
    crawl_warnings,
    history_table,
    record_label,
    run_changes,
    run_facts,
    status_style,
    summary_table,
)

REFRESH_SECONDS = 3
HISTORY_LIMIT = 50
LOG_LINES = 60


def notice_scope(source: str) -> str:
    """Where the outcome of a recrawl request for the source is shown."""
    return f"recrawl:{source}"


def log_tail(home: str, run_id: int, lines: int = LOG_LINES) -> str:
    """The last lines of a run's crawl and index output (written as each step ends)."""
    path = admin_data.schedule_book(home).log_path(run_id)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# -- actions (widget callbacks) ------------------------------------------------------------


def under_way(item: SourceSchedule) -> str | None:
    """What recrawl of the source is running or waiting, in words (markdown), or None."""
    if item.active_run is not None:
        run = item.active_run
        who = f"requested by {run.requested_by}" if run.requested_by else run.trigger
        return (
            f"A recrawl of {escape_markdown(item.source)} is already running: run \\#{run.id} "
            f"({escape_markdown(who)}), started "
            f"{escape_markdown(format_age(run.started_at))}. Another can be asked for once "
            "it ends."
        )
    if item.queued_run is not None:
        run = item.queued_run
        return (
            f"A recrawl of {escape_markdown(item.source)} is already waiting to run: request "
            f"\\#{run.id} by {escape_markdown(run.requested_by or 'unknown')} at "
            f"{escape_markdown(format_moment(run.queued_at))} UTC."
        )
    return None


def _request(home: str, source: str, by: str) -> None:
    book = admin_data.schedule_book(home)
    try:
        # Read afresh: the page the click came from may be older than a run started since.
        busy = under_way(book.get(source))
    except ScheduleError as exc:
        notify(notice_scope(source), "warning", escape_markdown(exc))
        return
    if busy is not None:
        notify(notice_scope(source), "warning", f"Not started: {busy}")
        return
    try:
        # Refused here too should a run have started since the check above.
        run = book.request_run(source, by=by, unless_running=True)
    except ScheduleError as exc:  # RunRefusedError included: one is queued or running
        notify(notice_scope(source), "warning", f"Not started: {escape_markdown(exc)}")
        return
    admin_data.forget_runs()
    service = book.service()
    if service is not None:
        notify(
            notice_scope(source),
            "success",
            f"Run \\#{run.id} queued; the scheduler service "
            f"({escape_markdown(service.describe())}) starts it within seconds.",
        )
        return
    admin_data.recrawl_runner(home).start(run)
    notify(
        notice_scope(source),
        "info",
        f"Run \\#{run.id} queued. No scheduler service is running, so this dashboard runs it "
        "itself: a crawl, then an index update. Scheduled runs need `tdir scheduler`.",
    )


def _cancel(home: str, source: str, run_id: int, by: str) -> None:
    if admin_data.schedule_book(home).cancel_request(run_id, by=by):
        notify(notice_scope(source), "success", f"Request \\#{run_id} cancelled.")
    else:
        notify(notice_scope(source), "warning", f"Run \\#{run_id} has already started.")


def _run_here(home: str, source: str, run: RunEntry) -> None:
    admin_data.recrawl_runner(home).start(run)
    notify(notice_scope(source), "info", f"This dashboard runs request \\#{run.id} now.")


# -- drawing -------------------------------------------------------------------------------


def recrawl_panel(home: str, item: SourceSchedule, service: LeaseHolder | None, by: str) -> None:
    """The recrawl button, and the run under way or waiting, kept up to date."""
    source = item.source
    st.button(
        "Recrawl now",
        key=f"recrawl_{source}",
        icon=":material/refresh:",
        type="primary",
        disabled=not item.enabled or under_way(item) is not None,
        on_click=_request,
        args=(home, source, by),
        help="Crawl this source now, then update the index. One run of a source at a time: "
        "while one is running or waiting, this is off.",
    )
    show_notices(notice_scope(source))
    if item.active_run is None and item.queued_run is None:
        return
    seen = _in_flight(item)

    @st.fragment(run_every=REFRESH_SECONDS)
    def live() -> None:
        """The run's status, read afresh every few seconds."""
        try:
            now = admin_data.schedule_book(home).get(source)
        except ScheduleError:
            return
        if _in_flight(now) != seen:
            # A run started or ended: redraw the whole page, health and history included.
            admin_data.forget_runs()
            st.rerun()
        in_flight_status(home, now, service, by)

    live()


def _in_flight(item: SourceSchedule) -> tuple[int | None, int | None]:
    return (
        item.active_run.id if item.active_run else None,
        item.queued_run.id if item.queued_run else None,
    )


def in_flight_status(home: str, item: SourceSchedule, service: LeaseHolder | None, by: str) -> None:
    """The running run with its output so far, and the queued request with what will run it."""
    runner = admin_data.recrawl_runner(home)
    active, queued = item.active_run, item.queued_run
    if active is not None:
        who = f"requested by {active.requested_by}" if active.requested_by else active.trigger
        st.info(
            f"Run \\#{active.id} ({escape_markdown(who)}) running for "
            f"{escape_markdown(format_age(active.started_at).removesuffix(' ago'))}, "
            f"by {escape_markdown(active.runner or 'an unknown process')}.",
            icon=":material/sync:",
        )
        with st.expander("Output so far", expanded=False):
            st.code(log_tail(home, active.id) or "(the crawl has not finished yet)", language=None)
    if queued is None:
        return
    if service is not None:
        where = "the scheduler service starts it within seconds"
    elif runner.handles(queued.id):
        where = "this dashboard runs it as soon as the source is free"
    else:
        where = "no scheduler service is running to start it"
    st.info(
        f"Request \\#{queued.id} by {escape_markdown(queued.requested_by or 'unknown')} at "
        f"{escape_markdown(format_moment(queued.queued_at))} UTC is waiting: "
        f"{escape_markdown(where)}.",
        icon=":material/hourglass_top:",
    )
    cancel, here = st.columns(2)
    cancel.button(
        "Cancel request",
        key=f"recrawl_cancel_{item.source}",
        icon=":material/cancel:",
        on_click=_cancel,
        args=(home, item.source, queued.id, by),
    )
    if service is None and not runner.handles(queued.id):
        here.button(
            "Run it here now",
            key=f"recrawl_here_{item.source}",
            icon=":material/play_arrow:",
            on_click=_run_here,
            args=(home, item.source, queued),
        )


def run_history(home: str, source: str) -> None:
    """The scheduler's runs of the source, newest first, and one of them in detail."""
    try:
        runs = admin_data.schedule_book(home).history(source, limit=HISTORY_LIMIT)
    except ScheduleError as exc:
        st.error(escape_markdown(exc))
        return
    if not runs:
        st.caption("No scheduled or requested runs yet.")
        return
    crawls = admin_data.crawl_records(home, source)
    latest_ended = next((r for r in runs if r.state in ("succeeded", "failed")), None)
    if latest_ended is not None and latest_ended.state == "failed":
        st.error(
            f"The latest run, \\#{latest_ended.id}, failed: "
            f"{escape_markdown(latest_ended.error or 'no reason recorded', max_length=400)}",
            icon=":material/error:",
        )
    table, counted = history_table(runs, crawls)
    st.dataframe(
        table.style.map(status_style, subset=["Status"]).format(na_rep=""),
        hide_index=True,
        width="stretch",
        column_config={"Error": st.column_config.TextColumn(width="large")},
    )
    note = "Times in UTC."
    if counted is not None:
        note += (
            f" New, Changed, Unchanged and Vanished count the {record_label(counted)} of each "
            "crawl against the source's previous complete crawl."
        )
    st.caption(note)
    labels: dict[int, str] = {
        r.id: f"#{r.id} · {r.state} · {TRIGGER_LABELS.get(r.trigger, r.trigger)} · "
        f"{format_moment(r.started_at or r.queued_at)}"
        for r in runs
    }
    chosen = st.selectbox(
        "Run details", list(labels), format_func=lambda i: labels[i], key=f"sched_run_{source}"
    )
    run = next(r for r in runs if r.id == chosen)
    run_detail(home, run, crawls.get(run.crawl_run_id or ""))


def run_detail(home: str, run: RunEntry, crawl: RunRecord | None) -> None:
    """Everything recorded about one run: its facts, error, what its crawl found changed,
    what its index update did, and its output."""
    if run.error:
        kind = st.error if run.state == "failed" else st.warning
        kind(escape_markdown(run.error, max_length=2000), icon=":material/error:")
    facts, outcome = st.columns(2, gap="large")
    facts.dataframe(run_facts(run), hide_index=True, width="stretch")
    with outcome:
        changed = changes_table(run_changes(crawl))
        if changed is not None:
            st.dataframe(changed, hide_index=True, width="stretch")
            st.caption(compared_text(crawl))
        for warning in crawl_warnings(crawl):
            st.warning(escape_markdown(warning), icon=":material/warning:")
        summary = summary_table(run.index_summary)
        if summary is not None:
            st.dataframe(summary, hide_index=True, width="stretch")
        elif run.done:
            st.caption("The index was not updated by this run.")
    output = log_tail(home, run.id)
    if output:
        with st.expander("Crawl and index output"):
            st.code(output, language=None)
