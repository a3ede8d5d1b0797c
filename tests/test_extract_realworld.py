"""Real-world samples through the project's extraction, with the values the samples publish.

Every expected value below is written out from the sample's own text (see
``fixtures/realworld/README.md`` for where each sample comes from). Whitespace inside a value
is collapsed, as the extractor does for every text ("1001  Eagle Drive" reads "1001 Eagle Drive").
``test_extract_schemaorg.py`` checks that each example gives the same records in every syntax;
this file checks what those records hold.
"""

from __future__ import annotations

import json
import re

import extruct
import pytest

from crawler.extract import Extraction, extract_structured, provenance_for
from crawler.extract.graph import jsonld_roots
from crawler.extract.locations import raw_locations, split_main
from crawler.extract.nodes import text, types_of
from crawler.extract.values import parse_addresses
from crawler.items import ClaimedCredential, Listing, PostalAddress, PracticeLocation, Review
from tests.test_extract_schemaorg import REALWORLD, schemaorg_examples

PAGE = "https://example.com/profile"
SYNTAXES = ("JSON", "MICRODATA", "RDFA")
READINGS = pytest.mark.parametrize("profile", [False, True], ids=["page", "profile"])
ALLTHEPLACES = REALWORLD / "alltheplaces"


def extract(html: str | bytes, *, profile: bool = False, url: str = PAGE) -> Extraction:
    """Read a page the default way, or as the profile page of one listing."""
    return extract_structured(
        html,
        provenance_for("realworld", url, html, "2024-05-01T00:00:00Z"),
        listing_ref=url if profile else None,
    )


def example(name: str, section: str = "JSON") -> str:
    return schemaorg_examples()[name][section]


def only_listing(extraction: Extraction) -> Listing:
    assert len(extraction.listings) == 1, extraction
    return extraction.listings[0]


def review_facts(review: Review) -> tuple:
    rating = review.rating
    assert rating is not None
    return (
        review.author_raw,
        review.published_raw,
        review.extras.get("title"),
        review.body,
        rating.raw,
        rating.value,
        rating.best,
        rating.worst,
    )


# -- eg-0347: a Dentist with its published rating and two of its 22 reviews ------------------------


@READINGS
def test_dentist_keeps_its_published_rating_and_count_beside_its_two_reviews(profile: bool):
    extraction = extract(example("eg-0347"), profile=profile)
    assert extraction.errors == []
    listing = only_listing(extraction)
    assert listing.name_raw == "City Smiles"
    assert listing.extras["schema_types"] == ["Dentist"]
    rating = listing.aggregate_rating
    assert rating is not None
    # 22 reviews behind the average, though the page embeds only two of them
    assert (rating.raw, rating.value, rating.best, rating.worst, rating.count) == (
        "4.5",
        4.5,
        5.0,
        1.0,
        22,
    )
    assert listing.extras["review_count"] == 22
    assert "rating_count" not in listing.extras
    assert all(isinstance(r, Review) for r in extraction.reviews)
    assert [review_facts(r) for r in extraction.reviews] == [
        ("Liam", "2020-06-26", "Great dental clinic", "Great prices, excellent service",
         "5", 5.0, 5.0, 1.0),
        ("David", "2020-05-16", "Waiting time",
         "I am totally satisfied with the quality of service, but the waiting time should be "
         "reduced", "4", 4.0, 5.0, 1.0),
    ]  # fmt: skip
    assert {r.listing_ref for r in extraction.reviews} == {listing.source_ref}
    assert {r.subject_name_raw for r in extraction.reviews} == {"City Smiles"}


@READINGS
def test_dentist_contact_address_and_hours(profile: bool):
    listing = only_listing(extract(example("eg-0347"), profile=profile))
    assert listing.address == PostalAddress(
        street="1001 Eagle Drive", locality="Detroit", region="MI", postal_code="48226"
    )
    assert listing.other_locations == []
    assert listing.telephone_raw == "+12025550198"
    assert listing.email == "city.smiles.dental@example.com"
    assert listing.bio == "Dental care service"
    assert listing.extras["opening_hours"] == ["Mo-Sa 9:00-12:00"]
    assert listing.extras["price_range"] == "$$"
    assert listing.extras["payment_accepted"] == "Cash, Credit Card"


# -- credentials: eg-4685, eg-0277, eg-0259, eg-0260 -----------------------------------------------


