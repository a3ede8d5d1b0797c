"""Field coverage: what share of a source's listings carries each field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# What a client needs from a listing, in the order the report shows it.
LISTING_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name_raw",),
    "address": ("address",),
    "coordinates": ("latitude", "longitude"),
    "phone": ("telephone_raw",),
    "website": ("website",),
    "modalities": ("modalities_raw",),
    "credentials": ("credentials",),
    "rating": ("aggregate_rating",),
    "npi": ("npi",),
    "bio": ("bio",),
}


def field_coverage(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Return, for each field, the share of listings (0-1) that have it; {} without any."""
    present = dict.fromkeys(LISTING_FIELDS, 0)
    listings = 0
    for record in records:
        if record.get("record_type") != "listing":
            continue
        listings += 1
        for name, keys in LISTING_FIELDS.items():
            if all(record.get(k) not in (None, "", [], {}) for k in keys):
                present[name] += 1
    if not listings:
        return {}
    return {name: round(count / listings, 4) for name, count in present.items()}
