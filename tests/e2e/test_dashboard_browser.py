"""The dashboard end to end in a real headless Chromium, on an index built from a demo crawl.

``streamlit run dashboard/app.py`` runs as a subprocess against a data directory crawled from
the demo web (which stays up for the session, so a recrawl has something to fetch). The test
searches near a ZIP with a modality filter, compares two therapists, opens a profile, and signs
in to the admin pages, where it puts a source on a new schedule, resolves a flagged profile
with a note, removes a therapist's listing (who is then gone from search) and asks for a
recrawl. Hand-written therapists added to the crawled index check that only an active state
license reads "verified", and that an approximate position and a published rating say what
they are. Each step's screenshot is saved under ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from indexer.geocode import geocode_place
from indexer.search import SearchQuery
from indexer.search.sqlite_backend import SqliteBackend
from tests.crawling import crawl, run_tdir
from tests.e2e.dashboard_world import (
    HOSTILE_BIO,
    HOSTILE_NAME,
    HOSTILE_REVIEW,
    SAN_ANTONIO_ZIP,
    ZIP,
    profiles,
)
from tests.support.browser import (
    ROOT,
    SCRIPT_RUNS,
    StreamlitServer,
    streamlit_server,
    wait_for_runs,
)

ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
PASSWORD = "e2e-admin-password"
ADMIN_NAME = "E2E Admin"
MODALITY_ID = "neuromuscular_therapy"
MODALITY_LABEL = "Neuromuscular therapy"
# Hand-written therapists added to the crawled index (see ``tests/e2e/dashboard_world.py``).
WORLD_IDS = frozenset({"t-hostile", "t-chen", "t-garcia", "t-ortiz", "t-patel", "t-torres"})
TIMEOUT_MS = 60_000
# A loaded machine can take longer than Playwright's default 5 s to draw a page.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def crawled_home(demo_web: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding a crawl of every demo source and the index built from it."""
    home = tmp_path_factory.mktemp("dashboard-e2e")
    (home / "sites.json").write_text(json.dumps(demo_web.urls), encoding="utf-8")
    crawl(home, home / "sites.json", "--all")
    built = run_tdir(home, "index", "--rebuild")
    assert built.returncode == 0, built.stderr
    # One listing full of markup, to check the browser shows it as text, and hand-written
    # therapists whose verification and positions must read plainly.
    added = [p for p in profiles() if p.id in WORLD_IDS]
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        backend.upsert(added)
    finally:
        backend.close()
    return home


