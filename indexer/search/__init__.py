"""One search API over two backends: embedded SQLite (the default) and Elasticsearch."""

from __future__ import annotations

from indexer.search.backend import BackendError, DamagedIndexError, NoIndexError, SearchBackend
from indexer.search.query import QueryError, SearchQuery, SortOrder, parse_radius
from indexer.search.results import FacetValue, Hit, SearchResult
from tdir.config import Settings

__all__ = [
    "BackendError",
    "DamagedIndexError",
    "FacetValue",
    "Hit",
    "NoIndexError",
    "QueryError",
    "SearchBackend",
    "SearchQuery",
    "SearchResult",
    "SortOrder",
    "open_backend",
    "parse_radius",
]


def open_backend(settings: Settings | None = None, *, must_exist: bool = False) -> SearchBackend:
    """Open the backend the configuration names (embedded SQLite unless told otherwise).

    ``must_exist``: for readers. A missing index is then an error that says how to build one,
    not an empty index created on the spot ("0 therapists").
    """
    settings = settings or Settings.from_env()
    if must_exist and settings.backend == "sqlite" and not settings.sqlite_path.exists():
        raise NoIndexError(f"no index yet at {settings.sqlite_path}: run `tdir index`")
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
