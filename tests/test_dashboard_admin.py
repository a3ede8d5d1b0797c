"""The admin area through ``AppTest``: who gets in and under which name, the sources page's
health and crawls, flagged listings. Schedules, recrawls and alerts are in
``test_dashboard_admin_schedules.py``; corrections and removals in
``test_dashboard_admin_corrections.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from crawler.catalog import catalog_text
from tests.e2e.admin_session import (
    ADMIN,
    PASSWORD,
    admin_page,
    make_crawl_home,
    sign_in,
    with_password,
)
from tests.e2e.apptest import (
    ADMIN_FLAGGED,
    ADMIN_SOURCES,
    SIGN_IN,
    new_app,
    open_page,
    point_app_at,
    shown,
)
from tests.e2e.dashboard_world import HOSTILE_NAME, profiles

OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret",
    "client_id": "tdir",
    "client_secret": "client-secret",
    "server_metadata_url": "https://id.example/.well-known/openid-configuration",
}


@pytest.fixture
def crawl_home(tmp_path: Path) -> Path:
    return make_crawl_home(tmp_path)


@pytest.fixture
def directory(
    backend: Any,
    crawl_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Any:
    backend.rebuild(profiles())
    point_app_at(backend, crawl_home, monkeypatch, request)
    return backend


def admin_pages_registered(at: AppTest) -> bool:
    try:
        at.switch_page(ADMIN_SOURCES)
    except ValueError:
        return False
    return True


# -- who gets in ------------------------------------------------------------------------------


def test_without_configuration_the_admin_area_is_closed(directory: Any) -> None:
    at = open_page(SIGN_IN)
    assert "The admin area is closed" in at.info[0].value
    assert not at.form_submit_button
    assert not admin_pages_registered(at)


def test_a_wrong_password_keeps_the_admin_area_closed(directory: Any) -> None:
    at = sign_in(with_password(), "guess")
    assert at.error[0].value == "That password is not right."
    assert not admin_pages_registered(at)


def test_the_right_password_opens_the_admin_pages(directory: Any) -> None:
    at = sign_in(with_password())
    assert not at.exception
    assert at.title[0].value == "Sources"  # signing in lands on the sources page
    assert admin_pages_registered(at)
    at.switch_page(SIGN_IN).run()
    signed_in = shown(at.success[0].value)
    assert f"You are signed in as an admin. Your changes are recorded as {ADMIN}." in signed_in
    at.button[0].click().run()  # sign out
    assert not admin_pages_registered(at)


def test_the_admin_says_who_they_are_before_the_password_is_tried(directory: Any) -> None:
    at = sign_in(with_password(), name="  ")
    assert "Say who you are" in at.error[0].value
    assert not admin_pages_registered(at)
    # A forgotten name costs no password attempt.
    assert "tdir_admin_failures" not in at.session_state
    at = sign_in(at)
    assert at.title[0].value == "Sources"


def test_the_password_can_come_from_the_environment(
    directory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TDIR_ADMIN_PASSWORD", PASSWORD)
    at = sign_in(new_app())
    assert at.title[0].value == "Sources"


def test_too_many_wrong_passwords_lock_the_form(directory: Any) -> None:
    at = with_password()
    for _ in range(5):
        sign_in(at, "guess")
    at.switch_page(SIGN_IN).run()
    assert "Too many wrong passwords" in at.error[0].value
    assert not at.form_submit_button


def oidc_app(email: str | None, admins: list[str] | None) -> AppTest:
    at = new_app()
    at.secrets["auth"] = OIDC
    if admins is not None:
        at.secrets["admin_emails"] = admins
    at.user = {"is_logged_in": email is not None, "email": email or ""}
    return at


def test_oidc_admins_are_the_listed_emails(directory: Any) -> None:
    at = oidc_app("Admin@Example.org", ["admin@example.org"])
    at.run()
    assert admin_pages_registered(at)
    at.switch_page(SIGN_IN).run()
    # The identity provider's address is the name recorded with the admin's changes.
    assert "recorded as admin@example.org" in shown(at.success[0].value)


def test_oidc_users_not_listed_are_not_admins(directory: Any) -> None:
    at = oidc_app("someone@example.org", ["admin@example.org"])
    at.run()
    assert not admin_pages_registered(at)
    at.switch_page(SIGN_IN).run()
    assert "which is not an admin account" in shown(at.warning[0].value)


def test_oidc_without_an_admin_list_admits_nobody(directory: Any) -> None:
    at = oidc_app("admin@example.org", None)
    at.run()
    assert not admin_pages_registered(at)


def test_oidc_offers_sign_in_before_it(directory: Any) -> None:
    at = oidc_app(None, ["admin@example.org"])
    at.run()
    at.switch_page(SIGN_IN).run()
    assert [b.label for b in at.button] == ["Sign in"]


# -- the sources page -------------------------------------------------------------------------


def test_sources_with_their_health(directory: Any) -> None:
    at = admin_page()
    overview = at.dataframe[0].value.set_index("Source")
    assert overview.loc["atlas", "Health"] == "fresh"
    assert overview.loc["atlas", "Schedule"] == "every day"
    assert overview.loc["atlas", "Pages"] == 339
    assert overview.loc["atlas", "Items"] == 7
    assert overview.loc["atlas", "Errors"] == 2
    assert overview.loc["guild", "Health"] == "overdue"
    assert overview.loc["guild", "Schedule"] == "every 3 days"
    never = overview[overview["Health"] == "never crawled"]
    assert len(never) == len(overview) - 2
    # The most urgent first; a source switched off in the catalog (never crawled, but waiting
    # for nothing) after every enabled one, and the page does not open on it.
    assert list(overview.index[:1]) == ["guild"]
    off = list(overview[overview["State"] == "disabled"].index)
    assert off and list(overview.index[-len(off) :]) == off
    assert at.selectbox(key="admin_source").value not in off


def test_sources_switched_off_are_counted_apart(
    directory: Any, crawl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo catalog with guild (crawled nine days ago on a three-day schedule: overdue, were
    # it on) and board-fl (never crawled) switched off, beside whatever the catalog switches off.
    catalog = yaml.safe_load(catalog_text(None)[0])
    for entry in catalog["sources"]:
        if entry["name"] in ("guild", "board-fl"):
            entry["enabled"] = False
    path = crawl_home / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog), encoding="utf-8")
    monkeypatch.setenv("TDIR_CATALOG", str(path))
    total = len(catalog["sources"])
    off = {e["name"] for e in catalog["sources"] if e.get("enabled") is False}
    assert {"guild", "board-fl"} <= off
    at = admin_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sources"] == str(total)
    assert metrics["Fresh"] == "1"  # atlas
    assert metrics["Due or overdue"] == "0"  # guild is late, but switched off
    assert metrics["Switched off"] == str(len(off))
    # Every other source is on and was never crawled.
    assert metrics["Failing or never crawled"] == str(total - 1 - len(off))


def test_a_source_in_detail(directory: Any) -> None:
    at = admin_page()
    at.selectbox(key="admin_source").set_value("atlas").run()
    coverage = next(d.value for d in at.dataframe if "Share" in d.value.columns)
    shares = dict(zip(coverage["Field"], coverage["Share"], strict=True))
    assert shares["name"] == 1.0 and shares["phone"] == 0.5 and shares["rating"] == 0.0
    errors = next(d.value for d in at.dataframe if list(d.value.columns) == ["Kind", "Count"])
    assert errors.to_dict("records") == [{"Kind": "jsonld/repaired", "Count": 2}]
    history = next(d.value for d in at.dataframe if "Why it ended" in d.value.columns)
    assert list(history["Pages"]) == [339, 300]  # newest first
    assert at.button(key="recrawl_atlas").label == "Recrawl now"


def test_run_details(directory: Any) -> None:
    at = admin_page()
    at.selectbox(key="admin_source").set_value("atlas").run()
    runs = at.selectbox(key="run_atlas")
    runs.set_value(runs.options[1]).run()
    details = next(d.value for d in at.dataframe if "Value" in d.value.columns)
    assert dict(zip(details[""], details["Value"], strict=True))["Pages fetched"] == "300"


# -- flagged listings -------------------------------------------------------------------------


def test_flagged_listings(directory: Any) -> None:
    at = sign_in(with_password())
    at.switch_page(ADMIN_FLAGGED).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Flagged profiles": "1",
        "Credential not confirmed": "1",
        "With unusable values": "1",
    }
    table = next(d.value for d in at.dataframe if "Therapist" in d.value.columns)
    assert list(table["Therapist"]) == [HOSTILE_NAME]
    assert list(table["Credential problems"]) == [
        "claims Licensed Massage Therapist (LMT) MT999999 in TX: the board has no license MT999999"
    ]
