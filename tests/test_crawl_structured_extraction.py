"""Profile pages, memberships, broken markup and repairs: the extraction the structured spider
relies on, pinned on small pages written the ways directory sites write them."""

from __future__ import annotations

import json

import pytest

from crawler.extract import Extraction, extract_structured, provenance_for
from crawler.extract.credentials import npi_in_text
from crawler.extract.jsonld_repair import close_last_container, loads_lenient
from crawler.extract.markup import markup_problems
from crawler.items import ClaimedCredential, stable_id

URL = "https://atlas.example/therapist/jane-doe-austin-tx-123"

PERSON = {
    "@type": "Person",
    "name": "Jane A. Doe, LMT",
    "knowsAbout": ["Neuromuscular Therapy", "TMJ"],
    "hasCredential": {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "license",
        "name": "LMT",
        "identifier": "MT123456",
        "validIn": {"@type": "AdministrativeArea", "name": "Texas"},
    },
    "memberOf": [{"@type": "Organization", "name": "AMTA Member"}],
    "identifier": [{"@type": "PropertyValue", "propertyID": "NPI", "value": "1234567893"}],
}
BUSINESS = {
    "@type": ["LocalBusiness", "HealthAndBeautyBusiness"],
    "@id": URL + "#business",
    "name": "South Austin Neuromuscular",
    "url": URL,
    "sameAs": ["https://southaustinnmt.example/"],
    "telephone": "(512) 555-0100",
    "address": {
        "@type": "PostalAddress",
        "streetAddress": "1600 S Lamar Blvd",
        "postalCode": "78704",
    },
    "geo": {"@type": "GeoCoordinates", "latitude": 30.2519, "longitude": -97.7668},
    "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.5", "reviewCount": 2},
    "review": [
        {
            "@type": "Review",
            "author": {"@type": "Person", "name": "Maria G."},
            "datePublished": "2024-03-02",
            "reviewRating": {"@type": "Rating", "ratingValue": 5},
            "reviewBody": "Headaches gone.",
        },
        {
            "@type": "Review",
            "author": {"@type": "Person", "name": "Maria G."},
            "datePublished": "2024-03-02",
            "reviewRating": {"@type": "Rating", "ratingValue": 5},
            "reviewBody": "Headaches gone.",
        },
    ],
}


def page(*documents: object, body: str = "") -> str:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(d)}</script>' for d in documents
    )
    return f"<!DOCTYPE html><html><head>{scripts}</head><body>{body}</body></html>"


def profile(html: str, url: str = URL, **kwargs: object) -> Extraction:
    return extract_structured(
        html, provenance_for("atlas", url, html, "2025-01-01T00:00:00Z"), listing_ref=url, **kwargs
    )


def nested_document() -> dict:
    return {"@context": "https://schema.org", **BUSINESS, "employee": PERSON}


def graph_document() -> dict:
    person = {**PERSON, "worksFor": {"@id": BUSINESS["@id"]}}
    return {"@context": "https://schema.org", "@graph": [person, BUSINESS]}


@pytest.mark.parametrize("document", [nested_document(), graph_document()], ids=["nested", "graph"])
def test_profile_page_is_one_listing_whichever_way_the_site_nests_it(document: dict):
    extraction = profile(page(document))
    [listing] = extraction.listings
    assert listing.source_ref == URL
    assert listing.id == stable_id("atlas", URL)
    assert listing.name_raw == "Jane A. Doe, LMT"
    assert listing.practice_name_raw == "South Austin Neuromuscular"
    assert listing.telephone_raw == "(512) 555-0100"
    assert listing.address is not None and listing.address.postal_code == "78704"
    assert (listing.latitude, listing.longitude) == (30.2519, -97.7668)
    assert listing.aggregate_rating is not None and listing.aggregate_rating.value == 4.5
    assert listing.npi == "1234567893"
    # the profile URL is the listing's page on the directory; the practice's site is sameAs
    assert listing.website == "https://southaustinnmt.example/"
    assert listing.modalities_raw == ["Neuromuscular Therapy", "TMJ"]
    assert extraction.errors == []


def test_every_review_on_a_profile_is_the_listings_even_two_alike():
    extraction = profile(page(graph_document()))
    assert len(extraction.reviews) == 2
    assert {r.listing_ref for r in extraction.reviews} == {URL}
    assert len({r.id for r in extraction.reviews}) == 2
    # the same page crawled again gives the same ids
    again = profile(page(graph_document()))
    assert [r.id for r in again.reviews] == [r.id for r in extraction.reviews]


def test_memberships_are_claims_of_their_own_category_not_the_practice():
    [listing] = profile(page(nested_document())).listings
    assert listing.credentials == [
        ClaimedCredential(name_raw="LMT", number="MT123456", state="Texas", category_raw="license"),
        ClaimedCredential(name_raw="AMTA Member", category_raw="membership"),
    ]
    # outside profile pages a member organisation is no practice either
    alone = {"@context": "https://schema.org", **PERSON}
    [person] = extract_structured(page(alone), provenance_for("x", URL, "")).listings
    assert person.practice_name_raw is None
    assert person.credentials[-1].category_raw == "membership"


