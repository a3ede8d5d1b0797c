"""The scheduler's run history as the sources page shows it, and its small formatting helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from crawler.runs import RunRecord
from crawler.scheduling.history import RunEntry
from dashboard.formatting import format_moment, format_took
from dashboard.run_history import (
    changes_table,
    compared_text,
    crawl_warnings,
    history_table,
    run_changes,
    summary_table,
)


def entry(run_id: int, state: str, **fields: object) -> RunEntry:
    values: dict[str, object] = {
        "id": run_id,
        "source": "atlas",
        "trigger": "schedule",
        "state": state,
        "requested_by": None,
        "queued_at": "2026-11-21T03:00:00.000+00:00",
        "started_at": "2026-11-21T03:00:01.000+00:00",
        "finished_at": "2026-11-21T03:04:06.000+00:00",
        "runner": "scheduler pid 12 on host-a",
        "crawl_run_id": None,
        "crawl_status": None,
        "index_summary": None,
        "error": None,
    }
    values.update(fields)
    return RunEntry(**values)  # type: ignore[arg-type]


def crawl(
    run_id: str, changes: dict[str, dict[str, int]] | None = None, compared_with: str | None = None
) -> RunRecord:
    return RunRecord(
        source="atlas",
        run_id=run_id,
        started_at="2026-11-21T03:00:02+00:00",
        changes=changes,
        compared_with=compared_with,
    )


def test_each_run_with_its_trigger_times_status_crawl_and_index_update() -> None:
    runs = [
        entry(3, "queued", trigger="manual", requested_by="ann", started_at=None, finished_at=None),
        entry(
            2,
            "failed",
            crawl_run_id="c2",
            crawl_status="failed",
            error="crawl: run c2 failed (download/connection-refused)",
        ),
        entry(
            1,
            "succeeded",
            crawl_run_id="c1",
            crawl_status="finished",
            index_summary={"profiles": 300, "written": 12, "deleted": 1, "unchanged": 287},
        ),
    ]
    table, counted = history_table(runs, {"c1": crawl("c1"), "c2": crawl("c2")})
    rows = table.to_dict("records")
    assert [r["Run"] for r in rows] == ["#3", "#2", "#1"]
    assert [r["Trigger"] for r in rows] == ["requested", "schedule", "schedule"]
    assert rows[0]["Requested by"] == "ann" and rows[0]["Started"] == "\u2013"
    assert rows[1]["Error"] == "crawl: run c2 failed (download/connection-refused)"
    assert (rows[2]["Started"], rows[2]["Finished"], rows[2]["Took"]) == (
        "2026-11-21 03:00",
        "2026-11-21 03:04",
        "4 min 05 s",
    )
    assert (rows[2]["Profiles"], rows[2]["Written"], rows[2]["Deleted"]) == (300, 12, 1)
    assert str(table["Written"].dtype) == "Int64"  # a run without an index update: empty
    assert counted is None and "New" not in table.columns  # no crawl counted its changes


def test_changes_get_columns_when_a_crawl_counted_them() -> None:
    runs = [
        entry(2, "succeeded", crawl_run_id="c2"),
        entry(1, "succeeded", crawl_run_id="c1"),
    ]
    changes = {
        "review": {"new": 40, "changed": 0, "unchanged": 900, "vanished": 1},
        "listing": {"vanished": 2, "new": 5, "changed": 7, "unchanged": 280},
    }
    table, counted = history_table(runs, {"c2": crawl("c2", changes, "c1"), "c1": crawl("c1")})
    assert counted == "listing"  # a directory's columns count its listings
    columns = list(table.columns)
    assert columns[columns.index("Crawl status") + 1 :][:4] == [
        "New",
        "Changed",
        "Unchanged",
        "Vanished",
    ]
    first, second = table.to_dict("records")
    assert (first["New"], first["Changed"], first["Vanished"]) == (5, 7, 2)
    assert pd.isna(second["New"])  # crawled before changes were counted
    details = changes_table(run_changes(crawl("c2", changes)))
    assert details.to_dict("records") == [
        {"Records": "listings", "New": 5, "Changed": 7, "Unchanged": 280, "Vanished": 2},
        {"Records": "reviews", "New": 40, "Changed": 0, "Unchanged": 900, "Vanished": 1},
    ]
    assert compared_text(crawl("c2", changes, "c1")).startswith("Compared with crawl c1")
    assert run_changes(crawl("c")) is None and changes_table(None) is None


def test_a_source_without_listings_counts_its_main_records() -> None:
    board = {"credential_record": {"new": 1, "changed": 2, "unchanged": 40, "vanished": 0}}
    table, counted = history_table(
        [entry(1, "succeeded", crawl_run_id="c1")], {"c1": crawl("c1", board)}
    )
    assert counted == "credential_record"
    assert table.to_dict("records")[0]["Changed"] == 2


def test_an_index_summary_in_words() -> None:
    summary = summary_table({"profiles": 300, "suppressed_profiles": 1, "rebuilt": False})
    assert summary.to_dict("records") == [
        {"Index update": "Profiles in the index", "Count": "300"},
        {"Index update": "Profiles kept out (removed on request)", "Count": "1"},
        {"Index update": "Full rebuild", "Count": "False"},
    ]
    assert summary_table(None) is None


def test_moments_and_durations() -> None:
    assert format_moment("2026-11-21T05:07:09+02:00") == "2026-11-21 03:07"
    assert format_moment(None) == "\u2013"
    now = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    assert format_took("2026-11-21T03:00:00+00:00", None, now) == "2 h 00 min"
    assert format_took("2026-11-21T04:59:18+00:00", "2026-11-21T05:00:00+00:00") == "42 s"
    assert format_took(None, None) == "\u2013"


def test_a_crawl_says_what_it_kept_in_doubt_and_which_traps_it_suspects() -> None:
    crawl = RunRecord(
        source="atlas",
        run_id="r2",
        started_at="2026-12-07T04:00:00+00:00",
        status="finished",
        in_doubt=3,
        suspected_traps={"/calendar/{n}/{n}": 100},
    )
    assert crawl_warnings(crawl) == [
        "3 listings not reached because their pages (or the pages leading to them) failed: "
        "kept as last seen, not counted as vanished.",
        "Trap suspected under /calendar/{n}/{n}: 100 pages without a single record.",
    ]
    healthy = RunRecord(source="atlas", run_id="r3", started_at="2026-12-07T05:00:00+00:00")
    assert crawl_warnings(healthy) == []
    assert crawl_warnings(None) == []
