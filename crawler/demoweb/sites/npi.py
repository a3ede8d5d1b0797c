"""A provider registry with a JSON API shaped like the public NPI registry API, version 2.1.

Its behaviour follows the real service where it is known: bad requests are answered with HTTP 200
and an ``Errors`` array; ``state`` or ``enumeration_type`` alone is refused; a trailing ``*``
wildcard needs two leading characters; ``limit`` is silently capped at 200 and ``skip`` stops
being honoured past 1000; ``number`` is an integer; postal codes have 9 digits and no hyphen;
``result_count`` is the number of results in the response, not a total.

``/downloads/`` is the registry's download page: the monthly full file and weekly update files
in the real NPPES layout (:mod:`crawler.demoweb.sites.npi_bulk`). A bundle is generated the
first time it is asked for and kept for the site's lifetime, so the site starts at once.
"""

from __future__ import annotations

import calendar
import re
import threading
from datetime import date
from typing import Any

from crawler.demoweb import variants, vocab
from crawler.demoweb.model import Address, Therapist
from crawler.demoweb.sites.base import Request, Response, Site, esc, http_date
from crawler.demoweb.sites.npi_bulk import BulkFiles

TAXONOMY_CODE = "225700000X"
TAXONOMY_DESC = "Massage Therapist"
MAX_LIMIT = 200
MAX_SKIP = 1000
DEFAULT_LIMIT = 10

_CRITERIA = (
    "number",
    "enumeration_type",
    "taxonomy_description",
    "first_name",
    "last_name",
    "organization_name",
    "city",
    "state",
    "postal_code",
    "country_code",
    "address_purpose",
)
# Criteria that cannot stand alone (the registry refuses them without something more specific).
_NEEDS_COMPANY = {
    "state": ("07", "Field state requires additional search criteria"),
    "enumeration_type": ("09", "enumeration_type requires additional search criteria"),
}
_PASSIVE = {"country_code", "address_purpose"}


def _error(field: str, number: str, description: str) -> dict[str, str]:
    return {"description": description, "field": field, "number": number}


def _epoch(day: date, seconds: int = 0) -> int:
    return calendar.timegm(day.timetuple()) + seconds


