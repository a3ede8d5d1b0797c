"""Conformance with schema.org's own examples and extruct's sample page.

Each schema.org example file holds examples with PRE-MARKUP, MICRODATA, RDFA and JSON sections;
the same example in each syntax it is given in must yield the same records.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import extruct
import pytest

from crawler.extract import Extraction, extract_structured, provenance_for
from crawler.extract.credentials import claimed_credentials
from crawler.extract.graph import jsonld_roots
from crawler.items import ClaimedCredential, Listing, Review

REALWORLD = Path(__file__).parent / "fixtures" / "realworld"
SECTIONS = ("PRE-MARKUP", "MICRODATA", "RDFA", "JSON")
SYNTAX_SECTIONS = ("MICRODATA", "RDFA", "JSON")
_EXAMPLE_START = re.compile(r"^TYPES:\s*#(eg-\d+)", re.MULTILINE)
_SECTION = re.compile(rf"^({'|'.join(SECTIONS)}):\s*$", re.MULTILINE)


@cache
def schemaorg_examples() -> dict[str, dict[str, str]]:
    """Map each example id to its sections; sections with no markup are left out."""
    examples: dict[str, dict[str, str]] = {}
    for path in sorted((REALWORLD / "schemaorg").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        starts = list(_EXAMPLE_START.finditer(text))
        for match, following in zip(starts, [*starts[1:], None], strict=True):
            block = text[match.end() : following.start() if following else len(text)]
            parts = _SECTION.split(block)
            sections = {
                name: body.strip()
                for name, body in zip(parts[1::2], parts[2::2], strict=True)
                if "<" in body and "TODO" not in body and "example only" not in body
            }
            examples[match.group(1)] = sections
    return examples


def extract_example(example: str, section: str) -> Extraction:
    html = schemaorg_examples()[example][section]
    url = f"https://example.com/{example}"
    return extract_structured(html, provenance_for("schemaorg", url, html, "2024-05-01T00:00:00Z"))


def comparable(record: Listing | Review | ClaimedCredential) -> Any:
    """A record without the parts that legitimately differ by syntax."""
    data = dataclasses.asdict(record)
    data.pop("provenance", None)  # the page bytes differ, so does their hash
    extras = data.get("extras", {})
    extras.pop("syntax", None)
    # RDFa is a graph: the order of a property's several values is not part of it
    if "opening_hours" in extras:
        extras["opening_hours"] = sorted(extras["opening_hours"])
    return data


def records_by_syntax(example: str) -> dict[str, list[Any]]:
    return {
        section: sorted(
            (comparable(r) for r in extract_example(example, section).records),
            key=lambda d: json.dumps(d, sort_keys=True),
        )
        for section in SYNTAX_SECTIONS
        if section in schemaorg_examples()[example]
    }


def test_loader_splits_examples_into_their_sections():
    examples = schemaorg_examples()
    assert {"eg-0004", "eg-0010", "eg-0259", "eg-0260", "eg-0347", "eg-0482", "eg-4685"} <= set(
        examples
    )
    assert set(examples["eg-0004"]) == {"PRE-MARKUP", "MICRODATA", "RDFA", "JSON"}
    # JSON-LD-only examples keep no placeholder sections
    assert set(examples["eg-0347"]) == {"JSON"}
    assert examples["eg-0004"]["MICRODATA"].startswith(
        '<div itemscope itemtype="https://schema.org/Restaurant">'
    )


@pytest.mark.parametrize(
    "example", ["eg-0004", "eg-0010", "eg-0015", "eg-0194", "eg-0259", "eg-0260"]
)
def test_same_example_in_every_syntax_gives_the_same_records(example: str):
    by_syntax = records_by_syntax(example)
    assert set(by_syntax) == set(SYNTAX_SECTIONS)
    assert by_syntax["JSON"], "the example should give records"
    assert by_syntax["MICRODATA"] == by_syntax["JSON"]
    assert by_syntax["RDFA"] == by_syntax["JSON"]


def test_aggregate_rating_with_string_values_in_every_syntax():
    for section in SYNTAX_SECTIONS:
        extraction = extract_example("eg-0004", section)
        assert extraction.errors == []
        [listing] = extraction.listings
        assert listing.name_raw == "GreatFood"
        rating = listing.aggregate_rating
        assert rating is not None
        assert (rating.raw, rating.value, rating.best, rating.worst, rating.count) == (
            "4",
            4.0,
            5.0,
            1.0,
            250,
        )
        assert listing.address is not None
        assert (listing.address.postal_code, listing.address.region) == ("94086", "CA")
        assert listing.telephone_raw == "(408) 714-1489"


def test_reviews_in_every_syntax():
    for section in SYNTAX_SECTIONS:
        reviews = sorted(
            extract_example("eg-0010", section).reviews, key=lambda r: r.author_raw or ""
        )
        assert [r.author_raw for r in reviews] == ["Ellie", "Lucas"]
        assert [r.rating.value for r in reviews if r.rating] == [1.0, 4.0]
        assert [r.published_raw for r in reviews] == ["2011-04-01", "2011-03-25"]
        # RDFa gives the element text with its line breaks; it must read like the others
        assert reviews[0].body == "The lamp burned out and now I have to replace it."
        assert reviews[1].extras["title"] == "Value purchase"
        assert all(r.listing_ref == "https://example.com/eg-0010" for r in reviews)


def test_opening_hours_specification_in_every_syntax():
    json_listing = extract_example("eg-0193", "JSON").listings[0]
    microdata_listing = extract_example("eg-0193", "MICRODATA").listings[0]
    rdfa_listing = extract_example("eg-0193", "RDFA").listings[0]
    assert comparable(microdata_listing) == comparable(json_listing)
    assert json_listing.extras["opening_hours_specification"][0] == {
        "opens": "09:00:00",
        "closes": "11:00:00",
        "valid_from": "2013-12-24",
        "valid_through": "2013-12-25",
    }
    # extruct's RDFa parser does not read <time datetime>, so RDFa keeps the visible text; the
    # graph's values are put back in the page's order
    rdfa_specs = rdfa_listing.extras["opening_hours_specification"]
    assert [spec["opens"] for spec in rdfa_specs] == ["9am", "Noon"]
    assert rdfa_listing.extras["opening_hours"] == json_listing.extras["opening_hours"]


def test_dentist_with_rating_and_reviews_whose_text_is_in_description():
    extraction = extract_example("eg-0347", "JSON")
    [listing] = extraction.listings
    assert listing.name_raw == "City Smiles"
    assert listing.extras["schema_types"] == ["Dentist"]
    assert listing.email == "city.smiles.dental@example.com"
    assert listing.aggregate_rating is not None
    assert (listing.aggregate_rating.value, listing.aggregate_rating.count) == (4.5, 22)
    reviews = {r.author_raw: r for r in extraction.reviews}
    assert set(reviews) == {"Liam", "David"}
    assert reviews["Liam"].body == "Great prices, excellent service"
    assert reviews["Liam"].rating is not None and reviews["Liam"].rating.value == 5.0
    assert reviews["David"].published_raw == "2020-05-16"
    assert all(r.listing_ref == listing.source_ref for r in extraction.reviews)
    assert all(r.subject_name_raw == "City Smiles" for r in extraction.reviews)


def test_individual_physician_with_npi():
    [listing] = extract_example("eg-0482", "JSON").listings
    assert listing.npi == "1111111111"
    assert listing.name_raw == "David"
    # an individual practitioner is not a practice of the same name
    assert listing.practice_name_raw is None
    assert listing.address is not None and listing.address.locality == "Detroit"


def test_person_credential_on_a_profile_page():
    [listing] = extract_example("eg-4685", "JSON").listings
    assert listing.name_raw == "Angelo Huff"
    assert listing.credentials == [
        ClaimedCredential(
            name_raw="verified", issuer_raw="Big Social Media", category_raw="verified"
        )
    ]
    assert listing.extras["identifiers"] == ["123475623"]
    assert listing.npi is None


def test_credential_of_an_organisation_parses_but_a_college_is_no_listing():
    html = schemaorg_examples()["eg-0277"]["JSON"]
    assert (
        extract_structured(html, provenance_for("s", "https://example.com/c", html)).listings == []
    )
    [college] = jsonld_roots(extruct.extract(html, syntaxes=["json-ld"])["json-ld"])
    assert claimed_credentials(college["hasCredential"]) == [
        ClaimedCredential(
            name_raw="Accreditation",
            issuer_raw="Accrediting Commission of Career Schools and Colleges",
            category_raw="Accreditation",
        )
    ]


def test_a_credentials_alternate_name_is_kept_beside_its_name():
    credential = {
        "@type": "EducationalOccupationalCredential",
        "name": "Board Certified in Therapeutic Massage and Bodywork (NCBTMB)",
        "alternateName": "BCTMB",
        "identifier": "9132422",
    }
    assert claimed_credentials(credential) == [
        ClaimedCredential(
            name_raw="Board Certified in Therapeutic Massage and Bodywork (NCBTMB)",
            number="9132422",
            alternate_name_raw="BCTMB",
        )
    ]
    alone = {"@type": "EducationalOccupationalCredential", "alternateName": "LMT"}
    assert claimed_credentials(alone) == [ClaimedCredential(name_raw="LMT")]


def test_credential_category_as_defined_term():
    [credential] = extract_example("eg-0259", "MICRODATA").credentials
    assert credential.name_raw == "HNC Facilities Management"
    assert credential.category_raw == "Higher National Certificate"
    [rdfa_credential] = extract_example("eg-0260", "RDFA").credentials
    assert rdfa_credential.category_raw == "Certification"


def test_extruct_local_business_sample_matches_its_expected_output():
    html = (REALWORLD / "extruct" / "LocalBusiness.002.html").read_bytes()
    expected = json.loads((REALWORLD / "extruct" / "LocalBusiness.002.json").read_text())[0]
    props = expected["properties"]
    extraction = extract_structured(
        html, provenance_for("extruct", "https://example.com/greatfood", html)
    )
    assert extraction.errors == []
    [listing] = extraction.listings
    assert listing.name_raw == props["name"]
    assert listing.extras["schema_types"] == ["Restaurant"]
    assert listing.telephone_raw == props["telephone"]
    assert listing.website == props["url"]
    assert listing.extras["opening_hours"] == props["openingHours"]
    assert listing.extras["price_range"] == props["priceRange"]
    address = props["address"]["properties"]
    assert listing.address is not None
    assert (
        listing.address.street,
        listing.address.locality,
        listing.address.region,
        listing.address.postal_code,
    ) == (
        address["streetAddress"],
        address["addressLocality"],
        address["addressRegion"],
        address["postalCode"],
    )
    rating = props["aggregateRating"]["properties"]
    assert listing.aggregate_rating is not None
    assert listing.aggregate_rating.raw == rating["ratingValue"]
    assert listing.aggregate_rating.count == int(rating["reviewCount"])
