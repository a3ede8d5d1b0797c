"""Normalisation: raw crawled values to clean typed values, with a flag for every problem.

Each function is pure and returns :class:`Normalized` (a value, or None, and its flags);
:class:`FlagLog` gathers a record's flags so the indexer can count them per ``field/reason``.

A submodule is imported on first use of one of its names (``from indexer.normalize import
parse_date`` imports ``dates`` alone), so code that needs one of them (the search needs
``states``) does not load the libraries of all the others (dateparser, nameparser,
phonenumbers, usaddress).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from indexer.normalize.addresses import NormalizedAddress, normalize_address, normalize_zip
    from indexer.normalize.credentials import (
        NormalizedCredential,
        normalize_credential,
        normalize_license_number,
        normalize_npi,
        npi_is_valid,
    )
    from indexer.normalize.dates import DateOrder, DatePrecision, ParsedDate, parse_date
    from indexer.normalize.flags import Flag, FlagLog, Normalized
    from indexer.normalize.location import locate
    from indexer.normalize.names import (
        ParsedName,
        PersonName,
        PostNominal,
        formal_first_name,
        name_key,
        parse_person_name,
    )
    from indexer.normalize.phones import Phone, normalize_phone
    from indexer.normalize.ratings import FiveStarRating, rating_to_five
    from indexer.normalize.records import (
        NormalizedListing,
        NormalizedReview,
        normalize_listing,
        normalize_review,
    )
    from indexer.normalize.states import state_code
    from indexer.normalize.terms import TermMatch, normalize_terms, split_terms

# The submodule that defines each public name.
_HOMES: dict[str, str] = {
    name: module
    for module, names in {
        "addresses": ("NormalizedAddress", "normalize_address", "normalize_zip"),
        "credentials": (
            "NormalizedCredential",
            "normalize_credential",
            "normalize_license_number",
            "normalize_npi",
            "npi_is_valid",
        ),
        "dates": ("DateOrder", "DatePrecision", "ParsedDate", "parse_date"),
        "flags": ("Flag", "FlagLog", "Normalized"),
        "location": ("locate",),
        "names": (
            "ParsedName",
            "PersonName",
            "PostNominal",
            "formal_first_name",
            "name_key",
            "parse_person_name",
        ),
        "phones": ("Phone", "normalize_phone"),
        "ratings": ("FiveStarRating", "rating_to_five"),
        "records": (
            "NormalizedListing",
            "NormalizedReview",
            "normalize_listing",
            "normalize_review",
        ),
        "states": ("state_code",),
        "terms": ("TermMatch", "normalize_terms", "split_terms"),
    }.items()
    for name in names
}

__all__ = [
    "DateOrder",
    "DatePrecision",
    "FiveStarRating",
    "Flag",
    "FlagLog",
    "Normalized",
    "NormalizedAddress",
    "NormalizedCredential",
    "NormalizedListing",
    "NormalizedReview",
    "ParsedDate",
    "ParsedName",
    "PersonName",
    "Phone",
    "PostNominal",
    "TermMatch",
    "formal_first_name",
    "locate",
    "name_key",
    "normalize_address",
    "normalize_credential",
    "normalize_license_number",
    "normalize_listing",
    "normalize_npi",
    "normalize_phone",
    "normalize_review",
    "normalize_terms",
    "normalize_zip",
    "npi_is_valid",
    "parse_date",
    "parse_person_name",
    "rating_to_five",
    "split_terms",
    "state_code",
]


def __getattr__(name: str) -> Any:
    """A public name, from its submodule (imported now if it was not yet)."""
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    """Every public name, imported yet or not."""
    return sorted({*globals(), *__all__})
