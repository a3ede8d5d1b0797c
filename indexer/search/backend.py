"""The narrow interface every search backend implements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from indexer.profile import Profile
from indexer.search.document import IndexEntry
from indexer.search.query import SearchQuery
from indexer.search.results import SearchResult


class BackendError(RuntimeError):
    """A backend could not do what was asked (unreachable, rejected a write, ...).

    The message names the backend and what failed; the underlying exception is chained.
    """


class DamagedIndexError(BackendError):
    """The index's storage cannot be read; a rebuild starts it afresh."""


class NoIndexError(BackendError):
    """No index has been built yet where the configuration points."""


class SearchBackend(Protocol):
    """Search, fetch, write and rebuild served profiles."""

    name: str

    def search(self, query: SearchQuery) -> SearchResult:
        """Return one page of active profiles matching the query, with facets and a total."""
        ...

    def get(self, profile_id: str) -> Profile | None:
        """Return the stored profile with this id or alias id (active or not), or None."""
        ...

    def upsert(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Add or replace profiles (or their entries, made beforehand) by id; return how many
        were written. Visible on return."""
        ...

    def delete(self, profile_ids: Iterable[str]) -> int:
        """Remove profiles by id; return how many existed. Visible on return."""
        ...

    def rebuild(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Replace the whole index with these profiles, atomically: searches see either the old
        index or the complete new one, never a mix; a failed rebuild leaves the old one serving."""
        ...

    def count(self) -> int:
        """Return how many profiles are stored (active or not)."""
        ...

    def outdated(self) -> bool:
        """Whether the stored index was written with an older document layout (then only a
        rebuild may write to it)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
