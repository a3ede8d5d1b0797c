"""The steps of a search that are the same on every backend, written once.

A backend compiles a ``PageRequest`` into its own query and fetches what it finds
(``FetchedPage``): the rows of the page and of the first hit after it, the total, the best text
score and the facet counts of the whole match set. ``PagedSearch.search`` does the rest around
that fetch: it reads the cursor (it must come from this very search and fit its order), asks
for one row more than a page so that it knows whether another page follows, and assembles the
``SearchResult``: the hits with text scores on one scale, every facet in one order, the next
page's cursor. The query validated itself when it was made (``SearchQuery``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from indexer.profile import Profile
from indexer.search.backend import BackendError
from indexer.search.query import (
    FACETS,
    SearchPlan,
    SearchQuery,
    SortKey,
    decode_cursor,
    encode_cursor,
)
from indexer.search.results import Hit, SearchResult, order_facet, relative_score

Stored = TypeVar("Stored")  # a profile as a backend stores it, read only for a page's hits


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of one search, as a backend is asked to fetch it."""

    query: SearchQuery
    plan: SearchPlan
    sort_keys: tuple[SortKey, ...]  # the order, most significant first (``query.sort_keys``)
    after: list[Any] | None  # the sort values of the hit before this page; None on page one

    @property
    def limit(self) -> int:
        """How many rows to fetch: a page and one more, which tells whether a next page exists."""
        return self.query.page_size + 1


@dataclass(frozen=True, slots=True)
class Row(Generic[Stored]):
    """One matching profile as a backend found it."""

    id: str
    stored: Stored
    sort_values: list[Any]  # its values of the request's sort keys: what a cursor holds
    distance_km: float | None = None  # to the search point's nearest location
    text_score: float | None = None  # the raw text score, higher is better


@dataclass(frozen=True, slots=True)
class FetchedPage(Generic[Stored]):
    """What a backend fetched for a ``PageRequest``."""

    rows: list[Row[Stored]]  # in order, at most ``PageRequest.limit``
    total: int  # how many profiles match
    best_text_score: float | None  # the best raw text score of all matches, not just the page's
    facet_counts: dict[str, dict[str, int]]  # facet -> value -> how many matches carry it

    @classmethod
    def empty(cls) -> FetchedPage[Stored]:
        """Nothing matches."""
        return cls([], 0, None, {})


class PagedSearch(ABC, Generic[Stored]):
    """A backend's ``search``, given how it fetches a page (``_fetch``) and reads a stored
    profile (``_profile``)."""

    name: str

    def search(self, query: SearchQuery) -> SearchResult:
        """Return one page of matching active profiles with facets and the total."""
        fingerprint = query.fingerprint()
        request = self._request(query, fingerprint)
        found = self._fetch(request)
        page_size = query.page_size
        scored = request.plan.has_text
        hits = [
            Hit(
                id=row.id,
                profile=self._profile(row.stored),
                distance_km=row.distance_km,
                score=relative_score(row.text_score, found.best_text_score) if scored else None,
            )
            for row in found.rows[:page_size]
        ]
        next_cursor = None
        if len(found.rows) > page_size:
            next_cursor = encode_cursor(fingerprint, list(found.rows[page_size - 1].sort_values))
        return SearchResult(
            hits=hits,
            total=found.total,
            facets={name: order_facet(found.facet_counts.get(name, {})) for name in FACETS},
            next_cursor=next_cursor,
        )

    def _request(self, query: SearchQuery, fingerprint: str) -> PageRequest:
        plan = query.plan()
        sort_keys = query.sort_keys(plan)
        after = decode_cursor(query.cursor, fingerprint) if query.cursor else None
        if after is not None and len(after) != len(sort_keys):
            raise BackendError(f"{self.name}: cursor does not fit this search")
        return PageRequest(query, plan, sort_keys, after)

    @abstractmethod
    def _fetch(self, request: PageRequest) -> FetchedPage[Stored]:
        """Find the request's rows, total, best text score and facet counts."""

    @abstractmethod
    def _profile(self, stored: Stored) -> Profile:
        """The profile a row's stored form holds."""
