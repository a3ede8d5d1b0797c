"""Every US city and town with a post office, from the ZIP table the ``zipcodes`` package ships.

A city is the set of ZIP codes whose primary city it is; its point is the mean of their
centroids. Cities that share a name are ranked by population (GeoNames' count for places of
1,000 people or more, ``data/us_city_population.tsv``), then by how many ZIP codes they have,
so "Austin" is Austin, TX, and "Did you mean" offers Austin, MN before Austin, AR. A name the
Postal Service also accepts for a ZIP ("Hollywood" for 90028) is a city too, ranked after the
primary names.

The table is read once, on the first lookup by name, into a compact in-memory index; ZIP
lookups never need it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import yaml
from rapidfuzz import fuzz, process

from indexer.taxonomy import fold
from indexer.zip_table import zip_rows

# USPS codes of the states, DC and the inhabited territories, with their names.
STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "Virgin Islands",
}

# Folded spellings of a state (code, name, a few common variants) -> its code.
_STATE_NAMES: dict[str, str] = {
    **{code.lower(): code for code in STATES},
    **{fold(name): code for code, name in STATES.items()},
    "washington dc": "DC",
    "washington d c": "DC",
    "d c": "DC",
    "us virgin islands": "VI",
    "mass": "MA",
    "calif": "CA",
    "penn": "PA",
    "wash": "WA",
}
# The most words a state's spelling has ("district of columbia").
STATE_MAX_WORDS = max(len(key.split()) for key in _STATE_NAMES)

# Words a person may abbreviate or not; both spellings become the short one in a key.
_KEY_WORDS = {"saint": "st", "sainte": "ste", "fort": "ft", "mount": "mt"}
_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")


def state_code(text: str) -> str | None:
    """The USPS code of a state typed as a code or a name in any case, else None."""
    return _STATE_NAMES.get(fold(text))


@lru_cache(maxsize=65536)
def city_key(name: str) -> str:
    """The key a city name is matched by: folded, with "Saint"/"St." and the like made one."""
    # Nearly every name is ASCII: skip the Unicode decomposition that fold() does.
    folded = _NON_WORD.sub(" ", name.lower()) if name.isascii() else fold(name)
    return " ".join(_KEY_WORDS.get(word, word) for word in folded.split())


@dataclass(frozen=True, slots=True)
class City:
    """A city or town: its name and state as the Postal Service spells them, point and size."""

    name: str
    state: str
    lat: float
    lon: float
    zip_count: int
    primary: bool = True  # False: only an "acceptable" name for ZIPs of another city
    population: int = 0  # 0: under 1,000 people, or not in GeoNames under this name

    @property
    def label(self) -> str:
        """ "City, ST"."""
        return f"{self.name}, {self.state}"


# Running totals of one city's ZIP centroids: [sum of latitudes, sum of longitudes, count, name].
_Totals = list


class Gazetteer:
    """Cities by key, and by key and state; the likeliest first when a name is shared.

    Built from running totals per (key, state) so that the one pass over the ZIP table is all
    the work done up front; City objects are made on lookup.
    """

    def __init__(
        self,
        primary: dict[str, dict[str, _Totals]],
        acceptable: dict[str, dict[str, _Totals]] | None = None,
        population: dict[tuple[str, str], int] | None = None,
    ) -> None:
        self._primary = primary
        self._acceptable = acceptable or {}
        self._population = population or {}
        self._keys_in_state: dict[str, list[str]] | None = None

    def find(self, name: str, state: str | None = None) -> tuple[City, ...]:
        """The cities called ``name`` (in ``state`` if given), the likeliest first."""
        key = city_key(name)
        if state is not None:
            totals = self._primary.get(key, {}).get(state)
            if totals is not None:
                return (self._city(key, totals, state, True),)
            totals = self._acceptable.get(key, {}).get(state)
            return (self._city(key, totals, state, False),) if totals is not None else ()
        found = [self._city(key, t, st, True) for st, t in self._primary.get(key, {}).items()]
        found += [
            self._city(key, t, st, False)
            for st, t in self._acceptable.get(key, {}).items()
            if st not in self._primary.get(key, {})
        ]
        return tuple(sorted(found, key=_rank))

    def suggest(self, name: str, state: str | None = None) -> City | None:
        """The city whose name is closest to a misspelt ``name``, if one is close enough."""
        key = city_key(name)
        if not key:
            return None
        if state is None:
            choices: list[str] = list(self._primary)
        else:
            choices = self._by_state().get(state, [])
        found = process.extract(key, choices, scorer=fuzz.ratio, score_cutoff=80, limit=5)
        if not found:
            return None
        # The closest spelling; among equally close ones, the biggest city.
        cities = [(score, self.find(choice, state)[0]) for choice, score, _ in found]
        return max(cities, key=lambda hit: (round(hit[0]), hit[1].population, hit[1].zip_count))[1]

    def cities(self) -> list[City]:
        """Every city under its primary name, for tests and tools."""
        return [
            self._city(key, t, st, True)
            for key, per in self._primary.items()
            for st, t in per.items()
        ]

    def _city(self, key: str, totals: _Totals, state: str, primary: bool) -> City:
        lat_sum, lon_sum, count, name = totals
        population = self._population.get((key, state), 0)
        return City(name, state, lat_sum / count, lon_sum / count, count, primary, population)

    def _by_state(self) -> dict[str, list[str]]:
        if self._keys_in_state is None:
            keys: dict[str, list[str]] = {}
            for key, per_state in self._primary.items():
                for state in per_state:
                    keys.setdefault(state, []).append(key)
            self._keys_in_state = keys
        return self._keys_in_state


def _rank(city: City) -> tuple[int, int, int, str]:
    return (0 if city.primary else 1, -city.population, -city.zip_count, city.state)


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer of every US city in the ZIP table, built once per process."""
    primary: dict[str, dict[str, _Totals]] = {}
    acceptable: dict[str, dict[str, _Totals]] = {}
    for row in zip_rows():
        if row["zip_code_type"] == "MILITARY" or not row["lat"]:
            continue
        lat, lon, state = float(row["lat"]), float(row["long"]), row["state"]
        for table, name in (
            (primary, row["city"]),
            *((acceptable, n) for n in row["acceptable_cities"]),
        ):
            per_state = table.setdefault(city_key(name), {})
            totals = per_state.get(state)
            if totals is None:
                per_state[state] = [lat, lon, 1, name]
            else:
                totals[0] += lat
                totals[1] += lon
                totals[2] += 1
    return Gazetteer(primary, acceptable, populations())


def populations() -> dict[tuple[str, str], int]:
    """(city key, state) -> people living there, from ``data/us_city_population.tsv``.

    Where GeoNames has two places of one name in a state (a town and a village of the same
    name), the larger one's count is kept.
    """
    text = resources.files("indexer").joinpath("data/us_city_population.tsv").read_text("utf-8")
    rows = csv.DictReader(
        (line for line in text.splitlines() if not line.startswith("#")), delimiter="\t"
    )
    found: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (city_key(row["name"]), row["state"])
        found[key] = max(found.get(key, 0), int(row["population"]))
    return found


@cache
def aliases() -> dict[str, tuple[str, str]]:
    """Nicknames of places ("NYC", "Philly") -> (city, state), from ``data/place_aliases.yaml``."""
    text = resources.files("indexer").joinpath("data/place_aliases.yaml").read_text("utf-8")
    table: dict[str, str] = yaml.safe_load(text) or {}
    found: dict[str, tuple[str, str]] = {}
    for alias, target in table.items():
        city, _, state = target.rpartition(",")
        found[city_key(str(alias))] = (city.strip(), state.strip().upper())
    return found


def normalize_spaces(text: str) -> str:
    """Collapse runs of white space and trim."""
    return _SPACES.sub(" ", text).strip()
