"""Corrected fields: what a therapist had corrected, in words, for the profile and admin pages.

A corrected profile carries ``corrections`` (``[{field, value, by, at}]``) and the corrected
field's provenance names the source ``correction``. Clients are told which details were
corrected and when, never which admin recorded it: that is for the admin area.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.formatting import format_date, format_phone
from dashboard.markup import escape_markdown, plain_text
from indexer.corrections import CORRECTION_SOURCE, TEXT_FIELDS
from indexer.profile import Profile
from indexer.taxonomy import FIELD_VOCABULARY, Taxonomy

FIELD_LABELS = {
    "name": "Name",
    "practice_name": "Practice name",
    "bio": "Description",
    "website": "Website",
    "phones": "Phone numbers",
    "modalities": "Techniques",
    "conditions": "Conditions treated",
}
SOURCE_LABEL = "Therapist's correction"  # how the provenance of a corrected field reads


def corrections_of(profile: Profile) -> dict[str, Mapping[str, Any]]:
    """The profile's corrections by field."""
    return {
        str(c["field"]): c for c in profile.corrections if isinstance(c, Mapping) and c.get("field")
    }


def corrected_note(profile: Profile, *fields: str) -> str | None:
    """A badge saying these fields were corrected at the therapist's request, and when
    (markdown), or None if none of them was."""
    found = corrections_of(profile)
    dates = sorted(str(found[f].get("at") or "") for f in fields if f in found)
    if not dates:
        return None
    return (
        ":violet-badge[:material/edit_note: corrected] "
        f":gray[at the therapist's request on {escape_markdown(format_date(dates[-1]))}]"
    )


def corrections_summary(profile: Profile) -> str | None:
    """One sentence naming every corrected detail with its date (markdown), or None."""
    found = corrections_of(profile)
    if not found:
        return None
    parts = [
        f"{FIELD_LABELS.get(f, f).lower()} ({escape_markdown(format_date(c.get('at')))})"
        for f, c in sorted(found.items())
    ]
    return "Corrected at the therapist's request: " + ", ".join(parts) + "."


def is_correction(entry: Mapping[str, Any]) -> bool:
    """True for a provenance entry that is a correction, not a crawled source."""
    return entry.get("source") == CORRECTION_SOURCE


def value_text(field: str, value: Any, taxonomy: Taxonomy) -> str:
    """A correction's value as plain text: phones formatted, terms by their labels."""
    if value is None or value in ([], (), ""):
        return "(removed)"
    if field == "phones" and isinstance(value, list | tuple):
        return ", ".join(format_phone(str(p)) for p in value)
    if field in ("modalities", "conditions") and isinstance(value, list | tuple):
        return ", ".join(taxonomy.label(FIELD_VOCABULARY[field], str(t)) for t in value)
    return plain_text(value, max_length=300)


def current_text(field: str, profile: Profile, taxonomy: Taxonomy) -> str:
    """The field's value in the profile, as an admin would type it to correct it."""
    value = getattr(profile, field, None)
    if value is None or value in ([], ()):
        return ""
    if field in TEXT_FIELDS:
        return str(value)  # whole, line breaks kept: the admin edits it
    return value_text(field, value, taxonomy)
