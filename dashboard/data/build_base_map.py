"""Build ``us_base_map.geojson``, the offline base map, from the ``us-atlas`` npm package.

    python dashboard/data/build_base_map.py                      # runs `npm pack us-atlas@3.0.1`
    python dashboard/data/build_base_map.py --tarball us-atlas-3.0.1.tgz

Reads ``counties-10m.json`` (TopoJSON of the Census Bureau's 2017 cartographic boundary files,
states and counties in one topology) and writes one GeoJSON FeatureCollection of three kinds
of feature, each with its ``bbox`` so the dashboard can pick the ones near a map's view:

- ``state``: a state's (Multi)Polygon, for the land fill; ``code`` (USPS), ``name``.
- ``state-line``: a state's edges (borders and shores) in one 1° square, each edge once even
  where two states share it (a MultiLineString); ``states`` it bounds ("NM|TX", or one code).
- ``county-line``: the lines between counties of one state in one 1° square
  (a MultiLineString); ``state``.

Coordinates are rounded to 0.001° (about 100 m), finer than the 1:10,000,000 generalisation of
the source. Alaska's Aleutian islands east of the antimeridian are moved to longitudes below
-180 so that Alaska is one compact shape. The package's tarball is checked against the
integrity hash the npm registry publishes for this version.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PACKAGE = "us-atlas"
VERSION = "3.0.1"
INTEGRITY = (  # as the npm registry publishes it (dist.integrity)
    "sha512-wEIZCq0ImPvGblTd8gZMqNNCPkQshugMUG/8nkSWXb02+"
    "XqNFREg9atHOKP9w6prLZTpqcLhSvdBW81MkV3/0Q=="
)
MEMBER = "package/counties-10m.json"
OUTPUT = Path(__file__).with_name("us_base_map.geojson")
DIGITS = 3
ALASKA = "02"
CELL = 1.0  # degrees: lines are grouped in squares this size, so a view picks a few

# FIPS state codes -> USPS codes (states, DC and the territories us-atlas includes).
FIPS_TO_USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}  # fmt: skip

Point = list[float]
Line = list[Point]


def fetch_tarball(directory: Path) -> Path:
    """``npm pack`` the pinned version into ``directory``; the tarball's path."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(directory)],
        check=True,
        capture_output=True,
    )
    return directory / f"{PACKAGE}-{VERSION}.tgz"


def check_integrity(tarball: Path) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise SystemExit(f"{tarball} is not {PACKAGE}@{VERSION} ({INTEGRITY})")


def read_topology(tarball: Path) -> dict[str, Any]:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{tarball} has no {MEMBER}")
        return json.load(member)


def decode_arcs(topology: dict[str, Any]) -> list[Line]:
    """The topology's arcs in longitude and latitude (they are quantised and delta-encoded)."""
    (scale_x, scale_y), (shift_x, shift_y) = (
        topology["transform"]["scale"],
        topology["transform"]["translate"],
    )
    arcs: list[Line] = []
    for encoded in topology["arcs"]:
        x = y = 0
        line: Line = []
        for dx, dy in encoded:
            x, y = x + dx, y + dy
            line.append([x * scale_x + shift_x, y * scale_y + shift_y])
        arcs.append(line)
    return arcs


def arc_indices(geometry: dict[str, Any]) -> Iterator[int]:
    """Every arc a Polygon or MultiPolygon uses, as an index into the arcs (not reversed)."""
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    for polygon in polygons:
        for ring in polygon:
            for index in ring:
                yield index if index >= 0 else ~index


def ring(arcs: list[Line], indices: Iterable[int]) -> Line:
    """A closed ring: the arcs joined end to start (a negative index is an arc reversed)."""
    points: Line = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    if points[0] != points[-1]:
        # One of Illinois's rings ends a quantum short of its start in the source.
        points.append(points[0])
    return points


def shift_east_of_antimeridian(line: Line) -> Line:
    return [[lon - 360 if lon > 0 else lon, lat] for lon, lat in line]


def rounded(line: Line) -> Line:
    """Rounded coordinates, without the repeats rounding makes."""
    out: Line = []
    for lon, lat in line:
        point = [round(lon, DIGITS), round(lat, DIGITS)]
        if not out or point != out[-1]:
            out.append(point)
    return out


def bbox(lines: Iterable[Line]) -> list[float]:
    lines = list(lines)
    lons = [p[0] for line in lines for p in line]
    lats = [p[1] for line in lines for p in line]
    return [min(lons), min(lats), max(lons), max(lats)]


