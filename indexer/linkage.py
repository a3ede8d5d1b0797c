"""A Fellegi-Sunter record-linkage model: how much each field's agreement says about identity.

For every compared field and level, ``m`` is the probability of that level when two listings are
the same therapist and ``u`` when they are not. A pair's match weight is the log2 of the prior
odds plus, for each field, log2(m/u) of its level; a missing value adds nothing. Parameters come
from the data, never from hand tuning:

- ``u`` from pairs drawn at random (almost all of them different people), drawn from the
  listings sorted by id with a fixed seed, so the input's order does not change them;
- ``m`` by expectation-maximisation over the candidate pairs, one session per blocking rule
  with the rule's own fields left out (in a block of one phone number everyone agrees on the
  phone, which says nothing about whether they are one person), ``u`` held fixed;
- the prior from the matches the sessions expect, over all possible pairs;
- term-frequency adjustment of exact agreement: a surname, given name, phone or street address
  shared by few listings is stronger evidence than a common one ("Maria Garcia" in Houston).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from indexer.comparisons import FIELDS, Field

RANDOM_PAIRS = 50_000
EM_ITERATIONS = 60
EM_TOLERANCE = 1e-5
M_FLOOR = 1e-4  # no level is impossible among true matches (a data-entry error happens)
# How many pairs the starting parameters (data/linkage_prior.json) count for: a few thousand
# listings outweigh them; a crawl of a handful of pages leans on them.
U_PRIOR_PAIRS = 2_000.0
M_PRIOR_PAIRS = 20.0
TF_PRIOR_LISTINGS = 50.0

Pattern = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Term:
    """One field's part of a match weight."""

    field: str
    level: str
    weight: float
    value: str | None = None  # the shared value, for a term-frequency adjusted agreement


@dataclass
class LinkageModel:
    """Estimated m- and u-probabilities per field level, the prior and the term frequencies."""

    fields: tuple[Field, ...]
    m: list[list[float]]
    u: list[list[float]]
    prior: float  # probability that two listings drawn at random are one therapist
    term_counts: list[Counter[str]] = field(default_factory=list)
    term_totals: list[int] = field(default_factory=list)

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds of a match."""
        return math.log2(self.prior / (1 - self.prior))

    def terms(self, pattern: Pattern, values: Sequence[str | None]) -> list[Term]:
        """Each compared field's weight for one pair (``values``: the shared exact values)."""
        found = []
        for f, level in enumerate(pattern):
            if level is None:
                continue
            spec = self.fields[f]
            u = self.u[f][level]
            value = values[f] if spec.tf_level == level and self.term_totals[f] else None
            if value:
                # The value's frequency, shrunk towards the level's u while listings are few.
                u = (self.term_counts[f][value] + TF_PRIOR_LISTINGS * u) / (
                    self.term_totals[f] + TF_PRIOR_LISTINGS
                )
            weight = math.log2(self.m[f][level] / u)
            found.append(Term(spec.name, spec.levels[level], weight, value))
        return found

    def weight(self, pattern: Pattern, values: Sequence[str | None]) -> float:
        """The match weight of a pair: prior plus every field's evidence, in bits."""
        return self.prior_weight + sum(t.weight for t in self.terms(pattern, values))

    def describe(self) -> list[dict[str, object]]:
        """The estimated parameters, for reports: per field and level, m, u and the weight."""
        return [
            {
                "field": spec.name,
                "level": label,
                "m": round(self.m[f][level], 4),
                "u": round(self.u[f][level], 6),
                "weight": round(math.log2(self.m[f][level] / self.u[f][level]), 2),
            }
            for f, spec in enumerate(self.fields)
            for level, label in enumerate(spec.levels)
        ]


@dataclass(frozen=True)
class Prior:
    """Starting m- and u-probabilities per field level, which the data's estimates move."""

    m: list[list[float]]
    u: list[list[float]]

    @classmethod
    def uniform(cls, fields: tuple[Field, ...] = FIELDS) -> Prior:
        """No knowledge: closer agreement likelier among matches, every level alike otherwise."""
        m, u = [], []
        for spec in fields:
            raw = [0.5**level for level in range(len(spec.levels) - 1)] + [0.05]
            m.append([value / sum(raw) for value in raw])
            u.append([1 / len(spec.levels)] * len(spec.levels))
        return cls(m, u)

    def to_dict(self, fields: tuple[Field, ...] = FIELDS) -> dict[str, object]:
        """The stored form, keyed by field and level name."""
        return {
            spec.name: {
                label: {"m": float(f"{self.m[f][n]:.4g}"), "u": float(f"{self.u[f][n]:.4g}")}
                for n, label in enumerate(spec.levels)
            }
            for f, spec in enumerate(fields)
        }


@cache
def shipped_prior() -> Prior:
    """The parameters fitted on a large synthetic population (``data/linkage_prior.json``)."""
    text = resources.files("indexer").joinpath("data/linkage_prior.json").read_text("utf-8")
    doc = json.loads(text)["fields"]
    m = [[doc[spec.name][label]["m"] for label in spec.levels] for spec in FIELDS]
    u = [[doc[spec.name][label]["u"] for label in spec.levels] for spec in FIELDS]
    return Prior(m, u)


