"""Normalisation: raw crawled values to clean typed values, with a flag for every problem.

Each function is pure and returns :class:`Normalized` (a value, or None, and its flags);
:class:`FlagLog` gathers a record's flags so the indexer can count them per ``field/reason``.
"""

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
