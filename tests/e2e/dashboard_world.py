"""A small, hand-checkable directory for the dashboard tests, written as typed served profiles.

Around ZIP 78704 (centroid 30.2428, -97.7658), by distance: Jane A. Doe (~1.6 km), the
hostile listing (~3.2 km), Maria Garcia (~5.3 km, known only by her ZIP 78702's centre),
Robert Chen (~11 km, license expired). Jane A. Doe also practises in Waco, known only by the
city's centre. Dana Farr is in Dallas; Old Listing is inactive; 25 plain therapists fill Round
Rock for paging. Near ZIP 78205 (San Antonio) are Lena Ortiz (license verified), Nina Patel
(an NPI, no license) and Bea Torres (a board certification, no license): only Lena Ortiz is
"verified". Every string the hostile listing carries is one that must never be interpreted as
markup.

Everything here is written by hand, verification answers included; nothing is computed by the
indexer.
"""

from __future__ import annotations

from dataclasses import replace

from indexer.profile import (
    CredentialCheck,
    DataFlag,
    ListingRef,
    Location,
    Profile,
    Rating,
    ReviewEntry,
    SourceRating,
    Verification,
)

ZIP = "78704"
SAN_ANTONIO_ZIP = "78205"
WACO_ZIP = "76701"
SEEN = "2026-11-20T10:00:00+00:00"

HOSTILE_STRINGS = (
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://evil/x.png)",
    "**bold**",
    "<img src=x onerror=alert(1)>",
)
HOSTILE_NAME = "<script>alert(1)</script> **bold**"
HOSTILE_PRACTICE = "[click](javascript:alert(1)) :red[Spa]"
HOSTILE_BIO = "![x](http://evil/x.png) <img src=x onerror=alert(1)> $x^2$ www.evil.example"
HOSTILE_REVIEW = "Great! [click](javascript:alert(1)) ![x](http://evil/x.png) **bold** # big"
HOSTILE_AUTHOR = "**bold** <b>me</b>"
HOSTILE_CITY = ":red[Austin] <b>x</b>"

LMT = "Licensed Massage Therapist (LMT)"
BCTMB = "Board Certified in Therapeutic Massage & Bodywork (BCTMB)"
NPI = "National Provider Identifier (NPI)"
NO_STARS = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
NO_LICENSE = Verification(license="none")
NOT_RATED = Rating(distribution=NO_STARS)
DOE_REVIEWS_NOTE = "the source publishes 4.8 from 2; its 2 reviews average 4.50, which is used"


def _credential(
    type_: str,
    label: str,
    kind: str,
    status: str,
    *,
    state: str | None = None,
    number: str | None = None,
    checked_on: str | None = None,
    issuer: str | None = None,
    record_url: str | None = None,
    reason: str = "",
    claimed_by: tuple[str, ...] = ("atlas",),
) -> CredentialCheck:
    return CredentialCheck(
        type=type_,
        label=label,
        kind=kind,
        state=state,
        number=number,
        claimed_by=claimed_by,
        status=status,  # type: ignore[arg-type]
        checked_on=checked_on,
        issuer=issuer,
        record_url=record_url,
        reason=reason,
    )


def _texas_license(
    status: str, number: str, checked_on: str | None = "2026-11-18", reason: str = ""
) -> CredentialCheck:
    return _credential(
        "lmt",
        LMT,
        "state_license",
        status,
        state="TX",
        number=number,
        checked_on=checked_on,
        issuer="Texas TDLR",
        reason=reason,
    )


def _review(
    id_: str, source: str, rating: float | None, published: str | None, body: str, author: str
) -> ReviewEntry:
    return ReviewEntry(
        id=id_,
        source=source,
        url=f"https://{source}.example/r/{id_}",
        author=author,
        rating=rating,
        published=published,
        body=body,
    )


def _office(
    lat: float,
    lon: float,
    *,
    city: str = "Austin",
    postal_code: str | None = "78704",
    sources: tuple[str, ...] = ("atlas",),
) -> Location:
    """A practice whose own coordinates a source gives (an exact position)."""
    return Location(
        lat=lat,
        lon=lon,
        precision="rooftop",
        street="100 Main St",
        city=city,
        state="TX",
        postal_code=postal_code,
        sources=sources,
    )


def _published(
    rating: float,
    count: int,
    crawled: int = 0,
    average: float | None = None,
    latest: str | None = None,
) -> SourceRating:
    """A source's own published aggregate ("4.7 from 120"), with the few reviews read here."""
    return SourceRating(
        rating=rating,
        count=count,
        latest=latest,
        basis="published",
        reviews_crawled=crawled,
        reviews_average=average,
    )


def _from_reviews(rating: float, count: int, latest: str | None) -> SourceRating:
    """A source's rating computed from every one of its reviews, all read here."""
    return SourceRating(
        rating=rating,
        count=count,
        latest=latest,
        basis="reviews",
        reviews_crawled=count,
        reviews_average=rating,
    )


