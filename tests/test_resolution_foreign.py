"""Entity resolution on a population its authors did not shape (``tests/foreign/``).

Two directory sites (``healers``, JSON-LD; ``bodyworkers``, microdata) are generated with their
own people, data and styles of variation, served over HTTP on 127.0.0.1, crawled by the real
``tdir crawl`` with the generic structured-data spider, indexed by ``tdir index`` and scored by
``tdir evaluate --truth truth.json``. The generator itself is checked too: deterministic, every
style present, every truth path served.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.evaluate import listing_key
from indexer.profile import Profile
from indexer.search.sqlite_backend import SqliteBackend
from tests.crawling import run_tdir
from tests.foreign.generator import generate
from tests.foreign.population import STYLES, Population, build_population, valid_npi
from tests.foreign.render import page_file
from tests.foreign.server import ForeignWeb, running_foreign_web

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

_MIN_PEOPLE_PER_STYLE = 8
_F1 = 0.97


@pytest.fixture(scope="session")
def foreign_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForeignWeb]:
    """The default population (seed 7, 260 people), served on two ephemeral ports."""
    with running_foreign_web(tmp_path_factory.mktemp("foreign-web")) as web:
        yield web


@pytest.fixture(scope="module")
def truth(foreign_web: ForeignWeb) -> dict[str, Any]:
    return json.loads(foreign_web.truth.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population(seed=7, people=260)


# -- the generator -----------------------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_generation_is_deterministic_and_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    generate(tmp_path / "one", seed=7)
    elapsed = time.perf_counter() - started
    generate(tmp_path / "two", seed=7)
    generate(tmp_path / "other", seed=8)
    one = _files(tmp_path / "one")
    assert elapsed < 2.0, f"generation took {elapsed:.2f}s"
    assert one == _files(tmp_path / "two")
    assert one["truth.json"] != _files(tmp_path / "other")["truth.json"]


def test_every_style_occurs(truth: dict[str, Any]) -> None:
    counts = Counter(style for person in truth["people"] for style in person["styles"])
    print(f"\nforeign population: {truth['summary']}")
    rare = {s: counts.get(s, 0) for s in STYLES if counts.get(s, 0) < _MIN_PEOPLE_PER_STYLE}
    assert not rare, f"styles in too few people: {rare}"
    assert 200 <= len(truth["people"]) == len({p["person"] for p in truth["people"]})


def test_every_person_has_one_to_three_listings(truth: dict[str, Any]) -> None:
    per_person = Counter(x["person"] for x in truth["listings"])
    assert set(per_person) == {p["person"] for p in truth["people"]}
    assert set(per_person.values()) <= {1, 2, 3}
    assert len({(x["site"], x["path"]) for x in truth["listings"]}) == len(truth["listings"])
    twice_on_a_site = {
        person
        for (site, person), n in Counter(
            (x["site"], x["person"]) for x in truth["listings"]
        ).items()
        if n > 1
    }
    stale = {p["person"] for p in truth["people"] if "stale_duplicate" in p["styles"]}
    assert twice_on_a_site == stale


def test_identifiers_are_well_formed_and_never_shared(population: Population) -> None:
    npis = [p.npi for p in population.people if p.npi]
    assert npis and all(valid_npi(n) for n in npis)
    assert len(set(npis)) == len(npis)
    licenses = [(p.city.state, p.license) for p in population.people]
    assert len(set(licenses)) == len(licenses)
    digits = [p.license_digits for p in population.people]
    assert len(set(digits)) == len(digits)


def test_group_styles_are_what_they_say(population: Population) -> None:
    by_office: dict[int, list[Any]] = defaultdict(list)
    for person in population.people:
        if person.group in ("shared_practice", "senior_junior"):
            by_office[id(person.office)].append(person)
    shared = [g for g in by_office.values() if g[0].group == "shared_practice"]
    assert shared and all(2 <= len(g) <= 4 for g in shared)
    assert all(len({p.given for p in g}) == len(g) for g in shared)
    pairs = [g for g in by_office.values() if g[0].group == "senior_junior"]
    for senior, junior in pairs:
        assert (senior.given, senior.surname) == (junior.given, junior.surname)
        assert (senior.suffix, junior.suffix) == ("Sr.", "Jr.")
        assert senior.license != junior.license
    namesakes: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for person in population.people:
        if person.group == "namesake":
            namesakes[(person.given, person.surname, person.city.name)].append(person)
    for one, other in namesakes.values():
        assert one.office is not None and other.office is not None
        assert one.office.phone != other.office.phone
        assert (one.office.number, one.office.street) != (other.office.number, other.office.street)
        assert one.license != other.license


def test_truth_paths_are_served(foreign_web: ForeignWeb, truth: dict[str, Any]) -> None:
    for listing in truth["listings"]:
        site, path = listing["site"], listing["path"]
        assert page_file(foreign_web.root / site, path).is_file(), (site, path)
        with urllib.request.urlopen(foreign_web.urls[site] + path, timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8")
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page)
        assert canonical is not None and canonical[1].replace("&amp;", "&") == path
    for url in foreign_web.urls.values():
        with urllib.request.urlopen(f"{url}/robots.txt", timeout=10) as response:
            assert f"Sitemap: {url}/sitemap.xml" in response.read().decode()


# -- crawled, indexed and scored -----------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, foreign_web: ForeignWeb) -> Path:
    home = tmp_path_factory.mktemp("foreign-home")
    done = run_tdir(
        home,
        "crawl",
        "healers",
        "bodyworkers",
        "--catalog",
        str(foreign_web.catalog),
        "--var",
        f"HEALERS_URL={foreign_web.urls['healers']}",
        "--var",
        f"BODYWORKERS_URL={foreign_web.urls['bodyworkers']}",
        "--no-delay",
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (home / "crawl-runs.json").write_text(done.stdout, encoding="utf-8")
    done = run_tdir(home, "index", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return home


@pytest.fixture(scope="module")
def scores(home: Path, foreign_web: ForeignWeb) -> dict[str, Any]:
    done = run_tdir(home, "evaluate", "--truth", str(foreign_web.truth), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def profiles(home: Path) -> list[Profile]:
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        rows = backend._conn().execute("SELECT profile FROM profiles").fetchall()
    finally:
        backend.close()
    return [Profile.from_dict(json.loads(r[0])) for r in rows]


@pytest.fixture(scope="module")
def profiles_of(profiles: list[Profile], truth: dict[str, Any]) -> dict[int, set[str]]:
    """Each true person's profile ids."""
    person_of = {(x["site"], x["path"]): x["person"] for x in truth["listings"]}
    found: dict[int, set[str]] = defaultdict(set)
    for profile in profiles:
        for listing in profile.listings:
            person = person_of.get(listing_key(listing.source, listing.url))
            if person is not None:
                found[person].add(profile.id)
    return found


