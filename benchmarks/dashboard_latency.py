"""Benchmark: the search page in a real browser at 100,000 profiles, interaction by interaction.

The dashboard runs (``streamlit run``) on the embedded index of N synthetic profiles that
``benchmarks.search_latency`` builds and caches, and headless Chromium plays a client's
search several times over: open a metro's ZIP, go to the next page, choose a
technique, keep verified licenses only, narrow the radius, clear the filters. For each
interaction it records

- **server time**: the seconds the dashboard's script runs caused by the interaction took on
  the server, as the dashboard logs them (``TDIR_DASHBOARD_TIMINGS``, see
  ``dashboard/run_timings.py``);
- **drawn**: from the action to the page showing the results, idle, in the browser.

It prints p50/p95 of both, per interaction and overall::

    .venv/bin/python -m benchmarks.dashboard_latency --profiles 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from benchmarks.search_latency import build_index, percentile
from indexer.taxonomy import load_taxonomy
from tests.support.browser import (
    CHROMIUM_ARGS,
    SCRIPT_RUNS,
    ensure_chromium,
    run_requests,
    streamlit_server,
    wait_for_runs,
)

TIMEOUT_MS = 120_000
PLACES = ("10001", "60601", "77002", "90012", "75201")  # New York, Chicago, Houston, LA, Dallas


def interactions(page: Page) -> list[tuple[str, Callable[[], None]]]:
    """The client's steps after the page has opened on a place, in order."""
    sidebar = page.get_by_test_id("stSidebar")

    def radius() -> None:
        within = page.get_by_role("spinbutton", name="Within")
        within.fill("10")
        within.press("Enter")

    def technique() -> None:
        chooser = sidebar.get_by_test_id("stMultiSelect").first
        chooser.click()
        # The most common technique near the place: the first option with a count (the list
        # may begin with a "select all" entry).
        page.get_by_role("option").filter(has_text=re.compile(r"\([\d,]+\)$")).first.click()
        page.keyboard.press("Escape")

    def verified() -> None:
        sidebar.get_by_role("switch", name=re.compile("^Verified license only")).press("Space")

    def next_page() -> None:
        page.get_by_role("button", name=re.compile("Next$")).first.click()

    def clear() -> None:
        sidebar.get_by_role("button", name="Clear filters").click()

    return [
        ("next page", next_page),
        ("technique", technique),
        ("verified", verified),
        ("radius", radius),
        ("clear filters", clear),
    ]


class ServerLog:
    """The dashboard's log of its script runs (one JSON line each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = 0

    def since_last(self) -> float:
        """Milliseconds of server time of the runs logged since the last call."""
        if not self.path.exists():
            return 0.0
        lines = self.path.read_text(encoding="utf-8").splitlines()
        new, self.seen = lines[self.seen :], len(lines)
        return sum(json.loads(line)["seconds"] for line in new) * 1000


def timed_step(page: Page, log: ServerLog, action: Callable[[], None]) -> tuple[float, float]:
    """Run one interaction; its server time and the time until the page was drawn, in ms."""
    before = run_requests(page)
    log.since_last()
    started = time.perf_counter()
    action()
    wait_for_runs(page, before, timeout_ms=TIMEOUT_MS)
    drawn = (time.perf_counter() - started) * 1000
    return log.since_last(), drawn


def play(url: str, rounds: int, log: ServerLog) -> dict[str, list[tuple[float, float]]]:
    """Every interaction's (server, drawn) times over the rounds."""
    times: dict[str, list[tuple[float, float]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(ensure_chromium()), args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(SCRIPT_RUNS)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        # The server's first page after it starts imports the map's libraries and reads the
        # base map: a once-per-process cost, reported apart from the interactions.
        started = time.perf_counter()
        page.goto(f"{url}/?near={PLACES[-1]}&radius=25")
        wait_for_runs(page, 0, timeout_ms=TIMEOUT_MS)
        cold = (log.since_last(), (time.perf_counter() - started) * 1000)
        times["(server's first page)"] = [cold]
        for place in (PLACES * rounds)[:rounds]:
            before = run_requests(page)
            log.since_last()
            started = time.perf_counter()
            page.goto(f"{url}/?near={place}&radius=25")
            wait_for_runs(page, before, timeout_ms=TIMEOUT_MS)
            opened = (log.since_last(), (time.perf_counter() - started) * 1000)
            times.setdefault("open a place", []).append(opened)
            page.get_by_text(re.compile(r"therapists? within 25 mi of")).wait_for()
            for name, action in interactions(page):
                times.setdefault(name, []).append(timed_step(page, log, action))
        browser.close()
    return times


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    header = ("interaction", "n", "server p50", "p95", "drawn p50", "p95")
    print("{:<16} {:>3} {:>10} {:>7} {:>10} {:>7}".format(*header))
    every: list[tuple[float, float]] = []
    for name, pairs in times.items():
        if not name.startswith("("):
            every += pairs
        server, drawn = [p[0] for p in pairs], [p[1] for p in pairs]
        print(
            f"{name:<16} {len(pairs):>3} {statistics.median(server):>10.0f} "
            f"{percentile(server, 0.95):>7.0f} {statistics.median(drawn):>10.0f} "
            f"{percentile(drawn, 0.95):>7.0f}"
        )
    server, drawn = [p[0] for p in every], [p[1] for p in every]
    print(
        f"{'all':<16} {len(every):>3} {statistics.median(server):>10.0f} "
        f"{percentile(server, 0.95):>7.0f} {statistics.median(drawn):>10.0f} "
        f"{percentile(drawn, 0.95):>7.0f}   (ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    index = build_index(args.profiles, 0, load_taxonomy()).resolve()
    with tempfile.TemporaryDirectory(prefix="tdir-dash-") as scratch:
        home = Path(scratch)
        (home / "index.sqlite3").symlink_to(index)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TDIR_", "STREAMLIT_"))}
        timings = home / "timings.jsonl"
        env.update(TDIR_HOME=str(home), TDIR_BACKEND="sqlite", TDIR_DASHBOARD_TIMINGS=str(timings))
        with streamlit_server(env, home / "streamlit.log") as server:
            print(f"dashboard on {args.profiles:,} profiles ({index.name}), {args.rounds} rounds")
            report(play(server.url, args.rounds, ServerLog(timings)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