def estimate_u(
    random_patterns: Sequence[Pattern], fields: tuple[Field, ...], prior: Prior, weight: float
) -> list[list[float]]:
    """u-probabilities from the comparison of random pairs, with ``weight`` pairs of the prior."""
    u = []
    for f, spec in enumerate(fields):
        counts = Counter(p[f] for p in random_patterns if p[f] is not None)
        total = sum(counts.values()) + weight
        u.append(
            [
                max((counts[level] + weight * prior.u[f][level]) / total, 1e-9)
                for level in range(len(spec.levels))
            ]
        )
    return u


def random_pairs(count: int, seed: int = 0) -> list[tuple[int, int]]:
    """Up to RANDOM_PAIRS distinct index pairs of ``count`` items; every pair when they are few."""
    possible = count * (count - 1) // 2
    if possible <= RANDOM_PAIRS:
        return [(i, j) for i in range(count) for j in range(i + 1, count)]
    rng = random.Random(seed)
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < RANDOM_PAIRS:
        i, j = rng.randrange(count), rng.randrange(count)
        if i != j:
            chosen.add((min(i, j), max(i, j)))
    return sorted(chosen)


def expectation_maximisation(
    patterns: Counter[Pattern],
    active: Sequence[int],
    start: list[list[float]],
    u: list[list[float]],
    prior_pairs: float,
) -> tuple[list[list[float]], float, float]:
    """Estimate m for the ``active`` fields and the share of matches among ``patterns``.

    ``prior_pairs`` pseudo-matches distributed as ``start`` keep a level unseen in this block
    rare rather than impossible. Returns the new m (inactive fields unchanged), that share and
    the expected matches.
    """
    m = [list(levels) for levels in start]
    ordered = sorted(patterns.items(), key=lambda item: _sort_key(item[0]))
    total = sum(patterns.values())
    share = 0.5
    expected = 0.0
    for _ in range(EM_ITERATIONS):
        numerators = {f: [prior_pairs * p for p in start[f]] for f in active}
        expected = 0.0
        for pattern, count in ordered:
            log_m = math.log(share)
            log_u = math.log(1 - share)
            for f in active:
                level = pattern[f]
                if level is not None:
                    log_m += math.log(m[f][level])
                    log_u += math.log(u[f][level])
            probability = 1 / (1 + math.exp(min(log_u - log_m, 700)))
            expected += count * probability
            for f in active:
                level = pattern[f]
                if level is not None:
                    numerators[f][level] += count * probability
        change = 0.0
        for f in active:
            seen = sum(numerators[f])
            if seen <= 0:
                continue
            levels = len(m[f])
            new = [max(n / seen, M_FLOOR) for n in numerators[f]]
            norm = sum(new)
            new = [value / norm for value in new]
            change = max(change, *(abs(a - b) for a, b in zip(new, m[f], strict=True)))
            m[f] = new
            assert len(new) == levels
        new_share = min(max(expected / total, 1e-6), 1 - 1e-6)
        change = max(change, abs(new_share - share))
        share = new_share
        if change < EM_TOLERANCE:
            break
    return m, share, expected


def _sort_key(pattern: Pattern) -> tuple[int, ...]:
    return tuple(-1 if level is None else level for level in pattern)


@dataclass(frozen=True, slots=True)
class Session:
    """The candidate pairs one blocking rule produced, and the fields it blocked on."""

    rule: str
    blocked_fields: frozenset[str]
    patterns: Counter[Pattern]


def estimate_model(
    sessions: Sequence[Session],
    random_patterns: Sequence[Pattern],
    listings: int,
    term_counts: list[Counter[str]],
    fields: tuple[Field, ...] = FIELDS,
    prior: Prior | None = None,
) -> LinkageModel:
    """Fit the model: u from random pairs, m by EM per blocking session, then the prior odds.

    ``prior`` defaults to the shipped parameters; with :meth:`Prior.uniform` the data alone
    decides (how the shipped ones are made).
    """
    start = prior or shipped_prior()
    weights = (U_PRIOR_PAIRS, M_PRIOR_PAIRS) if prior is None else (len(fields), 1.0)
    u = estimate_u(random_patterns, fields, start, weights[0])
    estimates: list[list[tuple[float, list[float]]]] = [[] for _ in fields]
    expected_matches = 0.0
    for session in sessions:
        if not session.patterns:
            continue
        active = [f for f, spec in enumerate(fields) if spec.name not in session.blocked_fields]
        m, _, expected = expectation_maximisation(session.patterns, active, start.m, u, weights[1])
        expected_matches = max(expected_matches, expected)
        for f in active:
            estimates[f].append((expected, m[f]))
    m = [_weighted_mean(found) if found else start.m[f] for f, found in enumerate(estimates)]
    possible = max(listings * (listings - 1) / 2, 1)
    return LinkageModel(
        fields=fields,
        m=m,
        u=u,
        prior=min(max(expected_matches / possible, 1 / possible), 0.5),
        term_counts=term_counts,
        term_totals=[sum(counts.values()) for counts in term_counts],
    )


def _weighted_mean(found: list[tuple[float, list[float]]]) -> list[float]:
    """Sessions' estimates of one field, each counted by the matches it saw."""
    total = sum(weight for weight, _ in found) or 1.0
    return [
        sum(weight * levels[n] for weight, levels in found) / total for n in range(len(found[0][1]))
    ]
