"""docker-compose.yml: the structure the README promises (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_elasticsearch_service_is_official_9x_single_node(compose: dict[str, Any]) -> None:
    es = compose["services"]["elasticsearch"]
    image, _, tag = es["image"].rpartition(":")
    assert image == "docker.elastic.co/elasticsearch/elasticsearch"
    assert tag.split(".")[0] == "9"
    assert es["environment"]["discovery.type"] == "single-node"
    assert es["environment"]["xpack.security.enabled"] == "false"


def test_elasticsearch_is_reachable_only_from_this_host(compose: dict[str, Any]) -> None:
    ports = compose["services"]["elasticsearch"]["ports"]
    assert ports == ["127.0.0.1:9200:9200"]


def test_elasticsearch_has_a_healthcheck_on_cluster_health(compose: dict[str, Any]) -> None:
    check = compose["services"]["elasticsearch"]["healthcheck"]
    assert "_cluster/health" in " ".join(check["test"])
    assert check["retries"] >= 1


def test_data_lives_on_a_declared_named_volume(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["elasticsearch"]["volumes"]
    volume, _, target = mounts[0].partition(":")
    assert target == "/usr/share/elasticsearch/data"
    assert volume in compose["volumes"]


def test_compose_image_matches_the_version_the_tests_run() -> None:
    from tests.support.elasticsearch_node import DEFAULT_VERSION

    compose_text = COMPOSE.read_text(encoding="utf-8")
    assert f"elasticsearch:{DEFAULT_VERSION}" in compose_text
