"""How a registry's rows become credential records: one mapping for its files and its API.

A registry's licensee file (CSV) and its open-data API (Socrata) both hand over rows of named
cells; a catalog entry says, per credential-record field, which cell holds it and in what shape.
The transports (:mod:`crawler.extract.csv_records`, :mod:`crawler.extract.socrata`) only turn
their bytes into rows of cells; this module maps every row the same way.

Mapping options of a catalog entry (the csv and socrata spiders add their own):

  columns: {field: column, ...}  field: name, number, credential, state, city, status, issued,
                                 expires, npi, street, locality, region, postal_code, address,
                                 telephone, or extras.<key>. A column is
                                 - its name (a CSV header or an API field name), or a list of
                                   spellings of it (CSV headers match without case or
                                   surrounding spaces);
                                 - or {column: name, parse: parser}: the cell read by a parser
                                   of :mod:`crawler.extract.cells` (date_format, name_order,
                                   city_state_zip);
                                 - or {template: "{lastname}, {firstname} {middlename}",
                                   parse: ...}: several cells joined (spaces and dangling
                                   commas of empty cells dropped).
  constants: {field: value, ...} the same for every row, e.g. issuer, state, credential.
  only: {field: [value, ...]}    rows whose field is none of these are left out, counted as
                                 such and not as errors: a file of every license type, whose
                                 businesses (a massage establishment) are no person's credential.
  ref: [field, ...]              what identifies a row at the issuer (default: [number]).
  required: [field, ...]         rows without them are counted and skipped
                                 (default: name, number, credential).

A cell not in the shape its parser declares is counted (``value/date-format``,
``value/name-order``, ``value/city-state-zip``); the row is skipped when the field is required,
else kept without it. A ``state`` that is no US state code skips the row
(``value/state-unknown``): a license number means nothing without the state that issued it.
What a parser read is the field's value (an ISO date, say); the cell as written is kept in the
record's ``extras["as_written"]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any

from crawler.catalog import CatalogError
from crawler.extract.cells import CellError, CellParser, Parsed, compile_parser, state_code
from crawler.extract.credentials import valid_npi
from crawler.extract.html_records import FIELDS as RECORD_FIELDS
from crawler.extract.html_records import ISSUER_KINDS, issuer_kind, postal_address
from crawler.extract.result import ExtractionError
from crawler.items import CredentialRecord, Provenance, stable_id

# The same credential-record fields the declarative HTML spider maps onto.
FIELDS = RECORD_FIELDS["credential_record"]
MAPPING_OPTIONS = ("columns", "constants", "only", "ref", "required")
_EXTRAS = "extras."
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def column_key(name: str) -> str:
    """How a column name is matched: without case, byte-order mark or extra spaces."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Column:
    """Where one field's value comes from, and how its cell is read."""

    spellings: tuple[str, ...] = ()  # one column's spellings, as column_key()s
    template: str | None = None  # or several columns joined: "{lastname}, {firstname}"
    parse: CellParser | None = field(default=None, compare=False)
    parse_spec: str = ""  # the parser as the catalog wrote it: two fields, one reading

    @property
    def sources(self) -> tuple[tuple[str, ...], ...]:
        """The columns it reads, each as its spellings."""
        if self.template is None:
            return (self.spellings,)
        return tuple((column_key(n),) for n in _PLACEHOLDER.findall(self.template))

    def read(self, cells: Mapping[str, str]) -> str:
        """The raw text of the field in one row ("" when its cells are empty)."""
        if self.template is None:
            return next((cells[s] for s in self.spellings if cells.get(s)), "").strip()
        text = _PLACEHOLDER.sub(lambda m: cells.get(column_key(m[1]), ""), self.template)
        return " ".join(text.split()).strip(" ,")


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A row the ``only`` option leaves out (another license type): no error, counted apart."""

    field: str
    value: str


MappedRow = CredentialRecord | ExtractionError | LeftOut


@dataclass(frozen=True)
class RecordMapping:
    """A catalog entry's mapping of rows onto credential records."""

    columns: Mapping[str, Column]
    constants: Mapping[str, str]
    only: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ref: tuple[str, ...] = ("number",)
    required: tuple[str, ...] = ("name", "number", "credential")

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], where: str, transport: tuple[str, ...] = ()
    ) -> RecordMapping:
        """Check and compile a catalog entry's options (``transport``: the spider's own option
        names, checked by it); CatalogError says what is wrong and where."""
        unknown = set(options) - set(MAPPING_OPTIONS) - set(transport)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        raw_columns = options.get("columns")
        if not isinstance(raw_columns, Mapping) or not raw_columns:
            raise CatalogError(f"{where}.columns: expected {{field: column}}")
        columns: dict[str, Column] = {}
        for name, raw in raw_columns.items():
            _check_field(name, f"{where}.columns")
            columns[name] = _column(raw, f"{where}.columns.{name}")
        constants = _constants(options.get("constants") or {}, f"{where}.constants")
        if "issuer" not in columns and "issuer" not in constants:
            raise CatalogError(f"{where}: give the issuer as a column or a constant")
        only = _only(options.get("only") or {}, f"{where}.only")
        ref = _field_list(options.get("ref", ["number"]), f"{where}.ref")
        required = _field_list(
            options.get("required", ["name", "number", "credential"]), f"{where}.required"
        )
        for name in (*ref, *required, *only):
            if name not in columns and name not in constants:
                raise CatalogError(f"{where}: {name} is neither a column nor a constant")
        return cls(columns=columns, constants=constants, only=only, ref=ref, required=required)

    @cached_property
    def column_keys(self) -> frozenset[str]:
        """Every column_key() the mapping may read."""
        return frozenset(s for c in self.columns.values() for source in c.sources for s in source)

    def missing_columns(self, available: set[str]) -> dict[str, list[str]]:
        """Fields whose columns are not among ``available`` (column_key()s): field -> the
        columns it lacks, as the catalog spells them."""
        missing: dict[str, list[str]] = {}
        for name, column in self.columns.items():
            lacking = [" / ".join(s) for s in column.sources if not set(s) & available]
            if lacking:
                missing[name] = lacking
        return missing

    def map_row(
        self,
        cells: Mapping[str, str],
        provenance: Provenance,
        *,
        source_kind: str,
        position: str,
        data_as_of: str | None = None,
        row_extras: Mapping[str, Any] | None = None,
    ) -> Iterator[MappedRow]:
        """The record one row makes (or why it makes none), and the problems met on the way.

        ``cells`` are keyed by column_key(); ``position`` says where the row is ("line 12");
        ``data_as_of`` is the ISO date the issuer's data describes, when it says so;
        ``row_extras`` are kept in the record's extras (its line in the file, say).
        """
        where = f"{provenance.url}: {position}"
        values = dict(self.constants)
        for name, column in self.columns.items():
            text = column.read(cells)
            if text:
                values[name] = text
        for name, allowed in self.only.items():
            if values.get(name, "").casefold() not in allowed:
                yield LeftOut(name, values.get(name, ""))
                return
        reading = _RowReading(where)
        usable = self._parse_cells(values, reading) and _known_state(values, reading)
        yield from reading.errors
        if not usable:
            return
        extras: dict[str, Any] = {**(row_extras or {}), **reading.extras}
        if reading.as_written:
            extras["as_written"] = reading.as_written
        if data_as_of:
            extras["data_as_of"] = data_as_of
        record = self._record(values, extras, provenance, source_kind, where)
        if isinstance(record, CredentialRecord) and "npi_raw" in record.extras:
            raw = record.extras["npi_raw"]
            yield ExtractionError("value/npi-invalid", f"{where}: NPI {raw!r}")
        yield record

    def _parse_cells(self, values: dict[str, str], reading: _RowReading) -> bool:
        """Read the cells of fields with a parser; False when a required one cannot be read."""
        for name, column in self.columns.items():
            if column.parse is None or name not in values:
                continue
            parsed = reading.read(name, column, values.pop(name))
            if parsed is None:
                if name in self.required:
                    return False
                continue
            values[name] = parsed.value
            values.update({k: v for k, v in parsed.other_fields.items() if k not in self.columns})
            reading.extras.update(parsed.extras)
        return True

    def _record(
        self,
        values: dict[str, str],
        extras: dict[str, Any],
        provenance: Provenance,
        source_kind: str,
        where: str,
    ) -> CredentialRecord | ExtractionError:
        for name in (*self.required, "issuer"):
            if not values.get(name):
                kind = f"credential/no-{name.replace('_', '-').replace('.', '-')}"
                return ExtractionError(kind, f"{where} has no {name}")
        ref = "/".join(values.get(name, "") for name in self.ref)
        extras.update(
            {k.removeprefix(_EXTRAS): v for k, v in values.items() if k.startswith(_EXTRAS)}
        )
        extras["source_ref"] = ref
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


