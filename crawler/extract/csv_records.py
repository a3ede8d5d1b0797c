"""Credential records from the CSV data files registries publish (licensee lists).

Columns are mapped to credential-record fields by header name in the catalog; what is the same
for every row (the issuer, the state) is given as constants.

Catalog options of a ``csv`` source:
  columns: {field: header, ...}   field: name, number, credential, state, city, status, issued,
                                  expires, npi, street, locality, region, postal_code, address,
                                  telephone, or extras.<key>; a header may be a list of spellings.
                                  Headers match without case or surrounding spaces.
  constants: {field: value, ...}  the same for every row, e.g. issuer, state, credential.
  files: regex(es) of links to CSV files on the start pages (default: links ending in .csv).
  ref: [field, ...]               what identifies a row at the issuer (default: [number]).
  required: [field, ...]          rows without them are counted and skipped
                                  (default: name, number, credential).
  delimiter: ","                  the field separator.
  encoding: utf-8                 tried first; windows-1252 when the file is not valid in it.

Files may start with a byte-order mark, quote fields, carry columns nobody asked for and blank
lines; a row that cannot be used is counted as an error, never the end of the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.catalog import CatalogError
from crawler.extract.credentials import valid_npi
from crawler.extract.html_records import FIELDS as RECORD_FIELDS
from crawler.extract.html_records import ISSUER_KINDS, issuer_kind, postal_address
from crawler.extract.result import ExtractionError
from crawler.items import CredentialRecord, Provenance, stable_id

# The same credential-record fields the declarative HTML spider maps onto.
FIELDS = RECORD_FIELDS["credential_record"]
_OPTIONS = ("columns", "constants", "files", "ref", "required", "delimiter", "encoding")
_EXTRAS = "extras."
_DEFAULT_FILES = (r"\.csv(?:$|\?)",)
# Python's csv module refuses fields over 128 KiB by default; a registry's notes column can be
# longer, and the download size limit already bounds the whole file.
csv.field_size_limit(8 * 1024 * 1024)


@dataclass(frozen=True)
class CsvMapping:
    """How one registry's CSV files become credential records."""

    columns: Mapping[str, tuple[str, ...]]
    constants: Mapping[str, str]
    files: tuple[re.Pattern[str], ...]
    ref: tuple[str, ...] = ("number",)
    required: tuple[str, ...] = ("name", "number", "credential")
    delimiter: str = ","
    encoding: str = "utf-8"

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> CsvMapping:
        """Check and compile a catalog entry's options; CatalogError says what is wrong."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        raw_columns = options.get("columns")
        if not isinstance(raw_columns, Mapping) or not raw_columns:
            raise CatalogError(f"{where}.columns: expected {{field: header}}")
        columns: dict[str, tuple[str, ...]] = {}
        for name, headers in raw_columns.items():
            _check_field(name, f"{where}.columns")
            spellings = headers if isinstance(headers, list) else [headers]
            if not spellings or not all(isinstance(h, str) and h.strip() for h in spellings):
                raise CatalogError(f"{where}.columns.{name}: expected a header or a list of them")
            columns[name] = tuple(_header_key(h) for h in spellings)
        constants_raw = options.get("constants") or {}
        if not isinstance(constants_raw, Mapping):
            raise CatalogError(f"{where}.constants: expected {{field: value}}")
        for name in constants_raw:
            _check_field(name, f"{where}.constants")
        constants = {k: str(v) for k, v in constants_raw.items()}
        kind = constants.get("issuer_kind")
        if kind is not None and kind not in ISSUER_KINDS:
            raise CatalogError(
                f"{where}.constants.issuer_kind: {kind!r} is not one of {', '.join(ISSUER_KINDS)}"
            )
        if "issuer" not in columns and "issuer" not in constants:
            raise CatalogError(f"{where}: give the issuer as a column or a constant")
        files_raw = options.get("files", list(_DEFAULT_FILES))
        files = []
        for pattern in files_raw if isinstance(files_raw, list) else [files_raw]:
            try:
                files.append(re.compile(str(pattern)))
            except re.error as exc:
                raise CatalogError(f"{where}.files: bad regex {pattern!r}: {exc}") from None
        ref = _field_list(options.get("ref", ["number"]), f"{where}.ref")
        required = _field_list(
            options.get("required", ["name", "number", "credential"]), f"{where}.required"
        )
        for name in (*ref, *required):
            if name not in columns and name not in constants:
                raise CatalogError(f"{where}: {name} is neither a column nor a constant")
        delimiter = str(options.get("delimiter", ","))
        if len(delimiter) != 1:
            raise CatalogError(f"{where}.delimiter: must be one character")
        return cls(
            columns=columns,
            constants=constants,
            files=tuple(files),
            ref=ref,
            required=required,
            delimiter=delimiter,
            encoding=str(options.get("encoding", "utf-8")),
        )

    def is_file(self, url: str) -> bool:
        """Whether a link points at one of the registry's CSV files."""
        return any(p.search(url) for p in self.files)


