"""Admin: the listings the indexer flagged, credential problems first."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from dashboard import admin_data, routes, services
from dashboard.admin_guard import require_admin
from dashboard.flagged import FlaggedProfile
from dashboard.formatting import format_date, plural
from dashboard.markup import escape_markdown, plain_text
from indexer.search import BackendError

KINDS = {
    "all": "All flagged",
    "credential": "Credential not confirmed",
    "data": "Unusable values",
}


def table(items: list[FlaggedProfile]) -> pd.DataFrame:
    """One row per flagged profile."""
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
            }
            for f in items
        ]
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
    require_admin()
    st.title("Flagged listings")
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
    kind = st.segmented_control(
        "Show", list(KINDS), format_func=KINDS.get, default="all", key="flag_kind"
    )
    shown = {"credential": credential, "data": data}.get(kind or "all", everything)
    st.caption(plural(len(shown), "profile"))
    event = st.dataframe(
        table(shown),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="flag_table",
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        details(shown[rows[0]])
    else:
        st.caption("Select a row to see every flag of that profile.")


main()
