"""A small, hand-checkable directory for the dashboard tests, in the served profile shape.

Around ZIP 78704 (centroid 30.2428, -97.7658), by distance: Jane A. Doe (~1.6 km), the
hostile listing (~3.2 km), Maria Garcia (~5.5 km), Robert Chen (~11 km). Dana Farr is in
Dallas; Old Listing is inactive; 25 plain therapists fill Round Rock for paging. Every string
the hostile listing carries is one that must never be interpreted as markup.
"""

from __future__ import annotations

import copy
from typing import Any

ZIP = "78704"
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
    reason: str | None = None,
    claimed_by: tuple[str, ...] = ("atlas",),
) -> dict[str, Any]:
    return {
        "type": type_,
        "label": label,
        "kind": kind,
        "state": state,
        "number": number,
        "claimed_by": list(claimed_by),
        "status": status,
        "checked_on": checked_on,
        "issuer": issuer,
        "record_url": record_url,
        "reason": reason,
    }


LMT = "Licensed Massage Therapist (LMT)"
BCTMB = "Board Certified in Therapeutic Massage & Bodywork (BCTMB)"


def _review(
    id_: str, source: str, rating: float | None, published: str | None, body: str, author: str
) -> dict[str, Any]:
    return {
        "id": id_,
        "source": source,
        "url": f"https://{source}.example/r/{id_}",
        "author": author,
        "rating": rating,
        "published": published,
        "body": body,
        "copied_to": [],
    }


