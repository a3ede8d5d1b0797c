"""One search API over two backends: embedded SQLite (the default) and Elasticsearch."""

from __future__ import annotations

from indexer.search.backend import BackendError, SearchBackend
from indexer.search.query import QueryError, SearchQuery, SortOrder, parse_radius
from indexer.search.results import FacetValue, Hit, SearchResult
from tdir.config import Settings

__all__ = [
    "BackendError",
    "FacetValue",
    "Hit",
    "QueryError",
    "SearchBackend",
    "SearchQuery",
    "SearchResult",
    "SortOrder",
    "open_backend",
    "parse_radius",
]


def open_backend(settings: Settings | None = None) -> SearchBackend:
    """Open the backend the configuration names (embedded SQLite unless told otherwise)."""
    settings = settings or Settings.from_env()
    if settings.backend == "elasticsearch":
        from indexer.search.elasticsearch_backend import ElasticsearchBackend

        assert settings.es_url is not None  # Settings refuses elasticsearch without a URL
        return ElasticsearchBackend.from_url(
            settings.es_url,
            settings.es_index,
            shards=settings.es_shards,
            replicas=settings.es_replicas,
            api_key=settings.es_api_key,
        )
    from indexer.search.sqlite_backend import SqliteBackend

    return SqliteBackend(settings.sqlite_path)