@READINGS
def test_person_verified_through_a_credential_with_a_string_category(profile: bool):
    extraction = extract(example("eg-4685"), profile=profile)
    listing = only_listing(extraction)
    assert listing.name_raw == "Angelo Huff"
    assert listing.extras["schema_types"] == ["Person"]
    assert listing.extras["alternate_name"] == "ahuff1999"
    assert listing.extras["identifiers"] == ["123475623"]
    # The credential has no name of its own; its category names it.
    assert listing.credentials == [
        ClaimedCredential(
            name_raw="verified", issuer_raw="Big Social Media", category_raw="verified"
        )
    ]
    assert extraction.credentials == []


@READINGS
def test_accredited_college_gives_no_listing_and_no_loose_credential(profile: bool):
    assert extract(example("eg-0277"), profile=profile).records == []


@pytest.mark.parametrize("section", SYNTAXES)
def test_credential_category_as_a_defined_term_in_every_syntax(section: str):
    [hnc] = extract(example("eg-0259", section)).credentials
    assert hnc == ClaimedCredential(
        name_raw="HNC Facilities Management", category_raw="Higher National Certificate"
    )
    [csp] = extract(example("eg-0260", section)).credentials
    assert csp == ClaimedCredential(
        name_raw="Certified Safety Professional", category_raw="Certification"
    )


def test_a_persons_credential_with_a_defined_term_category():
    credential = json.loads(re.sub(r"</?script[^>]*>", "", example("eg-0259")))
    del credential["@context"]
    person = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Morag Dunbar",
        "hasCredential": credential,
    }
    page = f'<script type="application/ld+json">{json.dumps(person)}</script>'
    listing = only_listing(extract(page, profile=True))
    assert listing.credentials == [
        ClaimedCredential(
            name_raw="HNC Facilities Management", category_raw="Higher National Certificate"
        )
    ]


# -- eg-0482: an IndividualPhysician with an NPI ---------------------------------------------------


@READINGS
def test_individual_physician_with_us_npi(profile: bool):
    listing = only_listing(extract(example("eg-0482"), profile=profile))
    assert listing.name_raw == "David"
    assert listing.extras["schema_types"] == ["IndividualPhysician"]
    assert listing.npi == "1111111111"
    assert listing.practice_name_raw is None
    assert listing.address == PostalAddress(
        street="1001 Eagle Drive", locality="Detroit", region="MI", postal_code="48226"
    )
    assert listing.extras["occupational_category"] == "Medical Professional"


# -- eg-0004 and extruct's LocalBusiness.002: a rating whose values are strings ------------------


@pytest.mark.parametrize("section", SYNTAXES)
@READINGS
def test_aggregate_rating_written_as_strings_in_every_syntax(section: str, profile: bool):
    extraction = extract(example("eg-0004", section), profile=profile)
    assert extraction.errors == []
    assert extraction.reviews == []
    listing = only_listing(extraction)
    assert listing.name_raw == "GreatFood"
    rating = listing.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.count) == ("4", 4.0, 250)
    assert listing.extras["review_count"] == 250
    assert listing.address == PostalAddress(
        street="1901 Lemur Ave", locality="Sunnyvale", region="CA", postal_code="94086"
    )
    assert listing.telephone_raw == "(408) 714-1489"
    assert listing.website == "http://www.greatfood.com"
    # in the page's order, RDFa's too
    assert listing.extras["opening_hours"] == [
        "Mo-Sa 11:00-14:30",
        "Mo-Th 17:00-21:30",
        "Fr-Sa 17:00-22:00",
    ]
    assert listing.extras["price_range"] == "$$"


@READINGS
def test_extruct_local_business_sample(profile: bool):
    html = (REALWORLD / "extruct" / "LocalBusiness.002.html").read_bytes()
    extraction = extract(html, profile=profile)
    assert extraction.errors == []
    listing = only_listing(extraction)
    assert listing.name_raw == "GreatFood"
    assert listing.extras["schema_types"] == ["Restaurant"]
    rating = listing.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.count) == ("4", 4.0, 250)
    assert listing.address == PostalAddress(
        street="1901 Lemur Ave", locality="Sunnyvale", region="CA", postal_code="94086"
    )
    assert listing.telephone_raw == "(408) 714-1489"
    # The link's target, not its text (www.greatfood.com)
    assert listing.website == "http://www.dishdash.com"
    assert listing.extras["opening_hours"] == [
        "Mo-Sa 11:00-14:30",
        "Mo-Th 17:00-21:30",
        "Fr-Sa 17:00-22:00",
    ]


# -- eg-0010: reviews in every syntax --------------------------------------------------------------

KENMORE_REVIEWS = [
    ("Ellie", "2011-04-01", "Not a happy camper",
     "The lamp burned out and now I have to replace it.", "1", 1.0, 5.0, 1.0),
    ("Lucas", "2011-03-25", "Value purchase",
     "Great microwave for the price. It is small and fits in my apartment.", "4", 4.0, 5.0, 1.0),
]  # fmt: skip


