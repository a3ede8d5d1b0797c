"""The listings the indexer flagged: claimed credentials the issuer does not confirm, and values
it could not use.

The search API filters on flags, so this pages (keyset, 100 at a time) through the flagged
profiles only. It runs only on the admin page, cached, never per client interaction.

An admin resolves or dismisses a flagged profile with a note (:class:`FlagReviews`, kept in
``$TDIR_HOME/flag-reviews.json``); the decision holds until the profile's flags change.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

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


# -- reviews: an admin resolves or dismisses a flagged profile, with a note --------------------

ReviewStatus = Literal["resolved", "dismissed"]


@dataclass(frozen=True, slots=True)
class FlagReview:
    """An admin's decision on a flagged profile. It holds only while the profile's flags are the
    ones decided on (``fingerprint``): a new or changed flag brings the profile back."""

    profile_id: str
    status: ReviewStatus
    note: str
    by: str
    at: str
    fingerprint: str


def fingerprint(item: FlaggedProfile) -> str:
    """A digest of every flag of the profile."""
    flags = {
        "credential": sorted(item.credential_flags),
        "data": sorted([f.source, f.field, f.reason, f.raw or ""] for f in item.data_flags),
    }
    return hashlib.sha256(json.dumps(flags, sort_keys=True).encode("utf-8")).hexdigest()[:20]


class FlagReviews:
    """The decisions on flagged profiles of one data directory: ``flag-reviews.json``."""

    def __init__(self, home: Path) -> None:
        self.path = home / "flag-reviews.json"

    def load(self) -> dict[str, FlagReview]:
        """Every decision, by profile id (the latest one per profile)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        reviews: dict[str, FlagReview] = {}
        for entry in raw if isinstance(raw, list) else []:
            try:
                review = FlagReview(**entry)
            except TypeError:
                continue
            reviews[review.profile_id] = review
        return reviews

    def decide(self, item: FlaggedProfile, status: ReviewStatus, note: str, by: str) -> FlagReview:
        """Record a decision on the profile as its flags stand now."""
        review = FlagReview(
            profile_id=item.id,
            status=status,
            note=note.strip(),
            by=by,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            fingerprint=fingerprint(item),
        )
        reviews = self.load()
        reviews[item.id] = review
        self._write(reviews)
        return review

    def reopen(self, profile_id: str) -> None:
        """Forget the decision on the profile: it is open again."""
        reviews = self.load()
        if reviews.pop(profile_id, None) is not None:
            self._write(reviews)

    def _write(self, reviews: dict[str, FlagReview]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps([asdict(r) for r in reviews.values()], indent=1), encoding="utf-8"
        )
        os.replace(temporary, self.path)


def decision_on(item: FlaggedProfile, reviews: dict[str, FlagReview]) -> FlagReview | None:
    """The decision that still holds for the profile, if any."""
    review = reviews.get(item.id)
    return review if review is not None and review.fingerprint == fingerprint(item) else None
