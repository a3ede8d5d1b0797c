"""The demo registry's downloadable files, in the real NPPES layout (see crawler.extract.nppes).

The registry publishes a monthly full file and three weekly update files, each as a ZIP in two
versions (``..._V2.zip`` beside the original, as CMS has since December 2024), with a deactivated
NPI report beside them. Weeks run Monday to Sunday; the newest weekly file ends on the last
Sunday before the world's date, and the full file ends where the oldest weekly file ends, so the
page still lists a weekly file the full file already includes (as the real page does).

Every therapist with an NPI has a row, built from the same registry record the API serves, so
both agree on names, addresses and licenses. Besides the massage therapist taxonomy, a quarter
of them list other taxonomies first (the massage one then sits in a later slot). The files also
say what the API does not:

- a therapist whose registry record changed after the full file (``npi.updated``) has an
  earlier version in the full file (the address before a move, an older Last Update Date) and
  the current one in the weekly file of that week; a change after the newest weekly file is in
  no file yet (the files lag the API, as the real ones do);
- a few NPIs are deactivated in the newest weekly file: a row with only the NPI and the
  deactivation date, as NPPES writes them; the full file still has them as they were (a retired
  therapist's NPI is always deactivated so);
- a few were deactivated once and reactivated (both dates in their row).

The rest of each file is other providers, generated here and nobody in the population: people of
other taxonomies, organisations (some with the massage therapist taxonomy, which a crawler
must not take for a therapist) and deactivated NPIs of unknown providers (NPI and date only).
Every value is quoted and most are empty, as in the real file.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from crawler.demoweb import places, variants, vocab
from crawler.demoweb.identifiers import npi_from_base
from crawler.demoweb.model import Address, Therapist
from crawler.demoweb.store import Population
from crawler.extract.nppes import bulk_file_header

TAXONOMY = "225700000X"
FIRST_DAY = date(2005, 5, 23)  # the day NPPES began enumerating: every full file starts there
WEEKS = 3
# Taxonomies of the other providers, and of the other lines of work some therapists list.
OTHER_TAXONOMIES = (
    "171100000X",  # Acupuncturist
    "225100000X",  # Physical Therapist
    "225X00000X",  # Occupational Therapist
    "111N00000X",  # Chiropractor
    "363L00000X",  # Nurse Practitioner
    "163W00000X",  # Registered Nurse
    "207Q00000X",  # Family Medicine
    "133V00000X",  # Dietitian, Registered
    "174400000X",  # Specialist
)
ORGANISATION_TAXONOMIES = ("261QM1300X", "332B00000X", "251E00000X", TAXONOMY)
ORGANISATION_WORDS = ("Wellness", "Therapy", "Bodywork", "Health", "Rehab", "Spine", "Care")
OTHER_PROVIDERS_PER_THERAPIST = 3
OTHER_PROVIDERS_MIN = 120
WEEKLY_OTHER_PROVIDERS = 12
_ORGANISATION_SHARE = 0.15
_UNKNOWN_DEACTIVATED_SHARE = 0.04
_DEACTIVATED_SHARE = 0.05
_REACTIVATED_SHARE = 0.04
_EXTRA_TAXONOMY_SHARE = 0.25
# NPIs of the other providers: past every therapist's (their bases start with 1).
_OTHER_NPI_BASE = 200_000_000
_WEEKLY_NPI_BASE = 290_000_000


# The reference files beside the data file (their first columns), left empty here.
REFERENCE_FILES = {
    "othername_pfile": ("NPI", "Provider Other Organization Name"),
    "pl_pfile": ("NPI", "Provider Secondary Practice Location Address- Address Line 1"),
    "endpoint_pfile": ("NPI", "Endpoint Type", "Endpoint Type Description", "Endpoint"),
}


def _mdy(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""


@dataclass(frozen=True, slots=True)
class Bundle:
    """One ZIP the download page links (``version`` 1 or 2 of the same content)."""

    kind: str  # "full" or "weekly"
    start: date
    end: date

    @property
    def stem(self) -> str:
        """The file name without version or extension."""
        if self.kind == "full":
            return f"NPPES_Data_Dissemination_{self.end:%B}_{self.end:%Y}"
        return f"NPPES_Data_Dissemination_{self.start:%m%d%y}_{self.end:%m%d%y}_Weekly"

    def name(self, version: int) -> str:
        """The ZIP's file name in ``version``."""
        return f"{self.stem}{'_V2' if version == 2 else ''}.zip"

    @property
    def period(self) -> str:
        """The dates in the names of the files inside."""
        return f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    @property
    def data_file(self) -> str:
        """The data file inside."""
        return f"npidata_pfile_{self.period}.csv"