@pytest.mark.parametrize("section", SYNTAXES)
def test_product_reviews_in_every_syntax(section: str):
    extraction = extract(example("eg-0010", section))
    assert extraction.errors == []
    assert extraction.listings == []
    assert sorted(review_facts(r) for r in extraction.reviews) == KENMORE_REVIEWS
    for review in extraction.reviews:
        assert review.subject_name_raw == 'Kenmore White 17" Microwave'
        assert review.extras["subject_types"] == ["Product"]
        assert review.listing_ref == PAGE


@pytest.mark.parametrize("section", SYNTAXES)
def test_rating_and_reviews_of_what_a_therapist_offers_are_the_therapists(section: str):
    person = (
        '<script type="application/ld+json">'
        '{"@context": "https://schema.org", "@type": "Person", "name": "Kim Lo"}</script>'
    )
    extraction = extract(person + example("eg-0010", section), profile=True)
    listing = only_listing(extraction)
    rating = listing.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.count) == ("3.5", 3.5, 11)
    assert listing.extras["rating_from"] == 'Kenmore White 17" Microwave'
    assert sorted(review_facts(r) for r in extraction.reviews) == KENMORE_REVIEWS
    assert {r.listing_ref for r in extraction.reviews} == {listing.source_ref}


# -- alltheplaces: JSON-LD quirks of public sites --------------------------------------------------


def alltheplaces(name: str) -> str:
    """One JSON-LD document of alltheplaces' parser tests, on a page of its own."""
    document = (ALLTHEPLACES / name).read_text(encoding="utf-8")
    return f'<html><head><script type="application/ld+json">{document}</script></head></html>'


def alltheplaces_node(name: str) -> dict:
    return json.loads((ALLTHEPLACES / name).read_text(encoding="utf-8"))


def test_rating_value_and_count_as_strings_and_an_empty_id():
    listing = only_listing(extract(alltheplaces("ld.json")))
    assert listing.name_raw == "GreatFood"
    # "@id": "" names nothing, so the page is the listing's reference
    assert listing.source_ref == PAGE
    rating = listing.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.count) == ("4", 4.0, 250)
    assert listing.email == "example@example.org"
    assert listing.telephone_raw == "(408) 714-1489"
    assert listing.website == "http://www.greatfood.com"


def test_lowercase_keys_and_geo_typed_by_full_url():
    listing = only_listing(extract(alltheplaces("ld_lowercase_attributes.json")))
    assert listing.name_raw == "KEARNEY #7"
    assert listing.extras["schema_types"] == ["ConvenienceStore"]
    assert listing.address == PostalAddress(
        street="1107 2ND AVE", region="NE", postal_code="68847", country="US"
    )
    assert (listing.latitude, listing.longitude) == (40.6862, -99.08411)
    assert listing.telephone_raw == "(308) 234-3062"
    assert listing.extras["opening_hours"] == ["Mo-Su 05:00-23:00"]


def test_lowercase_keys_and_padded_values_of_an_unnamed_restaurant():
    extraction = extract(alltheplaces("strip_whitespace.json"))
    # A business without a name cannot be listed; it is reported.
    assert extraction.listings == []
    assert extraction.error_kinds() == ["listing/no-name"]
    node = alltheplaces_node("strip_whitespace.json")
    assert parse_addresses(node["address"]) == [
        PostalAddress(
            street="1901 Lemur Ave", locality="Sunnyvale", region="CA", postal_code="94086"
        )
    ]
    assert text(node["telephone"]) == "(408) 714-1489"


def test_address_array_keeps_every_address_in_order():
    node = alltheplaces_node("ld_address_array.json")
    main, others = split_main(raw_locations(node))
    assert main.address == PostalAddress(street="first-in-array")
    assert [o.address for o in others] == [PostalAddress(street="second-in-array")]
    # The same array on a listing
    listing_node = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": "Two"}
    page = json.dumps({**listing_node, **node})
    listing = only_listing(extract(f'<script type="application/ld+json">{page}</script>'))
    assert listing.address == PostalAddress(street="first-in-array")
    assert listing.other_locations == [
        PracticeLocation(address=PostalAddress(street="second-in-array"))
    ]


def test_address_as_one_flat_string():
    node = alltheplaces_node("flat_properties.json")
    assert parse_addresses(node["address"]) == [PostalAddress(raw="a, b, c")]
    # A Place without a name is nobody's listing.
    assert extract(alltheplaces("flat_properties.json")).listings == []