def _check_field(name: Any, where: str) -> None:
    if not isinstance(name, str) or not (
        name in FIELDS or (name.startswith(_EXTRAS) and len(name) > len(_EXTRAS))
    ):
        raise CatalogError(
            f"{where}: {name!r} is not a credential-record field; "
            f"use {', '.join(sorted(FIELDS))} or extras.<key>"
        )


def _field_list(raw: Any, where: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{where}: expected a list of fields")
    for item in items:
        _check_field(item, where)
    return tuple(items)


def _header_key(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").split()).casefold()


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
) -> Iterator[CredentialRecord | ExtractionError]:
    """Yield a credential record for every usable row of a CSV file, an error for every other.

    Rows are streamed, so a large file is never held as records all at once.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    url = provenance.url
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            yield ExtractionError("csv/empty", f"{url}: no header row")
            return
        keys = [_header_key(h) for h in header]
        index: dict[str, int] = {}
        for name, spellings in mapping.columns.items():
            found = next((keys.index(s) for s in spellings if s in keys), None)
            if found is None:
                yield ExtractionError(
                    "csv/missing-column", f"{url}: no column {' / '.join(spellings)!r} for {name}"
                )
            else:
                index[name] = found
        unusable = [f for f in mapping.required if f in mapping.columns and f not in index]
        if unusable:
            # Without a required column no row could be used: one error says so, not thousands.
            return
        width = max(index.values(), default=-1) + 1
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < width:
                yield ExtractionError(
                    "csv/short-row", f"{url}: line {line} has {len(row)} of {len(header)} fields"
                )
            values = dict(mapping.constants)
            for name, i in index.items():
                cell = row[i].strip() if i < len(row) else ""
                if cell:
                    values[name] = cell
            record = _record(values, mapping, provenance, source_kind, line)
            if isinstance(record, CredentialRecord) and "npi_raw" in record.extras:
                raw = record.extras["npi_raw"]
                yield ExtractionError("value/npi-invalid", f"{url}: line {line}: NPI {raw!r}")
            yield record
    except csv.Error as exc:
        yield ExtractionError("csv/unreadable", f"{url}: line {reader.line_num}: {exc}")


def _record(
    values: dict[str, str],
    mapping: CsvMapping,
    provenance: Provenance,
    source_kind: str,
    line: int,
) -> CredentialRecord | ExtractionError:
    for name in (*mapping.required, "issuer"):
        if not values.get(name):
            kind = f"credential/no-{name.replace('_', '-').replace('.', '-')}"
            return ExtractionError(kind, f"{provenance.url}: line {line} has no {name}")
    ref = "/".join(values.get(name, "") for name in mapping.ref)
    extras: dict[str, Any] = {
        k.removeprefix(_EXTRAS): v for k, v in values.items() if k.startswith(_EXTRAS)
    }
    extras["source_ref"] = ref
    extras["line"] = line
    npi_raw = values.get("npi")
    npi = valid_npi(npi_raw) if npi_raw else None
    if npi_raw and npi is None:
        extras["npi_raw"] = npi_raw
    return CredentialRecord(
        id=stable_id(provenance.source, ref),
        provenance=provenance,
        issuer_kind=issuer_kind(values.get("issuer_kind"), source_kind),
        issuer=values["issuer"],
        credential_raw=values.get("credential", ""),
        number=values.get("number"),
        name_raw=values.get("name", ""),
        state=values.get("state"),
        city_raw=values.get("city"),
        status_raw=values.get("status"),
        issued_raw=values.get("issued"),
        expires_raw=values.get("expires"),
        npi=npi,
        address=postal_address(values.get),
        telephone_raw=values.get("telephone"),
        extras=extras,
    )