@pytest.fixture(scope="module")
def server(crawled_home: Path) -> Iterator[StreamlitServer]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TDIR_", "STREAMLIT_"))
    }
    env.update(
        TDIR_HOME=str(crawled_home),
        TDIR_BACKEND="sqlite",
        TDIR_ADMIN_PASSWORD=PASSWORD,
    )
    with streamlit_server(env, ARTIFACTS / "streamlit.log") as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.add_init_script(SCRIPT_RUNS)
    opened.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    # Any alert() would mean a listing ran script in the page.
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()
    assert dialogs == []


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run the last interaction (or page load)
    asked for, however soon or late it started. Not for a tab: switching one runs nothing."""
    wait_for_runs(page, timeout_ms=TIMEOUT_MS)


def open_tab(page: Page, name: re.Pattern[str] | str) -> None:
    """Switch to a tab (in the page itself: no script run) and wait until it shows."""
    tab = page.get_by_role("tab", name=name)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def shoot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


def zip_with_results(home: Path) -> str:
    """A ZIP from the crawled data with at least two NMT therapists within 25 miles."""
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        result = backend.search(
            SearchQuery(modalities=(MODALITY_ID,), sort="reviews", page_size=50)
        )
        from indexer.geocode import geocode_place

        for hit in result.hits:
            if hit.id in WORLD_IDS or not hit.profile.locations:
                continue
            code = hit.profile.locations[0].postal_code
            if not code:
                continue
            try:
                point = geocode_place(code).point
            except ValueError:
                continue
            near = backend.search(
                SearchQuery(near=point, radius_km=40.0, modalities=(MODALITY_ID,), page_size=3)
            )
            if near.total >= 2:
                return code
    finally:
        backend.close()
    raise AssertionError("the demo crawl has no ZIP with two NMT therapists")


def test_search_compare_profile_and_admin(
    server: StreamlitServer, crawled_home: Path, page: Page
) -> None:
    code = zip_with_results(crawled_home)
    page.goto(server.url + "/")
    where = page.get_by_role("textbox", name="Where")
    expect(where).to_be_visible()
    settle(page)
    # Clients get the directory, not Streamlit's Deploy button and developer options.
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)

    # Search near the ZIP with a modality filter.
    where.fill(code)
    where.press("Enter")
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    modality = sidebar.get_by_test_id("stMultiSelect").first
    modality.click()
    modality.locator("input").fill(MODALITY_LABEL)
    page.get_by_role("option", name=re.compile(f"^{MODALITY_LABEL}")).first.click()
    page.keyboard.press("Escape")
    settle(page)
    summary = page.get_by_text(re.compile(r"therapists? within 25 mi of"))
    expect(summary).to_be_visible()
    assert f"near={code}" in page.url and f"modality={MODALITY_ID}" in page.url
    expect(page.get_by_test_id("stDeckGlJsonChart")).to_have_count(1)
    shoot(page, "01-search.png")

    # The URL alone reproduces the search.
    shared = page.url
    page.goto(shared)
    settle(page)
    expect(page.get_by_text(re.compile(r"therapists? within 25 mi of"))).to_be_visible()

    # Choose two therapists and compare them.
    for _ in range(2):
        page.get_by_role("button", name="Add to compare").first.click()
        settle(page)
    page.get_by_role("link", name=re.compile("Compare 2 side by side")).click()
    settle(page)
    expect(page.get_by_role("heading", name="Compare therapists")).to_be_visible()
    expect(page.get_by_text("At a glance")).to_be_visible()
    assert page.url.count("compare=") == 2
    shoot(page, "02-compare.png")

    # Open one of them.
    page.get_by_role("link", name="View profile").first.click()
    expect(page.get_by_text("Combined rating").first).to_be_visible()
    settle(page)
    shoot(page, "03-profile.png")
    open_tab(page, re.compile(r"^Reviews"))
    expect(page.get_by_text("Ratings by site")).to_be_visible()
    side_by_side = page.get_by_role("heading", name="Site by site")
    if side_by_side.count():  # a therapist listed on two sites or more
        side_by_side.scroll_into_view_if_needed()
    shoot(page, "04-profile-reviews.png")
    open_tab(page, re.compile(r"^Credentials"))
    shoot(page, "05-profile-credentials.png")

    # Sign in to the admin area.
    page.get_by_role("link", name="Admin sign-in").click()
    settle(page)
    page.get_by_role("textbox", name="Your name").fill(ADMIN_NAME)
    page.get_by_role("textbox", name="Admin password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page)
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    expect(page.get_by_role("button", name="Recrawl now")).to_be_visible()
    shoot(page, "06-admin-sources.png")
    change_a_schedule(page)
    # Admin pages sit in their own section of the top navigation.
    open_admin_page(page, "Flagged listings")
    expect(page.get_by_role("heading", name="Flagged listings")).to_be_visible()
    resolve_a_flag(page)
    shoot(page, "08-admin-flagged.png")
    remove_a_listing(page, server, crawled_home)
    recrawl_a_source(page)


def recrawl_a_source(page: Page) -> None:
    """Ask for a recrawl of the chosen source: with no scheduler service, this dashboard runs
    the request itself, says so, and shows it running under the admin's name. (It crawls at
    the catalog's polite pace; the journey ends with it, and the run's end is tested in
    tests/test_dashboard_admin_schedules.py.)"""
    open_admin_page(page, "Sources")
    page.get_by_role("button", name="Recrawl now").click()
    settle(page)
    expect(page.get_by_text(re.compile(r"^Run #\d+ queued\. No scheduler service"))).to_be_visible()
    running = page.get_by_text(re.compile(rf"^Run #\d+ \(requested by {ADMIN_NAME}\) running"))
    expect(running).to_be_visible()


def resolve_a_flag(page: Page) -> None:
    """Select the first flagged profile, note why, resolve it, and see the decision recorded."""
    table = page.locator(".st-key-flag_table")
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    # The grid is drawn on a canvas: the first row's selection box sits below the header row.
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    settle(page)
    note = page.get_by_role("textbox", name="Note")
    note.fill("license confirmed by phone with the board")
    note.press("Control+Enter")  # a text area hands its value over on Ctrl+Enter or blur
    settle(page)
    page.get_by_role("button", name="Resolve").click()
    settle(page)
    expect(page.get_by_text(re.compile(r"^Resolved: .+ \(.+\)"))).to_be_visible()
    # Decided profiles leave the open list, and the audit log has the decision.
    page.get_by_text(re.compile(r"^Show resolved and dismissed too \(1\)")).wait_for()


def open_admin_page(page: Page, title: str) -> None:
    """Open an admin page from the top navigation's Admin section."""
    page.get_by_test_id("stTopNavSection").filter(has_text="Admin").click()
    page.get_by_role("menuitem", name=title).click()
    settle(page)


