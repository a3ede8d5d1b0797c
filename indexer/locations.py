"""A therapist's practice locations: one per office, merged across the sources that give it.

Sources describe one office at different precisions: a directory gives the street and its own
coordinates, another only the street, a third only "Austin, TX". Kept apart, those would be
several locations for one office, and distance would be measured to whichever is nearest the
client (a city centre 11 miles from the real office reads as "4.5 mi away"). So:

1. Places with a street, or with a source's own coordinates (``rooftop``), are offices. Two are
   one office when their streets agree in the same ZIP or city (and their suites, where both
   give one), or when a street-less rooftop point lies within ``SAME_OFFICE_KM`` of the other's
   rooftop point.
2. A place known only to its ZIP or city is not an office of its own when the therapist has an
   office there: it joins the office in the same ZIP, else in the same city, else the nearest
   office within ``APPROXIMATE_REACH_KM`` (a suburb listed under its metro's name). Only when no
   office fits does it stay a location of its own, marked approximate.

Each location's position is the most precise any of its sources gives (rooftop, then ZIP centre,
then city centre), and it lists every source that places the therapist there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from indexer.geo import distance_km
from indexer.geocode import Place
from indexer.normalize.addresses import NormalizedAddress
from indexer.profile import PRECISION_RANK, Location
from indexer.taxonomy import fold

SAME_OFFICE_KM = 0.3  # two sources' coordinates for one building rarely differ by more
APPROXIMATE_REACH_KM = {"zip": 25.0, "city": 50.0}  # farther, it is a different office


@dataclass(frozen=True, slots=True)
class PlaceClaim:
    """One place one source gives for a therapist."""

    source: str
    place: Place
    address: NormalizedAddress | None

    @property
    def street_key(self) -> str | None:
        """The street and unit number, folded; None without a street."""
        address = self.address
        if address is None or address.street is None:
            return None
        unit = address.unit.split()[-1] if address.unit else ""
        return f"{fold(address.street)}|{fold(unit)}"

    @property
    def zip5(self) -> str | None:
        """The ZIP the source names."""
        return self.address.zip5 if self.address else None

    @property
    def city_key(self) -> str | None:
        """The city and state the source names, folded."""
        address = self.address
        if address is None or not address.city or not address.state:
            return None
        return f"{fold(address.city)}|{address.state}"

    @property
    def is_office(self) -> bool:
        """True when the place pins an office: a street, or the source's own coordinates."""
        return self.street_key is not None or self.place.precision == "rooftop"


def merge_locations(claims: Iterable[PlaceClaim]) -> list[Location]:
    """Return one location per office, best supported (most sources) first."""
    claims = list(claims)
    offices: list[list[PlaceClaim]] = []
    for claim in (c for c in claims if c.is_office):
        matching = [
            group
            for group in offices
            if any(_same_office(claim, c) for c in group)
            and not any(_other_suite(claim, c) for c in group)
        ]
        if not matching:
            offices.append([claim])
            continue
        # The claim may bridge groups (a street on one side, a point on the other).
        first = matching[0]
        first.append(claim)
        for group in matching[1:]:
            if any(_other_suite(a, b) for a in first for b in group):
                continue  # a place without a suite fits both suites; they stay two offices
            first.extend(group)
            offices.remove(group)
    loose: list[list[PlaceClaim]] = []
    for claim in (c for c in claims if not c.is_office):
        home = _office_for(claim, offices)
        if home is not None:
            home.append(claim)
            continue
        same = next((g for g in loose if _same_area(claim, g[0])), None)
        if same is None:
            loose.append([claim])
        else:
            same.append(claim)
    groups = offices + loose
    located = [_location(group) for group in groups]
    order = sorted(
        range(len(groups)),
        key=lambda i: (-len(located[i].sources), -len(groups[i]), _sort_key(located[i])),
    )
    return [located[i] for i in order]


def _same_office(a: PlaceClaim, b: PlaceClaim) -> bool:
    if a.street_key is not None and b.street_key is not None:
        street_a, unit_a = a.street_key.split("|")
        street_b, unit_b = b.street_key.split("|")
        # A source that leaves out the suite ("710 W College Hwy") names the same office as
        # one that gives it; two different suites are two offices.
        units_agree = unit_a == unit_b or not unit_a or not unit_b
        return street_a == street_b and units_agree and _same_area(a, b)
    if a.place.precision == "rooftop" and b.place.precision == "rooftop":
        return (
            distance_km(a.place.point.lat, a.place.point.lon, b.place.point.lat, b.place.point.lon)
            <= SAME_OFFICE_KM
        )
    return False


def _other_suite(a: PlaceClaim, b: PlaceClaim) -> bool:
    """Whether two places name different suites of one street address: two offices, even where
    a third source that gives no suite would match both."""
    if a.street_key is None or b.street_key is None:
        return False
    street_a, unit_a = a.street_key.split("|")
    street_b, unit_b = b.street_key.split("|")
    return street_a == street_b and bool(unit_a) and bool(unit_b) and unit_a != unit_b


def _same_area(a: PlaceClaim, b: PlaceClaim) -> bool:
    """Whether two places name the same ZIP, or (where a ZIP is missing) the same city."""
    if a.zip5 and b.zip5:
        return a.zip5 == b.zip5
    if a.city_key and b.city_key:
        return a.city_key == b.city_key
    return False


def _office_for(claim: PlaceClaim, offices: list[list[PlaceClaim]]) -> list[PlaceClaim] | None:
    """The office an approximate place stands for: same ZIP, else same city, else the nearest
    office within reach."""
    if claim.zip5:
        for group in offices:
            if any(c.zip5 == claim.zip5 for c in group):
                return group
    if claim.city_key:
        for group in offices:
            if any(c.city_key == claim.city_key for c in group):
                return group
    reach = APPROXIMATE_REACH_KM.get(claim.place.precision, 0.0)
    best: tuple[float, list[PlaceClaim]] | None = None
    for group in offices:
        position = _best(group).place.point
        km = distance_km(claim.place.point.lat, claim.place.point.lon, position.lat, position.lon)
        if km <= reach and (best is None or km < best[0]):
            best = (km, group)
    return best[1] if best else None


def _best(group: list[PlaceClaim]) -> PlaceClaim:
    """The claim with the most precise position (then the most complete address)."""
    return min(
        group,
        key=lambda c: (
            PRECISION_RANK[c.place.precision],
            c.street_key is None,
            c.zip5 is None,
            c.source,
        ),
    )


def _location(group: list[PlaceClaim]) -> Location:
    position = _best(group)
    described = min(
        group,
        key=lambda c: (
            c.street_key is None,
            c.zip5 is None,
            c.city_key is None,
            PRECISION_RANK[c.place.precision],
            c.source,
        ),
    )
    address = described.address
    return Location(
        lat=round(position.place.point.lat, 6),
        lon=round(position.place.point.lon, 6),
        precision=position.place.precision,
        street=address.street_line if address else None,
        city=address.city if address else None,
        state=address.state if address else None,
        postal_code=address.zip5 if address else None,
        sources=tuple(dict.fromkeys(c.source for c in sorted(group, key=lambda c: c.source))),
    )


def _sort_key(location: Location) -> tuple[str, str, float, float]:
    return (location.state or "", location.city or "", location.lat, location.lon)
