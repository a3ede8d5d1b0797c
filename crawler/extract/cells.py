"""What a declared ``parse:`` does to one cell of a registry's file or API row.

Registries write a few things in fixed shapes their documentation states: an expiry date as
eight digits (``MMDDCCYY``), a holder as ``LAST, FIRST MIDDLE``, a city, state and ZIP in one
field (``AUSTIN, TX 78704`` or ``AUSTIN TX 78704``), a floating timestamp
(``2027-06-30T00:00:00.000``). A catalog entry names the shape; the cell is read by it, and a
cell not in that shape is an error of its own kind (:class:`CellError`), never a guess.

Parsers, as a catalog writes them (see :mod:`crawler.extract.record_mapping`):

  date_format: "%m%d%Y"       a ``strptime`` format; ``iso`` for ISO 8601 dates and
                              timestamps. The cell becomes the ISO date (``2027-08-10``).
  name_order: last_first      ``LAST, FIRST MIDDLE`` (or ``first_last``: ``FIRST MIDDLE LAST``);
                              the name parts are kept beside the name as written.
  city_state_zip              ``CITY, ST ZIP`` or ``CITY ST ZIP``: the field gets the city, and
                              ``region`` and ``postal_code`` the state and ZIP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from crawler.usps import STATE_CODES

ISO = "iso"
NAME_ORDERS = ("last_first", "first_last")
# "AUSTIN, TX 78704", "SAN ANTONIO TX 78201-1234", "Fort Worth, Tx 76102": the state is the
# last two-letter word before a ZIP at the end.
_CITY_STATE_ZIP = re.compile(
    r"^\s*(?P<city>.*?[^\s,])(?:\s*,\s*|\s+)(?P<state>[A-Za-z]{2})\s+"
    r"(?P<zip>\d{5}(?:-?\d{4})?)\s*$"
)


class CellError(ValueError):
    """A cell that is not in the shape its column declares.

    ``kind`` is the error counter's key (``value/date-format``); the message says what was
    expected and what was found.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a parser made of a cell: the field's value, values for other fields, and extras."""

    value: str
    other_fields: Mapping[str, str] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NameParts:
    """A holder's name split by the order its registry declares."""

    last: str
    first: str
    middle: str

    def as_dict(self) -> dict[str, str]:
        """The parts as a JSON-ready dict (what a record keeps in its extras)."""
        return {"last": self.last, "first": self.first, "middle": self.middle}


@dataclass(frozen=True, slots=True)
class CityStateZip:
    """A city, state and ZIP written as one field."""

    city: str
    state: str
    postal_code: str


def state_code(text: str) -> str:
    """The USPS code a cell gives, upper-cased; CellError when it names no US state."""
    code = text.strip().upper()
    if code not in STATE_CODES:
        raise CellError("value/state-unknown", f"{text!r} is not a US state code")
    return code


def parse_date(text: str, date_format: str) -> date:
    """The date a cell gives in ``date_format`` (a ``strptime`` format, or ``iso``)."""
    cleaned = text.strip()
    try:
        if date_format == ISO:
            # Socrata's floating timestamps have no zone; the date is the one written.
            return datetime.fromisoformat(cleaned).date()
        return datetime.strptime(cleaned, date_format).date()
    except ValueError:
        shown = "an ISO 8601 date" if date_format == ISO else f"a date as {date_format!r}"
        raise CellError("value/date-format", f"{text!r} is not {shown}") from None


def split_name(text: str, order: str) -> NameParts:
    """A holder's name in its declared order; CellError when the cell is not in it."""
    if order == "last_first":
        last, comma, given = text.partition(",")
        words = given.split()
        if not comma or not last.strip() or not words:
            raise CellError("value/name-order", f"{text!r} is not 'LAST, FIRST MIDDLE'")
        return NameParts(" ".join(last.split()), words[0], " ".join(words[1:]))
    words = text.split()
    if len(words) < 2 or "," in text:
        raise CellError("value/name-order", f"{text!r} is not 'FIRST MIDDLE LAST'")
    return NameParts(words[-1], words[0], " ".join(words[1:-1]))


def split_city_state_zip(text: str) -> CityStateZip:
    """``CITY, ST ZIP`` or ``CITY ST ZIP``; CellError for any other shape or an unknown state."""
    found = _CITY_STATE_ZIP.match(text)
    if found is None:
        raise CellError("value/city-state-zip", f"{text!r} is not 'CITY, ST ZIP'")
    try:
        state = state_code(found["state"])
    except CellError as exc:
        raise CellError(exc.kind, f"{text!r}: {exc}") from None
    return CityStateZip(city=" ".join(found["city"].split()), state=state, postal_code=found["zip"])


# -- the parsers a catalog can name --------------------------------------------------------------

CellParser = Callable[[str], Parsed]


def _date_parser(argument: Any) -> CellParser:
    if not isinstance(argument, str) or not argument.strip():
        raise ValueError("date_format: expected a strptime format such as '%m%d%Y', or 'iso'")
    date_format = argument.strip()
    if date_format != ISO:
        # A format without directives would read no cell at all; one that cannot read back
        # what it writes would read them wrong.
        if "%" not in date_format:
            raise ValueError(f"date_format: {date_format!r} has no strptime directive")
        try:
            datetime.strptime(date(2000, 12, 31).strftime(date_format), date_format)
        except ValueError:
            raise ValueError(f"date_format: {date_format!r} does not read back a date") from None

    def parse(text: str) -> Parsed:
        return Parsed(parse_date(text, date_format).isoformat())

    return parse


def _name_parser(argument: Any) -> CellParser:
    if argument not in NAME_ORDERS:
        raise ValueError(f"name_order: expected one of {', '.join(NAME_ORDERS)}")

    def parse(text: str) -> Parsed:
        parts = split_name(text, argument)
        # The name stays as written (the indexer reads both orders); the parts go beside it.
        return Parsed(" ".join(text.split()), extras={"name_parts": parts.as_dict()})

    return parse


def _city_state_zip_parser(argument: Any) -> CellParser:
    if argument not in (None, True):
        raise ValueError("city_state_zip: takes no argument")

    def parse(text: str) -> Parsed:
        place = split_city_state_zip(text)
        return Parsed(
            place.city, other_fields={"region": place.state, "postal_code": place.postal_code}
        )

    return parse


PARSERS: dict[str, Callable[[Any], CellParser]] = {
    "date_format": _date_parser,
    "name_order": _name_parser,
    "city_state_zip": _city_state_zip_parser,
}


def compile_parser(raw: Any) -> CellParser:
    """The cell parser a catalog's ``parse:`` names: ``city_state_zip`` or ``{name: argument}``.

    Raises ValueError saying what is wrong; the caller adds where.
    """
    if isinstance(raw, str):
        name, argument = raw, None
    elif isinstance(raw, Mapping) and len(raw) == 1:
        ((name, argument),) = raw.items()
    else:
        raise ValueError(f"expected one of {', '.join(PARSERS)} or {{parser: argument}}")
    if name not in PARSERS:
        raise ValueError(f"{name!r} is not a parser; use {', '.join(PARSERS)}")
    return PARSERS[name](argument)
