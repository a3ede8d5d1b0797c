"""Admin: the listings the indexer flagged, credential problems first.

Each can be resolved (the problem is dealt with) or dismissed (nothing to do) with a note; the
decision is recorded with the admin's name, goes to the audit log, and hides the profile from
the open list until its flags change.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import admin_data, audit, routes, services
from dashboard.admin_guard import require_admin
from dashboard.flagged import FlaggedProfile, FlagReview, FlagReviews, ReviewStatus, decision_on
from dashboard.formatting import format_date, format_moment, plural
from dashboard.headings import page_heading
from dashboard.markup import escape_markdown, plain_text
from dashboard.notices import notify, show_notices
from indexer.search import BackendError

KINDS = {
    "all": "All flagged",
    "credential": "Credential not confirmed",
    "data": "Unusable values",
}


def table(
    items: list[FlaggedProfile], decided: dict[str, FlagReview] | None = None
) -> pd.DataFrame:
    """One row per flagged profile (with the decision on it, where there is one)."""
    decided = decided or {}
    return pd.DataFrame(
        [
            {
                "Therapist": plain_text(f.name, max_length=60),
                "Place": plain_text(f.place),
                "Credential problems": "; ".join(
                    plain_text(x, max_length=120) for x in f.credential_flags
                ),
                "Unusable values": len(f.data_flags),
                "Last confirmed": format_date(f.last_confirmed),
                "Profile id": f.id,
                "Decision": STATUS_WORDS[decided[f.id].status] if f.id in decided else "open",
            }
            for f in items
        ]
    )


NOTICES = "flagged"
STATUS_WORDS = {"resolved": "Resolved", "dismissed": "Dismissed"}


def note_key(profile_id: str) -> str:
    """The key of the note typed for a decision on a profile."""
    return f"flag_note_{profile_id}"


def decide(home: str, item: FlaggedProfile, status: ReviewStatus, by: str) -> None:
    """Resolve or dismiss the profile with the note typed for it (a widget callback)."""
    note = str(st.session_state.get(note_key(item.id)) or "").strip()
    if not note:
        notify(NOTICES, "error", "Add a note first: it is recorded with the decision.")
        return
    FlagReviews(Path(home)).decide(item, status, note, by)
    audit.record(Path(home), f"flag_{status}", by, detail=f"{item.name} ({item.id}): {note}")
    st.session_state.pop(note_key(item.id), None)
    notify(
        NOTICES,
        "success",
        f"{STATUS_WORDS[status]}: {escape_markdown(item.name)} ({escape_markdown(item.id)}), "
        f"recorded as {escape_markdown(by)}.",
    )


def reopen(home: str, item: FlaggedProfile, by: str) -> None:
    """Put a resolved or dismissed profile back on the open list (a widget callback)."""
    FlagReviews(Path(home)).reopen(item.id)
    audit.record(Path(home), "flag_reopened", by, detail=f"{item.name} ({item.id})")
    notify(NOTICES, "info", f"{escape_markdown(item.name)} is open again.")


def decision(home: str, item: FlaggedProfile, review: FlagReview | None, by: str) -> None:
    """The decision on the profile, or the note and the buttons to make one."""
    if review is not None:
        st.info(
            f"{STATUS_WORDS[review.status]} by {escape_markdown(review.by)} on "
            f"{escape_markdown(format_moment(review.at))}: {escape_markdown(review.note)}",
            icon=":material/task_alt:",
        )
        st.button("Reopen", key=f"flag_reopen_{item.id}", on_click=reopen, args=(home, item, by))
        return
    st.text_area(
        "Note",
        key=note_key(item.id),
        placeholder="e.g. license confirmed by phone with the board; or: the value is fine",
        help="Recorded with your name and the time.",
    )
    resolve, dismiss = st.columns(2)
    resolve.button(
        "Resolve",
        key=f"flag_resolve_{item.id}",
        icon=":material/task_alt:",
        type="primary",
        on_click=decide,
        args=(home, item, "resolved", by),
        help="The problem is dealt with.",
        width="stretch",
    )
    dismiss.button(
        "Dismiss",
        key=f"flag_dismiss_{item.id}",
        icon=":material/do_not_disturb_on:",
        on_click=decide,
        args=(home, item, "dismissed", by),
        help="Nothing needs doing about these flags.",
        width="stretch",
    )


def details(item: FlaggedProfile) -> None:
    """Every flag of one profile, and the way to it."""
    st.markdown(f"#### {escape_markdown(item.name)}")
    st.page_link(
        routes.PROFILE,
        label="Open the profile",
        icon=":material/person:",
        query_params={"id": item.id},
    )
    for flag in item.credential_flags:
        st.error(escape_markdown(flag), icon=":material/flag:")
    if item.data_flags:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Source": plain_text(f.source),
                        "Field": plain_text(f.field),
                        "Problem": plain_text(f.reason),
                        "Value as found": plain_text(f.raw, max_length=200),
                    }
                    for f in item.data_flags
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def main() -> None:
    """Draw the flagged listings page."""
    by = require_admin()
    page_heading("Flagged listings")
    st.caption(
        "Profiles whose claimed credentials the issuer does not confirm, and listings with "
        "values the indexer could not use. Refreshed every few minutes."
    )
    try:
        everything = admin_data.flagged(services.current_target())
    except BackendError:
        st.error("The directory is unavailable right now. Please try again shortly.")
        return
    credential = [f for f in everything if f.credential_flags]
    data = [f for f in everything if f.data_flags]
    summary = st.columns(3)
    summary[0].metric("Flagged profiles", len(everything))
    summary[1].metric("Credential not confirmed", len(credential))
    summary[2].metric("With unusable values", len(data))
    if not everything:
        st.success("Nothing is flagged.", icon=":material/task_alt:")
        return
    reasons = Counter(
        f"{plain_text(flag.field)}: {plain_text(flag.reason)}"
        for item in data
        for flag in item.data_flags
    )
    if reasons:
        with st.expander("Unusable values by kind"):
            st.dataframe(
                pd.DataFrame([{"Kind": k, "Listings": n} for k, n in reasons.most_common()]),
                hide_index=True,
                width="stretch",
            )
    home = str(admin_data.settings().home)
    reviews = FlagReviews(Path(home)).load()
    decided = {f.id: r for f in everything if (r := decision_on(f, reviews)) is not None}
    show_notices(NOTICES)
    kind = st.segmented_control(
        "Show", list(KINDS), format_func=lambda k: KINDS[k], default="all", key="flag_kind"
    )
    with_decided = st.toggle(
        f"Show resolved and dismissed too ({len(decided)})", key="flag_show_decided"
    )
    shown = {"credential": credential, "data": data}.get(kind or "all", everything)
    if not with_decided:
        shown = [f for f in shown if f.id not in decided]
    st.caption(plural(len(shown), "profile"))
    event = st.dataframe(
        table(shown, decided),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="flag_table",
    )
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(shown):
        details(shown[rows[0]])
        decision(home, shown[rows[0]], decided.get(shown[rows[0]].id), by)
    else:
        st.caption("Select a row to see every flag of that profile.")


main()