def test_address_country_as_an_object_and_geo_without_a_type():
    listing = only_listing(extract(alltheplaces("default_types.json")))
    assert listing.name_raw == "Empire State Building"
    assert listing.address == PostalAddress(
        street="1107 2ND AVE", region="NE", postal_code="68847", country="US"
    )
    assert (listing.latitude, listing.longitude) == (40.75, -73.98)


@pytest.mark.parametrize(
    "name", ["ld_lat_lon.json", "funky_coords.json"], ids=["strings", "decimal-comma"]
)
def test_coordinates_as_strings_and_with_a_decimal_comma(name: str):
    listing = only_listing(extract(alltheplaces(name)))
    assert listing.extras["schema_types"] == ["Place"]
    assert (listing.latitude, listing.longitude) == (40.75, -73.98)


def test_opening_hours_specification_as_one_object_and_a_department_without_a_place():
    listing = only_listing(extract(alltheplaces("ld_opening_hours_specification_as_dict.json")))
    assert listing.name_raw == "New Seasons Market"
    assert listing.source_ref == "https://www.newseasonsmarket.com/find-a-store/williams"
    assert listing.extras["opening_hours_specification"] == [
        {
            "day_of_week": [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ],
            "opens": "07:00",
            "closes": "22:00",
        }
    ]
    assert listing.address == PostalAddress(
        street="3445 N Williams Ave",
        locality="Portland",
        region="OR",
        postal_code="97227",
        country="US",
    )
    assert (listing.latitude, listing.longitude) == (45.5481269199285600, -122.6673199714278200)
    # The hot bar is a department inside the store, not another place.
    assert listing.other_locations == []


def test_opening_hours_specification_as_a_list_and_a_location_by_blank_node_id():
    listing = only_listing(extract(alltheplaces("ld_opening_hours_specification_as_list.json")))
    assert listing.name_raw == "Music Resource Centre"
    specs = listing.extras["opening_hours_specification"]
    assert [s["day_of_week"] for s in specs] == [
        ["Sunday"],
        ["Saturday"],
        ["Thursday"],
        ["Tuesday"],
        ["Friday"],
        ["Monday"],
        ["Wednesday"],
    ]
    assert {(s["opens"], s["closes"]) for s in specs} == {("09:00:00", "17:00:00")}
    assert listing.email == "dscott@laurentian.ca"
    assert listing.address == PostalAddress(
        street="School of Education - Music Resource Centre Laurentian University",
        locality="Sudbury",
        region="ON",
        postal_code="P3E 2C6",
        country="Canada",
    )
    # "location" points at that same address by its blank-node id: no second place.
    assert listing.other_locations == []


def test_days_written_as_schema_org_urls_or_bare_names():
    listing = only_listing(extract(alltheplaces("ld_parse_opening_hours.json")))
    assert listing.extras["opening_hours_specification"] == [
        {
            "day_of_week": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "opens": "09:00",
            "closes": "11:00",
        },
        {"day_of_week": ["Saturday"], "opens": "12:00", "closes": "14:00"},
    ]


@pytest.mark.parametrize(
    ("name", "types"),
    [("multiple_types-1.html", ["Place", "Thing"]), ("multiple_types-2.html", ["Place"])],
)
def test_type_as_a_full_url_or_an_array(name: str, types: list[str]):
    html = (ALLTHEPLACES / name).read_text(encoding="utf-8")
    [root] = jsonld_roots(extruct.extract(html, syntaxes=["json-ld"])["json-ld"])
    assert types_of(root) == types
    # A Place with only a name has nowhere to be found: no listing.
    assert extract(html).listings == []


def test_type_array_in_a_graph_beside_a_breadcrumb():
    html = (ALLTHEPLACES / "multiple_types-3.html").read_text(encoding="utf-8")
    listing = only_listing(extract(html))
    assert listing.name_raw == "test 3"
    assert listing.extras["schema_types"] == ["LocalBusiness", "ClothingStore"]


def test_every_alltheplaces_sample_is_used():
    used = {
        "ld.json",
        "ld_lowercase_attributes.json",
        "strip_whitespace.json",
        "ld_address_array.json",
        "flat_properties.json",
        "default_types.json",
        "ld_lat_lon.json",
        "funky_coords.json",
        "ld_opening_hours_specification_as_dict.json",
        "ld_opening_hours_specification_as_list.json",
        "ld_parse_opening_hours.json",
        "multiple_types-1.html",
        "multiple_types-2.html",
        "multiple_types-3.html",
    }
    samples = {p.name for p in ALLTHEPLACES.iterdir() if p.suffix in (".json", ".html")}
    assert samples == used
