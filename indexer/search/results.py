"""What a search returns, the same from every backend.

``Hit.score`` is text relevance on one scale for both backends: a hit's raw text score (bm25 in
SQLite, Lucene's BM25 in Elasticsearch) divided by the best raw score of the whole match set, not
just of the page. So it lies in [0, 1], the best hit of a search scores 1.0 on every page, and a
hit that matched none of the optional words (a taxonomy term's words, when the term alone made it
match) scores 0.0. It is ``None`` when the search has no free text: the best-match blend of a
search near a place (``indexer.search.query``) orders the hits but is not reported. The scale
is shared, the raw scoring is each engine's own (FTS5's and Lucene's BM25 differ in detail), so
one search's scores may differ somewhat between the backends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.profile import Profile


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching profile, with its distance from the search point when there was one."""

    id: str
    profile: Profile
    distance_km: float | None = None
    score: float | None = None  # text relevance in [0, 1] (see the module docstring)


@dataclass(frozen=True, slots=True)
class FacetValue:
    """How many matching profiles carry one value of a facet."""

    value: str
    count: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of hits, the total number of matches, facet counts and the next page's cursor."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    next_cursor: str | None = None

    @property
    def ids(self) -> list[str]:
        """The ids of this page's hits, in order."""
        return [hit.id for hit in self.hits]

    def facet_counts(self, name: str) -> dict[str, int]:
        """Return one facet as a ``{value: count}`` dict."""
        return {v.value: v.count for v in self.facets.get(name, [])}


def relative_score(score: float | None, best: float | None) -> float:
    """A raw text score on 0-1: its share of ``best``, the best raw score of the whole match set
    (both where higher is better). 0.0 where there is nothing to share: no matching profile
    holds any of the words."""
    if not score or not best or best <= 0:
        return 0.0
    return min(1.0, max(0.0, score / best))


def order_facet(counts: dict[str, int]) -> list[FacetValue]:
    """Order facet values by count, most first, then by value, as every backend must."""
    return [FacetValue(v, c) for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
