"""The dashboard's maps: the offline base map beneath the pins, the online one when configured,
what the page is sent, and a first view that shows every pin on a wide or a tall map.

The view is checked against a web-mercator projection written out here the way deck.gl's
``WebMercatorViewport`` defines it (512-pixel world at zoom 0), not against the module's own.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from fnmatch import fnmatch
from importlib import resources
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import maps
from dashboard.maps import (
    CARTO_LIGHT,
    TILES_ENV,
    Frame,
    MapPoint,
    initial_view,
    label_box,
    therapist_map,
    tile_style,
    town_labels,
)
from indexer.geo import KM_PER_MILE, GeoPoint
from indexer.geocode import geocode_place
from tests.support.browser import ROOT

# What a search within 25 mi of Austin, TX sends for its map is about 54 kB; this leaves room
# for a busier page of pins without letting whole states' county lines slip in.
SEARCH_PAYLOAD_LIMIT = 100_000
# A map of pins all over the country: every state, thinned to the pixel, no county lines.
NATIONWIDE_PAYLOAD_LIMIT = 350_000
SEARCH_MAP = (380, 460)  # the search map: narrower than tall
PROFILE_MAP = (380, 300)
WIDE_MAP = (900, 300)
TALL_MAP = (240, 800)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TILES_ENV, raising=False)


def spec(deck: Any) -> dict[str, Any]:
    return json.loads(deck.to_json())


def layer(deck_spec: dict[str, Any], layer_id: str) -> dict[str, Any]:
    return next(item for item in deck_spec["layers"] if item["id"] == layer_id)


def austin_search(pins: int = 12) -> Any:
    place = geocode_place("Austin, TX").point
    points = [
        MapPoint(
            place.lat + 0.02 * math.sin(n),
            place.lon + 0.03 * math.cos(n),
            f"Therapist {n}",
            f"{n} mi · ★ 4.5 (12)",
            verified=n % 2 == 0,
            approximate=n % 3 == 0,
        )
        for n in range(pins)
    ]
    return therapist_map(points, place, 25 * KM_PER_MILE, height=460)


def inside_ring(lat: float, lon: float, ring: list[list[float]]) -> bool:
    crossings = 0
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def states_at(features: list[dict[str, Any]], lat: float, lon: float) -> list[str]:
    """The codes of the state polygons that hold the point (holes respected)."""
    found = []
    for feature in features:
        for polygon in feature["geometry"]["coordinates"]:
            outer, *holes = polygon
            if inside_ring(lat, lon, outer) and not any(inside_ring(lat, lon, h) for h in holes):
                found.append(feature["properties"]["code"])
    return found


# -- the offline base map ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "state"),
    [("Austin, TX", "TX"), ("Seattle, WA", "WA"), ("Kansas City, MO", "MO"), ("Anchorage", "AK")],
)
def test_the_land_beneath_a_search_holds_the_state_at_its_centre(place: str, state: str) -> None:
    point = geocode_place(place).point
    deck = spec(therapist_map([], point, 40.0))
    view = deck["initialViewState"]
    land = layer(deck, "base-land")["data"]
    assert states_at(land, view["latitude"], view["longitude"]) == [state]


def test_a_profile_map_gets_outlines_and_town_names_too() -> None:
    # Jane A. Doe's practices: Austin and, known only by its centre, Waco.
    pins = [
        MapPoint(30.2571, -97.7606, "Jane A. Doe", "exact position", verified=True),
        MapPoint(31.5493, -97.1467, "Jane A. Doe", "city centre only", approximate=True),
    ]
    deck = spec(therapist_map(pins, height=300))
    view = deck["initialViewState"]
    assert states_at(layer(deck, "base-land")["data"], view["latitude"], view["longitude"]) == [
        "TX"
    ]
    assert layer(deck, "base-states")["data"]
    assert layer(deck, "base-counties")["data"]
    names = [town["name"] for town in layer(deck, "base-town-names")["data"]]
    assert {"Austin", "Waco"} <= set(names)


def test_the_base_map_lies_beneath_the_pins() -> None:
    ids = [item["id"] for item in spec(austin_search())["layers"]]
    assert ids == [
        "base-land",
        "base-counties",
        "base-states",
        "base-town-dots",
        "base-town-names",
        "searched-area",
        "therapists",
        "searched-place",
    ]


def test_state_lines_are_darker_and_wider_than_county_lines() -> None:
    deck = spec(austin_search())
    states, counties = layer(deck, "base-states"), layer(deck, "base-counties")
    assert sum(states["getLineColor"][:3]) < sum(counties["getLineColor"][:3])
    assert states["getLineWidth"] > counties["getLineWidth"]


def test_offline_nothing_is_fetched() -> None:
    deck = spec(austin_search())
    assert not re.search(r"https?://", json.dumps(deck))
    # pydeck's "no style" sentinel with no provider is what makes Streamlit draw no tiles; a
    # missing style (or a provider) would make it fetch Carto's tiles for its theme.
    assert deck["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in deck


def test_pins_keep_their_meaning_over_the_base_map() -> None:
    deck = austin_search()
    assert deck._tooltip == {"text": "{name}\n{detail}"}
    as_json = spec(deck)
    pickable = [item["id"] for item in as_json["layers"] if item.get("pickable")]
    assert pickable == ["therapists"]
    pins = layer(as_json, "therapists")["data"]
    hollow = next(p for p in pins if p["approximate"])
    assert hollow["color"][3] == maps.APPROXIMATE_FILL_ALPHA
    assert hollow["ring"][:3] == hollow["color"][:3]


def test_town_names_are_few_and_never_overlap() -> None:
    point = geocode_place("New York, NY").point
    for zoom_radius in (5.0, 40.0, 400.0):
        view = initial_view([], point, zoom_radius, *SEARCH_MAP)
        frame = Frame(view, *SEARCH_MAP)
        towns = town_labels(frame)
        assert 3 <= len(towns) <= maps.TOWNS_IN_VIEW + maps.TOWNS_AROUND
        boxes = [label_box(frame, t) for t in towns]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not maps._overlaps(a, b), (a, b)


def test_the_biggest_place_in_view_is_named_first() -> None:
    point = geocode_place("Austin, TX").point
    frame = Frame(initial_view([], point, 40.0, *SEARCH_MAP), *SEARCH_MAP)
    assert town_labels(frame)[0].name == "Austin"


def test_no_town_is_named_outside_its_own_state() -> None:
    # The ZIP table puts "Kennesaw, GA" in the Atlantic on average (a ZIP placed at sea).
    assert not [t for t in maps._towns() if t.name == "Kennesaw" and t.lon > -80]
    assert [t for t in maps._towns() if t.name == "Juneau" and t.state == "AK"]


# -- what the page is sent ----------------------------------------------------------------------


def test_a_search_around_austin_sends_a_small_map() -> None:
    size = len(austin_search().to_json().encode())
    assert size < SEARCH_PAYLOAD_LIMIT, size


def test_only_geometry_near_the_view_is_sent() -> None:
    deck = spec(austin_search())
    codes = {f["properties"]["code"] for f in layer(deck, "base-land")["data"]}
    assert "TX" in codes
    assert not codes & {"CA", "NY", "FL", "WA"}
    counties = layer(deck, "base-counties")["data"]
    assert {f["properties"]["state"] for f in counties} == {"TX"}
    # Texas has some 150 squares of county lines; a 25 mi search needs a handful.
    assert len(counties) < 40


def test_a_nationwide_map_is_thinned_and_has_no_county_lines() -> None:
    pins = [
        MapPoint(47.6, -122.3, "A", ""),
        MapPoint(25.8, -80.2, "B", ""),
        MapPoint(40.7, -74.0, "C", ""),
    ]
    deck = therapist_map(pins)
    size = len(deck.to_json().encode())
    assert size < NATIONWIDE_PAYLOAD_LIMIT, size
    assert layer(spec(deck), "base-counties")["data"] == []


def test_the_outlines_ship_with_the_package() -> None:
    shipped = resources.files("dashboard").joinpath(maps.BASE_MAP_DATA)
    assert shipped.is_file()
    assert len(shipped.read_bytes()) < 3_000_000
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = declared["tool"]["setuptools"]["package-data"]["dashboard"]
    assert any(fnmatch(maps.BASE_MAP_DATA, pattern) for pattern in patterns)
    kinds = {f["properties"]["kind"] for f in maps.base_features()}
    assert kinds == {"state", "state-line", "county-line"}


# -- online base maps ---------------------------------------------------------------------------


def test_carto_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TILES_ENV, "carto")
    deck = spec(austin_search())
    assert deck["mapStyle"] == CARTO_LIGHT
    assert deck["mapProvider"] == "carto"
    assert not [item for item in deck["layers"] if item["id"].startswith("base-")]
    assert layer(deck, "therapists")["data"]


def test_a_style_url_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://tiles.example.org/styles/light/style.json"
    monkeypatch.setenv(TILES_ENV, url)
    assert spec(austin_search())["mapStyle"] == url


@pytest.mark.parametrize("value", ["", "off", "OFFLINE", "none"])
def test_offline_words(value: str) -> None:
    assert tile_style({TILES_ENV: value}) is None


def test_an_unknown_setting_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ValueError, match=TILES_ENV):
        tile_style({TILES_ENV: "google"})


# -- the first view shows every pin --------------------------------------------------------------


def screen_position(
    lat: float, lon: float, view: Any, width: float, height: float
) -> tuple[float, float]:
    """Where deck.gl's web-mercator viewport draws a point, in pixels from the top left."""
    scale = 512 * 2**view.zoom

    def world(lat_: float, lon_: float) -> tuple[float, float]:
        phi = math.radians(lat_)
        x = scale * (math.radians(lon_) + math.pi) / (2 * math.pi)
        y = scale * (math.pi - math.log(math.tan(math.pi / 4 + phi / 2))) / (2 * math.pi)
        return x, y

    x, y = world(lat, lon)
    cx, cy = world(view.latitude, view.longitude)
    return x - cx + width / 2, y - cy + height / 2


