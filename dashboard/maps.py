"""Maps of therapists: search results around the searched place, a profile's locations.

Labels reach the map as data and are shown by deck.gl's plain-text tooltip, never as HTML. A pin
whose position is only a ZIP or city centre is drawn hollow (a pale fill inside a ring of its
colour), so no one takes it for the office's door; ``legend`` explains the pins.

Beneath the pins is a base map. By default it is drawn from data shipped with the dashboard and
nothing is fetched: the land, state and county lines (``data/us_base_map.geojson``, built from
the Census Bureau's cartographic boundaries by ``data/build_base_map.py``) and the names of the
larger cities and towns near the view (from the gazetteer, ranked by how many ZIP codes they
have). Only the geometry near the view goes to the page. ``TDIR_MAP_TILES`` switches to an
online base map instead: ``carto`` (Carto's light map, no key needed) or the URL of a
MapLibre/Mapbox GL style.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from itertools import islice
from typing import Any, NamedTuple

import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from indexer.gazetteer import gazetteer
from indexer.geo import GeoPoint

VERIFIED_COLOR = [22, 128, 61, 230]
OTHER_COLOR = [37, 99, 235, 220]
APPROXIMATE_FILL_ALPHA = 50  # a hollow pin: the ring keeps its colour, the inside is pale
EXACT_RING = [255, 255, 255, 255]
PLACE_COLOR = [17, 24, 39, 255]
RADIUS_FILL = [37, 99, 235, 28]
RADIUS_LINE = [37, 99, 235, 160]

LAND_FILL = [241, 239, 233, 255]
COUNTY_LINE = [203, 198, 189, 255]
STATE_LINE = [128, 120, 112, 255]
TOWN_DOT = [95, 95, 95, 255]
TOWN_TEXT = [75, 85, 99, 255]
TOWN_HALO = [255, 255, 255, 230]
# Quoted: a family name with a digit in it unquoted makes the whole canvas font invalid.
LABEL_FONT = '"Source Sans 3", "Source Sans Pro", Helvetica, Arial, sans-serif'

# The map column on a laptop screen is about this wide; a wider one shows more around the pins,
# never less.
MAP_WIDTH_PX = 380
PIN_MARGIN_PX = 20  # the largest pin's radius and ring, so an edge pin is drawn whole
MIN_ZOOM, MAX_ZOOM = 0.0, 14.0
TILE_PX = 512  # deck.gl's web-mercator world is 512 px wide at zoom 0
CONTIGUOUS_US = ((24.5, -124.8), (49.4, -66.9))  # what a map with nothing on it shows
COUNTY_MIN_ZOOM = 5.5  # further out, county lines are a grey smudge that costs bytes
TOWNS_IN_VIEW, TOWNS_AROUND = 30, 20  # names at most: in the first view, in the margin round it
TOWN_CANDIDATES = 400  # the largest places in the view (or the margin) tried for a name
LABEL_PX = 12  # the names' font size
LABEL_EM_PER_CHAR = 0.55  # the width of an average letter of the label font, in ems
DOT_PX, LABEL_OFFSET_PX, LABEL_GAP_PX = 2.5, 6, 3

TILES_ENV = "TDIR_MAP_TILES"
OFFLINE_WORDS = frozenset({"", "off", "offline", "none"})
CARTO_LIGHT = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"
BASE_MAP_DATA = "data/us_base_map.geojson"


@dataclass(frozen=True, slots=True)
class MapPoint:
    """One marker: where, what the tooltip says, whether the therapist's license is verified
    and whether the position is only approximate (a ZIP or city centre)."""

    lat: float
    lon: float
    name: str
    detail: str
    verified: bool = False
    approximate: bool = False


def pin_colors(point: MapPoint) -> tuple[list[int], list[int]]:
    """The fill and ring colours of a pin: solid with a white ring when exact, hollow (pale
    inside, ring of the pin's colour) when approximate."""
    base = VERIFIED_COLOR if point.verified else OTHER_COLOR
    if point.approximate:
        return [*base[:3], APPROXIMATE_FILL_ALPHA], [*base[:3], 255]
    return list(base), list(EXACT_RING)


def legend(searched_area: bool = False) -> str:
    """What the pins mean (markdown), to show under a map."""
    parts = [
        ":green[●] license verified",
        ":blue[●] license not verified",
        "○ hollow: approximate position (ZIP or city centre only)",
    ]
    if searched_area:
        parts.append(":gray[◌] searched area")
    return " · ".join(parts)


def _row(point: MapPoint) -> dict[str, object]:
    fill, ring = pin_colors(point)
    return {**asdict(point), "color": fill, "ring": ring}


# --- Where the map looks ---------------------------------------------------------------------


def mercator_x(lon: float) -> float:
    """A longitude as a fraction of the web-mercator world's width, from the west."""
    return (lon + 180.0) / 360.0


def mercator_y(lat: float) -> float:
    """A latitude as a fraction of the web-mercator world's height, from the north."""
    phi = math.radians(max(-85.05, min(85.05, lat)))
    return (1.0 - math.log(math.tan(math.pi / 4 + phi / 2)) / math.pi) / 2.0


def latitude_of(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))


