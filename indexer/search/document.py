"""The searchable projection of a served profile, shared by both backends.

A profile (the record the indexer serves) carries much more than search needs. This module
derives, in one place, what both backends index: folded text, points, canonical ids expanded
through the taxonomy, verification flags and the rating sort key. Backends never interpret a
profile themselves, so they cannot drift apart.

The profile fields read here:
``id``, ``name``, ``practice_name``, ``bio``, ``active`` (default true),
``locations``: ``[{lat, lon, city, state, ...}]``,
``modalities`` / ``conditions``: canonical ids as declared by the therapist's listings,
``credentials``: ``[{type: <credential id>, status: verified|expired|not_found|unverifiable}]``,
``rating``: ``{combined: float | None, review_count: int}``,
``credential_flags`` / ``data_flags``: what the indexer flagged (non-empty means flagged),
``alias_ids``: the other ids the profile answers to (ids it had before its listings changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.geo import GeoPoint
from indexer.taxonomy import Taxonomy, fold

VERIFIED = "verified"
LAYOUT_VERSION = 2
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


def to_search_document(profile: dict[str, Any], taxonomy: Taxonomy) -> SearchDocument:
    """Project a profile onto its searchable fields."""
    if not profile.get("id"):
        raise ValueError("profile has no id")
    locations = profile.get("locations") or []
    points = tuple(
        GeoPoint(float(loc["lat"]), float(loc["lon"]))
        for loc in locations
        if loc.get("lat") is not None and loc.get("lon") is not None
    )
    states = tuple(sorted({loc["state"].upper() for loc in locations if loc.get("state")}))
    cities = " ".join(loc.get("city") or "" for loc in locations)
    declared_modalities = profile.get("modalities") or []
    modality_labels = " ".join(taxonomy.label("modality", m) for m in declared_modalities)
    credentials = profile.get("credentials") or []
    claimed = sorted({c["type"] for c in credentials if c.get("type")})
    verified = sorted({c["type"] for c in credentials if c.get("status") == VERIFIED})
    license_verified = any(
        (term := taxonomy.terms["credential"].get(c)) is not None and term.kind == "state_license"
        for c in verified
    )
    rating = (profile.get("rating") or {}).get("combined")
    return SearchDocument(
        id=str(profile["id"]),
        name=fold(profile.get("name") or ""),
        practice_name=fold(profile.get("practice_name") or ""),
        body=fold(" ".join([profile.get("bio") or "", cities, modality_labels])),
        points=points,
        states=states,
        modalities=tuple(taxonomy.expand_modalities(declared_modalities)),
        conditions=tuple(
            taxonomy.conditions_for(declared_modalities, profile.get("conditions") or [])
        ),
        credentials=tuple(claimed),
        verified_credentials=tuple(verified),
        license_verified=license_verified,
        rating=None if rating is None else float(rating),
        rating_sort=NO_RATING_SORT_KEY if rating is None else float(rating),
        review_count=int((profile.get("rating") or {}).get("review_count") or 0),
        active=bool(profile.get("active", True)),
        flags=tuple(
            kind
            for kind, key in (("credential", "credential_flags"), ("data", "data_flags"))
            if profile.get(key)
        ),
        alias_ids=tuple(sorted({str(a) for a in profile.get("alias_ids") or ()} - {profile["id"]})),
    )
