"""Fit the linkage model's starting parameters on a large synthetic population.

The model re-estimates every parameter from the listings of each build; these only stand in
while a build has too few listings to say much (a first crawl of one small source). They are
fitted from the data alone (a uniform start) on the synthetic population of
:mod:`benchmarks.synthetic_listings`, never on the demo web::

    python -m benchmarks.fit_linkage_prior            # writes indexer/data/linkage_prior.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.synthetic_listings import synthetic_listings
from indexer.linkage import Prior
from indexer.resolve import resolve

TARGET = Path(__file__).resolve().parent.parent / "indexer" / "data" / "linkage_prior.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    listings, _ = synthetic_listings(args.people, seed=args.seed)
    model = resolve(listings, prior=Prior.uniform()).model
    doc = {
        "about": "Starting m- and u-probabilities of entity resolution, fitted by "
        f"benchmarks/fit_linkage_prior.py on {len(listings)} synthetic listings "
        f"({args.people} people, seed {args.seed}) from a uniform start.",
        "fields": Prior(model.m, model.u).to_dict(),
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
