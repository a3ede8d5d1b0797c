"""How two listings compare, field by field, in the discrete levels record linkage weighs.

Each comparison returns the index of a level of its field (0 is the closest agreement), or None
when either listing lacks the field: a missing value is no evidence either way. The levels are
data the linkage model estimates m- and u-probabilities for; their labels are what a person reads
in a merge's explanation.

Names are compared in parts: first names agree exactly, as nicknames of one another (from the
``nicknames`` package's dataset and the field's own groups in ``data/person_names.yaml``), as an
initial ("J." for "Jennifer") or by spelling (Jaro-Winkler); surnames exactly, or as a typo
(one edit, or the same Metaphone code with close spelling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import jellyfish
from nicknames import NickNamer
from rapidfuzz.distance import JaroWinkler, Levenshtein

from indexer.geo import distance_km
from indexer.normalize.names import formal_first_name, short_form_names

SIMILAR_FIRST = 0.88  # Jaro-Winkler, within two edits: "Jon"/"John", "Cathryn"/"Kathryn"
SIMILAR_LAST = 0.92  # Jaro-Winkler: "Smith"/"Smiht"; one edit always counts
SAME_PLACE_KM = 0.25
NEAR_KM = 2.0


@dataclass(frozen=True, slots=True)
class Field:
    """One compared field: its name, its levels' labels and its term-frequency adjusted level."""

    name: str
    levels: tuple[str, ...]
    compare: Callable[..., int | None]
    tf_level: int | None = None  # the exact-agreement level, weighed by how common the value is


@cache
def _nicknamer() -> NickNamer:
    return NickNamer()


@cache
def _canonicals(first: str) -> frozenset[str]:
    return frozenset(_nicknamer().canonicals_of(first)) | {formal_first_name(first)}


def first_names_are_nicknames(a: str, b: str) -> bool:
    """Whether two folded given names are one name's forms ("bill"/"william", "bill"/"will").

    From the ``nicknames`` package's dataset and the field's own groups in
    ``data/person_names.yaml`` (nicknames, and ambiguous short forms, which are not transitive).
    """
    if b in short_form_names(a):
        return True
    namer = _nicknamer()
    if b in namer.nicknames_of(a) or a in namer.nicknames_of(b):
        return True
    return bool(_canonicals(a) & _canonicals(b))


def compare_first(a: str | None, b: str | None) -> int | None:
    """0 exact, 1 nickname, 2 initial, 3 similar spelling, 4 different."""
    if not a or not b:
        return None
    if a == b:
        return 0
    return _compare_given_names(a, b) if a < b else _compare_given_names(b, a)


@lru_cache(maxsize=1 << 18)  # given names repeat: most pairs compared are pairs seen before
def _compare_given_names(a: str, b: str) -> int:
    if len(a) == 1 or len(b) == 1:
        return 2 if a[0] == b[0] else 4
    if first_names_are_nicknames(a, b):
        return 1
    if JaroWinkler.similarity(a, b) >= SIMILAR_FIRST and Levenshtein.distance(a, b) <= 2:
        return 3
    return 4


@cache
def surname_code(last: str) -> str:
    """The Metaphone code of a folded surname (typos that sound alike share it)."""
    return jellyfish.metaphone(last)


def compare_last(a: str | None, b: str | None) -> int | None:
    """0 exact, 1 a typo apart, 2 different."""
    if not a or not b:
        return None
    if a == b:
        return 0
    if Levenshtein.distance(a, b, score_cutoff=1) <= 1:
        return 1
    if surname_code(a) == surname_code(b) and JaroWinkler.similarity(a, b) >= SIMILAR_LAST:
        return 1
    return 2


def compare_phone(a: str | None, b: str | None) -> int | None:
    """0 same number, 1 different."""
    if not a or not b:
        return None
    return 0 if a == b else 1


@dataclass(frozen=True, slots=True)
class Place:
    """Where a listing says the therapist works, as resolution compares it."""

    street_key: str | None  # "1200 n lamar blvd|200|78704"
    zip5: str | None
    city_key: str | None  # "austin tx"
    lat: float | None  # rooftop positions only: a ZIP centroid says nothing about the office
    lon: float | None
    building: str | None = field(init=False)  # the street key without its unit

    def __post_init__(self) -> None:
        building = None
        if self.street_key:
            # A source that leaves out the suite names the same office.
            street, _, rest = self.street_key.partition("|")
            building = f"{street}|{rest.partition('|')[2]}"
        object.__setattr__(self, "building", building)


