"""The USPS two-letter codes: where a license, an address or a registry row may be."""

from __future__ import annotations

# The states, DC, the territories and freely associated states, and the military post offices.
# Written out rather than read from the ``zipcodes`` package (a second and 130 MB to load its
# table); tests/test_usps.py checks the two agree.
# fmt: off
STATE_CODES = frozenset((
    "AA", "AE", "AK", "AL", "AP", "AR", "AS", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "FM", "GA",
    "GU", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MH", "MI", "MN", "MO",
    "MP", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "PR",
    "PW", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY",
))
# fmt: on
