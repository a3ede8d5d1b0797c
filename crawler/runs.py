"""Where crawls keep what they gathered: append-only run directories and run records.

Layout under ``<TDIR_HOME>/crawl/<source>/``:

- ``runs/<run_id>/items.jsonl``: every record the run gathered (Scrapy feed export, JSON Lines);
- ``runs/<run_id>/run.json``: the run record (start/end, pages, items per type, errors by kind,
  finished or interrupted, and what changed since the source's previous complete run);
- ``runs/<run_id>/pages.tsv`` and ``links.tsv``: the page ledger (what became of each page,
  which page led where), by which a missing listing is judged gone or in doubt (ledger.py);
- ``runs/<run_id>/index.tsv``: one line per record, ``record_type<TAB>id<TAB>fingerprint``, so
  runs are compared without reading their records again (see :func:`record_fingerprint`);
- ``job/``: Scrapy's JOBDIR while a run is unfinished, so the next crawl of the source resumes it;
  removed when a run finishes;
- ``httpcache/``: cached responses for conditional recrawls;
- ``lock``: held by the process crawling the source, so two crawls never share a JOBDIR.

A run never rewrites another run's files, so nothing a run wrote is lost if a later one crashes.

Each run record counts, per record type, the records that are **new** (their id was not in the
source's previous complete run), **changed** (same id, different content), **unchanged** and
**vanished** (in the previous complete run, not in this one). Only a complete run can say what
vanished: an interrupted or failed run went through part of the source, so a record it did not
reach may well still be there.

A run stopped gracefully (a first Ctrl+C or SIGTERM) is ``interrupted`` and the next crawl of the
source resumes it from its JOBDIR. A run that crashed (killed, power lost) is still ``running``
on disk with nobody holding the lock; Scrapy writes its queue state only when it closes, so such
a JOBDIR cannot be trusted: the run is closed as ``failed`` (its records stay) and the next
crawl starts a new run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from crawler.errors import CatalogError

RunStatus = Literal["running", "finished", "interrupted", "failed"]
ChangeKind = Literal["new", "changed", "unchanged", "vanished"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("new", "changed", "unchanged", "vanished")
ITEMS_FILE = "items.jsonl"
RUN_FILE = "run.json"
INDEX_FILE = "index.tsv"
# Provenance that differs between two fetches of the same content: when it was fetched, and the
# hash of the whole page (a new review on a page changes the page, not the page's listing).
_FETCH_FIELDS = frozenset({"fetched_at", "content_hash"})
_RESUMABLE = "run_id"  # a file in the JOBDIR naming the run it belongs to
_LOCK = "lock"


class SourceBusyError(CatalogError):
    """Another process is crawling the source right now."""


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class RunRecord:
    """What one crawl of one source did."""

    source: str
    run_id: str
    started_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    finish_reason: str | None = None
    resumed: bool = False
    pages: int = 0  # responses the spiders got, from the network or the HTTP cache
    bytes: int = 0  # bytes received from the network (a 304 counts its headers only)
    items: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    robots_disallowed: int = 0
    not_modified: int = 0  # pages revalidated with a 304 and taken from the HTTP cache
    retried: int = 0  # download attempts repeated after a server error or timeout
    # record type -> {new, changed, unchanged, vanished}, against the run ``compared_with`` (the
    # source's previous complete run; None for the first); None until the run has ended.
    changes: dict[str, dict[str, int]] | None = None
    compared_with: str | None = None
    # Listings of the previous complete run that this one did not yield but could not tell gone
    # (their page, or a page on their way, failed): not counted as vanished (see ledger.py).
    in_doubt: int = 0
    # URL templates that cost many pages and led to no record (traps.py): template -> pages.
    suspected_traps: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when the run went through the whole source."""
        return self.status == "finished"

    def change_totals(self) -> dict[str, int] | None:
        """The change counts summed over every record type, or None if they were not counted."""
        if self.changes is None:
            return None
        return {
            kind: sum(counts.get(kind, 0) for counts in self.changes.values())
            for kind in CHANGE_KINDS
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Rebuild a record from its JSON form, ignoring fields newer versions added."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class CrawlStore:
    """The crawl directories of every source under one data directory."""

    def __init__(self, home: Path) -> None:
        self.root = home / "crawl"

    def source_dir(self, source: str) -> Path:
        """The directory of one source."""
        return self.root / source

    def job_dir(self, source: str) -> Path:
        """Scrapy's JOBDIR for the source's unfinished run."""
        return self.source_dir(source) / "job"

    def http_cache_dir(self, source: str) -> Path:
        """Cached responses of the source, for conditional recrawls."""
        return self.source_dir(source) / "httpcache"

    def run_dir(self, source: str, run_id: str) -> Path:
        """The directory of one run."""
        return self.source_dir(source) / "runs" / run_id

    @contextlib.contextmanager
    def lock(self, source: str) -> Iterator[None]:
        """Hold the source's lock for the block; SourceBusyError if another process has it."""
        path = self.source_dir(source) / _LOCK
        path.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = path.open("a", encoding="utf-8")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SourceBusyError(
                    f"source {source!r} is being crawled by another process"
                ) from None
            yield
        finally:
            handle.close()  # closing the file releases the lock

    def start_run(self, source: str) -> tuple[str, bool]:
        """Return the run to crawl into: the interrupted one if there is one, else a new one.

        Call it holding :meth:`lock`. Returns ``(run_id, resumed)``; a new run's record is
        written at once (status ``running``), so every run directory has one.
        """
        job = self.job_dir(source)
        marker = job / _RESUMABLE
        if marker.exists():
            run_id = marker.read_text(encoding="utf-8").strip()
            record = self._record_or_none(source, run_id)
            if record is not None and record.status == "interrupted":
                self._drop_partial_line(self.items_path(source, run_id))
                return run_id, True
            if record is not None and record.status == "running":
                # Under the lock, "running" means its process died without closing the run.
                record.status = "failed"
                record.finish_reason = "crashed"
                self.write_record(record)
            shutil.rmtree(job)  # nothing trustworthy to resume
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.run_dir(source, run_id).mkdir(parents=True, exist_ok=False)
        self.write_record(RunRecord(source=source, run_id=run_id, started_at=utc_now()))
        job.mkdir(parents=True, exist_ok=True)
        marker.write_text(run_id, encoding="utf-8")
        return run_id, False

    def _record_or_none(self, source: str, run_id: str) -> RunRecord | None:
        try:
            return self.read_record(source, run_id)
        except (OSError, ValueError, TypeError):
            return None

    @staticmethod
    def _drop_partial_line(path: Path) -> None:
        """Cut a last line left half-written, so that appended records start on a line."""
        if not path.exists():
            return
        with path.open("rb+") as items:
            size = items.seek(0, os.SEEK_END)
            if size == 0:
                return
            items.seek(size - 1)
            if items.read(1) == b"\n":
                return
            # Read backwards in blocks to the last newline; a record is far below 1 MB.
            position = size
            while position > 0:
                step = min(65536, position)
                position -= step
                items.seek(position)
                block = items.read(step)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    items.truncate(position + newline + 1)
                    return
            items.truncate(0)

    def end_job(self, source: str) -> None:
        """Forget the JOBDIR once its run finished: the next crawl starts afresh."""
        shutil.rmtree(self.job_dir(source), ignore_errors=True)

    def write_record(self, record: RunRecord) -> None:
        """Write a run record atomically (a crash leaves the old or the new one, whole)."""
        path = self.run_dir(record.source, record.run_id) / RUN_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def read_record(self, source: str, run_id: str) -> RunRecord:
        """Read one run record."""
        path = self.run_dir(source, run_id) / RUN_FILE
        return RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def latest_complete(self, source: str) -> RunRecord | None:
        """The source's latest finished run, or None."""
        return next((r for r in reversed(self.runs(source)) if r.complete), None)

    def runs(self, source: str) -> list[RunRecord]:
        """Every run record of a source, oldest first."""
        runs_dir = self.source_dir(source) / "runs"
        if not runs_dir.exists():
            return []
        return [
            self.read_record(source, d.name)
            for d in sorted(runs_dir.iterdir())
            if (d / RUN_FILE).exists()
        ]

    def sources(self) -> list[str]:
        """Every source that has been crawled at least once."""
        if not self.root.exists():
            return []
        return sorted(d.name for d in self.root.iterdir() if (d / "runs").exists())

    def previous_complete(self, source: str, run_id: str) -> RunRecord | None:
        """The source's latest finished run that started before ``run_id``, or None."""
        earlier = (r for r in reversed(self.runs(source)) if r.run_id < run_id)
        return next((r for r in earlier if r.complete), None)

    def items_path(self, source: str, run_id: str) -> Path:
        """The JSON Lines file of a run's records."""
        return self.run_dir(source, run_id) / ITEMS_FILE

    def index_path(self, source: str, run_id: str) -> Path:
        """The file of a run's record ids and fingerprints."""
        return self.run_dir(source, run_id) / INDEX_FILE

    def write_index(self, source: str, run_id: str, records: Iterable[dict[str, Any]]) -> int:
        """(Re)write a run's index from records in their feed form, atomically; return the
        number of lines written."""
        path = self.index_path(source, run_id)
        tmp = path.with_suffix(".tsv.tmp")
        count = 0
        with tmp.open("w", encoding="utf-8") as index:
            for data in records:
                if "id" in data:
                    index.write(index_line(data))
                    count += 1
        os.replace(tmp, path)
        return count

    def read_index(self, source: str, run_id: str) -> dict[str, dict[str, str]]:
        """A run's records as ``{record_type: {id: fingerprint}}``.

        From the run's index file; a run without one (written before runs had indexes, or
        killed before its pipeline closed) is indexed from its records.
        """
        index: dict[str, dict[str, str]] = {}
        path = self.index_path(source, run_id)
        if not path.exists():
            for data in self.records(source, run_id):
                if "id" in data:
                    kind = str(data.get("record_type"))
                    index.setdefault(kind, {})[data["id"]] = record_fingerprint(data)
            return index
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:  # a line cut short by a crash is skipped
                    kind, record_id, fingerprint = parts
                    index.setdefault(kind, {})[record_id] = fingerprint
        return index

    def records(self, source: str, run_id: str) -> Iterator[dict[str, Any]]:
        """Every record a run wrote; a line cut short by a crash is skipped."""
        path = self.items_path(source, run_id)
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def record_fingerprint(data: Mapping[str, Any]) -> str:
    """The hash of a record's content in its feed form: every field but when it was fetched.

    Two fetches of an unchanged listing get the same fingerprint; any change to what the source
    says about it (an address, a rating, a credential) gives another.
    """
    content = dict(data)
    provenance = content.get("provenance")
    if isinstance(provenance, Mapping):
        content["provenance"] = {k: v for k, v in provenance.items() if k not in _FETCH_FIELDS}
    text = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def index_line(data: Mapping[str, Any]) -> str:
    """One line of a run's index file for a record in its feed form."""
    return f"{data.get('record_type')}\t{data['id']}\t{record_fingerprint(data)}\n"


def count_changes(
    before: Mapping[str, Mapping[str, str]] | None,
    after: Mapping[str, Mapping[str, str]],
    *,
    complete: bool,
) -> dict[str, dict[str, int]]:
    """Compare two run indexes (``{record_type: {id: fingerprint}}``), per record type.

    ``before`` is the previous complete run's (None: there is none, everything is new).
    Vanished records are counted only when ``after`` is a ``complete`` run: a partial run not
    reaching a record says nothing about whether the source still has it.
    """
    before = before or {}
    changes: dict[str, dict[str, int]] = {}
    for kind in sorted(set(before) | set(after)):
        old = before.get(kind, {})
        new = after.get(kind, {})
        counts: dict[str, int] = dict.fromkeys(CHANGE_KINDS, 0)
        for record_id, fingerprint in new.items():
            previous = old.get(record_id)
            if previous is None:
                counts["new"] += 1
            elif previous == fingerprint:
                counts["unchanged"] += 1
            else:
                counts["changed"] += 1
        if complete:
            counts["vanished"] = sum(1 for record_id in old if record_id not in new)
        changes[kind] = counts
    return changes