def _profile(
    id_: str,
    name: str,
    locations: tuple[Location, ...],
    *,
    verification: Verification = NO_LICENSE,
    practice: str | None = None,
    modalities: tuple[str, ...] = (),
    conditions: tuple[str, ...] = (),
    credentials: tuple[CredentialCheck, ...] = (),
    rating: Rating = NOT_RATED,
    reviews: tuple[ReviewEntry, ...] = (),
    sources: tuple[str, ...] = ("atlas",),
    active: bool = True,
) -> Profile:
    return Profile(
        id=id_,
        name=name,
        other_names=(f"{name}, LMT",),
        practice_name=practice,
        bio=f"{name} offers focused therapeutic massage.",
        locations=locations,
        phones=("+15125550100",),
        website=f"https://{id_}.example/",
        modalities=modalities,
        conditions=conditions,
        credentials=credentials,
        verification=verification,
        rating=rating,
        reviews=reviews,
        listings=tuple(
            ListingRef(
                id=f"{id_}-{source}",
                source=source,
                url=f"https://{source}.example/{id_}",
                name=name,
                last_seen=SEEN,
                active=active,
            )
            for source in sources
        ),
        merge_evidence=(
            {
                "listings": f"{id_}-atlas {id_}-reviews",
                "reason": "weighed evidence: first name same, surname same, phone same",
                "match_weight": "21.4",
                "fields": "first name same (+6.7), surname same (doe) (+8.0), phone same (+7.7)",
            },
        )
        if len(sources) > 1
        else (),
        provenance={
            "name": [
                {"source": s, "url": f"https://{s}.example/{id_}", "last_seen": SEEN}
                for s in sources
            ],
            "phones": [
                {
                    "source": sources[0],
                    "url": f"https://{sources[0]}.example/{id_}",
                    "last_seen": SEEN,
                }
            ],
        },
        active=active,
        last_confirmed=SEEN,
    )


def _doe() -> Profile:
    return replace(
        _profile(
            "t-doe",
            "Jane A. Doe",
            (
                _office(30.2480, -97.7500, sources=("atlas", "reviews")),
                # Waco is known only as a city: its centre stands in for the office.
                Location(
                    lat=31.5496,
                    lon=-97.1673,
                    precision="city",
                    city="Waco",
                    state="TX",
                    sources=("reviews",),
                ),
            ),
            verification=Verification(
                license="verified",
                license_checked_on="2026-11-18",
                license_states=("TX",),
                board_certified=True,
            ),
            practice="South Congress Bodywork",
            modalities=("neuromuscular_therapy", "trigger_point_therapy"),
            conditions=("sciatica",),
            credentials=(
                _credential(
                    "bctmb",
                    BCTMB,
                    "board_certification",
                    "verified",
                    number="123456",
                    checked_on="2026-11-19",
                    issuer="NCBTMB",
                    record_url="https://ncbtmb.example/record/123456",
                ),
                replace(_texas_license("verified", "MT012345"), record_url="javascript:alert(1)"),
            ),
            # (5 x 4.0 + 4.7 x 120 + 4.5 x 2) / (5 + 122) = 4.67
            rating=Rating(
                combined=4.67,
                review_count=122,
                by_source={
                    "atlas": _published(4.7, 120, 3, 4.0, "2026-10-01"),
                    "reviews": replace(_from_reviews(4.5, 2, "2026-09-12"), note=DOE_REVIEWS_NOTE),
                },
                distribution={"1": 0, "2": 0, "3": 1, "4": 1, "5": 2},
            ),
            reviews=(
                _review(
                    "r1", "atlas", 5.0, "2026-10-01", "Fixed my sciatica in three visits.", "Ann"
                ),
                _review("r2", "reviews", 4.0, "2026-09-12", "Firm pressure, good results.", "Bo"),
                _review("r3", "atlas", 3.0, "2025-01-05", "Running late but skilled.", "Cy"),
                _review("r4", "reviews", 5.0, "2024-06-30", "Best NMT in Austin.", "Di"),
                _review("r5", "atlas", None, None, "Undated and unrated note.", "Ed"),
            ),
            sources=("atlas", "reviews"),
        ),
        alias_ids=("t-doe-before",),  # the id she had before a new listing joined
    )


def _hostile() -> Profile:
    office = replace(_office(30.2710, -97.7640, sources=("reviews",)), city=HOSTILE_CITY)
    return replace(
        _profile(
            "t-hostile",
            HOSTILE_NAME,
            (office,),
            verification=Verification(license="not_found"),
            practice=HOSTILE_PRACTICE,
            modalities=("neuromuscular_therapy",),
            credentials=(
                _texas_license("not_found", "MT999999", reason="the board has no license MT999999"),
            ),
            # (5 x 4.0 + 2.0) / (5 + 1) = 3.67
            rating=Rating(
                combined=3.67,
                review_count=1,
                by_source={"reviews": _from_reviews(2.0, 1, "2026-01-01")},
                distribution={"1": 0, "2": 1, "3": 0, "4": 0, "5": 0},
            ),
            reviews=(_review("h1", "reviews", 2.0, "2026-01-01", HOSTILE_REVIEW, HOSTILE_AUTHOR),),
            sources=("reviews",),
        ),
        bio=HOSTILE_BIO,
        other_names=("[click](javascript:alert(1))",),
        credential_flags=(f"claims {LMT} MT999999 in TX: the board has no license MT999999",),
        data_flags=(
            DataFlag(source="atlas", field="phone", reason="not_a_phone", raw="<script>1</script>"),
        ),
    )


