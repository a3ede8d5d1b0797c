"""The Elasticsearch backend: the scale-out engine.

Uses only what the Elasticsearch server itself provides (bool queries, geo_distance, terms
aggregations, function_score with a decay function and field_value_factor, sorting,
search_after), so it behaves the same on the minimal distribution and on a full one. Synonyms are
the project's: documents carry the taxonomy's canonical ids and the query model resolves the
user's words, so no analyzer plug-in is needed.

Free text is a bool query: the required words in ``must``, the words and labels of the taxonomy
terms it names in ``should`` (they score; the terms themselves filter), the filters in
``filter``. The best-match blend near a place (``indexer.search.query``) is a function_score
query: a ``gauss`` decay on the nearest location times the rating, with no script.

Searches go through an alias. A full rebuild writes a new versioned index, then moves the alias
in one ``update_aliases`` call (remove + add), so searches never see a half-built index; old
versions are deleted afterwards. While a new index is loaded nobody searches it, so it is
loaded without refreshes and without replicas (both set to what the index serves with before
the alias moves, as Elastic's "tune for indexing speed" advises:
https://www.elastic.co/guide/en/elasticsearch/reference/current/tune-for-indexing-speed.html),
by several bulk requests at once. Each document's ``_source`` is sent as JSON text made once,
with the profile's stored JSON (``indexer.search.document.stored_json``) spliced in.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import (
    ApiError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)
from elasticsearch import ConnectionError as NodeConnectionError

from indexer.geo import distance_km
from indexer.profile import Profile
from indexer.search.backend import BackendError
from indexer.search.document import (
    LAYOUT_VERSION,
    IndexEntry,
    SearchDocument,
    encode_json,
    index_entry,
)
from indexer.search.pipeline import FetchedPage, PagedSearch, PageRequest, Row
from indexer.search.query import (
    BEST_MATCH_DECAY,
    BEST_MATCH_HALF_WEIGHT_KM,
    BEST_MATCH_RATING_FACTOR,
    BEST_MATCH_UNRATED,
    SearchQuery,
    SortKey,
    SortOrder,
)
from indexer.taxonomy import Taxonomy, load_taxonomy

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"layout_version": LAYOUT_VERSION},
    "properties": {
        "id": {"type": "keyword"},
        "name": {"type": "text", "analyzer": "standard", "fields": {"sort": {"type": "keyword"}}},
        "practice_name": {"type": "text", "analyzer": "standard"},
        "body": {"type": "text", "analyzer": "standard"},
        "location": {"type": "geo_point"},
        "states": {"type": "keyword"},
        "modalities": {"type": "keyword"},
        "conditions": {"type": "keyword"},
        "credentials": {"type": "keyword"},
        "verified_credentials": {"type": "keyword"},
        "license_verified": {"type": "boolean"},
        "rating": {"type": "float"},
        "rating_sort": {"type": "float"},
        "review_count": {"type": "integer"},
        "active": {"type": "boolean"},
        "flags": {"type": "keyword"},
        "alias_ids": {"type": "keyword"},
        # The served profile, returned as is and never searched.
        "profile": {"type": "object", "enabled": False},
    },
}

# Facet name -> indexed field; the "verified" facet reads the boolean as "true"/"false".
_FACET_FIELDS = {
    "modality": "modalities",
    "condition": "conditions",
    "credential": "credentials",
    "state": "states",
    "verified": "license_verified",
}
_FACET_SIZE = 200
_TEXT_FIELDS = ["name^3", "practice_name^2", "body"]


class ElasticsearchBackend(PagedSearch[dict[str, Any]]):
    """Search backend on an Elasticsearch cluster, reached through an alias."""

    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        alias: str = "tdir-profiles",
        *,
        shards: int = 1,
        replicas: int = 0,
        taxonomy: Taxonomy | None = None,
        chunk_size: int = 500,
        bulk_threads: int = 2,
    ) -> None:
        self.client = client
        self.alias = alias
        self.shards = shards
        self.replicas = replicas
        self.taxonomy = taxonomy or load_taxonomy()
        self.chunk_size = chunk_size
        # Bulk requests in flight at once: one is being indexed while the next is made.
        self.bulk_threads = bulk_threads

    @classmethod
    def from_url(
        cls, url: str, alias: str = "tdir-profiles", **kwargs: Any
    ) -> ElasticsearchBackend:
        """Connect to the cluster at ``url`` (several nodes: comma-separated URLs)."""
        api_key = kwargs.pop("api_key", None)
        hosts = [u.strip() for u in url.split(",") if u.strip()]
        # Retrying on another node is what lets searches go on while one node is down.
        client = Elasticsearch(
            hosts, api_key=api_key, request_timeout=30, retry_on_timeout=True, max_retries=3
        )
        return cls(client, alias, **kwargs)

    # -- index management -------------------------------------------------------------------

    def _new_index(self, *, loading: bool = False) -> str:
        """Create a new version of the index; ``loading``: to be filled before anyone searches
        it (no refreshes, no replicas until ``_serve``)."""
        name = f"{self.alias}-v{time.time_ns()}"
        settings = _LOADING if loading else self._serving_settings()
        self.client.indices.create(
            index=name, mappings=MAPPING, settings={"number_of_shards": self.shards, **settings}
        )
        return name

    def _serving_settings(self) -> dict[str, Any]:
        # Refreshes are made explicitly after writes; the interval only bounds how long a write
        # made elsewhere stays unseen.
        return {"number_of_replicas": self.replicas, "refresh_interval": "1s"}

    def _serve(self, index: str) -> None:
        """Give a loaded index the settings it serves with, make its documents searchable, and
        wait for its replicas to copy it (on a cluster with room for them)."""
        self.client.indices.put_settings(index=index, settings=self._serving_settings())
        self.client.indices.refresh(index=index)
        if self.replicas:
            # Replicas that no node can hold stay unassigned, not initializing: no wait for them.
            # Nor past the timeout (408), nor with a key that may not read the cluster's health.
            self.client.options(ignore_status=(403, 408)).cluster.health(
                index=index,
                wait_for_events="languid",
                wait_for_no_initializing_shards=True,
                timeout="120s",
            )

    def _current_indices(self) -> list[str]:
        resp = self.client.options(ignore_status=404).indices.get_alias(name=self.alias)
        if resp.meta.status == 404:
            return []
        return sorted(resp.body)

    def _versions(self) -> list[str]:
        resp = self.client.options(ignore_status=404).indices.get(
            index=f"{self.alias}-v*", expand_wildcards="open,closed"
        )
        return sorted(resp.body) if resp.meta.status != 404 else []

    def _write_index(self) -> str:
        """Return the index the alias points to, creating a first version if there is none."""
        current = self._current_indices()
        if len(current) > 1:
            raise BackendError(
                f"elasticsearch: alias {self.alias!r} points to several indices {current}"
            )
        if current:
            return current[0]
        if self.client.indices.exists(index=self.alias):
            raise BackendError(
                f"elasticsearch: {self.alias!r} is a concrete index, not an alias; "
                "rebuild into a new name or delete it"
            )
        index = self._new_index()
        self.client.indices.update_aliases(actions=[{"add": {"index": index, "alias": self.alias}}])
        return index

    # -- writes -----------------------------------------------------------------------------

    def _actions(self, index: str, entries: Iterable[IndexEntry]) -> Iterator[dict[str, Any]]:
        for entry in entries:
            yield {"_index": index, "_id": entry.id, "_source": _source_json(entry)}

    def _write(self, index: str, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Index profiles, several bulk requests at once; return how many were written.

        Requests in flight at once may be applied in any order, so a profile listed again is
        written after the others, as are the writes the cluster turned away for now (429: its
        queues were full): then one request at a time, with backoff, and the last version of a
        profile listed twice is the one that stays."""
        seen: set[str] = set()
        # Profiles sent and not yet answered for: a build's stream is not held whole.
        in_flight: dict[str, IndexEntry] = {}
        later: list[IndexEntry] = []

        def first_versions() -> Iterator[IndexEntry]:
            for profile in profiles:
                entry = index_entry(profile, self.taxonomy)
                if entry.id in seen:
                    later.append(entry)
                else:
                    seen.add(entry.id)
                    in_flight[entry.id] = entry
                    yield entry

        written, retry = 0, []
        for ok, info in helpers.parallel_bulk(
            self.client,
            self._actions(index, first_versions()),
            thread_count=self.bulk_threads,
            chunk_size=self.chunk_size,
            raise_on_error=False,
        ):
            op = next(iter(info.values()))
            entry = in_flight.pop(op["_id"])
            if ok:
                written += 1
                continue
            if op.get("status") != 429:
                raise BackendError(f"elasticsearch: bulk write rejected {op.get('_id')}: {op}")
            retry.append(entry)
        if retry or later:
            written += self._bulk(self._actions(index, [*retry, *later]))
        return written

    def _bulk(self, actions: Iterable[dict[str, Any]]) -> int:
        written = 0
        for ok, info in helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=self.chunk_size,
            max_retries=5,
            initial_backoff=1,
            raise_on_error=False,
            raise_on_exception=True,
        ):
            if not ok:
                op = next(iter(info.values()))
                if op.get("status") == 404 and "delete" in info:
                    continue
                raise BackendError(f"elasticsearch: bulk write rejected {op.get('_id')}: {op}")
            written += 1
        return written

    def upsert(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Add or replace profiles by id; they are searchable on return."""
        try:
            index = self._write_index()
            written = self._write(index, profiles)
            self.client.indices.refresh(index=index)
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: upsert failed: {_describe(exc)}") from exc
        return written

    def delete(self, profile_ids: Iterable[str]) -> int:
        """Remove profiles by id; return how many existed."""
        try:
            index = self._write_index()
            existed = 0
            for ok, info in helpers.streaming_bulk(
                self.client,
                ({"_op_type": "delete", "_index": index, "_id": i} for i in profile_ids),
                raise_on_error=False,
            ):
                status = info["delete"].get("status")
                if ok:
                    existed += 1
                elif status != 404:
                    raise BackendError(f"elasticsearch: delete rejected: {info['delete']}")
            self.client.indices.refresh(index=index)
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: delete failed: {_describe(exc)}") from exc
        return existed

    def rebuild(self, profiles: Iterable[Profile | IndexEntry]) -> int:
        """Write a new versioned index, swap the alias to it in one call, drop old versions."""
        try:
            if self.client.indices.exists(index=self.alias) and not self._current_indices():
                raise BackendError(
                    f"elasticsearch: {self.alias!r} is a concrete index, not an alias"
                )
            new_index = self._new_index(loading=True)
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: rebuild failed: {_describe(exc)}") from exc
        try:
            written = self._write(new_index, profiles)
            self._serve(new_index)
            old = self._current_indices()
            actions: list[dict[str, Any]] = [
                {"remove": {"index": i, "alias": self.alias}} for i in old
            ]
            actions.append({"add": {"index": new_index, "alias": self.alias}})
            self.client.indices.update_aliases(actions=actions)
        except BaseException as exc:
            # The alias still points to the old index; drop the half-built one.
            self.client.options(ignore_status=404).indices.delete(index=new_index)
            if isinstance(exc, ApiError | TransportError):
                raise BackendError(
                    f"elasticsearch: rebuild failed, old index kept: {_describe(exc)}"
                ) from exc
            raise
        stale = [i for i in self._versions() if i != new_index]
        if stale:
            self.client.options(ignore_status=404).indices.delete(index=",".join(stale))
        return written

    # -- reads ------------------------------------------------------------------------------

    def get(self, profile_id: str) -> Profile | None:
        """Return the stored profile with this id, or None."""
        try:
            resp = self.client.get(index=self.alias, id=profile_id, source_includes=["profile"])
            return Profile.from_dict(resp["_source"]["profile"])
        except NotFoundError:
            pass
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: get failed: {_describe(exc)}") from exc
        try:
            found = self.client.options(ignore_status=404).search(
                index=self.alias,
                query={"term": {"alias_ids": profile_id}},
                sort=[{"id": "asc"}],
                size=1,
                source_includes=["profile"],
            )
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: get failed: {_describe(exc)}") from exc
        hits = found.body.get("hits", {}).get("hits", []) if found.meta.status != 404 else []
        return Profile.from_dict(hits[0]["_source"]["profile"]) if hits else None

    def outdated(self) -> bool:
        """Whether the index behind the alias predates the current document layout."""
        try:
            current = self._current_indices()
            if not current:
                return False
            mappings = self.client.indices.get_mapping(index=current[0])
        except (ApiError, TransportError) as exc:
            message = f"elasticsearch: reading the mapping failed: {_describe(exc)}"
            raise BackendError(message) from exc
        meta = mappings[current[0]]["mappings"].get("_meta") or {}
        return int(meta.get("layout_version") or 1) < LAYOUT_VERSION

    def count(self) -> int:
        """Return how many profiles are stored."""
        try:
            resp = self.client.options(ignore_status=404).count(index=self.alias)
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: count failed: {_describe(exc)}") from exc
        return 0 if resp.meta.status == 404 else resp["count"]

    def _fetch(self, request: PageRequest) -> FetchedPage[dict[str, Any]]:
        """One request: the page and the next one's first hit, the total and the facets."""
        plan = request.plan
        body: dict[str, Any] = {
            "query": _scored(request, _filters(request)),
            "sort": _sort(request),
            "size": request.limit,
            "track_total_hits": True,
            # Text scores are reported whatever the sort; with a sort given, this also makes
            # max_score the best score of the whole match set, not of this page.
            "track_scores": plan.has_text,
            "aggs": {
                name: {"terms": {"field": field, "size": _FACET_SIZE}}
                for name, field in _FACET_FIELDS.items()
            },
            "_source": ["profile", "location"],
        }
        if request.after is not None:
            body["search_after"] = request.after
        try:
            resp = self.client.search(index=self.alias, **body)
        except NotFoundError:
            return FetchedPage.empty()  # no index behind the alias yet
        except (ApiError, TransportError) as exc:
            raise BackendError(f"elasticsearch: search failed: {_describe(exc)}") from exc
        aggregations = resp["aggregations"]
        counts = {
            name: {
                str(b.get("key_as_string", b["key"])): b["doc_count"]
                for b in aggregations[name]["buckets"]
            }
            for name in _FACET_FIELDS
        }
        return FetchedPage(
            rows=[_row(raw, request) for raw in resp["hits"]["hits"]],
            total=resp["hits"]["total"]["value"],
            best_text_score=resp["hits"].get("max_score") if plan.has_text else None,
            facet_counts=counts,
        )

    def _profile(self, stored: dict[str, Any]) -> Profile:
        return Profile.from_dict(stored)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


# A loading index: no refreshes (none searches it yet), no replicas (copied once it is loaded
# rather than indexing every document twice).
_LOADING = {"number_of_replicas": 0, "refresh_interval": "-1"}


def _source_json(entry: IndexEntry) -> str:
    """The ``_source`` as JSON text, as the client would write ``_source``'s: the search fields,
    then the profile's stored JSON."""
    return f'{encode_json(_search_fields(entry.document))[:-1]},"profile":{entry.stored}}}'


def _search_fields(doc: SearchDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "name": doc.name,
        "practice_name": doc.practice_name,
        "body": doc.body,
        "location": [{"lat": p.lat, "lon": p.lon} for p in doc.points],
        "states": list(doc.states),
        "modalities": list(doc.modalities),
        "conditions": list(doc.conditions),
        "credentials": list(doc.credentials),
        "verified_credentials": list(doc.verified_credentials),
        "license_verified": doc.license_verified,
        "rating": doc.rating,
        "rating_sort": doc.rating_sort,
        "review_count": doc.review_count,
        "active": doc.active,
        "flags": list(doc.flags),
        "alias_ids": list(doc.alias_ids),
    }


def _filters(request: PageRequest) -> list[dict[str, Any]]:
    """What a profile must be to match: active, and every filter of the query."""
    query, plan = request.query, request.plan
    filters: list[dict[str, Any]] = [{"term": {"active": True}}]
    filters += [{"term": {"modalities": m}} for m in plan.modalities]
    filters += [{"term": {"conditions": c}} for c in plan.conditions]
    credential_field = "verified_credentials" if query.verified_only else "credentials"
    filters += [{"term": {credential_field: c}} for c in query.credentials]
    if query.verified_only:
        filters.append({"term": {"license_verified": True}})
    if query.flagged:
        filters.append({"terms": {"flags": list(query.flagged)}})
    if query.state:
        filters.append({"term": {"states": query.state}})
    if query.min_rating is not None:
        filters.append({"range": {"rating": {"gte": query.min_rating}}})
    if query.min_reviews is not None:
        filters.append({"range": {"review_count": {"gte": query.min_reviews}}})
    if query.sort is SortOrder.DISTANCE:
        # A profile without a location has no place in a list ordered by distance.
        filters.append({"exists": {"field": "location"}})
    point = query.point
    if point is not None and query.radius_km is not None:
        filters.append(
            {
                "geo_distance": {
                    "distance": f"{query.radius_km}km",
                    "distance_type": "arc",
                    "location": {"lat": point.lat, "lon": point.lon},
                }
            }
        )
    return filters


def _scored(request: PageRequest, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The query proper: the filters, scored by text or by the best-match blend (or unscored)."""
    plan = request.plan
    bool_query: dict[str, Any] = {"filter": filters}
    if plan.words:
        bool_query["must"] = [_text_match(" ".join(plan.words), "and")]
    optional = [_text_match(" ".join(plan.term_words), "or")] if plan.term_words else []
    optional += [
        {"multi_match": {"query": phrase, "fields": _TEXT_FIELDS, "type": "phrase"}}
        for phrase in plan.term_phrases
    ]
    if optional:
        # Explicit: these words only add to the score; no profile needs any of them.
        bool_query["should"] = optional
        bool_query["minimum_should_match"] = 0
    query_body = {"bool": bool_query}
    if request.query.ranked_by_best_match:
        return _best_match_query(request.query, query_body)
    return query_body


def _text_match(words: str, operator: str) -> dict[str, Any]:
    return {
        "multi_match": {
            "query": words,
            "fields": _TEXT_FIELDS,
            "type": "cross_fields",
            "operator": operator,
        }
    }


def _best_match_query(query: SearchQuery, inner: dict[str, Any]) -> dict[str, Any]:
    """Score ``inner``'s matches by rating x distance decay, as ``best_match_score`` does."""
    point = query.point
    assert point is not None  # only a search near a point is ranked by the blend
    has_location = {"exists": {"field": "location"}}
    return {
        "function_score": {
            "query": inner,
            "functions": [
                {
                    "filter": has_location,
                    "gauss": {
                        "location": {
                            "origin": {"lat": point.lat, "lon": point.lon},
                            "scale": f"{BEST_MATCH_HALF_WEIGHT_KM}km",
                            "decay": BEST_MATCH_DECAY,
                        },
                        # The nearest of a therapist's locations counts.
                        "multi_value_mode": "min",
                    },
                },
                # The decay treats a missing location as distance 0; no location scores 0.
                {"filter": {"bool": {"must_not": [has_location]}}, "weight": 0},
                {
                    "field_value_factor": {
                        "field": "rating",
                        "factor": BEST_MATCH_RATING_FACTOR,
                        "missing": BEST_MATCH_UNRATED,
                    }
                },
            ],
            "score_mode": "multiply",
            "boost_mode": "replace",
        }
    }


def _sort(request: PageRequest) -> list[dict[str, Any]]:
    """The request's sort keys as Elasticsearch sort clauses."""
    clauses: dict[SortKey, dict[str, Any]] = {
        SortKey.TEXT_SCORE: {"_score": {"order": "desc"}},
        SortKey.BEST_MATCH: {"_score": {"order": "desc"}},  # the function_score of the blend
        SortKey.RATING: {"rating_sort": {"order": "desc"}},
        SortKey.REVIEWS: {"review_count": {"order": "desc"}},
        SortKey.ID: {"id": {"order": "asc"}},
    }
    point = request.query.point
    if point is not None:
        clauses[SortKey.DISTANCE] = {
            "_geo_distance": {
                "location": {"lat": point.lat, "lon": point.lon},
                "order": "asc",
                "unit": "km",
                "mode": "min",
                "distance_type": "arc",
            }
        }
    return [clauses[key] for key in request.sort_keys]


def _row(raw: dict[str, Any], request: PageRequest) -> Row[dict[str, Any]]:
    distance = None
    point = request.query.point
    locations = raw["_source"].get("location") or []
    if point is not None and locations:
        # Computed here, as in the embedded backend, rather than read from sort values, so it is
        # present whatever the sort order.
        distance = min(distance_km(point.lat, point.lon, p["lat"], p["lon"]) for p in locations)
    return Row(
        id=raw["_id"],
        stored=raw["_source"]["profile"],
        sort_values=raw["sort"],
        distance_km=distance,
        text_score=raw.get("_score"),
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.meta.status} {exc.message}"
    if isinstance(exc, NodeConnectionError | ConnectionTimeout):
        # The client nests three exceptions deep; the person needs the node and the setting.
        cause = exc.errors[0] if getattr(exc, "errors", None) else exc
        reason = str(getattr(cause, "reason", None) or cause).split(": ")[-1].rstrip(")")
        return f"no Elasticsearch node answers (check TDIR_ES_URL and that the node runs): {reason}"
    return str(exc)
