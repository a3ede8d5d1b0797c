"""The searchable projection of a served profile, shared by both backends.

A profile (the record the indexer serves) carries much more than search needs. This module
derives, in one place, what both backends index: folded text, points, canonical ids expanded
through the taxonomy, verification flags and the rating sort key. Backends never interpret a
profile themselves, so they cannot drift apart.

It reads the typed :class:`~indexer.profile.Profile`: one point per merged practice location
(never a second, approximate point for one office), the "verified" flag from
``Profile.verification.license_verified`` (an active state license its board confirms, nothing
else), the combined rating and its count.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.geo import GeoPoint
from indexer.profile import Profile
from indexer.taxonomy import Taxonomy, fold

VERIFIED = "verified"
LAYOUT_VERSION = 3
"""Version of what the backends store per profile. A backend holding an index written with an
older layout says so (``outdated``) and the next index write rebuilds it rather than mixing
documents of two layouts."""
NO_RATING_SORT_KEY = -1.0  # below every real rating, so unrated profiles sort last


@dataclass(frozen=True, slots=True)
class SearchDocument:
    """The fields of one profile that the search backends index."""

    id: str
    name: str
    practice_name: str
    body: str
    points: tuple[GeoPoint, ...]
    states: tuple[str, ...]
    modalities: tuple[str, ...]
    conditions: tuple[str, ...]
    credentials: tuple[str, ...]
    verified_credentials: tuple[str, ...]
    license_verified: bool
    rating: float | None
    rating_sort: float
    review_count: int
    active: bool
    flags: tuple[str, ...]
    alias_ids: tuple[str, ...]

    def facet_values(self) -> dict[str, tuple[str, ...]]:
        """Return the facet fields' values, keyed by facet name."""
        return {
            "modality": self.modalities,
            "condition": self.conditions,
            "credential": self.credentials,
            "verified_credential": self.verified_credentials,
            "state": self.states,
            "verified": ("true" if self.license_verified else "false",),
            "flag": self.flags,
            "alias_id": self.alias_ids,
        }


def to_search_document(profile: Profile, taxonomy: Taxonomy) -> SearchDocument:
    """Project a profile onto its searchable fields."""
    if not profile.id:
        raise ValueError("profile has no id")
    locations = profile.locations
    cities = " ".join(loc.city or "" for loc in locations)
    declared_modalities = list(profile.modalities)
    modality_labels = " ".join(taxonomy.label("modality", m) for m in declared_modalities)
    rating = profile.rating.combined
    return SearchDocument(
        id=profile.id,
        name=fold(profile.name or ""),
        practice_name=fold(profile.practice_name or ""),
        body=fold(" ".join([profile.bio or "", cities, modality_labels])),
        points=tuple(loc.point for loc in locations),
        states=tuple(sorted({loc.state.upper() for loc in locations if loc.state})),
        modalities=tuple(taxonomy.expand_modalities(declared_modalities)),
        conditions=tuple(taxonomy.conditions_for(declared_modalities, profile.conditions)),
        credentials=tuple(sorted({c.type for c in profile.credentials})),
        verified_credentials=tuple(
            sorted({c.type for c in profile.credentials if c.status == VERIFIED})
        ),
        license_verified=profile.verification.license_verified,
        rating=None if rating is None else float(rating),
        rating_sort=NO_RATING_SORT_KEY if rating is None else float(rating),
        review_count=profile.rating.review_count,
        active=profile.active,
        flags=tuple(
            kind
            for kind, flagged in (
                ("credential", profile.credential_flags),
                ("data", profile.data_flags),
            )
            if flagged
        ),
        alias_ids=tuple(sorted(set(profile.alias_ids) - {profile.id})),
    )