@dataclass
class _RowReading:
    """What reading one row's cells gave: errors, extras, the cells as written."""

    where: str
    errors: list[ExtractionError] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    as_written: dict[str, str] = field(default_factory=dict)
    # Two fields may read one cell the same way (city and locality): one reading, one error.
    _readings: dict[tuple[str, str], Parsed | CellError] = field(default_factory=dict)

    def read(self, name: str, column: Column, text: str) -> Parsed | None:
        """The field's cell read by its parser, or None (the error noted) when it cannot be."""
        assert column.parse is not None
        self.as_written[name] = text
        key = (text, column.parse_spec)
        if key not in self._readings:
            try:
                self._readings[key] = column.parse(text)
            except CellError as exc:
                self._readings[key] = exc
                self.errors.append(ExtractionError(exc.kind, f"{self.where}: {name}: {exc}"))
        found = self._readings[key]
        return None if isinstance(found, CellError) else found


def _known_state(values: dict[str, str], reading: _RowReading) -> bool:
    """Put the state in its USPS form; False (the error noted) when it names no US state."""
    if not values.get("state"):
        return True
    try:
        values["state"] = state_code(values["state"])
    except CellError as exc:
        reading.errors.append(ExtractionError(exc.kind, f"{reading.where}: state: {exc}"))
        return False
    return True


