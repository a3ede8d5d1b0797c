"""The source catalog: every source tdir crawls, described as data.

One YAML file lists each source's name, kind, spider, start URLs or sitemaps, allowed domains,
the selectors a declarative spider needs, and its recrawl schedule. Adding a schema.org site or a
selector-described site is an edit of this file, not new code.

Values may hold ``${NAME}`` placeholders, filled from the variables given to ``load_catalog``
and then from the environment, so one catalog can point at different hosts (a staging mirror, a
local copy of the web) without edits.

A source read through an official API states the provider's storage and display terms in
``terms:`` (what may be kept indefinitely, how long the rest may be stored and served, how it is
credited; see :mod:`crawler.terms`), which the indexer and the dashboard obey.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from crawler.errors import CatalogError
from crawler.terms import StorageTerms, parse_terms

SourceKind = Literal[
    "directory", "reviews", "license_board", "certification_registry", "npi_registry"
]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]
# See crawler.spiders.SPIDER_CLASSES.
SPIDERS = (
    "structured",
    "html",
    "csv",
    "npi_api",
    "socrata",
    "nppes_file",
    "yelp_api",
    "google_places",
)

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_INTERVAL = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,62}$")
DEFAULT_CATALOG = "catalogs/demo.yaml"


# Pages an unproductive URL template may cost. A month-after-month calendar is a chain one page
# deep per month: a budget above the depth limit (200, settings.py) would never be reached.
DEFAULT_TRAP_BUDGET = 100
MAX_INTERVAL_SECONDS = 365 * 86400  # a source recrawled less than yearly is not scheduled


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a source is recrawled: every ``interval_seconds`` or on a cron expression."""

    interval_seconds: int | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> Schedule:
        """Parse ``{every: 1d}`` or ``{cron: "0 3 * * *"}``."""
        if not isinstance(raw, Mapping) or len(raw) != 1:
            raise CatalogError(f"{where}: schedule must be {{every: 1d}} or {{cron: '0 3 * * *'}}")
        if "every" in raw:
            match = _INTERVAL.match(str(raw["every"]))
            if not match:
                raise CatalogError(
                    f"{where}: schedule.every {raw['every']!r} is not like 12h or 1d"
                )
            unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[match[2]]
            seconds = int(match[1]) * unit
            if seconds < 60:
                raise CatalogError(f"{where}: schedule.every must be at least 1m")
            if seconds > MAX_INTERVAL_SECONDS:
                raise CatalogError(f"{where}: schedule.every must be at most 365d")
            return cls(interval_seconds=seconds)
        if "cron" in raw:
            cron = str(raw["cron"]).strip()
            if len(cron.split()) != 5:
                raise CatalogError(f"{where}: schedule.cron {cron!r} must have five fields")
            return cls(cron=cron)
        raise CatalogError(f"{where}: schedule has neither 'every' nor 'cron'")


@dataclass(frozen=True)
class Source:
    """One crawled source, as the catalog describes it."""

    name: str
    kind: SourceKind
    spider: str
    title: str
    start_urls: tuple[str, ...] = ()
    sitemap_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    schedule: Schedule = field(default_factory=lambda: Schedule(interval_seconds=86400))
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    # Pages a URL template may cost without ever leading to a record (crawler/traps.py).
    trap_budget: int = DEFAULT_TRAP_BUDGET
    # The provider's storage and display terms (crawler/terms.py); None: the source states none.
    terms: StorageTerms | None = None

    @property
    def hosts(self) -> set[str]:
        """The hosts of every start and sitemap URL."""
        return {urlsplit(u).hostname or "" for u in (*self.start_urls, *self.sitemap_urls)}


@dataclass(frozen=True)
class Catalog:
    """Every source, by name, in file order."""

    sources: dict[str, Source]
    path: str

    def get(self, name: str) -> Source:
        """Return a source by name; CatalogError naming the known ones if there is none."""
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(self.sources)
            raise CatalogError(f"unknown source {name!r}; the catalog has: {known}") from None

    def enabled(self) -> list[Source]:
        """Return the sources that are not disabled."""
        return [s for s in self.sources.values() if s.enabled]


def load_catalog(
    path: Path | str | None = None, variables: Mapping[str, str] | None = None
) -> Catalog:
    """Load and check a catalog file (default: ``TDIR_CATALOG``, else the packaged demo catalog).

    Raises CatalogError naming the source and field for anything that would break a crawl.
    """
    text, label = catalog_text(path)
    return parse_catalog(text, label, variables)


def source_titles(path: Path | str | None = None) -> dict[str, str]:
    """Each source's title by name, read without filling the catalog's ``${...}`` URLs (a page
    that only names sources needs no site manifest). Raises CatalogError for an unreadable file."""
    return {
        str(item["name"]): str(item.get("title") or item["name"])
        for item in raw_sources(*catalog_text(path))
        if item.get("name")
    }


def source_terms(path: Path | str | None = None) -> dict[str, StorageTerms]:
    """The terms of each source that states some, by name, read without filling the catalog's
    ``${...}`` URLs (the index build and the dashboard need no site manifest). CatalogError for an
    unreadable file or terms that cannot be read."""
    text, label = catalog_text(path)
    found = {}
    for item in raw_sources(text, label):
        if item.get("name") and item.get("terms") is not None:
            terms = parse_terms(item["terms"], f"{label}: source {item['name']!r}")
            if terms is not None:
                found[str(item["name"])] = terms
    return found


