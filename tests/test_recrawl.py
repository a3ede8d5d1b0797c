"""Recrawls over real HTTP: what each run changed, and the incremental index that follows.

One small demo world is served on fixed loopback ports, crawled (atlas, guild, reviews) and
indexed, then recrawled unchanged. It is then mutated (time passes: therapists move, retire,
collect reviews, newcomers list themselves) and the mutated world is served on the same ports, so
every listing keeps its URL and id. A polite recrawl of one source is stopped midway, and the full
recrawl after it (which resumes that run) goes through the mutated sites; the index follows.

The tests build on each other in file order (module-scoped fixtures). Expected values come from
the worlds' ground truth and the mutation's ``changes.json``, and from comparing the records the
runs wrote, never from the counts under test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import (
    SITE_NAMES,
    DemoWeb,
    GroundTruth,
    generate_world,
    mutate,
    open_world,
)
from crawler.demoweb.mutation import CHANGES_NAME
from crawler.runs import CrawlStore, RunRecord, record_fingerprint
from indexer.evaluate import listing_key
from indexer.geo import distance_km
from tests.crawling import crawl, run_tdir
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SOURCES = ("atlas", "guild", "reviews")
WORLD_SEED = 7
THERAPISTS = 120
MUTATION_SEED = 3

Key = tuple[str, str]  # (site, path and query) as the ground truth names a page


# -- the demo web on ports that stay the same across worlds -----------------------------------


class Web:
    """The demo web on one base port; serving another world keeps every site's URL."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.manifest = logs / "sites.json"
        self.base_port = 0
        self.current: DemoWeb | None = None

    def serve(self, world: Path) -> DemoWeb:
        """Stop the world being served, if any, and serve ``world`` on the same ports."""
        log = self.logs / f"requests-{world.name}.jsonl"
        if self.current is not None:
            self.current.stop()
            self.current = DemoWeb.start(
                open_world(world), base_port=self.base_port, request_log=log, manifest=self.manifest
            )
            return self.current
        # The first world picks a free block of ports; the next ones reuse it.
        for _ in range(30):
            base = random.randrange(20000, 60000 - len(SITE_NAMES))  # site k: base + k
            try:
                self.current = DemoWeb.start(
                    open_world(world), base_port=base, request_log=log, manifest=self.manifest
                )
            except OSError:
                continue
            self.base_port = base
            return self.current
        raise RuntimeError("no free block of loopback ports for the demo web")

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


@dataclass
class Worlds:
    before: Path
    after: Path
    changes: dict[str, list[int]]  # changes.json: kind -> person ids

    @property
    def touched(self) -> set[int]:
        """Every person the mutation changed in any way."""
        return {pid for ids in self.changes.values() for pid in ids}


@dataclass
class Phase:
    """One crawl of the sources and the ``tdir index`` after it."""

    runs: dict[str, RunRecord]
    index: dict[str, Any]  # tdir index --json
    stored_before: dict[str, dict[str, Any]]  # the index's profiles before this phase's write
    stored: dict[str, dict[str, Any]]  # ... and after it
    crawl_output: str = ""


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Worlds:
    root = tmp_path_factory.mktemp("recrawl-worlds")
    generate_world(root / "g0", seed=WORLD_SEED, therapists=THERAPISTS)
    mutate(root / "g0", root / "g1", seed=MUTATION_SEED)
    changes = json.loads((root / "g1" / CHANGES_NAME).read_text(encoding="utf-8"))["changes"]
    return Worlds(root / "g0", root / "g1", changes)


