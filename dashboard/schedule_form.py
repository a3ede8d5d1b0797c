"""Changing one source's schedule: an interval or a cron expression, pause and resume, and the
way back to the catalog's schedule.

Every change goes through the scheduler's :class:`~crawler.scheduling.ScheduleBook`, recorded
with the admin's name; a running scheduler service picks it up within seconds. The book checks
the schedule (an interval of at least an hour; five cron fields APScheduler accepts) and its
message, which names the value at fault, is shown as it is. The form takes any whole number as
the interval's amount, so that what the admin typed reaches the check as typed: a number box
with a minimum would put its own value in place of 0 or -3 without a word. An amount under 1 is
refused here, naming it, before the book is asked.
"""

from __future__ import annotations

from datetime import UTC
from typing import Literal

import streamlit as st

from crawler.catalog import Schedule
from crawler.scheduling import ScheduleError, SourceSchedule
from dashboard import admin_data
from dashboard.formatting import format_moment, parse_when
from dashboard.markup import escape_markdown
from dashboard.notices import notify, show_notices
from dashboard.source_health import describe_schedule

Mode = Literal["every", "cron"]
MODE_LABELS: dict[Mode, str] = {"every": "At an interval", "cron": "On a cron schedule (UTC)"}
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def notice_scope(source: str) -> str:
    """Where the outcome of a change to the source's schedule is shown."""
    return f"schedule:{source}"


def _keys(source: str) -> dict[str, str]:
    return {
        "mode": f"sched_mode_{source}",
        "amount": f"sched_amount_{source}",
        "unit": f"sched_unit_{source}",
        "cron": f"sched_cron_{source}",
    }


