"""Who the foreign test population is: massage therapists, their offices and their listings.

This is an entity-resolution test population written independently of the project's demo web:
its own name lists (``data/``), its own license shapes and its own styles of variation between
the listings of one person. :func:`build_population` decides every person and every listing
(which site, which office, which name form, which credentials shown); ``render`` turns the
listings into pages. Everything is drawn from one seeded ``random.Random``: the same seed gives
the same population.

Variation styles (recorded per person, see ``STYLES``): ``last_first``, ``nickname``,
``initials``, ``surname_typo``, ``maiden_name``, ``moved``, ``stale_duplicate``,
``stateless_license``, and the group styles ``shared_practice``, ``senior_junior`` and
``namesake``. ``no_license`` marks a person one of whose listings shows no license.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

NAME_STYLES = ("last_first", "nickname", "initials", "surname_typo", "maiden_name")
PERSON_STYLES = (*NAME_STYLES, "moved", "stale_duplicate", "stateless_license")
GROUP_STYLES = ("shared_practice", "senior_junior", "namesake")
STYLES = (*PERSON_STYLES, *GROUP_STYLES, "no_license")
SITES = ("healers", "bodyworkers")

# Share of people given each person-level style; every style reaches at least _MIN_STYLE.
_STYLE_SHARE = {
    "last_first": 0.06,
    "nickname": 0.06,
    "initials": 0.06,
    "surname_typo": 0.045,
    "maiden_name": 0.045,
    "moved": 0.07,
    "stale_duplicate": 0.04,
    "stateless_license": 0.12,
}
_MIN_STYLE = 10
_MIN_GROUPS = {"namesake": 5, "senior_junior": 5, "shared_practice": 4}
_TYPO_NEIGHBOURS = {
    "a": "es",
    "e": "ar",
    "i": "uo",
    "o": "ip",
    "u": "yi",
    "n": "mb",
    "m": "n",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "l": "k",
    "c": "xv",
    "d": "sf",
    "g": "fh",
    "h": "gj",
    "k": "jl",
    "y": "tu",
    "z": "x",
    "b": "vn",
}


@dataclass(frozen=True)
class City:
    """A real US city the population practises in."""

    name: str
    state: str
    lat: float
    lon: float
    area_codes: tuple[str, ...]
    zips: tuple[str, ...]


@dataclass(frozen=True)
class StateRules:
    """How a state's massage license numbers look."""

    code: str
    name: str
    board: str
    prefix: str
    lead: str
    digits: int
    stateless_forms: tuple[str, ...]


@dataclass
class Office:
    """Where a therapist works: one street address and one telephone line."""

    number: int
    street: str
    kind: str  # "Street", "Avenue"... or "" (Broadway)
    suite: str | None
    city: City
    zip: str
    phone: str  # ten digits
    lat: float
    lon: float
    practice: str | None = None


@dataclass(frozen=True)
class Certification:
    """A national certification: ``BCTMB`` (board certified) or ``NCBTMB`` (older, national)."""

    short: str
    number: str


@dataclass
class Listing:
    """One directory listing of a person: where it is and what it shows."""

    person: Person
    site: str
    office: Office
    surname: str  # the surname this listing uses (maiden name, typo...)
    form: str = "plain"  # plain | last_first | nickname | initial | middle_initial
    license: str = "state"  # state | stateless | none
    show_npi: bool = False
    show_cert: bool = False
    rating: tuple[float, int] | None = None
    as_business: bool = False  # bodyworkers: listed as a one-person business
    path: str = ""

    @property
    def name(self) -> str:
        """The name as this listing writes it."""
        p = self.person
        given = p.nickname if self.form == "nickname" and p.nickname else p.given
        if self.form == "last_first":
            middle = f" {p.middle[0]}." if p.middle and p.pid % 2 else ""
            surname = self.surname.upper() if p.pid % 3 == 0 else self.surname
            return f"{surname}, {given}{middle}"
        if self.form == "initial":
            return f"{given[0]}. {self.surname}"
        if self.form == "middle_initial" and p.middle:
            given = f"{given} {p.middle[0]}."
        name = f"{given} {self.surname}"
        if p.suffix:
            name += f", {p.suffix}" if p.pid % 2 else f" {p.suffix}"
        return name