class NpiSite(Site):
    """The provider registry: an information page and ``/api/``."""

    name = "npi"
    title = "National Provider Registry"
    style = "npi.css"
    disallow = ("/registry/search-results", "/admin/")

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/api/", self.api)
        self.route(r"/api", self.api)
        self.route(r"/downloads/", self.downloads)
        self.route(r"/downloads/([A-Za-z0-9_.-]+\.zip)", self.download)
        self.bulk = BulkFiles(self)
        self._bulk_zips: dict[str, bytes] = {}
        self._bulk_lock = threading.Lock()

    def record_path(self, number: int) -> str:
        """The API query that returns exactly one provider."""
        return f"/api/?version=2.1&number={number}"

    @property
    def record_count(self) -> int:
        """How many providers the registry holds."""
        return int(self.population.query("SELECT count(*) FROM npi")[0][0])

    def static_entries(self) -> list[tuple[str, date]]:
        return [("/", self.as_of)]

    def frame(self, body: str) -> str:
        return (
            f'<div class="masthead"><h1>{esc(self.title)}</h1></div>'
            f'<div class="content">{body}</div>'
            '<div class="footer">Provider data is self-reported by providers.</div>'
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        example = "/api/?version=2.1&taxonomy_description=Massage%20Therapist&state=TX&limit=200"
        body = (
            "<h2>Registry API</h2><p>The registry can be queried with <code>GET /api/</code>. "
            "Version <code>2.1</code> is required. Search criteria: <code>number</code>, "
            "<code>enumeration_type</code>, <code>taxonomy_description</code>, "
            "<code>first_name</code>, <code>last_name</code>, <code>city</code>, "
            "<code>state</code>, <code>postal_code</code>. "
            "A trailing <code>*</code> wildcard needs at least two leading characters. "
            f"<code>limit</code> is at most {MAX_LIMIT}; <code>skip</code> pages through results "
            f'up to {MAX_SKIP}.</p><p>Example: <a href="{esc(example)}">{esc(example)}</a></p>'
            '<p>The whole registry: <a href="/downloads/">downloadable files</a>.</p>'
        )
        return Response.html(self.layout("Registry API", body), modified=self.as_of)

    # -- downloadable files -----------------------------------------------------------------------

    def downloads(self, request: Request, _: re.Match[str]) -> Response:
        """The download page: the full file, the weekly files (both versions) and the report."""
        full, weekly = self.bulk.full, self.bulk.weekly

        def item(bundle_name: str, label: str) -> str:
            return f'<li><a href="/downloads/{esc(bundle_name)}">{esc(label)}</a></li>'

        full_items = "".join(
            item(full.name(v), f"Full Replacement Monthly NPI File{' V.2' if v == 2 else ''}")
            for v in (1, 2)
        )
        weekly_items = "".join(
            item(b.name(v), f"{b.start:%m/%d/%Y} - {b.end:%m/%d/%Y}{' V.2' if v == 2 else ''}")
            for b in reversed(weekly)
            for v in (1, 2)
        )
        body = (
            "<h2>NPI Files</h2>"
            f"<h3>Full Replacement Monthly NPI File</h3><ul>{full_items}</ul>"
            f"<h3>Weekly Incremental NPI Files</h3><ul>{weekly_items}</ul>"
            f"<h3>Deactivated NPI Report</h3><ul>{item(self.bulk.report_name, 'Report')}</ul>"
        )
        return Response.html(self.layout("NPI Files", body), modified=weekly[-1].end)

    def download(self, request: Request, match: re.Match[str]) -> Response | None:
        """A bundle (or the deactivated NPI report), generated once and then kept."""
        name = match.group(1)
        bundle = self.bulk.by_name(name)
        if bundle is None and name != self.bulk.report_name:
            return None
        with self._bulk_lock:
            key = bundle.stem if bundle is not None else name
            if key not in self._bulk_zips:
                self._bulk_zips[key] = (
                    self.bulk.zip_bytes(bundle) if bundle is not None else self.bulk.report_bytes()
                )
            body = self._bulk_zips[key]
        modified = bundle.end if bundle is not None else self.bulk.weekly[-1].end
        return Response(200, body, "application/zip", http_date(modified))

    def bulk_fact(self, t: Therapist) -> dict[str, Any]:
        """What the downloadable files publish of ``t``'s NPI, for the ground truth."""
        return self.bulk.fact(t)

    def bulk_summary(self) -> dict[str, Any]:
        """The counts the downloadable files publish, for the ground truth."""
        return self.bulk.summary()

    # -- API --------------------------------------------------------------------------------------

    def api(self, request: Request, _: re.Match[str]) -> Response:
        if request.arg("version") != "2.1":
            return Response.json({"Errors": [_error("version", "17", "Unsupported Version")]})
        given = {k: request.arg(k) for k in _CRITERIA if request.arg(k)}
        errors = self._validate(given)
        if errors:
            return Response.json({"Errors": errors})
        limit = self._int(request.arg("limit"), DEFAULT_LIMIT)
        limit = min(max(limit, 1), MAX_LIMIT)
        skip = min(max(self._int(request.arg("skip"), 0), 0), MAX_SKIP)
        numbers = self._match(given, limit, skip)
        results = []
        for number, tid in numbers:
            t = self.population.therapist(tid)
            if t is not None and t.npi is not None and t.npi.number == number:
                results.append(self.record(t))
        return Response.json(
            {"result_count": len(results), "results": results}, modified=self.as_of
        )

    @staticmethod
    def _int(raw: str, default: int) -> int:
        return int(raw) if raw.isdigit() else default

    def _validate(self, given: dict[str, str]) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        for field, value in given.items():
            if "*" in value and len(value.split("*", 1)[0]) < 2:
                errors.append(
                    _error(field, "03", "Wildcards require at least two leading characters")
                )
        number = given.get("number")
        if number is not None and not (number.isdigit() and len(number) == 10):
            errors.append(_error("number", "06", "NPI must be 10 digits"))
        etype = given.get("enumeration_type")
        if etype is not None and etype.upper() not in ("NPI-1", "NPI-2"):
            errors.append(
                _error(
                    "enumeration_type",
                    "05",
                    "Field contains special character(s) or wrong number of characters",
                )
            )
        if errors:
            return errors
        active = set(given) - _PASSIVE
        if not active:
            return [_error("generic", "04", "No valid search criteria provided")]
        if active <= set(_NEEDS_COMPANY):
            return [_error(f, *_NEEDS_COMPANY[f]) for f in _CRITERIA if f in active]
        return []

    def _match(self, given: dict[str, str], limit: int, skip: int) -> list[tuple[int, int]]:
        if (
            given.get("enumeration_type", "NPI-1").upper() != "NPI-1"
            or "organization_name" in given
        ):
            return []
        desc = given.get("taxonomy_description")
        if desc is not None:
            wanted = desc.lower().rstrip("*")
            if (
                not (desc.endswith("*") and TAXONOMY_DESC.lower().startswith(wanted))
                and wanted not in TAXONOMY_DESC.lower()
                and desc.upper() != TAXONOMY_CODE
            ):
                return []
        where: list[str] = []
        params: list[int | str] = []
        columns = {
            "number": "number",
            "first_name": "first_name",
            "last_name": "last_name",
            "city": "city",
            "state": "state",
            "postal_code": "postal_code",
        }
        for field, column in columns.items():
            value = given.get(field)
            if value is None:
                continue
            value = value.upper()
            if field == "number":
                where.append("number = ?")
                params.append(int(value))
            elif value.endswith("*") or field == "postal_code":
                stem = value.rstrip("*")
                where.append(f"{column} >= ? AND {column} < ?")
                params += [stem, stem + "\uffff"]
            else:
                where.append(f"{column} = ?")
                params.append(value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self.population.query(
            f"SELECT number, therapist_id FROM npi {clause} ORDER BY number LIMIT ? OFFSET ?",
            (*params, limit, skip),
        )
        return [(int(n), int(t)) for n, t in rows]

    # -- records ----------------------------------------------------------------------------------

    def record(self, t: Therapist) -> dict[str, Any]:
        """The registry's JSON record of ``t`` (who must have an NPI)."""
        npi = t.npi
        assert npi is not None
        rng = variants.stream(self.seed, self.name, t.id)
        location = t.previous_address if npi.stale_address and t.previous_address else t.address
        basic: dict[str, Any] = {}
        if rng.random() < 0.25:
            basic["name_prefix"] = (
                rng.choice(("MS.", "MRS.", "MR.", "--"))
                if t.gender == "F"
                else rng.choice(("MR.", "--"))
            )
            if t.gender == "F" and basic["name_prefix"] == "MR.":
                basic["name_prefix"] = "MS."
        basic["first_name"] = t.first.upper()
        basic["last_name"] = t.last.upper()
        if t.middle:
            basic["middle_name"] = t.middle.upper() if rng.random() < 0.6 else t.middle[0].upper()
        if npi.credential_text:
            basic["credential"] = npi.credential_text
        basic.update(
            sole_proprietor="YES" if npi.sole_proprietor else "NO",
            gender=t.gender,
            enumeration_date=npi.enumerated.isoformat(),
            last_updated=npi.updated.isoformat(),
            status="A",
            name=f"{t.last.upper()} {t.first.upper()}",
        )
        phone = t.phone
        phone_text = f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"
        addresses = [self._address(location, "LOCATION", phone_text, rng)]
        if rng.random() < 0.6:
            addresses.append(self._address(location, "MAILING", phone_text, rng))
        else:
            box = rng.randint(100, 99999)
            addresses.append(
                {
                    "country_code": "US",
                    "country_name": "United States",
                    "address_purpose": "MAILING",
                    "address_type": "DOM",
                    "address_1": f"PO BOX {box}",
                    "address_2": "",
                    "city": location.city.upper(),
                    "state": location.state,
                    "postal_code": location.zip + f"{rng.randint(0, 9999):04d}",
                    "telephone_number": phone_text,
                }
            )
        taxonomies = []
        licenses = sorted(t.licenses, key=lambda lic: lic.state != location.state)
        for i, lic in enumerate(licenses or [None]):
            quirk = rng.random()
            taxonomies.append(
                {
                    "code": TAXONOMY_CODE,
                    "desc": TAXONOMY_DESC,
                    "primary": i == 0,
                    "state": lic.state if lic else ("" if quirk < 0.5 else location.state),
                    "license": (lic.number if quirk > 0.08 else "NA") if lic else "",
                }
            )
        return {
            "enumeration_type": "NPI-1",
            "number": npi.number,
            "last_updated_epoch": _epoch(npi.updated, rng.randint(0, 86399)),
            "created_epoch": _epoch(npi.enumerated),
            "basic": basic,
            "other_names": [],
            "addresses": addresses,
            "taxonomies": taxonomies,
            "identifiers": [],
            "endpoints": [],
            "practiceLocations": [],
        }

    def address_entry(
        self, addr: Address, phone: str, rng: Any, purpose: str = "LOCATION"
    ) -> dict[str, Any]:
        """An address as the registry writes it (upper case, ZIP+4 without a dash)."""
        return self._address(addr, purpose, phone, rng)

    def _address(self, addr: Address, purpose: str, phone: str, rng: Any) -> dict[str, Any]:
        st = vocab.streets()
        parts = [addr.number]
        if addr.direction:
            parts.append(dict(st["directions"])[addr.direction])
        parts += [addr.street, dict(st["suffixes"])[addr.suffix]]
        line1 = " ".join(parts).upper()
        line2 = ""
        unit = variants.unit_text(addr, rng)
        if unit:
            if rng.random() < 0.5:
                line1 = f"{line1} {unit.upper()}"
            else:
                line2 = unit.upper()
        return {
            "country_code": "US",
            "country_name": "United States",
            "address_purpose": purpose,
            "address_type": "DOM",
            "address_1": line1,
            "address_2": line2,
            "city": addr.city.upper(),
            "state": addr.state,
            "postal_code": addr.zip + addr.zip4,
            "telephone_number": phone,
        }