def raw_sources(text: str, label: str) -> list[dict[str, Any]]:
    """A catalog's source entries as written, ``${...}`` unfilled (what may be read of a catalog
    without a site manifest). CatalogError for text that is not YAML."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{label}: not valid YAML: {exc}") from None
    sources = data.get("sources") if isinstance(data, dict) else None
    return [item for item in sources or [] if isinstance(item, dict)]


def catalog_text(path: Path | str | None) -> tuple[str, str]:
    """The catalog's text and how errors name it (default: ``TDIR_CATALOG``, else the demo's)."""
    path = path or os.environ.get("TDIR_CATALOG")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise CatalogError(f"{path}: {exc.strerror or exc}") from None
    text = resources.files("crawler").joinpath(DEFAULT_CATALOG).read_text(encoding="utf-8")
    return text, f"crawler/{DEFAULT_CATALOG}"


def parse_catalog(text: str, label: str, variables: Mapping[str, str] | None = None) -> Catalog:
    """Check and load a catalog from its text; ``label`` names it in errors (CatalogError)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{label}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("sources"), list):
        raise CatalogError(f"{label}: expected a top-level 'sources:' list")
    values = {**os.environ, **(variables or {})}
    sources: dict[str, Source] = {}
    for index, raw in enumerate(data["sources"]):
        source = _source(_substitute(raw, values, f"{label}: sources[{index}]"), label, index)
        if source.name in sources:
            raise CatalogError(f"{label}: source {source.name!r} is listed twice")
        sources[source.name] = source
    return Catalog(sources=sources, path=label)


def placeholders(text: str) -> set[str]:
    """The names of the ``${NAME}`` placeholders in ``text``."""
    return set(_PLACEHOLDER.findall(text))


def site_variables(sites: Mapping[str, str]) -> dict[str, str]:
    """Turn a site manifest (``{"board-fl": "http://..."}``) into catalog variables
    (``{"BOARD_FL_URL": "http://..."}``)."""
    return {f"{name.upper().replace('-', '_')}_URL": url.rstrip("/") for name, url in sites.items()}


def _substitute(value: Any, values: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):

        def fill(match: re.Match[str]) -> str:
            name = match[1]
            if name not in values:
                raise CatalogError(f"{where}: ${{{name}}} is not set")
            return values[name]

        return _PLACEHOLDER.sub(fill, value)
    if isinstance(value, list):
        return [_substitute(v, values, where) for v in value]
    if isinstance(value, Mapping):
        return {k: _substitute(v, values, where) for k, v in value.items()}
    return value


def _source(raw: Any, label: str, index: int) -> Source:
    where = f"{label}: sources[{index}]"
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: each source must be a mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CatalogError(f"{where}: name {name!r} must be lower-case letters, digits, - or _")
    where = f"{label}: source {name!r}"
    kind = raw.get("kind")
    if kind not in SOURCE_KINDS:
        raise CatalogError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    spider = raw.get("spider")
    if spider not in SPIDERS:
        raise CatalogError(f"{where}: spider {spider!r} is not one of {', '.join(SPIDERS)}")
    start_urls = _urls(raw.get("start_urls"), f"{where}: start_urls")
    sitemap_urls = _urls(raw.get("sitemap_urls"), f"{where}: sitemap_urls")
    if not start_urls and not sitemap_urls:
        raise CatalogError(f"{where}: needs start_urls or sitemap_urls")
    allowed = tuple(str(d) for d in raw.get("allowed_domains") or ())
    hosts = {urlsplit(u).hostname or "" for u in (*start_urls, *sitemap_urls)}
    if allowed and not hosts <= set(allowed):
        raise CatalogError(f"{where}: start hosts {sorted(hosts)} are not all in allowed_domains")
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise CatalogError(f"{where}: options must be a mapping")
    if spider in ("html", "csv") and not options:
        raise CatalogError(f"{where}: the {spider} spider needs options (selectors or columns)")
    return Source(
        name=name,
        kind=kind,
        spider=spider,
        title=str(raw.get("title") or name),
        start_urls=start_urls,
        sitemap_urls=sitemap_urls,
        allowed_domains=allowed or tuple(sorted(h for h in hosts if h)),
        schedule=Schedule.parse(raw.get("schedule", {"every": "1d"}), where),
        enabled=bool(raw.get("enabled", True)),
        options=options,
        trap_budget=_trap_budget(raw.get("trap_budget", DEFAULT_TRAP_BUDGET), where),
        terms=parse_terms(raw.get("terms"), where),
    )


def _trap_budget(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 10 <= raw <= 1_000_000:
        raise CatalogError(f"{where}: trap_budget must be a whole number of pages, 10 to 1000000")
    return raw


def _urls(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, list):
        raise CatalogError(f"{where}: must be a list of URLs")
    for url in raw:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CatalogError(f"{where}: {url!r} is not an http(s) URL")
    return tuple(str(u) for u in raw)