def test_unnamed_therapist_is_listed_under_the_practice_and_counted():
    nameless = {k: v for k, v in PERSON.items() if k != "name"}
    extraction = profile(page({"@context": "https://schema.org", **BUSINESS, "employee": nameless}))
    [listing] = extraction.listings
    assert listing.name_raw == listing.practice_name_raw == "South Austin Neuromuscular"
    assert listing.credentials[0].name_raw == "LMT"
    assert extraction.error_kinds() == ["listing/no-name"]


def test_npi_shown_only_as_text_on_a_profile_is_taken_once():
    microdata = (
        '<div itemscope itemtype="https://schema.org/Person"><span itemprop="name">Kim Lo</span>'
        '</div><span class="badge">NPI 1234567893</span>'
    )
    [listing] = profile(page(body=microdata)).listings
    assert listing.npi == "1234567893"
    assert listing.extras["npi_from"] == "page_text"
    # two different numbers on one page: which is whose is unknown, so neither is taken
    ambiguous = microdata + "<p>Clinic NPI: 1987654321</p>"
    assert profile(page(body=ambiguous)).listings[0].npi is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NPI 1234567893", ["1234567893"]),
        ("NPI #: 1234567893", ["1234567893"]),
        ("National Provider Identifier: 1234567893", ["1234567893"]),
        ("npi no. 1234567893, NPI 1234567893", ["1234567893"]),
        ("Call 5125550100", []),
        ("NPI 12345678931", []),
    ],
)
def test_npi_in_text(text: str, expected: list[str]):
    assert npi_in_text(text) == expected


def test_page_about_several_people_is_read_the_default_way():
    other = {**PERSON, "name": "Sam Rivera"}
    team = {"@context": "https://schema.org", **BUSINESS, "employee": [PERSON, other]}
    names = {listing.name_raw for listing in profile(page(team)).listings}
    assert names == {"South Austin Neuromuscular", "Jane A. Doe, LMT", "Sam Rivera"}


def test_unclosed_review_elements_nest_reviews_and_all_are_kept():
    # The template lost its </div>s: each review's element swallows the next review.
    reviews = "".join(
        '<div itemprop="review" itemscope itemtype="https://schema.org/Review">'
        f'<span itemprop="author">Client {n}</span>'
        f'<span itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
        f'<span itemprop="ratingValue">{n}</span></span>'
        for n in (3, 4, 5)
    )
    html = (
        '<!DOCTYPE html><html><body><div itemscope itemtype="https://schema.org/DaySpa">'
        f'<h1 itemprop="name">Spa</h1>{reviews}'
    )
    extraction = profile(html)
    assert sorted(r.author_raw or "" for r in extraction.reviews) == [
        "Client 3",
        "Client 4",
        "Client 5",
    ]
    assert [e.kind for e in markup_problems(html.encode(), URL)] == ["html/unclosed-elements"]


def test_balanced_or_lightly_sloppy_markup_is_not_reported():
    tidy = b"<!DOCTYPE html><html><body><div><p>One<p>Two<ul><li>a<li>b</ul></div></body></html>"
    assert markup_problems(tidy, URL) == []
    sloppy = b"<html><body><div><span>one stray</div></body></html>"
    assert markup_problems(sloppy, URL) == []
    scripted = b'<html><body><script>var s = "<div><div><div>";</script></body></html>'
    assert markup_problems(scripted, URL) == []
    assert markup_problems(b'{"not": "html"}', URL) == []


def test_lost_final_brace_is_repaired_but_a_cut_short_document_is_not():
    whole = json.dumps(graph_document(), indent=1)
    lost_brace = whole.rstrip().removesuffix("}").rstrip() + ",\n"
    assert loads_lenient(lost_brace) == [graph_document()]
    extraction = profile(
        f'<html><head><script type="application/ld+json">{lost_brace}</script></head></html>'
    )
    assert len(extraction.listings) == 1
    assert extraction.error_kinds() == ["jsonld/repaired"]
    assert close_last_container('{"a": {"b": 1') is None  # two open: content was lost
    assert close_last_container('{"a": "unterminated') is None
    assert close_last_container('{"a": [1, 2]}') is None  # nothing to close


def test_profile_reviews_carried_by_a_separate_review_node_attach_to_the_profile():
    loose = {
        "@context": "https://schema.org",
        "@type": "Review",
        "itemReviewed": {"@type": "Service", "name": "Neuromuscular Therapy"},
        "author": "Pat",
        "reviewRating": {"@type": "Rating", "ratingValue": 4},
    }
    extraction = profile(page(nested_document(), loose))
    assert len(extraction.listings) == 1
    assert {r.listing_ref for r in extraction.reviews} == {URL}
    assert len(extraction.reviews) == 3


def test_credentials_given_on_their_own_on_a_profile_are_its_listings():
    certificate = {
        "@context": "https://schema.org",
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "certification",
        "name": "Board Certified in Therapeutic Massage & Bodywork",
        "recognizedBy": {"@type": "Organization", "name": "NCBTMB"},
    }
    extraction = profile(page(nested_document(), certificate))
    [listing] = extraction.listings
    assert [c.name_raw for c in listing.credentials][-1] == certificate["name"]
    assert extraction.credentials == []
