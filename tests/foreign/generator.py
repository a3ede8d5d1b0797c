"""Generate the foreign entity-resolution population: two directory sites and their truth.

The population measures entity resolution on data its authors did not shape: massage
therapists in eight US cities, each listed one to three times on two sites (``healers``,
JSON-LD; ``bodyworkers``, microdata), written with their own styles of variation (see
:mod:`tests.foreign.population`). ``truth.json`` says which listing is which person::

    {"listings": [{"site": "healers", "path": "/p/jane-doe.html", "person": 17}, ...],
     "people": [{"person": 17, "name": "Jane Doe", "styles": ["maiden_name"], ...}, ...]}

``site`` is the catalog source name (``catalog.yaml``), ``path`` the listing URL's path and
``?query``. Run ``python -m tests.foreign.generator OUT_DIR`` to write a population by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from tests.foreign.population import STYLES, Population, build_population
from tests.foreign.render import render_sites

CATALOG = Path(__file__).parent / "catalog.yaml"


def generate(out_dir: Path, seed: int = 7, people: int = 260) -> Path:
    """Write ``out_dir/healers/``, ``out_dir/bodyworkers/`` and ``out_dir/truth.json``.

    The same seed and size give byte-identical files. Returns the truth file's path.
    """
    out_dir = Path(out_dir)
    population = build_population(seed, people)
    for site in ("healers", "bodyworkers"):
        if (out_dir / site).exists():
            shutil.rmtree(out_dir / site)
    pages = render_sites(population, out_dir, seed)
    truth = out_dir / "truth.json"
    truth.write_text(
        json.dumps(truth_data(population, pages), indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return truth


def truth_data(population: Population, pages: dict[str, list[str]]) -> dict[str, Any]:
    """The truth file's content: every listing's person, every person's styles."""
    listings = [
        {"site": x.site, "path": x.path, "person": x.person.pid} for x in population.listings()
    ]
    people = [
        {
            "person": p.pid,
            "name": p.full_name,
            "names_shown": sorted({x.name for x in p.listings}),
            "city": p.city.name,
            "state": p.city.state,
            "license": p.license,
            "npi": p.npi,
            "styles": sorted(set(p.styles)),
        }
        for p in population.people
    ]
    styles = Counter(s for p in people for s in p["styles"])
    return {
        "listings": listings,
        "people": people,
        "summary": {
            "people": len(people),
            "listings": len(listings),
            "pages": {site: len(paths) + 1 for site, paths in pages.items()},  # + the home page
            "styles": {s: styles.get(s, 0) for s in STYLES},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=260)
    args = parser.parse_args()
    truth = generate(args.out_dir, args.seed, args.people)
    print(json.dumps(json.loads(truth.read_text())["summary"], indent=1))


if __name__ == "__main__":
    main()
