"""Listings, reviews and claimed credentials from schema.org data on therapist pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.extract import Extraction, clean_text, extract_structured, provenance_for
from crawler.items import ClaimedCredential, Listing, stable_id

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://directory.example/therapists/jane-doe"


def extract(body: str | bytes, url: str = URL) -> Extraction:
    return extract_structured(body, provenance_for("directory", url, body, "2024-05-01T00:00:00Z"))


def ld(json_text: str) -> str:
    return f'<html><head><script type="application/ld+json">{json_text}</script></head></html>'


@pytest.fixture(scope="module")
def profile() -> Extraction:
    return extract((FIXTURES / "therapist_profile.html").read_bytes())


@pytest.fixture(scope="module")
def jane(profile: Extraction) -> Listing:
    [listing] = profile.listings
    return listing


def test_person_listing_takes_its_id_from_its_schema_id(jane: Listing):
    assert jane.source_ref == "https://directory.example/therapists/jane-doe"
    assert jane.id == stable_id("directory", jane.source_ref)
    assert jane.name_raw == "Jane A. Doe"
    assert jane.extras["job_title"] == "Licensed Massage Therapist"


def test_person_is_located_at_the_practice_they_work_for(jane: Listing):
    assert jane.practice_name_raw == "South Austin Neuromuscular"
    assert jane.address is not None
    assert jane.address.street == "1600 S Lamar Blvd Ste. 200"
    assert (jane.latitude, jane.longitude) == (30.2519, -97.7668)
    assert jane.telephone_raw == "+1 512-555-0100"
    assert jane.extras["location_from"] == "South Austin Neuromuscular"


def test_credentials_keep_license_and_certification_apart(jane: Listing):
    license_, certification, *suffixes = jane.credentials
    assert license_ == ClaimedCredential(
        name_raw="Licensed Massage Therapist",
        number="MT123456",
        issuer_raw="Texas Department of Licensing and Regulation",
        state="TX",
        category_raw="license",
    )
    assert certification.category_raw == "certification"
    assert certification.issuer_raw == "NCBTMB"
    # "LMT, NCTMB" after the name are claims too
    assert [c.name_raw for c in suffixes] == ["LMT", "NCTMB"]


def test_npi_modalities_and_bio(jane: Listing):
    assert jane.npi == "1234567893"
    assert jane.modalities_raw == [
        "Neuromuscular Therapy",
        "Trigger Point Therapy",
        "Myofascial Release",
    ]
    assert jane.bio == (
        "Jane specialises in neuromuscular therapy for tension headaches and TMJ pain.\n\n"
        "Trained in trigger point work\nand myofascial release."
    )


def test_aggregate_rating_counts_ratings_not_only_reviews(jane: Listing):
    rating = jane.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.count) == ("4.9", 4.9, 58)
    assert jane.extras["review_count"] == 12


def test_reviews_with_person_organisation_and_string_authors(profile: Extraction, jane: Listing):
    reviews = {r.author_raw: r for r in profile.reviews}
    assert set(reviews) == {"Maria G.", "Austin Wellness Weekly", "anonymous"}
    assert all(r.listing_ref == jane.source_ref for r in profile.reviews)
    maria = reviews["Maria G."]
    assert maria.body == "My headaches are gone.\n\nJane found trigger points nobody else did."
    assert maria.published_raw == "2024-03-02"
    weekly = reviews["Austin Wellness Weekly"].rating
    assert weekly is not None
    assert (weekly.value, weekly.best, weekly.worst) == (9.0, 10.0, 0.0)
    assert reviews["Austin Wellness Weekly"].body == "Precise, thoughtful NMT work."


def test_impossible_review_rating_is_kept_raw_and_reported(profile: Extraction):
    anonymous = next(r for r in profile.reviews if r.author_raw == "anonymous")
    assert anonymous.rating is not None
    assert (anonymous.rating.raw, anonymous.rating.value) == ("7", None)
    assert profile.error_kinds() == ["value/rating-invalid"]


def test_review_ids_are_stable_across_recrawls_and_distinct():
    body = (FIXTURES / "therapist_profile.html").read_bytes()
    first = extract(body)
    again = extract_structured(body, provenance_for("directory", URL, body, "2024-06-01T00:00:00Z"))
    assert [r.id for r in first.records] == [r.id for r in again.records]
    assert len({r.id for r in first.records}) == len(first.records)


def test_graph_page_resolves_references_and_skips_site_owner_and_author():
    extraction = extract(
        (FIXTURES / "practice_graph.html").read_bytes(), "https://eastside.example/"
    )
    names = {listing.name_raw: listing for listing in extraction.listings}
    # the publisher Organization and the page's author Person are not listings
    assert set(names) == {"Eastside Massage & Bodywork", "Sam Rivera"}
    practice = names["Eastside Massage & Bodywork"]
    assert practice.source_ref == "https://eastside.example/#practice"
    assert practice.extras["schema_types"] == ["HealthAndBeautyBusiness", "DaySpa"]
    assert practice.modalities_raw == ["Neuromuscular Therapy", "Deep Tissue Massage"]
    assert (practice.latitude, practice.longitude) == (30.2556, -97.7175)
    sam = names["Sam Rivera"]
    assert sam.practice_name_raw == "Eastside Massage & Bodywork"
    assert sam.address is not None and sam.address.postal_code == "78702"
    assert sam.credentials == [
        ClaimedCredential(name_raw="LMT", number="MT98765", state="Texas", category_raw="license")
    ]


def test_same_practice_in_jsonld_and_microdata_is_one_listing():
    html = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "HealthAndBeautyBusiness",
     "@id": "https://directory.example/p/9#biz", "name": "Cedar Park Massage",
     "telephone": "512-555-0101"}</script></head><body>
    <div itemscope itemtype="https://schema.org/HealthAndBeautyBusiness">
      <span itemprop="name">Cedar Park Massage</span>
      <span itemprop="email">hello@cedarpark.example</span>
    </div></body></html>"""
    extraction = extract(html, "https://directory.example/p/9")
    [listing] = extraction.listings
    assert listing.source_ref == "https://directory.example/p/9#biz"
    assert listing.telephone_raw == "512-555-0101"
    # the microdata copy fills what the JSON-LD one lacked
    assert listing.email == "hello@cedarpark.example"