def _profile(
    id_: str,
    name: str,
    lat: float,
    lon: float,
    *,
    city: str = "Austin",
    postal_code: str = "78704",
    practice: str | None = None,
    modalities: tuple[str, ...] = (),
    conditions: tuple[str, ...] = (),
    credentials: tuple[dict[str, Any], ...] = (),
    combined: float | None = None,
    by_source: dict[str, dict[str, Any]] | None = None,
    reviews: tuple[dict[str, Any], ...] = (),
    active: bool = True,
) -> dict[str, Any]:
    by_source = by_source or {}
    count = sum(int(v["count"]) for v in by_source.values())
    distribution = {str(s): 0 for s in range(1, 6)}
    for review in reviews:
        if review["rating"] is not None:
            distribution[str(round(review["rating"]))] += 1
    sources = sorted(by_source) or ["atlas"]
    flags = [
        f"claims {c['label']} {c['number']} in {c['state']}: {c['reason']}"
        for c in credentials
        if c["status"] == "not_found"
    ]
    return {
        "schema": 1,
        "id": id_,
        "name": name,
        "other_names": [f"{name}, LMT"],
        "practice_name": practice,
        "bio": f"{name} offers focused therapeutic massage.",
        "locations": [
            {
                "lat": lat,
                "lon": lon,
                "precision": "rooftop",
                "street": "100 Main St",
                "city": city,
                "state": "TX",
                "postal_code": postal_code,
                "sources": sources,
            }
        ],
        "phones": ["+15125550100"],
        "website": f"https://{id_}.example/",
        "modalities": list(modalities),
        "conditions": list(conditions),
        "unknown_terms": [],
        "credentials": list(credentials),
        "credential_flags": flags,
        "rating": {
            "combined": combined,
            "review_count": count,
            "by_source": by_source,
            "distribution": distribution,
        },
        "reviews": list(reviews),
        "listings": [
            {
                "id": f"{id_}-{source}",
                "source": source,
                "url": f"https://{source}.example/{id_}",
                "name": name,
                "last_seen": SEEN,
                "active": active,
            }
            for source in sources
        ],
        "merge_evidence": [
            {"listings": f"{id_}-atlas {id_}-reviews", "reason": "same name + phone + ZIP"}
        ]
        if len(sources) > 1
        else [],
        "provenance": {
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
        "data_flags": [],
        "active": active,
        "last_confirmed": SEEN,
    }


def profiles() -> list[dict[str, Any]]:
    """The whole directory, freshly built (callers may change their copy)."""
    doe = _profile(
        "t-doe",
        "Jane A. Doe",
        30.2480,
        -97.7500,
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
            _credential(
                "lmt",
                LMT,
                "state_license",
                "verified",
                state="TX",
                number="MT012345",
                checked_on="2026-11-18",
                issuer="Texas TDLR",
                record_url="javascript:alert(1)",
            ),
        ),
        combined=4.69,
        by_source={
            "atlas": {"rating": 4.7, "count": 120, "latest": "2026-10-01", "from_reviews": True},
            "reviews": {"rating": 4.6, "count": 60, "latest": "2026-09-12", "from_reviews": True},
        },
        reviews=(
            _review("r1", "atlas", 5.0, "2026-10-01", "Fixed my sciatica in three visits.", "Ann"),
            _review("r2", "reviews", 4.0, "2026-09-12", "Firm pressure, good results.", "Bo"),
            _review("r3", "atlas", 3.0, "2025-01-05", "Running late but skilled.", "Cy"),
            _review("r4", "reviews", 5.0, "2024-06-30", "Best NMT in Austin.", "Di"),
            _review("r5", "atlas", None, None, "Undated and unrated note.", "Ed"),
        ),
    )
    doe["alias_ids"] = ["t-doe-before"]  # the id she had before a new listing joined
    hostile = _profile(
        "t-hostile",
        HOSTILE_NAME,
        30.2710,
        -97.7640,
        practice=HOSTILE_PRACTICE,
        modalities=("neuromuscular_therapy",),
        credentials=(
            _credential(
                "lmt",
                LMT,
                "state_license",
                "not_found",
                state="TX",
                number="MT999999",
                checked_on="2026-11-18",
                issuer="Texas TDLR",
                reason="the board has no license MT999999",
            ),
        ),
        combined=3.0,
        by_source={
            "reviews": {"rating": 2.0, "count": 1, "latest": "2026-01-01", "from_reviews": True}
        },
        reviews=(_review("h1", "reviews", 2.0, "2026-01-01", HOSTILE_REVIEW, HOSTILE_AUTHOR),),
    )
    hostile["bio"] = HOSTILE_BIO
    hostile["locations"][0]["city"] = ":red[Austin] <b>x</b>"
    hostile["data_flags"] = [
        {"source": "atlas", "field": "phone", "reason": "not_a_phone", "raw": "<script>1</script>"}
    ]
    hostile["other_names"] = ["[click](javascript:alert(1))"]
    garcia = _profile(
        "t-garcia",
        "Maria Garcia",
        30.2500,
        -97.7100,
        postal_code="78702",
        practice="Barton Springs Massage",
        modalities=("trigger_point_therapy", "deep_tissue"),
        credentials=(
            _credential(
                "lmt",
                LMT,
                "state_license",
                "verified",
                state="TX",
                number="MT054321",
                checked_on="2026-11-18",
                issuer="Texas TDLR",
            ),
        ),
        combined=4.5,
        by_source={
            "atlas": {"rating": 4.5, "count": 40, "latest": "2026-08-01", "from_reviews": False}
        },
    )
    chen = _profile(
        "t-chen",
        "Robert Chen",
        30.3400,
        -97.7500,
        postal_code="78751",
        practice="Chen Sports Recovery",
        modalities=("sports_massage", "deep_tissue"),
        conditions=("sports_injury",),
        credentials=(
            _credential(
                "lmt",
                LMT,
                "state_license",
                "expired",
                state="TX",
                number="MT077777",
                checked_on="2026-11-18",
                issuer="Texas TDLR",
            ),
        ),
        combined=4.9,
        by_source={
            "reviews": {"rating": 5.0, "count": 8, "latest": "2026-07-07", "from_reviews": True}
        },
    )
    farr = _profile(
        "t-farr",
        "Dana Farr",
        32.7800,
        -96.8000,
        city="Dallas",
        postal_code="75201",
        modalities=("neuromuscular_therapy",),
        credentials=(
            _credential("lmt", LMT, "state_license", "verified", state="TX", number="MT1"),
        ),
        combined=4.2,
        by_source={"atlas": {"rating": 4.2, "count": 12, "latest": None, "from_reviews": False}},
    )
    old = _profile(
        "t-old", "Old Listing", 30.2450, -97.7650, modalities=("swedish_massage",), active=False
    )
    fillers = [
        _profile(
            f"t-rr{n:02d}",
            f"Round Rock Therapist {n:02d}",
            30.5080 + n * 0.001,
            -97.6789,
            city="Round Rock",
            postal_code="78664",
            modalities=("swedish_massage",),
            combined=round(3.5 + n * 0.05, 2),
            by_source={
                "atlas": {"rating": 4.0, "count": n + 1, "latest": None, "from_reviews": False}
            },
        )
        for n in range(25)
    ]
    return copy.deepcopy([doe, hostile, garcia, chen, farr, old, *fillers])
