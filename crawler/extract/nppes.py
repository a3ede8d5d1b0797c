"""The NPPES downloadable file (the NPI registry's bulk data): its layout, and rows to records.

CMS publishes the registry as a monthly full replacement file and weekly update files, each a
ZIP holding the data file ``npidata_pfile_<from>-<to>.csv`` beside its header file
(``npidata_pfile_<from>-<to>_fileheader.csv``) and reference files (other names, practice
locations, endpoints) and two PDFs. The data file has one row per NPI and 330 columns; every
value is in double quotes (a double quote inside a value is written as a single quote) and dates
are MM/DD/YYYY. A provider lists up to 15 taxonomies, each with a license number, the license's
state and a primary flag (columns ``..._1`` to ``..._15``).

Sources: CMS, "NPPES Data Dissemination - Readme" (updated February 1, 2025; in every bundle as
``NPPES_Data_Dissemination_Readme.pdf``), sections 1.1 to 1.4 and Exhibit 2-1 "Data File Layout";
the download page https://download.cms.gov/nppes/NPI_Files.html. The header, all 330 columns in
order, ships as ``crawler/data/nppes_header.csv``. Earlier vintages call column 42 "Provider
Gender Code" (now "Provider Sex Code"), and the readme's exhibit spells "Other Provider Identifier
Issuer_k" as "...Issue_k": columns are found by name, never by position, so a renamed column this
module does not read, or columns added or moved, change nothing; a needed column that is missing
is a :class:`NppesLayoutError` naming every one missing.

A row is kept when one of its 15 taxonomy codes is the one asked for (``225700000X``, Massage
Therapist) and it is a person (entity type 1). It gives:

- a :class:`~crawler.items.CredentialRecord` of the NPI (issuer_kind ``npi_registry``, status
  ``Active`` or ``Deactivated``): an NPI with a deactivation date and no later reactivation is
  deactivated;
- for an NPI in use, a :class:`~crawler.items.Listing` (name, practice location address and
  phone, the NPI) whose claimed credentials are the state licenses of its massage-therapist
  taxonomies, so that the indexer checks them against the boards.

Record ids are stable per NPI (``stable_id(source, "<npi>/listing")`` and ``"<npi>/npi"``),
whichever file the row came from: a newer version of a provider replaces the older one, and a
row emitted again (by a resumed run) is the same record.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any

from crawler.extract.npi import ISSUER, MASSAGE_THERAPIST_TAXONOMY, format_postal_code
from crawler.extract.result import ExtractionError
from crawler.items import (
    ClaimedCredential,
    CredentialRecord,
    Listing,
    PostalAddress,
    Provenance,
    stable_id,
)
from crawler.usps import STATE_CODES

HEADER_FILE = "data/nppes_header.csv"
TAXONOMY_SLOTS = 15
PERSON, ORGANISATION = "1", "2"
DATE_FORMAT = "%m/%d/%Y"
# The data file inside a bundle; its header file (``..._fileheader.csv``) does not match.
DATA_FILE = re.compile(r"(?:^|/)npidata_pfile_(\d{8})-(\d{8})\.csv$", re.IGNORECASE)
# The registry's public page of one NPI, for a listing's source_ref (a catalog may say another).
RECORD_URL = "https://npiregistry.cms.hhs.gov/provider-view/{npi}"
TAXONOMY_TITLES = {MASSAGE_THERAPIST_TAXONOMY: "Massage Therapist"}
# A value the registry uses for "no licence number".
_NO_LICENSE = frozenset({"", "NA", "N/A", "NONE"})
_NPI = re.compile(r"^\d{10}$")
# A state license's claimed name; the taxonomy's "massage therapist license" (a state license).
LICENSE_CLAIM = "Massage Therapist license"

# Columns read, by exact header text.
NPI = "NPI"
ENTITY_TYPE = "Entity Type Code"
LAST_NAME = "Provider Last Name (Legal Name)"
FIRST_NAME = "Provider First Name"
MIDDLE_NAME = "Provider Middle Name"
NAME_PREFIX = "Provider Name Prefix Text"
NAME_SUFFIX = "Provider Name Suffix Text"
CREDENTIAL_TEXT = "Provider Credential Text"
LINE_1 = "Provider First Line Business Practice Location Address"
LINE_2 = "Provider Second Line Business Practice Location Address"
CITY = "Provider Business Practice Location Address City Name"
STATE = "Provider Business Practice Location Address State Name"
POSTAL_CODE = "Provider Business Practice Location Address Postal Code"
COUNTRY = "Provider Business Practice Location Address Country Code (If outside U.S.)"
PHONE = "Provider Business Practice Location Address Telephone Number"
ENUMERATION_DATE = "Provider Enumeration Date"
LAST_UPDATE = "Last Update Date"
DEACTIVATION_DATE = "NPI Deactivation Date"
REACTIVATION_DATE = "NPI Reactivation Date"


def taxonomy_code(k: int) -> str:
    """The column of taxonomy slot ``k`` (1 to 15)."""
    return f"Healthcare Provider Taxonomy Code_{k}"


def license_number(k: int) -> str:
    """The column of the license number of taxonomy slot ``k``."""
    return f"Provider License Number_{k}"


def license_state(k: int) -> str:
    """The column of the license state of taxonomy slot ``k``."""
    return f"Provider License Number State Code_{k}"


def primary_switch(k: int) -> str:
    """The column saying whether taxonomy slot ``k`` is the primary one (Y/N)."""
    return f"Healthcare Provider Primary Taxonomy Switch_{k}"


SLOTS = range(1, TAXONOMY_SLOTS + 1)
NEEDED_COLUMNS: tuple[str, ...] = (
    NPI,
    ENTITY_TYPE,
    LAST_NAME,
    FIRST_NAME,
    MIDDLE_NAME,
    NAME_PREFIX,
    NAME_SUFFIX,
    CREDENTIAL_TEXT,
    LINE_1,
    LINE_2,
    CITY,
    STATE,
    POSTAL_CODE,
    PHONE,
    ENUMERATION_DATE,
    LAST_UPDATE,
    DEACTIVATION_DATE,
    REACTIVATION_DATE,
    *(column(k) for k in SLOTS for column in (taxonomy_code, license_number, license_state)),
    *(primary_switch(k) for k in SLOTS),
)
OPTIONAL_COLUMNS: tuple[str, ...] = (COUNTRY,)


@cache
def bulk_file_header() -> tuple[str, ...]:
    """Every column of the data file, in the order CMS publishes them (330)."""
    text = resources.files("crawler").joinpath(HEADER_FILE).read_text(encoding="utf-8")
    return tuple(next(csv.reader(io.StringIO(text))))


class NppesFileError(Exception):
    """A bundle or data file that cannot be read; ``kind`` is its error counter."""

    kind = "nppes/bad-file"


class NoDataFileError(NppesFileError):
    """A ZIP without the ``npidata_pfile_<from>-<to>.csv`` data file."""

    kind = "nppes/no-data-file"


class NppesLayoutError(NppesFileError):
    """A data file whose header lacks columns that are needed; ``missing`` names them."""

    kind = "nppes/missing-columns"

    def __init__(self, label: str, missing: Sequence[str], found: int) -> None:
        self.missing = tuple(missing)
        names = ", ".join(repr(name) for name in self.missing)
        super().__init__(
            f"{label}: the header ({found} columns) lacks {len(self.missing)} needed "
            f"column(s): {names}"
        )


def _column_key(name: str) -> str:
    # Headers compare without case, surrounding blanks, a byte-order mark or doubled spaces.
    return " ".join(name.replace("\ufeff", "").split()).casefold()


class BulkLayout:
    """Where each needed column is in one data file's rows."""

    def __init__(self, index: dict[str, int], width: int) -> None:
        self.index = index
        self.width = width
        # Reading the 15 taxonomy codes of a row in one C call keeps the filter of millions of
        # rows close to the speed of the CSV parser itself.
        self._codes = itemgetter(*(index[taxonomy_code(k)] for k in SLOTS))
        self._last = max(index.values())

    @classmethod
    def from_header(cls, header: Sequence[str], label: str) -> BulkLayout:
        """Find the needed columns by name; NppesLayoutError names every one missing."""
        positions: dict[str, int] = {}
        for position, name in enumerate(header):
            positions.setdefault(_column_key(name), position)
        index: dict[str, int] = {}
        missing: list[str] = []
        for name in (*NEEDED_COLUMNS, *OPTIONAL_COLUMNS):
            found = positions.get(_column_key(name))
            if found is not None:
                index[name] = found
            elif name not in OPTIONAL_COLUMNS:
                missing.append(name)
        if missing:
            raise NppesLayoutError(label, missing, len(header))
        return cls(index, len(header))

    def taxonomy_codes(self, row: Sequence[str]) -> tuple[str, ...]:
        """The row's 15 taxonomy codes (IndexError for a row cut short)."""
        codes: tuple[str, ...] = self._codes(row)
        return codes

    def complete(self, row: Sequence[str]) -> bool:
        """Whether the row reaches every needed column."""
        return len(row) > self._last


