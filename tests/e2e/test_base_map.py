"""The offline base map in a real headless Chromium: land, state and county lines and town
names drawn beneath the pins, with nothing fetched from anywhere but the dashboard itself.

``streamlit run dashboard/app.py`` runs against an index of the hand-written test directory
(``tests/e2e/dashboard_world.py``: therapists around ZIP 78704 in Austin, TX, one of them also
in Waco). Screenshots of the maps are saved under ``test-artifacts/base-map/``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from dashboard.maps import LAND_FILL
from indexer.search.sqlite_backend import SqliteBackend
from tests.e2e.dashboard_world import ZIP, profiles
from tests.e2e.journey import RUN_COUNTER, TIMEOUT_MS, runs, settle
from tests.support.browser import (
    ROOT,
    StreamlitServer,
    streamlit_server,
)

ARTIFACTS = ROOT / "test-artifacts" / "base-map"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
# Before there was a base map, all a map showed off its pins and the searched circle was the
# page's white: a third of the picture in the land's colour, and lines and names in grey, can
# only come from the base map.
MIN_LAND_SHARE = 0.30
MIN_GREY_PIXELS = 400
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose index holds the hand-written test directory."""
    home = tmp_path_factory.mktemp("base-map")
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
    env.update(TDIR_HOME=str(home), TDIR_BACKEND="sqlite")
    with streamlit_server(env, ARTIFACTS / "streamlit.log", timeout=120) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.add_init_script(RUN_COUNTER)
    yield opened
    context.close()


def is_foreign(url: str) -> bool:
    """Whether a request leaves this machine, other than for Streamlit's Material icons (which
    it fetches for the page's own icons, whatever the map does)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https", "ws", "wss"} or parts.hostname in LOOPBACK:
        return False
    return not (parts.hostname == "fonts.gstatic.com" and "/materialsymbols" in parts.path)


def foreign_requests(page: Page) -> list[str]:
    """Collect (from now on) every request that leaves this machine."""
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if is_foreign(request.url) else None
    )
    return seen


def open_page(page: Page, url: str) -> None:
    since = runs(page)
    page.goto(url)
    settle(page, since)


def land_share(picture: Image.Image) -> float:
    pixels = np.asarray(picture.convert("RGB"), dtype=np.int16)
    land = (np.abs(pixels - np.array(LAND_FILL[:3], dtype=np.int16)) <= 3).all(axis=2)
    return float(land.mean())


def grey_pixels(picture: Image.Image) -> int:
    """Dark, colourless pixels: state lines, town dots and names (the pins are green or blue)."""
    pixels = np.asarray(picture.convert("RGB"), dtype=np.int16)
    brightest, dimmest = pixels.max(axis=2), pixels.min(axis=2)
    return int(((brightest < 170) & (brightest - dimmest < 40)).sum())


def drawn_map(chart: Locator, page: Page) -> Image.Image:
    """The map as drawn, once deck.gl has drawn the land (it draws after the script's run)."""
    deadline = TIMEOUT_MS / 1000
    waited = 0.0
    while True:
        picture = Image.open(io.BytesIO(chart.screenshot()))
        if land_share(picture) >= MIN_LAND_SHARE or waited >= deadline:
            return picture
        page.wait_for_timeout(250)
        waited += 0.25


def save(picture: Image.Image, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture.save(ARTIFACTS / name)


def test_the_search_map_has_land_lines_and_names_beneath_the_pins(
    server: StreamlitServer, page: Page
) -> None:
    outside = foreign_requests(page)
    open_page(page, f"{server.url}/?near={ZIP}&radius=25")
    expect(page.get_by_text("within 25 mi of 78704")).to_be_visible()
    chart = page.get_by_test_id("stDeckGlJsonChart")
    expect(chart).to_have_count(1)
    picture = drawn_map(chart, page)
    save(picture, "search-78704.png")
    page.screenshot(path=str(ARTIFACTS / "search-78704-page.png"))
    assert land_share(picture) >= MIN_LAND_SHARE
    assert grey_pixels(picture) >= MIN_GREY_PIXELS
    assert outside == []


def test_the_profile_map_has_the_base_map_too(server: StreamlitServer, page: Page) -> None:
    outside = foreign_requests(page)
    open_page(page, f"{server.url}/profile?id=t-doe")
    chart = page.get_by_test_id("stDeckGlJsonChart")
    expect(chart).to_have_count(1)
    chart.scroll_into_view_if_needed()
    picture = drawn_map(chart, page)
    save(picture, "profile-t-doe.png")
    assert land_share(picture) >= MIN_LAND_SHARE
    assert grey_pixels(picture) >= MIN_GREY_PIXELS
    assert outside == []
