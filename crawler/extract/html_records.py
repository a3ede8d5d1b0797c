"""Listings, reviews and credential records from plain HTML, described by selectors in the catalog.

One *record spec* (an entry of ``options.records`` of an ``html`` source) says which pages hold a
kind of record and where each field is on them; fields use the selector language of
:mod:`crawler.extract.selectors`::

    type: listing | review | credential_record
    page: regex of the page URLs the spec applies to (default: every page)
    page_has: a selector that must match on the page
    container: a selector of repeated blocks, one record each (default: the page is one record)
    ref: field spec of the site's own id of a record (a block's id attribute, say)
    fields: {field: field spec}
    required: [field, ...]  without one the record is dropped, counted as "<kind>/no-<field>"
    expected: [field, ...]  without one the record is kept, counted as "<kind>/missing-<field>"

Fields of a listing: name, practice_name, street, locality, region, postal_code, country,
address (the whole address as one string), latitude, longitude, telephone, website, email,
modalities, conditions, credentials (lists), npi, rating, rating_count, rating_best,
rating_worst, bio. The named groups of a ``credentials`` regex fill the parts of each credential:
name, number, state, issuer, category.

A listing that shows several practice locations is described with ``many: true`` on its address
fields (and on latitude and longitude): the n-th value of each makes the n-th location, the named
groups of the n-th ``address`` value filling the parts it has no value of its own for. The first
location is the listing's address; the others, in page order and without repeats, are its
``other_locations``. Values pair up by position, so this suits pages that show every location
the same way.

Fields of a review: author, rating, rating_best, rating_worst, published, body, subject_name,
listing_ref (default: the page's canonical URL, which is the source_ref of a listing on it).

Fields of a credential record: name, number, credential, issuer, issuer_kind, state, city,
status, issued, expires, npi, street, locality, region, postal_code, country, address,
telephone.

Any type also takes ``extras.<key>`` fields, kept in the record's ``extras``.

Values stay as the page wrote them; only ratings, coordinates and NPIs are parsed, with the raw
text kept. A record's ``source_ref`` is the page's canonical URL, with ``#<ref>`` (or ``#<n>``,
its position, when the site gives no id) for records in repeated blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from parsel import Selector

from crawler.extract.canonical import canonical_url
from crawler.extract.credentials import valid_npi
from crawler.extract.ratings import parse_rating
from crawler.extract.result import ExtractionError
from crawler.extract.selectors import (
    Alternatives,
    FieldSpec,
    Match,
    SelectorSpecError,
    Spec,
    compile_patterns,
    compile_selector,
    compile_spec,
    evaluate,
    select,
)
from crawler.extract.values import parse_coordinate, parse_count
from crawler.items import (
    ClaimedCredential,
    CredentialRecord,
    Listing,
    PostalAddress,
    PracticeLocation,
    Provenance,
    Rating,
    Review,
    stable_id,
)

HtmlRecordType = Literal["listing", "review", "credential_record"]
HtmlRecord = Listing | Review | CredentialRecord
IssuerKind = Literal["state_board", "certification_registry", "npi_registry"]

_ADDRESS_FIELDS = ("street", "locality", "region", "postal_code", "country", "address")
_RATING_FIELDS = ("rating", "rating_best", "rating_worst")
FIELDS: dict[str, frozenset[str]] = {
    "listing": frozenset(
        {
            "name",
            "practice_name",
            *_ADDRESS_FIELDS,
            "latitude",
            "longitude",
            "telephone",
            "website",
            "email",
            "modalities",
            "conditions",
            "credentials",
            "npi",
            *_RATING_FIELDS,
            "rating_count",
            "bio",
        }
    ),
    "review": frozenset(
        {"author", *_RATING_FIELDS, "published", "body", "subject_name", "listing_ref"}
    ),
    "credential_record": frozenset(
        {
            "name",
            "number",
            "credential",
            "issuer",
            "issuer_kind",
            "state",
            "city",
            "status",
            "issued",
            "expires",
            "npi",
            *_ADDRESS_FIELDS,
            "telephone",
        }
    ),
}
LIST_FIELDS = frozenset({"modalities", "conditions", "credentials"})
PARAGRAPH_FIELDS = frozenset({"bio", "body"})
CREDENTIAL_PARTS = frozenset({"name", "number", "state", "issuer", "category"})
DEFAULT_REQUIRED: dict[str, tuple[str, ...]] = {
    "listing": ("name",),
    "review": (),
    "credential_record": ("name", "number", "credential"),
}
ISSUER_KINDS: tuple[IssuerKind, ...] = ("state_board", "certification_registry", "npi_registry")
# What a credential record's issuer is, by the catalog kind of the source publishing it.
ISSUER_KIND_OF_SOURCE: dict[str, IssuerKind] = {
    "license_board": "state_board",
    "certification_registry": "certification_registry",
    "npi_registry": "npi_registry",
}


def issuer_kind(given: str | None, source_kind: str) -> IssuerKind:
    """A credential record's issuer kind: the one it gives when that is a known kind, else the
    one of the catalog kind of the source publishing it."""
    for kind in ISSUER_KINDS:
        if given == kind:
            return kind
    return ISSUER_KIND_OF_SOURCE.get(source_kind, "state_board")


def postal_address(value: Callable[[str], str | None]) -> PostalAddress | None:
    """The address the address fields give (``value`` reads one by name: street, locality,
    region, postal_code, country, address); None when they give none (a country alone is no
    address)."""
    address = PostalAddress(
        street=value("street"),
        locality=value("locality"),
        region=value("region"),
        postal_code=value("postal_code"),
        country=value("country"),
        raw=value("address"),
    )
    has_any = any(getattr(address, f) for f in ("street", "locality", "region", "postal_code"))
    return address if has_any or address.raw else None


# Error kinds say "credential/…" rather than the longer record type.
_ERROR_PREFIX = {"listing": "listing", "review": "review", "credential_record": "credential"}
_EXTRAS = "extras."


@dataclass(frozen=True)
class RecordSpec:
    """One compiled record spec of a catalog entry."""

    type: HtmlRecordType
    fields: Mapping[str, Spec]
    page: tuple[re.Pattern[str], ...] = ()  # URL regexes; any may match
    page_has: str | None = None
    container: str | None = None
    ref: Spec | None = None
    required: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()

    def applies_to(self, url: str, page: Selector) -> bool:
        """Whether this spec reads records from the page at ``url``."""
        if self.page and not any(p.search(url) for p in self.page):
            return False
        return self.page_has is None or bool(select(page, self.page_has))


@dataclass(slots=True)
class PageRecords:
    """The records read from one page and the problems met reading them."""

    records: list[HtmlRecord] = field(default_factory=list)
    errors: list[ExtractionError] = field(default_factory=list)


def compile_record_specs(raw: Any, where: str) -> tuple[RecordSpec, ...]:
    """Compile ``options.records``; SelectorSpecError names the spec and field at fault."""
    if not isinstance(raw, list) or not raw:
        raise SelectorSpecError(f"{where}: records must be a non-empty list")
    return tuple(_record_spec(item, f"{where}[{i}]") for i, item in enumerate(raw))


def _record_spec(raw: Any, where: str) -> RecordSpec:
    if not isinstance(raw, Mapping):
        raise SelectorSpecError(f"{where}: a record spec must be a mapping")
    unknown = set(raw) - {
        "type",
        "page",
        "page_has",
        "container",
        "ref",
        "fields",
        "required",
        "expected",
    }
    if unknown:
        raise SelectorSpecError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kind = raw.get("type")
    if kind not in FIELDS:
        raise SelectorSpecError(f"{where}: type {kind!r} is not one of {', '.join(FIELDS)}")
    allowed = FIELDS[kind]
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, Mapping) or not raw_fields:
        raise SelectorSpecError(f"{where}: fields must be a non-empty mapping")
    fields: dict[str, Spec] = {}
    for name, spec_raw in raw_fields.items():
        here = f"{where}.fields.{name}"
        if not isinstance(name, str) or not (name in allowed or _is_extra(name)):
            raise SelectorSpecError(
                f"{here}: not a {kind} field; use {', '.join(sorted(allowed))} or extras.<key>"
            )
        spec = compile_spec(spec_raw, here)
        fillable = CREDENTIAL_PARTS if name == "credentials" else allowed
        stray = spec.group_names - fillable
        if stray:
            raise SelectorSpecError(
                f"{here}: regex group(s) {', '.join(sorted(stray))} are not fields it can fill"
            )
        fields[name] = spec
    if kind == "credential_record" and "issuer" not in fields:
        raise SelectorSpecError(f"{where}: a credential_record needs an issuer field")
    issuer_kind = fields.get("issuer_kind")
    if isinstance(issuer_kind, FieldSpec) and issuer_kind.value not in (None, *ISSUER_KINDS):
        raise SelectorSpecError(
            f"{where}.fields.issuer_kind: {issuer_kind.value!r} is not one of "
            f"{', '.join(ISSUER_KINDS)}"
        )
    required = _names(raw.get("required", DEFAULT_REQUIRED[kind]), allowed, f"{where}.required")
    expected = _names(raw.get("expected", ()), allowed, f"{where}.expected")
    return RecordSpec(
        type=kind,
        fields=fields,
        page=compile_patterns(raw.get("page"), f"{where}.page"),
        page_has=compile_selector(raw["page_has"], f"{where}.page_has")
        if "page_has" in raw
        else None,
        container=compile_selector(raw["container"], f"{where}.container")
        if "container" in raw
        else None,
        ref=compile_spec(raw["ref"], f"{where}.ref") if "ref" in raw else None,
        required=required,
        expected=expected,
    )


def _names(raw: Any, allowed: frozenset[str], where: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise SelectorSpecError(f"{where}: expected a list of field names")
    wrong = [i for i in items if i not in allowed and not _is_extra(i)]
    if wrong:
        raise SelectorSpecError(f"{where}: {', '.join(wrong)} not field(s) of this record type")
    return tuple(items)


def _is_extra(name: str) -> bool:
    return name.startswith(_EXTRAS) and len(name) > len(_EXTRAS)


def extract_records(
    page: Selector,
    url: str,
    specs: Iterable[RecordSpec],
    provenance: Provenance,
    *,
    source_kind: str,
    ignore_params: Iterable[str] = (),
) -> PageRecords:
    """Read every record the applicable specs describe on one page. Never raises for bad data."""
    out = PageRecords()
    canonical = canonical_url(page, url, ignore_params)
    for spec in specs:
        if not spec.applies_to(url, page):
            continue
        scopes = select(page, spec.container) if spec.container else [page]
        for position, scope in enumerate(scopes, start=1):
            reader = _RecordReader(spec, scope, url, canonical, provenance, source_kind, out)
            record = reader.read(position if spec.container else None)
            if record is not None:
                out.records.append(record)
    return out


class _RecordReader:
    """Reads one record of one spec from one scope (the page, or one repeated block)."""

    def __init__(
        self,
        spec: RecordSpec,
        scope: Selector,
        url: str,
        canonical: str,
        provenance: Provenance,
        source_kind: str,
        out: PageRecords,
    ) -> None:
        self.spec = spec
        self.scope = scope
        self.url = url
        self.canonical = canonical
        self.provenance = provenance
        self.source_kind = source_kind
        self.out = out
        self.values: dict[str, list[str]] = {}
        self.matches: dict[str, list[Match]] = {}
        self.credentials: list[Match] = []

    # -- values -----------------------------------------------------------------------------------

    def _collect(self) -> None:
        derived: dict[str, str] = {}
        for name, spec in self.spec.fields.items():
            matches = evaluate(
                spec,
                self.scope,
                self.url,
                keep_paragraphs=name in PARAGRAPH_FIELDS,
                many=name in LIST_FIELDS,
            )
            if name == "credentials":
                self.credentials = matches
                continue
            if not matches:
                continue
            self.matches[name] = matches
            self.values[name] = [m.groups.get(name, m.text) for m in matches]
            for group, value in matches[0].groups.items():
                derived.setdefault(group, value)
        # A regex group fills a field only where the field found no value of its own.
        for name, value in derived.items():
            self.values.setdefault(name, [value])

    def first(self, name: str) -> str | None:
        """The field's value (the first, for a field that found several)."""
        found = self.values.get(name)
        return found[0] if found else None

    def nth(self, name: str, position: int) -> str | None:
        """The field's value at ``position`` among several (``many``), or None.

        Past the first, a field with no value of its own there takes the named group of that
        name from another field's value at the same position (an address split by a regex).
        """
        if position == 0:
            return self.first(name)
        found = self.values.get(name, [])
        if position < len(found):
            return found[position]
        for matches in self.matches.values():
            if position < len(matches) and name in matches[position].groups:
                return matches[position].groups[name]
        return None

    def error(self, kind: str, message: str) -> None:
        """Record a problem with this record."""
        self.out.errors.append(ExtractionError(kind, f"{self.url}: {message}"))

    def _missing(self, name: str) -> bool:
        if name == "credentials":
            return not self.credentials
        return not self.values.get(name)

    # -- records ----------------------------------------------------------------------------------

    def read(self, position: int | None) -> HtmlRecord | None:
        """Return the record, or None (with the error counted) when it lacks a required field."""
        self._collect()
        prefix = _ERROR_PREFIX[self.spec.type]
        for name in self.spec.required:
            if self._missing(name):
                self.error(f"{prefix}/no-{_kebab(name)}", f"a {self.spec.type} without {name}")
                return None
        for name in self.spec.expected:
            if self._missing(name):
                self.error(f"{prefix}/missing-{_kebab(name)}", f"a {self.spec.type} without {name}")
        source_ref = self._source_ref(position)
        if self.spec.type == "listing":
            return self._listing(source_ref)
        if self.spec.type == "review":
            return self._review(source_ref)
        return self._credential_record(source_ref)

    def _source_ref(self, position: int | None) -> str:
        ref = None
        if self.spec.ref is not None:
            found = evaluate(self.spec.ref, self.scope, self.url)
            ref = found[0].text if found else None
        if ref is None and position is not None:
            ref = str(position)
        return f"{self.canonical}#{ref}" if ref is not None else self.canonical

    def _extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        for name, values in self.values.items():
            if _is_extra(name):
                key = name.removeprefix(_EXTRAS)
                spec = self.spec.fields.get(name)
                keep_all = spec is not None and _many(spec) and len(values) > 1
                extras[key] = values if keep_all else values[0]
        return extras

    def _address(self, position: int = 0) -> PostalAddress | None:
        return postal_address(lambda name: self.nth(name, position))

    def _rating(self, count: int | None = None) -> Rating | None:
        raw = self.first("rating")
        if raw is None:
            return None
        rating = parse_rating(
            raw, best=self.first("rating_best"), worst=self.first("rating_worst"), count=count
        )
        if rating.value is None:
            self.error("value/rating-invalid", f"rating {raw!r} refused")
        return rating

    def _npi(self, extras: dict[str, Any]) -> str | None:
        raw = self.first("npi")
        if raw is None:
            return None
        npi = valid_npi(raw)
        if npi is None:
            self.error("value/npi-invalid", f"NPI {raw!r} is not ten digits")
            extras["npi_raw"] = raw
        return npi

    def _other_locations(self, main: PracticeLocation) -> list[PracticeLocation]:
        """The locations after the first one, when the location fields found several."""
        fields = (*_ADDRESS_FIELDS, "latitude", "longitude")
        count = max(len(self.values.get(name, [])) for name in fields)
        found: list[PracticeLocation] = []
        for position in range(1, count):
            latitude, longitude = self._coordinates({}, position)
            location = PracticeLocation(self._address(position), latitude, longitude)
            has_any = location.address is not None or location.latitude is not None
            if has_any and location not in (main, *found) and location.address != main.address:
                found.append(location)
        return found

    def _coordinates(
        self, extras: dict[str, Any], position: int = 0
    ) -> tuple[float | None, float | None]:
        raw_lat, raw_lon = self.nth("latitude", position), self.nth("longitude", position)
        latitude = parse_coordinate(raw_lat, 90.0)
        longitude = parse_coordinate(raw_lon, 180.0)
        for label, raw, parsed in (
            ("latitude", raw_lat, latitude),
            ("longitude", raw_lon, longitude),
        ):
            if raw is not None and parsed is None:
                self.error(f"value/{label}-invalid", f"{label} {raw!r} refused")
        if latitude is None or longitude is None:
            if raw_lat is not None or raw_lon is not None:
                extras["geo_raw"] = {"latitude": raw_lat, "longitude": raw_lon}
            # Half a coordinate pair places nothing.
            return None, None
        return latitude, longitude

    def _listing(self, source_ref: str) -> Listing | None:
        name = self.first("name")
        if name is None:  # a spec that does not require a name still cannot make a listing
            self.error("listing/no-name", "a listing without name")
            return None
        extras = self._extras()
        latitude, longitude = self._coordinates(extras)
        address = self._address()
        count = self.first("rating_count")
        email = self.first("email")
        return Listing(
            id=stable_id(self.provenance.source, source_ref),
            provenance=self.provenance,
            source_ref=source_ref,
            name_raw=name,
            practice_name_raw=self.first("practice_name"),
            address=address,
            latitude=latitude,
            longitude=longitude,
            other_locations=self._other_locations(PracticeLocation(address, latitude, longitude)),
            telephone_raw=self.first("telephone"),
            website=self.first("website"),
            email=email.removeprefix("mailto:").strip() if email else None,
            modalities_raw=list(self.values.get("modalities", [])),
            conditions_raw=list(self.values.get("conditions", [])),
            credentials=self._claimed_credentials(),
            npi=self._npi(extras),
            aggregate_rating=self._rating(parse_count(count) if count else None),
            bio=self.first("bio"),
            extras=extras,
        )

    def _claimed_credentials(self) -> list[ClaimedCredential]:
        found: list[ClaimedCredential] = []
        for match in self.credentials:
            parts = match.groups
            credential = ClaimedCredential(
                name_raw=parts.get("name") or match.text,
                number=parts.get("number"),
                issuer_raw=parts.get("issuer"),
                state=parts.get("state"),
                category_raw=parts.get("category"),
            )
            if credential not in found:
                found.append(credential)
        return found

    def _review(self, source_ref: str) -> Review | None:
        rating = self._rating()
        body = self.first("body")
        if rating is None and body is None:
            self.error("review/empty", "a review with neither a rating nor a text")
            return None
        listing_ref = self.first("listing_ref")
        return Review(
            id=stable_id(self.provenance.source, source_ref),
            provenance=self.provenance,
            listing_ref=urljoin(self.url, listing_ref) if listing_ref else self.canonical,
            author_raw=self.first("author"),
            rating=rating,
            published_raw=self.first("published"),
            body=body,
            subject_name_raw=self.first("subject_name"),
            extras={"source_ref": source_ref, **self._extras()},
        )

    def _credential_record(self, source_ref: str) -> CredentialRecord | None:
        name, credential, issuer = (
            self.first("name"),
            self.first("credential"),
            self.first("issuer"),
        )
        if name is None or credential is None or issuer is None:
            missing = next(
                f
                for f, v in (("name", name), ("credential", credential), ("issuer", issuer))
                if v is None
            )
            self.error(f"credential/no-{missing}", f"a credential record without {missing}")
            return None
        extras = {"source_ref": source_ref, **self._extras()}
        return CredentialRecord(
            id=stable_id(self.provenance.source, source_ref),
            provenance=self.provenance,
            issuer_kind=issuer_kind(self.first("issuer_kind"), self.source_kind),
            issuer=issuer,
            credential_raw=credential,
            number=self.first("number"),
            name_raw=name,
            state=self.first("state"),
            city_raw=self.first("city"),
            status_raw=self.first("status"),
            issued_raw=self.first("issued"),
            expires_raw=self.first("expires"),
            npi=self._npi(extras),
            address=self._address(),
            telephone_raw=self.first("telephone"),
            extras=extras,
        )


def _many(spec: Spec) -> bool:
    if isinstance(spec, Alternatives):
        return any(_many(o) for o in spec.options)
    return spec.many


def _kebab(name: str) -> str:
    return name.replace("_", "-").replace(".", "-")
