"""Pure extraction functions for the spiders: schema.org data, NPI registry payloads, ratings.

Nothing here fetches anything; each function turns a body already fetched into records.
"""

from crawler.extract.npi import (
    NpiApiError,
    NpiPage,
    is_massage_therapist,
    massage_therapist_records,
    next_skip,
    page_params,
    parse_npi_response,
)
from crawler.extract.ratings import parse_rating
from crawler.extract.result import Extraction, ExtractionError
from crawler.extract.structured import extract_structured, provenance_for
from crawler.extract.text import clean_text

__all__ = [
    "Extraction",
    "ExtractionError",
    "NpiApiError",
    "NpiPage",
    "clean_text",
    "extract_structured",
    "is_massage_therapist",
    "massage_therapist_records",
    "next_skip",
    "page_params",
    "parse_npi_response",
    "parse_rating",
    "provenance_for",
]
