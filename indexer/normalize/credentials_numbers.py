"""License and certificate numbers compared the way issuers and listings write them.

:func:`indexer.normalize.credentials.normalize_license_number` gives every number one written
form ("ma-12345" and "MA 12345" are both "MA12345"). One license is still written in ways a
character comparison keeps apart, and a listing's number has to meet the issuer's record anyway:

- the issuer's letters kept or left off: Florida numbers a massage therapist's license ``MA`` and
  an establishment's ``MM`` (https://floridasmassagetherapy.gov/massage-therapy-faqs/), so
  "12345" on a listing is the therapist's ``MA12345``, while ``MM12345`` is another license;
  Texas writes ``MT012345`` (its license file:
  https://data.texas.gov/dataset/TDLR-All-Licenses/7358-krk7), Washington ``MA.60123456``,
  Colorado ``MT.0012345``;
- leading zeros kept or dropped ("MT012345" and "MT12345");
- the state written before the number ("TX MT012345", "FL-MA12345", "Texas MT012345") or in
  place of the issuer's letters ("TX012345");
- a trailing letter left off (Arizona's "MT-12345P" as "MT-12345").

A number is taken apart into the letters before its digits, the digits' value (leading zeros
off) and the letters after. A claimed number is the issuer's when the values are equal, the
letters after are the issuer's or none, and the letters before are the issuer's, none, or the
state's code or one-word name (the separators are gone by then) with or without the issuer's.
Different digits never match, nor do other letters ("MM12345" against "MA12345"). A number
with letters between its digits is compared whole.
"""

from __future__ import annotations

import re
import string
from typing import NamedTuple

from indexer.normalize.states import state_code

# Letters, digits, letters: the shape of nearly every license and certificate number once
# normalize_license_number has taken the separators out.
_SHAPE = re.compile(r"([A-Z]*)([0-9]+)([A-Z]*)")
_LETTERS = string.ascii_uppercase


class NumberParts(NamedTuple):
    """A normalised number taken apart for comparison.

    ``value`` is the digits without their leading zeros ("0" for zeros only), or the whole
    number when it has letters between digits (``regular`` False).
    """

    prefix: str
    value: str
    suffix: str
    regular: bool = True


def number_key(number: str) -> str:
    """What an index of numbers is keyed by: the value of a normalised number's digits, the
    letters around them and leading zeros off ("MT012345" and "12345" are both "12345"); the
    whole number when it has letters between digits. Equal for every way :func:`same_number`
    accepts, and cheap: it is taken of every record and every claim."""
    core = number.strip(_LETTERS)
    if core.isascii() and core.isdigit():
        return core.lstrip("0") or "0"
    return number


def number_parts(number: str) -> NumberParts:
    """Take a normalised number ("MT012345") apart: ("MT", "12345", "")."""
    shape = _SHAPE.fullmatch(number)
    if shape is None:
        return NumberParts("", number, "", regular=False)
    prefix, digits, suffix = shape.groups()
    return NumberParts(prefix, digits.lstrip("0") or "0", suffix)


def same_number(claimed: str, issued: str, state: str | None) -> bool:
    """Whether a claimed number is the issuer's, written another way (see the module's text).

    Both are normalised; ``state`` is the issuing state, whose code or name a listing may write
    before the number.
    """
    if claimed == issued:
        return True
    return _same_parts(number_parts(claimed), number_parts(issued), state)


def _same_parts(claimed: NumberParts, issued: NumberParts, state: str | None) -> bool:
    if claimed.value != issued.value or not (claimed.regular and issued.regular):
        # Different digits; or a number with letters between digits, equal only as written.
        return False
    if claimed.suffix and claimed.suffix != issued.suffix:
        return False
    prefix = claimed.prefix
    if prefix in ("", issued.prefix):
        return True
    if state is None:
        return False
    if issued.prefix and prefix.endswith(issued.prefix):
        prefix = prefix[: -len(issued.prefix)]
    return _names_state(prefix, state)


def _names_state(letters: str, state: str) -> bool:
    """Whether letters written before a number name the issuing state ("TX", "TEXAS")."""
    return letters == state or (len(letters) > 2 and state_code(letters) == state)
