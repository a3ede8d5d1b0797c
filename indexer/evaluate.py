"""Entity resolution measured against a ground truth: pairwise precision, recall and F1.

Two listings form a *pair* when they are put in one profile. Precision is the share of predicted
pairs that are the same true person, recall the share of true pairs that were predicted. Only
listings the truth knows (by site and path) are counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PairScores:
    """Pairwise scores of a clustering."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    listings: int
    unknown_listings: int  # crawled listings the truth does not know


def listing_key(source: str, url: str) -> tuple[str, str]:
    """The (site, path-and-query) key the demo web's truth uses for a listing URL."""
    parts = urlsplit(url)
    return source, parts.path + (f"?{parts.query}" if parts.query else "")


def pair_scores(
    predicted: Mapping[str, str],
    listing_urls: Mapping[str, tuple[str, str]],
    truth: Mapping[tuple[str, str], int],
) -> PairScores:
    """Score ``predicted`` (listing id -> profile id) against ``truth`` ((site, path) -> person).

    ``listing_urls`` maps listing ids to (source, url).
    """
    person: dict[str, int] = {}
    unknown = 0
    for listing_id, (source, url) in listing_urls.items():
        found = truth.get(listing_key(source, url))
        if found is None:
            unknown += 1
        else:
            person[listing_id] = found
    by_profile: dict[str, list[str]] = defaultdict(list)
    by_person: dict[int, list[str]] = defaultdict(list)
    for listing_id, who in person.items():
        by_profile[predicted[listing_id]].append(listing_id)
        by_person[who].append(listing_id)
    predicted_pairs = {tuple(sorted(p)) for g in by_profile.values() for p in combinations(g, 2)}
    true_pairs = {tuple(sorted(p)) for g in by_person.values() for p in combinations(g, 2)}
    correct = len(predicted_pairs & true_pairs)
    precision = correct / len(predicted_pairs) if predicted_pairs else 1.0
    recall = correct / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=len(true_pairs),
        predicted_pairs=len(predicted_pairs),
        correct_pairs=correct,
        listings=len(person),
        unknown_listings=unknown,
    )
