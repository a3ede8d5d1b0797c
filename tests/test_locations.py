"""Practice locations merged across sources: one per office, at its most precise position."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.items import PostalAddress
from indexer.locations import PlaceClaim, merge_locations
from indexer.normalize.addresses import normalize_address
from indexer.normalize.location import locate

# A real office in South Austin, 17 km from the Austin city centre (the point a city-only
# listing is placed at).
OFFICE = (30.1370, -97.7970)
OFFICE_ADDRESS = "9500 S IH 35 Frontage Rd Ste 300, Austin, TX 78748"
SECOND_OFFICE = (30.4040, -97.7430)
SECOND_ADDRESS = "11200 Domain Dr Ste 120, Austin, TX 78758"


def claim(
    source: str, lat: float | None, lon: float | None, address: str | PostalAddress
) -> PlaceClaim:
    normalized = normalize_address(address).value
    place = locate(lat, lon, normalized).value
    assert place is not None
    return PlaceClaim(source, place, normalized)


def city_only(source: str, city: str = "Austin", state: str = "TX") -> PlaceClaim:
    return claim(source, None, None, PostalAddress(locality=city, region=state))


def test_an_office_exact_on_one_site_and_city_only_on_another_is_one_location() -> None:
    merged = merge_locations([claim("atlas", *OFFICE, OFFICE_ADDRESS), city_only("pages")])
    assert len(merged) == 1
    (office,) = merged
    assert (office.lat, office.lon, office.precision) == (*OFFICE, "rooftop")
    assert (office.street, office.postal_code) == ("9500 S IH 35 Frontage Rd Ste 300", "78748")
    assert office.sources == ("atlas", "pages")
    assert not office.approximate


def test_the_same_street_without_coordinates_joins_the_exact_office() -> None:
    merged = merge_locations(
        [
            claim("guild", None, None, "9500 S IH 35 Frontage Road, Suite 300, Austin TX 78748"),
            claim("atlas", *OFFICE, OFFICE_ADDRESS),
        ]
    )
    assert [(m.lat, m.lon, m.precision, m.sources) for m in merged] == [
        (*OFFICE, "rooftop", ("atlas", "guild"))
    ]


def test_two_offices_stay_two_and_a_city_only_listing_adds_none() -> None:
    merged = merge_locations(
        [
            claim("atlas", *OFFICE, OFFICE_ADDRESS),
            claim("atlas", *SECOND_OFFICE, SECOND_ADDRESS),
            city_only("pages"),
        ]
    )
    assert len(merged) == 2
    assert {(m.lat, m.lon) for m in merged} == {OFFICE, SECOND_OFFICE}
    assert all(m.precision == "rooftop" for m in merged)


def test_a_city_only_listing_far_from_every_office_is_an_approximate_location_of_its_own() -> None:
    merged = merge_locations(
        [claim("atlas", *OFFICE, OFFICE_ADDRESS), city_only("pages", "Dallas")]
    )
    assert len(merged) == 2
    dallas = next(m for m in merged if m.city == "Dallas")
    assert dallas.approximate and dallas.precision == "city"


def test_only_approximate_places_make_one_approximate_location_per_area() -> None:
    merged = merge_locations([city_only("pages"), city_only("reviews"), city_only("x", "Dallas")])
    assert sorted((m.city, m.sources) for m in merged) == [
        ("Austin", ("pages", "reviews")),
        ("Dallas", ("x",)),
    ]
    assert all(m.approximate for m in merged)


# Offices anywhere in Texas, each given exact by one site and only by its city by another.
texas_point = st.tuples(
    st.floats(min_value=26.0, max_value=36.0), st.floats(min_value=-106.0, max_value=-94.0)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(texas_point, min_size=1, max_size=4, unique=True), st.randoms())
def test_no_office_gets_a_second_approximate_point(points, rng) -> None:
    claims = []
    for n, (lat, lon) in enumerate(points):
        claims.append(
            claim(
                "exact",
                lat,
                lon,
                PostalAddress(street=f"{100 + n} Main St", locality="Austin", region="TX"),
            )
        )
        claims.append(city_only("vague"))
    rng.shuffle(claims)
    merged = merge_locations(claims)
    exact = [m for m in merged if not m.approximate]
    # Every office kept once, at its exact point; the city-only listings add nothing where an
    # office in that city exists.
    assert sorted((m.lat, m.lon) for m in exact) == sorted(
        (round(lat, 6), round(lon, 6)) for lat, lon in points
    )
    assert len(merged) == len(exact)
    for m in merged:
        assert m.sources and set(m.sources) <= {"exact", "vague"}


def test_a_source_leaving_out_the_suite_names_the_same_office() -> None:
    merged = merge_locations(
        [
            claim("atlas", *OFFICE, OFFICE_ADDRESS),
            claim("guild", None, None, "9500 S IH 35 Frontage Rd, Austin, TX 78748"),
            claim("pages", None, None, "9500 S IH 35 Frontage Rd Ste 410, Austin, TX 78748"),
        ]
    )
    assert sorted((m.precision, m.sources) for m in merged) == [
        ("rooftop", ("atlas", "guild")),
        ("zip", ("pages",)),
    ]


def test_a_place_without_a_suite_does_not_join_two_suites_into_one_office() -> None:
    merged = merge_locations(
        [
            claim("atlas", None, None, "9500 S IH 35 Frontage Rd Ste 300, Austin, TX 78748"),
            claim("pages", None, None, "9500 S IH 35 Frontage Rd Ste 410, Austin, TX 78748"),
            claim("guild", None, None, "9500 S IH 35 Frontage Rd, Austin, TX 78748"),
        ]
    )
    assert len(merged) == 2
    assert sorted(len(m.sources) for m in merged) == [1, 2]