def state_feature(arcs: list[Line], geometry: dict[str, Any]) -> dict[str, Any]:
    polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    coordinates = [[rounded(ring(arcs, r)) for r in polygon] for polygon in polygons]
    # A ring that rounding shrank below a triangle is a speck of an island: drop it.
    coordinates = [[r for r in polygon if len(r) >= 4] for polygon in coordinates]
    coordinates = [polygon for polygon in coordinates if polygon]
    fips = geometry["id"]
    return {
        "type": "Feature",
        "id": fips,
        "bbox": bbox(r for polygon in coordinates for r in polygon),
        "properties": {
            "kind": "state",
            "code": FIPS_TO_USPS[fips],
            "name": geometry["properties"]["name"],
        },
        "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
    }


def stitched(lines: Iterable[Line]) -> list[Line]:
    """The lines with each one that starts where an earlier one ends joined onto it."""
    merged: list[Line] = []
    ending_at: dict[tuple[float, float], int] = {}
    for line in lines:
        at = ending_at.pop((line[0][0], line[0][1]), None)
        if at is None:
            merged.append(list(line))
            at = len(merged) - 1
        else:
            merged[at].extend(line[1:])
        ending_at[(merged[at][-1][0], merged[at][-1][1])] = at
    return merged


def cell(line: Line) -> tuple[int, int]:
    """The grid square (CELL degrees a side) that holds the middle point of a line."""
    lon, lat = line[len(line) // 2]
    return math.floor(lon / CELL), math.floor(lat / CELL)


def line_features(lines: dict[tuple[Any, ...], list[Line]], kind: str, key: str) -> list[dict]:
    """A MultiLineString for each group of lines; groups are keyed by (``key``'s value, cell)."""
    features = []
    for (value, _), group in sorted(lines.items()):
        parts = stitched(group)
        features.append(
            {
                "type": "Feature",
                "bbox": bbox(parts),
                "properties": {"kind": kind, key: value},
                "geometry": {"type": "MultiLineString", "coordinates": parts},
            }
        )
    return features


def owners(geometries: list[dict[str, Any]], key: Any) -> dict[int, list[str]]:
    """Arc index -> the keys of the geometries that use it, in order."""
    found: dict[int, list[str]] = {}
    for geometry in geometries:
        for index in arc_indices(geometry):
            found.setdefault(index, []).append(key(geometry))
    return found


def build(topology: dict[str, Any]) -> dict[str, Any]:
    arcs = decode_arcs(topology)
    states = topology["objects"]["states"]["geometries"]
    counties = topology["objects"]["counties"]["geometries"]
    state_arcs = owners(states, lambda g: g["id"])
    county_arcs = owners(counties, lambda g: g["id"][:2])
    for index, fips in {**state_arcs, **county_arcs}.items():
        if ALASKA in fips:
            arcs[index] = shift_east_of_antimeridian(arcs[index])
    features = [state_feature(arcs, g) for g in sorted(states, key=lambda g: g["id"])]
    borders: dict[tuple[Any, ...], list[Line]] = {}
    for index, fips in sorted(state_arcs.items()):
        line = rounded(arcs[index])
        if len(line) >= 2:
            codes = "|".join(sorted({FIPS_TO_USPS[f] for f in fips}))
            borders.setdefault((codes, cell(line)), []).append(line)
    inner: dict[tuple[Any, ...], list[Line]] = {}
    for index, fips in sorted(county_arcs.items()):
        line = rounded(arcs[index])
        if index not in state_arcs and len(line) >= 2:
            inner.setdefault((FIPS_TO_USPS[fips[0]], cell(line)), []).append(line)
    features += line_features(borders, "state-line", "states")
    features += line_features(inner, "county-line", "state")
    return {"type": "FeatureCollection", "features": features}


def write(collection: dict[str, Any], path: Path) -> None:
    # One feature a line: compact, yet a diff shows which features changed.
    lines = [json.dumps(f, separators=(",", ":")) for f in collection["features"]]
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help=f"{PACKAGE}-{VERSION}.tgz (else npm pack)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tarball = args.tarball or fetch_tarball(Path(scratch))
        check_integrity(tarball)
        collection = build(read_topology(tarball))
    write(collection, args.output)
    kinds: dict[str, int] = {}
    for feature in collection["features"]:
        kinds[feature["properties"]["kind"]] = kinds.get(feature["properties"]["kind"], 0) + 1
    print(f"{args.output}: {args.output.stat().st_size:,} bytes; {kinds}")


if __name__ == "__main__":
    main()
