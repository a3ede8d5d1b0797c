"""The listings the indexer flagged: claimed credentials the issuer does not confirm, and values
it could not use.

The search API filters on flags, so this pages (keyset, 100 at a time) through the flagged
profiles only. It runs only on the admin page, cached, never per client interaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.locations import first_location, place_line
from indexer.profile import DataFlag, Profile
from indexer.search import SearchBackend, SearchQuery
from indexer.search.query import FLAG_KINDS

_PAGE = 100


@dataclass(frozen=True, slots=True)
class FlaggedProfile:
    """One profile with something an admin should look at."""

    id: str
    name: str
    place: str
    credential_flags: tuple[str, ...]
    data_flags: tuple[DataFlag, ...]
    last_confirmed: str | None


def flagged_profiles(backend: SearchBackend) -> list[FlaggedProfile]:
    """Every active profile with credential or data flags, credential problems first."""
    found: list[FlaggedProfile] = []
    cursor: str | None = None
    while True:
        result = backend.search(
            SearchQuery(flagged=FLAG_KINDS, sort="rating", page_size=_PAGE, cursor=cursor)
        )
        for hit in result.hits:
            flagged = as_flagged(hit.profile)
            if flagged is not None:
                found.append(flagged)
        cursor = result.next_cursor
        if not cursor:
            break
    return sorted(
        found, key=lambda f: (not f.credential_flags, -len(f.data_flags), f.name.casefold(), f.id)
    )


def as_flagged(profile: Profile) -> FlaggedProfile | None:
    """The profile as a flagged entry, or None if nothing about it is flagged."""
    if not profile.credential_flags and not profile.data_flags:
        return None
    return FlaggedProfile(
        id=profile.id,
        name=profile.name,
        place=place_line(first_location(profile)),
        credential_flags=profile.credential_flags,
        data_flags=profile.data_flags,
        last_confirmed=profile.last_confirmed,
    )