def choose(page: Page, label: str, option: str | re.Pattern[str]) -> None:
    """Pick an option of the select box labelled ``label`` (if it is not chosen already: that
    would change nothing, and run nothing to wait for)."""
    box = page.get_by_role("combobox", name=label)
    current = box.input_value()  # the box shows the chosen option's label
    if option.search(current) if isinstance(option, re.Pattern) else current == option:
        return
    # A box at the window's edge opens its list out of sight: bring it into view first.
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def change_a_schedule(page: Page) -> None:
    """Put atlas on a twelve-hour schedule from its detail panel."""
    choose(page, "Source", re.compile(r"^atlas — "))
    expect(page.get_by_role("heading", name=re.compile("Bodywork Atlas"))).to_be_visible()
    every = page.get_by_role("spinbutton", name="Every")
    every.fill("12")
    every.press("Enter")
    settle(page)
    choose(page, "Unit", "hours")
    page.get_by_role("button", name="Save schedule").click()
    settle(page)
    saved = page.get_by_text(f"Saved: atlas now runs every 12 h, set by {ADMIN_NAME}.")
    expect(saved).to_be_visible()
    overview = page.get_by_test_id("stDataFrame").first
    expect(overview).to_contain_text("every 12 h (set here)")
    saved.scroll_into_view_if_needed()
    shoot(page, "07-admin-schedule.png")


def removable_therapist(home: Path) -> tuple[str, str]:
    """A crawled therapist (id, name) whose name a search finds, and no one else by it."""
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        for hit in backend.search(SearchQuery(sort="rating", page_size=50)).hits:
            name = hit.profile.name
            if hit.id in WORLD_IDS:
                continue
            same = backend.search(SearchQuery(text=name, page_size=5)).hits
            if [h.id for h in same][:1] == [hit.id] and len(same) == 1:
                return hit.id, name
    finally:
        backend.close()
    raise AssertionError("no therapist with a name of their own in the demo crawl")


def remove_a_listing(page: Page, server: StreamlitServer, home: Path) -> None:
    """Find a therapist by name, remove the listing, and see them gone from search."""
    profile_id, name = removable_therapist(home)
    open_admin_page(page, "Corrections & removals")
    expect(page.get_by_role("heading", name="Corrections & removals")).to_be_visible()
    query = page.get_by_role("textbox", name="Therapist's name or profile id")
    query.fill(name)
    query.press("Enter")
    settle(page)
    chosen = page.get_by_role("combobox", name=re.compile(r"^Therapist \("))
    expect(chosen).to_have_value(re.compile(re.escape(f"({profile_id})")))
    page.get_by_role("textbox", name="Why").fill("The therapist asked by e-mail: retired.")
    page.get_by_role("button", name="Remove listing").click()
    settle(page)
    page.get_by_role("button", name="Yes, remove").click()
    settle(page)
    expect(page.get_by_text(f"({profile_id}) is removed from the directory")).to_be_visible()
    open_tab(page, "Removals (1)")
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(ADMIN_NAME)
    shoot(page, "09-admin-removal.png")
    page.goto(f"{server.url}/?q={quote(name)}")
    settle(page)
    expect(page.get_by_role("heading", name="No therapist matches this search")).to_be_visible()
    shoot(page, "10-search-after-removal.png")


