"""The dashboard's access to the search index, cached the way Streamlit intends.

The backend (a connection pool, or an SQLite file with a connection per thread) is one shared
resource per configuration; search results and profiles are cached data with a short time to
live, so repeated interactions (paging back, reopening a profile) do not hit the index again.
Every cache key includes the configuration, so two configurations in one process never mix.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import streamlit as st

from indexer.geocode import geocode_place
from indexer.profile import Profile
from indexer.search import SearchBackend, SearchQuery, SearchResult, open_backend
from tdir.config import Settings

RESULT_TTL_SECONDS = 60
PROFILE_TTL_SECONDS = 120


@dataclass(frozen=True, slots=True)
class IndexTarget:
    """Which index the dashboard reads: the parts of the configuration that name it."""

    backend: str
    location: str  # the SQLite file, or the Elasticsearch URL and alias

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexTarget:
        """The target the settings name."""
        if settings.backend == "elasticsearch":
            return cls("elasticsearch", f"{settings.es_url} {settings.es_index}")
        return cls("sqlite", str(settings.sqlite_path.resolve()))


def current_target() -> IndexTarget:
    """The index the environment configures (read each run: it is cheap)."""
    return IndexTarget.from_settings(Settings.from_env())


@st.cache_resource(show_spinner=False)
def _backend(target: IndexTarget) -> SearchBackend:
    # The target is the cache key; the settings are read again to open it.
    del target
    # Not cached when it fails: once `tdir index` has built the index, the next run opens it.
    return open_backend(Settings.from_env(), must_exist=True)


def search_backend() -> SearchBackend:
    """The shared backend of the configured index."""
    return _backend(current_target())


@st.cache_data(ttl=RESULT_TTL_SECONDS, max_entries=1000, show_spinner=False)
def _search(target: IndexTarget, key: tuple[Any, ...], _query: SearchQuery) -> SearchResult:
    del key  # only the cache key (``SearchQuery.cache_key``): the query itself is not hashed
    return _backend(target).search(_query)


def search(query: SearchQuery) -> SearchResult:
    """One page of results for the query (cached briefly). Raises BackendError."""
    return _search(current_target(), query.cache_key(), query)


@st.cache_data(ttl=PROFILE_TTL_SECONDS, max_entries=2000, show_spinner=False)
def _profile(target: IndexTarget, profile_id: str) -> Profile | None:
    return _backend(target).get(profile_id)


def get_profile(profile_id: str) -> Profile | None:
    """The served profile with this id, or None (cached briefly). Raises BackendError."""
    return _profile(current_target(), profile_id)


def forget_cached_results() -> None:
    """Drop cached results and profiles, e.g. after the index was rebuilt."""
    _search.clear()
    _profile.clear()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Build the city geocoder's index in the background, once per process.

    The first "City, ST" lookup reads every ZIP centroid (most of a second); doing it while the
    first visitor is still typing keeps their first search fast.
    """
    worker = threading.Thread(
        target=geocode_place, args=("Austin, TX",), name="geocoder-warm-up", daemon=True
    )
    worker.start()
    return worker
