"""What a source's crawls gathered: field coverage and errors of the latest crawl, what changed
since the crawl before, and every crawl run in detail.

Crawl runs are the crawler's own records (``$TDIR_HOME/crawl/<source>/runs/``), whoever started
them: the scheduler, the command line or this dashboard.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from crawler.coverage import LISTING_FIELDS
from crawler.runs import RunRecord
from dashboard import admin_data
from dashboard.formatting import MISSING, format_moment, format_took, plural
from dashboard.run_history import changes_table, compared_text, run_changes
from dashboard.source_health import SourceHealth


def crawl_table(runs: list[RunRecord]) -> pd.DataFrame:
    """A source's crawl runs, newest first."""
    rows = []
    for r in reversed(runs):
        row: dict[str, object] = {
            "Run": r.run_id,
            "Started": format_moment(r.started_at),
            "Took": format_took(r.started_at, r.finished_at),
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
        listings = (run_changes(r) or {}).get("listing")
        if listings is not None:
            row["New listings"] = listings.get("new")
            row["Vanished listings"] = listings.get("vanished")
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("New listings", "Vanished listings"):
        if column in table:
            table[column] = table[column].astype("Int64")  # empty for older crawls
    return table


def crawls_tab(home: str, item: SourceHealth) -> None:
    """What the crawls gathered: field coverage and errors of the latest, every crawl run."""
    source = item.source
    last = item.last_run
    coverage_column, errors_column = st.columns([3, 2], gap="large")
    with coverage_column:
        st.markdown("**Field coverage** of the latest crawl's listings")
        if last is None:
            st.caption("Not crawled yet.")
        else:
            shares = admin_data.coverage(home, source.name, last.run_id, last.status)
            if not shares:
                st.caption("The latest crawl gathered no listings.")
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
        st.markdown("**Errors in the latest crawl**")
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
        changed = changes_table(run_changes(last))
        if changed is not None:
            st.markdown("**What changed since the crawl before**")
            st.dataframe(changed, hide_index=True, width="stretch")
            st.caption(compared_text(last))
    st.markdown("**Crawl runs**")
    if not item.runs:
        st.caption("No crawls yet.")
        return
    st.dataframe(crawl_table(list(item.runs)), hide_index=True, width="stretch")
    run_ids = [r.run_id for r in reversed(item.runs)]
    chosen = st.selectbox("Crawl details", run_ids, key=f"run_{source.name}")
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
