"""The demo web's population: seeded, realistic, internally consistent, and fast enough to scale."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
import zipcodes

from crawler.demoweb import GroundTruth, generate_world, is_valid_npi, vocab
from crawler.demoweb.identifiers import Permutation, luhn_check_digit, npi_from_base
from crawler.demoweb.truth import SUMMARY_NAME, TRUTH_NAME

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

TAXONOMY = Path(__file__).resolve().parent.parent / "indexer" / "data" / "taxonomy.yaml"


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("world")
    generate_world(directory, seed=11, therapists=300)
    return directory


@pytest.fixture(scope="module")
def people(world_dir: Path) -> list[dict[str, Any]]:
    return list(GroundTruth(world_dir).people())


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371 * math.hypot(dlat, dlon)


def test_same_seed_gives_identical_world(tmp_path: Path) -> None:
    generate_world(tmp_path / "a", seed=5, therapists=60)
    generate_world(tmp_path / "b", seed=5, therapists=60)
    generate_world(tmp_path / "c", seed=6, therapists=60)
    for name in (TRUTH_NAME, SUMMARY_NAME):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / TRUTH_NAME).read_bytes() != (tmp_path / "c" / TRUTH_NAME).read_bytes()


def test_population_spans_fifteen_metros_at_real_zip_codes(people: list[dict[str, Any]]) -> None:
    metros = Counter(p["metro"] for p in people)
    assert len(metros) >= 15
    for p in people:
        addr = p["address"]
        (z,) = zipcodes.matching(addr["zip"])
        assert z["state"] == addr["state"]
        assert z["city"] == addr["city"]
        assert _km(float(z["lat"]), float(z["long"]), addr["lat"], addr["lon"]) < 12


def test_license_titles_and_number_formats_follow_the_state(people: list[dict[str, Any]]) -> None:
    titles = {"NC": "LMBT", "WA": "LMP", "CO": "RMT", "CA": "CMT", "TX": "LMT", "FL": "LMT"}
    seen: dict[str, set[str]] = {}
    for p in people:
        for c in p["credentials"]:
            if c["kind"] != "state_license":
                continue
            if c["state"] in titles:
                assert c["title"] == titles[c["state"]]
            if c["state"] == "FL":
                assert re.fullmatch(r"MA\d{5,}", c["number"])
            assert c["status"] in {"active", "expired", "suspended", "revoked"}
            assert c["issued"] < c["expires"]
            numbers = seen.setdefault(c["state"], set())
            assert c["number"] not in numbers, "license numbers are unique per state"
            numbers.add(c["number"])
    statuses = Counter(
        c["status"] for p in people for c in p["credentials"] if c["kind"] == "state_license"
    )
    assert statuses["active"] > statuses["expired"] > 0
    assert not any(c.get("state") == "MN" for p in people for c in p["credentials"]), (
        "Minnesota does not license massage therapists"
    )


def test_npi_numbers_are_valid_and_unique(people: list[dict[str, Any]]) -> None:
    numbers = [c["number"] for p in people for c in p["credentials"] if c["credential"] == "npi"]
    assert len(numbers) > 50
    assert len(set(numbers)) == len(numbers)
    assert all(is_valid_npi(n) and n.startswith("1") for n in numbers)


def test_npi_check_digit_matches_the_cms_example() -> None:
    assert npi_from_base(123456789) == 1234567893
    assert is_valid_npi(1234567893)
    assert not is_valid_npi(1234567890)
    assert luhn_check_digit("80840" + "123456789") == 3


def test_permutation_is_a_bijection_and_inverts() -> None:
    perm = Permutation("k", 1000)
    images = [perm.forward(x) for x in range(1000)]
    assert sorted(images) == list(range(1000))
    assert all(perm.inverse(perm.forward(x)) == x for x in range(1000))
    assert images[:10] != list(range(10))


def test_false_claims_never_collide_with_issued_credentials(people: list[dict[str, Any]]) -> None:
    issued = {
        (c["state"], c["number"])
        for p in people
        for c in p["credentials"]
        if c["kind"] == "state_license"
    }
    certs = {c["number"] for p in people for c in p["credentials"] if c["credential"] == "bctmb"}
    claims = [(p, c) for p in people for c in p["false_claims"]]
    assert claims, "the world has listings with false claims"
    for p, claim in claims:
        if claim["credential"] == "bctmb":
            assert claim["number"] not in certs
            assert not any(c["credential"] == "bctmb" for c in p["credentials"])
        else:
            assert (claim["state"], claim["number"]) not in issued
        shown = [lc for item in p["listings"] for lc in item["claims"] if lc["false"]]
        # The review site shows no credentials, so a claim made only there is never published.
        if any(item["site"] != "reviews" for item in p["listings"]):
            assert shown, "a false claim appears on the person's listings"


def test_listings_carry_the_promised_mess(people: list[dict[str, Any]], world_dir: Path) -> None:
    summary = json.loads((world_dir / SUMMARY_NAME).read_text())
    directories = {k: v for k, v in summary["sites"].items() if v["kind"] == "directory"}
    assert sum(v["duplicates"] for v in directories.values()) > 0
    assert sum(v["stale_listings"] for v in directories.values()) > 0
    assert sum(sum(v["broken_pages"].values()) for v in directories.values()) > 0
    assert sum(v["copied_reviews"] for v in directories.values()) > 0
    on_sites = Counter(len({item["site"] for item in p["listings"]}) for p in people)
    assert on_sites[4] < len(people) / 2, "not every therapist is on every site"
    copies = [r for p in people for r in p["reviews"] if r["copy_of"] is not None]
    for p in people:
        by_id = {r["id"]: r for r in p["reviews"]}
        for r in p["reviews"]:
            if r["copy_of"] is not None:
                original = by_id[r["copy_of"]]
                assert original["site"] != r["site"]
                assert original["author"] == r["author"]
    assert copies


def test_modalities_are_mostly_neuromuscular(people: list[dict[str, Any]]) -> None:
    modalities = Counter(m for p in people for m in p["modalities"])
    assert modalities["neuromuscular_therapy"] > len(people) / 2
    assert modalities["trigger_point_therapy"] > len(people) / 2


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\W_]+", " ", text).strip()


def test_every_spelling_resolves_through_the_project_taxonomy() -> None:
    taxonomy = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    spell = vocab.spellings()
    for group in ("modalities", "conditions", "credentials"):
        for term_id, forms in spell[group].items():
            entry = taxonomy[group][term_id]
            known = {_fold(term_id), _fold(entry["label"])} | {_fold(s) for s in entry["synonyms"]}
            for form in forms:
                assert _fold(form) in known, f"{form!r} does not resolve to {group}.{term_id}"
    assert set(spell["modality_rates"]) == set(taxonomy["modalities"])


def test_a_larger_population_generates(tmp_path: Path) -> None:
    generate_world(tmp_path, seed=3, therapists=20_000)
    summary = json.loads((tmp_path / SUMMARY_NAME).read_text())
    assert summary["therapists"] == 20_000
    assert summary["sites"]["atlas"]["listings"] > 15_000
    assert summary["sites"]["atlas"]["sitemap_urls"] > 10_000, "large sites use a sitemap index"
