"""Entity resolution at scale: candidate pairs, time and peak memory on synthetic listings.

Each size runs in its own process, so its peak resident memory is its own. Reports the
candidate pairs the blocking rules proposed (against the n(n-1)/2 of comparing all pairs),
the time to generate, to resolve and its stages, and pairwise precision, recall and F1 against
the synthetic truth::

    python -m benchmarks.resolution_scale 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from math import comb

LISTINGS_PER_PERSON = 2.14  # what synthetic_listings draws on average


def run_one(listings_wanted: int) -> dict[str, float]:
    """Resolve about ``listings_wanted`` synthetic listings; the figures of that run."""
    from benchmarks.synthetic_listings import synthetic_listings
    from indexer.resolve import resolve

    started = time.perf_counter()
    listings, truth = synthetic_listings(round(listings_wanted / LISTINGS_PER_PERSON), seed=1)
    generated = time.perf_counter()
    resolution = resolve(listings)
    resolved = time.perf_counter()
    predicted = {i: n for n, c in enumerate(resolution.clusters) for i in c.listing_ids}
    by_profile: dict[int, list[int]] = defaultdict(list)
    by_person: dict[int, list[int]] = defaultdict(list)
    for listing_id, person in truth.items():
        by_profile[predicted[listing_id]].append(person)
        by_person[person].append(predicted[listing_id])
    predicted_pairs = sum(comb(len(v), 2) for v in by_profile.values())
    true_pairs = sum(comb(len(v), 2) for v in by_person.values())
    correct = 0
    for people in by_profile.values():
        counts: dict[int, int] = defaultdict(int)
        for person in people:
            counts[person] += 1
        correct += sum(comb(c, 2) for c in counts.values())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    return {
        "listings": len(listings),
        "people": len(by_person),
        "profiles": len(resolution.clusters),
        "candidate_pairs": resolution.candidate_pairs,
        "all_pairs": comb(len(listings), 2),
        "generate_s": round(generated - started, 1),
        "resolve_s": round(resolved - generated, 1),
        "us_per_listing": round((resolved - generated) / len(listings) * 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="listings per run")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.sizes[0])))
        return
    print(
        f"{'listings':>10} {'candidate pairs':>16} {'of all pairs':>13} {'resolve s':>10} "
        f"{'µs/listing':>11} {'peak MB':>8} {'precision':>10} {'recall':>7} {'F1':>7}"
    )
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.resolution_scale", "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout)
        print(
            f"{r['listings']:>10,} {r['candidate_pairs']:>16,} "
            f"{r['candidate_pairs'] / r['all_pairs']:>13.2e} {r['resolve_s']:>10} "
            f"{r['us_per_listing']:>11} {r['peak_rss_mb']:>8,} {r['precision']:>10} "
            f"{r['recall']:>7} {r['f1']:>7}"
        )


if __name__ == "__main__":
    main()