@dataclass(frozen=True, slots=True)
class Bounds:
    """A longitude/latitude box (never across the antimeridian)."""

    west: float
    south: float
    east: float
    north: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def intersects(self, box: Sequence[float]) -> bool:
        """Whether a GeoJSON bbox (west, south, east, north) overlaps this box."""
        west, south, east, north = box
        return (
            west <= self.east and east >= self.west and south <= self.north and north >= self.south
        )

    def grown(self, times: float) -> Bounds:
        """This box with ``times`` its own width and height added on every side."""
        dx, dy = (self.east - self.west) * times, (self.north - self.south) * times
        return Bounds(self.west - dx, self.south - dy, self.east + dx, self.north + dy)


def view_bounds(view: pdk.ViewState, width_px: float, height_px: float) -> Bounds:
    """What a map of this size shows at this view, as deck.gl's web-mercator viewport does."""
    world = TILE_PX * 2.0**view.zoom
    x, y = mercator_x(view.longitude), mercator_y(view.latitude)
    half_w, half_h = width_px / 2 / world, height_px / 2 / world
    return Bounds(
        west=(x - half_w) * 360.0 - 180.0,
        south=latitude_of(y + half_h),
        east=(x + half_w) * 360.0 - 180.0,
        north=latitude_of(y - half_h),
    )


def fit_view(
    places: Iterable[tuple[float, float]],
    width_px: float = MAP_WIDTH_PX,
    height_px: float = 460,
    margin_px: float = PIN_MARGIN_PX,
) -> pdk.ViewState:
    """The view that shows every (lat, lon) on a map of this size, ``margin_px`` in from its
    edges: the closest zoom at which both the east-west and the north-south spans fit."""
    xs, ys = [], []
    for lat, lon in places:
        xs.append(mercator_x(lon))
        ys.append(mercator_y(lat))
    if not xs:
        return fit_view(CONTIGUOUS_US, width_px, height_px, margin_px)
    room_w, room_h = max(width_px - 2 * margin_px, 1.0), max(height_px - 2 * margin_px, 1.0)
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    zooms = [MAX_ZOOM]
    if span_x > 0:
        zooms.append(math.log2(room_w / (span_x * TILE_PX)))
    if span_y > 0:
        zooms.append(math.log2(room_h / (span_y * TILE_PX)))
    zoom = max(MIN_ZOOM, min(zooms))
    middle_x, middle_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    return pdk.ViewState(
        latitude=latitude_of(middle_y), longitude=middle_x * 360.0 - 180.0, zoom=zoom
    )


def circle_box(center: GeoPoint, radius_km: float) -> list[tuple[float, float]]:
    """The four extreme points of a circle on the ground: north, south, east and west."""
    dlat = radius_km / 111.32
    dlon = radius_km / (111.32 * max(math.cos(math.radians(center.lat)), 0.01))
    return [
        (center.lat + dlat, center.lon),
        (center.lat - dlat, center.lon),
        (center.lat, center.lon + dlon),
        (center.lat, center.lon - dlon),
    ]


