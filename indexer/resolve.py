"""Entity resolution: which listings, across sources and within one, are the same therapist.

Never all pairs. Strong keys first (the same NPI; the same license number in the same state),
then blocking (candidates share a phone number, a name key and ZIP, a name key and city, or a
last name and street address) and scoring within blocks. Two listings that carry *different*
strong keys are never merged, whatever else they share, nor are two whose names carry different
generational suffixes (Sr. and Jr. at one practice share name, phone and address). Every merge
records its evidence, so a profile can say why its listings were put together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations

from rapidfuzz import fuzz

from indexer.geo import distance_km

MAX_BLOCK = 40  # a bigger block is a common key (a chain's phone number), not one person
NAME_SIMILAR = 90  # rapidfuzz token_sort_ratio of full names for "the same name, spelt apart"
NEAR_KM = 0.25


@dataclass(frozen=True, slots=True)
class ListingKeys:
    """What resolution compares of one listing (already normalised)."""

    id: str
    source: str
    name_key: str | None  # formal first name + last name, folded ("robert smith")
    last_name: str | None
    full_name: str  # folded display name, for fuzzy comparison
    phone: str | None  # E.164
    zip5: str | None
    city_key: str | None  # "austin tx"
    street_key: str | None  # address match key
    lat: float | None
    lon: float | None
    npi: str | None
    licenses: frozenset[tuple[str, str]] = frozenset()  # (state, number)
    generation: str | None = None  # "jr", "sr", "ii"...: a father and son share the rest


@dataclass
class Cluster:
    """Listings judged to be one therapist, with the evidence for each merge."""

    listing_ids: list[str]
    evidence: list[dict[str, str]] = field(default_factory=list)


class _UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {i: i for i in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def resolve(listings: list[ListingKeys]) -> list[Cluster]:
    """Group listings into therapists; return clusters sorted by their smallest listing id."""
    by_id = {item.id: item for item in listings}
    groups = _UnionFind(by_id)
    # Strong keys a cluster already holds: merging two clusters with different ones is refused.
    npis: dict[str, set[str]] = {i: ({k.npi} if k.npi else set()) for i, k in by_id.items()}
    licenses: dict[str, set[tuple[str, str]]] = {i: set(k.licenses) for i, k in by_id.items()}
    generations: dict[str, set[str]] = {
        i: ({k.generation} if k.generation else set()) for i, k in by_id.items()
    }
    evidence: list[tuple[str, str, str]] = []

    def merge(a: str, b: str, why: str) -> None:
        ra, rb = groups.find(a), groups.find(b)
        if (
            ra == rb
            or _conflict(npis[ra], npis[rb])
            or _license_conflict(licenses[ra], licenses[rb])
            or _conflict(generations[ra], generations[rb])
        ):
            return
        groups.union(ra, rb)
        root = groups.find(ra)
        other = rb if root == ra else ra
        npis[root] |= npis.pop(other)
        licenses[root] |= licenses.pop(other)
        generations[root] |= generations.pop(other)
        evidence.append((a, b, why))

    for key_name, key_of in (
        ("same NPI", lambda k: [k.npi] if k.npi else []),
        ("same license number", lambda k: [f"{s}:{n}" for s, n in sorted(k.licenses)]),
    ):
        for members in _blocks(listings, key_of).values():
            first = members[0]
            for other in members[1:]:
                if _names_agree(by_id[first.id], other):
                    merge(first.id, other.id, key_name)

    blockers = (
        lambda k: [k.phone] if k.phone else [],
        lambda k: [f"{k.name_key}|{k.zip5}"] if k.name_key and k.zip5 else [],
        lambda k: [f"{k.name_key}|{k.city_key}"] if k.name_key and k.city_key else [],
        lambda k: [f"{k.last_name}|{k.street_key}"] if k.last_name and k.street_key else [],
    )
    seen_pairs: set[tuple[str, str]] = set()
    for key_of in blockers:
        for members in _blocks(listings, key_of).values():
            if len(members) > MAX_BLOCK:
                continue
            for a, b in combinations(members, 2):
                pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
                if pair in seen_pairs:
                    continue
                seen_pairs.add(pair)
                why = match_reason(a, b)
                if why:
                    merge(a.id, b.id, why)

    clusters: dict[str, Cluster] = {}
    for item_id in sorted(by_id):
        root = groups.find(item_id)
        clusters.setdefault(root, Cluster(listing_ids=[])).listing_ids.append(item_id)
    for a, b, why in evidence:
        clusters[groups.find(a)].evidence.append({"listings": f"{a} {b}", "reason": why})
    return sorted(clusters.values(), key=lambda c: c.listing_ids[0])


_GENERATIONS = {"junior": "jr", "jnr": "jr", "senior": "sr", "snr": "sr"}


def generation(suffix: str | None) -> str | None:
    """The generational suffix of a name in one spelling ("Jr.", "Junior" -> "jr"), or None."""
    bare = (suffix or "").strip().rstrip(".,").lower()
    if not bare:
        return None
    return _GENERATIONS.get(bare, bare)


def match_reason(a: ListingKeys, b: ListingKeys) -> str | None:
    """Say why two listings are the same therapist, or None if they are not shown to be.

    A name alone never suffices, nor does a shared phone or address alone (colleagues share a
    practice's phone and suite): the name must agree and one place-or-contact signal must too.
    """
    if not _names_agree(a, b):
        return None
    same_name = a.name_key is not None and a.name_key == b.name_key
    signals = []
    if a.phone and a.phone == b.phone:
        signals.append("phone")
    if a.street_key and a.street_key == b.street_key:
        signals.append("street address")
    located = None not in (a.lat, a.lon, b.lat, b.lon)
    if located and distance_km(a.lat, a.lon, b.lat, b.lon) <= NEAR_KM:  # type: ignore[arg-type]
        signals.append("location within 250 m")
    if same_name and a.zip5 and a.zip5 == b.zip5:
        signals.append("ZIP")
    if same_name and not signals and a.city_key and a.city_key == b.city_key:
        signals.append("city")
    if not signals:
        return None
    name = "same name" if same_name else "similar name"
    return f"{name} + {' + '.join(signals)}"


def _names_agree(a: ListingKeys, b: ListingKeys) -> bool:
    if a.name_key and a.name_key == b.name_key:
        return True
    if not a.last_name or a.last_name != b.last_name:
        # A changed surname (marriage) is not bridged by name; strong keys bridge it.
        return fuzz.token_sort_ratio(a.full_name, b.full_name) >= 95
    return fuzz.token_sort_ratio(a.full_name, b.full_name) >= NAME_SIMILAR


def _conflict(left: set[str], right: set[str]) -> bool:
    return bool(left and right and not left & right)


def _license_conflict(left: set[tuple[str, str]], right: set[tuple[str, str]]) -> bool:
    left_states = {s: n for s, n in left}
    return any(s in left_states and left_states[s] != n for s, n in right)


def _blocks(
    listings: list[ListingKeys], key_of: Callable[[ListingKeys], list[str]]
) -> dict[str, list[ListingKeys]]:
    blocks: dict[str, list[ListingKeys]] = defaultdict(list)
    for item in listings:
        for key in key_of(item):
            blocks[key].append(item)
    return {k: v for k, v in blocks.items() if len(v) > 1}
