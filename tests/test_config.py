"""Configuration from the environment, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tdir.config import ConfigError, Settings


def test_defaults_are_the_embedded_backend_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.backend == "sqlite"
    assert settings.sqlite_path == Path("var/index.sqlite3")


def test_an_elasticsearch_url_selects_elasticsearch() -> None:
    settings = Settings.from_env({"TDIR_ES_URL": "http://es:9200", "TDIR_ES_REPLICAS": "1"})
    assert settings.backend == "elasticsearch"
    assert settings.es_replicas == 1


def test_explicit_backend_wins() -> None:
    assert (
        Settings.from_env({"TDIR_ES_URL": "http://es:9200", "TDIR_BACKEND": "sqlite"}).backend
        == "sqlite"
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"TDIR_BACKEND": "solr"}, "TDIR_BACKEND"),
        ({"TDIR_BACKEND": "elasticsearch"}, "TDIR_ES_URL"),
        ({"TDIR_ES_REPLICAS": "two"}, "TDIR_ES_REPLICAS"),
        ({"TDIR_ES_SHARDS": "0"}, "TDIR_ES_SHARDS"),
        ({"TDIR_ES_URL": "http://127.0.0.1"}, "TDIR_ES_URL='http://127.0.0.1' must be http"),
        ({"TDIR_ES_URL": "ftp://x:21"}, "TDIR_ES_URL='ftp://x:21' must be http"),
        ({"TDIR_ES_URL": "http://es:99999"}, "TDIR_ES_URL"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(env)


def test_a_bad_elasticsearch_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"TDIR_ES_URL": "http://elastic:s3cret@es"})
    assert "s3cret" not in str(err.value) and "***@es" in str(err.value)
    assert Settings.from_env({"TDIR_ES_URL": "https://elastic:s3cret@es:9243"}).es_url
    several = "http://es1:9200,http://es2:9200"  # a cluster's nodes
    assert Settings.from_env({"TDIR_ES_URL": several}).es_url == several
    with pytest.raises(ConfigError, match="'http://es2'"):
        Settings.from_env({"TDIR_ES_URL": "http://es1:9200,http://es2"})
