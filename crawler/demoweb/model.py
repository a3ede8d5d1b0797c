"""The true state of the demo world: therapists, their practices, credentials, listings, reviews.

These records are the *truth* the sites render (each in its own messy way) and the ground truth is
written from. They serialise to compact JSON documents (``to_doc`` / ``from_doc``) so that a
population of a million therapists fits in one SQLite file and any one of them can be read back
on request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

LICENSE_STATUSES = ("active", "expired", "suspended", "revoked")


@dataclass(frozen=True, slots=True)
class Address:
    """A practice address in canonical spelling (``Street``, ``Suite``); sites vary it."""

    number: str
    street: str
    suffix: str
    direction: str | None
    unit_kind: str | None
    unit: str | None
    city: str
    state: str
    zip: str
    zip4: str
    lat: float
    lon: float

    @property
    def street_line(self) -> str:
        """The canonical street line, e.g. ``1200 North Oak Street``."""
        parts = [self.number]
        if self.direction:
            parts.append(self.direction)
        parts.extend([self.street, self.suffix])
        return " ".join(parts)

    @property
    def unit_line(self) -> str | None:
        """The canonical unit, e.g. ``Suite 200``, or ``None``."""
        if not self.unit_kind or not self.unit:
            return None
        return f"{self.unit_kind.title()} {self.unit}"

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "number": self.number,
            "street": self.street,
            "suffix": self.suffix,
            "direction": self.direction,
            "unit_kind": self.unit_kind,
            "unit": self.unit,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "zip4": self.zip4,
            "lat": self.lat,
            "lon": self.lon,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Address:
        """Rebuild from :meth:`to_doc` output."""
        return cls(**doc)


@dataclass(frozen=True, slots=True)
class License:
    """A state license as the issuing board records it."""

    state: str
    credential: str
    title: str
    number: str
    status: str
    issued: date
    expires: date

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "state": self.state,
            "credential": self.credential,
            "title": self.title,
            "number": self.number,
            "status": self.status,
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> License:
        """Rebuild from :meth:`to_doc` output."""
        return cls(
            state=doc["state"],
            credential=doc["credential"],
            title=doc["title"],
            number=doc["number"],
            status=doc["status"],
            issued=date.fromisoformat(doc["issued"]),
            expires=date.fromisoformat(doc["expires"]),
        )


@dataclass(frozen=True, slots=True)
class BoardCertification:
    """An NCBTMB board certification (BCTMB) as the registry records it."""

    id: str
    status: str
    issued: date
    expires: date

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "id": self.id,
            "status": self.status,
            "issued": self.issued.isoformat(),
            "expires": self.expires.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> BoardCertification:
        """Rebuild from :meth:`to_doc` output."""
        return cls(
            id=doc["id"],
            status=doc["status"],
            issued=date.fromisoformat(doc["issued"]),
            expires=date.fromisoformat(doc["expires"]),
        )


@dataclass(frozen=True, slots=True)
class NpiRecord:
    """A therapist's NPPES enumeration (individual, taxonomy 225700000X).

    ``stale_address`` is true when the therapist moved but never updated NPPES, so the registry
    still shows the previous practice address. ``credential_text`` is the free text the provider
    typed into the credential field.
    """

    number: int
    enumerated: date
    updated: date
    sole_proprietor: bool
    credential_text: str
    stale_address: bool

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "number": self.number,
            "enumerated": self.enumerated.isoformat(),
            "updated": self.updated.isoformat(),
            "sole_proprietor": self.sole_proprietor,
            "credential_text": self.credential_text,
            "stale_address": self.stale_address,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NpiRecord:
        """Rebuild from :meth:`to_doc` output."""
        return cls(
            number=int(doc["number"]),
            enumerated=date.fromisoformat(doc["enumerated"]),
            updated=date.fromisoformat(doc["updated"]),
            sole_proprietor=bool(doc["sole_proprietor"]),
            credential_text=doc["credential_text"],
            stale_address=bool(doc["stale_address"]),
        )


@dataclass(frozen=True, slots=True)
class FalseClaim:
    """A credential a therapist's listings claim that the issuer does not confirm.

    ``reason`` is ``unknown_number`` (the board has no such license number),
    ``not_certified`` (the registry does not list the person) or ``unlicensed`` (the person holds
    no license at all in that state but claims one).
    """

    credential: str
    state: str | None
    number: str | None
    reason: str

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "credential": self.credential,
            "state": self.state,
            "number": self.number,
            "reason": self.reason,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FalseClaim:
        """Rebuild from :meth:`to_doc` output."""
        return cls(**doc)


@dataclass(frozen=True, slots=True)
class Review:
    """A client review published on one site.

    The text is not stored: it is composed from the data file's phrases by ``text_seed`` when a
    page is rendered, which keeps a ten-million-review population small. A review copied word for
    word from another site has the same ``text_seed`` and author and names the original in
    ``copy_of``.
    """

    id: int
    site: str
    published: date
    rating: float
    author: str
    text_seed: int
    copy_of: int | None = None

    def to_doc(self) -> list[Any]:
        """Serialise to a compact JSON-ready list."""
        return [
            self.id,
            self.site,
            self.published.isoformat(),
            self.rating,
            self.author,
            self.text_seed,
            self.copy_of,
        ]

    @classmethod
    def from_doc(cls, doc: list[Any]) -> Review:
        """Rebuild from :meth:`to_doc` output."""
        rid, site, published, rating, author, seed, copy_of = doc
        return cls(
            id=int(rid),
            site=site,
            published=date.fromisoformat(published),
            rating=float(rating),
            author=author,
            text_seed=int(seed),
            copy_of=copy_of,
        )


@dataclass(frozen=True, slots=True)
class Listing:
    """One listing of a therapist on a directory site.

    ``ordinal`` 0 is the therapist's main listing; higher ordinals are duplicates inside the same
    site. ``stale`` listings still show the previous address of a therapist who moved. ``defect``
    names how the page is deliberately broken, if it is. ``since`` is when the listing was
    created and ``updated`` when it last changed.
    """

    site: str
    ordinal: int
    stale: bool
    defect: str | None
    since: date
    updated: date

    @property
    def key(self) -> tuple[str, int]:
        """The listing's identity inside the population."""
        return (self.site, self.ordinal)

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "site": self.site,
            "ordinal": self.ordinal,
            "stale": self.stale,
            "defect": self.defect,
            "since": self.since.isoformat(),
            "updated": self.updated.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Listing:
        """Rebuild from :meth:`to_doc` output."""
        return cls(
            site=doc["site"],
            ordinal=int(doc["ordinal"]),
            stale=bool(doc["stale"]),
            defect=doc["defect"],
            since=date.fromisoformat(doc["since"]),
            updated=date.fromisoformat(doc["updated"]),
        )


