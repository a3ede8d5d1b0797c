"""The Elasticsearch backend on a two-node cluster: replicas by configuration, and searches that
still answer after a node stops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from indexer.search import SearchQuery, open_backend
from tdir.config import Settings
from tests.support.elasticsearch_node import ElasticsearchNode, start_cluster

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


@pytest.fixture(scope="module")
def cluster() -> Iterator[list[ElasticsearchNode]]:
    nodes = start_cluster(2)
    try:
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def test_replicated_index_survives_a_node_stopping(
    cluster: list[ElasticsearchNode], contract_data: dict[str, Any]
) -> None:
    first, second = cluster
    settings = Settings.from_env(
        {
            "TDIR_ES_URL": f"{first.url},{second.url}",
            "TDIR_ES_REPLICAS": "1",
            "TDIR_ES_INDEX": "tdir-cluster-test",
        }
    )
    backend = open_backend(settings)
    assert backend.rebuild(contract_data["profiles"]) == 12
    client = Elasticsearch([first.url, second.url], request_timeout=30)
    index = next(iter(client.indices.get_alias(name="tdir-cluster-test").body))
    assert (
        client.indices.get_settings(index=index)[index]["settings"]["index"]["number_of_replicas"]
        == "1"
    )
    health = client.cluster.health(index=index, wait_for_status="green", timeout="60s")
    assert health["status"] == "green" and health["number_of_nodes"] == 2
    before = backend.search(SearchQuery(sort="rating", page_size=100)).ids
    assert len(before) == 11

    # Stop the node that is not the elected master, so the survivor keeps a quorum of one.
    master_id = client.cat.master(format="json")[0]["node"]
    victim = first if master_id == first.node_name else second
    survivor = second if victim is first else first
    victim.stop()

    after = open_backend(
        Settings.from_env({"TDIR_ES_URL": survivor.url, "TDIR_ES_INDEX": "tdir-cluster-test"})
    )
    assert after.search(SearchQuery(sort="rating", page_size=100)).ids == before
    assert after.search(SearchQuery(modalities=["NMT"], sort="rating")).ids == ["p01", "p06", "p11"]
    client.close()
