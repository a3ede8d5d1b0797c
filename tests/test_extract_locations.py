"""Every practice location a listing publishes is kept: the first is its address, the others
go to ``other_locations`` in page order, never repeating the first."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parsel import Selector

from crawler.extract import Extraction, extract_structured, provenance_for
from crawler.extract.html_records import compile_record_specs, extract_records
from crawler.items import Listing, PostalAddress, PracticeLocation, from_dict, to_dict

URL = "https://directory.example/practices/lamar-bodywork"
DOWNTOWN = PostalAddress(
    street="501 W 6th St", locality="Austin", region="TX", postal_code="78701", country="US"
)
ROUND_ROCK = PostalAddress(
    street="2 Oak Ave", locality="Round Rock", region="TX", postal_code="78664", country="US"
)
CEDAR_PARK = PostalAddress(
    street="1890 Ranch Shopping Ctr", locality="Cedar Park", region="TX", postal_code="78613"
)


def extract(body: str, *, profile: bool = False) -> Extraction:
    return extract_structured(
        body,
        provenance_for("directory", URL, body, "2024-05-01T00:00:00Z"),
        listing_ref=URL if profile else None,
    )


def ld(document: dict[str, Any]) -> str:
    body = json.dumps({"@context": "https://schema.org", **document})
    return f'<html><head><script type="application/ld+json">{body}</script></head></html>'


def postal(address: PostalAddress) -> dict[str, Any]:
    node = {
        "@type": "PostalAddress",
        "streetAddress": address.street,
        "addressLocality": address.locality,
        "addressRegion": address.region,
        "postalCode": address.postal_code,
    }
    if address.country:
        node["addressCountry"] = address.country
    return node


def geo(latitude: float, longitude: float) -> dict[str, Any]:
    return {"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude}


def place(address: PostalAddress, latitude: float, longitude: float) -> dict[str, Any]:
    return {"@type": "Place", "address": postal(address), "geo": geo(latitude, longitude)}


def only_listing(extraction: Extraction) -> Listing:
    assert len(extraction.listings) == 1, extraction
    return extraction.listings[0]


# -- JSON-LD ---------------------------------------------------------------------------------------


def test_address_array_of_postal_addresses_with_one_geo_for_the_first():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "geo": geo(30.2686, -97.7494),
                    "address": [postal(DOWNTOWN), postal(ROUND_ROCK), postal(CEDAR_PARK)],
                }
            )
        )
    )
    assert listing.address == DOWNTOWN
    assert (listing.latitude, listing.longitude) == (30.2686, -97.7494)
    assert listing.other_locations == [
        PracticeLocation(address=ROUND_ROCK),
        PracticeLocation(address=CEDAR_PARK),
    ]


def test_address_array_with_a_geo_array_pairs_them_by_position():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "MedicalClinic",
                    "name": "Lamar Bodywork",
                    "address": [postal(DOWNTOWN), postal(ROUND_ROCK)],
                    "geo": [geo(30.2686, -97.7494), geo(30.5083, -97.6789)],
                }
            )
        )
    )
    assert (listing.address, listing.latitude, listing.longitude) == (
        DOWNTOWN,
        30.2686,
        -97.7494,
    )
    assert listing.other_locations == [PracticeLocation(ROUND_ROCK, 30.5083, -97.6789)]


def test_address_array_of_strings_is_several_addresses():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "address": [
                        "501 W 6th St, Austin, TX 78701",
                        "2 Oak Ave, Round Rock, TX 78664",
                    ],
                }
            )
        )
    )
    assert listing.address == PostalAddress(raw="501 W 6th St, Austin, TX 78701")
    assert listing.other_locations == [
        PracticeLocation(address=PostalAddress(raw="2 Oak Ave, Round Rock, TX 78664"))
    ]


def test_several_location_places_each_with_address_and_geo():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "location": [
                        place(DOWNTOWN, 30.2686, -97.7494),
                        place(ROUND_ROCK, 30.5083, -97.6789),
                        place(CEDAR_PARK, 30.5052, -97.8203),
                    ],
                }
            )
        )
    )
    # A business with no address or geo of its own is where its first place is.
    assert (listing.address, listing.latitude, listing.longitude) == (
        DOWNTOWN,
        30.2686,
        -97.7494,
    )
    assert listing.other_locations == [
        PracticeLocation(ROUND_ROCK, 30.5083, -97.6789),
        PracticeLocation(CEDAR_PARK, 30.5052, -97.8203),
    ]


def test_location_repeating_the_main_address_is_no_further_location():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "address": postal(DOWNTOWN),
                    "location": [
                        place(DOWNTOWN, 30.2686, -97.7494),
                        place(ROUND_ROCK, 30.5083, -97.6789),
                    ],
                }
            )
        )
    )
    # The place at the main address gives it the coordinates the business itself lacks.
    assert (listing.address, listing.latitude, listing.longitude) == (
        DOWNTOWN,
        30.2686,
        -97.7494,
    )
    assert listing.other_locations == [PracticeLocation(ROUND_ROCK, 30.5083, -97.6789)]


def test_location_given_as_postal_address_or_text():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "address": postal(DOWNTOWN),
                    "location": [postal(ROUND_ROCK), "1890 Ranch Shopping Ctr, Cedar Park, TX"],
                }
            )
        )
    )
    assert listing.address == DOWNTOWN
    assert listing.other_locations == [
        PracticeLocation(address=ROUND_ROCK),
        PracticeLocation(address=PostalAddress(raw="1890 Ranch Shopping Ctr, Cedar Park, TX")),
    ]


def test_departments_that_are_places_are_further_locations():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "MedicalClinic",
                    "name": "Lamar Bodywork",
                    "address": postal(DOWNTOWN),
                    "geo": geo(30.2686, -97.7494),
                    "department": [
                        {
                            "@type": "Physiotherapy",
                            "name": "Lamar Bodywork Round Rock",
                            "address": postal(ROUND_ROCK),
                            "geo": geo(30.5083, -97.6789),
                        },
                        # A department inside the main practice is no place of its own.
                        {"@type": "DaySpa", "name": "The Spa Room", "telephone": "512-555-0150"},
                        {
                            "@type": "Physiotherapy",
                            "name": "Lamar Bodywork Cedar Park",
                            "address": postal(CEDAR_PARK),
                        },
                    ],
                }
            )
        )
    )
    assert listing.address == DOWNTOWN
    assert listing.other_locations == [
        PracticeLocation(ROUND_ROCK, 30.5083, -97.6789),
        PracticeLocation(address=CEDAR_PARK),
    ]


def test_unresolved_location_reference_is_no_address():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "address": postal(DOWNTOWN),
                    "location": [{"@id": "_:office"}, {"@id": "https://maps.example/p/1"}],
                }
            )
        )
    )
    assert listing.address == DOWNTOWN
    assert listing.other_locations == []


def test_bad_coordinates_of_a_further_location_are_reported_and_its_address_kept():
    extraction = extract(
        ld(
            {
                "@type": "HealthAndBeautyBusiness",
                "name": "Lamar Bodywork",
                "location": [
                    place(DOWNTOWN, 30.2686, -97.7494),
                    {"@type": "Place", "address": postal(ROUND_ROCK), "geo": geo(197.7, 30.5)},
                ],
            }
        )
    )
    listing = only_listing(extraction)
    assert listing.other_locations == [PracticeLocation(address=ROUND_ROCK)]
    assert extraction.error_kinds() == ["value/latitude-invalid"]


def test_person_on_a_profile_page_has_every_office_of_the_practice_they_work_at():
    document = {
        "@graph": [
            {
                "@type": "Person",
                "@id": f"{URL}#person",
                "name": "Ana Ruiz",
                "worksFor": {"@id": f"{URL}#practice"},
            },
            {
                "@type": "HealthAndBeautyBusiness",
                "@id": f"{URL}#practice",
                "name": "Lamar Bodywork",
                "geo": geo(30.2686, -97.7494),
                "address": [postal(DOWNTOWN), postal(ROUND_ROCK)],
            },
        ]
    }
    listing = only_listing(extract(ld(document), profile=True))
    assert listing.name_raw == "Ana Ruiz"
    assert (listing.address, listing.latitude) == (DOWNTOWN, 30.2686)
    assert listing.other_locations == [PracticeLocation(address=ROUND_ROCK)]


def test_person_with_several_work_locations():
    document = {
        "@type": "Person",
        "name": "Ana Ruiz",
        "worksFor": {"@type": "HealthAndBeautyBusiness", "name": "Lamar Bodywork"},
        "workLocation": [
            place(ROUND_ROCK, 30.5083, -97.6789),
            {"@type": "Place", "name": "Cedar Park studio", "address": postal(CEDAR_PARK)},
        ],
    }
    listing = only_listing(extract(ld(document), profile=True))
    assert (listing.address, listing.latitude, listing.longitude) == (
        ROUND_ROCK,
        30.5083,
        -97.6789,
    )
    assert listing.other_locations == [PracticeLocation(address=CEDAR_PARK)]


def test_person_with_an_address_of_their_own_is_not_at_the_practices_other_offices():
    document = {
        "@type": "HealthAndBeautyBusiness",
        "name": "Lamar Bodywork",
        "address": [postal(DOWNTOWN), postal(ROUND_ROCK)],
        "employee": {"@type": "Person", "name": "Ana Ruiz", "address": postal(CEDAR_PARK)},
    }
    listing = only_listing(extract(ld(document), profile=True))
    assert listing.address == CEDAR_PARK
    assert listing.other_locations == []


# -- microdata and RDFa ----------------------------------------------------------------------------


def microdata_place(address: PostalAddress, latitude: float, longitude: float) -> str:
    return (
        '<div itemprop="location" itemscope itemtype="https://schema.org/Place">'
        '<p itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
        f'<span itemprop="streetAddress">{address.street}</span>, '
        f'<span itemprop="addressLocality">{address.locality}</span>, '
        f'<span itemprop="addressRegion">{address.region}</span> '
        f'<span itemprop="postalCode">{address.postal_code}</span></p>'
        '<span itemprop="geo" itemscope itemtype="https://schema.org/GeoCoordinates">'
        f'<meta itemprop="latitude" content="{latitude}">'
        f'<meta itemprop="longitude" content="{longitude}"></span></div>'
    )


def microdata_page(*places: str) -> str:
    return (
        '<html><body><div itemscope itemtype="https://schema.org/HealthAndBeautyBusiness">'
        f'<h1 itemprop="name">Lamar Bodywork</h1>{"".join(places)}</div></body></html>'
    )


def as_rdfa(microdata: str) -> str:
    rdfa = microdata.replace('itemscope itemtype="https://schema.org/', 'typeof="')
    rdfa = rdfa.replace("itemprop=", "property=")
    return rdfa.replace("<body><div ", '<body><div vocab="https://schema.org/" ', 1)


def without_country(address: PostalAddress) -> PostalAddress:
    return PostalAddress(address.street, address.locality, address.region, address.postal_code)


MICRODATA_PLACES = microdata_page(
    microdata_place(DOWNTOWN, 30.2686, -97.7494),
    microdata_place(ROUND_ROCK, 30.5083, -97.6789),
    microdata_place(CEDAR_PARK, 30.5052, -97.8203),
)


@pytest.mark.parametrize("markup", [MICRODATA_PLACES, as_rdfa(MICRODATA_PLACES)])
def test_several_location_places_in_microdata_and_rdfa(markup: str):
    listing = only_listing(extract(markup))
    assert (listing.address, listing.latitude, listing.longitude) == (
        without_country(DOWNTOWN),
        30.2686,
        -97.7494,
    )
    # RDFa is a graph with no order of its own; the page's order is restored.
    assert listing.other_locations == [
        PracticeLocation(without_country(ROUND_ROCK), 30.5083, -97.6789),
        PracticeLocation(without_country(CEDAR_PARK), 30.5052, -97.8203),
    ]


def test_several_address_properties_in_microdata():
    page = (
        '<div itemscope itemtype="https://schema.org/Physiotherapy">'
        '<h1 itemprop="name">Lamar Bodywork</h1>'
        '<p itemprop="address">501 W 6th St, Austin, TX 78701</p>'
        '<p itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
        '<span itemprop="streetAddress">2 Oak Ave</span>, '
        '<span itemprop="addressLocality">Round Rock</span></p></div>'
    )
    listing = only_listing(extract(page))
    assert listing.address == PostalAddress(raw="501 W 6th St, Austin, TX 78701")
    assert listing.other_locations == [
        PracticeLocation(address=PostalAddress(street="2 Oak Ave", locality="Round Rock"))
    ]


# -- declarative HTML ------------------------------------------------------------------------------

OFFICES_PAGE = """<html><body><h1>Ana Ruiz, LMT</h1>
<div class="office" data-lat="30.2686" data-lon="-97.7494">
  <span class="street">501 W 6th St</span><span class="city">Austin, TX 78701</span></div>
