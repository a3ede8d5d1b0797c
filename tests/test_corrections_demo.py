"""Removal and correction requests on the demo web, through the command line: they hold across
a recrawl and a reindex, and lifting them brings the crawled data back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from indexer.search.sqlite_backend import SqliteBackend
from tests.crawling import crawl, run_tdir

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, demo_web: Any) -> Path:
    home = tmp_path_factory.mktemp("corrections-home")
    crawl(home, demo_web.manifest, "atlas", "guild")
    index(home)
    return home


def index(home: Path) -> dict[str, Any]:
    done = run_tdir(home, "index", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tdir(home: Path, *args: str) -> str:
    done = run_tdir(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def stored(home: Path) -> dict[str, dict[str, Any]]:
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        rows = backend._conn().execute("SELECT profile FROM profiles").fetchall()
    finally:
        backend.close()
    return {p["id"]: p for p in (json.loads(r[0]) for r in rows)}


def test_requests_hold_across_a_recrawl_and_are_lifted(home: Path, demo_web: Any) -> None:
    profiles = stored(home)
    merged = sorted(
        (
            p
            for p in profiles.values()
            if {item["source"] for item in p["listings"]} == {"atlas", "guild"}
        ),
        key=lambda p: p["id"],
    )
    removed, corrected = merged[0], merged[1]
    removed_listings = {item["id"] for item in removed["listings"]}

    out = tdir(home, "suppress", removed["id"], "--by", "ann", "--reason", "asked by email")
    assert f"{removed['id']} removed from the index" in out
    assert removed["id"] not in stored(home)  # gone at once, before any reindex
    tdir(home, "correct", corrected["id"], "phones", "(512) 555-0100", "--by", "ann")
    assert stored(home)[corrected["id"]]["phones"] == ["+15125550100"]  # rewritten at once

    crawl(home, demo_web.manifest, "atlas")  # the site still lists both therapists
    summary = index(home)
    assert (summary["suppressed_profiles"], summary["corrected_profiles"]) == (1, 1)
    after = stored(home)
    assert removed["id"] not in after
    assert not any(
        removed_listings & {item["id"] for item in p["listings"]} for p in after.values()
    )
    search = json.loads(tdir(home, "search", "--text", removed["name"], "--json"))
    assert removed["id"] not in [hit["id"] for hit in search["hits"]]
    again = after[corrected["id"]]
    assert again["phones"] == ["+15125550100"]
    assert [(c["field"], c["by"]) for c in again["corrections"]] == [("phones", "ann")]
    assert again["provenance"]["phones"][0]["source"] == "correction"

    tdir(home, "uncorrect", corrected["id"], "phones", "--by", "bob")
    tdir(home, "unsuppress", removed["id"], "--by", "bob")
    summary = index(home)
    assert (summary["suppressed_profiles"], summary["corrected_profiles"]) == (0, 0)
    back = stored(home)
    assert removed["id"] in back
    assert back[corrected["id"]]["phones"] == corrected["phones"]
    assert back[corrected["id"]]["corrections"] == []  # no correction left in force

    record = json.loads(tdir(home, "corrections", "list", "--all", "--json"))
    assert [
        (s["profile_id"], s["requested_by"], s["lifted_by"]) for s in record["suppressions"]
    ] == [(removed["id"], "ann", "bob")]
    assert [(c["field"], c["value"], c["lifted_by"]) for c in record["corrections"]] == [
        ("phones", ["+15125550100"], "bob")
    ]


def test_requests_about_unknown_profiles_or_fields_are_errors(home: Path) -> None:
    cases = [
        (
            ["suppress", "tnosuch", "--by", "ann", "--reason", "x"],
            "no profile 'tnosuch' in the index",
        ),
        (["unsuppress", "tnosuch", "--by", "ann"], "profile tnosuch is not suppressed"),
        (["correct", "tnosuch", "name", "X", "--by", "ann"], "no profile 'tnosuch' in the index"),
        (["uncorrect", "tnosuch", "phones", "--by", "ann"], "has no correction of 'phones'"),
    ]
    for args, message in cases:
        done = run_tdir(home, *args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    some_id = next(iter(stored(home)))
    bad = run_tdir(home, "correct", some_id, "modalities", "banana", "--by", "ann")
    assert bad.returncode == 2 and "unknown modality 'banana'" in bad.stderr
    bad_field = run_tdir(home, "correct", some_id, "rating", "5", "--by", "ann")
    assert bad_field.returncode == 2 and "invalid choice: 'rating'" in bad_field.stderr
