"""What the dashboard keeps of what a visitor asked for as they move around, in a real headless
Chromium: Back and Forward between two searches show each search (the page does not write the
newer one back over the URL), the comparison choice stays through the top navigation's Compare
and Search tabs, search words over the limit read back the same after a reload, and an admin's
schedule amount under 1 is refused as typed rather than replaced by the number box.

``streamlit run dashboard/app.py`` runs against the hand-written test directory
(``tests/e2e/dashboard_world.py``) in a data directory with a few recorded crawls
(``tests/e2e/admin_session.py``), so the sources page has something to show.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from crawler.scheduling import ScheduleBook
from indexer.search.sqlite_backend import SqliteBackend
from tests.e2e.admin_session import make_crawl_home
from tests.e2e.dashboard_world import ZIP, profiles
from tests.support.browser import (
    ROOT,
    SCRIPT_RUNS,
    StreamlitServer,
    streamlit_server,
    wait_for_runs,
)

ARTIFACTS = ROOT / "test-artifacts" / "navigation"
PASSWORD = "navigation-admin-password"
ADMIN_NAME = "Navigation Admin"
TIMEOUT_MS = 90_000  # a loaded machine once took longer than 5 s for one run
WORDS = [f"word{n:03d}" for n in range(100)]
LONG = " ".join(WORDS)  # 799 characters
KEPT = " ".join(WORDS[:62])  # 495 characters: the most whole words within 500
SUMMARY = re.compile(r"therapists? within 25 mi of")
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with recorded crawls and an index of the test directory."""
    home = make_crawl_home(tmp_path_factory.mktemp("navigation"))
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        backend.rebuild(profiles())
    finally:
        backend.close()
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[StreamlitServer]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TDIR_", "STREAMLIT_"))
    }
    env.update(TDIR_HOME=str(home), TDIR_BACKEND="sqlite", TDIR_ADMIN_PASSWORD=PASSWORD)
    with streamlit_server(env, ARTIFACTS / "streamlit.log", timeout=120) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.add_init_script(SCRIPT_RUNS)
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


def settle(page: Page) -> None:
    """Wait until the app has finished the run the last interaction asked for."""
    wait_for_runs(page, timeout_ms=TIMEOUT_MS)


def url_params(page: Page) -> dict[str, list[str]]:
    """The page's query parameters."""
    return parse_qs(urlsplit(page.url).query)


def type_into(page: Page, label: str, text: str) -> None:
    """Type into a search box and press Enter, then wait for the search."""
    box = page.get_by_role("textbox", name=label)
    box.fill(text)
    box.press("Enter")
    settle(page)


def shows_the_link(page: Page, near: str, sort: str) -> None:
    """Wait until the boxes show what the opened link says. Until then the browser holds their
    empty first values, and a click would send those back (a Streamlit widget takes a value
    set by the app a moment after it is first drawn)."""
    expect(page.get_by_role("textbox", name="Where")).to_have_value(near)
    expect(page.get_by_role("combobox", name="Sort by")).to_have_value(sort)


def open_tab(page: Page, title: str) -> None:
    """Open a page from the top navigation."""
    page.get_by_role("link", name=title, exact=True).click()
    settle(page)


def test_back_and_forward_show_each_search(server: StreamlitServer, page: Page) -> None:
    page.goto(server.url + "/")
    settle(page)
    type_into(page, "Where", ZIP)
    expect(page.get_by_text(SUMMARY)).to_be_visible()
    first = page.url
    everyone = page.get_by_text(SUMMARY).inner_text()
    type_into(page, "Looking for", "Garcia")
    second = page.url
    assert url_params(page)["q"] == ["Garcia"]
    expect(page.get_by_text(SUMMARY)).not_to_have_text(everyone)

    page.go_back()
    settle(page)
    expect(page.get_by_role("textbox", name="Looking for")).to_have_value("")
    expect(page.get_by_text(SUMMARY)).to_have_text(everyone)
    assert page.url == first, page.url  # the page did not write the newer search back
    assert "q" not in url_params(page)

    page.go_forward()
    settle(page)
    expect(page.get_by_role("textbox", name="Looking for")).to_have_value("Garcia")
    assert page.url == second, page.url

    # Back again after Forward, and then a new search from there: it is the one shown.
    page.go_back()
    settle(page)
    expect(page.get_by_role("textbox", name="Looking for")).to_have_value("")
    type_into(page, "Looking for", "Doe")
    assert url_params(page)["q"] == ["Doe"] and url_params(page)["near"] == [ZIP]


def test_the_compare_tab_keeps_the_choice(server: StreamlitServer, page: Page) -> None:
    page.goto(f"{server.url}/?near={ZIP}&radius=5&sort=distance")
    settle(page)
    shows_the_link(page, ZIP, "Distance")
    for _ in range(2):
        page.get_by_role("button", name="Add to compare").first.click()
        settle(page)
    expect(page.get_by_role("button", name="Remove from compare")).to_have_count(2)
    chosen = page.get_by_text(re.compile(r"Compare: ")).inner_text()

    open_tab(page, "Compare")
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()
    expect(page.get_by_role("button", name="Remove")).to_have_count(2)

    open_tab(page, "Search")
    expect(page.get_by_text(re.compile(r"Compare: "))).to_have_text(chosen)
    # Back leaves for the compare page at once: the search page added no entry of its own.
    page.go_back()
    settle(page)
    assert urlsplit(page.url).path == "/compare", page.url
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()


def test_long_search_words_read_back_the_same_after_a_reload(
    server: StreamlitServer, page: Page
) -> None:
    page.goto(f"{server.url}/?near={ZIP}")
    settle(page)
    shows_the_link(page, ZIP, "Best match")
    type_into(page, "Looking for", LONG)
    box = page.get_by_role("textbox", name="Looking for")
    expect(box).to_have_value(KEPT)
    assert url_params(page)["q"] == [KEPT]
    expect(page.get_by_text(re.compile(r"more than 500 characters"))).to_be_visible()
    page.reload()
    settle(page)
    expect(box).to_have_value(KEPT)
    assert url_params(page)["q"] == [KEPT]


def test_a_schedule_amount_under_one_is_refused_as_typed(
    server: StreamlitServer, home: Path, page: Page
) -> None:
    page.goto(server.url + "/sign_in")
    settle(page)
    page.get_by_role("textbox", name="Your name").fill(ADMIN_NAME)
    page.get_by_role("textbox", name="Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    source = page.get_by_role("combobox", name="Source")
    if not source.input_value().startswith("atlas"):
        source.scroll_into_view_if_needed()
        source.click()
        page.get_by_role("option", name=re.compile(r"^atlas — ")).first.click()
        settle(page)
    every = page.get_by_role("spinbutton", name="Every")
    for typed in ("0", "-3"):
        every.fill(typed)
        every.press("Enter")
        settle(page)
        page.get_by_role("button", name="Save schedule").click()
        settle(page)
        refusal = page.get_by_text(
            re.compile(rf"the number of days must be 1 or more, not {re.escape(typed)}$")
        )
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text(f"Not saved: source 'atlas': every {typed} days")
        expect(every).to_have_value(typed)  # what the admin typed, not the box's own number
        assert ScheduleBook(home).get("atlas").override is None
    expect(page.get_by_text(re.compile(r"^Saved: "))).to_have_count(0)