def form_values(schedule: Schedule | None) -> tuple[Mode, int, str, str]:
    """The form's starting values for a schedule: mode, amount, unit and cron expression."""
    if schedule is not None and schedule.cron is not None:
        return "cron", 1, "d", schedule.cron
    seconds = (schedule.interval_seconds if schedule else None) or 86400
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return "every", seconds // _UNIT_SECONDS[unit], unit, ""
    return "every", max(1, seconds // 60), "m", ""


def amount_problem(amount: object, unit: str) -> str | None:
    """Why the interval's amount cannot be a schedule ("every 0 hours"), or None if it is a whole
    number of at least 1 (the book checks the rest: the shortest and longest intervals)."""
    words = f"every {amount} {UNITS.get(unit, unit)}"
    if isinstance(amount, bool) or not isinstance(amount, int):
        return f"{words}: the number of {UNITS.get(unit, unit)} must be a whole number"
    if amount < 1:
        return f"{words}: the number of {UNITS.get(unit, unit)} must be 1 or more, not {amount}"
    return None


def requested_schedule(mode: str, amount: object, unit: str, cron: str) -> dict[str, str]:
    """What the admin asked for, as the book's ``set`` takes it: ``{"every": "12h"}`` or
    ``{"cron": "0 3 * * *"}`` (the book validates it)."""
    if mode == "cron":
        return {"cron": cron.strip()}
    return {"every": f"{amount}{unit}"}


def in_force_text(item: SourceSchedule) -> str:
    """The schedule in force and whose it is, as markdown."""
    if item.schedule is None:
        return ":red[No usable schedule]: the catalog's cannot be read."
    text = f"**{escape_markdown(describe_schedule(item.schedule))}**"
    if item.override is not None:
        catalog = (
            describe_schedule(item.catalog_schedule) if item.catalog_schedule else "unreadable"
        )
        text += (
            f" · set by {escape_markdown(item.changed_by)} on "
            f"{escape_markdown(format_moment(item.changed_at))} UTC "
            f"(the catalog says {escape_markdown(catalog)})"
        )
    else:
        text += " · the catalog's schedule"
    if item.paused:
        text += " · :orange-badge[:material/pause: paused]"
    return text


NOT_PLANNED = "not planned yet"


def next_run_value(item: SourceSchedule) -> str:
    """When the source runs next, in the words every place on the sources page uses: the time
    the scheduler service planned (UTC, to the second, as ``tdir schedule list`` shows it),
    ``paused``, ``disabled``, or ``not planned yet``.

    It reads ``SourceSchedule.next_run_at`` from ``ScheduleBook.schedules()``: the time the
    scheduler service planned in its job store (for a cron schedule, the trigger's next fire
    time), or nothing when paused, disabled or not planned yet. Nothing is computed here (a
    time worked out from the last crawl would be one no service planned), so the page and the
    command line cannot disagree.
    """
    if not item.enabled:
        return "disabled"
    if item.paused:
        return "paused"
    when = parse_when(item.next_run_at) if item.next_run_at else None
    if when is None:
        return NOT_PLANNED
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def next_run_text(item: SourceSchedule) -> str:
    """When the source runs next, as ``tdir schedule list`` says it (markdown): the words of
    :func:`next_run_value`, and why there is no time when there is none."""
    value = next_run_value(item)
    if value in ("paused", "disabled"):
        return f"**Next run (UTC):** none — {value}"
    if value == NOT_PLANNED:
        return (
            f"**Next run (UTC):** {NOT_PLANNED} — the scheduler service plans it when it "
            "starts (`tdir schedule list` shows “-”)"
        )
    return f"**Next run (UTC):** {value}"


# -- actions (widget callbacks: they run before the page is drawn) ---------------------------


def _save(home: str, source: str, by: str) -> None:
    keys = _keys(source)
    ss = st.session_state
    # Only the inputs of the chosen mode are on the page; the others' state is gone.
    mode, amount, unit = (
        ss.get(keys["mode"], "every"),
        ss.get(keys["amount"], 1),
        ss.get(keys["unit"], "d"),
    )
    problem = amount_problem(amount, unit) if mode == "every" else None
    if problem is not None:
        # The form keeps what was typed, so the admin sees the value the message names.
        notify(
            notice_scope(source),
            "error",
            f"Not saved: source {escape_markdown(repr(source))}: {escape_markdown(problem)}",
        )
        return
    wanted = requested_schedule(mode, amount, unit, ss.get(keys["cron"], ""))
    try:
        item = admin_data.schedule_book(home).set(source, by=by, **wanted)
    except ScheduleError as exc:
        notify(notice_scope(source), "error", f"Not saved: {escape_markdown(exc)}")
        return
    words = describe_schedule(item.schedule) if item.schedule else "on no usable schedule"
    notify(
        notice_scope(source),
        "success",
        f"Saved: {escape_markdown(source)} now runs {escape_markdown(words)}, "
        f"set by {escape_markdown(by)}.",
    )


def _change(home: str, source: str, action: str, by: str) -> None:
    book = admin_data.schedule_book(home)
    try:
        item: SourceSchedule = getattr(book, action)(source, by=by)
    except ScheduleError as exc:
        notify(notice_scope(source), "error", escape_markdown(exc))
        return
    if action == "reset":
        for key in _keys(source).values():
            st.session_state.pop(key, None)  # the form starts again from the catalog's
    done = {
        "pause": "Scheduled runs are paused; a recrawl you request still runs.",
        "resume": "Scheduled runs resume; the next is one period from now.",
        "reset": "Back on the catalog's schedule: "
        + (describe_schedule(item.schedule) if item.schedule else "unreadable"),
    }[action]
    notify(notice_scope(source), "success", escape_markdown(done))


# -- drawing ---------------------------------------------------------------------------------


def schedule_editor(home: str, item: SourceSchedule, by: str) -> None:
    """The schedule in force, the form that changes it, pause or resume, and reset."""
    source = item.source
    keys = _keys(source)
    st.markdown(in_force_text(item))
    st.markdown(next_run_text(item))
    show_notices(notice_scope(source))
    mode, amount, unit, cron = form_values(item.schedule)
    chosen = st.radio(
        "How often",
        list(MODE_LABELS),
        index=list(MODE_LABELS).index(mode),
        format_func=MODE_LABELS.get,
        horizontal=True,
        key=keys["mode"],
    )
    if chosen == "every":
        number, size = st.columns([1, 1])
        # No minimum or maximum: the box would replace an amount outside them by its own.
        number.number_input("Every", step=1, value=amount, key=keys["amount"])
        size.selectbox(
            "Unit",
            list(UNITS),
            index=list(UNITS).index(unit),
            format_func=lambda u: UNITS[u],
            key=keys["unit"],
        )
    else:
        st.text_input(
            "Cron expression",
            value=cron,
            placeholder="0 3 * * *",
            key=keys["cron"],
            help="Five fields, in UTC: minute, hour, day of the month, month, day of the week. "
            "0 3 * * * is every day at 03:00; 0 3 * * 1-5 is weekdays at 03:00.",
        )
    save, pause, reset = st.columns(3)
    save.button(
        "Save schedule",
        key=f"sched_save_{source}",
        icon=":material/save:",
        type="primary",
        on_click=_save,
        args=(home, source, by),
        width="stretch",
    )
    if item.paused:
        pause.button(
            "Resume scheduled runs",
            key=f"sched_resume_{source}",
            icon=":material/play_arrow:",
            on_click=_change,
            args=(home, source, "resume", by),
            width="stretch",
        )
    else:
        pause.button(
            "Pause scheduled runs",
            key=f"sched_pause_{source}",
            icon=":material/pause:",
            on_click=_change,
            args=(home, source, "pause", by),
            disabled=not item.enabled,
            width="stretch",
        )
    reset.button(
        "Use the catalog's schedule",
        key=f"sched_reset_{source}",
        icon=":material/restart_alt:",
        on_click=_change,
        args=(home, source, "reset", by),
        disabled=item.override is None,
        width="stretch",
        help="Drop the schedule set here; the catalog's is in force again (a pause stays).",
    )