def bundles(as_of: date) -> tuple[Bundle, list[Bundle]]:
    """The full file and the weekly files (oldest first) published before ``as_of``."""
    last_sunday = as_of - timedelta(days=as_of.weekday() + 1)
    weekly = [
        Bundle("weekly", end - timedelta(days=6), end)
        for end in (last_sunday - timedelta(weeks=k) for k in reversed(range(WEEKS)))
    ]
    return Bundle("full", FIRST_DAY, weekly[0].end), weekly


@dataclass(frozen=True, slots=True)
class Fate:
    """What the files say of one therapist's NPI."""

    status: str  # "active" or "deactivated"
    last_updated: date  # of the newest version the files hold
    bundle: Bundle  # the file holding that version of the provider's data
    earlier: date | None  # the Last Update Date of the full file's older version, if any
    deactivated_on: date | None
    reactivated_on: date | None
    extra_taxonomies: tuple[str, ...]


class Registry(Protocol):
    """What the files are made from: the registry site's population and its records."""

    population: Population
    seed: int
    as_of: date

    def record(self, t: Therapist) -> dict[str, Any]:
        """The registry's record of ``t`` (as its API serves it)."""
        ...

    def address_entry(
        self, addr: Address, phone: str, rng: Any, purpose: str = "LOCATION"
    ) -> dict[str, Any]:
        """An address as the registry writes it."""
        ...