def _garcia() -> Profile:
    return _profile(
        "t-garcia",
        "Maria Garcia",
        # Her listing gives only a ZIP code: the position is the ZIP's centre.
        (
            Location(
                lat=30.2638,
                lon=-97.7166,
                precision="zip",
                city="Austin",
                state="TX",
                postal_code="78702",
                sources=("atlas",),
            ),
        ),
        verification=Verification(
            license="verified", license_checked_on="2026-11-18", license_states=("TX",)
        ),
        practice="Barton Springs Massage",
        modalities=("trigger_point_therapy", "deep_tissue"),
        credentials=(_texas_license("verified", "MT054321"),),
        # (5 x 4.0 + 4.5 x 40) / (5 + 40) = 4.44
        rating=Rating(
            combined=4.44,
            review_count=40,
            by_source={"atlas": _published(4.5, 40)},
            distribution=NO_STARS,
        ),
    )


def _chen() -> Profile:
    return _profile(
        "t-chen",
        "Robert Chen",
        (_office(30.3400, -97.7500, postal_code="78751", sources=("reviews",)),),
        verification=Verification(license="expired"),
        practice="Chen Sports Recovery",
        modalities=("sports_massage", "deep_tissue"),
        conditions=("sports_injury",),
        credentials=(_texas_license("expired", "MT077777"),),
        # (5 x 4.0 + 5.0 x 8) / (5 + 8) = 4.62
        rating=Rating(
            combined=4.62,
            review_count=8,
            by_source={"reviews": _from_reviews(5.0, 8, "2026-07-07")},
            distribution={"1": 0, "2": 0, "3": 0, "4": 0, "5": 8},
        ),
        sources=("reviews",),
    )


def _farr() -> Profile:
    return _profile(
        "t-farr",
        "Dana Farr",
        (_office(32.7800, -96.8000, city="Dallas", postal_code="75201"),),
        verification=Verification(license="verified", license_states=("TX",)),
        modalities=("neuromuscular_therapy",),
        credentials=(_texas_license("verified", "MT1", checked_on=None),),
        rating=Rating(combined=4.18, review_count=12, by_source={"atlas": _published(4.2, 12)}),
    )


def _san_antonio() -> list[Profile]:
    """Three therapists near ZIP 78205; only the one with an active state license is verified."""
    office = {"city": "San Antonio", "postal_code": SAN_ANTONIO_ZIP}
    ortiz = _profile(
        "t-ortiz",
        "Lena Ortiz",
        (_office(29.4260, -98.4890, **office),),
        verification=Verification(
            license="verified", license_checked_on="2026-11-17", license_states=("TX",)
        ),
        modalities=("swedish_massage",),
        credentials=(_texas_license("verified", "MT030303", checked_on="2026-11-17"),),
    )
    patel = _profile(
        "t-patel",
        "Nina Patel",
        (_office(29.4300, -98.4950, **office),),
        verification=Verification(license="none", npi_confirmed=True),
        modalities=("swedish_massage",),
        credentials=(
            _credential(
                "npi",
                NPI,
                "identifier",
                "verified",
                number="1234567893",
                checked_on="2026-11-16",
                issuer="CMS NPPES",
            ),
        ),
    )
    torres = _profile(
        "t-torres",
        "Bea Torres",
        (_office(29.4350, -98.4800, **office),),
        verification=Verification(license="none", board_certified=True),
        modalities=("swedish_massage",),
        credentials=(
            _credential(
                "bctmb",
                BCTMB,
                "board_certification",
                "verified",
                number="654321",
                checked_on="2026-11-19",
                issuer="NCBTMB",
            ),
        ),
    )
    return [ortiz, patel, torres]


def _round_rock(n: int) -> Profile:
    return _profile(
        f"t-rr{n:02d}",
        f"Round Rock Therapist {n:02d}",
        (_office(30.5080 + n * 0.001, -97.6789, city="Round Rock", postal_code="78664"),),
        modalities=("swedish_massage",),
        # Scores that only order the pages: 3.50, 3.55, ... 4.70.
        rating=Rating(
            combined=round(3.5 + n * 0.05, 2),
            review_count=n + 1,
            by_source={"atlas": _published(4.0, n + 1)},
        ),
    )


def profiles() -> list[Profile]:
    """The whole directory (profiles are immutable: change one with ``dataclasses.replace``)."""
    old = _profile(
        "t-old",
        "Old Listing",
        (_office(30.2450, -97.7650),),
        modalities=("swedish_massage",),
        active=False,
    )
    return [
        _doe(),
        _hostile(),
        _garcia(),
        _chen(),
        _farr(),
        old,
        *_san_antonio(),
        *(_round_rock(n) for n in range(25)),
    ]


def profile(profile_id: str) -> Profile:
    """One profile of the directory by id."""
    return next(p for p in profiles() if p.id == profile_id)
