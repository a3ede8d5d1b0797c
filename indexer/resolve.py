"""Entity resolution: which listings, across sources and within one, are the same therapist.

Never all pairs. Blocking rules (the same NPI, license number, phone, name and ZIP, name and
city, surname and building, surname sound and initial in a city, given name and building) pick
candidate pairs; each pair is compared field by field (:mod:`indexer.comparisons`) and weighed
by a Fellegi-Sunter model whose parameters are estimated from the same listings
(:mod:`indexer.linkage`). Clusters are then built on the whole set at once:

1. Hard rules first. The same NPI, or the same license number in the same state, is one
   therapist whatever the names say (a married name, a moved office). So is a distinctive
   number given without its state that matches, when the name or the place is compatible.
2. Then the weighed pairs, strongest first, while their match probability clears
   ``MATCH_PROBABILITY``. A pair is only weighed if its names are compatible (given names equal,
   nicknames or an initial; surnames equal or a typo apart): colleagues share a practice's
   phone and address, which a model of independent fields would count twice.
3. A merge that would put different NPIs, different license numbers of one state, different
   generational suffixes (Sr. and Jr.) or incompatible given names in one cluster is refused.
   Because the strongest links are taken first, a listing without a license joins the licensed
   namesake it resembles most and cannot glue two licensed people together. One exception:
   two listings of one NPI whose names agree are joined even if they show different license
   numbers of a state, when their sides share no number at all. The NPI is issued to one
   person, while a number a directory shows can be wrong (mistyped, made up, an old one): the
   registry's own record of the NPI must not be kept apart from the directories' listings of
   its holder by their mistake. (Sides that share a number and differ in another hold someone
   else.) License numbers are applied before NPIs, so that the listings showing one number
   are together when an NPI meets them.

The result does not depend on the order of the listings: they are sorted by id before anything
is drawn or compared, and ties are broken by id. Every merge keeps its evidence, the weight of
each field, for the profile to show.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from indexer.comparisons import (
    FIELDS,
    Licenses,
    Place,
    compare_first,
    compare_last,
    compare_licenses,
    compare_npi,
    compare_phone,
    compare_place,
    license_core,
    surname_code,
)
from indexer.linkage import (
    LinkageModel,
    Pattern,
    Prior,
    Session,
    Term,
    estimate_model,
    random_pairs,
)

MAX_BLOCK = 40  # a bigger block is a common key (a chain's phone number), not one person
MATCH_PROBABILITY = 0.95
MIN_DISTINCT_DIGITS = 4  # a stateless license number needs this many digits to identify anyone

_FIRST, _LAST, _PHONE, _PLACE, _LICENSE, _NPI = range(len(FIELDS))


@dataclass(frozen=True, slots=True)
class ListingKeys:
    """What resolution compares of one listing (already normalised)."""

    id: str
    source: str
    name_key: str | None  # formal first name + last name, folded ("robert smith")
    last_name: str | None  # folded, without spaces ("delacruz")
    full_name: str  # folded display name, for reports
    phone: str | None  # E.164
    zip5: str | None
    city_key: str | None  # "austin tx"
    street_key: str | None  # address match key
    lat: float | None  # rooftop positions only
    lon: float | None
    npi: str | None
    licenses: frozenset[tuple[str, str]] = frozenset()  # (state, number)
    generation: str | None = None  # "jr", "sr", "ii"...: a father and son share the rest
    first_name: str | None = None  # folded given name as written ("bill", "j")
    unstated_licenses: frozenset[str] = frozenset()  # license numbers shown without a state

    @property
    def place(self) -> Place:
        """Where the listing says the therapist works."""
        return Place(self.street_key, self.zip5, self.city_key, self.lat, self.lon)

    @property
    def license_numbers(self) -> Licenses:
        """The license numbers shown, with and without their state."""
        return Licenses(self.licenses, self.unstated_licenses)


@dataclass
class Cluster:
    """Listings judged to be one therapist, with the evidence for each merge."""

    listing_ids: list[str]
    evidence: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Resolution:
    """The clusters, the fitted model and how much work finding them took."""

    clusters: list[Cluster]
    model: LinkageModel
    candidate_pairs: int
    hard_merges: int
    weighed_merges: int
    refused_merges: int


def generation(suffix: str | None) -> str | None:
    """The generational suffix of a name in one spelling ("Jr.", "Junior" -> "jr"), or None."""
    bare = (suffix or "").strip().rstrip(".,").lower()
    if not bare:
        return None
    return _GENERATIONS.get(bare, bare)


_GENERATIONS = {"junior": "jr", "jnr": "jr", "senior": "sr", "snr": "sr"}


@dataclass(frozen=True, slots=True)
class _Compared:
    """A listing's fields in the form the comparisons take, built once per listing."""

    first: str | None
    last: str | None
    phone: str | None
    place: Place
    licenses: Licenses
    npi: str | None


