"""The Texas Department of Licensing and Regulation's license data file, for the demo's TX board.

The real file (one per program, and one of every TDLR license, also on the state's open data
portal: https://data.texas.gov/dataset/TDLR-All-Licenses/7358-krk7) has the header below,
every row one license. An individual's row repeats the owner's name as the business name and
gives a mailing address; an establishment's row names the business, its address and its owner.
Dates are eight digits, ``MMDDCCYY``; names ``LAST, FIRST MIDDLE``; a city, state and ZIP are
one field, ``AUSTIN, TX 78704`` or ``AUSTIN TX 78704``. There is no status column: a license
past its expiry is expired.

The demo's file lists the massage program only: every massage therapist license of the
population in force or lapsed (the file cannot say a license is suspended or revoked, so those
are not in it; the board's lookup pages still show them), and the massage establishments some
licensed therapists own, their owner named on the row.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import zipcodes

from crawler.demoweb.model import Address, Therapist
from crawler.demoweb.store import Population
from crawler.demoweb.variants import stream

HEADER = (
    "LICENSE TYPE",
    "LICENSE NUMBER",
    "BUSINESS COUNTY",
    "BUSINESS NAME",
    "BUSINESS ADDRESS-LINE1",
    "BUSINESS ADDRESS-LINE2",
    "BUSINESS CITY, STATE ZIP",
    "BUSINESS TELEPHONE",
    "LICENSE EXPIRATION DATE (MMDDCCYY)",
    "OWNER NAME",
    "MAILING ADDRESS LINE1",
    "MAILING ADDRESS LINE2",
    "MAILING ADDRESS CITY, STATE ZIP",
    "MAILING ADDRESS COUNTY",
    "OWNER TELEPHONE",
    "LICENSE SUBTYPE",
    "CONTINUING EDUCATION FLAG",
)
THERAPIST = "Massage Therapist"
ESTABLISHMENT = "Massage Establishment"
IN_FILE = ("active", "expired")
"""The statuses of the licenses the file lists (it has no column to say any other)."""

ESTABLISHMENT_SHARE = 0.25  # of licensed therapists in force, who own a licensed establishment
ESTABLISHMENT_TERM = timedelta(days=2 * 365)


@dataclass(frozen=True, slots=True)
class FileLicense:
    """A massage therapist license as the file lists it."""

    number: str
    status: str
    expires: date
    holder: Therapist


@dataclass(frozen=True, slots=True)
class Establishment:
    """A massage establishment license: a business, its owner one of the therapists."""

    number: str
    business: str
    address: Address
    expires: date
    owner: Therapist


def owner_name(t: Therapist) -> str:
    """``LAST, FIRST MIDDLE`` in capitals, as the file writes an owner."""
    given = " ".join(part for part in (t.first, t.middle) if part)
    return f"{t.last}, {given}".upper()


@cache
def county(zip_code: str) -> str:
    """The county of a ZIP code as TDLR writes it (``TRAVIS``), or "" when unknown."""
    found = zipcodes.matching(zip_code)
    name = found[0].get("county", "") if found else ""
    return name.removesuffix(" County").upper()


class TdlrLicenseFile:
    """Builds the file once per served world (the world never changes while it is served)."""

    def __init__(self, population: Population, seed: int, as_of: date) -> None:
        self.population = population
        self.seed = seed
        self.as_of = as_of
        self._text: str | None = None
        self._lock = threading.Lock()

    def licenses(self) -> list[FileLicense]:
        """Every massage therapist license in the file, by number."""
        marks = ",".join("?" * len(IN_FILE))
        rows = self.population.query(
            "SELECT number, status, expires, therapist_id FROM license "
            f"WHERE state = 'TX' AND status IN ({marks}) ORDER BY number",
            IN_FILE,
        )
        out = []
        for number, status, expires, tid in rows:
            holder = self.population.therapist(int(tid))
            assert holder is not None, f"license {number} has no holder {tid}"
            out.append(FileLicense(number, status, date.fromisoformat(expires), holder))
        return out

    def establishments(self) -> list[Establishment]:
        """The establishments some therapists with a license in force own, by number."""
        found = []
        for lic in self.licenses():
            t = lic.holder
            rng = stream(self.seed, "tdlr-establishment", t.id)
            if lic.status != "active" or t.address.state != "TX":
                continue
            if rng.random() >= ESTABLISHMENT_SHARE:
                continue
            renewed = self.as_of + timedelta(days=rng.randint(30, ESTABLISHMENT_TERM.days))
            found.append((t, renewed))
        # Numbered in holder order, so the same world always gives the same numbers.
        return [
            Establishment(f"ME{10000 + k:05d}", t.practice, t.address, renewed, t)
            for k, (t, renewed) in enumerate(sorted(found, key=lambda pair: pair[0].id))
        ]

    def text(self) -> str:
        """The whole file (CRLF lines, every field quoted where it must be)."""
        with self._lock:
            if self._text is None:
                self._text = self._write()
            return self._text

    def _write(self) -> str:
        rows = [self._therapist_row(lic) for lic in self.licenses()]
        rows += [self._establishment_row(e) for e in self.establishments()]
        rows.sort(key=lambda row: row[1])
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        return buf.getvalue()

    def _therapist_row(self, lic: FileLicense) -> list[str]:
        t = lic.holder
        # The address on record in Texas: the current one, or the one before a move away.
        home = t.address if t.address.state == "TX" else t.previous_address
        rng = stream(self.seed, "tdlr-row", lic.number)
        ce_done = lic.status == "active" and rng.random() < 0.9
        name = owner_name(t)
        return [
            THERAPIST,
            lic.number,
            county(home.zip) if home else "",
            name,
            "",
            "",
            "",
            "",
            lic.expires.strftime("%m%d%Y"),
            name,
            *_mailing(home, rng.random() < 0.5),
            t.phone,
            "Massage Therapist",
            "Y" if ce_done else "N",
        ]

    def _establishment_row(self, e: Establishment) -> list[str]:
        rng = stream(self.seed, "tdlr-row", e.number)
        street, unit, place, where = _mailing(e.address, rng.random() < 0.5)
        return [
            ESTABLISHMENT,
            e.number,
            where,
            e.business.upper(),
            street,
            unit,
            place,
            e.owner.phone,
            e.expires.strftime("%m%d%Y"),
            owner_name(e.owner),
            street,
            unit,
            place,
            where,
            e.owner.phone,
            "Massage Establishment",
            "N",
        ]


def _mailing(addr: Address | None, comma: bool) -> list[str]:
    """Line 1, line 2, "CITY, ST ZIP" (or without the comma) and county of an address."""
    if addr is None:
        return ["", "", "", ""]
    city = f"{addr.city.upper()}{',' if comma else ''} {addr.state} {addr.zip}"
    return [addr.street_line.upper(), (addr.unit_line or "").upper(), city, county(addr.zip)]
