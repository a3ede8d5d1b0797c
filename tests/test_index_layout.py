"""An index written in an older document layout is rebuilt by the next write, never mixed."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from indexer.build import IndexState, write_index
from indexer.profile import Profile
from indexer.search import SearchQuery
from indexer.search.document import index_entry
from indexer.search.elasticsearch_backend import MAPPING, ElasticsearchBackend, _source_json
from indexer.search.sqlite_backend import SqliteBackend
from indexer.taxonomy import load_taxonomy


def by_id(contract_data: dict[str, Any]) -> dict[str, Profile]:
    return {p.id: p for p in contract_data["profiles"]}


def flagged_ids(backend: Any) -> list[str]:
    query = SearchQuery(flagged=("credential", "data"), sort="rating", page_size=100)
    return backend.search(query).ids


def test_sqlite_index_without_a_recorded_layout_is_rebuilt(
    tmp_path: Path, contract_data: dict[str, Any]
) -> None:
    path = tmp_path / "index.sqlite3"
    profiles = by_id(contract_data)
    first = SqliteBackend(path)
    first.rebuild(profiles.values())
    assert not first.outdated()
    first.close()
    # An index written before layouts were recorded: no flag facets (so no codes for them
    # either, which is what filters read), no layout row.
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'layout_version'")
        conn.execute("DELETE FROM facets WHERE field IN ('flag', 'alias_id')")
        conn.execute("DELETE FROM facet_codes WHERE field IN ('flag', 'alias_id')")
    old = SqliteBackend(path)
    assert old.outdated()
    assert flagged_ids(old) == []
    state = IndexState(tmp_path / "state.json")
    stats = write_index(old, profiles.values(), state)
    assert stats.rebuilt and stats.written == len(profiles)
    assert not old.outdated()
    assert flagged_ids(old) == ["p12", "p11", "p05"]
    # From now on, writes are incremental again.
    assert not write_index(old, profiles.values(), state).rebuilt
    old.close()
    assert not SqliteBackend(path).outdated()


def test_new_sqlite_index_starts_in_the_current_layout(tmp_path: Path) -> None:
    assert not SqliteBackend(tmp_path / "fresh.sqlite3").outdated()


def test_elasticsearch_index_with_an_older_mapping_is_rebuilt(
    elasticsearch_backend: ElasticsearchBackend,
    es_client: Elasticsearch,
    contract_data: dict[str, Any],
    tmp_path: Path,
) -> None:
    profiles = by_id(contract_data)
    alias = elasticsearch_backend.alias
    # The first layout: no _meta, no flags or alias ids (strict mapping, as then).
    old_mapping = copy.deepcopy(MAPPING)
    del old_mapping["_meta"]
    for added in ("flags", "alias_ids"):
        del old_mapping["properties"][added]
    old_index = f"{alias}-v1"
    es_client.indices.create(index=old_index, mappings=old_mapping)
    taxonomy = load_taxonomy()
    for profile in profiles.values():
        source = json.loads(_source_json(index_entry(profile, taxonomy)))
        del source["flags"], source["alias_ids"]
        es_client.index(index=old_index, id=profile.id, document=source)
    es_client.indices.refresh(index=old_index)
    es_client.indices.update_aliases(actions=[{"add": {"index": old_index, "alias": alias}}])

    assert elasticsearch_backend.outdated()
    assert elasticsearch_backend.count() == len(profiles)
    stats = write_index(
        elasticsearch_backend, profiles.values(), IndexState(tmp_path / "state.json")
    )
    assert stats.rebuilt
    assert not elasticsearch_backend.outdated()
    assert not es_client.indices.exists(index=old_index)  # the old version was dropped
    assert flagged_ids(elasticsearch_backend) == ["p12", "p11", "p05"]


def test_elasticsearch_without_an_index_is_not_outdated(
    elasticsearch_backend: ElasticsearchBackend,
) -> None:
    assert not elasticsearch_backend.outdated()