def _compared(item: ListingKeys) -> _Compared:
    return _Compared(
        item.first_name, item.last_name, item.phone, item.place, item.license_numbers, item.npi
    )


def compare(a: _Compared, b: _Compared) -> Pattern:
    """The comparison level of every field for one pair (None where a value is missing)."""
    return (
        compare_first(a.first, b.first),
        compare_last(a.last, b.last),
        compare_phone(a.phone, b.phone),
        compare_place(a.place, b.place),
        compare_licenses(a.licenses, b.licenses),
        compare_npi(a.npi, b.npi),
    )


def weigh(model: LinkageModel, a: ListingKeys, b: ListingKeys) -> list[Term]:
    """Each field's evidence for two listings being one therapist, under ``model``."""
    return model.terms(compare(_compared(a), _compared(b)), shared_values(a, b))


def shared_values(a: ListingKeys, b: ListingKeys) -> tuple[str | None, ...]:
    """The exact values a pair shares, for term-frequency adjustment (None where they differ)."""
    return (
        a.first_name if a.first_name == b.first_name else None,
        a.last_name if a.last_name == b.last_name else None,
        a.phone if a.phone == b.phone else None,
        a.street_key if a.street_key == b.street_key else None,
        _shared_license(a, b),
        a.npi if a.npi and a.npi == b.npi else None,
    )


def _shared_license(a: ListingKeys, b: ListingKeys) -> str | None:
    shared = sorted(a.license_numbers.stated_cores & b.license_numbers.stated_cores)
    return f"{shared[0][0]} {shared[0][1]}" if shared else None


def _term_values(item: ListingKeys) -> Iterator[tuple[int, str]]:
    """(field, value) for every value term-frequency adjustment counts."""
    singles = (item.first_name, item.last_name, item.phone, item.street_key, None, item.npi)
    for f, value in enumerate(singles):
        if value:
            yield f, value
    for state, number in sorted(item.licenses):
        yield _LICENSE, f"{state} {license_core(number)}"


def names_compatible(pattern: Pattern) -> bool:
    """Given names equal, nicknames, an initial or spelt alike; surnames equal or a typo apart."""
    first, last = pattern[_FIRST], pattern[_LAST]
    return (first is None or first <= 3) and (last is None or last <= 1)


# -- blocking ---------------------------------------------------------------------------------


def _license_keys(item: ListingKeys) -> list[str]:
    """Blocking keys of the license numbers shown: their digits."""
    numbers = {n for _, n in item.licenses} | set(item.unstated_licenses)
    return sorted({license_core(n) for n in numbers})


def _building(item: ListingKeys) -> str | None:
    return Place(item.street_key, None, None, None, None).building


def _initial(item: ListingKeys) -> str:
    return item.first_name[0] if item.first_name else ""


