"""Driving the search page in a real browser, one client step at a time, and checking what it
shows after every step.

``Journey`` wraps a Playwright page: each step (type a place, pick a technique, move the
rating slider, sort, page...) is timed from the moment it starts until the app's script run
has finished and the results are drawn, and after each the shown results are checked against
everything asked so far (``Asked``). The app's runs are followed on its own websocket
(``RUN_COUNTER``, see ``tests.support.browser.SCRIPT_RUNS``): a step counts the runs asked for
before it and waits until one asked for after that has finished and no other is pending.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.support.browser import SCRIPT_RUNS, run_requests, wait_for_runs

TIMEOUT_MS = 90_000  # a loaded machine once took longer than 5 s for one run
TERM_ID = re.compile(r"^[a-z][a-z0-9_]*$")
TECHNIQUE_LABELS = {"neuromuscular_therapy": "Neuromuscular therapy"}
SORT_LABELS = {
    "relevance": "Best match",
    "distance": "Distance",
    "rating": "Combined rating",
    "reviews": "Number of reviews",
}

# Follows the app's script runs; add it with ``add_init_script`` before the app loads.
RUN_COUNTER = SCRIPT_RUNS
CARDS_JS = """
() => Array.from(document.querySelectorAll('[data-testid="stMain"] h4')).map((h) => {
  // A card is the largest box around its name that holds no other name.
  let box = h;
  while (box.parentElement && box.parentElement.querySelectorAll('h4').length === 1) {
    box = box.parentElement;
  }
  const plain = (t) => t.replaceAll('\\u2060', '');
  return {name: plain(h.innerText).trim(), text: plain(box.innerText)};
})
"""
DISTANCE = re.compile(r"(?:≈\s*)?([\d,]+(?:\.\d+)?)\s*(mi|km)\s+away")
RATING = re.compile(r"(\d(?:\.\d+)?)\s*·\s*([\d,]+)\s+reviews?")
SUMMARY = re.compile(r"([\d,]+) therapists?(?: within ([\d.]+) (mi|km) of| — enter a)")


@dataclass(frozen=True)
class Card:
    """One result card as the browser shows it."""

    name: str
    text: str

    @property
    def distance(self) -> float | None:
        """The distance shown, in the search's unit."""
        found = DISTANCE.search(self.text)
        return float(found.group(1).replace(",", "")) if found else None

    @property
    def rating(self) -> float | None:
        """The combined rating shown (None for "No reviews yet")."""
        found = RATING.search(self.text)
        return float(found.group(1)) if found else None

    @property
    def reviews(self) -> int:
        """The review count shown (0 for "No reviews yet")."""
        found = RATING.search(self.text)
        return int(found.group(2).replace(",", "")) if found else 0


@dataclass(frozen=True)
class Asked:
    """Everything the client has asked for so far; every shown result must satisfy it."""

    near: str = ""
    radius: float = 25.0
    technique: str | None = None
    min_rating: float | None = None
    min_reviews: int | None = None
    sort: str = "relevance"
    page: int = 1


@dataclass
class Timings:
    """Each step's time from its start until its results were drawn, in seconds."""

    steps: list[tuple[str, float]] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        """Record one step."""
        self.steps.append((name, seconds))

    def summary(self) -> str:
        """ "n=…, p50=…, p95=…, max=…" over every step recorded."""
        values = sorted(s for _, s in self.steps)
        if not values:
            return "no interactions measured"
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        slowest = max(self.steps, key=lambda s: s[1])
        return (
            f"{len(values)} interactions: p50 {statistics.median(values):.2f} s, "
            f"p95 {p95:.2f} s, max {slowest[1]:.2f} s ({slowest[0]})"
        )


