"""Configuration, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BackendName = Literal["sqlite", "elasticsearch"]


class ConfigError(ValueError):
    """A configuration variable holds a value tdir cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Where tdir keeps its data and which search backend it uses.

    Variables: ``TDIR_HOME`` (data directory, default ``./var``), ``TDIR_BACKEND`` (``sqlite`` or
    ``elasticsearch``; default ``elasticsearch`` when ``TDIR_ES_URL`` is set, else ``sqlite``),
    ``TDIR_SQLITE_PATH``, ``TDIR_ES_URL``, ``TDIR_ES_INDEX`` (the alias searches go through),
    ``TDIR_ES_SHARDS``, ``TDIR_ES_REPLICAS``, ``TDIR_ES_API_KEY``, ``TDIR_SITES`` (a site
    manifest, ``{name: base URL}``, whose sites fill ``${NAME_URL}`` in the catalog; default
    ``$TDIR_HOME/sites.json``, which ``tdir demo`` writes).
    """

    home: Path
    backend: BackendName
    sqlite_path: Path
    es_url: str | None
    es_index: str
    es_shards: int
    es_replicas: int
    es_api_key: str | None
    sites_manifest: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("TDIR_HOME") or "var")
        es_url = env.get("TDIR_ES_URL") or None
        backend = (env.get("TDIR_BACKEND") or ("elasticsearch" if es_url else "sqlite")).lower()
        if backend not in ("sqlite", "elasticsearch"):
            raise ConfigError(f"TDIR_BACKEND must be 'sqlite' or 'elasticsearch', not {backend!r}")
        if backend == "elasticsearch" and not es_url:
            raise ConfigError(
                "TDIR_BACKEND=elasticsearch needs TDIR_ES_URL (e.g. http://localhost:9200)"
            )
        return cls(
            home=home,
            backend=backend,  # type: ignore[arg-type]
            sqlite_path=Path(env.get("TDIR_SQLITE_PATH") or home / "index.sqlite3"),
            es_url=es_url,
            es_index=env.get("TDIR_ES_INDEX") or "tdir-profiles",
            es_shards=_int(env, "TDIR_ES_SHARDS", 1, minimum=1),
            es_replicas=_int(env, "TDIR_ES_REPLICAS", 0, minimum=0),
            es_api_key=env.get("TDIR_ES_API_KEY") or None,
            sites_manifest=Path(env.get("TDIR_SITES") or home / "sites.json"),
        )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value
