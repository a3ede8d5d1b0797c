"""What the admin pages read: the catalog, run records, field coverage, flagged profiles, the
scheduler's book and alerts, and the corrections on record.

Each reader of crawl data is cached for a short while; a finished run never changes, so its
coverage is cached by run id for longer. Schedules, the run history and corrections are read
afresh on every page run (each is one small SQLite read): an admin's change shows at once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from crawler.catalog import Catalog, CatalogError, Schedule, load_catalog, site_variables
from crawler.coverage import field_coverage
from crawler.runs import CrawlStore, RunRecord
from crawler.scheduling import ScheduleBook
from crawler.scheduling.execution import RunSettings
from dashboard import services
from dashboard.flagged import FlaggedProfile, flagged_profiles
from dashboard.recrawl import RecrawlRunner
from dashboard.source_health import SourceHealth, source_health
from indexer.corrections import CorrectionBook
from indexer.freshness import Alert, source_alerts
from tdir.config import Settings

RUNS_TTL_SECONDS = 10
FLAGGED_TTL_SECONDS = 300


def settings() -> Settings:
    """The configuration the dashboard runs with."""
    return Settings.from_env()


@st.cache_data(ttl=RUNS_TTL_SECONDS, show_spinner=False)
def catalog(sites_manifest: str) -> Catalog:
    """The source catalog, with the site manifest's URLs filled in as ``tdir crawl`` does.

    Raises CatalogError (naming the problem) when it cannot be loaded.
    """
    variables: dict[str, str] = {}
    manifest = Path(sites_manifest)
    if manifest.exists():
        try:
            variables = site_variables(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"site manifest {manifest}: {exc}") from None
    return load_catalog(variables=variables)


@st.cache_data(ttl=RUNS_TTL_SECONDS, show_spinner=False)
def runs(home: str, source: str) -> list[RunRecord]:
    """Every run record of a source, oldest first."""
    return CrawlStore(Path(home)).runs(source)


def health(
    home: str,
    sites_manifest: str,
    schedules: dict[str, Schedule | None] | None = None,
    now: datetime | None = None,
) -> list[SourceHealth]:
    """The health of every catalog source, in catalog order, judged against the schedule in
    force (``schedules`` by source; the catalog's where none is given)."""
    now = now or datetime.now(UTC)
    sources = catalog(sites_manifest).sources
    schedules = schedules or {}
    return [
        source_health(s, runs(home, s.name), now, schedules.get(s.name)) for s in sources.values()
    ]


def crawl_records(home: str, source: str) -> dict[str, RunRecord]:
    """A source's crawl run records by run id."""
    return {r.run_id: r for r in runs(home, source)}


@st.cache_data(ttl=600, max_entries=200, show_spinner=False)
def coverage(home: str, source: str, run_id: str, status: str) -> dict[str, float]:
    """Field coverage of one run's listings (``status`` is part of the key: a running run
    still grows)."""
    del status
    return field_coverage(CrawlStore(Path(home)).records(source, run_id))


def schedule_book(home: str) -> ScheduleBook:
    """The scheduler's book of the data directory (the catalog: ``TDIR_CATALOG`` or the
    packaged one, as the scheduler service reads it)."""
    return ScheduleBook(Path(home))


def alerts(home: str) -> list[Alert]:
    """Stale sources, sudden drops in extraction and failing runs, by source."""
    return source_alerts(schedule_book(home))


@st.cache_resource(show_spinner=False)
def recrawl_runner(home: str) -> RecrawlRunner:
    """The runner of recrawl requests shared by every admin session of this process."""
    return RecrawlRunner(
        RunSettings(home=Path(home).resolve(), role="dashboard"),
        on_finished=after_run,
    )


def after_run() -> None:
    """Drop what a finished run makes stale: run records, flagged listings, cached results."""
    forget_runs()
    flagged.clear()
    services.forget_cached_results()


def correction_book(home: str) -> CorrectionBook:
    """The removals and corrections on record in the data directory."""
    return CorrectionBook(Path(home))


@st.cache_data(ttl=FLAGGED_TTL_SECONDS, show_spinner="Looking for flagged listings…")
def flagged(target: services.IndexTarget) -> list[FlaggedProfile]:
    """The flagged profiles of the index (``target`` keys the cache)."""
    del target
    return flagged_profiles(services.search_backend())


def forget_runs() -> None:
    """Drop cached run records, e.g. after a recrawl started or ended."""
    runs.clear()
    catalog.clear()