def headings(page: Page) -> list[str]:
    """The text of the main area's fourth-level headings (names on cards and in compare)."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=\"stMain\"] h4'))"
        ".map((h) => h.innerText.replaceAll('\\u2060', '').trim())"
    )


def runs(page: Page) -> int:
    """How many script runs the page has asked for (across its page loads)."""
    return run_requests(page)


def settle(page: Page, since: int) -> None:
    """Wait until a script run asked for after ``since`` runs (a :func:`runs` count taken
    before the step) has finished, no other is pending (a page switch runs the script twice),
    and the page shows its results (nothing left stale from an earlier run)."""
    wait_for_runs(page, since, timeout_ms=TIMEOUT_MS)


class Journey:
    """A client's way through the search page in one browser page."""

    def __init__(
        self, page: Page, base_url: str, timings: Timings, shots: Path, prefix: str
    ) -> None:
        self.page = page
        self.base_url = base_url
        self.timings = timings
        self.shots = shots
        self.prefix = prefix
        self.asked = Asked()
        self.shot_count = 0
        page.add_init_script(RUN_COUNTER)
        page.set_default_timeout(TIMEOUT_MS)

    # -- stepping ------------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], None]) -> float:
        """Do one interaction and wait for its results; returns (and records) its time."""
        since = runs(self.page)
        started = time.perf_counter()
        action()
        settle(self.page, since)
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0)
        took = time.perf_counter() - started
        self.timings.add(f"{self.prefix}: {name}", took)
        return took

    def shoot(self, name: str) -> None:
        """Save a screenshot of what the client sees now."""
        self.shots.mkdir(parents=True, exist_ok=True)
        self.shot_count += 1
        path = self.shots / f"{self.prefix}-{self.shot_count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)

    def open(self, url: str | None = None) -> None:
        """Open the search page (or a shared URL) and wait for its first run."""
        self.step("open", lambda: self.page.goto(url or self.base_url + "/"))

    # -- the filters live in the sidebar, folded away on a phone -------------------------------

    def filters_open(self) -> None:
        """Unfold the sidebar if it is folded."""
        expand = self.page.get_by_test_id("stExpandSidebarButton")
        if expand.count() and expand.is_visible():
            expand.click()
        expect(self.page.get_by_test_id("stSidebarContent")).to_be_visible()

    def filters_close_on_phone(self) -> None:
        """On a narrow screen the sidebar covers the results: fold it again."""
        if (self.page.viewport_size or {}).get("width", 1440) >= 640:
            return
        collapse = self.page.get_by_test_id("stSidebarCollapseButton")
        if collapse.count():
            collapse.first.click(force=True)
            # Folded once it has slid out of sight: until then it covers the results.
            expect(self.page.get_by_test_id("stSidebar")).not_to_be_in_viewport()

    # -- interactions --------------------------------------------------------------------

    def where(self, place: str) -> None:
        """Type a place and press Enter."""
        box = self.page.locator(".st-key-s_near input")

        def act() -> None:
            box.fill(place)
            box.press("Enter")

        self.step(f"where {place}", act)
        self.asked = replace(self.asked, near=place, page=1)

    def radius(self, miles: int) -> None:
        """Set "Within"."""
        box = self.page.locator(".st-key-s_radius input")

        def act() -> None:
            box.fill(str(miles))
            box.press("Enter")

        self.step(f"within {miles}", act)
        self.asked = replace(self.asked, radius=float(miles), page=1)

    def technique(self, term_id: str) -> None:
        """Pick a technique in the sidebar's filter by typing its name."""
        label = TECHNIQUE_LABELS[term_id]
        self.filters_open()
        box = self.page.locator(".st-key-s_modality")

        def act() -> None:
            box.click()
            box.locator("input").fill(label)
            self.page.get_by_role("option", name=re.compile(f"^{re.escape(label)}")).first.click()
            self.page.keyboard.press("Escape")

        self.step(f"technique {term_id}", act)
        self.filters_close_on_phone()
        self.asked = replace(self.asked, technique=term_id, page=1)

    def min_rating(self, target: float) -> None:
        """Set the rating slider to ``target``: a click on its track at that point, then
        arrow keys (each its own step) if the click landed a step or two off."""
        self.filters_open()
        slider = self.page.locator(".st-key-s_min_rating")
        # A react-aria slider: the track is the group's horizontal child, the thumb a
        # visually hidden range input.
        track = slider.locator("[role=group] > div[data-orientation=horizontal]")
        thumb = slider.locator("input[type=range]")

        def click_track() -> None:
            track.scroll_into_view_if_needed()
            box = track.bounding_box()
            assert box is not None
            track.click(position={"x": box["width"] * target / 5.0, "y": box["height"] / 2})

        self.step("rating slider", click_track)
        for _ in range(10):
            value = round(float(thumb.input_value() or 0), 1)
            if value == target:
                break
            key = "ArrowRight" if value < target else "ArrowLeft"
            self.step("rating slider key", lambda key=key: thumb.press(key))
        value = round(float(thumb.input_value() or 0), 1)
        assert value == target, value
        self.filters_close_on_phone()
        self.asked = replace(self.asked, min_rating=value or None, page=1)

    def more_reviews(self, times: int = 1) -> None:
        """Press the "+" of "Minimum number of reviews"."""
        self.filters_open()
        plus = self.page.locator(".st-key-s_min_reviews").get_by_test_id("stNumberInputStepUp")
        for _ in range(times):
            self.step("reviews +", plus.click)
        value = int(self.page.locator(".st-key-s_min_reviews input").input_value() or 0)
        self.filters_close_on_phone()
        self.asked = replace(self.asked, min_reviews=value or None, page=1)

    def sort(self, key: str) -> None:
        """Choose an order in "Sort by"."""
        box = self.page.get_by_role("combobox", name="Sort by")

        def act() -> None:
            box.scroll_into_view_if_needed()
            box.click()
            self.page.get_by_role("option", name=SORT_LABELS[key], exact=True).click()

        self.step(f"sort {key}", act)
        self.asked = replace(self.asked, sort=key, page=1)

    def clear_filters(self) -> None:
        """Press "Clear filters"."""
        self.filters_open()
        self.step("clear filters", self.page.locator(".st-key-s_clear button").click)
        self.filters_close_on_phone()
        self.asked = replace(self.asked, technique=None, min_rating=None, min_reviews=None, page=1)

    def turn(self, key: str, page_number: int) -> None:
        """Press a pager button ("page_next", "page_prev", "page_3")."""
        button = self.page.locator(f".st-key-{key} button[data-testid^=stBaseButton]").first

        def act() -> None:
            button.scroll_into_view_if_needed()
            button.click()

        self.step(f"pager {key}", act)
        self.asked = replace(self.asked, page=page_number)

    # -- what the page shows -------------------------------------------------------------

    def cards(self) -> list[Card]:
        """The result cards, in order (once each is drawn whole, its profile link included)."""
        self.page.wait_for_function(
            f"() => ({CARDS_JS})().every((card) => card.text.includes('View profile'))",
            timeout=TIMEOUT_MS,
        )
        return [Card(**c) for c in self.page.evaluate(CARDS_JS)]

    def total(self) -> int:
        """The number of results the summary line states."""
        text = self.page.get_by_test_id("stMain").inner_text()
        found = SUMMARY.search(text)
        assert found, text[:500]
        return int(found.group(1).replace(",", ""))

    def check(self) -> list[Card]:
        """Check the page against everything asked so far; return the cards shown."""
        page, asked = self.page, self.asked
        assert page.get_by_test_id("stException").count() == 0
        alerts = page.locator("[role=alert]")
        assert alerts.count() == 0, alerts.all_inner_texts()
        cards = self.cards()
        assert cards, page.get_by_test_id("stMain").inner_text()[:500]
        total = self.total()
        assert len(cards) == min(20, total - 20 * (asked.page - 1)), (len(cards), total)
        for card in cards:
            if asked.near:
                assert card.distance is not None, card
                assert card.distance <= asked.radius, (card.name, card.distance, asked.radius)
            if asked.technique:
                label = TECHNIQUE_LABELS[asked.technique]
                assert label in card.text, (card.name, card.text)
            if asked.min_rating:
                assert card.rating is not None and card.rating >= asked.min_rating - 0.005, card
            if asked.min_reviews:
                assert card.reviews >= asked.min_reviews, card
        self.check_order(cards)
        self.check_url()
        return cards

    def check_order(self, cards: list[Card]) -> None:
        """The cards are in the order asked for."""
        sort = self.asked.sort
        if sort == "distance" and self.asked.near:
            values = [c.distance or 0.0 for c in cards]
            assert all(a <= b + 0.05 for a, b in itertools.pairwise(values)), (
                values,
                self.page.url,
                [c.text for c in cards[:6]],
            )
        elif sort == "rating":
            ratings = [c.rating or 0.0 for c in cards]
            assert all(a >= b - 0.005 for a, b in itertools.pairwise(ratings)), ratings
        elif sort == "reviews":
            counts = [c.reviews for c in cards]
            assert counts == sorted(counts, reverse=True), counts

    def check_url(self) -> None:
        """The URL holds the search, as ids and numbers only."""
        params = parse_qs(urlparse(self.page.url).query)
        asked = self.asked
        for key in ("modality", "condition", "credential", "sort"):
            for value in params.get(key, []):
                assert TERM_ID.match(value), (key, value, self.page.url)
        assert params.get("modality", []) == ([asked.technique] if asked.technique else [])
        assert params.get("near", [""])[0] == asked.near
        if asked.radius != 25.0:
            assert float(params["radius"][0]) == asked.radius
        assert params.get("sort", ["relevance"])[0] == asked.sort
        if asked.page > 1:
            assert params["page"] == [str(asked.page)] and params["cursor"]
        else:
            assert "page" not in params and "cursor" not in params

    def results_top_in_view(self) -> bool:
        """Whether the top of the results is on screen."""
        top = self.page.evaluate(
            "() => document.getElementById('tdir-results-top')?.getBoundingClientRect().top ?? null"
        )
        height = (self.page.viewport_size or {}).get("height", 900)
        return top is not None and -10 <= top <= height / 2
