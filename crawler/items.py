"""The records the crawler emits: listings, credential records and reviews.

Values are kept as the source wrote them (``*_raw`` fields); the crawler only does cheap
parse-to-type (a rating to a number, a latitude to a float) and keeps the raw text beside the
parsed value. Normalisation, entity resolution and verification are the indexer's job.

Every record carries provenance (source, URL, fetched-at, content hash) and a stable id: a hash of
the source name and the source's own reference for the thing, so a recrawl of the same page
produces the same id and both search backends can key on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, Literal

RecordType = Literal["listing", "credential_record", "review"]
# How each record type reads in a sentence or a column heading, in the plural.
RECORD_LABELS: dict[str, str] = {
    "listing": "listings",
    "review": "reviews",
    "credential_record": "credential records",
}


def stable_id(source: str, source_ref: str) -> str:
    """Return a short, stable id for the thing ``source_ref`` names on ``source``."""
    digest = hashlib.sha256(f"{source}\x1f{source_ref}".encode()).hexdigest()
    return digest[:20]


def body_hash(body: bytes) -> str:
    """Return the hash of a fetched body, used to tell changed pages from unchanged ones."""
    return hashlib.sha256(body).hexdigest()


@dataclass(slots=True)
class Provenance:
    """Where and when a record was fetched."""

    source: str
    url: str
    fetched_at: str  # ISO 8601, UTC
    content_hash: str  # body_hash() of what was fetched


@dataclass(slots=True)
class PostalAddress:
    """An address as the source wrote it, split only where the source itself split it."""

    street: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    raw: str | None = None  # the whole address when the source gave one string


@dataclass(slots=True)
class PracticeLocation:
    """A further practice location a listing publishes beside its main address."""

    address: PostalAddress | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(slots=True)
class ClaimedCredential:
    """A credential a listing says its therapist holds; the indexer verifies it."""

    name_raw: str  # e.g. "LMT", "Board Certified (BCTMB)", "Licensed Massage Therapist"
    number: str | None = None
    issuer_raw: str | None = None
    state: str | None = None
    category_raw: str | None = None  # e.g. "license", "certification" (credentialCategory)
    alternate_name_raw: str | None = None  # schema.org alternateName: "BCTMB" beside a long name


@dataclass(slots=True)
class Rating:
    """A rating parsed to a number, with its scale and the raw text it came from."""

    raw: str
    value: float | None  # on the source's own scale; None when the raw text did not parse
    best: float = 5.0
    worst: float = 1.0
    count: int | None = None  # for aggregate ratings


@dataclass(slots=True)
class Listing:
    """A therapist's (or practice's) listing on one directory site.

    A listing's main location is ``address`` with ``latitude``/``longitude``. A listing that
    publishes several practice locations keeps the others in ``other_locations``, in the order
    the page gives them, never repeating the main one.
    """

    id: str
    provenance: Provenance
    source_ref: str  # the site's own reference, usually the canonical profile URL
    name_raw: str
    practice_name_raw: str | None = None
    address: PostalAddress | None = None
    latitude: float | None = None
    longitude: float | None = None
    other_locations: list[PracticeLocation] = field(default_factory=list)
    telephone_raw: str | None = None
    website: str | None = None
    email: str | None = None
    modalities_raw: list[str] = field(default_factory=list)
    conditions_raw: list[str] = field(default_factory=list)
    credentials: list[ClaimedCredential] = field(default_factory=list)
    npi: str | None = None
    aggregate_rating: Rating | None = None
    bio: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    record_type: RecordType = "listing"


@dataclass(slots=True)
class CredentialRecord:
    """A credential as its issuer's own registry publishes it."""

    id: str
    provenance: Provenance
    issuer_kind: Literal["state_board", "certification_registry", "npi_registry"]
    issuer: str  # e.g. "Texas Department of Licensing and Regulation", "NCBTMB", "NPPES"
    credential_raw: str  # license type or certification title as published, e.g. "LMT"
    number: str | None
    name_raw: str
    state: str | None = None
    city_raw: str | None = None
    status_raw: str | None = None
    issued_raw: str | None = None
    expires_raw: str | None = None
    npi: str | None = None
    address: PostalAddress | None = None
    telephone_raw: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    record_type: RecordType = "credential_record"


@dataclass(slots=True)
class Review:
    """One review of a therapist on one site."""

    id: str
    provenance: Provenance
    listing_ref: str  # source_ref of the listing (or review page subject) it belongs to
    author_raw: str | None  # the reviewer's display name exactly as the source shows it
    rating: Rating | None
    published_raw: str | None
    body: str | None
    subject_name_raw: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    record_type: RecordType = "review"


def to_dict(record: Listing | CredentialRecord | Review) -> dict[str, Any]:
    """Return a JSON-ready dict of a record (the crawler's feed format).

    What ``dataclasses.asdict`` gives, without its deep copy of every leaf value: records hold
    only strings, numbers, lists, dicts and the dataclasses here (made for every record a crawl
    writes, asdict was a sixth of a crawl's CPU time).
    """
    plain: dict[str, Any] = _plain(record)
    return plain


def _plain(value: Any) -> Any:
    names = _FIELD_NAMES.get(type(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def from_dict(data: dict[str, Any]) -> Listing | CredentialRecord | Review:
    """Rebuild a record from its feed form (the inverse of ``to_dict``).

    Raises ValueError naming the problem for a line that is not a tdir record.
    """
    kind = data.get("record_type")
    try:
        values = dict(data)
        values["provenance"] = Provenance(**values["provenance"])
        if values.get("address"):
            values["address"] = PostalAddress(**values["address"])
        if kind == "listing":
            values["credentials"] = [ClaimedCredential(**c) for c in values.get("credentials", [])]
            # Feed lines written before listings kept several locations have no such field.
            values["other_locations"] = [
                _practice_location(p) for p in values.get("other_locations") or []
            ]
            if values.get("aggregate_rating"):
                values["aggregate_rating"] = Rating(**values["aggregate_rating"])
            return Listing(**values)
        if kind == "review":
            if values.get("rating"):
                values["rating"] = Rating(**values["rating"])
            return Review(**values)
        if kind == "credential_record":
            return CredentialRecord(**values)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"record {data.get('id')!r} does not fit {kind}: {exc}") from None
    raise ValueError(f"record {data.get('id')!r} has an unknown record_type {kind!r}")


def _practice_location(data: dict[str, Any]) -> PracticeLocation:
    """Rebuild one ``other_locations`` entry of a listing's feed form."""
    values = dict(data)
    if values.get("address"):
        values["address"] = PostalAddress(**values["address"])
    return PracticeLocation(**values)


# The fields of each record class and of the classes records hold, in declaration order.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (
        Provenance,
        PostalAddress,
        PracticeLocation,
        ClaimedCredential,
        Rating,
        Listing,
        CredentialRecord,
        Review,
    )
}
