"""No listing or review can inject markup: hostile strings show as text on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.admin_session import admin_page
from tests.e2e.apptest import (
    ADMIN_CORRECTIONS,
    ADMIN_FLAGGED,
    COMPARE,
    PROFILE,
    SEARCH,
    markdown_values,
    new_app,
    open_page,
    point_app_at,
    shown,
)
from tests.e2e.dashboard_world import (
    HOSTILE_AUTHOR,
    HOSTILE_BIO,
    HOSTILE_NAME,
    HOSTILE_PRACTICE,
    HOSTILE_REVIEW,
    HOSTILE_STRINGS,
    ZIP,
    profiles,
)

RAW = (*HOSTILE_STRINGS, ":red[Spa]", ":red[Austin]", "$x^2$", "www.evil.example", "<b>")


@pytest.fixture
def directory(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    backend.rebuild(profiles())
    point_app_at(backend, tmp_path, monkeypatch, request)
    return backend


def assert_no_raw_markup(at: AppTest) -> None:
    for value in markdown_values(at):
        for raw in RAW:
            assert raw not in value, (raw, value)


def test_search_results(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP, "radius": "5"})
    assert_no_raw_markup(at)
    displayed = [shown(v) for v in markdown_values(at)]
    assert f"#### {HOSTILE_NAME}" in displayed
    assert any(HOSTILE_PRACTICE in v for v in displayed)


def test_profile(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-hostile", "near": ZIP})
    assert_no_raw_markup(at)
    assert shown(at.title[0].value) == HOSTILE_NAME
    texts = [t.value for t in at.text]
    assert HOSTILE_BIO in texts
    assert HOSTILE_REVIEW in texts
    assert any(HOSTILE_AUTHOR in shown(v) for v in markdown_values(at))


def test_compare(directory: Any) -> None:
    at = open_page(COMPARE, {"near": ZIP, "compare": ["t-hostile", "t-doe"]})
    assert_no_raw_markup(at)
    columns = [list(d.value.columns) for d in at.dataframe]
    assert [HOSTILE_NAME, "Jane A. Doe"] in columns


def test_flagged_listings(directory: Any) -> None:
    at = new_app()
    at.secrets["admin_password"] = "pw"
    at.run()
    at.switch_page("app_pages/sign_in.py").run()
    at.text_input(key="admin_name_input").input("Ann")
    at.text_input(key="admin_password_input").input("pw")
    at.form_submit_button[0].click().run()
    at.switch_page(ADMIN_FLAGGED).run()
    assert list(at.dataframe[-1].value["Therapist"]) == [HOSTILE_NAME]
    assert_no_raw_markup(at)


def test_corrections_and_removals(directory: Any) -> None:
    at = admin_page(ADMIN_CORRECTIONS)
    at.text_input(key="corr_query").input("t-hostile").run()
    assert at.selectbox(key="corr_chosen").value == "t-hostile"
    assert_no_raw_markup(at)
    # An admin may paste what the therapist wrote: it is data too.
    at.selectbox(key="corr_field_t-hostile").set_value("practice_name").run()
    at.text_input(key="corr_value_t-hostile_practice_name").input(HOSTILE_PRACTICE)
    at.button(key="corr_go_t-hostile").click().run()
    assert_no_raw_markup(at)
    profile = open_page(PROFILE, {"id": "t-hostile"}, app=at)
    assert_no_raw_markup(profile)
    at = open_page(ADMIN_CORRECTIONS, app=profile)
    at.text_input(key="corr_query").input("t-hostile").run()
    at.text_area(key="supp_reason_t-hostile").input(HOSTILE_BIO)
    at.button(key="supp_go_t-hostile").click().run()
    assert_no_raw_markup(at)  # the confirmation names the therapist too
    at.button(key="supp_yes_t-hostile").click().run()
    assert any(v.startswith(HOSTILE_NAME) for v in map(shown, (s.value for s in at.success)))
    assert_no_raw_markup(at)
