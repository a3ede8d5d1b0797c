"""What the admin pages read: the catalog, run records, field coverage, flagged profiles.

Each reader is cached for a short while; a finished run never changes, so its coverage is
cached by run id for longer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from crawler.catalog import Catalog, CatalogError, load_catalog, site_variables
from crawler.coverage import field_coverage
from crawler.runs import CrawlStore, RunRecord
from dashboard import services
from dashboard.flagged import FlaggedProfile, flagged_profiles
from dashboard.recrawl import RecrawlJobs
from dashboard.source_health import SourceHealth, source_health
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


def health(home: str, sites_manifest: str, now: datetime | None = None) -> list[SourceHealth]:
    """The health of every catalog source, in catalog order."""
    now = now or datetime.now(UTC)
    sources = catalog(sites_manifest).sources
    return [source_health(s, runs(home, s.name), now) for s in sources.values()]


@st.cache_data(ttl=600, max_entries=200, show_spinner=False)
def coverage(home: str, source: str, run_id: str, status: str) -> dict[str, float]:
    """Field coverage of one run's listings (``status`` is part of the key: a running run
    still grows)."""
    del status
    return field_coverage(CrawlStore(Path(home)).records(source, run_id))


@st.cache_resource(show_spinner=False)
def recrawl_jobs(home: str) -> RecrawlJobs:
    """The recrawl launcher shared by every admin session of this process."""
    return RecrawlJobs(
        log_dir=Path(home) / "dashboard" / "recrawls",
        on_indexed=services.forget_cached_results,
        on_finished=forget_runs,
    )


@st.cache_data(ttl=FLAGGED_TTL_SECONDS, show_spinner="Looking for flagged listings…")
def flagged(target: services.IndexTarget) -> list[FlaggedProfile]:
    """The flagged profiles of the index (``target`` keys the cache)."""
    del target
    return flagged_profiles(services.search_backend())


def forget_runs() -> None:
    """Drop cached run records, e.g. after a recrawl started or ended."""
    runs.clear()
    catalog.clear()
