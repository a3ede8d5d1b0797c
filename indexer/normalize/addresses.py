"""US postal addresses: tagged by usaddress, abbreviated the USPS way, with a matching key.

"Suite 200", "Ste. 200", "STE 200" and "#200" all become "Ste 200"; "Avenue", "Ave" and "Ave."
become "Ave"; "North" becomes "N". A bare "#" is read as a suite because the addresses here are
practices (offices), where "#200" is a suite far more often than an apartment. The street name
keeps the source's capitals unless the source wrote the whole address in one case. The USPS
abbreviation tables come from usaddress-scourgify (USPS Publication 28).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

import usaddress
from scourgify.address_constants import (
    AMBIGUOUS_DIRECTIONALS,
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)

from crawler.items import PostalAddress
from indexer.normalize.flags import Flag, Normalized
from indexer.normalize.states import state_code
from indexer.taxonomy import fold

_ZIP = re.compile(r"^(\d{5})(?:[-\s]?(\d{4}))?$")
_US_COUNTRY = frozenset({"us", "usa", "u s", "u s a", "united states", "united states of america"})
_DIRECTIONALS = {**DIRECTIONAL_REPLACEMENTS, **AMBIGUOUS_DIRECTIONALS}
_DIRECTIONAL_CODES = frozenset(DIRECTIONAL_REPLACEMENTS.values())
_PLACE_TAGS = frozenset({"PlaceName", "StateName", "ZipCode", "CountryName"})
_OCCUPANCY_CODES = frozenset(OCCUPANCY_TYPE_ABBREVIATIONS.values())
_DEFAULT_UNIT = "Ste"
_STREET_TAGS = (
    "AddressNumberPrefix",
    "AddressNumber",
    "AddressNumberSuffix",
    "StreetNamePreModifier",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
)


@dataclass(frozen=True, slots=True)
class NormalizedAddress:
    """An address split into parts; ``parsed`` is False when only ``raw`` could be kept.

    ``match_key`` (street, unit number, ZIP or city and state) is None without a street or
    without a place, since "100 Main St" alone matches too many addresses to resolve on.
    """

    raw: str
    parsed: bool
    street: str | None = None  # "1200 N Lamar Blvd", without the unit
    unit: str | None = None  # "Ste 200"
    city: str | None = None
    state: str | None = None  # USPS two-letter code
    zip5: str | None = None
    zip4: str | None = None
    match_key: str | None = None  # "1200 n lamar blvd|200|78704"

    @property
    def street_line(self) -> str | None:
        """Return the delivery line: street and unit ("1200 N Lamar Blvd Ste 200")."""
        if self.street is None:
            return None
        return f"{self.street} {self.unit}" if self.unit else self.street


@lru_cache(maxsize=200_000)
def _tag(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """usaddress's labels of a street text. Cached: a practice's address comes back from every
    source listing its therapists, and usaddress's tagger costs most of a millisecond."""
    tagged, kind = usaddress.tag(text)
    return tuple(tagged.items()), kind


def normalize_address(  # noqa: C901 - one branch per flag the docstring lists
    address: PostalAddress | str | None, *, field: str = "address"
) -> Normalized[NormalizedAddress]:
    """Return the address split, abbreviated and keyed, or kept raw with a flag saying why.

    Fields the source split itself (locality, region, postal code) win over what is parsed out
    of the street text; a disagreement is flagged ``conflicting_address``. Other reasons:
    ``unparseable_address`` (usaddress found no street in it; ``raw`` kept, ``parsed`` False),
    ``no_street`` (only a city, state or ZIP), ``invalid_zip`` (not 5 or 5+4 digits),
    ``unknown_state`` and ``foreign_address``.
    Nothing given gives ``None`` without a flag.
    """
    source = PostalAddress(raw=address) if isinstance(address, str) else address
    if source is None:
        return Normalized(None)
    text = source.street or source.raw or ""
    raw = _describe(source)
    if not raw:
        return Normalized(None)
    flags: list[Flag] = []
    if source.country and fold(source.country) not in _US_COUNTRY:
        flags.append(Flag(f"{field}.country", "foreign_address", source.country))

    tags: dict[str, str] = {}
    kind = "Ambiguous"
    if text.strip():
        try:
            tagged, kind = _tag(text)
            tags = _unit_read_as_directional({label: value.strip(" ,") for label, value in tagged})
        except usaddress.RepeatedLabelError:
            flags.append(Flag(field, "unparseable_address", raw, "parts repeated"))

    city_raw = _pick(source.locality, tags.get("PlaceName"), "city", field, flags)
    state_raw = _pick(source.region, tags.get("StateName"), "state", field, flags)
    zip_raw = _pick(source.postal_code, tags.get("ZipCode"), "zip", field, flags)

    state = state_code(state_raw)
    if state_raw and state is None:
        flags.append(Flag(f"{field}.state", "unknown_state", state_raw))
    zip5, zip4 = _split_zip(zip_raw)
    if zip_raw and zip5 is None:
        flags.append(Flag(f"{field}.zip", "invalid_zip", zip_raw))

    recase = _one_case(text)
    street, unit, unit_id = _street_and_unit(tags, kind, recase)
    unparseable = any(f.reason == "unparseable_address" for f in flags)
    if street is None and text.strip() and not unparseable:
        if tags and set(tags) <= _PLACE_TAGS:
            flags.append(Flag(field, "no_street", raw))
        else:
            unparseable = True
            flags.append(Flag(field, "unparseable_address", raw, f"usaddress read it as {kind}"))
    city = _city(city_raw)
    match_key = None
    place = zip5 or (f"{fold(city)} {state}" if city and state else "")
    if street is not None and place:
        # The unit's number without its designator, so "Ste 200" and "Rm 200" still meet.
        match_key = f"{fold(street)}|{fold(unit_id or '')}|{place}"
    value = NormalizedAddress(
        raw=raw,
        parsed=not unparseable,
        street=street,
        unit=unit,
        city=city,
        state=state,
        zip5=zip5,
        zip4=zip4,
        match_key=match_key,
    )
    return Normalized(value, tuple(flags))


