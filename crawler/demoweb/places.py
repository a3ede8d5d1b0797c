"""Real US places: ZIP codes, their centroids and area codes, grouped by the metros' cities.

Practices are put at plausible coordinates near a real ZIP centroid from the ``zipcodes``
package, which ships its data, so nothing here needs the network.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache

import zipcodes

from crawler.demoweb import vocab
from crawler.demoweb.model import Address


@dataclass(frozen=True, slots=True)
class Zip:
    """One standard, active ZIP code with its centroid."""

    code: str
    city: str
    state: str
    lat: float
    lon: float
    area_codes: tuple[str, ...]


@cache
def _zips_by_city() -> dict[tuple[str, str], tuple[Zip, ...]]:
    wanted = {(city, m.state) for m in vocab.metros() for city, _ in m.cities}
    found: dict[tuple[str, str], list[Zip]] = {key: [] for key in wanted}
    for z in zipcodes.list_all():
        key = (z["city"], z["state"])
        if key not in found or z["zip_code_type"] != "STANDARD" or not z["active"]:
            continue
        found[key].append(
            Zip(
                code=z["zip_code"],
                city=z["city"],
                state=z["state"],
                lat=float(z["lat"]),
                lon=float(z["long"]),
                area_codes=tuple(z.get("area_codes") or ()),
            )
        )
    empty = sorted(f"{c}, {s}" for (c, s), zs in found.items() if not zs)
    if empty:
        raise RuntimeError(f"metros.yaml names cities without ZIP codes: {', '.join(empty)}")
    return {key: tuple(sorted(zs, key=lambda z: z.code)) for key, zs in found.items()}


def zips_in(city: str, state: str) -> tuple[Zip, ...]:
    """The standard, active ZIP codes of a metro city, in code order."""
    return _zips_by_city()[(city, state)]


@cache
def zip_by_code() -> dict[str, Zip]:
    """Every metro ZIP by its code."""
    return {z.code: z for zs in _zips_by_city().values() for z in zs}


def pick_metro(rng: random.Random) -> vocab.Metro:
    """A metro chosen in proportion to its weight."""
    ms = vocab.metros()
    return rng.choices(ms, weights=[m.weight for m in ms])[0]


def random_address(rng: random.Random, metro: vocab.Metro) -> tuple[Address, Zip]:
    """A practice address in ``metro``, a few hundred metres to a few km from a ZIP centroid."""
    st = vocab.streets()
    cities = metro.cities
    city = rng.choices([c for c, _ in cities], weights=[w for _, w in cities])[0]
    z = rng.choice(zips_in(city, metro.state))
    suffix = rng.choice(st["suffixes"])[0]
    direction = rng.choice(st["directions"])[0] if rng.random() < 0.15 else None
    number = str(rng.choice((rng.randint(100, 999), rng.randint(1000, 9999), rng.randint(10, 99))))
    unit_kind: str | None = None
    unit: str | None = None
    roll = rng.random()
    if roll < 0.38:
        unit_kind, unit = "suite", str(rng.choice((rng.randint(100, 450), rng.randint(1, 30))))
    elif roll < 0.46:
        unit_kind, unit = "unit", rng.choice((str(rng.randint(1, 40)), rng.choice("ABCDEF")))
    elif roll < 0.49:
        unit_kind, unit = "room", str(rng.randint(101, 320))
    elif roll < 0.51:
        unit_kind, unit = "building", rng.choice("ABCD")
    # Gaussian scatter of ~1.5 km around the centroid: practices cluster in a ZIP, not on its point.
    lat = round(z.lat + rng.gauss(0, 0.012), 6)
    lon = round(z.lon + rng.gauss(0, 0.015), 6)
    address = Address(
        number=number,
        street=rng.choice(st["names"]),
        suffix=suffix,
        direction=direction,
        unit_kind=unit_kind,
        unit=unit,
        city=z.city,
        state=z.state,
        zip=z.code,
        zip4=f"{rng.randint(1000, 9999)}",
        lat=lat,
        lon=lon,
    )
    return address, z


def distance_km(a: Address, b: Address) -> float:
    """The distance between two addresses' coordinates (equirectangular; fine within a metro)."""
    dlat = math.radians(b.lat - a.lat)
    dlon = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371.0 * math.hypot(dlat, dlon)
