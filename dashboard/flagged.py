"""The listings the indexer flagged: claimed credentials the issuer does not confirm, and values
it could not use.

The search API filters on flags, so this pages (keyset, 100 at a time) through the flagged
profiles only. It runs only on the admin page, cached, never per client interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    data_flags: tuple[dict[str, Any], ...]
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


def as_flagged(profile: dict[str, Any]) -> FlaggedProfile | None:
    """The profile as a flagged entry, or None if nothing about it is flagged."""
    credential_flags = tuple(str(f) for f in profile.get("credential_flags") or ())
    data_flags = tuple(f for f in profile.get("data_flags") or () if isinstance(f, dict))
    if not credential_flags and not data_flags:
        return None
    location = (profile.get("locations") or [{}])[0]
    place = ", ".join(str(p) for p in (location.get("city"), location.get("state")) if p)
    return FlaggedProfile(
        id=str(profile.get("id")),
        name=str(profile.get("name") or ""),
        place=place,
        credential_flags=credential_flags,
        data_flags=data_flags,
        last_confirmed=profile.get("last_confirmed"),
    )
