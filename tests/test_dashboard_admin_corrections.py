"""Corrections and removals through ``AppTest``, on both search backends: find a therapist by
name, remove the listing (gone from search at once) or correct a detail (shown as corrected on
the profile), and lift either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from indexer.corrections import CorrectionBook
from tests.e2e.admin_session import ADMIN, admin_page
from tests.e2e.apptest import (
    ADMIN_CORRECTIONS,
    PROFILE,
    SEARCH,
    card_names,
    open_page,
    point_app_at,
    shown,
)
from tests.e2e.dashboard_world import ZIP, profiles


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def directory(
    backend: Any, home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    backend.rebuild(profiles())
    point_app_at(backend, home, monkeypatch, request)
    return backend


def corrections_page() -> AppTest:
    return admin_page(ADMIN_CORRECTIONS)


def pick(at: AppTest, query: str, profile_id: str) -> AppTest:
    """Search for a therapist on the corrections page and choose one of the matches."""
    at.text_input(key="corr_query").input(query).run()
    at.selectbox(key="corr_chosen").set_value(profile_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: Any) -> list[str]:
    return [shown(e.value) for e in elements]


def test_a_search_by_name_finds_the_therapist_to_pick(directory: Any) -> None:
    at = corrections_page()
    at.text_input(key="corr_query").input("Jane Doe").run()
    chooser = at.selectbox(key="corr_chosen")
    assert chooser.options[0] == "Jane A. Doe — South Congress Bodywork · Austin, TX (t-doe)"
    # A profile id finds that profile.
    at.text_input(key="corr_query").input("t-garcia").run()
    assert at.selectbox(key="corr_chosen").value == "t-garcia"
    card = texts(at.caption)
    assert any(
        c.startswith("Profile t-garcia · listed on atlas · last confirmed Nov 20, 2026")
        for c in card
    )


def test_a_removed_therapist_is_gone_from_search_at_once(directory: Any, home: Path) -> None:
    at = open_page(SEARCH, {"near": ZIP, "radius": "5"}, app=admin_page(ADMIN_CORRECTIONS))
    assert "Jane A. Doe" in card_names(at)  # in the results, and cached
    at = open_page(ADMIN_CORRECTIONS, app=at)
    pick(at, "Jane Doe", "t-doe")
    at.text_area(key="supp_reason_t-doe").input("asked by e-mail: retired")
    at.button(key="supp_go_t-doe").click().run()
    # Nothing happens before the admin confirms.
    assert "Remove Jane A. Doe (t-doe) from the directory?" in texts(at.warning)[0]
    assert CorrectionBook(home).suppressions() == []
    at.button(key="supp_yes_t-doe").click().run()
    done = next(s for s in texts(at.success) if "is removed from the directory" in s)
    assert done.startswith("Jane A. Doe (t-doe) is removed from the directory")
    assert f"Recorded as requested by {ADMIN}." in done
    (removal,) = CorrectionBook(home).suppressions()
    assert (removal.profile_id, removal.requested_by, removal.reason) == (
        "t-doe",
        ADMIN,
        "asked by e-mail: retired",
    )
    removals = next(d.value for d in at.dataframe if "Removed by" in d.value.columns)
    assert removals.to_dict("records")[0]["Removed by"] == ADMIN

    at = open_page(SEARCH, {"near": ZIP, "radius": "5"}, app=at)
    assert "Jane A. Doe" not in card_names(at)
    assert "Maria Garcia" in card_names(at)
    at = open_page(PROFILE, {"id": "t-doe"}, app=at)
    assert "no longer in the directory" in at.warning[0].value


def test_a_removal_needs_a_reason(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Jane Doe", "t-doe")
    at.button(key="supp_go_t-doe").click().run()
    assert "Not removed: say why. The reason is recorded with the removal." in texts(at.error)
    assert CorrectionBook(home).suppressions() == []


def test_a_removal_can_be_cancelled_at_the_confirmation(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Jane Doe", "t-doe")
    at.text_area(key="supp_reason_t-doe").input("asked by e-mail: retired")
    at.button(key="supp_go_t-doe").click().run()
    at.button(key="supp_no_t-doe").click().run()
    assert CorrectionBook(home).suppressions() == []
    assert at.button(key="supp_go_t-doe")  # back to the form
    assert not any("from the directory?" in w for w in texts(at.warning))


def test_a_corrected_phone_shows_as_corrected_on_the_profile(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Jane Doe", "t-doe")
    at.selectbox(key="corr_field_t-doe").set_value("phones").run()
    assert at.text_input(key="corr_value_t-doe_phones").value == "(512) 555-0100"
    at.text_input(key="corr_value_t-doe_phones").input("512.555.0199, (512) 555-0100")
    at.button(key="corr_go_t-doe").click().run()
    assert f"Phone numbers of t-doe corrected; the profile shows it now. Recorded by {ADMIN}." in (
        texts(at.success)
    )
    (correction,) = CorrectionBook(home).corrections()
    assert (correction.field, correction.value, correction.requested_by) == (
        "phones",
        ["+15125550199", "+15125550100"],
        ADMIN,
    )
    listed = next(d.value for d in at.dataframe if "Corrected to" in d.value.columns)
    assert listed.to_dict("records")[0] | {"On": ""} == {
        "Therapist": "Jane A. Doe",
        "Profile": "t-doe",
        "Detail": "Phone numbers",
        "Corrected to": "(512) 555-0199, (512) 555-0100",
        "By": ADMIN,
        "On": "",
        "Lifted by": "",
        "Lifted on": "",
    }

    at = open_page(PROFILE, {"id": "t-doe"}, app=at)
    assert [b.proto.label for b in at.get("link_button") if b.proto.url.startswith("tel:")] == [
        "Call (512) 555-0199",
        "Call (512) 555-0100",
    ]
    summary = texts(at.info)[0]
    assert summary.startswith("Corrected at the therapist's request: phone numbers (")
    assert any("corrected" in m.value and "therapist's request on" in m.value for m in at.markdown)
    provenance = next(d.value for d in at.dataframe if "Fact" in d.value.columns)
    phone_sources = list(provenance[provenance["Fact"] == "Phone"]["Source"])
    assert phone_sources == ["Therapist's correction"]
    assert ADMIN not in " ".join(str(v) for v in provenance.to_numpy().ravel())


def test_techniques_are_corrected_from_the_taxonomy(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Maria Garcia", "t-garcia")
    at.selectbox(key="corr_field_t-garcia").set_value("modalities").run()
    assert at.multiselect(key="corr_value_t-garcia_modalities").value == [
        "trigger_point_therapy",
        "deep_tissue",
    ]
    at.multiselect(key="corr_value_t-garcia_modalities").set_value(["neuromuscular_therapy"])
    at.button(key="corr_go_t-garcia").click().run()
    assert CorrectionBook(home).corrections()[0].value == ["neuromuscular_therapy"]
    at = open_page(PROFILE, {"id": "t-garcia"}, app=at)
    assert "Neuromuscular therapy" in [m.value for m in at.markdown]


def test_an_invalid_correction_is_refused_with_the_reason(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Jane Doe", "t-doe")
    at.selectbox(key="corr_field_t-doe").set_value("website").run()
    at.text_input(key="corr_value_t-doe_website").input("javascript:alert(1)")
    at.button(key="corr_go_t-doe").click().run()
    errors = texts(at.error)
    assert "Not corrected: website: 'javascript:alert(1)' is not an http(s) URL" in errors
    assert CorrectionBook(home).corrections() == []


def test_removals_and_corrections_are_lifted(directory: Any, home: Path) -> None:
    at = pick(corrections_page(), "Jane Doe", "t-doe")
    at.selectbox(key="corr_field_t-doe").set_value("name").run()
    at.text_input(key="corr_value_t-doe_name").input("Jane Doe-Smith")
    at.button(key="corr_go_t-doe").click().run()
    pick(at, "Maria Garcia", "t-garcia")
    at.text_area(key="supp_reason_t-garcia").input("moved away")
    at.button(key="supp_go_t-garcia").click().run()
    at.button(key="supp_yes_t-garcia").click().run()
    assert [t.label for t in at.tabs] == ["Find a therapist", "Removals (1)", "Corrections (1)"]

    at.selectbox(key="supp_lift_choice").set_value("t-garcia")
    at.button(key="supp_lift").click().run()
    lifted = next(s for s in texts(at.success) if s.startswith("Removal of t-garcia lifted."))
    assert "returns with the next index update" in lifted
    at.selectbox(key="corr_lift_choice").set_value("t-doe|name")
    at.button(key="corr_lift").click().run()
    assert any(s.startswith("Correction of name of t-doe lifted.") for s in texts(at.success))

    book = CorrectionBook(home)
    assert book.suppressions() == [] and book.corrections() == []
    (removal,) = book.suppressions(include_lifted=True)
    (correction,) = book.corrections(include_lifted=True)
    assert removal.lifted_by == ADMIN and correction.lifted_by == ADMIN
    assert [t.label for t in at.tabs] == ["Find a therapist", "Removals (0)", "Corrections (0)"]
    at.toggle(key="supp_all").set_value(True).run()
    history = next(d.value for d in at.dataframe if "Lifted by" in d.value.columns)
    assert history.to_dict("records")[0]["Lifted by"] == ADMIN