@dataclass
class Person:
    """One therapist: who they are, what they hold and where they have worked."""

    pid: int
    given: str
    surname: str
    sex: str
    city: City
    license: str
    license_digits: str
    middle: str | None = None
    suffix: str | None = None
    nickname: str | None = None
    maiden: str | None = None
    hyphenated: bool = False  # current listings show "Maiden-Married"
    typo: str | None = None
    npi: str | None = None
    cert: Certification | None = None
    modalities: list[str] = field(default_factory=list)
    office: Office | None = None
    old_office: Office | None = None
    styles: list[str] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    group: str | None = None  # shared_practice | senior_junior | namesake

    @property
    def full_name(self) -> str:
        """The person's current name, as the truth file records it."""
        middle = f" {self.middle}" if self.middle else ""
        suffix = f" {self.suffix}" if self.suffix else ""
        return f"{self.given}{middle} {self.surname}{suffix}"


@dataclass
class Population:
    """Everyone, in person id order, and the data they were drawn from."""

    people: list[Person]
    states: dict[str, StateRules]
    practice_words: dict[str, list[str]]

    def listings(self) -> list[Listing]:
        """Every listing of every person."""
        return [listing for person in self.people for listing in person.listings]


# -- data --------------------------------------------------------------------------------------


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass
class _Data:
    given: list[dict[str, str]]
    surnames: list[str]
    common_surnames: list[str]
    streets: list[tuple[str, str]]
    cities: list[City]
    states: dict[str, StateRules]
    practice: dict[str, list[str]]

    @classmethod
    def load(cls) -> _Data:
        surnames = _rows("surnames.csv")
        states = {
            code: StateRules(
                code=code,
                name=s["name"],
                board=s["board"],
                prefix=s["prefix"],
                lead=s["lead"],
                digits=int(s["digits"]),
                stateless_forms=tuple(s["stateless_forms"]),
            )
            for code, s in _json("states.json")["states"].items()
        }
        cities = [
            City(
                name=c["city"],
                state=c["state"],
                lat=float(c["lat"]),
                lon=float(c["lon"]),
                area_codes=tuple(c["area_codes"]),
                zips=tuple(c["zips"]),
            )
            for c in _json("cities.json")["cities"]
        ]
        practice = _json("practices.json")
        return cls(
            given=_rows("given_names.csv"),
            surnames=[r["surname"] for r in surnames],
            common_surnames=[r["surname"] for r in surnames if r["common"] == "1"],
            streets=[(r["name"], r["kind"]) for r in _rows("streets.csv")],
            cities=cities,
            states=states,
            practice={k: v for k, v in practice.items() if not k.startswith("_")},
        )


# -- identifiers -------------------------------------------------------------------------------


def npi_check_digit(base9: str) -> str:
    """The Luhn check digit of a 9-digit NPI base, computed over ``80840`` + base (as NPPES)."""
    digits = [int(d) for d in "80840" + base9]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # doubled: every second digit from the right, check digit absent
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def valid_npi(npi: str) -> bool:
    """Whether ``npi`` is ten digits passing the Luhn check with the ``80840`` prefix."""
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


