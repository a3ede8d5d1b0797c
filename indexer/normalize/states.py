"""US state and territory codes from whatever a source wrote: "TX", "Tex.", "texas"."""

from __future__ import annotations

import re
from functools import cache

from crawler.usps import STATE_CODES

_NOT_LETTERS = re.compile(r"[^A-Z]+")


@cache
def _names() -> dict[str, str]:
    # Imported here: the package loads usaddress's tagger, which a two-letter code never needs.
    from scourgify.address_constants import STATE_ABBREVIATIONS

    # The USPS table spells names with single spaces and no punctuation ("N DAK").
    return {_squash(name): code for name, code in STATE_ABBREVIATIONS.items()}


def _squash(text: str) -> str:
    return " ".join(_NOT_LETTERS.sub(" ", text.upper()).split())


def state_code(raw: str | None) -> str | None:
    """Return the two-letter USPS code for a state's code, name or usual abbreviation.

    Returns None for anything that names no US state or territory; the caller flags it.
    """
    if not raw:
        return None
    squashed = _squash(raw)
    if squashed in STATE_CODES:
        return squashed
    return _names().get(squashed)