class BulkFiles:
    """The registry's bundles over one population: names at once, contents when asked."""

    def __init__(self, site: Registry) -> None:
        self.site = site
        self.population = site.population
        self.seed = site.seed
        self.as_of = site.as_of
        self.full, self.weekly = bundles(self.as_of)
        self.header = bulk_file_header()
        self.column = {name: i for i, name in enumerate(self.header)}
        self._ids: list[tuple[int, int]] | None = None

    # -- what is published ----------------------------------------------------------------------

    @property
    def all(self) -> list[Bundle]:
        """Every bundle, the full file first."""
        return [self.full, *self.weekly]

    def by_name(self, name: str) -> Bundle | None:
        """The bundle a file name (either version) is of."""
        for bundle in self.all:
            if name in (bundle.name(1), bundle.name(2)):
                return bundle
        return None

    @property
    def report_name(self) -> str:
        """The deactivated NPI report beside the bundles (not a bundle of the data file)."""
        return f"NPPES_Deactivated_NPI_Report_{self.weekly[-1].end + timedelta(days=1):%m%d%y}.zip"

    def fate(self, t: Therapist) -> Fate:
        """What the files say of ``t``'s NPI (``t`` must have one)."""
        npi = t.npi
        assert npi is not None
        rng = variants.stream(self.seed, "npi-file", t.id)
        roll = rng.random()
        extra: tuple[str, ...] = ()
        if rng.random() < _EXTRA_TAXONOMY_SHARE:
            extra = tuple(rng.sample(OTHER_TAXONOMIES, rng.choice((1, 1, 1, 2, 3, 5))))
        full_end = self.full.end
        deactivated_on = reactivated_on = earlier = None
        status, bundle = "active", self.full
        last_updated = npi.updated
        if npi.updated > full_end:
            earlier = npi.enumerated + timedelta(
                days=rng.randint(0, max(0, (full_end - npi.enumerated).days))
            )
            # Changed after the newest weekly file: no file has the change yet.
            bundle = next((b for b in self.weekly if b.start <= npi.updated <= b.end), self.full)
            if bundle == self.full:
                last_updated = earlier
        elif t.status != "active" or roll < _DEACTIVATED_SHARE:
            newest = self.weekly[-1]
            status = "deactivated"
            deactivated_on = newest.start + timedelta(days=rng.randint(0, 6))
        elif roll < _DEACTIVATED_SHARE + _REACTIVATED_SHARE and npi.updated > npi.enumerated:
            span = (npi.updated - npi.enumerated).days
            deactivated_on = npi.enumerated + timedelta(days=rng.randint(0, span // 2))
            reactivated_on = deactivated_on + timedelta(days=rng.randint(1, max(1, span // 2)))
        return Fate(
            status=status,
            last_updated=last_updated,
            bundle=bundle,
            earlier=earlier,
            deactivated_on=deactivated_on,
            reactivated_on=reactivated_on,
            extra_taxonomies=extra,
        )

    def fact(self, t: Therapist) -> dict[str, Any]:
        """The ground truth of what the files publish of ``t``'s NPI."""
        fate = self.fate(t)
        record = self.site.record(t)
        licensed = len(record["taxonomies"])
        first = len(fate.extra_taxonomies) + 1
        npi = t.npi
        assert npi is not None
        newest_is_earlier = fate.earlier is not None and fate.bundle == self.full
        return {
            "status": fate.status,
            "data_file": fate.bundle.data_file,
            "last_updated": fate.last_updated.isoformat(),
            "earlier_version_in_full": fate.earlier is not None,
            # The practice address the newest version gives: the former one when the registry
            # never had the move, or when the change is in no file yet.
            "former_address": t.previous_address is not None
            and (npi.stale_address or newest_is_earlier),
            "deactivated_on": fate.deactivated_on.isoformat() if fate.deactivated_on else None,
            "reactivated_on": fate.reactivated_on.isoformat() if fate.reactivated_on else None,
            "deactivated_in": self.weekly[-1].data_file if fate.status == "deactivated" else None,
            "taxonomy_slots": list(range(first, first + licensed)),
        }

    def summary(self) -> dict[str, Any]:
        """The counts the files publish, for the ground truth."""
        fates = Counter[str]()
        for t in self._holders():
            fate = self.fate(t)
            fates[fate.status] += 1
            fates["reactivated"] += fate.reactivated_on is not None
            fates["updated_after_full"] += fate.earlier is not None and fate.bundle != self.full
            fates["changed_after_files"] += fate.earlier is not None and fate.bundle == self.full
            fates["massage_not_first"] += bool(fate.extra_taxonomies)
        files = []
        organisations = 0
        for bundle in self.all:
            rows = massage = 0
            for row in self._rows(bundle):
                rows += 1
                massage += TAXONOMY in row
                organisations += row[self.column["Entity Type Code"]] == "2" and TAXONOMY in row
            files.append(
                {
                    "kind": bundle.kind,
                    "names": [bundle.name(1), bundle.name(2)],
                    "data_file": bundle.data_file,
                    "rows": rows,
                    "rows_with_massage_taxonomy": massage,
                }
            )
        return {
            "files": files,
            "report": self.report_name,
            "therapists": sum(fates[s] for s in ("active", "deactivated")),
            "active": fates["active"],
            "deactivated": fates["deactivated"],
            "reactivated": fates["reactivated"],
            "updated_after_full": fates["updated_after_full"],
            "changed_after_files": fates["changed_after_files"],
            "massage_not_first": fates["massage_not_first"],
            "organisations_with_massage_taxonomy": organisations,
        }

    # -- the files ------------------------------------------------------------------------------

    def zip_bytes(self, bundle: Bundle) -> bytes:
        """The bundle's ZIP: the data file (written as it is generated), its header file and the
        header-only reference files."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(bundle.data_file, "w") as member:
                text = io.TextIOWrapper(member, encoding="utf-8", newline="")
                writer = csv.writer(text, quoting=csv.QUOTE_ALL)
                writer.writerow(self.header)
                writer.writerows(self._rows(bundle))
                text.flush()
                text.detach()
            archive.writestr(
                f"npidata_pfile_{bundle.period}_fileheader.csv", _csv_line(self.header)
            )
            for reference, columns in REFERENCE_FILES.items():
                archive.writestr(f"{reference}_{bundle.period}.csv", _csv_line(columns))
        return out.getvalue()

    def report_bytes(self) -> bytes:
        """The deactivated NPI report: the NPIs the newest weekly file deactivates."""
        lines = [["NPI", "NPPES Deactivation Date"]]
        for t in self._holders():
            fate = self.fate(t)
            if fate.status == "deactivated":
                assert t.npi is not None
                lines.append([str(t.npi.number), _mdy(fate.deactivated_on)])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                self.report_name.replace(".zip", ".csv"), "".join(map(_csv_line, lines))
            )
        return out.getvalue()

    def _holders(self) -> Iterator[Therapist]:
        """Every therapist with an NPI, in NPI order (the order of the files)."""
        for _, therapist_id in self._holder_ids():
            t = self.population.therapist(therapist_id)
            if t is not None and t.npi is not None:
                yield t

    def _holder_ids(self) -> list[tuple[int, int]]:
        if self._ids is None:
            rows = self.population.query("SELECT number, therapist_id FROM npi ORDER BY number")
            self._ids = [(int(number), int(therapist)) for number, therapist in rows]
        return self._ids

    def _rows(self, bundle: Bundle) -> Iterator[list[str]]:
        for t in self._holders():
            row = self._therapist_row(t, bundle)
            if row is not None:
                yield row
        yield from self._other_providers(bundle)

    def _therapist_row(self, t: Therapist, bundle: Bundle) -> list[str] | None:
        fate = self.fate(t)
        npi = t.npi
        assert npi is not None
        if bundle.kind == "full":
            if fate.earlier is not None:
                return self._row(t, fate, last_updated=fate.earlier, earlier=True)
            return self._row(t, fate, last_updated=npi.updated)
        if fate.status == "deactivated" and bundle == self.weekly[-1]:
            row = self._blank()
            self._set(row, "NPI", str(npi.number))
            self._set(row, "NPI Deactivation Date", _mdy(fate.deactivated_on))
            return row
        if bundle.start <= npi.updated <= bundle.end:
            return self._row(t, fate, last_updated=npi.updated)
        return None

    def _row(
        self, t: Therapist, fate: Fate, *, last_updated: date, earlier: bool = False
    ) -> list[str]:
        npi = t.npi
        assert npi is not None
        record = self.site.record(t)
        basic = record["basic"]
        addresses = {a["address_purpose"]: a for a in record["addresses"]}
        location = addresses["LOCATION"]
        if earlier and t.previous_address is not None and not npi.stale_address:
            # Before the move the registry still had the former practice address.
            rng = variants.stream(self.seed, "npi-file", "earlier", t.id)
            location = self.site.address_entry(
                t.previous_address, location["telephone_number"], rng
            )
        row = self._blank()
        self._set(row, "NPI", str(npi.number))
        self._set(row, "Entity Type Code", "1")
        self._set(row, "Provider Last Name (Legal Name)", basic["last_name"])
        self._set(row, "Provider First Name", basic["first_name"])
        self._set(row, "Provider Middle Name", basic.get("middle_name", ""))
        self._set(row, "Provider Name Prefix Text", basic.get("name_prefix", ""))
        self._set(row, "Provider Credential Text", basic.get("credential", ""))
        self._address(row, "Business Mailing Address", addresses["MAILING"])
        self._address(row, "Business Practice Location Address", location)
        self._set(row, "Provider Enumeration Date", _mdy(npi.enumerated))
        self._set(row, "Last Update Date", _mdy(last_updated))
        self._set(
            row, "NPI Deactivation Date", _mdy(fate.deactivated_on if fate.reactivated_on else None)
        )
        self._set(row, "NPI Reactivation Date", _mdy(fate.reactivated_on))
        self._set(row, "Provider Sex Code", t.gender)
        slot = 1
        for code in fate.extra_taxonomies:
            self._taxonomy(row, slot, code, "", "", "N")
            slot += 1
        for taxonomy in record["taxonomies"]:
            primary = "Y" if taxonomy["primary"] else "N"
            self._taxonomy(row, slot, TAXONOMY, taxonomy["license"], taxonomy["state"], primary)
            slot += 1
        self._set(row, "Is Sole Proprietor", "Y" if npi.sole_proprietor else "N")
        self._set(row, "Certification Date", _mdy(last_updated))
        return row

    def _other_providers(self, bundle: Bundle) -> Iterator[list[str]]:
        """The file's providers who are nobody in the population, in NPI order."""
        if bundle.kind == "full":
            therapists = len(self._holder_ids())
            count = max(OTHER_PROVIDERS_MIN, OTHER_PROVIDERS_PER_THERAPIST * therapists)
            base, start, end = _OTHER_NPI_BASE, FIRST_DAY, bundle.end
        else:
            count = WEEKLY_OTHER_PROVIDERS
            offset = self.weekly.index(bundle) * WEEKLY_OTHER_PROVIDERS
            base, start, end = _WEEKLY_NPI_BASE + offset, bundle.start, bundle.end
        for k in range(count):
            rng = variants.stream(self.seed, "npi-file", "other", base + k)
            npi = str(npi_from_base(base + k))
            roll = rng.random()
            if roll < _UNKNOWN_DEACTIVATED_SHARE:
                row = self._blank()
                self._set(row, "NPI", npi)
                self._set(row, "NPI Deactivation Date", _mdy(_day_between(rng, start, end)))
            elif roll < _UNKNOWN_DEACTIVATED_SHARE + _ORGANISATION_SHARE:
                row = self._organisation(rng, npi, start, end)
            else:
                row = self._other_person(rng, npi, start, end)
            yield row

    def _other_person(self, rng: random.Random, npi: str, start: date, end: date) -> list[str]:
        names = vocab.names()
        gender = rng.choice("FM")
        row = self._blank()
        self._set(row, "NPI", npi)
        self._set(row, "Entity Type Code", "1")
        self._set(row, "Provider Last Name (Legal Name)", rng.choice(names["last"]).upper())
        first = rng.choice(names["female" if gender == "F" else "male"])
        self._set(row, "Provider First Name", first.upper())
        self._set(row, "Provider Sex Code", gender)
        self._dates_and_place(row, rng, start, end)
        for slot, code in enumerate(rng.sample(OTHER_TAXONOMIES, rng.choice((1, 1, 2, 3))), 1):
            state = row[self.column["Provider Business Practice Location Address State Name"]]
            license_number = f"{rng.randint(10000, 999999)}" if rng.random() < 0.8 else ""
            self._taxonomy(row, slot, code, license_number, state, "Y" if slot == 1 else "N")
        self._set(row, "Is Sole Proprietor", rng.choice("YN"))
        return row

    def _organisation(self, rng: random.Random, npi: str, start: date, end: date) -> list[str]:
        names = vocab.names()
        row = self._blank()
        self._set(row, "NPI", npi)
        self._set(row, "Entity Type Code", "2")
        name = f"{rng.choice(names['last'])} {rng.choice(ORGANISATION_WORDS)} LLC".upper()
        self._set(row, "Provider Organization Name (Legal Business Name)", name)
        self._set(row, "Authorized Official Last Name", rng.choice(names["last"]).upper())
        self._set(row, "Authorized Official First Name", rng.choice(names["female"]).upper())
        self._set(row, "Authorized Official Title or Position", "OWNER")
        self._dates_and_place(row, rng, start, end)
        self._taxonomy(row, 1, rng.choice(ORGANISATION_TAXONOMIES), "", "", "Y")
        self._set(row, "Is Organization Subpart", "N")
        self._set(row, "Healthcare Provider Taxonomy Group_1", "193200000X MULTI-SPECIALTY GROUP")
        return row

    def _dates_and_place(self, row: list[str], rng: random.Random, start: date, end: date) -> None:
        metro = rng.choice(vocab.metros())
        address, _ = places.random_address(rng, metro)
        phone = f"{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"
        entry = self.site.address_entry(address, phone, rng)
        self._address(row, "Business Mailing Address", entry)
        self._address(row, "Business Practice Location Address", entry)
        enumerated = _day_between(rng, FIRST_DAY, end)
        self._set(row, "Provider Enumeration Date", _mdy(enumerated))
        self._set(row, "Last Update Date", _mdy(_day_between(rng, max(enumerated, start), end)))

    # -- cells ----------------------------------------------------------------------------------

    def _blank(self) -> list[str]:
        return [""] * len(self.header)

    def _set(self, row: list[str], column: str, value: str) -> None:
        row[self.column[column]] = value

    def _address(self, row: list[str], kind: str, entry: dict[str, Any]) -> None:
        self._set(row, f"Provider First Line {kind}", entry["address_1"])
        self._set(row, f"Provider Second Line {kind}", entry["address_2"])
        self._set(row, f"Provider {kind} City Name", entry["city"])
        self._set(row, f"Provider {kind} State Name", entry["state"])
        self._set(row, f"Provider {kind} Postal Code", entry["postal_code"])
        self._set(row, f"Provider {kind} Country Code (If outside U.S.)", "US")
        # The file writes telephone numbers as ten digits.
        self._set(
            row, f"Provider {kind} Telephone Number", entry["telephone_number"].replace("-", "")
        )

    def _taxonomy(
        self, row: list[str], slot: int, code: str, license_number: str, state: str, primary: str
    ) -> None:
        self._set(row, f"Healthcare Provider Taxonomy Code_{slot}", code)
        self._set(row, f"Provider License Number_{slot}", license_number)
        self._set(row, f"Provider License Number State Code_{slot}", state)
        self._set(row, f"Healthcare Provider Primary Taxonomy Switch_{slot}", primary)


def _day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _csv_line(values: Sequence[str]) -> str:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL).writerow(values)
    return text.getvalue()
