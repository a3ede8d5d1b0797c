"""Audit of a built index's answers against the demo web's ground truth.

The three things a client relies on, measured over a crawl of the demo web:

- **distance**: over N random searches (a point near a random office, a random radius), every
  hit's reported distance is compared with the great-circle distance from the search point to
  the nearest true office among those the therapist's crawled listings publish. An error is a
  hit reported more than ``TOLERANCE_MI`` nearer or farther than that, or inside the radius
  while every such office is outside it. Counted apart: therapists with a listing that still
  shows a former address (no index can tell an out-of-date page from a second office), and
  distances measured to a location known only by its ZIP or city centre, which the client is
  shown as approximate.
- **verified**: profiles shown as verified whose person holds no active state license at a
  board that is crawled.
- **published ratings**: sources whose published aggregate ("4.7 from 112", of which only a few
  reviews are embedded) was replaced in the profile by anything else.

Two steps, so that any version of the index can be audited with the same yardstick:
``dump`` reads the index (searches through the backend, profiles as stored) into a JSON file;
``score`` compares that file with the truth::

    python -m benchmarks.answers dump --index var/index.sqlite3 --truth WORLD --out answers.json
    python -m benchmarks.answers score --answers answers.json --truth WORLD
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
from pathlib import Path
from typing import Any

from indexer.geo import distance_km

KM_PER_MILE = 1.609344
TOLERANCE_MI = 0.5


def _queries(truth_dir: Path, count: int, seed: int) -> list[dict[str, float]]:
    """Random searches around the world's true offices: a point up to 15 km from one, and a
    radius of 2 to 25 miles."""
    offices = []
    with (truth_dir / "ground_truth.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            person = json.loads(line)
            offices += [(o["lat"], o["lon"]) for o in person.get("offices") or ()]
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        lat, lon = rng.choice(offices)
        queries.append(
            {
                "lat": round(lat + rng.uniform(-0.135, 0.135), 5),
                "lon": round(lon + rng.uniform(-0.155, 0.155), 5),
                "radius_mi": round(rng.uniform(2, 25), 1),
            }
        )
    return queries


def dump(index: Path, truth_dir: Path, out: Path, count: int, seed: int) -> None:
    """Run the searches on the index and write hits and stored profiles to ``out``."""
    from indexer.search import SearchQuery
    from indexer.search.sqlite_backend import SqliteBackend

    backend = SqliteBackend(index)
    searches = []
    for query in _queries(truth_dir, count, seed):
        result = backend.search(
            SearchQuery(
                near=(query["lat"], query["lon"]),
                radius_km=query["radius_mi"] * KM_PER_MILE,
                sort="distance",
                page_size=100,
            )
        )
        searches.append(
            {**query, "total": result.total, "hits": [[h.id, h.distance_km] for h in result.hits]}
        )
    backend.close()
    with sqlite3.connect(index) as conn:
        profiles = [json.loads(row[0]) for row in conn.execute("SELECT profile FROM profiles")]
    out.write_text(json.dumps({"searches": searches, "profiles": profiles}), encoding="utf-8")


def _shown_verified(profile: dict[str, Any]) -> bool:
    """What the index tells a client: the verification summary where the profile has one, else
    (older layouts) the badge those showed, any verified credential."""
    summary = profile.get("verification")
    if isinstance(summary, dict):
        return summary.get("license") == "verified"
    return any(c.get("status") == "verified" for c in profile.get("credentials") or ())


def _nearest_is_approximate(profile: dict[str, Any], search: dict[str, Any]) -> bool:
    """Whether the location a distance was measured to is only a ZIP or city centre (shown to
    the client as approximate)."""
    locations = [loc for loc in profile.get("locations") or () if loc.get("lat") is not None]
    if not locations:
        return False
    nearest = min(
        locations, key=lambda loc: distance_km(search["lat"], search["lon"], loc["lat"], loc["lon"])
    )
    return nearest.get("precision") != "rooftop"


def score(answers_path: Path, truth_dir: Path) -> dict[str, Any]:  # noqa: C901 - one pass over the dumped searches counting four kinds of wrong distance beside each other
    """Compare dumped answers with the ground truth; return the counts."""
    from crawler.demoweb import GroundTruth
    from indexer.evaluate import listing_key

    truth = GroundTruth(truth_dir)
    answers = json.loads(answers_path.read_text(encoding="utf-8"))
    person_of = truth.person_by_listing()
    profiles = {p["id"]: p for p in answers["profiles"]}
    people_of: dict[str, set[int]] = {}
    for pid, profile in profiles.items():
        people_of[pid] = {
            person_of[key]
            for listing in profile.get("listings") or ()
            if (key := listing_key(listing["source"], listing["url"])) in person_of
        }
    stale = {
        p["person"] for p in truth.people() if any(i.get("stale_address") for i in p["listings"])
    }
    published_offices = {
        pid: [
            listed.location
            for listing in profile.get("listings") or ()
            if listing.get("active", True)
            and listing_key(listing["source"], listing["url"]) in person_of
            for listed in truth.listed_locations(listing["source"], listing["url"])
            if listed.office is not None
        ]
        for pid, profile in profiles.items()
    }
    hits = errors = stale_errors = approximate_errors = 0
    for search in answers["searches"]:
        radius = search["radius_mi"]
        for pid, reported_km in search["hits"]:
            hits += 1
            people = people_of.get(pid) or set()
            offices = published_offices.get(pid) or []
            if not offices or reported_km is None:
                continue
            true_mi = min(
                distance_km(search["lat"], search["lon"], o.lat, o.lon) / KM_PER_MILE
                for o in offices
            )
            reported_mi = reported_km / KM_PER_MILE
            wrong = abs(reported_mi - true_mi) > TOLERANCE_MI or (true_mi > radius + TOLERANCE_MI)
            if not wrong:
                continue
            if people & stale:
                stale_errors += 1
            elif _nearest_is_approximate(profiles[pid], search):
                approximate_errors += 1
            else:
                errors += 1
    wrongly_verified = 0
    shown_verified = 0
    for pid, profile in profiles.items():
        if not profile.get("active", True) or not _shown_verified(profile):
            continue
        shown_verified += 1
        licensed = any(
            c["kind"] == "state_license" and c["status"] == "active" and c["issuer_site"]
            for person in people_of[pid]
            for c in truth.person(person)["credentials"]
        )
        wrongly_verified += not licensed
    published = replaced = 0
    for profile in profiles.values():
        by_source = (profile.get("rating") or {}).get("by_source") or {}
        for listing in profile.get("listings") or ():
            if not listing.get("active", True):
                continue
            try:
                aggregate = truth.published_aggregate(listing["source"], listing["url"])
            except KeyError:
                continue
            if aggregate is None or aggregate.all_embedded:
                continue
            published += 1
            shown = by_source.get(listing["source"]) or {}
            if (shown.get("rating"), shown.get("count")) != (aggregate.value, aggregate.count):
                replaced += 1
    return {
        "searches": len(answers["searches"]),
        "hits": hits,
        "distance_errors": errors,
        "distance_off_at_an_approximate_location": approximate_errors,
        "distance_errors_stale_listing": stale_errors,
        "profiles_shown_verified": shown_verified,
        "wrongly_verified": wrongly_verified,
        "published_aggregates": published,
        "published_aggregates_replaced": replaced,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``dump`` or ``score``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.answers", description=__doc__)
    steps = parser.add_subparsers(dest="step", required=True)
    dumping = steps.add_parser("dump")
    dumping.add_argument("--index", type=Path, required=True)
    dumping.add_argument("--truth", type=Path, required=True)
    dumping.add_argument("--out", type=Path, required=True)
    dumping.add_argument("--queries", type=int, default=1000)
    dumping.add_argument("--seed", type=int, default=7)
    scoring = steps.add_parser("score")
    scoring.add_argument("--answers", type=Path, required=True)
    scoring.add_argument("--truth", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.step == "dump":
        dump(args.index, args.truth, args.out, args.queries, args.seed)
    else:
        json.dump(score(args.answers, args.truth), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