def assert_all_shown(
    places: list[tuple[float, float]], view: Any, width: float, height: float
) -> None:
    margin = maps.PIN_MARGIN_PX - 0.01
    positions = [screen_position(lat, lon, view, width, height) for lat, lon in places]
    for x, y in positions:
        assert margin <= x <= width - margin, (x, width, view)
        assert margin <= y <= height - margin, (y, height, view)
    if view.zoom < maps.MAX_ZOOM:
        # The closest such view: one of the two spans fills the map, less the margins.
        span_x = max(x for x, _ in positions) - min(x for x, _ in positions)
        span_y = max(y for _, y in positions) - min(y for _, y in positions)
        room_x, room_y = width - 2 * maps.PIN_MARGIN_PX, height - 2 * maps.PIN_MARGIN_PX
        assert max(span_x / room_x, span_y / room_y) == pytest.approx(1.0, abs=1e-6)


# Anywhere from Hawaii and Alaska to Puerto Rico: places a US directory pins.
latitudes = st.floats(min_value=17.5, max_value=71.0)
longitudes = st.floats(min_value=-170.0, max_value=-64.0)
pins = st.lists(st.tuples(latitudes, longitudes), min_size=1, max_size=25)
map_sizes = st.sampled_from([SEARCH_MAP, PROFILE_MAP, WIDE_MAP, TALL_MAP])