<div class="office" data-lat="30.5083" data-lon="-97.6789">
  <span class="street">2 Oak Ave</span><span class="city">Round Rock, TX 78664</span></div>
<div class="office" data-lat="30.2686" data-lon="-97.7494">
  <span class="street">501 W 6th St</span><span class="city">Austin, TX 78701</span></div>
</body></html>"""


def test_html_records_with_many_address_fields_keep_every_office():
    specs = compile_record_specs(
        [
            {
                "type": "listing",
                "fields": {
                    "name": {"css": "h1", "regex": r"^(?P<value>[^,]+)"},
                    "street": {"css": ".office .street", "many": True},
                    "locality": {
                        "css": ".office .city",
                        "regex": r"^(?P<value>[^,]+), (?P<region>[A-Z]{2}) (?P<postal_code>\d{5})$",
                        "many": True,
                    },
                    "latitude": {"css": ".office", "attr": "data-lat", "many": True},
                    "longitude": {"css": ".office", "attr": "data-lon", "many": True},
                },
            }
        ],
        "test",
    )
    page = Selector(text=OFFICES_PAGE)
    provenance = provenance_for("pages", URL, OFFICES_PAGE, "2024-05-01T00:00:00Z")
    out = extract_records(page, URL, specs, provenance, source_kind="directory")
    assert out.errors == []
    [listing] = out.records
    assert isinstance(listing, Listing)
    assert listing.address == without_country(DOWNTOWN)
    assert (listing.latitude, listing.longitude) == (30.2686, -97.7494)
    # The office shown twice is one office.
    assert listing.other_locations == [
        PracticeLocation(without_country(ROUND_ROCK), 30.5083, -97.6789)
    ]


def test_html_records_with_one_address_per_field_have_no_other_locations():
    specs = compile_record_specs(
        [{"type": "listing", "fields": {"name": "h1", "street": ".office .street"}}], "test"
    )
    provenance = provenance_for("pages", URL, OFFICES_PAGE, "2024-05-01T00:00:00Z")
    out = extract_records(
        Selector(text=OFFICES_PAGE), URL, specs, provenance, source_kind="directory"
    )
    [listing] = out.records
    assert isinstance(listing, Listing)
    assert listing.address == PostalAddress(street="501 W 6th St")
    assert listing.other_locations == []


# -- the feed --------------------------------------------------------------------------------------


def test_other_locations_survive_the_feed_and_old_lines_still_load():
    listing = only_listing(
        extract(
            ld(
                {
                    "@type": "HealthAndBeautyBusiness",
                    "name": "Lamar Bodywork",
                    "location": [
                        place(DOWNTOWN, 30.2686, -97.7494),
                        place(ROUND_ROCK, 30.5083, -97.6789),
                    ],
                }
            )
        )
    )
    line = json.loads(json.dumps(to_dict(listing)))
    assert line["other_locations"] == [
        {
            "address": {
                "street": "2 Oak Ave",
                "locality": "Round Rock",
                "region": "TX",
                "postal_code": "78664",
                "country": "US",
                "raw": None,
            },
            "latitude": 30.5083,
            "longitude": -97.6789,
        }
    ]
    assert from_dict(line) == listing
    del line["other_locations"]
    old = from_dict(line)
    assert isinstance(old, Listing)
    assert old.other_locations == []
    assert old.address == DOWNTOWN
