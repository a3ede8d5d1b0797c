"""Configuration, read from the environment in one place."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

BackendName = Literal["sqlite", "elasticsearch"]
DEFAULT_CRAWL_TIMEOUT = 20.0  # seconds a crawl waits for one page
DEFAULT_SCRAPYD_PROJECT = "tdir"
DEFAULT_GEOCODER_AGENT = "tdir"  # how tdir names itself to an online geocoder
# Scrapyd keeps each project in a directory named after it.
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
        if es_url:
            _check_es_url(es_url)
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


def _check_es_url(urls: str) -> None:
    """Elasticsearch nodes' URLs (comma-separated): each http(s), a host and a port (the client
    needs all three)."""
    for url in urls.split(","):
        _check_node_url(url.strip())


def _check_node_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        shown = url.replace(f"{parts.password}@", "***@") if parts.password else url
        raise ConfigError(
            f"TDIR_ES_URL={shown!r} must be http(s)://host:port, e.g. http://localhost:9200"
        )


def crawl_timeout(env: Mapping[str, str] | None = None) -> float:
    """The seconds a crawl waits for one page: ``TDIR_CRAWL_TIMEOUT`` (more than 0, at most
    600), default 20. For slow sources, and for tests that must not wait for a page that never
    comes."""
    env = os.environ if env is None else env
    raw = env.get("TDIR_CRAWL_TIMEOUT")
    if not raw:
        return DEFAULT_CRAWL_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 600:  # NaN fails this too
        raise ConfigError(f"TDIR_CRAWL_TIMEOUT must be seconds between 0 and 600, not {raw!r}")
    return seconds


@dataclass(frozen=True)
class ScrapydSettings:
    """Where crawls run when they are dispatched to Scrapyd rather than run in a local process.

    Variables: ``TDIR_SCRAPYD_URL`` (one node, or several comma-separated, e.g.
    ``http://crawl-1:6800,http://crawl-2:6800``; ``http://user:password@host:6800`` for a node
    with basic authentication; unset: crawls run locally), ``TDIR_SCRAPYD_PROJECT`` (the Scrapyd
    project the crawler is deployed as, default ``tdir``), ``TDIR_SCRAPYD_HOME`` (the data
    directory as the nodes see it, default ``TDIR_HOME`` made absolute: the nodes write their
    runs there, so it must be the same directory, shared, for the indexer to read them).
    """

    urls: tuple[str, ...] = ()
    project: str = DEFAULT_SCRAPYD_PROJECT
    node_home: Path | None = None  # None: the data directory's own absolute path

    @property
    def enabled(self) -> bool:
        """True when crawls go to Scrapyd."""
        return bool(self.urls)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScrapydSettings:
        """Read the Scrapyd settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        urls: list[str] = []
        for raw in (env.get("TDIR_SCRAPYD_URL") or "").split(","):
            url = raw.strip().rstrip("/")
            if not url:
                continue
            if not _is_http_url(url):
                raise ConfigError(
                    f"TDIR_SCRAPYD_URL: {raw.strip()!r} is not an http(s) URL like "
                    "http://localhost:6800"
                )
            if url not in urls:
                urls.append(url)
        project = env.get("TDIR_SCRAPYD_PROJECT") or DEFAULT_SCRAPYD_PROJECT
        if not _PROJECT_NAME.match(project):
            raise ConfigError(
                f"TDIR_SCRAPYD_PROJECT must be letters, digits, - or _, not {project!r}"
            )
        node_home = env.get("TDIR_SCRAPYD_HOME") or None
        if node_home is not None and not Path(node_home).is_absolute():
            raise ConfigError(f"TDIR_SCRAPYD_HOME must be an absolute path, not {node_home!r}")
        return cls(
            urls=tuple(urls),
            project=project,
            node_home=Path(node_home) if node_home else None,
        )


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it: ValueError for a port that is no number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


@dataclass(frozen=True)
class GeocoderSettings:
    """The online geocoder, used only when configured (places are found offline otherwise).

    Variables: ``TDIR_GEOCODER_URL`` (a Nominatim server, e.g.
    ``https://nominatim.openstreetmap.org``; unset: offline only) and ``TDIR_GEOCODER_USER_AGENT``
    (who is asking; Nominatim's usage policy asks for an application name and a contact, e.g.
    ``tdir (ops@example.org)``; default ``tdir``).
    """

    url: str | None
    user_agent: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GeocoderSettings:
        env = os.environ if env is None else env
        url = (env.get("TDIR_GEOCODER_URL") or "").strip().rstrip("/") or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(
                    f"TDIR_GEOCODER_URL={url!r} must be an http(s) URL of a Nominatim server,"
                    " e.g. https://nominatim.openstreetmap.org"
                )
        agent = (env.get("TDIR_GEOCODER_USER_AGENT") or "").strip() or DEFAULT_GEOCODER_AGENT
        return cls(url=url, user_agent=agent)
