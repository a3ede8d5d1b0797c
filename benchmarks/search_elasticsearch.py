"""Benchmark: Elasticsearch backend search latency, beside the same searches as raw JSON.

It writes N synthetic profiles (``benchmarks.search_latency.Population``, the embedded
benchmark's) through ``ElasticsearchBackend.rebuild`` into an alias, then runs the embedded
benchmark's seeded mix of searches near metros (``benchmarks.search_latency.query_mix``)
through ``ElasticsearchBackend.search``, and beside it a **raw baseline**: each search written by
hand as an Elasticsearch request body (a ``bool`` query of ``term``, ``range`` and
``geo_distance`` filters; ``multi_match`` for the text; the best-match blend as a
``function_score`` of a ``gauss`` decay and the rating, as the Elasticsearch guide documents it:
https://www.elastic.co/guide/en/elasticsearch/reference/current/query-dsl-function-score-query.html;
``terms`` aggregations for the facets; page 2 by ``from``), sent with the low-level client's
``search`` and read as the JSON it returns, with no profile made of it. Every search's hits,
total and facet counts are checked equal on both sides before anything is timed; then the two
alternate search by search. It prints p50 / p95 per kind of search and overall, and the ratio
backend / raw::

    .venv/bin/python -m benchmarks.search_elasticsearch --profiles 100000

What the ratio measures is what tdir adds around the cluster's own work: building the query,
reading the hits into ``Profile`` objects, the cursor. Elasticsearch: ``TDIR_ES_URL`` if set
(an index written there before, of the same size and layout, is reused), else a node
provisioned as the tests do. ``run(quick)`` is the benchmark suite's stage (``python -m
benchmarks all``): 100,000 profiles, 6 searches of each kind, 7 repeats; or 5,000 profiles, 2 of
each kind, 5 repeats with ``quick``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Any

from elasticsearch import Elasticsearch

from benchmarks.index_throughput import elasticsearch_url
from benchmarks.search_latency import (
    FULL,
    GENERATOR_VERSION,
    QUICK,
    Answer,
    Case,
    Population,
    SearchFigures,
    print_table,
    query_mix,
    search_figures,
    with_cursor,
)
from benchmarks.suite import StageResult, print_results
from indexer.search.document import LAYOUT_VERSION
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.query import (
    BEST_MATCH_DECAY,
    BEST_MATCH_HALF_WEIGHT_KM,
    BEST_MATCH_RATING_FACTOR,
    BEST_MATCH_UNRATED,
)
from indexer.taxonomy import Taxonomy, load_taxonomy

# Facet -> the indexed field its counts come from.
FACET_FIELDS = {
    "modality": "modalities",
    "condition": "conditions",
    "credential": "credentials",
    "state": "states",
    "verified": "license_verified",
}
TEXT_FIELDS = ["name^3", "practice_name^2", "body"]


def alias_for(profiles: int) -> str:
    """The benchmark's alias, named by size, generator version and document layout."""
    return f"tdir-bench-search-{profiles}-g{GENERATOR_VERSION}-l{LAYOUT_VERSION}"


def build_index(
    client: Elasticsearch, profiles: int, seed: int, taxonomy: Taxonomy
) -> tuple[str, bool]:
    """The alias of an index of ``profiles`` synthetic profiles, written through the backend
    (or reused where a finished one of this size and layout is there), and whether it was
    written here."""
    backend = ElasticsearchBackend(client, alias_for(profiles), taxonomy=taxonomy)
    if backend.count() == profiles and not backend.outdated():
        print(f"reusing {backend.alias} ({profiles} profiles)")
        return backend.alias, False
    started = time.perf_counter()
    written = backend.rebuild(Population(taxonomy, seed).profiles(profiles))
    print(f"built {backend.alias} ({written} profiles) in {time.perf_counter() - started:.0f}s")
    return backend.alias, True


