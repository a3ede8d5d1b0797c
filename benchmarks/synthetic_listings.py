"""Synthetic listings with a known truth, at any scale, for entity resolution.

People get given names from the ``nicknames`` dataset and made-up surnames drawn with a Zipf
law (a few very common, most rare), in a few hundred cities; each has one to four listings on
different sources, written with the variations real directories show: nicknames and initials,
surname typos, married names, moved offices, missing phones, license numbers with and without
their state, shared practice phones, Sr. and Jr. The result is resolution input
(:class:`~indexer.resolve.ListingKeys`) and the true person of every listing.
"""

from __future__ import annotations

import random
import string
from bisect import bisect
from itertools import accumulate

from nicknames import NickNamer

from indexer.normalize.names import name_key
from indexer.resolve import ListingKeys

SOURCES = ("atlas", "guild", "pages", "yelp")
STATES = ("TX", "FL", "NY", "CA", "WA", "IL", "CO", "NC")
_SYLLABLES = (
    "ba",
    "ker",
    "son",
    "mar",
    "tin",
    "ez",
    "lo",
    "pez",
    "wil",
    "li",
    "ams",
    "nguy",
    "en",
    "ko",
    "val",
    "sky",
    "ro",
    "dri",
    "guez",
    "hal",
    "den",
    "ber",
    "ger",
    "o",
)


def _surnames(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(names)


def _given_names() -> tuple[list[str], dict[str, list[str]]]:
    namer = NickNamer()
    formal = sorted(k for k, v in namer.canonical_lookup.items() if len(k) > 2 and v)[:1500]
    return formal, {name: sorted(namer.nicknames_of(name)) for name in formal}


def _typo(rng: random.Random, word: str) -> str:
    at = rng.randrange(len(word))
    return word[:at] + rng.choice(string.ascii_lowercase.replace(word[at], "")) + word[at + 1 :]


def synthetic_listings(people: int, seed: int = 0) -> tuple[list[ListingKeys], dict[str, int]]:  # noqa: C901 - one branch per way a listing differs from its person, drawn in a fixed seeded order
    """``people`` therapists' listings (about 1.7 each) and the true person of each listing."""
    rng = random.Random(seed)
    surnames = _surnames(rng, max(200, people // 3))
    surname_weights = list(accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(surnames))))
    given, nicknames = _given_names()
    given_weights = list(accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(given))))
    cities = [
        (f"city{n} {STATES[n % len(STATES)].lower()}", STATES[n % len(STATES)], n)
        for n in range(max(20, people // 2000))
    ]
    listings: list[ListingKeys] = []
    truth: dict[str, int] = {}
    practices: list[tuple[str, str, str, str]] = []  # shared phone, street, city, zip
    for person in range(people):
        last = surnames[bisect(surname_weights, rng.random() * surname_weights[-1])]
        first = given[bisect(given_weights, rng.random() * given_weights[-1])]
        city, state, city_n = cities[rng.randrange(len(cities))]
        zip5 = f"{10000 + city_n * 10 + rng.randrange(10):05d}"
        phone = f"+1{rng.randrange(200, 999)}{rng.randrange(10**7):07d}"
        street = f"{rng.randrange(1, 9999)} {rng.choice(surnames)} st||{zip5}"
        if practices and rng.random() < 0.1:  # a colleague at a shared practice
            phone, street, city, zip5 = rng.choice(practices)
        elif rng.random() < 0.05:
            practices.append((phone, street, city, zip5))
        license_number = f"{person + 100000}"
        suffix = rng.choice(("jr", "sr")) if rng.random() < 0.01 else None
        npi = f"1{person:09d}" if rng.random() < 0.3 else None
        lat = 30 + city_n * 0.01 + rng.random() * 0.1
        lon = -97 - rng.random() * 0.1
        for ordinal in range(rng.choice((1, 1, 2, 2, 2, 3, 4))):
            name, surname, z = first, last, zip5
            tel: str | None = phone
            addr: str | None = street
            licensed: frozenset[tuple[str, str]] = frozenset({(state, license_number)})
            unstated: frozenset[str] = frozenset()
            roll = rng.random()
            if ordinal and roll < 0.1 and nicknames[first]:
                name = rng.choice(nicknames[first])
            elif ordinal and roll < 0.15:
                name = first[0]
            elif ordinal and roll < 0.2:
                surname = _typo(rng, last)
            elif ordinal and roll < 0.24:
                surname = rng.choice(surnames)  # married name; the license bridges it
            elif ordinal and roll < 0.3:
                tel, addr = None, None
            elif ordinal and roll < 0.36:  # moved office
                tel = f"+1{rng.randrange(200, 999)}{rng.randrange(10**7):07d}"
                addr = f"{rng.randrange(1, 9999)} {rng.choice(surnames)} ave||{z}"
            if rng.random() < 0.3:
                licensed = frozenset()
            elif rng.random() < 0.1:
                licensed, unstated = frozenset(), frozenset({f"{state}{license_number}"})
            listing_id = f"{SOURCES[ordinal % len(SOURCES)]}-{person}-{ordinal}"
            truth[listing_id] = person
            listings.append(
                ListingKeys(
                    id=listing_id,
                    source=SOURCES[ordinal % len(SOURCES)],
                    name_key=name_key(name, surname),
                    last_name=surname,
                    full_name=f"{name} {surname}",
                    phone=tel,
                    zip5=z,
                    city_key=city,
                    street_key=addr,
                    lat=lat if addr else None,
                    lon=lon if addr else None,
                    npi=npi if rng.random() < 0.7 else None,
                    licenses=licensed,
                    generation=suffix,
                    first_name=name,
                    unstated_licenses=unstated,
                )
            )
    rng.shuffle(listings)
    return listings, truth
