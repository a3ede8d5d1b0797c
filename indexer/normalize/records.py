"""Whole crawled records normalised field by field, with every flag kept on the record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from crawler.items import Listing, Review
from indexer.geocode import Place
from indexer.normalize.addresses import NormalizedAddress, normalize_address
from indexer.normalize.credentials import NormalizedCredential, normalize_credential, normalize_npi
from indexer.normalize.dates import DateOrder, ParsedDate, parse_date
from indexer.normalize.flags import Flag, FlagLog
from indexer.normalize.location import LocatedAddress, locate
from indexer.normalize.names import ParsedName, parse_person_name
from indexer.normalize.phones import Phone, normalize_phone
from indexer.normalize.ratings import FiveStarRating, rating_to_five
from indexer.normalize.terms import TermMatch, normalize_terms
from indexer.taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True, slots=True)
class NormalizedListing:
    """A listing's clean values beside the flags raised while making them."""

    id: str
    name: ParsedName | None
    address: NormalizedAddress | None
    location: Place | None
    other_places: tuple[LocatedAddress, ...]  # further practice locations, each placed
    phone: Phone | None
    modalities: TermMatch | None
    conditions: TermMatch | None
    credentials: tuple[NormalizedCredential, ...]
    npi: str | None
    rating: FiveStarRating | None
    flags: tuple[Flag, ...]


@dataclass(frozen=True, slots=True)
class NormalizedReview:
    """A review's rating on the 0-5 scale and its date, beside the flags raised."""

    id: str
    rating: FiveStarRating | None
    published: ParsedDate | None
    flags: tuple[Flag, ...]


def fetch_date(fetched_at: str) -> date:
    """Return the day a record was fetched (the reference for its relative dates)."""
    return datetime.fromisoformat(fetched_at).date()


def normalize_listing(listing: Listing, *, taxonomy: Taxonomy | None = None) -> NormalizedListing:
    """Normalise every field of a listing; problems are flags on the result, never errors."""
    taxonomy = taxonomy or load_taxonomy()
    log = FlagLog()
    name = log.take(parse_person_name(listing.name_raw, taxonomy=taxonomy))
    address = log.take(normalize_address(listing.address))
    location = log.take(locate(listing.latitude, listing.longitude, address))
    other_places = []
    for other in listing.other_locations:
        other_address = log.take(normalize_address(other.address, field="other_location.address"))
        place = log.take(
            locate(other.latitude, other.longitude, other_address, field="other_location")
        )
        if place is not None:
            other_places.append(LocatedAddress(other_address, place))
    modalities, conditions = _classify_terms(listing, taxonomy, log)
    credentials = []
    for claim in listing.credentials:
        credential = log.take(normalize_credential(claim, taxonomy=taxonomy))
        if credential is not None:
            credentials.append(credential)
    return NormalizedListing(
        id=listing.id,
        name=name,
        address=address,
        location=location,
        other_places=tuple(other_places),
        phone=log.take(normalize_phone(listing.telephone_raw)),
        modalities=modalities,
        conditions=conditions,
        credentials=tuple(credentials),
        npi=log.take(normalize_npi(listing.npi)),
        rating=log.take(rating_to_five(listing.aggregate_rating, field="aggregate_rating")),
        flags=log.flags,
    )


def _classify_terms(
    listing: Listing, taxonomy: Taxonomy, log: FlagLog
) -> tuple[TermMatch, TermMatch]:
    """Sort a listing's phrases into modalities and conditions.

    Sources mix the two (schema.org's ``knowsAbout`` holds both techniques and what they treat),
    so a phrase one vocabulary does not know is tried in the other before it is reported unknown.
    """
    modalities = normalize_terms("modality", listing.modalities_raw, taxonomy=taxonomy)
    conditions = normalize_terms("condition", listing.conditions_raw, taxonomy=taxonomy)
    assert modalities.value is not None and conditions.value is not None
    more_conditions = normalize_terms(
        "condition", modalities.value.unknown, field="modalities", taxonomy=taxonomy
    )
    more_modalities = normalize_terms(
        "modality", conditions.value.unknown, field="conditions", taxonomy=taxonomy
    )
    assert more_conditions.value is not None and more_modalities.value is not None
    # Keep the first pass's flags except its "unknown" verdicts, which the second pass redoes.
    for flag in (*modalities.flags, *conditions.flags):
        if flag.reason != "unknown_term":
            log.add(flag)
    log.extend(more_conditions.flags)
    log.extend(more_modalities.flags)
    modality_match = TermMatch(
        tuple(dict.fromkeys((*modalities.value.ids, *more_modalities.value.ids))),
        more_conditions.value.unknown,
    )
    condition_match = TermMatch(
        tuple(dict.fromkeys((*conditions.value.ids, *more_conditions.value.ids))),
        more_modalities.value.unknown,
    )
    return modality_match, condition_match


def normalize_review(review: Review, *, date_order: DateOrder = "MDY") -> NormalizedReview:
    """Normalise a review's rating and date; relative dates count from when it was fetched."""
    log = FlagLog()
    rating = log.take(rating_to_five(review.rating))
    published = log.take(
        parse_date(
            review.published_raw,
            reference=fetch_date(review.provenance.fetched_at),
            field="published",
            date_order=date_order,
        )
    )
    return NormalizedReview(id=review.id, rating=rating, published=published, flags=log.flags)
