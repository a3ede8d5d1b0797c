"""Why a search found nothing, and which change would find someone.

Each suggestion is a concrete change of the search (a wider radius, one filter dropped) with the
number of therapists it would find, checked against the index with one small query each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from dashboard.formatting import plural
from dashboard.search_state import MAX_RADIUS, SearchState
from indexer.geo import GeoPoint, from_km
from indexer.search import QueryError, SearchQuery, SearchResult
from indexer.taxonomy import Taxonomy

RADIUS_STEPS = (5, 10, 25, 50, 100, 250, 500)
Search = Callable[[SearchQuery], SearchResult]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A change of the search and how many therapists it finds."""

    label: str
    state: SearchState
    total: int


def constraints(state: SearchState, place_label: str | None, taxonomy: Taxonomy) -> list[str]:
    """The parts of a search that narrow it, in words ("within 5 mi of 78704", ...)."""
    parts: list[str] = []
    if place_label:
        parts.append(f"within {state.radius:g} {state.unit} of {place_label}")
    if state.text:
        parts.append(f"matching “{state.text}”")
    parts += [f"offering {taxonomy.label('modality', m)}" for m in state.modalities]
    parts += [f"treating {taxonomy.label('condition', c)}" for c in state.conditions]
    parts += [f"holding {taxonomy.label('credential', c)}" for c in state.credentials]
    if state.verified_only:
        parts.append("with a license verified at the board")
    if state.min_rating is not None:
        parts.append(f"rated {state.min_rating:g} or higher")
    if state.min_reviews is not None:
        parts.append(f"with at least {plural(state.min_reviews, 'review')}")
    return parts


def _relaxations(state: SearchState, taxonomy: Taxonomy) -> list[tuple[str, SearchState]]:
    changes: list[tuple[str, SearchState]] = []
    if state.text:
        changes.append((f"Drop the words “{state.text}”", replace(state, text="")))
    for m in state.modalities:
        rest = tuple(x for x in state.modalities if x != m)
        changes.append((f"Drop {taxonomy.label('modality', m)}", replace(state, modalities=rest)))
    for c in state.conditions:
        rest = tuple(x for x in state.conditions if x != c)
        changes.append((f"Drop {taxonomy.label('condition', c)}", replace(state, conditions=rest)))
    for c in state.credentials:
        rest = tuple(x for x in state.credentials if x != c)
        changes.append(
            (f"Drop {taxonomy.label('credential', c)}", replace(state, credentials=rest))
        )
    if state.verified_only:
        changes.append(("Include unverified licenses", replace(state, verified_only=False)))
    if state.min_rating is not None:
        changes.append(("Any rating", replace(state, min_rating=None)))
    if state.min_reviews is not None:
        changes.append(("Any number of reviews", replace(state, min_reviews=None)))
    return changes


def suggest(
    state: SearchState, point: GeoPoint | None, taxonomy: Taxonomy, search: Search
) -> tuple[list[Suggestion], str | None]:
    """Changes that would find therapists, and a note on the nearest match when there is one.

    Only changes that find at least one therapist are returned, widest radius first, then the
    dropped filters by how many they find.
    """
    suggestions: list[Suggestion] = []
    note = None
    if point is not None:
        nearest, wider = _nearest(state, point, taxonomy, search)
        if nearest is not None and nearest.hits and nearest.hits[0].distance_km is not None:
            distance = from_km(nearest.hits[0].distance_km, state.unit)
            note = f"The nearest match is {distance:.0f} {state.unit} away."
            if wider is not None:
                widened = replace(state, radius=float(wider)).first_page()
                suggestions.append(
                    Suggestion(f"Widen to {wider} {state.unit}", widened, nearest.total)
                )
    relaxed: list[Suggestion] = []
    for label, changed in _relaxations(state, taxonomy):
        found = _count(changed.first_page(), point, taxonomy, search)
        if found is not None and found.total:
            relaxed.append(Suggestion(label, changed.first_page(), found.total))
    relaxed.sort(key=lambda s: -s.total)
    return suggestions + relaxed, note


def _nearest(
    state: SearchState, point: GeoPoint, taxonomy: Taxonomy, search: Search
) -> tuple[SearchResult | None, int | None]:
    """The search at the smallest wider radius step that finds someone (its nearest match first)
    and that step; beyond the widest step, the nearest match anywhere and no step.

    Step by step, because a search within a radius costs what its matches cost, and one
    without a radius would rank every match in the country to find the nearest.
    """
    for step in RADIUS_STEPS:
        if step <= state.radius or step > MAX_RADIUS:
            continue
        found = _count(replace(state, radius=float(step)).first_page(), point, taxonomy, search)
        if found is None:
            return None, None
        if found.total:
            return found, step
    return _count(replace(state, cursor=None), point, taxonomy, search, radius=False), None


def _count(
    state: SearchState,
    point: GeoPoint | None,
    taxonomy: Taxonomy,
    search: Search,
    radius: bool = True,
) -> SearchResult | None:
    try:
        query = state.to_query(point, taxonomy)
        query = SearchQuery(
            text=query.text,
            near=query.near,
            radius_km=query.radius_km if radius else None,
            modalities=query.modalities,
            conditions=query.conditions,
            credentials=query.credentials,
            verified_only=query.verified_only,
            min_rating=query.min_rating,
            min_reviews=query.min_reviews,
            sort="distance" if point is not None else query.sort,
            page_size=1,
            taxonomy=taxonomy,
        )
        return search(query)
    except QueryError:
        return None