def initial_view(
    points: list[MapPoint],
    center: GeoPoint | None,
    radius_km: float | None,
    width_px: float = MAP_WIDTH_PX,
    height_px: float = 460,
) -> pdk.ViewState:
    """The searched area (or 25 km round the searched place) and every pin, in full."""
    places = [(p.lat, p.lon) for p in points]
    if center is not None and radius_km:
        places += circle_box(center, radius_km)
    elif center is not None:
        # No radius: the place and the pins, or the place's surroundings when there are none.
        places += circle_box(center, 0.5 if points else 25.0)
    return fit_view(places, width_px, height_px)


# --- The offline base map ---------------------------------------------------------------------


@cache
def base_features() -> tuple[dict[str, Any], ...]:
    """The shipped outlines: ``state`` polygons, ``state-line`` and ``county-line`` lines."""
    text = resources.files("dashboard").joinpath(BASE_MAP_DATA).read_text("utf-8")
    return tuple(json.loads(text)["features"])


class Town(NamedTuple):
    """A city or town to name on the map; ``size`` ranks it: (population, ZIP codes)."""

    name: str
    state: str
    lat: float
    lon: float
    size: tuple[int, int]


@cache
def _towns() -> tuple[Town, ...]:
    """Every city under its primary name, the most populous first."""
    boxes = {
        f["properties"]["code"]: f["bbox"]
        for f in base_features()
        if f["properties"]["kind"] == "state"
    }
    towns = []
    for city in gazetteer().cities():
        # As in the outlines, the Aleutians east of the antimeridian lie west of -180.
        lon = city.lon - 360 if city.state == "AK" and city.lon > 0 else city.lon
        box = boxes.get(city.state)
        # A few cities of the ZIP table average in a ZIP placed at sea or at 0,0: leave out any
        # that falls outside its own state.
        if box is not None and box[0] <= lon <= box[2] and box[1] <= city.lat <= box[3]:
            towns.append(
                Town(city.name, city.state, city.lat, lon, (city.population, city.zip_count))
            )
    return tuple(sorted(towns, key=lambda t: (-t.size[0], -t.size[1], t.state, t.name)))


@dataclass(frozen=True, slots=True)
class Frame:
    """A map's first view and its size in pixels: where a place lands on the screen."""

    view: pdk.ViewState
    width_px: float
    height_px: float

    @property
    def bounds(self) -> Bounds:
        return view_bounds(self.view, self.width_px, self.height_px)

    def pixel(self, lat: float, lon: float) -> tuple[float, float]:
        """Pixels from the map's top-left corner (outside 0..width, 0..height when off it)."""
        world = TILE_PX * 2.0**self.view.zoom
        x = (mercator_x(lon) - mercator_x(self.view.longitude)) * world + self.width_px / 2
        y = (mercator_y(lat) - mercator_y(self.view.latitude)) * world + self.height_px / 2
        return x, y


Box = tuple[float, float, float, float]


def label_box(frame: Frame, town: Town) -> Box:
    """Where a town's dot and name are drawn, in pixels (left, top, right, bottom)."""
    x, y = frame.pixel(town.lat, town.lon)
    half = LABEL_PX * 0.7
    width = LABEL_OFFSET_PX + LABEL_PX * LABEL_EM_PER_CHAR * len(town.name)
    return (x - DOT_PX - LABEL_GAP_PX, y - half, x + width + LABEL_GAP_PX, y + half)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def town_labels(frame: Frame) -> list[Town]:
    """The towns to name: those in the first view, then those in the margin round it, each
    group the most populous places first, each only where its name clears every name
    already kept; at most TOWNS_IN_VIEW and TOWNS_AROUND. (deck.gl's TextLayer draws every
    label it is given, overlaps and all.)"""
    view = frame.bounds
    around = view.grown(1.0)
    kept: list[Town] = []
    boxes: list[Box] = []
    for wanted, limit in (
        (lambda t: view.contains(t.lat, t.lon), TOWNS_IN_VIEW),
        (lambda t: around.contains(t.lat, t.lon) and not view.contains(t.lat, t.lon), TOWNS_AROUND),
    ):
        candidates = (town for town in _towns() if wanted(town))
        named = 0
        for town in islice(candidates, TOWN_CANDIDATES):
            box = label_box(frame, town)
            if not any(_overlaps(box, other) for other in boxes):
                kept.append(town)
                boxes.append(box)
                named += 1
                if named == limit:
                    break
    return kept


