"""A directory for the client journeys: the hand-written test directory plus 140 therapists
spread around ZIP 78704, so that every filter, each sort and the pager visibly change what
is shown.

The added therapists sit due north of the ZIP's centre at known distances: 100 within 9.5 mi
(all inside a 10 mi radius) and 40 from 10.5 to 24 mi (inside 25 mi, outside 10). Four in
five offer neuromuscular therapy, one in three deep tissue massage; combined ratings run from
3.0 to 5.0 and review counts from 1 to 60, so that "4.0 or better", the review count and each
sort keep some and drop others. Everything is derived from the index ``n``; nothing random.
"""

from __future__ import annotations

from dataclasses import replace

from indexer.profile import Profile, Rating
from tests.e2e.dashboard_world import profile, profiles

ZIP_CENTRE = (30.2428, -97.7658)  # 78704, as the test directory documents it
KM_PER_DEGREE_LAT = 111.2
NEAR_COUNT, FAR_COUNT = 100, 40
NMT = "neuromuscular_therapy"
DEEP_TISSUE = "deep_tissue"


def distance_mi(n: int) -> float:
    """How far north of the ZIP's centre the n-th added therapist practises, in miles."""
    if n < NEAR_COUNT:
        return round(0.3 + 9.2 * n / (NEAR_COUNT - 1), 3)
    return round(10.5 + 13.5 * (n - NEAR_COUNT) / (FAR_COUNT - 1), 3)


def modalities(n: int) -> tuple[str, ...]:
    """What the n-th added therapist offers."""
    offered = [NMT] if n % 5 else ["swedish_massage"]
    if n % 3 == 0:
        offered.append(DEEP_TISSUE)
    return tuple(offered)


def austin_therapist(n: int) -> Profile:
    """The n-th added therapist (a copy of a Round Rock listing, moved and renamed)."""
    base = profile("t-rr00")
    lat = ZIP_CENTRE[0] + distance_mi(n) * 1.609344 / KM_PER_DEGREE_LAT
    location = replace(
        base.locations[0], lat=round(lat, 6), lon=ZIP_CENTRE[1], city="Austin", postal_code=None
    )
    rating = Rating(
        combined=round(3.0 + (n * 7 % 21) / 10, 2),
        review_count=1 + (n * 13 % 60),
        by_source=base.rating.by_source,
    )
    return replace(
        base,
        id=f"t-austin{n:03d}",
        name=f"Austin Therapist {n:03d}",
        locations=(location,),
        modalities=modalities(n),
        rating=rating,
    )


def journey_profiles() -> list[Profile]:
    """The whole directory the journeys search."""
    return [*profiles(), *(austin_therapist(n) for n in range(NEAR_COUNT + FAR_COUNT))]
