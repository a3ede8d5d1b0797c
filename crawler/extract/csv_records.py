"""Credential records from the CSV data files registries publish (licensee lists).

Rows are mapped onto credential records by :mod:`crawler.extract.record_mapping` (the same
mapping the Socrata spider uses): columns by header name, per-column parsers, constants, the
license types kept. Catalog options of a ``csv`` source:

  columns, constants, only, ref, required   the mapping (see crawler.extract.record_mapping)
  files: regex(es) of links to CSV files on the start pages (default: links ending in .csv).
  delimiter: ","                  the field separator.
  encoding: utf-8                 tried first; windows-1252 when the file is not valid in it.

A column's ``parse:`` reads a cell written in a fixed shape (:mod:`crawler.extract.cells`):

  date_format: "%m%d%Y"           eight-digit dates such as TDLR's ``08102027`` (or ``iso``)
  name_order: last_first          ``LAST, FIRST MIDDLE``; the parts go to extras["name_parts"]
  city_state_zip                  ``AUSTIN, TX 78704`` or ``AUSTIN TX 78704``: the field gets
                                  the city, region and postal_code the state and the ZIP

For example, the Texas Department of Licensing and Regulation's license file (header
``LICENSE TYPE, LICENSE NUMBER, BUSINESS COUNTY, BUSINESS NAME, BUSINESS ADDRESS-LINE1,
BUSINESS ADDRESS-LINE2, "BUSINESS CITY, STATE ZIP", BUSINESS TELEPHONE, LICENSE EXPIRATION DATE
(MMDDCCYY), OWNER NAME, MAILING ADDRESS LINE1, MAILING ADDRESS LINE2, "MAILING ADDRESS CITY,
STATE ZIP", MAILING ADDRESS COUNTY, OWNER TELEPHONE, LICENSE SUBTYPE, CONTINUING EDUCATION
FLAG``, some years with more columns at the end; the file as published on the state's open data
portal, https://data.texas.gov/dataset/TDLR-All-Licenses/7358-krk7) is mapped with::

    columns:
      number: LICENSE NUMBER
      credential: LICENSE TYPE
      name: {column: OWNER NAME, parse: {name_order: last_first}}
      expires: {column: "LICENSE EXPIRATION DATE (MMDDCCYY)", parse: {date_format: "%m%d%Y"}}
      city: {column: "MAILING ADDRESS CITY, STATE ZIP", parse: city_state_zip}
    only: {credential: [Massage Therapist]}     # establishments are businesses, not people
    required: [name, number, credential, expires]

The file has no status column: a license past its expiry date is expired, so the expiry is
required (a row without one could never be told lapsed). The file's own date (its
``Last-Modified``) is kept as ``extras["data_as_of"]``: the day the expiry dates were current.

Files may start with a byte-order mark, quote fields, carry columns nobody asked for and blank
lines; a row that cannot be used is counted as an error, never the end of the file. A header
without a mapped column is one ``csv/missing-column`` error naming the file and every missing
column; without a required one no row of that file is read (nothing it could give is right).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.catalog import CatalogError
from crawler.extract.record_mapping import MappedRow, RecordMapping, column_key
from crawler.extract.result import ExtractionError
from crawler.items import Provenance

_OPTIONS = ("files", "delimiter", "encoding")
_DEFAULT_FILES = (r"\.csv(?:$|\?)",)
# Python's csv module refuses fields over 128 KiB by default; a registry's notes column can be
# longer, and the download size limit already bounds the whole file.
csv.field_size_limit(8 * 1024 * 1024)


@dataclass(frozen=True)
class CsvMapping:
    """How one registry's CSV files are found and read, and their rows mapped."""

    rows: RecordMapping
    files: tuple[re.Pattern[str], ...]
    delimiter: str = ","
    encoding: str = "utf-8"

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> CsvMapping:
        """Check and compile a catalog entry's options; CatalogError says what is wrong."""
        rows = RecordMapping.from_options(options, where, transport=_OPTIONS)
        files_raw = options.get("files", list(_DEFAULT_FILES))
        files = []
        for pattern in files_raw if isinstance(files_raw, list) else [files_raw]:
            try:
                files.append(re.compile(str(pattern)))
            except re.error as exc:
                raise CatalogError(f"{where}.files: bad regex {pattern!r}: {exc}") from None
        delimiter = str(options.get("delimiter", ","))
        if len(delimiter) != 1:
            raise CatalogError(f"{where}.delimiter: must be one character")
        return cls(
            rows=rows,
            files=tuple(files),
            delimiter=delimiter,
            encoding=str(options.get("encoding", "utf-8")),
        )

    def is_file(self, url: str) -> bool:
        """Whether a link points at one of the registry's CSV files."""
        return any(p.search(url) for p in self.files)


def decode_csv(body: bytes, encoding: str = "utf-8") -> str:
    """Return a CSV file's text: a byte-order mark dropped, windows-1252 when not ``encoding``."""
    for candidate in (encoding, "cp1252"):
        try:
            text = body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.removeprefix("\ufeff")
    return body.decode("latin-1").removeprefix("\ufeff")


def parse_csv(
    text: str,
    mapping: CsvMapping,
    provenance: Provenance,
    *,
    source_kind: str,
    data_as_of: str | None = None,
) -> Iterator[MappedRow]:
    """Yield a credential record for every usable row of a CSV file, an error for every other,
    and a :class:`~crawler.extract.record_mapping.LeftOut` for a row of a type not kept.

    Rows are streamed, so a large file is never held as records all at once.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    url = provenance.url
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            yield ExtractionError("csv/empty", f"{url}: no header row")
            return
        keys = [column_key(h) for h in header]
        missing = mapping.rows.missing_columns(set(keys))
        if missing:
            unusable = [f for f in mapping.rows.required if f in missing]
            yield ExtractionError("csv/missing-column", _missing_message(url, missing, unusable))
            if unusable:
                return
        # The first of two columns of the same name counts, as a person reading the file sees.
        first = {key: i for i, key in reversed(list(enumerate(keys)))}
        wanted = {key: i for key, i in first.items() if key in mapping.rows.column_keys}
        # A row may stop after the last column the mapping reads; one stopping before is short.
        width = max(wanted.values(), default=-1) + 1
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < width:
                yield ExtractionError(
                    "csv/short-row", f"{url}: line {line} has {len(row)} of {len(header)} fields"
                )
            cells = {key: row[i] for key, i in wanted.items() if i < len(row)}
            yield from mapping.rows.map_row(
                cells,
                provenance,
                source_kind=source_kind,
                position=f"line {line}",
                data_as_of=data_as_of,
                row_extras={"line": line},
            )
    except csv.Error as exc:
        yield ExtractionError("csv/unreadable", f"{url}: line {reader.line_num}: {exc}")


def _missing_message(url: str, missing: Mapping[str, list[str]], unusable: list[str]) -> str:
    lacking = "; ".join(
        f"{name} ({', '.join(repr(c) for c in cols)})" for name, cols in missing.items()
    )
    consequence = (
        f"no row was read: {', '.join(unusable)} {'is' if len(unusable) == 1 else 'are'} required"
        if unusable
        else "rows were read without them"
    )
    return f"{url}: the header has no column for {lacking}; {consequence}"
