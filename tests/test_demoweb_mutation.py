"""Mutating the demo world: the next state changes the way real directories change, seeded."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import DemoWeb, GroundTruth, generate_world, mutate
from crawler.demoweb.mutation import CHANGES_NAME
from crawler.demoweb.truth import SUMMARY_NAME, TRUTH_NAME


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mutation")
    generate_world(root / "g0", seed=31, therapists=400)
    mutate(root / "g0", root / "g1", seed=2)
    return root / "g0", root / "g1"


def _people(directory: Path) -> dict[int, dict[str, Any]]:
    return {p["person"]: p for p in GroundTruth(directory).people()}


def test_mutation_moves_time_and_records_changes(worlds: tuple[Path, Path]) -> None:
    before, after = worlds
    old = json.loads((before / SUMMARY_NAME).read_text())
    new = json.loads((after / SUMMARY_NAME).read_text())
    assert new["generation"] == old["generation"] + 1
    assert new["as_of"] > old["as_of"]
    changes = json.loads((after / CHANGES_NAME).read_text())["changes"]
    assert changes["new_therapist"] and changes["new_reviews"]
    assert new["therapists"] == old["therapists"] + len(changes["new_therapist"])
    assert changes["moved"] or changes["retired"]


def test_changed_people_changed_in_the_ground_truth(worlds: tuple[Path, Path]) -> None:
    before, after = worlds
    old, new = _people(before), _people(after)
    changes = json.loads((after / CHANGES_NAME).read_text())["changes"]
    for pid in changes["moved"]:
        assert new[pid]["previous_address"] == old[pid]["address"]
        assert new[pid]["address"] != old[pid]["address"]
    for pid in changes["retired"]:
        assert new[pid]["status"] == "retired"
        assert len(new[pid]["listings"]) <= len(old[pid]["listings"])
    for pid in changes["new_reviews"]:
        assert len(new[pid]["reviews"]) > len(old[pid]["reviews"])
    untouched = set(old) - {pid for ids in changes.values() for pid in ids}
    for pid in list(untouched)[:50]:
        assert new[pid]["listings"] == old[pid]["listings"]


def test_mutation_is_deterministic(worlds: tuple[Path, Path], tmp_path: Path) -> None:
    before, after = worlds
    mutate(before, tmp_path, seed=2)
    assert (tmp_path / TRUTH_NAME).read_bytes() == (after / TRUTH_NAME).read_bytes()


def test_unchanged_pages_keep_their_etag_across_generations(worlds: tuple[Path, Path]) -> None:
    before, after = worlds
    old, new = _people(before), _people(after)
    changes = json.loads((after / CHANGES_NAME).read_text())["changes"]
    touched = {pid for ids in changes.values() for pid in ids}
    quiet = next(
        p
        for pid, p in old.items()
        if pid not in touched and p["listings"] and p["listings"][0]["site"] == "pages"
    )
    path = quiet["listings"][0]["path"]
    etags = []
    for world in (before, after):
        with DemoWeb.start(world) as web, urllib.request.urlopen(web.urls["pages"] + path) as r:
            etags.append(r.headers["ETag"])
    assert etags[0] == etags[1]
    assert new[quiet["person"]]["listings"][0]["path"] == path


def test_second_offices_stay_where_they_are_when_the_main_office_moves(
    worlds: tuple[Path, Path],
) -> None:
    before, after = worlds
    old, new = _people(before), _people(after)
    kept = 0
    for pid, person in old.items():
        if len(person["offices"]) > 1:
            assert new[pid]["offices"][1:] == person["offices"][1:]
            assert new[pid]["offices"][0] == new[pid]["address"]
            kept += 1
    assert kept > 20
