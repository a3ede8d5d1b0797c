"""Whether each catalog source can be crawled: what it still needs, without crawling it.

A catalog for the public web names sources that need something of their operator first: an API
key (Yelp, Google), a URL filled in from a ``${NAME}`` variable, perhaps an application token
that raises a rate limit. Such a source counts as disabled until it has what it needs: ``tdir
crawl --all`` leaves it out, saying why, and ``tdir sources check`` lists per source what is
missing, what its quota did on its last run, and whether its host answers.

What a source needs is read from its catalog entry, never from code per source:

- every ``${NAME}`` in the entry must be set (an environment variable or a ``--var``);
- ``options.api_key_variable`` names the environment variable that must hold its API key, unless
  the entry gives ``demo_api_key`` (the demo web's stand-ins);
- any other option ending in ``_env`` names an optional variable (an app token): unset, the
  source still runs, at the provider's lower anonymous rate;
- ``to_confirm`` lists what must still be checked against the provider's live pages (a page
  layout, a form's parameters, its terms) before the entry can be crawled: each is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from crawler.catalog import CatalogError, Source, parse_catalog, placeholders, raw_sources
from crawler.runs import CrawlStore, RunRecord

QUOTA_ERROR = "api/quota-exhausted"  # the error kind an API spider counts when its quota is spent
PROBE_TIMEOUT = 10.0  # seconds a reachability probe waits for an answer
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)\]'\"]+)")  # the OS's words inside a requests error


@dataclass
class SourceCheck:
    """What one source needs before it can be crawled, and what is known of it."""

    name: str
    title: str
    spider: str
    enabled: bool
    missing: list[str] = field(default_factory=list)  # each thing that stops a crawl
    notes: list[str] = field(default_factory=list)  # what is worth knowing but stops nothing
    reachability: str | None = None  # the probe's answer, when probed

    @property
    def ready(self) -> bool:
        """Enabled, and nothing missing."""
        return self.enabled and not self.missing


def check_catalog(
    text: str,
    label: str,
    *,
    variables: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    store: CrawlStore | None = None,
    probe: Callable[[str], str] | None = None,
) -> list[SourceCheck]:
    """Check every source of a catalog's text, in catalog order.

    ``variables`` fill ``${NAME}`` besides ``env`` (default: the environment); ``store`` is where
    the sources' last runs are (for their quota); ``probe`` asks a URL's host for an answer
    (see :func:`probe_url`), None: no probing. CatalogError for a catalog that cannot be read.
    """
    env = os.environ if env is None else env
    values = {**env, **(variables or {})}
    checks = []
    for raw in raw_sources(text, label):
        if not raw.get("name"):
            raise CatalogError(f"{label}: every source needs a name")
        unset = sorted(n for n in placeholders(yaml.safe_dump(raw)) if n not in values)
        check = SourceCheck(
            name=str(raw["name"]),
            title=str(raw.get("title") or raw["name"]),
            spider=str(raw.get("spider")),
            enabled=raw.get("enabled", True) is not False,
        )
        if not check.enabled:
            check.notes.append("disabled in the catalog")
        check.missing += [f"${{{name}}} is not set" for name in unset]
        check.missing += [f"to confirm: {item}" for item in _to_confirm(raw, label)]
        _check_options(raw.get("options") or {}, env, check)
        if not unset:
            # Filled, the entry is checked the way a crawl checks it (CatalogError if not).
            filled = parse_catalog(yaml.safe_dump({"sources": [raw]}), label, values)
            source = filled.get(check.name)
            if store is not None:
                _last_quota(store, source, check)
            if probe is not None:
                url = (source.start_urls or source.sitemap_urls)[0]
                check.reachability = probe(url)
        checks.append(check)
    return checks


def unready(sources: list[Source], env: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The sources of a loaded catalog that still lack something (an API key), with what."""
    env = os.environ if env is None else env
    found = {}
    for source in sources:
        check = SourceCheck(source.name, source.title, source.spider, source.enabled)
        _check_options(source.options, env, check)
        if check.missing:
            found[source.name] = check.missing
    return found


def probe_url(url: str) -> str:
    """Ask the host of ``url`` for its robots.txt (what a crawl asks first); say what came."""
    parts = urlsplit(url)
    robots = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        answer = requests.get(robots, timeout=PROBE_TIMEOUT, allow_redirects=True)
    except requests.RequestException as exc:
        return f"unreachable: {parts.netloc}: {_reason(exc)}"
    return f"reachable: {parts.netloc} answered HTTP {answer.status_code}"


def _to_confirm(raw: Mapping[str, Any], label: str) -> list[str]:
    """What the entry says must be confirmed before it can be crawled (CatalogError if the
    entry's ``to_confirm`` is not a list of texts)."""
    items = raw.get("to_confirm") or []
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise CatalogError(
            f"{label}: source {raw['name']!r}: to_confirm must be a list of what is still to "
            "be confirmed, in words"
        )
    return [" ".join(i.split()) for i in items]


def _check_options(options: Mapping[str, Any], env: Mapping[str, str], check: SourceCheck) -> None:
    key_variable = options.get("api_key_variable")
    if key_variable and not env.get(str(key_variable)):
        if options.get("demo_api_key"):
            check.notes.append(f"{key_variable} not set: using the demo web's key")
        else:
            check.missing.append(f"API key: set {key_variable}")
    for option, variable in options.items():
        if str(option).endswith("_env") and variable and not env.get(str(variable)):
            check.notes.append(f"{variable} not set (optional: {option}): the lower anonymous rate")


def _last_quota(store: CrawlStore, source: Source, check: SourceCheck) -> None:
    runs = store.runs(source.name)
    if not runs:
        check.notes.append("never crawled")
        return
    last: RunRecord = runs[-1]
    if last.errors.get(QUOTA_ERROR):
        check.notes.append(
            f"quota: its last run ({last.run_id}, {last.status}) stopped with the day's quota "
            "spent; the next crawl resumes it"
        )
    else:
        check.notes.append(f"last run {last.run_id}: {last.status}")


def _reason(exc: requests.RequestException) -> str:
    """Why a probe failed, in a few words ("Connection refused", "Name or service not known")."""
    if isinstance(exc, requests.Timeout):
        return f"no answer in {PROBE_TIMEOUT:.0f} s"
    found = _ERRNO.search(str(exc))
    return found[1].strip() if found else type(exc).__name__