def test_list_page_gives_each_listing_its_own_reference():
    html = ld(
        """{"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "item": {"@type": "DaySpa", "name": "Spa One"}},
        {"@type": "ListItem", "position": 2, "item": {"@type": "DaySpa", "name": "Spa Two",
         "@id": "https://directory.example/spa-two"}}]}"""
    )
    extraction = extract(html, "https://directory.example/search?zip=78704")
    refs = {listing.name_raw: listing.source_ref for listing in extraction.listings}
    assert refs == {
        "Spa One": "https://directory.example/search?zip=78704#spa-one",
        "Spa Two": "https://directory.example/spa-two",
    }


def test_review_page_attaches_reviews_to_the_reviewed_listing():
    html = ld(
        """[{"@context": "https://schema.org", "@type": "Review",
        "itemReviewed": {"@type": "HealthAndBeautyBusiness", "name": "Round Rock NMT"},
        "author": {"@type": "Person", "givenName": "Lee", "familyName": "Ann"},
        "reviewRating": {"@type": "Rating", "ratingValue": "4,5"},
        "reviewBody": "Helped my sciatica."}]"""
    )
    extraction = extract(html, "https://reviews.example/round-rock-nmt")
    [listing] = extraction.listings
    [review] = extraction.reviews
    assert listing.source_ref == "https://reviews.example/round-rock-nmt"
    assert review.listing_ref == listing.source_ref
    assert review.author_raw == "Lee Ann"
    assert review.rating is not None and review.rating.value == 4.5
    assert review.subject_name_raw == "Round Rock NMT"


def test_reviews_of_a_service_go_to_the_page_listing():
    html = ld(
        """[{"@context": "https://schema.org", "@type": "Person", "name": "Kim Lo"},
        {"@context": "https://schema.org", "@type": "Service", "name": "Neuromuscular Therapy",
         "review": {"@type": "Review", "author": "Pat", "reviewRating": {"ratingValue": 5}}}]"""
    )
    extraction = extract(html)
    [listing] = extraction.listings
    [review] = extraction.reviews
    assert review.listing_ref == listing.source_ref == URL
    assert review.extras["subject_types"] == ["Service"]


def test_bad_values_are_reported_not_raised():
    html = ld(
        """{"@context": "https://schema.org", "@type": "Person", "name": "Bo",
        "usNPI": "12345", "geo": {"latitude": "north", "longitude": "-97.7"},
        "aggregateRating": {"ratingValue": "five"}}"""
    )
    extraction = extract(html)
    [listing] = extraction.listings
    assert listing.npi is None and listing.extras["npi_raw"] == "12345"
    assert listing.latitude is None and listing.longitude is None
    assert listing.aggregate_rating is not None and listing.aggregate_rating.value is None
    assert set(extraction.error_kinds()) == {
        "value/npi-invalid",
        "value/latitude-invalid",
        "value/rating-invalid",
    }


def test_unnamed_listing_is_skipped_with_an_error():
    extraction = extract(
        ld('{"@context": "https://schema.org", "@type": "DaySpa", "telephone": "1"}')
    )
    assert extraction.listings == []
    assert extraction.error_kinds() == ["listing/no-name"]


def test_auxiliary_types_are_not_listings():
    html = ld(
        """{"@context": "https://schema.org", "@type": "Organization", "name": "The Directory Inc",
        "address": {"@type": "PostalAddress", "addressLocality": "Austin"}}"""
    )
    assert extract(html).records == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"\x00\x01\x02 binary junk \xff\xfe",
        "<?xml version='1.0' encoding='utf-8'?><html><body>x</body></html>",
        "not html at all",
        ld("[1, 2, 3]"),
        ld('{"@context": "https://schema.org", "@graph": "nonsense"}'),
        ld('{"@type": ["Person"], "name": {"@value": "Nested"}, "review": [null, "text", 7]}'),
        '<div vocab="https://schema.org/" typeof="Person"><span property="name">R</span></div>',
    ],
)
def test_never_raises_on_bad_input(body: str | bytes):
    extraction = extract(body)
    assert isinstance(extraction, Extraction)


def test_empty_page_is_reported():
    assert extract(b"").error_kinds() == ["html/empty"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>One</p><p>Two <b>bold</b></p>", "One\n\nTwo bold"),
        ("Line<br>next line", "Line\nnext line"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("  spaced\n   out  ", "spaced\nout"),
        ("First para.\n\n\n  Second   para.", "First para.\n\nSecond para."),
        ("<ul><li>NMT</li><li>PNF</li></ul>", "NMT\n\nPNF"),
        ("<script>alert(1)</script>Text", "Text"),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_text_keeps_paragraphs(raw: str | None, expected: str | None):
    assert clean_text(raw) == expected
