"""The NPPES file spider: the NPI registry's monthly full file and weekly updates, streamed.

The start URL is the registry's download page (https://download.cms.gov/nppes/NPI_Files.html);
the bundles it links are read one after the other, every weekly update file newest first and the
monthly full file last (:mod:`crawler.extract.nppes_downloads`), so that the newer version of
each NPI wins (:mod:`crawler.extract.nppes_merge`). Rows become records as
:mod:`crawler.extract.nppes` says: a person with the massage therapist taxonomy in any of the 15
taxonomy slots gives a listing and a registry record of the NPI.

Catalog options:
  taxonomy: 225700000X        the taxonomy code a kept row holds (massage therapist)
  record_url: https://npiregistry.cms.hhs.gov/provider-view/{npi}
                              a listing's source_ref, the registry's page of the NPI
  max_file_bytes: 8589934592  a bundle larger than this is refused (``download/too-large``)

Why the bundles are spooled: the full file is a ZIP of about a gigabyte holding a CSV of
several gigabytes. Scrapy holds a response body in memory, so the bundles are fetched by
:mod:`crawler.spooling` into a file on disk (the size limit lifted to ``max_file_bytes`` for
them alone), and the data file is read from the archive with ``zipfile`` and ``csv``, one row at
a time: neither the file nor its rows are ever held whole. Only the weekly files' NPIs are held,
until the full file has been read.

While a file is read, the spider gives the reactor a turn every :data:`PAUSE_EVERY` rows and
reports its progress (rows read and kept, rows per second) in its log and in the crawl stats
(``tdir/nppes/rows-read``, ``rows-kept``, ``rows-per-second``) every few seconds.

A crawl that is stopped (a first Ctrl+C) stops reading at the next pause: the position in the
file and what the weekly files gave are kept in the spider's state, and a request for the same
file, from that row on, in the job directory. The resumed run fetches the file again and goes on
from that row; every row before it was emitted already (a row emitted again would be the same
record: ids are made from the NPI).

Bad input is counted in the run record and the crawl goes on: a bundle without the data file
(``nppes/no-data-file``) or whose header lacks a needed column (``nppes/missing-columns``, the
error names every one) gives no record, and is noted as a failed page in the page ledger, so
that no listing it held before is judged gone; the other files are read as usual. A row with a
date that is not MM/DD/YYYY (``nppes/bad-date``), a license in a state code that names no US
state (``nppes/unknown-license-state``), a row the CSV reader refuses (``nppes/bad-row``) or
without a ten-digit NPI (``nppes/bad-npi``) is counted and logged.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from logging import Logger, LoggerAdapter
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.python.failure import Failure

from crawler.catalog import CatalogError, Source
from crawler.extract.npi import MASSAGE_THERAPIST_TAXONOMY
from crawler.extract.nppes import (
    DEACTIVATION_DATE,
    NPI,
    ORGANISATION,
    PERSON,
    RECORD_URL,
    BulkLayout,
    BulkRow,
    NppesFileError,
    massage_slots,
    open_data_file,
    read_row,
    records_for,
    valid_npi,
)
from crawler.extract.nppes_downloads import BulkFile, reading_order
from crawler.extract.nppes_merge import FULL_WINS, HeldVersion, UpdateMerge
from crawler.extract.result import ExtractionError
from crawler.items import CredentialRecord, Listing, Provenance
from crawler.ledger import page_failed
from crawler.runs import CrawlStore, utc_now
from crawler.spiders.base import SourceSpider
from crawler.spooling import SPOOL, SPOOLED, SPOOLED_SHA256

_OPTIONS = ("taxonomy", "record_url", "max_file_bytes")
DEFAULT_MAX_FILE_BYTES = 8 * 1024**3
PAUSE_EVERY = 2048  # rows read between two turns given to the reactor
PROGRESS_SECONDS = 5.0
STATE_KEY = "nppes"
# Problems of one kind logged one by one, before they are only counted.
_LOGGED_PER_KIND = 20
# Rows in a row the CSV reader refuses before the file is given up as unreadable.
_UNREADABLE_AFTER = 1000

Record = Listing | CredentialRecord


@dataclass(frozen=True)
class BulkOptions:
    """What a catalog entry asks of the registry's files."""

    taxonomy: str = MASSAGE_THERAPIST_TAXONOMY
    record_url: str = RECORD_URL
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> BulkOptions:
        """Check a catalog entry's options; CatalogError says what is wrong."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        record_url = str(options.get("record_url", RECORD_URL))
        if "{npi}" not in record_url:
            raise CatalogError(f"{where}.record_url: must hold {{npi}}")
        size = options.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise CatalogError(f"{where}.max_file_bytes: must be a positive number of bytes")
        taxonomy = str(options.get("taxonomy", MASSAGE_THERAPIST_TAXONOMY)).strip()
        if not taxonomy:
            raise CatalogError(f"{where}.taxonomy: must be a taxonomy code")
        return cls(taxonomy=taxonomy, record_url=record_url, max_file_bytes=size)


@dataclass
class BulkState:
    """What a run has read so far, kept in the spider's state for a resumed run."""

    plan: list[BulkFile]
    merge: UpdateMerge = field(default_factory=UpdateMerge)