def test_hostile_listing_is_shown_as_text(server: StreamlitServer, page: Page) -> None:
    page.goto(server.url + "/profile?id=t-hostile")
    expect(page.get_by_text("Combined rating").first).to_be_visible()
    settle(page)
    heading = page.locator("h1").first
    expect(heading).to_be_visible()
    assert heading.inner_text().replace("\u2060", "") == HOSTILE_NAME
    main = page.get_by_test_id("stMain")
    assert HOSTILE_BIO in main.inner_text()
    # Nothing from the listing became an element: no script, image, or link it named.
    assert main.locator("script").count() == 0
    assert main.locator("img[src='x'], img[src*='evil']").count() == 0
    assert main.locator("a[href^='javascript'], a[href*='evil']").count() == 0
    shoot(page, "11-hostile-profile.png")
    open_tab(page, re.compile(r"^Reviews"))
    assert HOSTILE_REVIEW in main.inner_text()
    assert main.locator("a[href^='javascript'], img[src*='evil']").count() == 0
    shoot(page, "12-hostile-reviews.png")


def header_badges(page: Page) -> str:
    """The text of the profile header's badges (the first block of badges on the page)."""
    return page.get_by_test_id("stMarkdownContainer").filter(has_text="License").first.inner_text()


def test_verification_reads_plainly_in_the_browser(server: StreamlitServer, page: Page) -> None:
    """An NPI or a board certification alone, or an expired license, never reads "verified"."""
    page.goto(f"{server.url}/?near={SAN_ANTONIO_ZIP}&radius=5")
    settle(page)
    expect(page.get_by_text("Verified license only (1)")).to_be_visible()
    expect(page.get_by_text("NPI confirmed")).to_be_visible()
    expect(page.get_by_text("Board certified (BCTMB) \u2014 confirmed by registry")).to_be_visible()
    expect(page.get_by_text("License verified (TX)")).to_have_count(1)  # Lena Ortiz only
    shoot(page, "13-search-verification.png")
    for profile_id, shown in (
        ("t-patel", "NPI confirmed"),
        ("t-torres", "Board certified (BCTMB) \u2014 confirmed by registry"),
        ("t-chen", "License expired"),
    ):
        page.goto(f"{server.url}/profile?id={profile_id}")
        expect(page.get_by_text("Combined rating").first).to_be_visible()
        settle(page)
        badges = header_badges(page)
        assert shown in badges, (profile_id, badges)
        assert "verified" not in badges.casefold(), (profile_id, badges)
    shoot(page, "14-profile-expired-license.png")


def test_an_approximate_position_and_a_published_rating(
    server: StreamlitServer, page: Page
) -> None:
    page.goto(f"{server.url}/profile?id=t-garcia&near={ZIP}&radius=5")
    expect(page.get_by_text("Combined rating").first).to_be_visible()
    settle(page)
    expect(page.get_by_text("\u2248 3.3 mi")).to_be_visible()
    # Escaped text carries an invisible word joiner after the colon.
    expect(page.get_by_text(re.compile(r"\(approximate:\W*ZIP only\)"))).to_be_visible()
    expect(page.get_by_text("hollow: approximate position", exact=False)).to_be_visible()
    shoot(page, "15-profile-approximate.png")
    open_tab(page, re.compile(r"^Reviews"))
    ratings = page.get_by_test_id("stDataFrame").first
    expect(ratings).to_contain_text("4.5 from 40 (published by the site; no reviews shown here)")
    expect(page.get_by_text("Stars in the reviews shown here")).to_be_visible()
    shoot(page, "16-profile-published-rating.png")


