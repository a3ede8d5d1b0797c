"""Chaos: a crawl of a misbehaving web loses nothing for good, and says what went wrong.

Every source of the demo catalog is crawled while the demo web answers 10% of requests with a
server error, stalls 5% past the crawl's timeout, cuts 5% short (half with a Content-Length to
match), resets 2% after the headers and grows an endless calendar. Then the web heals, on the
same URLs, and everything is crawled again. Judged against the ground truth:

- every fault that outlasted the crawl's retries is counted in ``run.json`` by kind;
- the calendar is left and named as a suspected trap;
- after the healthy recrawl every published listing is current, once, and none is vanished.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import DemoWeb, FaultPlan, GroundTruth, generate_world
from crawler.runs import CrawlStore, RunRecord
from indexer.snapshots import load_snapshot
from tests.crawling import run_tdir
from tests.support.fault_log import failed_for_good

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

FAULTS = "5xx=0.1,stall=0.05:8s,truncate=0.05,reset=0.02,trap=calendar"
SEED = 7
# Long enough that a healthy page on a loaded machine is never taken for a stall.
CRAWL_TIMEOUT = "5"
DIRECTORIES = ("atlas", "guild", "pages", "reviews")


def crawl_all(home: Path, sites: Path) -> dict[str, RunRecord]:
    done = run_tdir(
        home,
        "crawl",
        "--all",
        "--sites",
        str(sites),
        "--no-delay",
        "--json",
        timeout=600,
        TDIR_CRAWL_TIMEOUT=CRAWL_TIMEOUT,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return {r["source"]: RunRecord.from_dict(r) for r in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    world = tmp_path_factory.mktemp("chaos-world")
    generate_world(world, seed=3, therapists=60)
    home = tmp_path_factory.mktemp("chaos-home")
    log = home / "requests.jsonl"
    with DemoWeb.start(
        world,
        faults=FaultPlan.parse(FAULTS, seed=SEED),
        request_log=log,
        manifest=home / "sites.json",
    ) as web:
        faulty = crawl_all(home, home / "sites.json")
        faulty_log = [json.loads(line) for line in log.read_text().splitlines()]
        web.heal()
        healthy = crawl_all(home, home / "sites.json")
        urls = dict(web.urls)
    return {
        "home": home,
        "truth": GroundTruth(world),
        "faulty": faulty,
        "healthy": healthy,
        "log": faulty_log,
        "urls": urls,
    }


def test_the_web_really_misbehaved(chaos: dict[str, Any]) -> None:
    faults = Counter(entry["fault"] for entry in chaos["log"] if entry["fault"])
    assert set(faults) == {"5xx", "stall", "truncate", "reset"}
    assert any(entry["path"].startswith("/calendar/") for entry in chaos["log"])


def test_every_fault_that_outlasted_the_retries_is_counted_by_kind(chaos: dict[str, Any]) -> None:
    counted: Counter[str] = Counter()
    for run in chaos["faulty"].values():
        counted.update(
            {k: v for k, v in run.errors.items() if k.startswith(("http/", "download/"))}
        )
    expected = failed_for_good(chaos["log"])
    assert expected, "no request failed for good: the plan is too mild to test anything"
    assert dict(counted) == dict(expected)


def test_the_calendar_is_left_and_named_as_a_trap(chaos: dict[str, Any]) -> None:
    calendar = Counter(
        entry["site"] for entry in chaos["log"] if entry["path"].startswith("/calendar/")
    )
    runs = chaos["faulty"].items()
    suspected = {source: run.suspected_traps for source, run in runs if run.suspected_traps}
    assert suspected, "a crawl that walked the calendar did not report it"
    for source, traps in suspected.items():
        assert all(template.startswith("/calendar/") for template in traps)
        assert sum(traps.values()) <= calendar[source]
    # The budget (100 pages per template) bounds what the trap costs, with what was queued.
    assert max(calendar.values()) <= 3 * 100


def test_after_the_healthy_recrawl_every_listing_is_current_once(chaos: dict[str, Any]) -> None:
    store = CrawlStore(chaos["home"])
    truth: GroundTruth = chaos["truth"]
    for source in DIRECTORIES:
        assert chaos["healthy"][source].status == "finished"
        snapshot = load_snapshot(store, source)
        base = chaos["urls"][source]
        current = [
            listing.source_ref.removeprefix(base)
            for listing_id, listing in snapshot.listings.items()
            if listing_id not in snapshot.vanished
        ]
        published = {item["path"] for _, item in truth.listings(source)}
        assert len(current) == len(set(current)), f"{source}: a listing twice"
        assert set(current) == published, f"{source}: missing {sorted(published - set(current))}"
        assert not snapshot.vanished, f"{source}: listings wrongly vanished"


def test_the_healthy_recrawl_gathers_what_a_crawl_of_a_healthy_web_does(
    chaos: dict[str, Any],
) -> None:
    truth: GroundTruth = chaos["truth"]
    for source in DIRECTORIES:
        run = chaos["healthy"][source]
        published = truth.summary["sites"][source]
        assert run.items.get("listing") == published["listings"], source
