"""Maps of therapists: search results around the searched place, a profile's locations.

Labels reach the map as data and are shown by deck.gl's plain-text tooltip, never as HTML. A pin
whose position is only a ZIP or city centre is drawn hollow (a pale fill inside a ring of its
colour), so no one takes it for the office's door; ``legend`` explains the pins.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pydeck as pdk

from indexer.geo import GeoPoint

VERIFIED_COLOR = [22, 128, 61, 230]
OTHER_COLOR = [37, 99, 235, 220]
APPROXIMATE_FILL_ALPHA = 50  # a hollow pin: the ring keeps its colour, the inside is pale
EXACT_RING = [255, 255, 255, 255]
PLACE_COLOR = [17, 24, 39, 255]
RADIUS_FILL = [37, 99, 235, 28]
RADIUS_LINE = [37, 99, 235, 160]
_MAP_WIDTH_PX = 380  # roughly the map column on a laptop screen


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


def zoom_for_radius(center: GeoPoint, radius_km: float) -> float:
    """The web-map zoom at which a circle of this radius about fills the map's width."""
    # deck.gl zoom levels are for 512-pixel tiles: 78 km per pixel at zoom 0 on the equator.
    metres_per_pixel_at_zero = 78_271.52 * math.cos(math.radians(center.lat))
    across_m = max(radius_km, 0.5) * 1000 * 2.3
    zoom = math.log2(metres_per_pixel_at_zero * _MAP_WIDTH_PX / across_m)
    return max(2.0, min(15.0, zoom))


def therapist_map(
    points: list[MapPoint],
    center: GeoPoint | None = None,
    radius_km: float | None = None,
    height: int = 460,
) -> pdk.Deck:
    """A map of the markers, centred on the searched place (with its radius) if there is one."""
    rows = [_row(p) for p in points]
    layers: list[pdk.Layer] = []
    if center is not None and radius_km:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
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
            data=rows,
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
                data=[{"lat": center.lat, "lon": center.lon}],
                get_position="[lon, lat]",
                get_fill_color=PLACE_COLOR,
                get_radius=40,
                radius_min_pixels=4,
                pickable=False,
            )
        )
    return pdk.Deck(
        layers=layers,
        initial_view_state=_view(points, center, radius_km),
        tooltip={"text": "{name}\n{detail}"},
        height=height,
    )


def _view(
    points: list[MapPoint], center: GeoPoint | None, radius_km: float | None
) -> pdk.ViewState:
    if center is not None:
        zoom = zoom_for_radius(center, radius_km or 25.0)
        return pdk.ViewState(latitude=center.lat, longitude=center.lon, zoom=zoom)
    if not points:
        # The contiguous United States.
        return pdk.ViewState(latitude=39.5, longitude=-98.35, zoom=3)
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    middle = GeoPoint((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)
    span_km = max(
        (max(lats) - min(lats)) * 111.0,
        (max(lons) - min(lons)) * 111.0 * math.cos(math.radians(middle.lat)),
        1.0,
    )
    return pdk.ViewState(
        latitude=middle.lat, longitude=middle.lon, zoom=zoom_for_radius(middle, span_km / 2)
    )