class _Numbers:
    """Unique license digits, NPIs, certification numbers, phones and street addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _unique(self, make: Any) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def license(self, rules: StateRules) -> tuple[str, str]:
        width = rules.digits - len(rules.lead)
        low = 10 ** (width - 1) if not rules.lead else 0
        digits = self._unique(
            lambda: f"lic:{rules.lead}{self.rng.randrange(low, 10**width):0{width}d}"
        )[4:]
        return rules.prefix + digits, digits

    def npi(self) -> str:
        base = self._unique(lambda: f"npi:1{self.rng.randrange(10**8):08d}")[4:]
        return base + npi_check_digit(base)

    def cert(self) -> str:
        return self._unique(lambda: f"cert:9{self.rng.randrange(10**5, 10**6)}")[5:]

    def phone(self, city: City) -> str:
        def make() -> str:
            exchange = self.rng.randrange(200, 1000)
            while exchange % 100 == 11 or exchange == 555:
                exchange = self.rng.randrange(200, 1000)
            line = self.rng.randrange(0, 10000)
            return f"tel:{self.rng.choice(city.area_codes)}{exchange}{line:04d}"

        return self._unique(make)[4:]

    def street(self, city: City, streets: list[tuple[str, str]]) -> tuple[int, str, str]:
        number, name, kind = 0, "", ""

        def make() -> str:
            nonlocal number, name, kind
            number = self.rng.randrange(100, 9900)
            name, kind = self.rng.choice(streets)
            return f"addr:{city.name}:{number}:{name}"

        self._unique(make)
        return number, name, kind


# -- the population ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, size: int) -> None:
        self.rng = random.Random(seed)
        self.size = size
        self.data = _Data.load()
        self.numbers = _Numbers(self.rng)
        self.people: list[Person] = []
        self.names: set[tuple[str, str, str]] = set()  # (given, surname, city) in use
        self.practices: set[str] = set()

    # people and offices

    def given_name(self, sex: str | None = None, common: bool = False) -> dict[str, str]:
        pool = [
            g
            for g in self.data.given
            if (sex is None or g["sex"] == sex) and (not common or g["common"] == "1")
        ]
        return self.rng.choice(pool)

    def office(self, city: City, practice: str | None = None) -> Office:
        number, street, kind = self.numbers.street(city, self.data.streets)
        suite = None
        if self.rng.random() < 0.55:
            suite = str(self.rng.choice((1, 2, 3, 4, 5)) * 100 + self.rng.randrange(1, 40))
        return Office(
            number=number,
            street=street,
            kind=kind,
            suite=suite,
            city=city,
            zip=self.rng.choice(city.zips),
            phone=self.numbers.phone(city),
            lat=round(city.lat + self.rng.uniform(-0.07, 0.07), 6),
            lon=round(city.lon + self.rng.uniform(-0.09, 0.09), 6),
            practice=practice,
        )

    def practice_name(self, surname: str | None = None) -> str:
        words = self.data.practice
        for attempt in range(1_000):
            lead = surname or self.rng.choice(words["leads"])
            name = f"{lead} {self.rng.choice(words['kinds'])}"
            if attempt > 50:  # every plain name taken: number the branch, as chains do
                name = f"{name} {attempt}"
            if name not in self.practices:
                self.practices.add(name)
                return name
        raise RuntimeError("no unused practice name")

    def person(
        self,
        city: City,
        *,
        given: dict[str, str] | None = None,
        surname: str | None = None,
        sex: str | None = None,
        unique_name: bool = True,
    ) -> Person:
        while True:
            g = given or self.given_name(sex)
            s = surname or self.rng.choice(self.data.surnames)
            if not unique_name or (g["name"], s, city.name) not in self.names:
                break
            given = surname = None  # drawn again
        self.names.add((g["name"], s, city.name))
        rules = self.data.states[city.state]
        license, digits = self.numbers.license(rules)
        person = Person(
            pid=0,
            given=g["name"],
            surname=s,
            sex=g["sex"],
            city=city,
            license=license,
            license_digits=digits,
        )
        if self.rng.random() < 0.4:
            person.middle = self.given_name(g["sex"])["name"]
        if self.rng.random() < 0.35:
            person.npi = self.numbers.npi()
        if self.rng.random() < 0.3:
            person.cert = Certification(
                self.rng.choice(("BCTMB", "BCTMB", "NCBTMB")), self.numbers.cert()
            )
        person.modalities = self.rng.sample(self.data.practice["modalities"], 3)
        return person

    def add(self, person: Person) -> Person:
        person.pid = len(self.people) + 1
        self.people.append(person)
        return person

    def build(self) -> Population:
        self.groups()
        cities = self.data.cities
        while len(self.people) < self.size:
            person = self.person(self.rng.choice(cities))
            practice = self.practice_name() if self.rng.random() < 0.65 else None
            person.office = self.office(person.city, practice)
            self.add(person)
        self.assign_styles()
        for person in self.people:
            self.make_listings(person)
        self.ensure_linkable()
        return Population(self.people, self.data.states, self.data.practice)

    # groups

    def groups(self) -> None:  # noqa: C901 - one branch per kind of group the population plants
        share = self.size / 260
        cities = self.data.cities
        # Namesakes: two different people of one common name in one city.
        for _ in range(max(_MIN_GROUPS["namesake"], round(6 * share))):
            city = self.rng.choice(cities)
            while True:
                given = self.given_name(common=True)
                surname = self.rng.choice(self.data.common_surnames)
                if (given["name"], surname, city.name) not in self.names:
                    break
            for _ in range(2):
                person = self.person(city, given=given, surname=surname, unique_name=False)
                practice = self.practice_name() if self.rng.random() < 0.5 else None
                person.office = self.office(city, practice)
                person.group = "namesake"
                self.add(person).styles.append("namesake")
        # Senior and junior at one family practice.
        for _ in range(max(_MIN_GROUPS["senior_junior"], round(5 * share))):
            city = self.rng.choice(cities)
            given = self.given_name("M")
            surname = self.rng.choice(self.data.surnames)
            while (given["name"], surname, city.name) in self.names:
                surname = self.rng.choice(self.data.surnames)
            practice = self.practice_name(surname) if self.rng.random() < 0.7 else None
            office = self.office(city, practice)
            for suffix in ("Sr.", "Jr."):
                person = self.person(city, given=given, surname=surname, unique_name=False)
                person.suffix = suffix
                person.office = office
                person.group = "senior_junior"
                self.add(person).styles.append("senior_junior")
        # Shared practices: 2-4 different people at one clinic, sometimes a married couple.
        for _ in range(max(_MIN_GROUPS["shared_practice"], round(9 * share))):
            city = self.rng.choice(cities)
            office = self.office(city, self.practice_name())
            size = self.rng.choice((2, 2, 3, 3, 4))
            couple = self.rng.random() < 0.4
            surname = self.rng.choice(self.data.surnames) if couple else None
            firsts: set[str] = set()
            for index in range(size):
                sex = ("F", "M")[index % 2] if couple and index < 2 else None
                while True:
                    given = self.given_name(sex)
                    family = (
                        surname if couple and index < 2 else self.rng.choice(self.data.surnames)
                    )
                    if (
                        given["name"] not in firsts
                        and (given["name"], family, city.name) not in self.names
                    ):
                        break
                firsts.add(given["name"])
                person = self.person(city, given=given, surname=family)
                person.office = office
                person.group = "shared_practice"
                self.add(person).styles.append("shared_practice")

    # styles

    def assign_styles(self) -> None:
        for style, share in _STYLE_SHARE.items():
            wanted = max(_MIN_STYLE, round(share * self.size))
            eligible = [p for p in self.people if self.eligible(p, style)]
            self.rng.shuffle(eligible)
            for person in eligible[:wanted]:
                person.styles.append(style)
                self.prepare(person, style)

    def eligible(self, person: Person, style: str) -> bool:  # noqa: C901 - one rule per listing style
        if style in person.styles:
            return False
        name_styles = [s for s in person.styles if s in NAME_STYLES]
        if style in NAME_STYLES and name_styles:
            return False
        if len([s for s in person.styles if s not in GROUP_STYLES]) >= 2:
            return False
        group = person.group
        if group == "senior_junior":
            return style in ("stale_duplicate", "stateless_license")
        if group == "namesake" and style not in ("last_first", "stateless_license"):
            return False
        if style == "nickname":
            return any(g["name"] == person.given and g["nicknames"] for g in self.data.given)
        if style == "initials":
            if group == "shared_practice":
                return False
            if person.middle:
                return True
            # "J. Smith" only where no one else in the city is a J. Smith.
            return not any(
                o is not person
                and o.city == person.city
                and o.surname == person.surname
                and o.given[0] == person.given[0]
                for o in self.people
            )
        if style == "maiden_name":
            return person.sex == "F"
        return True

    def prepare(self, person: Person, style: str) -> None:
        if style == "nickname":
            row = next(g for g in self.data.given if g["name"] == person.given)
            person.nickname = self.rng.choice(row["nicknames"].split("|"))
        elif style == "maiden_name":
            while True:
                maiden = self.rng.choice(self.data.surnames)
                if maiden != person.surname:
                    break
            person.maiden = maiden
            # Some keep the maiden name before the married one on their current listings.
            person.hyphenated = self.rng.random() < 0.3
            if self.rng.random() < 0.6:
                person.old_office = self.office(person.city, self.maybe_practice())
        elif style == "surname_typo":
            person.typo = self.typo(person.surname)
        elif style == "moved":
            city = person.city
            if self.rng.random() < 0.25:
                same_state = [c for c in self.data.cities if c.state == city.state]
                city = self.rng.choice(same_state)
            if person.old_office is None:
                person.old_office = self.office(city, self.maybe_practice())

    def maybe_practice(self) -> str | None:
        return self.practice_name() if self.rng.random() < 0.5 else None

    def typo(self, surname: str) -> str:
        known = set(self.data.surnames)
        lower = surname.lower()
        while True:
            at = self.rng.randrange(1, len(surname))
            letter = lower[at]
            if not surname[at].islower():
                continue
            operation = self.rng.random()
            if operation < 0.5 and letter in _TYPO_NEIGHBOURS:
                changed = (
                    surname[:at] + self.rng.choice(_TYPO_NEIGHBOURS[letter]) + surname[at + 1 :]
                )
            elif operation < 0.75 and len(surname) > 4:
                changed = surname[:at] + surname[at + 1 :]
            else:
                changed = surname[:at] + letter + surname[at:]
            if changed != surname and changed not in known:
                return changed

    # listings

    def make_listings(self, person: Person) -> None:  # noqa: C901 - one branch per listing style, drawn in a fixed seeded order
        rng = self.rng
        styles = set(person.styles)
        varied = styles & {"last_first", "nickname", "initials", "surname_typo", "maiden_name"}
        count = rng.choices((1, 2, 3), (0.34, 0.62, 0.04))[0]
        if varied or "moved" in styles:
            count = max(count, 2)
        if person.typo and person.old_office is not None:
            count = 3  # the typo needs a listing at the same office
        if "stale_duplicate" in styles:
            count = max(count, 2)
        elif count == 3:
            styles.add("stale_duplicate")
            person.styles.append("stale_duplicate")
        assert person.office is not None
        first = rng.choice(SITES)
        other = SITES[1 - SITES.index(first)]
        if "stale_duplicate" in styles:
            sites = [first, first, other][:count]
        else:
            sites = [first, other][:count]
        listings = [Listing(person, site, person.office, person.surname) for site in sites]
        # The older listing (at the old office, under the maiden name) is the stale one: the
        # second on a site that lists the person twice, else the last.
        old = listings[1] if "stale_duplicate" in styles else listings[-1]
        if person.old_office is not None:
            old.office = person.old_office
        if person.maiden:
            old.surname = person.maiden
            if person.hyphenated:
                for listing in listings:
                    if listing is not old:
                        listing.surname = f"{person.maiden}-{person.surname}"
        same_office = [x for x in listings if x is not old] or listings
        if person.typo:
            target = same_office[-1] if len(same_office) > 1 else old
            target.surname = person.typo
        form = {"last_first": "last_first", "nickname": "nickname"}
        for style, value in form.items():
            if style in styles:
                rng.choice(listings).form = value
        if "initials" in styles:
            rng.choice(listings).form = "middle_initial" if person.middle else "initial"
        self.credentials(person, listings, styles, old)
        for listing in listings:
            office = listing.office
            if listing.site == "healers" and office.practice and rng.random() < 0.5:
                listing.rating = (round(rng.uniform(3.6, 5.0), 1), rng.randrange(3, 140))
            if (
                listing.site == "bodyworkers"
                and office.practice is None
                and person.group is None
                and rng.random() < 0.3
            ):
                listing.as_business = True
                listing.rating = (round(rng.uniform(3.4, 5.0), 1), rng.randrange(1, 60))
        person.listings = listings

    def credentials(
        self, person: Person, listings: list[Listing], styles: set[str], old: Listing
    ) -> None:
        rng = self.rng
        for listing in listings:
            listing.show_npi = person.npi is not None and rng.random() < 0.75
            listing.show_cert = person.cert is not None and rng.random() < 0.7
        if "stateless_license" in styles:
            chosen = [x for x in listings if rng.random() < 0.5] or [rng.choice(listings)]
            for listing in chosen:
                listing.license = "stateless"
        # Older pages (a former office, a former name) come from templates that did not yet ask
        # which state issued the license.
        if (person.old_office or person.maiden) and rng.random() < 0.4:
            old.license = "stateless"
            if "stateless_license" not in person.styles:
                person.styles.append("stateless_license")
        # Sometimes a listing shows no license: where another listing of the person is at the
        # same office, or for a one-listing person; a namesake does so in half the pairs.
        if person.group == "namesake" and person.pid % 2 == 0 and rng.random() < 0.5:
            candidates = listings
        elif rng.random() < 0.1:
            candidates = listings if len(listings) == 1 else listings[1:]
        else:
            candidates = []
        for listing in candidates[:1]:
            if listing.license == "state":
                listing.license = "none"

    def ensure_linkable(self) -> None:
        """Give every listing a link to the person's others: a shared office or the license.

        A listing at an office no other listing of the person shows, or under a name the
        others do not share, must show the license (in some form); a person's listings are
        then one connected group by what they publish.
        """
        for person in self.people:
            listings = person.listings
            if len(listings) < 2:
                if person.listings[0].license == "none":
                    person.styles.append("no_license")
                continue
            for listing in listings:
                # A typo of the surname still names the same person; a maiden name does not
                # without more (the license).
                partners = [
                    x
                    for x in listings
                    if x is not listing
                    and x.office is listing.office
                    and x.license != "none"
                    and {x.surname, listing.surname} <= {person.surname, person.typo}
                ]
                if listing.license == "none" and not partners:
                    listing.license = "state"
            if not any(x.license != "none" for x in listings):
                listings[0].license = "state"
            if any(x.license == "none" for x in listings):
                person.styles.append("no_license")


def build_population(seed: int = 7, people: int = 260) -> Population:
    """The whole population for ``seed``: the same seed, the same people and listings."""
    return _Builder(seed, people).build()
