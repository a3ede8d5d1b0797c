"""The USPS codes tdir knows are those the ZIP code table has."""

from __future__ import annotations

import zipcodes

from crawler.usps import STATE_CODES


def test_state_codes_are_the_usps_codes_zipcodes_knows() -> None:
    assert {row["state"] for row in zipcodes.list_all()} == STATE_CODES