class RawSearch:
    """The same searches as request bodies written by hand, sent as they are, the response
    read as JSON."""

    def __init__(self, client: Elasticsearch, alias: str) -> None:
        self.client = client
        self.alias = alias

    def body(self, case: Case) -> dict[str, Any]:
        """The request body of one search."""
        query = case.query
        point = query.point
        assert point is not None and query.radius_km is not None
        origin = {"lat": point.lat, "lon": point.lon}
        filters: list[dict[str, Any]] = [
            {"term": {"active": True}},
            {
                "geo_distance": {
                    "distance": f"{query.radius_km}km",
                    "distance_type": "arc",
                    "location": origin,
                }
            },
        ]
        credential_field = "verified_credentials" if query.verified_only else "credentials"
        filters += [{"term": {"modalities": m}} for m in query.modalities]
        filters += [{"term": {"conditions": c}} for c in query.conditions]
        filters += [{"term": {credential_field: c}} for c in query.credentials]
        if case.text_facet:  # the taxonomy term the text names
            field = {"condition": "conditions", "modality": "modalities"}[case.text_facet[0]]
            filters.append({"term": {field: case.text_facet[1]}})
        if query.verified_only:
            filters.append({"term": {"license_verified": True}})
        if query.min_rating is not None:
            filters.append({"range": {"rating": {"gte": query.min_rating}}})
        matching: dict[str, Any] = {"filter": filters}
        if case.text_filter:  # a word every hit must have
            matching["must"] = [_words(query.text, "and")]
        elif case.text_score:  # words that only score
            matching["should"] = [_words(query.text, "or")]
            matching["minimum_should_match"] = 0
        by_id = {"id": {"order": "asc"}}
        rating, reviews = {"rating_sort": {"order": "desc"}}, {"review_count": {"order": "desc"}}
        best_first = {"_score": {"order": "desc"}}
        sort: list[dict[str, Any]]
        scored: dict[str, Any] = {"bool": matching}
        if str(query.sort) == "relevance" and case.text_score:
            sort = [best_first, by_id]
        elif str(query.sort) == "relevance":
            scored = _best_match(scored, origin)
            sort = [best_first, rating, reviews, by_id]
        elif str(query.sort) == "distance":
            nearest = {"location": origin, "order": "asc", "mode": "min", "distance_type": "arc"}
            sort = [{"_geo_distance": nearest}, by_id]
        elif str(query.sort) == "reviews":
            sort = [reviews, rating, by_id]
        else:
            sort = [rating, reviews, by_id]
        return {
            "query": scored,
            "sort": sort,
            "from": case.offset,
            "size": query.page_size,
            "track_total_hits": True,
            "aggs": {
                name: {"terms": {"field": f, "size": 200}} for name, f in FACET_FIELDS.items()
            },
            "_source": ["profile"],
        }

    def search(self, case: Case) -> Answer:
        found = self.client.search(index=self.alias, **self.body(case))
        aggregations = found["aggregations"]
        facets = {
            name: {
                str(b.get("key_as_string", b["key"])): b["doc_count"]
                for b in aggregations[name]["buckets"]
            }
            for name in FACET_FIELDS
        }
        hits = found["hits"]
        return Answer([hit["_id"] for hit in hits["hits"]], hits["total"]["value"], facets)


def _words(text: str | None, operator: str) -> dict[str, Any]:
    """The text over the name, practice name and body, as one field (``cross_fields``)."""
    return {
        "multi_match": {
            "query": (text or "").lower(),
            "fields": TEXT_FIELDS,
            "type": "cross_fields",
            "operator": operator,
        }
    }


def _best_match(query: dict[str, Any], origin: dict[str, float]) -> dict[str, Any]:
    """Rank by the rating times a gaussian decay of the nearest location's distance."""
    located = {"exists": {"field": "location"}}
    decay = {
        "location": {
            "origin": origin,
            "scale": f"{BEST_MATCH_HALF_WEIGHT_KM}km",
            "decay": BEST_MATCH_DECAY,
        },
        "multi_value_mode": "min",
    }
    rating = {"field": "rating", "factor": BEST_MATCH_RATING_FACTOR, "missing": BEST_MATCH_UNRATED}
    return {
        "function_score": {
            "query": query,
            "functions": [
                {"filter": located, "gauss": decay},
                {"filter": {"bool": {"must_not": [located]}}, "weight": 0},
                {"field_value_factor": rating},
            ],
            "score_mode": "multiply",
            "boost_mode": "replace",
        }
    }


def measure(url: str, profiles: int, instances: int, repeats: int, seed: int) -> SearchFigures:
    """Write (or reuse) the index; the backend's searches beside the raw request bodies."""
    taxonomy = load_taxonomy()
    client = Elasticsearch(url, request_timeout=300)
    try:
        alias, written = build_index(client, profiles, seed, taxonomy)
        backend = ElasticsearchBackend(client, alias, taxonomy=taxonomy)
        cases = [with_cursor(backend, c) for c in query_mix(seed, instances, taxonomy)]
        return search_figures(
            "search es",
            backend,
            RawSearch(client, alias).search,
            cases,
            repeats,
            seed,
            f"{profiles:,} profiles",
            notes="wall time per search near a metro, one client, one single-shard node on this "
            "machine; baseline: the same searches as hand-written request bodies, the response "
            "read as JSON (checked equal: hits, totals, facet counts); peak RSS: the "
            "benchmark's process (both sides"
            + (", and the index's write" if written else "")
            + "; the Elasticsearch node's JVM not counted)",
        )
    finally:
        client.close()


def run(quick: bool) -> StageResult:
    """The suite's stage: 5,000 profiles if ``quick``, else 100,000."""
    sizes = QUICK if quick else FULL
    with elasticsearch_url() as url:
        return measure(url, sizes["profiles"], sizes["instances"], sizes["repeats"], 7).result


def main(argv: list[str] | None = None) -> int:
    """Write (or reuse) the index, check both sides agree, time them and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=FULL["profiles"])
    parser.add_argument(
        "--instances", type=int, default=FULL["instances"], help="searches of each kind"
    )
    parser.add_argument(
        "--repeats", type=int, default=FULL["repeats"], help="times each search is timed"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(elasticsearch_url())
        figures = measure(url, args.profiles, args.instances, args.repeats, args.seed)
    print_table(figures.rows, figures.matches, None)
    print_results(figures.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