def _people(truth: dict[str, Any], style: str) -> list[dict[str, Any]]:
    return [p for p in truth["people"] if style in p["styles"]]


def _style_report(truth: dict[str, Any], profiles_of: dict[int, set[str]]) -> str:
    """Per style: people split over several profiles, people sharing a profile with another."""
    holders: dict[str, set[int]] = defaultdict(set)
    for person, ids in profiles_of.items():
        for profile_id in ids:
            holders[profile_id].add(person)
    lines = []
    for style in STYLES:
        people = _people(truth, style)
        split = [p["names_shown"] for p in people if len(profiles_of[p["person"]]) > 1]
        merged = [
            p["names_shown"]
            for p in people
            if any(len(holders[i]) > 1 for i in profiles_of[p["person"]])
        ]
        lines.append(f"{style}: {len(people)} people, {len(split)} split, {len(merged)} merged")
        lines += [f"    split: {names}" for names in split[:6]]
        lines += [f"    merged: {names}" for names in merged[:6]]
    return "\n".join(lines)


def test_every_listing_was_crawled(
    home: Path, scores: dict[str, Any], truth: dict[str, Any]
) -> None:
    runs = json.loads((home / "crawl-runs.json").read_text(encoding="utf-8"))
    assert {r["source"]: r["status"] for r in runs} == {
        "healers": "finished",
        "bodyworkers": "finished",
    }
    assert all(not r["errors"] for r in runs), [r["errors"] for r in runs]
    assert scores["unknown_listings"] == 0
    assert scores["listings"] == len(truth["listings"])


def test_resolution_finds_the_true_people(
    scores: dict[str, Any], truth: dict[str, Any], profiles_of: dict[int, set[str]]
) -> None:
    print(f"\nentity resolution on the foreign population: {scores}")
    assert scores["f1"] >= _F1, (
        f"F1 {scores['f1']:.4f} (precision {scores['precision']:.4f}, recall "
        f"{scores['recall']:.4f}); by style:\n{_style_report(truth, profiles_of)}"
    )


@pytest.mark.parametrize("style", ["maiden_name", "moved", "surname_typo", "nickname"])
def test_one_person_under_other_names_or_offices_is_one_profile(
    style: str, truth: dict[str, Any], profiles_of: dict[int, set[str]]
) -> None:
    people = [p for p in _people(truth, style) if len(profiles_of[p["person"]]) > 0]
    assert people
    split = [p["names_shown"] for p in people if len(profiles_of[p["person"]]) > 1]
    assert not split, f"{len(split)} of {len(people)} {style} people split: {split}"


@pytest.mark.parametrize("style", ["senior_junior", "namesake", "shared_practice"])
def test_different_people_alike_are_different_profiles(
    style: str, truth: dict[str, Any], profiles_of: dict[int, set[str]]
) -> None:
    people = _people(truth, style)
    assert people
    owners: dict[str, list[int]] = defaultdict(list)
    for person in people:
        for profile_id in profiles_of[person["person"]]:
            owners[profile_id].append(person["person"])
    names = {p["person"]: p["name"] for p in truth["people"]}
    merged = [[names[i] for i in group] for group in owners.values() if len(group) > 1]
    assert not merged, f"{style}: different people in one profile: {merged}"
