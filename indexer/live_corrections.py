"""Removal and correction requests applied to the live index at once.

The book (:mod:`indexer.corrections`) keeps every request for all later builds; these functions
also act on what the index serves now, for the command line's and the admin area's requests.
"""

from __future__ import annotations

from indexer.corrections import (
    Correction,
    CorrectionBook,
    CorrectionError,
    Suppression,
    parse_value,
)
from indexer.profile import Profile
from indexer.search import open_backend
from indexer.state import IndexState, state_file
from indexer.taxonomy import load_taxonomy
from tdir.config import Settings


def suppress_profile(settings: Settings, profile_id: str, *, by: str, reason: str) -> Suppression:
    """Record a removal of an indexed profile and take it out of the index now (the command
    line's and the admin area's way to act on a request). CorrectionError if the index has no
    such profile or it is already suppressed."""
    profile = stored_profile(settings, profile_id)
    suppression = CorrectionBook(settings.home).suppress(profile, by=by, reason=reason)
    backend = open_backend(settings)
    try:
        backend.delete([profile_id])
    finally:
        backend.close()
    # Forget its hash, or an incremental build after an unsuppress would take the profile for
    # unchanged and never write it back.
    state = IndexState(state_file(settings))
    if state.hashes.pop(profile_id, None) is not None:
        state.save()
    return suppression


def correct_profile(
    settings: Settings, profile_id: str, field: str, raw_value: str, *, by: str
) -> Correction:
    """Record a correction of an indexed profile (``raw_value`` as an admin typed it, see
    :func:`parse_value`) and rewrite the stored profile with it now."""
    profile = stored_profile(settings, profile_id)
    value = parse_value(field, raw_value, load_taxonomy())
    book = CorrectionBook(settings.home)
    correction = book.correct(profile, field, value, by=by)
    corrected = book.curation().apply(profile)
    backend = open_backend(settings)
    try:
        backend.upsert([corrected])
    finally:
        backend.close()
    return correction


def stored_profile(settings: Settings, profile_id: str) -> Profile:
    """The profile as the index holds it; CorrectionError if it holds none by that id."""
    backend = open_backend(settings)
    try:
        profile = backend.get(profile_id)
    finally:
        backend.close()
    if profile is None:
        raise CorrectionError(
            f"no profile {profile_id!r} in the index (removed ones are listed by "
            "`tdir corrections list`)"
        )
    return profile
