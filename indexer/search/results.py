"""What a search returns, the same from every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching profile, with its distance from the search point when there was one."""

    id: str
    profile: dict[str, Any]
    distance_km: float | None = None
    score: float | None = None  # the backend's text score; not comparable across backends


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


def order_facet(counts: dict[str, int]) -> list[FacetValue]:
    """Order facet values by count, most first, then by value, as every backend must."""
    return [FacetValue(v, c) for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