# (rule, fields it blocks on, keys of a listing)
BLOCKING_RULES: tuple[tuple[str, frozenset[str], Callable[[ListingKeys], list[str]]], ...] = (
    ("same NPI", frozenset({"NPI"}), lambda k: [k.npi] if k.npi else []),
    ("same license number", frozenset({"license"}), _license_keys),
    ("same phone", frozenset({"phone"}), lambda k: [k.phone] if k.phone else []),
    (
        "same name and ZIP",
        frozenset({"first name", "surname", "address"}),
        lambda k: [f"{k.name_key}|{k.zip5}"] if k.name_key and k.zip5 else [],
    ),
    (
        "same name and city",
        frozenset({"first name", "surname", "address"}),
        lambda k: [f"{k.name_key}|{k.city_key}"] if k.name_key and k.city_key else [],
    ),
    (
        "same surname and building",
        frozenset({"surname", "address"}),
        lambda k: [f"{k.last_name}|{_building(k)}"] if k.last_name and _building(k) else [],
    ),
    (
        "surname sounding alike, same initial and city",
        frozenset({"address"}),
        lambda k: (
            [f"{surname_code(k.last_name)}|{_initial(k)}|{k.city_key}"]
            if k.last_name and k.city_key
            else []
        ),
    ),
)


