"""The catalog as the scheduler reads it: source by source, so one broken entry stays one.

``load_catalog`` rejects the whole catalog when one source is wrong, which is right for a crawl
an admin starts by hand but would stop every scheduled crawl over one typo. Here each entry is
read on its own: its name, whether it is enabled and its schedule are read cheaply for
scheduling, and :meth:`CatalogView.check` runs the catalog's own full validation on that entry
alone when it is about to be crawled. A crawl is given a catalog file holding only its source
(:meth:`CatalogView.write_source_catalog`), so other entries cannot break it either.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from crawler.catalog import DEFAULT_CATALOG, CatalogError, Schedule, Source, load_catalog
from crawler.catalog import site_variables as manifest_variables
from crawler.scheduling.errors import ScheduleError
from crawler.scheduling.triggers import check_schedule
from tdir.config import Settings

DEFAULT_SCHEDULE = {"every": "1d"}  # what load_catalog assumes for an entry without one


@dataclass(frozen=True)
class CatalogEntry:
    """One source entry as written, with what scheduling needs read from it."""

    name: str
    raw: Mapping[str, Any]
    enabled: bool
    schedule: Schedule | None  # None when the entry's schedule cannot be read
    problem: str | None = None  # found without a full check: unreadable schedule, listed twice

    @property
    def title(self) -> str:
        """The source's title, else its name."""
        return str(self.raw.get("title") or self.name)


@dataclass(frozen=True)
class CatalogView:
    """Every entry of a catalog file by name, and what is wrong with the file as a whole."""

    label: str
    digest: str  # changes whenever the file's text does
    header: Mapping[str, Any] = field(default_factory=dict)  # top-level keys but 'sources'
    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    problem: str | None = None  # the file could not be read as a catalog at all

    def entry(self, name: str) -> CatalogEntry:
        """The entry named ``name``; ScheduleError naming the known sources if there is none."""
        if self.problem is not None and not self.entries:
            raise ScheduleError(self.problem)
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(self.entries) or "none"
            raise ScheduleError(f"unknown source {name!r}; the catalog has: {known}") from None

    def check(self, name: str, variables: Mapping[str, str]) -> Source:
        """Validate one entry as a crawl would, alone; CatalogError naming it if it is broken."""
        if self.problem is not None:
            raise CatalogError(self.problem)
        entry = self.entry(name)
        if entry.problem is not None:
            raise CatalogError(entry.problem)
        with tempfile.TemporaryDirectory(prefix="tdir-catalog-") as tmp:
            path = self.write_source_catalog(name, Path(tmp))
            try:
                catalog = load_catalog(path, variables)
            except CatalogError as exc:
                # The message names the temporary file; name the admin's catalog instead.
                raise CatalogError(str(exc).replace(str(path), self.label)) from None
        source = catalog.get(name)
        check_schedule(source.schedule, f"{self.label}: source {name!r}")
        return source

    def write_source_catalog(self, name: str, directory: Path) -> Path:
        """Write a catalog file holding only ``name``'s entry (and the file's other top-level
        keys) into ``directory``; return its path."""
        text = self.source_document(name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def source_document(self, name: str) -> str:
        """The text of a catalog holding only ``name``'s entry (and the file's other top-level
        keys): what a crawl of the source is given."""
        entry = self.entry(name)
        document = {**self.header, "sources": [dict(entry.raw)]}
        return yaml.safe_dump(document, sort_keys=False)


def read_catalog(path: Path | str | None = None) -> CatalogView:
    """Read a catalog file entry by entry (default: ``TDIR_CATALOG``, else the packaged demo
    catalog). Never raises for the file's content: problems are reported on the view and its
    entries."""
    path = path or os.environ.get("TDIR_CATALOG")
    try:
        if path:
            label = str(path)
            text = Path(path).read_text(encoding="utf-8")
        else:
            label = f"crawler/{DEFAULT_CATALOG}"
            text = resources.files("crawler").joinpath(DEFAULT_CATALOG).read_text(encoding="utf-8")
    except OSError as exc:
        return CatalogView(label=str(path), digest="", problem=f"catalog {path}: {exc}")
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return CatalogView(label, digest, problem=f"{label}: not valid YAML: {exc}")
    if not isinstance(data, Mapping) or not isinstance(data.get("sources"), list):
        return CatalogView(label, digest, problem=f"{label}: expected a top-level 'sources:' list")
    header = {k: v for k, v in data.items() if k != "sources"}
    entries: dict[str, CatalogEntry] = {}
    for raw in data["sources"]:
        # An entry without a usable name cannot be scheduled; the full check of any named
        # entry is unaffected by it, and a crawl of all sources reports it.
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            continue
        name = raw["name"]
        if name in entries:
            entries[name] = _entry(name, raw, f"{label}: source {name!r} is listed twice")
            continue
        entries[name] = _entry(name, raw, None, label)
    return CatalogView(label, digest, header, entries)


def _entry(
    name: str, raw: Mapping[str, Any], problem: str | None, label: str | None = None
) -> CatalogEntry:
    schedule: Schedule | None = None
    if problem is None:
        where = f"{label}: source {name!r}"
        try:
            schedule = Schedule.parse(raw.get("schedule", DEFAULT_SCHEDULE), where)
            check_schedule(schedule, where)
        except CatalogError as exc:
            problem, schedule = str(exc), None
    return CatalogEntry(
        name=name,
        raw=raw,
        enabled=bool(raw.get("enabled", True)),
        schedule=schedule,
        problem=problem,
    )


def crawl_variables(home: Path) -> dict[str, str]:
    """The catalog variables a ``tdir crawl`` in ``home`` fills ``${NAME}`` with: the sites of
    the manifest (``TDIR_SITES``, else ``$TDIR_HOME/sites.json`` if it exists)."""
    settings = Settings.from_env({**os.environ, "TDIR_HOME": str(home)})
    manifest = settings.sites_manifest
    if not manifest.exists():
        return {}
    try:
        return manifest_variables(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"site manifest {manifest}: {exc}") from None