@dataclass(slots=True)
class Therapist:
    """One real person in the demo world, with everything true about them.

    ``address`` is the main office; ``other_offices`` are the further places the therapist
    practises at (a second clinic two days a week), main office first in :attr:`offices`.
    """

    id: int
    metro: str
    gender: str
    first: str
    middle: str | None
    last: str
    practice: str
    address: Address
    previous_address: Address | None
    moved_on: date | None
    phone: str
    website: str | None
    started: int
    modalities: list[str]
    conditions: list[str]
    licenses: list[License] = field(default_factory=list)
    bctmb: BoardCertification | None = None
    legacy_ncbtmb: bool = False
    npi: NpiRecord | None = None
    memberships: list[str] = field(default_factory=list)
    nmt_program: str | None = None
    nmt_year: int | None = None
    false_claims: list[FalseClaim] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    status: str = "active"
    updated: date = date(2000, 1, 1)
    other_offices: list[Address] = field(default_factory=list)

    @property
    def offices(self) -> list[Address]:
        """Every office the therapist practises at now, the main one first."""
        return [self.address, *self.other_offices]

    @property
    def full_name(self) -> str:
        """First, middle initial and last name, e.g. ``Jane A. Doe``."""
        if self.middle:
            return f"{self.first} {self.middle[0]}. {self.last}"
        return f"{self.first} {self.last}"

    def license_in(self, state: str) -> License | None:
        """The license the therapist holds in ``state``, if any."""
        for lic in self.licenses:
            if lic.state == state:
                return lic
        return None

    @property
    def current_license(self) -> License | None:
        """The license for the state the therapist practises in now."""
        return self.license_in(self.address.state)

    def listing(self, site: str, ordinal: int = 0) -> Listing | None:
        """The therapist's listing on ``site`` with that ordinal, if any."""
        for item in self.listings:
            if item.site == site and item.ordinal == ordinal:
                return item
        return None

    def reviews_on(self, site: str) -> list[Review]:
        """The reviews published on ``site``, newest first."""
        found = [r for r in self.reviews if r.site == site]
        found.sort(key=lambda r: (r.published, r.id), reverse=True)
        return found

    def to_doc(self) -> dict[str, Any]:
        """Serialise to a JSON-ready dict."""
        return {
            "id": self.id,
            "metro": self.metro,
            "gender": self.gender,
            "first": self.first,
            "middle": self.middle,
            "last": self.last,
            "practice": self.practice,
            "address": self.address.to_doc(),
            "previous_address": self.previous_address.to_doc() if self.previous_address else None,
            "moved_on": self.moved_on.isoformat() if self.moved_on else None,
            "phone": self.phone,
            "website": self.website,
            "started": self.started,
            "modalities": self.modalities,
            "conditions": self.conditions,
            "licenses": [lic.to_doc() for lic in self.licenses],
            "bctmb": self.bctmb.to_doc() if self.bctmb else None,
            "legacy_ncbtmb": self.legacy_ncbtmb,
            "npi": self.npi.to_doc() if self.npi else None,
            "memberships": self.memberships,
            "nmt_program": self.nmt_program,
            "nmt_year": self.nmt_year,
            "false_claims": [c.to_doc() for c in self.false_claims],
            "listings": [item.to_doc() for item in self.listings],
            "reviews": [r.to_doc() for r in self.reviews],
            "status": self.status,
            "updated": self.updated.isoformat(),
            "other_offices": [a.to_doc() for a in self.other_offices],
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Therapist:
        """Rebuild from :meth:`to_doc` output."""
        prev = doc["previous_address"]
        return cls(
            id=int(doc["id"]),
            metro=doc["metro"],
            gender=doc["gender"],
            first=doc["first"],
            middle=doc["middle"],
            last=doc["last"],
            practice=doc["practice"],
            address=Address.from_doc(doc["address"]),
            previous_address=Address.from_doc(prev) if prev else None,
            moved_on=date.fromisoformat(doc["moved_on"]) if doc["moved_on"] else None,
            phone=doc["phone"],
            website=doc["website"],
            started=int(doc["started"]),
            modalities=list(doc["modalities"]),
            conditions=list(doc["conditions"]),
            licenses=[License.from_doc(d) for d in doc["licenses"]],
            bctmb=BoardCertification.from_doc(doc["bctmb"]) if doc["bctmb"] else None,
            legacy_ncbtmb=bool(doc["legacy_ncbtmb"]),
            npi=NpiRecord.from_doc(doc["npi"]) if doc["npi"] else None,
            memberships=list(doc["memberships"]),
            nmt_program=doc["nmt_program"],
            nmt_year=doc["nmt_year"],
            false_claims=[FalseClaim.from_doc(d) for d in doc["false_claims"]],
            listings=[Listing.from_doc(d) for d in doc["listings"]],
            reviews=[Review.from_doc(d) for d in doc["reviews"]],
            status=doc["status"],
            updated=date.fromisoformat(doc["updated"]),
            # Worlds stored before therapists had several offices have no such key.
            other_offices=[Address.from_doc(d) for d in doc.get("other_offices", ())],
        )
