"""The audit log and the server-side sign-in state through ``AppTest``: failed sign-ins keep the
name and are logged, the lockout outlives the session (a reload), and sign-in, sign-out,
schedule edits, recrawls, removals (confirmed first) and flag decisions land in
``$TDIR_HOME/audit.jsonl``, shown newest first on the account page. The embedded backend is
enough here: none of this depends on the search backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.scheduling.book import SERVICE_LEASE
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.leases import Lease
from dashboard import audit
from dashboard.flagged import FlaggedProfile, FlagReviews, as_flagged, decision_on, fingerprint
from indexer.profile import DataFlag
from tests.e2e.admin_session import (
    ADMIN,
    PASSWORD,
    admin_page,
    make_crawl_home,
    sign_in,
    with_password,
)
from tests.e2e.apptest import (
    ADMIN_CORRECTIONS,
    ADMIN_FLAGGED,
    SIGN_IN,
    point_app_at,
    shown,
)
from tests.e2e.dashboard_world import HOSTILE_NAME, profiles


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_crawl_home(tmp_path / "home")


@pytest.fixture
def directory(
    sqlite_backend: Any, home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    sqlite_backend.rebuild(profiles())
    point_app_at(sqlite_backend, home, monkeypatch, request)
    return sqlite_backend


@pytest.fixture
def scheduler_service(home: Path) -> Iterator[Lease]:
    with Lease(ScheduleDatabase(home), SERVICE_LEASE, purpose="scheduler service") as lease:
        yield lease


def logged(home: Path) -> list[tuple[str, str, str]]:
    """(action, actor, outcome) of every audit entry, newest first."""
    return [(e["action"], e["actor"], e["outcome"]) for e in audit.entries(home)]


# -- the log itself ----------------------------------------------------------------------------


def test_entries_come_back_newest_first_and_bad_lines_are_skipped(tmp_path: Path) -> None:
    audit.record(tmp_path, "sign_in", "Ann", client="10.0.0.7")
    with audit.audit_path(tmp_path).open("a") as out:
        out.write("not json\n[1, 2]\n")
    audit.record(tmp_path, "removal", "Ann", detail="Jane (t-doe): retired")
    first, second = audit.entries(tmp_path)
    assert (first["action"], first["detail"]) == ("removal", "Jane (t-doe): retired")
    assert (second["action"], second["client"]) == ("sign_in", "10.0.0.7")
    assert audit.entries(tmp_path, limit=1) == [first]
    assert audit.entries(tmp_path / "none") == []
    lines = audit.audit_path(tmp_path).read_text().splitlines()
    assert json.loads(lines[-1])["at"].endswith("+00:00")


# -- sign-in ---------------------------------------------------------------------------------


def test_a_failed_sign_in_keeps_the_name_and_is_logged(directory: Any, home: Path) -> None:
    at = sign_in(with_password(), "guess")
    assert at.error[0].value == "That password is not right."
    assert at.text_input(key="admin_name_input").value == ADMIN
    assert at.text_input(key="admin_password_input").value == ""
    assert logged(home) == [("sign_in_failed", ADMIN, "failed")]


def test_the_lockout_outlives_the_session(directory: Any, home: Path) -> None:
    at = with_password()
    for _ in range(5):
        sign_in(at, "guess")
    # A reload is a new session: the right password is still refused.
    again = sign_in(with_password(), PASSWORD)
    assert "Too many wrong passwords" in again.error[0].value
    assert not again.form_submit_button
    assert again.title[0].value == "Admin"  # not sent on to the admin pages
    assert logged(home)[0] == ("sign_in_failed", ADMIN, "refused")
    # Another account from a client Streamlit cannot tell apart is not locked.
    other = sign_in(with_password(), PASSWORD, name="Bea Admin")
    assert other.title[0].value == "Sources"


def test_sign_in_and_out_are_shown_on_the_account_page(directory: Any, home: Path) -> None:
    at = sign_in(with_password(), "guess")
    at = sign_in(at)
    at.switch_page(SIGN_IN).run()
    table = next(d.value for d in at.dataframe if "Action" in d.value.columns)
    assert list(table["Action"]) == ["Signed in", "Failed sign-in"]
    assert list(table["Who"]) == [ADMIN, ADMIN]
    at.button[0].click().run()  # sign out
    assert logged(home)[0] == ("sign_out", ADMIN, "ok")


# -- admin actions -----------------------------------------------------------------------------


def test_schedule_edits_and_recrawls_are_logged_once(
    directory: Any, home: Path, scheduler_service: Lease
) -> None:
    at = admin_page()
    at.selectbox(key="admin_source").set_value("atlas").run()
    at.number_input(key="sched_amount_atlas").set_value(12)
    at.selectbox(key="sched_unit_atlas").set_value("h")
    at.button(key="sched_save_atlas").click().run()
    at.button(key="recrawl_atlas").click().run()
    at.run()  # nothing new happened: nothing new is logged
    entries = audit.entries(home)
    assert [(e["action"], e["outcome"]) for e in entries[:2]] == [
        ("recrawl", "ok"),
        ("schedule", "ok"),
    ]
    assert entries[0]["detail"].startswith("atlas: Run #1 queued")
    assert entries[1]["detail"] == f"atlas: Saved: atlas now runs every 12 h, set by {ADMIN}."
    assert [e["action"] for e in entries[2:]] == ["sign_in"]


def test_a_confirmed_removal_and_a_correction_are_logged(directory: Any, home: Path) -> None:
    at = admin_page(ADMIN_CORRECTIONS)
    at.text_input(key="corr_query").input("Jane Doe").run()
    at.selectbox(key="corr_chosen").set_value("t-doe").run()
    at.selectbox(key="corr_field_t-doe").set_value("website").run()
    at.text_input(key="corr_value_t-doe_website").input("https://doe.example")
    at.button(key="corr_go_t-doe").click().run()
    at.text_area(key="supp_reason_t-doe").input("asked by e-mail: retired")
    at.button(key="supp_go_t-doe").click().run()
    assert logged(home)[0][0] == "correction"  # asking to remove is not removing
    at.button(key="supp_yes_t-doe").click().run()
    removal, correction = audit.entries(home)[:2]
    assert (removal["action"], removal["actor"]) == ("removal", ADMIN)
    assert removal["detail"] == "Jane A. Doe (t-doe): asked by e-mail: retired"
    assert correction["detail"] == "t-doe: website set to 'https://doe.example'"


# -- flag decisions ------------------------------------------------------------------------------


def flagged_item(raw: str = "555") -> FlaggedProfile:
    return FlaggedProfile(
        id="t-x",
        name="X",
        place="Austin, TX",
        credential_flags=("claims LMT MT1 in TX: no such license",),
        data_flags=(DataFlag(source="atlas", field="phone", reason="unusable", raw=raw),),
        last_confirmed=None,
    )


def test_a_decision_holds_until_the_flags_change(tmp_path: Path) -> None:
    reviews = FlagReviews(tmp_path)
    item = flagged_item()
    made = reviews.decide(item, "dismissed", "  the number is fine ", "Ann")
    assert (made.note, made.by, made.fingerprint) == (
        "the number is fine",
        "Ann",
        fingerprint(item),
    )
    assert decision_on(item, FlagReviews(tmp_path).load()) == made
    assert decision_on(flagged_item("556"), reviews.load()) is None  # a changed flag: open again
    reviews.reopen("t-x")
    assert decision_on(item, reviews.load()) is None


def test_decided_profiles_leave_the_open_list(directory: Any, home: Path) -> None:
    at = admin_page(ADMIN_FLAGGED)
    table = next(d.value for d in at.dataframe if "Therapist" in d.value.columns)
    assert list(table["Decision"]) == ["open"]
    hostile = next(p for p in profiles() if p.name == HOSTILE_NAME)
    item = as_flagged(hostile)
    assert item is not None
    FlagReviews(home).decide(item, "resolved", "board confirmed the license by phone", ADMIN)
    at.run()
    assert not any("Therapist" in d.value.columns for d in at.dataframe if len(d.value))
    at.toggle(key="flag_show_decided").set_value(True).run()
    table = next(d.value for d in at.dataframe if "Therapist" in d.value.columns)
    assert [shown(n) for n in table["Therapist"]] == [HOSTILE_NAME]
    assert list(table["Decision"]) == ["Resolved"]