def data_date(last_modified: bytes | str | None, fetched_at: str) -> str | None:
    """The ISO day a registry's file or answer describes: its ``Last-Modified`` date, when it
    gives one earlier than the day it was fetched (a file regenerated nightly says today)."""
    if not last_modified:
        return None
    text = last_modified.decode("latin-1") if isinstance(last_modified, bytes) else last_modified
    try:
        modified = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    fetched = datetime.fromisoformat(fetched_at)
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return modified.date().isoformat() if modified < fetched else None


def _column(raw: Any, where: str) -> Column:
    if isinstance(raw, str | list):
        return Column(spellings=_spellings(raw, where))
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a column, a list of spellings or {{column: ...}}")
    unknown = set(raw) - {"column", "template", "parse"}
    if unknown or ("column" in raw) == ("template" in raw):
        raise CatalogError(f"{where}: give either column or template (and parse)")
    parse = None
    if "parse" in raw:
        try:
            parse = compile_parser(raw["parse"])
        except ValueError as exc:
            raise CatalogError(f"{where}.parse: {exc}") from None
    spec = repr(raw.get("parse"))
    if "template" in raw:
        template = raw["template"]
        if not isinstance(template, str) or not _PLACEHOLDER.search(template):
            raise CatalogError(f"{where}.template: expected text with {{column}} placeholders")
        return Column(template=template, parse=parse, parse_spec=spec)
    spellings = _spellings(raw["column"], f"{where}.column")
    return Column(spellings=spellings, parse=parse, parse_spec=spec)


def _spellings(raw: Any, where: str) -> tuple[str, ...]:
    spellings = raw if isinstance(raw, list) else [raw]
    if not spellings or not all(isinstance(h, str) and h.strip() for h in spellings):
        raise CatalogError(f"{where}: expected a column name or a list of spellings")
    return tuple(column_key(h) for h in spellings)


def _constants(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected {{field: value}}")
    for name in raw:
        _check_field(name, where)
    constants = {k: str(v) for k, v in raw.items()}
    kind = constants.get("issuer_kind")
    if kind is not None and kind not in ISSUER_KINDS:
        raise CatalogError(f"{where}.issuer_kind: {kind!r} is not one of {', '.join(ISSUER_KINDS)}")
    if "state" in constants:
        try:
            constants["state"] = state_code(constants["state"])
        except CellError as exc:
            raise CatalogError(f"{where}.state: {exc}") from None
    return constants


def _only(raw: Any, where: str) -> dict[str, frozenset[str]]:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected {{field: [value, ...]}}")
    only: dict[str, frozenset[str]] = {}
    for name, accepted in raw.items():
        _check_field(name, where)
        listed = accepted if isinstance(accepted, list) else [accepted]
        if not listed or not all(isinstance(v, str) and v.strip() for v in listed):
            raise CatalogError(f"{where}.{name}: expected a value or a list of values")
        only[name] = frozenset(v.strip().casefold() for v in listed)
    return only


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