def _thinned_line(line: list[list[float]], tolerance: float) -> list[list[float]]:
    """The line without the points that stray less than ``tolerance`` degrees from the
    straight way between their neighbours kept (Douglas-Peucker)."""
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    spans = [(0, len(line) - 1)]
    while spans:
        first, last = spans.pop()
        (x1, y1), (x2, y2) = line[first], line[last]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        farthest, distance = first, tolerance
        for i in range(first + 1, last):
            x, y = line[i]
            d = (
                abs(dy * (x - x1) - dx * (y - y1)) / length
                if length
                else math.hypot(x - x1, y - y1)
            )
            if d > distance:
                farthest, distance = i, d
        if farthest != first:
            keep[farthest] = True
            spans += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(line, keep, strict=True) if kept]


def _thinned_geometry(geometry: dict[str, Any], step: float) -> dict[str, Any]:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        polygons = [[_thinned_line(r, step) for r in polygon] for polygon in coordinates]
        # A ring thinned below a triangle is less than a pixel across; without its outer ring
        # a polygon's holes would become land.
        thinned: list[Any] = [[r for r in p if len(r) >= 4] for p in polygons if len(p[0]) >= 4]
    else:
        thinned = [t for t in (_thinned_line(line, step) for line in coordinates) if len(t) >= 2]
    return {"type": geometry["type"], "coordinates": thinned}


@cache
def _sent(index: int, zoom_level: int) -> dict[str, Any]:
    """A feature as the page gets it at this (whole) zoom: without the bbox, which only serves
    to choose features here, and at wide zooms without detail finer than half a pixel."""
    feature = base_features()[index]
    sent = {key: value for key, value in feature.items() if key != "bbox"}
    half_pixel = 360.0 / (TILE_PX * 2.0**zoom_level) / 2
    if half_pixel > 0.002:
        sent["geometry"] = _thinned_geometry(feature["geometry"], half_pixel)
    return sent