class StreamProgress:
    """Rows read and kept while a file streams, in the log and the stats every few seconds."""

    def __init__(
        self,
        stats: StatsCollector,
        logger: Logger | LoggerAdapter[Logger],
        label: str,
        *,
        every: float = PROGRESS_SECONDS,
    ) -> None:
        self.stats = stats
        self.logger = logger
        self.label = label
        self.every = every
        self.read = 0
        self.kept = 0
        self._started = time.monotonic()
        self._reported = self._started

    def add(self, read: int, kept: int) -> None:
        """Count rows read and kept since the last call; report if it is time to."""
        self.read += read
        self.kept += kept
        self.stats.inc_value("tdir/nppes/rows-read", read)
        self.stats.inc_value("tdir/nppes/rows-kept", kept)
        if time.monotonic() - self._reported >= self.every:
            self.report()

    @property
    def rate(self) -> float:
        """Rows read per second in this file so far."""
        return self.read / max(time.monotonic() - self._started, 1e-6)

    def report(self, *, done: bool = False) -> None:
        """Log and record the progress now."""
        self._reported = time.monotonic()
        rate = self.rate
        self.stats.set_value("tdir/nppes/rows-per-second", round(rate))
        self.logger.info(
            "%s: %s%s rows read, %s kept (%s rows/s)",
            self.label,
            "done, " if done else "",
            f"{self.read:,}",
            f"{self.kept:,}",
            f"{rate:,.0f}",
        )


@dataclass
class _FileReading:
    """One file being read: where its rows go and what they gave."""

    index: int
    entry: BulkFile
    layout: BulkLayout
    data_file: str
    provenance: Provenance
    progress: StreamProgress
    kept: int = 0