@settings(max_examples=300, deadline=None)
@given(places=pins, size=map_sizes)
def test_every_pin_is_inside_the_first_view(
    places: list[tuple[float, float]], size: tuple[int, int]
) -> None:
    points = [MapPoint(lat, lon, "x", "") for lat, lon in places]
    view = initial_view(points, None, None, *size)
    assert_all_shown(places, view, *size)


@settings(max_examples=200, deadline=None)
@given(
    center=st.tuples(st.floats(min_value=18.0, max_value=65.0), longitudes),
    radius_km=st.floats(min_value=1.0, max_value=400.0),
    size=map_sizes,
)
def test_the_whole_searched_area_is_inside_the_first_view(
    center: tuple[float, float], radius_km: float, size: tuple[int, int]
) -> None:
    point = GeoPoint(*center)
    view = initial_view([], point, radius_km, *size)
    assert_all_shown(maps.circle_box(point, radius_km), view, *size)


def test_points_spread_east_west_fit_a_short_wide_map_and_a_tall_narrow_one() -> None:
    # Houston to Jacksonville: the span a square fit by the larger side used to cut off.
    places = [(29.76, -95.37), (30.33, -81.66)]
    points = [MapPoint(lat, lon, "x", "") for lat, lon in places]
    for size in (WIDE_MAP, TALL_MAP, PROFILE_MAP):
        assert_all_shown(places, initial_view(points, None, None, *size), *size)