def normalize_zip(raw: str | None) -> tuple[str | None, str | None]:
    """Return (ZIP, ZIP+4 extension) of "78704", "78704-1234" or "787041234", else (None, None)."""
    return _split_zip(raw)


def _split_zip(raw: str | None) -> tuple[str | None, str | None]:
    match = _ZIP.match((raw or "").strip())
    if not match:
        return None, None
    return match[1], match[2]


def _describe(source: PostalAddress) -> str:
    if source.raw and not source.street:
        return source.raw.strip()
    parts = [
        source.street,
        source.locality,
        " ".join(filter(None, [source.region, source.postal_code])),
    ]
    return ", ".join(part.strip() for part in parts if part and part.strip())


def _pick(
    given: str | None, parsed: str | None, part: str, field: str, flags: list[Flag]
) -> str | None:
    """Prefer what the source split out itself; flag when the street text says otherwise."""
    given = given.strip() if given else None
    if given and parsed and fold(given) != fold(parsed):
        same_state = part == "state" and state_code(given) == state_code(parsed)
        same_zip = part == "zip" and _split_zip(given)[0] == _split_zip(parsed)[0]
        if not (same_state or same_zip):
            flags.append(Flag(f"{field}.{part}", "conflicting_address", f"{given} / {parsed}"))
    return given or parsed


def _one_case(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and (
        all(c.isupper() for c in letters) or all(c.islower() for c in letters)
    )


def _street_and_unit(
    tags: dict[str, str], kind: str, recase: bool
) -> tuple[str | None, str | None, str | None]:
    """Return (street, unit, unit identifier) from usaddress's tags."""
    if kind == "PO Box" and tags.get("USPSBoxID"):
        return f"PO Box {tags['USPSBoxID']}", None, None
    if kind != "Street Address" or not tags.get("AddressNumber") or not tags.get("StreetName"):
        return None, None, None
    words = []
    for label in _STREET_TAGS:
        value = tags.get(label)
        if not value:
            continue
        if label in ("StreetNamePreDirectional", "StreetNamePostDirectional"):
            words.append(_directional(value))
        elif label in ("StreetNamePreType", "StreetNamePostType"):
            words.append(_street_type(value))
        elif recase:
            words.append(string.capwords(value))
        else:
            words.append(value)
    units = []
    unit_ids = []
    for type_label, id_label in (
        ("SubaddressType", "SubaddressIdentifier"),
        ("OccupancyType", "OccupancyIdentifier"),
    ):
        identifier = tags.get(id_label, "").lstrip("# ").upper()
        designator = tags.get(type_label)
        if not identifier:
            continue
        units.append(f"{_unit_type(designator)} {identifier}")
        unit_ids.append(identifier)
    unit = " ".join(units) or None
    return " ".join(words), unit, " ".join(unit_ids) or None


def _bare_upper(value: str) -> str:
    return " ".join(value.replace(".", " ").upper().split())


def _unit_read_as_directional(tags: dict[str, str]) -> dict[str, str]:
    """The tags with a unit designator that usaddress read as the street's post-directional put
    back: without a comma, "3105 W Biscayne Way Rm 165" comes tagged ``Rm`` as a direction."""
    post = _bare_upper(tags.get("StreetNamePostDirectional", ""))
    designator = post in OCCUPANCY_TYPE_ABBREVIATIONS or post in _OCCUPANCY_CODES
    if designator and tags.get("OccupancyIdentifier") and "OccupancyType" not in tags:
        tags["OccupancyType"] = tags.pop("StreetNamePostDirectional")
    return tags


def _directional(value: str) -> str:
    bare = _bare_upper(value)
    compact = bare.replace(" ", "")
    if compact in _DIRECTIONAL_CODES:
        return compact
    return _DIRECTIONALS.get(bare, value)


def _street_type(value: str) -> str:
    code = STREET_TYPE_ABBREVIATIONS.get(_bare_upper(value))
    return code.title() if code else value


def _unit_type(value: str | None) -> str:
    if not value:
        return _DEFAULT_UNIT
    bare = _bare_upper(value)
    code = OCCUPANCY_TYPE_ABBREVIATIONS.get(bare)
    if code is None:
        return bare.title() if bare in _OCCUPANCY_CODES else string.capwords(value.strip(" ."))
    return _DEFAULT_UNIT if code == "#" else code.title()


def _city(raw: str | None) -> str | None:
    if not raw:
        return None
    city = " ".join(raw.strip(" ,").split())
    return string.capwords(city) if _one_case(city) else city
