"""How corrected details read: labels, values, and the notes clients see on a profile."""

from __future__ import annotations

from dashboard.corrected import (
    FIELD_LABELS,
    corrected_note,
    corrections_summary,
    current_text,
    value_text,
)
from indexer.corrections import CORRECTABLE
from indexer.profile import Profile
from indexer.taxonomy import load_taxonomy
from tests.e2e.apptest import shown

PROFILE = Profile(
    id="t-doe",
    name="Jane Doe",
    bio="Line one.\nLine two.",
    phones=("+15125550199",),
    modalities=("neuromuscular_therapy",),
    corrections=(
        {"field": "phones", "value": ["+15125550199"], "by": "ann", "at": "2026-11-21T10:00:00"},
        {"field": "website", "value": None, "by": "ann", "at": "2026-11-22T09:00:00"},
    ),
)


def test_every_correctable_field_has_a_label() -> None:
    assert set(FIELD_LABELS) == set(CORRECTABLE)


def test_values_read_as_people_write_them() -> None:
    taxonomy = load_taxonomy()
    assert value_text("phones", ["+15125550199", "+442071234567"], taxonomy) == (
        "(512) 555-0199, +442071234567"
    )
    assert value_text("modalities", ["neuromuscular_therapy"], taxonomy) == (
        "Neuromuscular therapy"
    )
    assert value_text("website", None, taxonomy) == "(removed)"
    # The form starts from what the profile says; a description keeps its line breaks.
    assert current_text("bio", PROFILE, taxonomy) == "Line one.\nLine two."
    assert current_text("practice_name", PROFILE, taxonomy) == ""
    assert current_text("phones", PROFILE, taxonomy) == "(512) 555-0199"
    assert current_text("modalities", PROFILE, taxonomy) == "Neuromuscular therapy"


def test_clients_see_what_was_corrected_and_when_but_not_by_whom() -> None:
    note = corrected_note(PROFILE, "phones", "website")
    assert note is not None and "Nov 22, 2026" in shown(note) and "ann" not in note
    assert corrected_note(PROFILE, "bio") is None
    summary = corrections_summary(PROFILE)
    assert summary is not None and shown(summary) == (
        "Corrected at the therapist's request: phone numbers (Nov 21, 2026), website (Nov 22, "
        "2026)."
    )
    assert corrections_summary(Profile(id="x", name="X")) is None