def massage_slots(
    row: Sequence[str], layout: BulkLayout, taxonomy: str = MASSAGE_THERAPIST_TAXONOMY
) -> list[int]:
    """The taxonomy slots (1 to 15) of a row that hold ``taxonomy``."""
    codes = layout.taxonomy_codes(row)
    # One substring search in C rules out nearly every row; a separator no code holds keeps
    # the end of one code and the start of the next from making a match.
    if taxonomy not in "\x1f".join(codes):
        return []
    return [k for k, code in zip(SLOTS, codes, strict=True) if code.strip() == taxonomy]


@dataclass
class DataFile:
    """The data file of a bundle, open for reading row by row."""

    name: str
    period: tuple[str, str]  # the file's own dates, YYYYMMDD: first and last day it covers
    layout: BulkLayout
    rows: Iterator[list[str]]


@contextlib.contextmanager
def open_data_file(path: Path | str, label: str) -> Iterator[DataFile]:
    """Open the data file inside a bundle (a ZIP on disk) and read its header.

    Rows are read from the compressed archive as the caller asks for them: neither the file nor
    its rows are ever held whole. NoDataFileError for a ZIP without the data file (naming what
    it holds), NppesLayoutError for a header without a needed column, NppesFileError for a file
    that is not a ZIP or a data file without a header.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NppesFileError(f"{label}: not a readable ZIP archive ({exc})") from None
    with archive:
        members = [info.filename for info in archive.infolist() if not info.is_dir()]
        data = [name for name in members if DATA_FILE.search(name)]
        if not data:
            held = ", ".join(members) or "nothing"
            raise NoDataFileError(
                f"{label}: no npidata_pfile_<from>-<to>.csv in the ZIP (it holds: {held})"
            )
        name = data[0]
        match = DATA_FILE.search(name)
        assert match is not None
        with archive.open(name) as raw:
            # errors="replace": one badly encoded name must not end the reading of millions.
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(text)
            header = next(reader, None)
            if not header:
                raise NppesFileError(f"{label}: {name} has no header")
            layout = BulkLayout.from_header(header, f"{label}: {name}")
            yield DataFile(name=name, period=(match[1], match[2]), layout=layout, rows=iter(reader))


def parse_day(raw: str) -> date | None:
    """A date written MM/DD/YYYY, or None (ValueError for anything else but blank)."""
    if not raw:
        return None
    return datetime.strptime(raw, DATE_FORMAT).date()


@dataclass(slots=True)
class BulkRow:
    """The columns of one row that tdir reads, with its dates parsed and problems found."""

    npi: str
    entity_type: str
    slots: list[int]
    values: dict[str, str]
    last_update: date | None = None
    deactivated_on: date | None = None
    reactivated_on: date | None = None
    problems: list[ExtractionError] = field(default_factory=list)

    @property
    def deactivated(self) -> bool:
        """Deactivated: a deactivation date and no later reactivation.

        A reactivation date that cannot be read still counts as later: NPPES records one only
        after a deactivation.
        """
        if not self.values.get(DEACTIVATION_DATE):
            return False
        if not self.values.get(REACTIVATION_DATE):
            return True
        if self.deactivated_on and self.reactivated_on:
            return self.reactivated_on < self.deactivated_on
        return False

    @property
    def as_of(self) -> date | None:
        """The date this version of the provider is from: its last update, else (a row that
        only says the NPI was deactivated) its deactivation date."""
        return self.last_update or self.deactivated_on


def read_row(row: Sequence[str], layout: BulkLayout, taxonomy: str, label: str) -> BulkRow:
    """The columns tdir reads of one row, dates parsed; a date that is not MM/DD/YYYY is left
    unparsed and reported as an ``nppes/bad-date`` problem (the row is kept)."""
    values = {name: row[position].strip() for name, position in layout.index.items()}
    npi = values[NPI]
    slots = [k for k in SLOTS if values[taxonomy_code(k)] == taxonomy]
    found = BulkRow(npi=npi, entity_type=values[ENTITY_TYPE], slots=slots, values=values)
    for column, attribute in (
        (LAST_UPDATE, "last_update"),
        (DEACTIVATION_DATE, "deactivated_on"),
        (REACTIVATION_DATE, "reactivated_on"),
    ):
        try:
            setattr(found, attribute, parse_day(values[column]))
        except ValueError:
            found.problems.append(
                ExtractionError(
                    "nppes/bad-date",
                    f"{label}: NPI {npi}: {column} {values[column]!r} is not MM/DD/YYYY",
                )
            )
    if values[ENUMERATION_DATE]:
        try:
            parse_day(values[ENUMERATION_DATE])
        except ValueError:
            found.problems.append(
                ExtractionError(
                    "nppes/bad-date",
                    f"{label}: NPI {npi}: {ENUMERATION_DATE} {values[ENUMERATION_DATE]!r} is "
                    "not MM/DD/YYYY",
                )
            )
    return found


def valid_npi(npi: str) -> bool:
    """Whether a value is ten digits, as every NPI is."""
    return bool(_NPI.match(npi))


def records_for(
    row: BulkRow,
    provenance: Provenance,
    *,
    taxonomy: str = MASSAGE_THERAPIST_TAXONOMY,
    record_url: str = RECORD_URL,
    data_file: str | None = None,
    deactivated_on: str | None = None,
) -> tuple[list[Listing | CredentialRecord], list[ExtractionError]]:
    """The records of a kept row (a person holding ``taxonomy``), and the problems met.

    ``deactivated_on`` (MM/DD/YYYY) applies a deactivation a newer file published for this NPI
    to this row's data. A license state that is no US state code is reported as
    ``nppes/unknown-license-state`` and kept as written (the indexer flags it too).
    """
    values = row.values
    problems: list[ExtractionError] = []
    claims = []
    licenses = []
    for k in row.slots:
        number_raw = values[license_number(k)]
        state_raw = values[license_state(k)]
        licenses.append(
            {
                "slot": k,
                "number": number_raw,
                "state": state_raw,
                "primary": values[primary_switch(k)],
            }
        )
        number = None if number_raw.upper() in _NO_LICENSE else number_raw
        if state_raw and state_raw.upper() not in STATE_CODES:
            problems.append(
                ExtractionError(
                    "nppes/unknown-license-state",
                    f"NPI {row.npi}: license {number_raw or '(no number)'} in taxonomy slot {k} "
                    f"has state code {state_raw!r}, not a US state",
                )
            )
        if number or state_raw:
            claims.append(
                ClaimedCredential(
                    name_raw=LICENSE_CLAIM,
                    number=number,
                    state=state_raw or None,
                    category_raw="license",
                )
            )
    deactivation_raw = deactivated_on or values[DEACTIVATION_DATE]
    deactivated = bool(deactivated_on) or row.deactivated
    address = PostalAddress(
        street=", ".join(v for v in (values[LINE_1], values[LINE_2]) if v) or None,
        locality=values[CITY] or None,
        region=values[STATE] or None,
        postal_code=format_postal_code(values[POSTAL_CODE]),
        country=values.get(COUNTRY) or None,
    )
    name = person_name(values)
    phone = values[PHONE] or None
    extras: dict[str, Any] = {
        "taxonomy_code": taxonomy,
        "taxonomy_slots": list(row.slots),
        "taxonomy_primary": any(values[primary_switch(k)] == "Y" for k in row.slots),
        "licenses": licenses,
        "credential_text_raw": values[CREDENTIAL_TEXT] or None,
        "enumeration_date": values[ENUMERATION_DATE] or None,
        "last_updated": values[LAST_UPDATE] or None,
        "npi_status": "deactivated" if deactivated else "active",
    }
    if deactivation_raw:
        extras["deactivation_date"] = deactivation_raw
    if values[REACTIVATION_DATE]:
        extras["reactivation_date"] = values[REACTIVATION_DATE]
    if data_file:
        extras["data_file"] = data_file
    records: list[Listing | CredentialRecord] = [
        CredentialRecord(
            id=record_id(provenance.source, row.npi, "npi"),
            provenance=provenance,
            issuer_kind="npi_registry",
            issuer=ISSUER,
            credential_raw=TAXONOMY_TITLES.get(taxonomy, taxonomy),
            number=None,
            name_raw=name,
            state=values[STATE] or None,
            city_raw=values[CITY] or None,
            status_raw="Deactivated" if deactivated else "Active",
            issued_raw=values[ENUMERATION_DATE] or None,
            npi=row.npi,
            address=address,
            telephone_raw=phone,
            extras={**extras, "source_ref": f"{row.npi}/npi"},
        )
    ]
    if not deactivated:
        records.insert(
            0,
            Listing(
                id=record_id(provenance.source, row.npi, "listing"),
                provenance=provenance,
                source_ref=record_url.format(npi=row.npi),
                name_raw=name,
                address=address,
                telephone_raw=phone,
                credentials=claims,
                npi=row.npi,
                extras=extras,
            ),
        )
    return records, problems


def record_id(source: str, npi: str, kind: str) -> str:
    """The id of an NPI's listing (``kind`` "listing") or registry record ("npi")."""
    return stable_id(source, f"{npi}/{kind}")


def person_name(values: dict[str, str]) -> str:
    """Prefix, first, middle and last name and suffix, as the registry writes them."""
    parts = [
        _name_part(values[NAME_PREFIX]),
        values[FIRST_NAME],
        values[MIDDLE_NAME],
        values[LAST_NAME],
        _name_part(values[NAME_SUFFIX]),
    ]
    return " ".join(part for part in parts if part)


def _name_part(value: str) -> str:
    # NPPES writes "--" for a prefix or suffix the provider left empty.
    return "" if set(value) <= {"-"} else value