class NppesFileSpider(SourceSpider):
    """Read the registry's bundles one after the other, streaming their data files."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.options = self.check_options(source)
        # Replaced by Scrapy's SpiderState with the saved state when a run is resumed.
        self.state: dict[str, Any] = {}
        self._logged: Counter[str] = Counter()

    @classmethod
    def check_options(cls, source: Source) -> BulkOptions:
        """Compile the source's options; CatalogError names the source and option at fault."""
        if len(source.start_urls) != 1:
            raise CatalogError(
                f"source {source.name!r}: the nppes_file spider needs one start URL, the "
                "registry's download page"
            )
        return BulkOptions.from_options(source.options, f"source {source.name!r}: options")

    # -- the download page ----------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        self._clear_spool()
        for url in self.source.start_urls:
            yield Request(url, callback=self.parse_downloads, errback=self.on_error)

    def parse_downloads(self, response: Response, **kwargs: Any) -> Iterator[Request]:
        """Plan the bundles the page links to, and ask for the first."""
        page = self.text_response(response)
        if page is None:
            return
        links = [page.urljoin(href.strip()) for href in page.css("a::attr(href)").getall()]
        plan = reading_order(links)
        if not plan:
            self._file_failed(response, "nppes/no-file-linked", f"{page.url} links to no bundle")
            return
        if not any(entry.kind == "full" for entry in plan):
            # Weekly files alone are a small part of the registry: read them, but let no
            # listing be judged gone because of this run.
            self._file_failed(
                response, "nppes/no-full-file", f"{page.url} links to no monthly full file"
            )
        self.state[STATE_KEY] = BulkState(plan=plan)
        self._stats().set_value("tdir/nppes/files", len(plan))
        self.logger.info("%s: reading %s", page.url, ", ".join(entry.name for entry in plan))
        yield self._file_request(0)

    # -- the bundles ----------------------------------------------------------------------------

    def _file_request(self, index: int, skip: int = 0, *, again: bool = False) -> Request:
        """The request of bundle ``index``, to be read from row ``skip`` on; ``again`` for a
        bundle this run asked for before (to read on after a stop)."""
        entry = self._bulk().plan[index]
        return Request(
            entry.url,
            callback=self.parse_file,
            errback=self.file_failed,
            cb_kwargs={"index": index, "skip": skip},
            meta={
                SPOOL: {"dir": str(self._spool_dir()), "max_bytes": self.options.max_file_bytes},
                "dont_cache": True,  # gigabytes do not belong in the HTTP cache
            },
            dont_filter=again,
        )

    async def parse_file(
        self, response: Response, index: int = 0, skip: int = 0, **kwargs: Any
    ) -> AsyncIterator[Record | Request]:
        """Stream one bundle's data file from row ``skip`` on; then ask for the next bundle."""
        spooled = response.meta.get(SPOOLED)
        if not spooled:
            # Fetched by Scrapy's own handler: the spooling middleware is not installed.
            self._file_failed(
                response, "nppes/not-spooled", f"{response.url} was not written to a file"
            )
            for item in self._after(index):
                yield item
            return
        path = Path(spooled)
        stopped = False
        try:
            if self._stopping():
                yield self._file_request(index, skip, again=True)
                return
            entry = self._bulk().plan[index]
            provenance = Provenance(
                self.source.name, response.url, utc_now(), str(response.meta[SPOOLED_SHA256])
            )
            try:
                with open_data_file(path, entry.name) as data:
                    reading = _FileReading(
                        index=index,
                        entry=entry,
                        layout=data.layout,
                        data_file=data.name,
                        provenance=provenance,
                        progress=StreamProgress(self._stats(), self.logger, entry.name),
                    )
                    async for item in self._stream(reading, data.rows, skip):
                        if isinstance(item, Request):
                            stopped = True
                        yield item
                if not stopped:
                    self._stats().inc_value("tdir/nppes/files-read")
            except NppesFileError as exc:
                self._file_failed(response, exc.kind, str(exc))
        finally:
            path.unlink(missing_ok=True)
        if not stopped:
            for item in self._after(index):
                yield item

    def file_failed(self, failure: Failure) -> Iterable[Any]:
        """Errback of a bundle: count the failure, then go on with the next bundle."""
        yield from self.on_error(failure)
        request = getattr(failure, "request", None)
        index = request.cb_kwargs.get("index", 0) if request is not None else 0
        self.logger.warning("%s could not be fetched: %s", getattr(request, "url", "?"), failure)
        yield from self._after(index)

    def _after(self, index: int) -> Iterator[Record | Request]:
        """The next bundle's request, or, after the last, the weekly versions never settled
        by a full file (NPIs newer than it, or every weekly one if it could not be read)."""
        bulk = self._bulk()
        if index + 1 < len(bulk.plan):
            yield self._file_request(index + 1)
            return
        for held in bulk.merge.leftovers():
            yield from held.records or ()

    async def _stream(
        self, reading: _FileReading, rows: Iterator[list[str]], skip: int
    ) -> AsyncIterator[Record | Request]:
        position = skip
        for _ in islice(_readable(rows, reading.entry.name), skip):
            pass
        read_since = kept_before = 0
        for row in _readable(rows, reading.entry.name):
            position += 1
            read_since += 1
            if isinstance(row, ExtractionError):
                self._problem(row)
            else:
                for record in self._row(reading, row):
                    yield record
            if read_since >= PAUSE_EVERY:
                reading.progress.add(read_since, reading.kept - kept_before)
                read_since, kept_before = 0, reading.kept
                await _breathe()
                if self._stopping():
                    self.logger.info("%s: stopped after row %s", reading.entry.name, position)
                    yield self._file_request(reading.index, position, again=True)
                    return
        reading.progress.add(read_since, reading.kept - kept_before)
        reading.progress.report(done=True)

    # -- rows -----------------------------------------------------------------------------------

    def _row(self, reading: _FileReading, row: list[str]) -> list[Record]:
        layout = reading.layout
        if not layout.complete(row):
            self._problem(
                ExtractionError(
                    "nppes/bad-row",
                    f"{reading.entry.name}: a row of {len(row)} columns (the header has "
                    f"{layout.width})",
                )
            )
            return []
        if reading.entry.kind == "weekly":
            self._weekly_row(reading, row)
            return []
        return self._full_row(reading, row)

    def _weekly_row(self, reading: _FileReading, row: list[str]) -> None:
        """Hold the row's version of its NPI until the full file is read."""
        bulk = self._read(reading, row, every_row=True)
        if bulk is None:
            return
        records: list[Record] | None = None
        if bulk.slots and bulk.entity_type == PERSON:
            records = self._records(reading, bulk)
        elif bulk.slots and bulk.entity_type == ORGANISATION:
            self._stats().inc_value("tdir/nppes/organisations")
        version = HeldVersion(
            as_of=bulk.as_of,
            file=reading.index,
            records=records,
            deactivated_on=bulk.values[DEACTIVATION_DATE] if bulk.deactivated else None,
            source_file=reading.data_file,
        )
        if not self._bulk().merge.offer(bulk.npi, version):
            self._stats().inc_value("tdir/nppes/superseded")

    def _full_row(self, reading: _FileReading, row: list[str]) -> list[Record]:
        """The records of a full file's row, unless a weekly file has a newer version."""
        merge = self._bulk().merge
        npi = row[reading.layout.index[NPI]].strip()
        slots = massage_slots(row, reading.layout, self.options.taxonomy)
        if not slots and npi not in merge.held:
            return []  # nearly every row: another taxonomy, and no newer version held
        bulk = self._read(reading, row, every_row=False)
        if bulk is None:
            return []
        settled = merge.settle(bulk.npi, bulk.as_of) if npi in merge.held else FULL_WINS
        if settled.use_full:
            if bulk.slots and bulk.entity_type == PERSON:
                return self._records(reading, bulk)
            if bulk.slots and bulk.entity_type == ORGANISATION:
                self._stats().inc_value("tdir/nppes/organisations")
            return []
        held = settled.held
        assert held is not None
        self._stats().inc_value("tdir/nppes/superseded")
        if held.records is not None:
            return held.records
        if settled.deactivated_on and bulk.slots and bulk.entity_type == PERSON:
            # The weekly file only says the NPI was deactivated: this row knows who it is.
            return self._records(
                reading,
                bulk,
                deactivated_on=settled.deactivated_on,
                deactivated_in=held.source_file,
            )
        return []  # the newer version is no massage therapist's

    def _read(self, reading: _FileReading, row: list[str], *, every_row: bool) -> BulkRow | None:
        bulk = read_row(row, reading.layout, self.options.taxonomy, reading.entry.name)
        if not valid_npi(bulk.npi):
            if every_row or bulk.slots:
                self._problem(
                    ExtractionError(
                        "nppes/bad-npi", f"{reading.entry.name}: NPI {bulk.npi!r} is not 10 digits"
                    )
                )
            return None
        if bulk.slots and bulk.entity_type == PERSON:
            for problem in bulk.problems:
                self._problem(problem)
        return bulk

    def _records(
        self,
        reading: _FileReading,
        bulk: BulkRow,
        *,
        deactivated_on: str | None = None,
        deactivated_in: str | None = None,
    ) -> list[Record]:
        records, problems = records_for(
            bulk,
            reading.provenance,
            taxonomy=self.options.taxonomy,
            record_url=self.options.record_url,
            data_file=reading.data_file,
            deactivated_on=deactivated_on,
        )
        for problem in problems:
            self._problem(problem)
        if deactivated_in:
            for record in records:
                record.extras["deactivated_in"] = deactivated_in
        if deactivated_on or bulk.deactivated:
            self._stats().inc_value("tdir/nppes/deactivated")
        reading.kept += 1
        return records

    # -- bookkeeping ----------------------------------------------------------------------------
    # Methods, not properties: Scrapy looks a spider's members over when it stores a request.

    def _bulk(self) -> BulkState:
        bulk = self.state.get(STATE_KEY)
        if not isinstance(bulk, BulkState):
            raise RuntimeError("a bundle was fetched before the download page was read")
        return bulk

    def _stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats

    def _stopping(self) -> bool:
        return not self.crawler.crawling

    def _spool_dir(self) -> Path:
        settings = self.crawler.settings
        home = settings.get("TDIR_HOME_PATH")
        if home:
            return CrawlStore(Path(home)).source_dir(self.source.name) / "spool"
        return Path(settings.get("JOBDIR") or ".") / "spool"

    def _clear_spool(self) -> None:
        """Remove what a crawl that died left in the spool directory."""
        directory = self._spool_dir()
        if directory.is_dir():
            for leftover in directory.glob("spool-*"):
                leftover.unlink(missing_ok=True)

    def _problem(self, problem: ExtractionError) -> None:
        self.count_error(problem.kind)
        self._logged[problem.kind] += 1
        if self._logged[problem.kind] <= _LOGGED_PER_KIND:
            self.logger.warning("%s: %s", problem.kind, problem.message)

    def _file_failed(self, response: Response, kind: str, message: str) -> None:
        """Count a file that gave nothing, and note its page as failed in the ledger."""
        self.count_error(kind)
        self.logger.error("%s", message)
        if response.request is not None:
            self.crawler.signals.send_catch_log(
                page_failed, request=response.request, kind=kind, status=None
            )


def _readable(rows: Iterator[list[str]], label: str) -> Iterator[list[str] | ExtractionError]:
    """The rows, with a row the CSV reader refuses given as a problem instead of an end."""
    refused = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            refused += 1
            if refused >= _UNREADABLE_AFTER:
                raise NppesFileError(f"{label}: unreadable as CSV ({exc})") from None
            yield ExtractionError("nppes/bad-row", f"{label}: {exc}")
            continue
        refused = 0
        yield row


async def _breathe() -> None:
    """Give the reactor a turn (signals, progress, other crawls) before reading on."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, 0, lambda: None))
