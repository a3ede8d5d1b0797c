"""Real-world JSON-LD quirks: one small page each, each must still give its listing."""

from __future__ import annotations

from pathlib import Path

from crawler.extract import Extraction, extract_structured, provenance_for
from crawler.items import Listing

QUIRKS = Path(__file__).parent / "fixtures" / "quirks"
URL = "https://directory.example/therapists/42"


def extract(name: str) -> Extraction:
    body = (QUIRKS / name).read_bytes()
    return extract_structured(
        body, provenance_for("quirks", URL, body, "2024-05-01T00:00:00+00:00")
    )


def only_listing(extraction: Extraction) -> Listing:
    assert len(extraction.listings) == 1, extraction
    return extraction.listings[0]


def test_rating_value_and_counts_as_strings():
    listing = only_listing(extract("rating_value_string.html"))
    rating = listing.aggregate_rating
    assert rating is not None
    assert (rating.raw, rating.value, rating.best) == ("4.8", 4.8, 5.0)
    # ratingCount (every rating) is the count behind the average, not reviewCount
    assert rating.count == 41
    assert (listing.extras["review_count"], listing.extras["rating_count"]) == (37, 41)


def test_lowercase_keys():
    listing = only_listing(extract("lowercase_keys.html"))
    assert listing.address is not None
    assert listing.address.region == "TX"
    assert listing.address.postal_code == "78704"
    assert listing.address.street == "2100 Barton Springs Rd"
    assert listing.telephone_raw == "(512) 555-0140"


def test_address_as_an_array():
    listing = only_listing(extract("address_array.html"))
    assert listing.address is not None
    assert (listing.address.street, listing.address.locality) == ("1600 S Lamar Blvd", "Austin")


def test_address_as_one_flat_string_is_kept_whole():
    listing = only_listing(extract("address_flat_string.html"))
    assert listing.address is not None
    assert listing.address.raw == "1200 S Congress Ave, Suite 200, Austin, TX 78704"
    assert listing.address.street is None


def test_address_country_as_an_object():
    listing = only_listing(extract("address_country_object.html"))
    assert listing.address is not None
    assert listing.address.country == "US"


def test_latitude_with_decimal_comma():
    listing = only_listing(extract("latitude_comma.html"))
    assert (listing.latitude, listing.longitude) == (40.75, -73.99)


def test_latitude_out_of_range_never_gets_in():
    extraction = extract("latitude_out_of_range.html")
    listing = only_listing(extraction)
    assert listing.latitude is None
    assert listing.longitude is None
    assert listing.extras["geo_raw"] == {"latitude": "-97.7431", "longitude": "30.2672"}
    assert "value/latitude-invalid" in extraction.error_kinds()


def test_type_as_full_url():
    listing = only_listing(extract("type_full_url.html"))
    assert listing.extras["schema_types"] == ["HealthAndBeautyBusiness"]
    assert listing.name_raw == "Hyde Park Massage Studio"


def test_type_as_array_with_an_unknown_type():
    listing = only_listing(extract("type_array.html"))
    assert listing.extras["schema_types"] == ["MassageTherapyClinic", "MedicalBusiness"]
    assert listing.telephone_raw == "512-555-0123"


def test_opening_hours_specification_as_one_object():
    listing = only_listing(extract("opening_hours_dict.html"))
    assert listing.extras["opening_hours_specification"] == [
        {"day_of_week": ["Saturday"], "opens": "10:00", "closes": "16:00"}
    ]


def test_opening_hours_specification_as_a_list():
    listing = only_listing(extract("opening_hours_list.html"))
    specs = listing.extras["opening_hours_specification"]
    assert [s["day_of_week"] for s in specs] == [["Monday", "Tuesday", "Wednesday"], ["Saturday"]]
    assert specs[0]["closes"] == "18:00"


def test_jsonld_assigned_to_a_variable_inside_a_script():
    extraction = extract("jsonld_in_script_var.html")
    listing = only_listing(extraction)
    assert listing.name_raw == "Clarksville Massage Co"
    assert listing.address is not None and listing.address.locality == "Austin"
    assert "jsonld/in-script" in extraction.error_kinds()


def test_jsonld_escaped_inside_a_javascript_string():
    listing = only_listing(extract("jsonld_in_script_string.html"))
    assert listing.name_raw == "Tarrytown Trigger Point Therapy"
    assert listing.website == "https://tarrytown.example/"


def test_javascript_comments_and_trailing_comma():
    listing = only_listing(extract("js_comments.html"))
    assert listing.name_raw == "Allandale Myofascial Release"
    assert listing.telephone_raw == "512-555-0111"


def test_cdata_wrapper():
    extraction = extract("cdata.html")
    assert only_listing(extraction).name_raw == "Crestview Deep Tissue"
    assert extraction.error_kinds() == ["jsonld/repaired"]


def test_control_characters():
    extraction = extract("control_chars.html")
    listing = only_listing(extraction)
    assert listing.name_raw == "Windsor Park Massage"
    assert listing.bio == "Line one Line two"
    assert extraction.error_kinds() == ["jsonld/repaired"]


def test_trailing_brace():
    extraction = extract("trailing_brace.html")
    listing = only_listing(extraction)
    assert listing.name_raw == "North Loop Neuromuscular"
    assert listing.telephone_raw == "512-555-0177"
    assert extraction.error_kinds() == ["jsonld/repaired"]


def test_hopeless_jsonld_yields_the_other_syntaxes_and_an_error():
    extraction = extract("invalid_jsonld_with_microdata.html")
    listing = only_listing(extraction)
    assert listing.name_raw == "Rosedale Neuromuscular Therapy"
    assert listing.extras["syntax"] == "microdata"
    assert extraction.error_kinds() == ["jsonld/invalid"]
    assert "script #1" in extraction.errors[0].message
