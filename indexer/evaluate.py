"""Entity resolution measured against a ground truth: pairwise precision, recall and F1.

Two listings form a *pair* when they are put in one profile. Precision is the share of predicted
pairs that are the same true person, recall the share of true pairs that were predicted. Only
listings the truth knows (by site and path) are counted. The worst errors are listed too: false
merges (one profile, several people) and false splits (one person, several profiles), each with
the number of pairs it costs.

A truth is a JSON file of the form
``{"listings": [{"site": "healers", "path": "/p/jane-doe.html", "person": 17}, ...]}``; ``tdir
evaluate`` (:mod:`tdir.demo`) also reads one from a generated demo world.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Truth = dict[tuple[str, str], int]


class TruthError(ValueError):
    """A ground truth that cannot be read."""


def load_truth(path: Path) -> Truth:
    """Which true person each listing (site, path) is, from a truth file."""
    try:
        doc = json.loads(path.read_text("utf-8"))
        return {(str(i["site"]), str(i["path"])): int(i["person"]) for i in doc["listings"]}
    except FileNotFoundError:
        raise TruthError(f"no ground truth at {path}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise TruthError(
            f"{path} is not a ground truth: expected a demo world directory or JSON "
            f'{{"listings": [{{"site", "path", "person"}}, ...]}} ({error})'
        ) from None


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


@dataclass(frozen=True)
class ResolutionMistake:
    """One false merge or false split, with what it costs and what it was made of."""

    kind: str  # "false merge" | "false split"
    wrong_pairs: int
    # For a merge: the profile's listings grouped by true person; for a split: the person's
    # listings grouped by the profile they landed in. Each listing as "source: name <url>".
    groups: list[list[str]]
    evidence: list[dict[str, str]] = field(default_factory=list)  # the merges that joined people


def mistakes(  # noqa: C901 - false merges and false splits counted over the same lookups, side by side
    profiles: Mapping[str, Any],
    truth: Mapping[tuple[str, str], int],
    *,
    limit: int = 5,
) -> tuple[list[ResolutionMistake], list[ResolutionMistake]]:
    """The worst false merges and false splits of built profiles, most wrong pairs first.

    ``profiles`` maps profile ids to :class:`~indexer.profile.Profile`.
    """
    person_of: dict[str, int] = {}
    label: dict[str, str] = {}
    profile_of: dict[str, str] = {}
    for profile_id, profile in profiles.items():
        for listing in profile.listings:
            who = truth.get(listing_key(listing.source, listing.url))
            if who is None:
                continue
            person_of[listing.id] = who
            profile_of[listing.id] = profile_id
            label[listing.id] = f"{listing.source}: {listing.name} <{listing.url}>"
    merges = []
    for profile in profiles.values():
        by_person: dict[int, list[str]] = defaultdict(list)
        for listing in profile.listings:
            if listing.id in person_of:
                by_person[person_of[listing.id]].append(listing.id)
        if len(by_person) < 2:
            continue
        sizes = [len(ids) for ids in by_person.values()]
        wrong = sum(a * b for a, b in combinations(sizes, 2))
        joining = [
            item
            for item in profile.merge_evidence
            if len({person_of.get(i) for i in str(item.get("listings", "")).split()}) > 1
        ]
        merges.append(
            ResolutionMistake(
                "false merge",
                wrong,
                [[label[i] for i in ids] for ids in by_person.values()],
                joining,
            )
        )
    by_true: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for listing_id, who in person_of.items():
        by_true[who][profile_of[listing_id]].append(listing_id)
    splits = []
    for groups in by_true.values():
        if len(groups) < 2:
            continue
        sizes = [len(ids) for ids in groups.values()]
        splits.append(
            ResolutionMistake(
                "false split",
                sum(a * b for a, b in combinations(sizes, 2)),
                [[label[i] for i in ids] for ids in groups.values()],
            )
        )

    def order(m: ResolutionMistake) -> tuple[int, str]:
        return (-m.wrong_pairs, m.groups[0][0])

    return sorted(merges, key=order)[:limit], sorted(splits, key=order)[:limit]