def base_geometry(view: Bounds, zoom: float) -> dict[str, list[dict[str, Any]]]:
    """The outlines near the view: whole states that reach into the view or its margin (one
    view's width and height on each side), their state lines, and county lines in that margin
    when the view is close enough in for them to read."""
    around = view.grown(1.0)
    features = list(enumerate(base_features()))
    states = [
        (i, f)
        for i, f in features
        if f["properties"]["kind"] == "state" and around.intersects(f["bbox"])
    ]
    codes = {f["properties"]["code"] for _, f in states}
    state_lines = [
        (i, f)
        for i, f in features
        if f["properties"]["kind"] == "state-line"
        and codes.intersection(f["properties"]["states"].split("|"))
    ]
    county_lines = []
    if zoom >= COUNTY_MIN_ZOOM:
        county_lines = [
            (i, f)
            for i, f in features
            if f["properties"]["kind"] == "county-line"
            and f["properties"]["state"] in codes
            and around.intersects(f["bbox"])
        ]
    level = max(0, math.floor(zoom))

    def sent(chosen: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
        # A feature thinned to nothing (an island less than a pixel across) is left out.
        thinned = (_sent(i, level) for i, _ in chosen)
        return [f for f in thinned if f["geometry"]["coordinates"]]

    return {
        "states": sent(states),
        "state_lines": sent(state_lines),
        "county_lines": sent(county_lines),
    }


def _outline_layer(
    layer_id: str, features: list[dict[str, Any]], color: list[int], px: float
) -> pdk.Layer:
    return pdk.Layer(
        "GeoJsonLayer",
        id=layer_id,
        data=features,
        stroked=True,
        filled=False,
        get_line_color=color,
        get_line_width=px,
        line_width_units="'pixels'",
        pickable=False,
    )


def base_layers(frame: Frame) -> list[pdk.Layer]:
    """Land, county lines, state lines, then the towns' dots and names."""
    geometry = base_geometry(frame.bounds, frame.view.zoom)
    towns = [
        {"name": t.name, "lat": round(t.lat, 4), "lon": round(t.lon, 4)} for t in town_labels(frame)
    ]
    return [
        pdk.Layer(
            "GeoJsonLayer",
            id="base-land",
            data=geometry["states"],
            stroked=False,
            filled=True,
            get_fill_color=LAND_FILL,
            pickable=False,
        ),
        _outline_layer("base-counties", geometry["county_lines"], COUNTY_LINE, 0.8),
        _outline_layer("base-states", geometry["state_lines"], STATE_LINE, 1.4),
        pdk.Layer(
            "ScatterplotLayer",
            id="base-town-dots",
            data=towns,
            get_position="[lon, lat]",
            get_fill_color=TOWN_DOT,
            get_radius=1,
            radius_min_pixels=DOT_PX,
            radius_max_pixels=DOT_PX,
            pickable=False,
        ),
        pdk.Layer(
            "TextLayer",
            id="base-town-names",
            data=towns,
            get_position="[lon, lat]",
            get_text="name",
            get_size=LABEL_PX,
            size_units="'pixels'",
            get_color=TOWN_TEXT,
            get_text_anchor="'start'",
            get_alignment_baseline="'center'",
            get_pixel_offset=[LABEL_OFFSET_PX, 0],
            font_family=f"'{LABEL_FONT}'",
            character_set="'auto'",
            font_weight=600,  # thinner strokes break up when a signed-distance font is small
            font_settings={"sdf": True},  # for the halo, which keeps names legible over lines
            outline_width=3,
            outline_color=TOWN_HALO,
            pickable=False,
        ),
    ]


# --- Online base maps ------------------------------------------------------------------------


def tile_style(env: Mapping[str, str] | None = None) -> str | None:
    """The online map style ``TDIR_MAP_TILES`` asks for, or None for the offline base map."""
    raw = (os.environ if env is None else env).get(TILES_ENV, "").strip()
    if raw.lower() in OFFLINE_WORDS:
        return None
    if raw.lower() == "carto":
        return CARTO_LIGHT
    if raw.startswith(("https://", "http://")):
        return raw
    raise ValueError(
        f"{TILES_ENV}={raw!r}: use 'off' (the default), 'carto', or the http(s) URL of a "
        "MapLibre/Mapbox GL style"
    )


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck's two spaces a level more than double the
    size of outlines, which are long lists of coordinate pairs."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


# --- The map ---------------------------------------------------------------------------------


def therapist_map(
    points: list[MapPoint],
    center: GeoPoint | None = None,
    radius_km: float | None = None,
    height: int = 460,
    width: int = MAP_WIDTH_PX,
) -> pdk.Deck:
    """A map of the markers, with the searched place and its radius if there is one, over the
    base map; every marker and the whole searched area fit a map of this size."""
    view = initial_view(points, center, radius_km, width, height)
    style = tile_style()
    tiles: dict[str, str | None]
    if style is None:
        # No map provider and pydeck's "no style": Streamlit then draws no tiles at all. (With
        # no style but a provider it would fetch Carto's for its theme.)
        base, tiles = base_layers(Frame(view, width, height)), {"map_provider": None}
    else:
        provider = "carto" if "cartocdn.com" in style else "maplibre"
        base, tiles = [], {"map_provider": provider, "map_style": style}
    return CompactDeck(
        layers=[*base, *_pin_layers(points, center, radius_km)],
        initial_view_state=view,
        tooltip={"text": "{name}\n{detail}"},
        height=height,
        **tiles,
    )


def _pin_layers(
    points: list[MapPoint], center: GeoPoint | None, radius_km: float | None
) -> list[pdk.Layer]:
    layers: list[pdk.Layer] = []
    if center is not None and radius_km:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="searched-area",
                data=[{"lat": center.lat, "lon": center.lon}],
                get_position="[lon, lat]",
                get_radius=radius_km * 1000,
                get_fill_color=RADIUS_FILL,
                get_line_color=RADIUS_LINE,
                stroked=True,
                line_width_min_pixels=2,
                pickable=False,
            )
        )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="therapists",
            data=[_row(p) for p in points],
            get_position="[lon, lat]",
            get_fill_color="color",
            get_line_color="ring",
            stroked=True,
            line_width_min_pixels=2,
            get_radius=80,
            radius_min_pixels=6,
            radius_max_pixels=14,
            pickable=True,
        )
    )
    if center is not None:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="searched-place",
                data=[{"lat": center.lat, "lon": center.lon}],
                get_position="[lon, lat]",
                get_fill_color=PLACE_COLOR,
                get_radius=40,
                radius_min_pixels=4,
                pickable=False,
            )
        )
    return layers