def compare_place(a: Place, b: Place) -> int | None:
    """0 same address, 1 same building or within 250 m, 2 same ZIP or within 2 km,
    3 same city, 4 elsewhere."""
    if a.street_key and a.street_key == b.street_key:
        return 0
    if a.building and a.building == b.building:
        return 1
    km = None
    if a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None:
        km = distance_km(a.lat, a.lon, b.lat, b.lon)
        if km <= SAME_PLACE_KM:
            return 1
    if (a.zip5 and a.zip5 == b.zip5) or (km is not None and km <= NEAR_KM):
        return 2
    if a.city_key and a.city_key == b.city_key:
        return 3
    if km is None and not ((a.zip5 or a.city_key) and (b.zip5 or b.city_key)):
        return None
    return 4


def compare_npi(a: str | None, b: str | None) -> int | None:
    """0 same NPI, 1 different (a hard rule keeps these apart anyway)."""
    if not a or not b:
        return None
    return 0 if a == b else 1


def license_core(number: str) -> str:
    """The digits of a license number, which every way of writing it keeps.

    Boards and pages prefix the same license differently ("MT582048", "TX582048", "582048",
    "MT.0006832"); the digits identify it within a state.
    """
    return "".join(ch for ch in number if ch.isdigit()) or number


_NONE: frozenset[Any] = frozenset()


@dataclass(frozen=True, slots=True)
class Licenses:
    """The license numbers a listing shows: with their issuing state, and without one."""

    stated: frozenset[tuple[str, str]]  # (state, number)
    unstated: frozenset[str]  # a number the page gives no issuer for
    stated_cores: frozenset[tuple[str, str]] = field(init=False)
    unstated_cores: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        # Most listings show no number: they share one empty set rather than make two each
        # (resolution holds one Licenses per listing, millions of them at scale).
        cores = frozenset((s, license_core(n)) for s, n in self.stated) if self.stated else _NONE
        unstated = frozenset(map(license_core, self.unstated)) if self.unstated else _NONE
        object.__setattr__(self, "stated_cores", cores)
        object.__setattr__(self, "unstated_cores", unstated)

    def __bool__(self) -> bool:
        return bool(self.stated or self.unstated)


def compare_licenses(a: Licenses, b: Licenses) -> int | None:
    """0 same number in the same state, 1 same number with one side stateless, 2 different.

    Numbers are compared by their digits (:func:`license_core`). Different numbers in different
    states are no evidence (a therapist licensed in two states).
    """
    if not a or not b:
        return None
    if a.stated_cores & b.stated_cores:
        return 0
    if _stateless_match(a, b) or _stateless_match(b, a):
        return 1
    states_a = {s for s, _ in a.stated}
    if any(s in states_a for s, _ in b.stated):
        return 2
    if a.unstated and b.unstated:
        return 2  # two stateless numbers that differ
    return None


def _stateless_match(a: Licenses, b: Licenses) -> bool:
    if not a.unstated_cores:
        return False
    return bool(a.unstated_cores & (b.unstated_cores | {n for _, n in b.stated_cores}))


FIRST_NAME = Field(
    "first name", ("same", "nickname", "initial", "similar spelling", "different"), compare_first, 0
)
SURNAME = Field("surname", ("same", "one letter apart", "different"), compare_last, 0)
PHONE = Field("phone", ("same", "different"), compare_phone, 0)
PLACE = Field(
    "address",
    ("same address", "same building", "same ZIP or within 2 km", "same city", "elsewhere"),
    compare_place,
    0,
)
LICENSE = Field(
    "license",
    ("same number and state", "same number, state not given", "different"),
    compare_licenses,
    0,
)
NPI = Field("NPI", ("same", "different"), compare_npi, 0)
FIELDS: tuple[Field, ...] = (FIRST_NAME, SURNAME, PHONE, PLACE, LICENSE, NPI)
