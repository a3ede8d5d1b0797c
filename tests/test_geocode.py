"""The offline geocoder: every form a person types for a place, ambiguity and suggestions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zipcodes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.gazetteer import STATES, City, aliases, city_key, gazetteer
from indexer.geo import distance_km
from indexer.geocode import Place, PlaceNotFoundError, geocode_place
from tests.crawling import run_tdir

AUSTIN = (30.267, -97.743)
SOUTH_AUSTIN = (30.243, -97.766)  # ZIP 78704
ST_LOUIS = (38.627, -90.199)
NEW_YORK = (40.713, -74.006)


def _near(place: Place, point: tuple[float, float], km: float) -> bool:
    return distance_km(place.point.lat, place.point.lon, *point) < km


@pytest.mark.parametrize(
    "typed",
    [
        "Austin, TX",
        "Austin TX",
        "Austin, Texas",
        "austin texas",
        "AUSTIN, TX",
        "  austin ,   tx.  ",
        "Austin; TX",
        "Austin",
        "1200 S Lamar Blvd, Austin, TX",
        "1200 S. Lamar Blvd Austin TX",
    ],
)
def test_austin_as_a_city(typed: str) -> None:
    place = geocode_place(typed)
    assert place.label == "Austin, TX"
    assert place.precision == "city"
    assert _near(place, AUSTIN, 15)


@pytest.mark.parametrize(
    "typed",
    [
        "78704",
        "78704-1234",
        " 78704 ",
        "austin tx 78704",
        "Austin, TX 78704",
        "Austin, Texas 78704-1234",
        "1200 S Lamar Blvd, Austin, TX 78704",
    ],
)
def test_a_zip_anywhere_in_the_text_places_it_at_the_zip(typed: str) -> None:
    place = geocode_place(typed)
    assert place.label == "78704 (Austin, TX)"
    # A street address is only as precise as its ZIP: there is no street database.
    assert place.precision == "zip"
    assert _near(place, SOUTH_AUSTIN, 5)


@pytest.mark.parametrize("typed", ["30.25,-97.75", "30.25, -97.75", "(30.25, -97.75)"])
def test_coordinates(typed: str) -> None:
    place = geocode_place(typed)
    assert place.precision == "rooftop"
    assert (place.point.lat, place.point.lon) == (30.25, -97.75)


@pytest.mark.parametrize(
    "typed", ["St. Louis", "Saint Louis", "st louis, mo", "ST. LOUIS MISSOURI", "Saint Louis MO"]
)
def test_saint_and_st_are_one(typed: str) -> None:
    place = geocode_place(typed)
    assert place.label == "Saint Louis, MO"
    assert _near(place, ST_LOUIS, 15)


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("NYC", "New York, NY"),
        ("New York City", "New York, NY"),
        ("new york city, ny", "New York, NY"),
        ("New York", "New York, NY"),
        ("New York, New York", "New York, NY"),
        ("Washington DC", "Washington, DC"),
        ("Washington, D.C.", "Washington, DC"),
        ("Ft. Worth, TX", "Fort Worth, TX"),
        ("Mt Vernon, NY", "Mount Vernon, NY"),
        ("Hollywood, CA", "Hollywood, CA"),  # an accepted name for ZIPs of Los Angeles
        ("San Juan, Puerto Rico", "San Juan, PR"),
        ("Kansas City, Kansas", "Kansas City, KS"),
    ],
)
def test_names_nicknames_and_abbreviations(typed: str, label: str) -> None:
    assert geocode_place(typed).label == label


def test_nicknames_land_in_the_right_place() -> None:
    assert _near(geocode_place("NYC"), NEW_YORK, 15)


@pytest.mark.parametrize(
    ("typed", "picked", "also"),
    [
        ("Austin", "Austin, TX", "Austin, MN"),
        ("Springfield", "Springfield, MO", "Springfield, MA"),
        ("Portland", "Portland, OR", "Portland, ME"),
        ("Kansas City", "Kansas City, MO", "Kansas City, KS"),
    ],
)
def test_an_ambiguous_name_is_the_likeliest_with_the_alternatives(
    typed: str, picked: str, also: str
) -> None:
    place = geocode_place(typed)
    assert place.label == picked
    assert also in place.alternatives or also == place.alternatives[0]
    assert picked not in place.alternatives
    assert len(place.alternatives) <= 8


@pytest.mark.parametrize(
    ("typed", "label"),
    [("Maple Mount", "Maple Mount, KY"), ("Pleasant Mount", "Pleasant Mount, PA")],
)
def test_a_city_ending_in_mount_is_not_read_as_montana(typed: str, label: str) -> None:
    # "Mount" keys as "mt", which is also Montana's code.
    assert geocode_place(typed).label == label
    assert geocode_place("Helena MT").label == "Helena, MT"


def test_a_name_with_its_state_has_no_alternatives() -> None:
    assert geocode_place("Austin, MN").alternatives == ()
    assert geocode_place("Portland ME").label == "Portland, ME"


def test_an_ambiguous_name_lists_the_biggest_others_first() -> None:
    assert geocode_place("Portland").alternatives[0] == "Portland, ME"
    # Austin, MN (25,000 people) before Austin, AR (3,000), though each has one ZIP code.
    austin = geocode_place("Austin").alternatives
    assert austin[0] == "Austin, MN"
    assert austin.index("Austin, MN") < austin.index("Austin, AR")


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("Austn, TX", "Austin, TX"),
        ("Austn", "Austin, TX"),
        ("Sprngfield, MO", "Springfield, MO"),
        ("Austin Texsa", "Austin, TX"),
    ],
)
def test_a_typo_is_refused_with_a_suggestion(typed: str, suggestion: str) -> None:
    with pytest.raises(PlaceNotFoundError) as caught:
        geocode_place(typed)
    message = str(caught.value)
    assert repr(typed) in message
    assert f"did you mean {suggestion}?" in message


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("00000", "'00000' is not a known US ZIP code"),
        ("Nowhereville, TX", "no US city 'Nowhereville, TX'"),
        ("xyzzy", "no US city 'xyzzy'"),
        ("Texas", "'Texas' is a state"),
        ("", "no place given"),
        ("91.5,10", "'91.5,10'"),
    ],
)
def test_unknown_places_name_what_was_typed(typed: str, message: str) -> None:
    with pytest.raises(PlaceNotFoundError) as caught:
        geocode_place(typed)
    assert message in str(caught.value)
    assert "did you mean" not in str(caught.value)


def test_an_unknown_zip_after_a_known_city_falls_back_to_the_city() -> None:
    place = geocode_place("Austin, TX 00001")
    assert (place.label, place.precision) == ("Austin, TX", "city")


# --- properties over the package's own table -------------------------------------------------

_ZIP_ROWS = [
    row
    for row in zipcodes.list_all()
    if row["lat"] and row["zip_code_type"] != "MILITARY" and row["state"] in STATES
]
_CITIES = sorted(
    (c for c in gazetteer().cities() if c.state in STATES), key=lambda c: (c.state, c.name)
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_ZIP_ROWS), st.booleans())
def test_any_zip_resolves_to_its_own_point_in_its_state(row: dict[str, Any], plus4: bool) -> None:
    typed = f"{row['zip_code']}-1234" if plus4 else row["zip_code"]
    place = geocode_place(typed)
    assert place.precision == "zip"
    assert place.label.endswith(f", {row['state']})")
    assert (place.point.lat, place.point.lon) == (float(row["lat"]), float(row["long"]))


def _variants(city: City) -> list[str]:
    name, code, state = city.name, city.state, STATES[city.state]
    return [
        f"{name}, {code}",
        f"{name} {code}",
        f"{name.upper()}, {code.lower()}",
        f"  {name.lower()}  ,   {code}. ",
        f"{name}, {state}",
        f"{name.lower()} {state.upper()}",
        f"{name.replace(' ', '  ')},{state.lower()}",
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_CITIES))
def test_spelling_variants_of_a_city_resolve_to_one_point(city: City) -> None:
    points = {geocode_place(typed).point for typed in _variants(city)}
    assert len(points) == 1
    (point,) = points
    assert (point.lat, point.lon) == pytest.approx((city.lat, city.lon))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_CITIES))
def test_a_bare_city_name_resolves_to_a_city_of_that_name(city: City) -> None:
    place = geocode_place(city.name)
    picked = place.label.rsplit(",", 1)[0]
    # A nickname ("Manhattan" is New York) wins over a town of that name.
    assert city_key(picked) == city_key(city.name) or city_key(city.name) in aliases()
    assert city.label not in place.alternatives or place.label != city.label


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_CITIES))
def test_a_shared_name_offers_the_most_populous_first(city: City) -> None:
    shared = gazetteer().find(city.name)
    primary = [c for c in shared if c.primary]
    assert [c.population for c in primary] == sorted((c.population for c in primary), reverse=True)
    assert all(c.primary for c in shared[: len(primary)])


# --- speed ------------------------------------------------------------------------------------


def test_a_zip_lookup_in_a_fresh_process_does_not_build_the_city_index() -> None:
    code = (
        "import indexer.gazetteer as g, indexer.geocode as c;"
        "c.geocode_place('78704');"
        "print(g.gazetteer.cache_info().currsize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "0"


# --- the command line, as a user runs it ---------------------------------------------------------


def test_cli_search_near_a_city_and_full_state_name(home: Path) -> None:
    done = run_tdir(home, "search", "--json", "--near", "Austin, Texas")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["near"] == "Austin, TX"
    assert "Did you mean" not in done.stderr


def test_cli_says_which_place_it_took_for_an_ambiguous_name(home: Path) -> None:
    done = run_tdir(home, "search", "--near", "Austin")
    assert done.returncode == 0, done.stderr
    assert "'Austin' taken as Austin, TX. Did you mean Austin, " in done.stderr
    assert done.stdout.splitlines()[0].endswith("of Austin, TX")


def test_cli_refuses_a_typo_with_a_suggestion(home: Path) -> None:
    done = run_tdir(home, "search", "--near", "Austn, TX")
    assert done.returncode == 2
    assert "near: no US city 'Austn, TX'; did you mean Austin, TX?" in done.stderr
    assert done.stdout == ""
