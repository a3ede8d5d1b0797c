"""The served profile, typed: the one contract between the indexer, both search backends, the
command line and the dashboard.

The indexer assembles a :class:`Profile` (``indexer.profiles``); backends store its
:meth:`Profile.to_dict` form as JSON and hand back :meth:`Profile.from_dict`; the search document
(``indexer.search.document``) and the content hash are derived from it. Readers use the typed
fields and the answers defined here (``Profile.verification.license_verified``,
``Location.approximate``, ``SourceRating.basis``) instead of re-deriving them from raw values,
so "verified", "approximate" and "published" mean one thing everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from indexer.geo import GeoPoint

PROFILE_SCHEMA = 2

Precision = Literal["rooftop", "zip", "city"]
PRECISION_RANK: dict[str, int] = {"rooftop": 0, "zip": 1, "city": 2}  # lower is more precise
VerificationStatus = Literal["verified", "expired", "inactive", "not_found", "unverifiable"]
LicenseStanding = Literal["verified", "expired", "inactive", "not_found", "unverifiable", "none"]
# Which standing a profile shows when its state-license claims disagree: the best news first
# (one active license is enough to practise), then the worst problem.
_LICENSE_ORDER: tuple[LicenseStanding, ...] = (
    "verified",
    "expired",
    "inactive",
    "not_found",
    "unverifiable",
    "none",
)


@dataclass(frozen=True, slots=True)
class Location:
    """One practice address, merged across the sources that give it.

    ``lat``/``lon`` is the most precise position any source gives (``precision``: ``rooftop``
    from a source's own coordinates, else the ZIP's or the city's centre); ``sources`` are the
    sources placing the therapist here."""

    lat: float
    lon: float
    precision: Precision
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def point(self) -> GeoPoint:
        """The position distances are measured to."""
        return GeoPoint(self.lat, self.lon)

    @property
    def approximate(self) -> bool:
        """True when the position is only a ZIP or city centre, not the office itself."""
        return self.precision != "rooftop"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        """Read the stored form."""
        return cls(
            lat=float(data["lat"]),
            lon=float(data["lon"]),
            precision=data.get("precision") or "city",
            street=data.get("street"),
            city=data.get("city"),
            state=data.get("state"),
            postal_code=data.get("postal_code"),
            sources=tuple(data.get("sources") or ()),
        )


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """A credential the therapist's listings claim, with the issuer's answer."""

    type: str  # the taxonomy's credential id, e.g. "lmt", "bctmb", "npi"
    label: str
    kind: str  # the taxonomy's kind: state_license, board_certification, identifier (the NPI)...
    state: str | None
    number: str | None
    claimed_by: tuple[str, ...]
    status: VerificationStatus
    checked_on: str | None  # ISO date the issuer's record was fetched
    issuer: str | None
    record_url: str | None
    reason: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CredentialCheck:
        """Read the stored form."""
        return cls(
            type=data["type"],
            label=data.get("label") or data["type"],
            kind=data.get("kind") or "",
            state=data.get("state"),
            number=data.get("number"),
            claimed_by=tuple(data.get("claimed_by") or ()),
            status=data.get("status") or "unverifiable",
            checked_on=data.get("checked_on"),
            issuer=data.get("issuer"),
            record_url=data.get("record_url"),
            reason=data.get("reason") or "",
        )


@dataclass(frozen=True, slots=True)
class Verification:
    """What a client asks of a therapist's credentials, answered separately.

    ``license`` is the standing of the therapist's state license: ``verified`` only when a state
    board's own record shows it active (on ``license_checked_on``); else the best of expired,
    inactive, not found (the board was read and does not confirm the claim), unverifiable (no
    board of that state is read) or ``none`` (no license claimed). An NPI or a board
    certification never makes a therapist "verified": they are answered on their own."""

    license: LicenseStanding = "none"
    license_checked_on: str | None = None
    license_states: tuple[str, ...] = ()  # states whose board confirms an active license
    board_certified: bool = False  # a board certification confirmed by its registry
    npi_confirmed: bool = False  # the NPI is in the NPI registry

    @property
    def license_verified(self) -> bool:
        """The one meaning of "verified": an active state license its board confirms."""
        return self.license == "verified"

    @classmethod
    def of(cls, credentials: list[CredentialCheck]) -> Verification:
        """Summarise the checks of one therapist's claimed credentials."""
        licenses = [c for c in credentials if c.kind == "state_license"]
        standings = {c.status for c in licenses}
        license: LicenseStanding = next((s for s in _LICENSE_ORDER if s in standings), "none")
        active = [c for c in licenses if c.status == "verified"]
        checked = max((c.checked_on for c in active if c.checked_on), default=None)
        return cls(
            license=license,
            license_checked_on=checked,
            license_states=tuple(sorted({c.state for c in active if c.state})),
            board_certified=any(
                c.kind == "board_certification" and c.status == "verified" for c in credentials
            ),
            npi_confirmed=any(c.type == "npi" and c.status == "verified" for c in credentials),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        """Read the stored form."""
        return cls(
            license=data.get("license") or "none",
            license_checked_on=data.get("license_checked_on"),
            license_states=tuple(data.get("license_states") or ()),
            board_certified=bool(data.get("board_certified")),
            npi_confirmed=bool(data.get("npi_confirmed")),
        )


RatingBasis = Literal["published", "reviews"]


@dataclass(frozen=True, slots=True)
class SourceRating:
    """One source's rating of the therapist and where it comes from.

    ``basis`` is ``published`` when it is the aggregate the source itself publishes ("4.7 from
    112 reviews"), ``reviews`` when it is computed from the source's reviews, which is done only
    when every one of them was crawled. ``reviews_crawled`` and ``reviews_average`` describe the
    reviews tdir holds from the source (a sample, where the source embeds a few); ``note`` says
    where the published figure and those reviews disagree."""

    rating: float | None
    count: int
    latest: str | None  # ISO date of the newest crawled review from this source
    basis: RatingBasis
    reviews_crawled: int = 0
    reviews_average: float | None = None
    note: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceRating:
        """Read the stored form."""
        return cls(
            rating=data.get("rating"),
            count=int(data.get("count") or 0),
            latest=data.get("latest"),
            basis=data.get("basis") or "reviews",
            reviews_crawled=int(data.get("reviews_crawled") or 0),
            reviews_average=data.get("reviews_average"),
            note=data.get("note"),
        )


@dataclass(frozen=True, slots=True)
class Rating:
    """Every source's rating beside one combined score (see ``indexer.ratings``)."""

    combined: float | None = None
    review_count: int = 0  # ratings behind the combined score (published counts included)
    by_source: dict[str, SourceRating] = field(default_factory=dict)
    distribution: dict[str, int] = field(default_factory=dict)  # "1".."5" -> crawled reviews

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rating:
        """Read the stored form."""
        return cls(
            combined=data.get("combined"),
            review_count=int(data.get("review_count") or 0),
            by_source={
                s: SourceRating.from_dict(r) for s, r in (data.get("by_source") or {}).items()
            },
            distribution=dict(data.get("distribution") or {}),
        )


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One crawled review as shown on the profile; ``copied_to`` lists copies on other sites."""

    id: str
    source: str
    url: str
    author: str | None
    rating: float | None
    published: str | None
    body: str | None
    copied_to: tuple[str, ...] = ()
    # The author's page where the source links it: an attribution some sources require.
    author_url: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewEntry:
        """Read the stored form."""
        return cls(**{**data, "copied_to": tuple(data.get("copied_to") or ())})


@dataclass(frozen=True, slots=True)
class ListingRef:
    """One listing the profile was built from."""

    id: str
    source: str
    url: str
    name: str
    last_seen: str
    active: bool
    # The provider's own page of a listing read through an API (``url`` is the API call): the
    # link back some providers require wherever their content shows.
    page_url: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListingRef:
        """Read the stored form."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class DataFlag:
    """A value a listing gave that the indexer could not use (for admin review)."""

    source: str
    field: str
    reason: str
    raw: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataFlag:
        """Read the stored form."""
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Profile:
    """One therapist, as served.

    ``provenance`` maps a field name to the sources that gave it (``source``, ``url``,
    ``last_seen``; a correction adds ``by``); ``merge_evidence`` says why listings were judged
    one person; ``corrections`` are the fields an admin corrected at the therapist's request."""

    id: str
    name: str
    alias_ids: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    practice_name: str | None = None
    bio: str | None = None
    locations: tuple[Location, ...] = ()
    phones: tuple[str, ...] = ()
    website: str | None = None
    modalities: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    unknown_terms: tuple[str, ...] = ()
    credentials: tuple[CredentialCheck, ...] = ()
    verification: Verification = field(default_factory=Verification)
    credential_flags: tuple[str, ...] = ()
    rating: Rating = field(default_factory=Rating)
    reviews: tuple[ReviewEntry, ...] = ()
    listings: tuple[ListingRef, ...] = ()
    merge_evidence: tuple[dict[str, str], ...] = ()
    provenance: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    data_flags: tuple[DataFlag, ...] = ()
    corrections: tuple[dict[str, Any], ...] = ()
    active: bool = True
    last_confirmed: str | None = None
    schema: int = PROFILE_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        """The stored (JSON) form; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Read a stored profile. Raises ValueError naming what is missing or malformed."""
        if not isinstance(data, dict) or not data.get("id"):
            raise ValueError("profile has no id")
        try:
            credentials = tuple(CredentialCheck.from_dict(c) for c in data.get("credentials") or ())
            verification = data.get("verification")
            return cls(
                id=str(data["id"]),
                name=data.get("name") or "",
                alias_ids=tuple(data.get("alias_ids") or ()),
                other_names=tuple(data.get("other_names") or ()),
                practice_name=data.get("practice_name"),
                bio=data.get("bio"),
                locations=tuple(
                    Location.from_dict(loc)
                    for loc in data.get("locations") or ()
                    if loc.get("lat") is not None and loc.get("lon") is not None
                ),
                phones=tuple(data.get("phones") or ()),
                website=data.get("website"),
                modalities=tuple(data.get("modalities") or ()),
                conditions=tuple(data.get("conditions") or ()),
                unknown_terms=tuple(data.get("unknown_terms") or ()),
                credentials=credentials,
                verification=Verification.from_dict(verification)
                if isinstance(verification, dict)
                else Verification.of(list(credentials)),
                credential_flags=tuple(data.get("credential_flags") or ()),
                rating=Rating.from_dict(data.get("rating") or {}),
                reviews=tuple(ReviewEntry.from_dict(r) for r in data.get("reviews") or ()),
                listings=tuple(ListingRef.from_dict(x) for x in data.get("listings") or ()),
                merge_evidence=tuple(data.get("merge_evidence") or ()),
                provenance=dict(data.get("provenance") or {}),
                data_flags=tuple(DataFlag.from_dict(f) for f in data.get("data_flags") or ()),
                corrections=tuple(data.get("corrections") or ()),
                active=bool(data.get("active", True)),
                last_confirmed=data.get("last_confirmed"),
                schema=int(data.get("schema") or PROFILE_SCHEMA),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"profile {data.get('id')!r} is malformed: {exc}") from None
