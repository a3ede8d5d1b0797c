"""Scoring resolution against a truth: pairwise scores, the worst mistakes, truth files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.evaluate import TruthError, load_truth, mistakes, pair_scores
from indexer.profile import ListingRef, Profile


def _listing(n: int) -> ListingRef:
    return ListingRef(f"l{n}", "site", f"http://x.test/p/{n}", f"Name {n}", "2026-12-01", True)


# Persons: 1 = listings 0, 1, 2; 2 = listing 3; 3 = listings 4, 5.
TRUTH = {("site", f"/p/{n}"): person for n, person in enumerate((1, 1, 1, 2, 3, 3))}
PROFILES = {
    # listings of persons 1 and 2 in one profile: a false merge costing 2 pairs (0-3, 1-3)
    "a": Profile(
        id="a",
        name="A",
        listings=(_listing(0), _listing(1), _listing(3)),
        merge_evidence=(
            {"listings": "l0 l1", "reason": "same NPI"},
            {"listings": "l1 l3", "reason": "weighed evidence: phone same"},
        ),
    ),
    "b": Profile(id="b", name="B", listings=(_listing(2),)),  # person 1 split off: 2 pairs
    "c": Profile(id="c", name="C", listings=(_listing(4),)),
    "d": Profile(id="d", name="D", listings=(_listing(5),)),  # person 3 split: 1 pair
}


def test_pair_scores_count_pairs() -> None:
    predicted = {item.id: p.id for p in PROFILES.values() for item in p.listings}
    urls = {item.id: (item.source, item.url) for p in PROFILES.values() for item in p.listings}
    scores = pair_scores(predicted, urls, TRUTH)
    # predicted pairs: 0-1, 0-3, 1-3; true pairs: 0-1, 0-2, 1-2, 4-5
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (3, 4, 1)
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(1 / 4)


def test_worst_false_merges_and_splits_with_the_merges_that_joined_people() -> None:
    merges, splits = mistakes(PROFILES, TRUTH)
    (merge,) = merges
    assert merge.wrong_pairs == 2
    assert sorted(len(group) for group in merge.groups) == [1, 2]
    assert [e["reason"] for e in merge.evidence] == ["weighed evidence: phone same"]
    assert [s.wrong_pairs for s in splits] == [2, 1]  # worst first
    assert all(g[0].startswith("site: Name ") for s in splits for g in s.groups)
    assert mistakes(PROFILES, TRUTH, limit=1)[1] == splits[:1]


def test_a_truth_file_or_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"listings": [{"site": "s", "path": "/p", "person": 3}]}))
    assert load_truth(path) == {("s", "/p"): 3}
    with pytest.raises(TruthError, match="no ground truth at"):
        load_truth(tmp_path / "missing.json")
    path.write_text('{"people": []}')
    with pytest.raises(TruthError, match="is not a ground truth"):
        load_truth(path)