def test_the_search_page_answers_within_a_second(
    crawled_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server-side time of a search interaction on the demo crawl's index."""
    from streamlit.testing.v1 import AppTest

    for name in ("TDIR_ES_URL", "TDIR_ES_INDEX", "TDIR_SQLITE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TDIR_HOME", str(crawled_home))
    monkeypatch.setenv("TDIR_BACKEND", "sqlite")
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["near"] = "Austin, TX"
    at.run()  # the first run imports and opens everything
    timings = {}
    for near in ("78704", "Houston, TX", "30.27,-97.74", "Seattle, WA"):
        at.text_input(key="s_near").input(near)
        started = time.perf_counter()
        at.run()
        timings[near] = time.perf_counter() - started
        assert not at.exception
    at.multiselect(key="s_modality").set_value([MODALITY_ID])
    started = time.perf_counter()
    at.run()
    timings["with a modality"] = time.perf_counter() - started
    assert max(timings.values()) < 1.0, timings


def test_readme_screenshots_search_with_map_and_reviews_side_by_side(
    server: StreamlitServer, crawled_home: Path, page: Page
) -> None:
    """The two pictures the README shows, taken from the demo crawl by this test."""
    code = zip_with_results(crawled_home)
    page.goto(f"{server.url}/?near={code}&radius=25")
    settle(page)
    expect(page.get_by_text(re.compile(r"therapists? within 25 mi of"))).to_be_visible()
    expect(page.get_by_test_id("stDeckGlJsonChart")).to_have_count(1)
    shoot(page, "readme-search.png")

    backend = SqliteBackend(crawled_home / "index.sqlite3")
    try:
        hits = backend.search(SearchQuery(sort="reviews", page_size=100)).hits
    finally:
        backend.close()
    profile_id = next(h.id for h in hits if len(h.profile.rating.by_source) >= 3)
    page.goto(f"{server.url}/profile?id={profile_id}")
    settle(page)
    open_tab(page, re.compile(r"^Reviews"))
    side_by_side = page.get_by_role("heading", name="Site by site")
    expect(side_by_side).to_be_visible()
    side_by_side.scroll_into_view_if_needed()
    shoot(page, "readme-profile-reviews.png")


def test_each_page_titles_its_tab_and_has_one_h1(server: StreamlitServer, page: Page) -> None:
    pages = {
        "/": ("Find a therapist · tdir", "Find a licensed massage or neuromuscular therapist"),
        "/compare": ("Compare therapists · tdir", "Compare therapists"),
        "/sign_in": ("Admin sign-in · tdir", "Admin"),
        "/profile?id=t-garcia": ("Maria Garcia, therapist · tdir", "Maria Garcia"),
    }
    for path, (title, h1) in pages.items():
        page.goto(server.url + path)
        expect(page.locator("h1")).to_have_text(h1)
        expect(page).to_have_title(title)
        expect(page.locator("h1")).to_have_count(1)


def active_label(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement?.getAttribute('aria-label') ?? null")


def test_the_keyboard_starts_in_where_and_a_phone_sees_results_first(
    server: StreamlitServer, browser: Browser
) -> None:
    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    desk.goto(server.url + "/")
    expect(desk.get_by_role("textbox", name="Where")).to_be_focused()
    desk.keyboard.type(ZIP)
    desk.keyboard.press("Enter")
    expect(desk.get_by_text(re.compile(r"therapists? within 25 mi of"))).to_be_visible()
    assert active_label(desk) == "Where"  # typing went into Where; nothing took the focus
    expect(desk.get_by_test_id("stSidebar")).to_be_in_viewport()  # the filters are open
    desk.context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(f"{server.url}/?near={ZIP}")
    expect(phone.get_by_text(re.compile(r"therapists? within 25 mi of"))).to_be_visible()
    # The filters wait behind their button; no field grabbed the keyboard (it would cover
    # the page); the first result comes before the map.
    expect(phone.get_by_test_id("stSidebar")).not_to_be_in_viewport()
    assert active_label(phone) != "Where"
    first_card = phone.get_by_role("button", name="Add to compare").first.bounding_box()
    the_map = phone.get_by_test_id("stDeckGlJsonChart").bounding_box()
    assert first_card is not None and the_map is not None
    assert first_card["y"] < the_map["y"]
    phone.context.close()


def test_use_my_location_searches_where_the_browser_is_with_consent(
    server: StreamlitServer, browser: Browser
) -> None:
    here = geocode_place(ZIP).point
    shared = browser.new_context(
        viewport={"width": 1440, "height": 900},
        geolocation={"latitude": here.lat, "longitude": here.lon},
        permissions=["geolocation"],
    )
    page = shared.new_page()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Use my location").click()
    expected = f"{round(here.lat, 3)},{round(here.lon, 3)}"
    expect(page.get_by_role("textbox", name="Where")).to_have_value(expected)
    expect(page.get_by_text(re.compile(r"therapists? within 25 mi of"))).to_be_visible()
    assert "near=" in page.url
    shared.close()

    refused = browser.new_context(viewport={"width": 1440, "height": 900})  # no permission
    page = refused.new_page()
    page.goto(server.url + "/")
    page.get_by_role("button", name="Use my location").click()
    expect(page.get_by_text("Location not shared: type a ZIP or a city instead.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Where")).to_have_value("")
    refused.close()