@pytest.fixture(scope="module")
def web(worlds: Worlds, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    served = Web(tmp_path_factory.mktemp("recrawl-web"))
    served.serve(worlds.before)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recrawl-home")


@pytest.fixture(scope="module")
def store(home: Path) -> CrawlStore:
    return CrawlStore(home)


def stored_profiles(home: Path) -> dict[str, dict[str, Any]]:
    """Every profile in the embedded index, as written."""
    path = home / "index.sqlite3"
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT profile FROM profiles").fetchall()
    finally:
        conn.close()
    return {p["id"]: p for p in (json.loads(r[0]) for r in rows)}


def index(home: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Run ``tdir index --json``; return its summary and the profiles stored before it."""
    before = stored_profiles(home)
    done = run_tdir(home, "index", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), before


@pytest.fixture(scope="module")
def first(web: Web, home: Path) -> Phase:
    runs = {r.source: r for r in crawl(home, web.manifest, *SOURCES)}
    summary, before = index(home)
    return Phase(runs, summary, before, stored_profiles(home))


@pytest.fixture(scope="module")
def unchanged(first: Phase, web: Web, home: Path, store: CrawlStore) -> Phase:
    # Without --json: the summary table people read is checked too.
    done = run_tdir(home, "crawl", *SOURCES, "--sites", str(web.manifest), "--no-delay")
    assert done.returncode == 0, done.stderr
    runs = {s: store.runs(s)[-1] for s in SOURCES}
    summary, before = index(home)
    return Phase(runs, summary, before, stored_profiles(home), crawl_output=done.stdout)


def profile_requests(log: Path) -> int:
    """How many requests for atlas profile pages the demo web has logged."""
    if not log.exists():
        return 0
    with log.open(encoding="utf-8") as lines:
        return sum(
            1
            for line in lines
            if line.endswith("\n")  # a line still being written is counted next time
            and (entry := json.loads(line))["site"] == "atlas"
            and entry["path"].startswith("/therapist/")
        )


def wait_for_profile_requests(process: subprocess.Popen, log: Path, count: int) -> None:
    """Wait until the demo web logged ``count`` requests for atlas profile pages, while the
    crawl ``process`` runs."""

    def enough() -> bool:
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"the crawl ended ({process.returncode}) too early:\n{err}")
        return profile_requests(log) >= count

    wait_until(
        enough, timeout=180, interval=0.2, message=f"{count} requests for atlas profile pages"
    )


@pytest.fixture(scope="module")
def interrupted(unchanged: Phase, worlds: Worlds, web: Web, home: Path) -> RunRecord:
    """A polite atlas recrawl of the mutated web, stopped with SIGTERM after a few profiles."""
    served = web.serve(worlds.after)
    assert served.log.path is not None
    environment = {**os.environ, "TDIR_HOME": str(home)}
    environment.pop("TDIR_ES_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tdir.cli",
            "crawl",
            "atlas",
            "--sites",
            str(web.manifest),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        wait_for_profile_requests(process, served.log.path, 3)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err  # not complete
    [record] = [RunRecord.from_dict(r) for r in json.loads(out)]
    return record


@pytest.fixture(scope="module")
def mutated(interrupted: RunRecord, web: Web, home: Path) -> Phase:
    runs = {r.source: r for r in crawl(home, web.manifest, *SOURCES)}
    summary, before = index(home)
    return Phase(runs, summary, before, stored_profiles(home))


# -- what the runs wrote, compared by the test -------------------------------------------------


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without when it was fetched and the hash of its whole page."""
    provenance = {
        k: v for k, v in record["provenance"].items() if k not in ("fetched_at", "content_hash")
    }
    return {**record, "provenance": provenance}


@dataclass
class Diff:
    """Record ids of one type by what happened to them between two runs."""

    new: set[str]
    changed: set[str]
    unchanged: set[str]
    vanished: set[str]
    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "vanished": len(self.vanished),
        }

    def key(self, record_id: str) -> Key:
        record = self.after.get(record_id) or self.before[record_id]
        return listing_key(record["provenance"]["source"], record["provenance"]["url"])


def diff(store: CrawlStore, source: str, before: str, after: str, kind: str) -> Diff:
    old = {r["id"]: r for r in store.records(source, before) if r["record_type"] == kind}
    new = {r["id"]: r for r in store.records(source, after) if r["record_type"] == kind}
    both = old.keys() & new.keys()
    changed = {i for i in both if comparable(old[i]) != comparable(new[i])}
    return Diff(
        new=set(new) - set(old),
        changed=changed,
        unchanged=both - changed,
        vanished=set(old) - set(new),
        before=old,
        after=new,
    )


@pytest.fixture(scope="module")
def diffs(mutated: Phase, unchanged: Phase, store: CrawlStore) -> dict[tuple[str, str], Diff]:
    """(source, record type) -> what the mutated recrawl changed against the unchanged one."""
    return {
        (source, kind): diff(
            store, source, unchanged.runs[source].run_id, mutated.runs[source].run_id, kind
        )
        for source in SOURCES
        for kind in ("listing", "review")
    }


# -- the ground truth --------------------------------------------------------------------------


def truth_listings(world: Path) -> dict[Key, tuple[int, dict[str, Any]]]:
    """(site, path) -> (person, listing) for every listing on the crawled sites."""
    truth = GroundTruth(world)
    return {
        (item["site"], item["path"]): (person["person"], item)
        for person, item in truth.listings()
        if item["site"] in SOURCES
    }


def people(world: Path) -> dict[int, dict[str, Any]]:
    return {p["person"]: p for p in GroundTruth(world).people()}


@pytest.fixture(scope="module")
def listed(worlds: Worlds) -> tuple[dict[Key, Any], dict[Key, Any]]:
    """The crawled sites' listings before and after the mutation."""
    return truth_listings(worlds.before), truth_listings(worlds.after)


def profiles_of(profiles: dict[str, dict[str, Any]], keys: set[Key]) -> dict[str, dict[str, Any]]:
    """The profiles holding a listing at one of ``keys``."""
    return {
        pid: p
        for pid, p in profiles.items()
        if any(listing_key(item["source"], item["url"]) in keys for item in p["listings"])
    }


def search(home: Path, lat: float, lon: float, radius: str) -> set[str]:
    """The profile ids ``tdir search`` finds around a point (one page of 100)."""
    done = run_tdir(
        home, "search", "--near", f"{lat},{lon}", "--radius", radius, "--limit", "100", "--json"
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["total"] <= 100
    return {hit["id"] for hit in found["hits"]}


# -- an unchanged recrawl ---------------------------------------------------------------------


def test_an_unchanged_recrawl_finds_nothing_new_changed_or_vanished(
    first: Phase, unchanged: Phase
) -> None:
    for source in SOURCES:
        before, after = first.runs[source], unchanged.runs[source]
        assert after.status == "finished", after
        assert after.items == before.items
        assert after.compared_with == before.run_id
        assert after.changes == {
            kind: {"new": 0, "changed": 0, "unchanged": count, "vanished": 0}
            for kind, count in before.items.items()
        }
        # the first run had nothing to compare with: everything was new
        assert before.compared_with is None
        assert before.change_totals() == {
            "new": sum(before.items.values()),
            "changed": 0,
            "unchanged": 0,
            "vanished": 0,
        }


def test_the_crawl_summary_table_shows_the_change_counts(unchanged: Phase) -> None:
    lines = unchanged.crawl_output.splitlines()
    assert lines[0].split()[-4:] == ["new", "changed", "same", "gone"]
    for source in SOURCES:
        [row] = [line for line in lines if line.split()[0] == source]
        same = sum(unchanged.runs[source].items.values())
        assert row.split()[-4:] == ["0", "0", str(same), "0"]


def test_an_unchanged_recrawl_costs_a_fraction_of_the_bytes(first: Phase, unchanged: Phase) -> None:
    print()
    for source in SOURCES:
        before, after = first.runs[source], unchanged.runs[source]
        print(
            f"{source:<8} first crawl {before.bytes:>9,} bytes, {before.pages} pages; "
            f"unchanged recrawl {after.bytes:>7,} bytes, {after.not_modified} of {after.pages} "
            f"pages not modified ({before.bytes / after.bytes:.1f}x fewer bytes)"
        )
        assert before.not_modified == 0
        assert after.not_modified == after.pages == before.pages
        assert after.bytes * 5 < before.bytes
    total_first = sum(first.runs[s].bytes for s in SOURCES)
    total_again = sum(unchanged.runs[s].bytes for s in SOURCES)
    print(f"all      first crawl {total_first:,} bytes; unchanged recrawl {total_again:,} bytes")
    assert total_again * 10 < total_first


def test_indexing_after_an_unchanged_recrawl_writes_nothing(first: Phase, unchanged: Phase) -> None:
    assert first.index["rebuilt"] is True
    assert first.index["written"] == first.index["profiles"] > 100
    summary = unchanged.index
    assert (summary["written"], summary["deleted"]) == (0, 0)
    assert summary["unchanged"] == summary["profiles"] == first.index["profiles"]
    # not one stored profile was touched, not even its last-seen dates
    assert unchanged.stored == unchanged.stored_before == first.stored


# -- a recrawl of a mutated web ---------------------------------------------------------------


def test_an_interrupted_recrawl_reports_nothing_vanished(
    interrupted: RunRecord, unchanged: Phase, listed: tuple[dict[Key, Any], dict[Key, Any]]
) -> None:
    assert interrupted.status == "interrupted"
    _, after = listed
    on_atlas = sum(1 for site, _ in after if site == "atlas")
    assert 0 < interrupted.items.get("listing", 0) < on_atlas
    assert interrupted.compared_with == unchanged.runs["atlas"].run_id
    assert interrupted.changes is not None
    for kind, counts in interrupted.changes.items():
        # most of the previous run's records were not reached, yet none is called vanished
        assert counts["vanished"] == 0, kind
        assert counts["new"] + counts["changed"] + counts["unchanged"] == interrupted.items.get(
            kind, 0
        )


def test_the_run_records_count_what_the_runs_wrote(
    mutated: Phase, unchanged: Phase, interrupted: RunRecord, diffs: dict[tuple[str, str], Diff]
) -> None:
    atlas = mutated.runs["atlas"]
    assert (atlas.run_id, atlas.resumed) == (interrupted.run_id, True)
    for source in SOURCES:
        run = mutated.runs[source]
        assert run.status == "finished", run
        assert run.compared_with == unchanged.runs[source].run_id
        assert run.changes is not None
        for kind in ("listing", "review"):
            assert run.changes[kind] == diffs[source, kind].counts(), (source, kind)
    print()
    for source in SOURCES:
        print(f"{source:<8} {mutated.runs[source].changes}")


def test_every_run_index_is_the_one_its_records_give(mutated: Phase, store: CrawlStore) -> None:
    runs = [run for source in SOURCES for run in store.runs(source)]
    assert len(runs) == 3 * len(SOURCES)  # first, unchanged, mutated (atlas: resumed)
    for run in runs:
        assert store.index_path(run.source, run.run_id).exists()
        from_records: dict[str, dict[str, str]] = {}
        for data in store.records(run.source, run.run_id):
            from_records.setdefault(data["record_type"], {})[data["id"]] = record_fingerprint(data)
        assert store.read_index(run.source, run.run_id) == from_records, run.run_id


def test_new_and_vanished_listings_are_those_the_sites_added_and_removed(
    worlds: Worlds,
    diffs: dict[tuple[str, str], Diff],
    listed: tuple[dict[Key, Any], dict[Key, Any]],
) -> None:
    before, after = listed
    added = set(after) - set(before)
    removed = set(before) - set(after)
    assert added and removed, "the mutation adds and removes listings on the crawled sites"
    found_new = {diffs[s, "listing"].key(i) for s in SOURCES for i in diffs[s, "listing"].new}
    found_gone = {diffs[s, "listing"].key(i) for s in SOURCES for i in diffs[s, "listing"].vanished}
    assert found_new == added
    assert found_gone == removed
    # and they are the listings of the people the mutation says changed that way
    changes = worlds.changes
    assert {after[k][0] for k in added} <= {
        *changes["new_therapist"],
        *changes["new_listing"],
        *changes["moved"],  # a move to another city changes a page's address
    }
    assert {before[k][0] for k in removed} <= {
        *changes["retired"],
        *changes["removed_listing"],
        *changes["moved"],
    }
    assert {after[k][0] for k in added} & set(changes["new_therapist"])
    assert {before[k][0] for k in removed} & set(changes["retired"])


def must_change(worlds: Worlds, listed: tuple[dict[Key, Any], dict[Key, Any]]) -> set[Key]:
    """Listings at the same URL before and after whose page must now say something else: more
    reviews, or the new address of a therapist who moved and updated that listing."""
    before, after = listed
    now = people(worlds.after)
    keys = set()
    for key in before.keys() & after.keys():
        person, item = after[key]
        _, old = before[key]
        if item["defect"] or old["defect"]:
            continue  # a broken page may not show the difference
        if item["reviews"] != old["reviews"]:
            keys.add(key)
        if person in worlds.changes["moved"] and not item["stale_address"]:
            assert now[person]["address"] != now[person]["previous_address"]
            keys.add(key)
    return keys


def test_changed_listings_are_those_of_the_therapists_who_changed(
    worlds: Worlds,
    diffs: dict[tuple[str, str], Diff],
    listed: tuple[dict[Key, Any], dict[Key, Any]],
) -> None:
    _, after = listed
    changed = {diffs[s, "listing"].key(i) for s in SOURCES for i in diffs[s, "listing"].changed}
    expected = must_change(worlds, listed)
    assert expected, "the mutation changes listings in place on the crawled sites"
    assert expected <= changed
    assert {after[k][0] for k in changed} <= worlds.touched
    unchanged = sum(len(diffs[s, "listing"].unchanged) for s in SOURCES)
    assert unchanged > 5 * len(changed)


def test_new_reviews_are_new_records_and_old_ones_only_re_dated(
    worlds: Worlds, diffs: dict[tuple[str, str], Diff]
) -> None:
    old = {r["id"] for p in people(worlds.before).values() for r in p["reviews"]}
    written = [
        (r["site"], r["path"], r["author"])
        for p in people(worlds.after).values()
        for r in p["reviews"]
        if r["id"] not in old and r["site"] in SOURCES
    ]
    assert written, "the mutation writes reviews on the crawled sites"
    crawled = {
        (
            *diffs[s, "review"].key(i),
            diffs[s, "review"].after[i]["author_raw"],
        )
        for s in SOURCES
        for i in diffs[s, "review"].new
    }
    assert set(written) <= crawled
    # A review that changed kept its text: the site now says "4 months ago" where it said "3",
    # or newer reviews pushed it onto the next page.
    for source in SOURCES:
        d = diffs[source, "review"]
        for i in d.changed:
            was, now = comparable(d.before[i]), comparable(d.after[i])
            assert {k for k in was if was[k] != now[k]} <= {"published_raw", "provenance"}
            assert {
                k for k in was["provenance"] if was["provenance"][k] != now["provenance"][k]
            } <= {"url"}


def test_the_index_rewrites_only_the_changed_profiles(
    mutated: Phase,
    worlds: Worlds,
    diffs: dict[tuple[str, str], Diff],
    listed: tuple[dict[Key, Any], dict[Key, Any]],
) -> None:
    summary = mutated.index
    before, after = mutated.stored_before, mutated.stored
    rewritten = {pid for pid, p in after.items() if before.get(pid) != p}
    assert summary["rebuilt"] is False
    assert summary["written"] == len(rewritten) > 0
    assert summary["deleted"] == len(before.keys() - after.keys())
    # A profile is rewritten only if it holds a record the recrawl found new, changed or gone.
    found = {i for d in diffs.values() for i in (*d.new, *d.changed, *d.vanished)}

    def records_of(profile: dict[str, Any] | None) -> set[str]:
        if profile is None:
            return set()
        reviews = {r["id"] for r in profile["reviews"]}
        copies = {c for r in profile["reviews"] for c in r["copied_to"]}
        return {item["id"] for item in profile["listings"]} | reviews | copies

    affected = {
        pid for pid in after if (records_of(after[pid]) | records_of(before.get(pid))) & found
    }
    assert rewritten <= affected
    # ... and every profile of a listing that had to change was rewritten.
    expected = profiles_of(after, must_change(worlds, listed))
    assert expected.keys() <= rewritten
    then, now = listed
    mutated_people = profiles_of(
        after, {k for k, (p, _) in (then | now).items() if p in worlds.touched}
    )
    # The others hold re-dated reviews ("3 months ago": the world's clock moved a month, ours
    # did not) or reviews that moved to another page.
    redated = {i for s in SOURCES for i in diffs[s, "review"].changed}
    others = rewritten - mutated_people.keys()
    for pid in others:
        assert records_of(after[pid]) & redated, after[pid]["name"]
    print(
        f"\nindex after the mutated recrawl: {summary['written']} of {summary['profiles']} "
        f"profiles written ({len(rewritten & mutated_people.keys())} of therapists the mutation "
        f"changed, {len(others)} with re-dated or moved reviews), {summary['unchanged']} "
        f"unchanged, {summary['deleted']} deleted, {summary['inactive_listings']} listings no "
        "longer listed"
    )
    assert summary["written"] * 3 < summary["profiles"]


def test_retired_therapists_drop_out_of_search(
    mutated: Phase, worlds: Worlds, home: Path, listed: tuple[dict[Key, Any], dict[Key, Any]]
) -> None:
    before, after = listed
    gone_people = {
        person
        for person in worlds.changes["retired"]
        if any(p == person for p, _ in before.values())
        and not any(p == person for p, _ in after.values())
    }
    assert gone_people, "a therapist whose every crawled listing vanished"
    then = people(worlds.before)
    for person in gone_people:
        keys = {k for k, (p, _) in before.items() if p == person}
        [(pid, profile)] = profiles_of(mutated.stored, keys).items()
        assert mutated.stored_before[pid]["active"] is True
        assert profile["active"] is False  # kept, marked inactive
        assert all(item["active"] is False for item in profile["listings"])
        address = then[person]["address"]
        assert pid not in search(home, address["lat"], address["lon"], "5km")


def at_address(location: dict[str, Any], address: dict[str, Any]) -> bool:
    """Whether a profile location is the ground truth's address: by its coordinates when the
    source gave them, else by house number, street name and city."""
    if location["precision"] == "rooftop":
        return distance_km(location["lat"], location["lon"], address["lat"], address["lon"]) < 0.2
    street = (location["street"] or "").split()
    return (
        street[:1] == [address["number"]]
        and address["street"].split()[0] in street
        and location["city"] == address["city"]
    )


def test_moved_therapists_are_found_at_their_new_address(
    mutated: Phase, worlds: Worlds, home: Path, listed: tuple[dict[Key, Any], dict[Key, Any]]
) -> None:
    _, after = listed
    now = people(worlds.after)
    checked = 0
    for person in worlds.changes["moved"]:
        updated = {k for k, (p, item) in after.items() if p == person and not item["stale_address"]}
        if not updated:
            continue  # no crawled site has the new address yet
        new = now[person]["address"]
        [(pid, profile)] = profiles_of(mutated.stored, updated).items()
        [*found] = [loc for loc in profile["locations"] if at_address(loc, new)]
        assert found, profile["locations"]
        was = mutated.stored_before.get(pid)
        assert was is None or not any(at_address(loc, new) for loc in was["locations"])
        # searchable there (at the city's centre when the source gave no coordinates)
        assert pid in search(home, found[0]["lat"], found[0]["lon"], "1km")
        checked += 1
    assert checked, "a therapist who moved and updated a crawled listing"


def test_new_reviews_change_the_combined_rating(
    mutated: Phase, worlds: Worlds, listed: tuple[dict[Key, Any], dict[Key, Any]]
) -> None:
    _, after = listed
    old = {r["id"] for p in people(worlds.before).values() for r in p["reviews"]}
    now = people(worlds.after)
    checked = 0
    for person in worlds.changes["new_reviews"]:
        if person in worlds.changes["moved"] or person in worlds.changes["retired"]:
            continue  # other changes to their listings would muddle the arithmetic
        fresh = [r for r in now[person]["reviews"] if r["id"] not in old and r["site"] in SOURCES]
        if not fresh:
            continue  # the reviews went to a site not crawled here
        keys = {k for k, (p, _) in after.items() if p == person}
        [(pid, profile)] = profiles_of(mutated.stored, keys).items()
        was = mutated.stored_before[pid]["rating"]
        rating = profile["rating"]
        assert rating["review_count"] == was["review_count"] + len(fresh)
        published = {
            r["site"] for r in fresh if rating["by_source"][r["site"]]["basis"] == "published"
        }
        if published:
            # The site's published score (one decimal) took the new reviews in: its count grew by
            # as many, but the sum is the site's rounded figure, not the reviews' stars.
            for site in published:
                before = was["by_source"].get(site, {}).get("count", 0)
                added = sum(r["site"] == site for r in fresh)
                assert rating["by_source"][site]["count"] == before + added, (person, site)
            checked += 1
            continue
        # the prior of ratings.py: five reviews of four stars
        total = was["combined"] * (5 + was["review_count"]) + sum(r["rating"] for r in fresh)
        expected = total / (5 + was["review_count"] + len(fresh))
        assert rating["combined"] == pytest.approx(expected, abs=0.002)
        assert rating["combined"] != was["combined"] or expected == pytest.approx(
            was["combined"], abs=0.0005
        )
        checked += 1
    assert checked, "a therapist with new reviews on a crawled site"


def test_new_therapists_are_found_in_search(
    mutated: Phase, worlds: Worlds, home: Path, listed: tuple[dict[Key, Any], dict[Key, Any]]
) -> None:
    _, after = listed
    now = people(worlds.after)
    checked = 0
    for person in worlds.changes["new_therapist"]:
        keys = {k for k, (p, _) in after.items() if p == person}
        if not keys:
            continue
        [(pid, profile)] = profiles_of(mutated.stored, keys).items()
        assert pid not in mutated.stored_before
        assert profile["active"] is True
        address = now[person]["address"]
        assert pid in search(home, address["lat"], address["lon"], "25km")
        checked += 1
    assert checked, "a newcomer listed on a crawled site"
