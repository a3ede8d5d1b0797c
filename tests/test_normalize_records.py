"""Whole records: every field normalised and every problem counted per field and reason."""

from __future__ import annotations

from datetime import date

from crawler.items import ClaimedCredential, Listing, PostalAddress, Provenance, Rating, Review
from indexer.normalize.flags import Flag, FlagLog, Normalized
from indexer.normalize.records import normalize_listing, normalize_review

PROVENANCE = Provenance(
    source="demo-directory",
    url="https://example.test/jane-doe",
    fetched_at="2024-06-15T08:00:00+00:00",
    content_hash="0" * 64,
)


def test_flag_log_collects_values_and_counts_by_field_and_reason() -> None:
    log = FlagLog()
    assert log.take(Normalized("+15128675309")) == "+15128675309"
    assert log.take(Normalized(None, (Flag("telephone", "invalid_phone", "867-5309"),))) is None
    log.add(Flag("modalities", "unknown_term", "Reiki"))
    log.add(Flag("modalities", "unknown_term", "aromatherapy"))
    assert len(log) == 3
    assert log.counts() == {"telephone/invalid_phone": 1, "modalities/unknown_term": 2}


def test_a_messy_listing() -> None:
    listing = Listing(
        id="abc",
        provenance=PROVENANCE,
        source_ref="https://example.test/jane-doe",
        name_raw="Jane A. Doe, LMT, BCTMB",
        address=PostalAddress(
            street="1200 South Lamar Boulevard, Ste. 200",
            locality="Austin",
            region="Texas",
            postal_code="78704-1234",
        ),
        telephone_raw="(512) 867-5309",
        modalities_raw=["NMT, trigger-point & deep tissue", "Reiki"],
        conditions_raw=["sciatica", "TMJ"],
        credentials=[ClaimedCredential(name_raw="LMT", number="mt-012345", state="TX")],
        npi="1234567890",
        aggregate_rating=Rating("9/10", 9.0, best=10.0, worst=1.0, count=12),
    )
    result = normalize_listing(listing)
    assert result.name.name.display == "Jane A. Doe"
    assert [c.credential_id for c in result.name.credentials] == ["lmt", "bctmb"]
    assert result.address.street_line == "1200 S Lamar Blvd Ste 200"
    assert result.location.precision == "zip"
    assert result.phone.e164 == "+15128675309"
    assert result.modalities.ids == (
        "neuromuscular_therapy",
        "trigger_point_therapy",
        "deep_tissue",
    )
    assert result.modalities.unknown == ("Reiki",)
    assert result.conditions.ids == ("sciatica", "tmj")
    assert [(c.credential_id, c.number, c.state) for c in result.credentials] == [
        ("lmt", "MT012345", "TX")
    ]
    assert result.npi is None
    assert (result.rating.stars, result.rating.count) == (4.5, 12)
    assert sorted((f.field, f.reason) for f in result.flags) == [
        ("modalities", "unknown_term"),
        ("npi", "invalid_npi"),
    ]


def test_a_review_dated_relative_to_its_fetch() -> None:
    review = Review(
        id="r1",
        provenance=PROVENANCE,
        listing_ref="https://example.test/jane-doe",
        author_raw="K.",
        rating=Rating("★★★★☆", 4.0, best=5.0, worst=1.0),
        published_raw="3 weeks ago",
        body="Fixed my stiff neck.",
    )
    result = normalize_review(review)
    assert result.rating.stars == 4.0
    assert (result.published.value, result.published.precision) == (date(2024, 5, 25), "week")
    assert result.flags == ()


def test_a_review_from_the_future_is_flagged() -> None:
    review = Review(
        id="r2",
        provenance=PROVENANCE,
        listing_ref="x",
        author_raw=None,
        rating=Rating("7", 7.0),
        published_raw="July 4, 2025",
        body=None,
    )
    result = normalize_review(review)
    assert (result.rating, result.published) == (None, None)
    assert [(f.field, f.reason) for f in result.flags] == [
        ("rating", "out_of_scale"),
        ("published", "future_date"),
    ]
