"""Telephone numbers in any US format to E.164, with the extension kept apart."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from indexer.normalize.flags import Flag, Normalized


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid telephone number: E.164 (``+15128675309``) and the extension, if any."""

    e164: str
    extension: str | None = None
    region: str | None = None  # ISO 3166 region the number belongs to, e.g. "US"


# A practice's number comes back from every source listing it; the answer is immutable.
@lru_cache(maxsize=200_000)
def normalize_phone(
    raw: str | None, *, field: str = "telephone", region: str = "US"
) -> Normalized[Phone]:
    """Return the number as E.164, read as a ``region`` number unless it says otherwise.

    Invalid numbers (too short, unassigned area codes) give ``None`` and an ``invalid_phone``
    flag. A text holding several numbers keeps the first valid one and is flagged
    ``several_phones``; a valid number outside ``region`` is kept and flagged ``foreign_phone``.
    Nothing given gives ``None`` without a flag.
    """
    if raw is None or not raw.strip():
        return Normalized(None)
    flags: list[Flag] = []
    number = _parse_one(raw, region)
    if number is None:
        found = [m.number for m in phonenumbers.PhoneNumberMatcher(raw, region)]
        valid = [n for n in found if phonenumbers.is_valid_number(n)]
        if not valid:
            return Normalized(None, (Flag(field, "invalid_phone", raw, "not a phone number"),))
        number = valid[0]
        if len(valid) > 1:
            flags.append(Flag(field, "several_phones", raw, "kept the first valid number"))
    if not phonenumbers.is_valid_number(number):
        return Normalized(None, (Flag(field, "invalid_phone", raw, "not a valid number"),))
    number_region = phonenumbers.region_code_for_number(number)
    if number_region != region:
        flags.append(Flag(field, "foreign_phone", raw, f"a number of {number_region}"))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return Normalized(Phone(e164, number.extension or None, number_region), tuple(flags))


def _parse_one(raw: str, region: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