def _blocks(
    listings: list[ListingKeys], key_of: Callable[[ListingKeys], list[str]]
) -> Iterator[list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(listings):
        for key in key_of(item):
            blocks[key].append(index)
    for members in blocks.values():
        if 1 < len(members) <= MAX_BLOCK:
            yield members


@dataclass
class _Candidates:
    """Candidate pairs as parallel arrays: listing indexes, the rules that proposed each."""

    left: array = field(default_factory=lambda: array("l"))
    right: array = field(default_factory=lambda: array("l"))
    rules: array = field(default_factory=lambda: array("l"))  # bit mask over BLOCKING_RULES

    def __len__(self) -> int:
        return len(self.left)


def candidate_pairs(listings: list[ListingKeys]) -> _Candidates:
    """Every pair some blocking rule proposes, once, with the rules that proposed it."""
    position: dict[int, int] = {}
    found = _Candidates()
    size = len(listings)
    for bit, (_, _, key_of) in enumerate(BLOCKING_RULES):
        for members in _blocks(listings, key_of):
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    code = i * size + j if i < j else j * size + i
                    at = position.get(code)
                    if at is None:
                        position[code] = len(found)
                        found.left.append(min(i, j))
                        found.right.append(max(i, j))
                        found.rules.append(1 << bit)
                    else:
                        found.rules[at] |= 1 << bit
    return found


# -- clustering -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Known:
    """What a cluster is known by, as far as keeping two people apart goes."""

    npis: set[str]
    licenses: dict[str, set[str]]  # the digits of stated numbers, by state
    numbers: set[str]  # every number shown, with its state or without
    generations: set[str]
    first_names: set[str]

    @classmethod
    def of(cls, item: ListingKeys) -> _Known:
        licenses = _license_cores(item)
        return cls(
            {item.npi} if item.npi else set(),
            licenses,
            set().union(*licenses.values(), map(license_core, item.unstated_licenses)),
            {item.generation} if item.generation else set(),
            {item.first_name} if item.first_name else set(),
        )

    def absorb(self, other: _Known) -> None:
        self.npis |= other.npis
        for state, numbers in other.licenses.items():
            self.licenses.setdefault(state, set()).update(numbers)
        self.numbers |= other.numbers
        self.generations |= other.generations
        self.first_names |= other.first_names


class _Clusters:
    """Union-find over listing indexes, refusing merges that would join two people.

    A listing on its own is known by its keys, read when asked; only a cluster of several
    listings holds what it is known by (under its root), so a build of millions of listings does
    not hold five sets for each."""

    def __init__(self, listings: list[ListingKeys]) -> None:
        self.listings = listings
        self.parent = array("l", range(len(listings)))
        self.merged: dict[int, _Known] = {}

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def known(self, root: int) -> _Known:
        known = self.merged.get(root)
        return known if known is not None else _Known.of(self.listings[root])

    def conflict(self, a: int, b: int, *, hard: bool, one_npi: bool = False) -> str | None:
        """Why the clusters of ``a`` and ``b`` cannot be one therapist, or None.

        ``one_npi``: the pair shares an NPI and its names agree. A license number a listing
        shows can be wrong (mistyped, made up, an old one), the NPI is issued to one person:
        then different license numbers of one state do not keep the two apart, as long as the
        two sides share no number at all (one side's number is wrong). Sides that share a
        number and differ in another hold someone else.
        """
        ka, kb = self.known(self.find(a)), self.known(self.find(b))
        if _differ(ka.npis, kb.npis):
            return "different NPIs"
        left, right = ka.licenses, kb.licenses
        if any(s in left and not left[s] & n for s, n in right.items()) and not (
            one_npi and not ka.numbers & kb.numbers
        ):
            return "different license numbers in one state"
        if _differ(ka.generations, kb.generations):
            return "different generations (Sr./Jr.)"
        if not hard and any(
            (compare_first(x, y) or 0) > 3 for x in ka.first_names for y in kb.first_names
        ):
            return "different given names"
        return None

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        root, other = min(ra, rb), max(ra, rb)
        self.parent[other] = root
        joined = self.merged.pop(other, None) or _Known.of(self.listings[other])
        if root not in self.merged:
            self.merged[root] = _Known.of(self.listings[root])
        self.merged[root].absorb(joined)


def _differ(left: set[str], right: set[str]) -> bool:
    return bool(left and right and not left & right)


def _license_cores(item: ListingKeys) -> dict[str, set[str]]:
    """The digits of the license numbers a listing states, by state."""
    cores: dict[str, set[str]] = {}
    for state, number in item.licenses:
        cores.setdefault(state, set()).add(license_core(number))
    return cores


_HARD_RULES = (
    "same license number and state",
    "same license number (state not given)",
    "same NPI",
)  # the order hard merges are tried in


def _hard_rule(pattern: Pattern, a: ListingKeys, b: ListingKeys) -> str | None:
    """The rule that makes a pair one therapist whatever else it shows, or None."""
    if pattern[_NPI] == 0:
        return "same NPI"
    if pattern[_LICENSE] == 0:
        return "same license number and state"
    if pattern[_LICENSE] == 1 and _distinctive(a, b):
        first, last, place = pattern[_FIRST], pattern[_LAST], pattern[_PLACE]
        if (
            (first is not None and first <= 3)
            or (last is not None and last <= 1)
            or (place is not None and place <= 3)
        ):
            return "same license number (state not given)"
    return None


def _distinctive(a: ListingKeys, b: ListingKeys) -> bool:
    numbers = [license_core(n).lstrip("0") for n in a.unstated_licenses | b.unstated_licenses]
    return any(len(n) >= MIN_DISTINCT_DIGITS for n in numbers)


# Shared values worth showing; a given name is in the profile's name, an address key is internal.
_VALUES_SHOWN = frozenset({"surname", "phone", "license", "NPI"})


def explain(terms: Iterable[Term]) -> str:
    """A pair's evidence in words, each field with its weight: "surname same (+8.1), ..."."""
    return ", ".join(
        f"{t.field} {t.level}{f' ({t.value})' if t.value and t.field in _VALUES_SHOWN else ''} "
        f"({t.weight:+.1f})"
        for t in terms
    )


def _merge_candidates(
    ordered: list[ListingKeys],
    candidates: _Candidates,
    patterns: list[Pattern],
    model: LinkageModel,
) -> tuple[list[tuple[int, int, int, str]], list[tuple[float, int, int, int]]]:
    """The pairs a hard rule joins ``(i, j, pair, rule)``, and the pairs whose evidence
    outweighs the threshold ``(-weight, i, j, pair)``, each in the order they are tried."""
    hard: list[tuple[int, int, int, str]] = []
    weighed: list[tuple[float, int, int, int]] = []
    threshold = math.log2(MATCH_PROBABILITY / (1 - MATCH_PROBABILITY))
    for at, (i, j) in enumerate(zip(candidates.left, candidates.right, strict=True)):
        pattern = patterns[at]
        rule = _hard_rule(pattern, ordered[i], ordered[j])
        if rule is not None:
            hard.append((i, j, at, rule))
        elif names_compatible(pattern):
            weight = model.weight(pattern, shared_values(ordered[i], ordered[j]))
            if weight >= threshold:
                weighed.append((-weight, i, j, at))
    # License numbers join first, NPIs last: an NPI may bring a second number of a state (the
    # registry's) to listings showing a wrong one, which must be together by then, or the one
    # joined after it would be refused for its number. Then by position, for a fixed order.
    hard.sort(key=lambda item: (_HARD_RULES.index(item[3]), item[0], item[1]))
    weighed.sort()
    return hard, weighed


def resolve(listings: list[ListingKeys], prior: Prior | None = None) -> Resolution:
    """Group listings into therapists; clusters sorted by their smallest listing id.

    ``prior``: the parameters the estimates start from (default: the shipped ones).
    """
    ordered = sorted(listings, key=lambda k: k.id)
    if len({k.id for k in ordered}) != len(ordered):
        raise ValueError("resolve: listing ids must be unique")
    candidates = candidate_pairs(ordered)
    fields = [_compared(item) for item in ordered]
    patterns = [
        compare(fields[i], fields[j])
        for i, j in zip(candidates.left, candidates.right, strict=True)
    ]
    model = _fit(ordered, fields, candidates, patterns, prior)

    hard, weighed = _merge_candidates(ordered, candidates, patterns, model)

    clusters = _Clusters(ordered)
    evidence: list[tuple[int, int, dict[str, str]]] = []
    refused = 0
    merges = {"hard": 0, "weighed": 0}

    def attempt(i: int, j: int, at: int, rule: str, is_hard: bool) -> None:
        nonlocal refused
        if clusters.find(i) == clusters.find(j):
            return
        pattern = patterns[at]
        one_npi = pattern[_NPI] == 0 and names_compatible(pattern)
        if clusters.conflict(i, j, hard=is_hard, one_npi=one_npi) is not None:
            refused += 1
            return
        clusters.union(i, j)
        merges["hard" if is_hard else "weighed"] += 1
        terms = model.terms(patterns[at], shared_values(ordered[i], ordered[j]))
        weight = model.prior_weight + sum(t.weight for t in terms)
        if not is_hard:
            rule = "weighed evidence: " + ", ".join(
                f"{t.field} {t.level}" for t in terms if t.weight > 0
            )
        evidence.append(
            (
                i,
                j,
                {
                    "listings": f"{ordered[i].id} {ordered[j].id}",
                    "reason": rule,
                    "match_weight": f"{weight:.1f}",
                    "fields": explain(terms),
                },
            )
        )

    for i, j, at, rule in hard:
        attempt(i, j, at, rule, True)
    for _, i, j, at in weighed:
        attempt(i, j, at, "weighed evidence", False)  # the reason names what agreed

    grouped: dict[int, Cluster] = {}
    for index, item in enumerate(ordered):
        grouped.setdefault(clusters.find(index), Cluster(listing_ids=[])).listing_ids.append(
            item.id
        )
    for i, _, doc in evidence:
        grouped[clusters.find(i)].evidence.append(doc)
    return Resolution(
        clusters=sorted(grouped.values(), key=lambda c: c.listing_ids[0]),
        model=model,
        candidate_pairs=len(candidates),
        hard_merges=merges["hard"],
        weighed_merges=merges["weighed"],
        refused_merges=refused,
    )


def _fit(
    ordered: list[ListingKeys],
    fields: list[_Compared],
    candidates: _Candidates,
    patterns: list[Pattern],
    prior: Prior | None,
) -> LinkageModel:
    by_rule: list[Counter[Pattern]] = [Counter() for _ in BLOCKING_RULES]
    for at, mask in enumerate(candidates.rules):
        for bit in range(len(BLOCKING_RULES)):
            if mask >> bit & 1:
                by_rule[bit][patterns[at]] += 1
    sessions = [
        Session(rule, blocked, by_rule[bit])
        for bit, (rule, blocked, _) in enumerate(BLOCKING_RULES)
    ]
    sample = [compare(fields[i], fields[j]) for i, j in random_pairs(len(ordered))]
    term_counts: list[Counter[str]] = [Counter() for _ in FIELDS]
    for item in ordered:
        for f, value in _term_values(item):
            term_counts[f][value] += 1
    return estimate_model(sessions, sample, len(ordered), term_counts, prior=prior)
