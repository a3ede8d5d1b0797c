"""Credential records from a Socrata open-data API (SODA): the queries, the pages, the errors.

Many states publish their license tables on Socrata portals (data.wa.gov, data.ct.gov,
data.colorado.gov...). A dataset is read at ``GET /resource/<dataset-id>.json`` with SoQL
parameters (https://dev.socrata.com/docs/queries/): ``$select`` (here: the columns the mapping
reads, so a renamed column is refused by the portal rather than silently empty), ``$where``,
``$order`` and ``$limit``/``$offset`` paging. Pages are ordered by ``:id`` unless the catalog says
otherwise, which keeps the order stable while paging, and the last page is the first one shorter
than ``$limit`` (https://dev.socrata.com/docs/paging.html). Rows are JSON objects; a null field
is left out of its row; dates are floating timestamps (``2027-06-30T00:00:00.000``, read with
``parse: {date_format: iso}``). An application token, sent as ``X-App-Token``, raises the rate
limit (https://dev.socrata.com/docs/app-tokens.html). Refused queries answer 4xx with a JSON body
naming the problem (``errorCode`` ``query.soql.no-such-column``, or ``code`` and ``message``;
https://dev.socrata.com/docs/response-codes.html).

Catalog options of a ``socrata`` source (start_urls: dataset endpoints, ``.../resource/<id>.json``):

  columns, constants, only, ref, required   the mapping (see crawler.extract.record_mapping);
                                            a column is one API field name, or a template
  where: "credentialtype = 'Massage Therapist License'"   a SoQL condition the portal applies
  order: ":id"                  the $order kept while paging (default :id)
  page_size: 1000               rows asked for a page ($limit; default 1000, at most 50,000)
  app_token_env: NAME           the environment variable holding an application token
                                (none set: the dataset is read without one)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from crawler.catalog import CatalogError
from crawler.extract.record_mapping import MappedRow, RecordMapping, column_key
from crawler.items import Provenance

_OPTIONS = ("where", "order", "page_size", "app_token_env")
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 50_000  # the most a SODA 2.0 endpoint returns a request
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD_NAME = re.compile(r"^:?[a-z_][a-z0-9_]*$")


class SocrataAnswerError(ValueError):
    """A page that is not a JSON array of rows."""


@dataclass(frozen=True)
class SocrataDataset:
    """How one catalog entry reads a Socrata dataset: the query, the paging and the mapping."""

    rows: RecordMapping
    where: str | None = None
    order: str = ":id"
    page_size: int = DEFAULT_PAGE_SIZE
    app_token_env: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> SocrataDataset:
        """Check and compile a catalog entry's options; CatalogError says what is wrong."""
        rows = RecordMapping.from_options(options, where, transport=_OPTIONS)
        for name, column in rows.columns.items():
            for spellings in column.sources:
                if len(spellings) != 1 or not _FIELD_NAME.match(spellings[0]):
                    raise CatalogError(
                        f"{where}.columns.{name}: a Socrata column is one API field name "
                        "(lower case, letters, digits and _)"
                    )
        condition = options.get("where")
        if condition is not None and (not isinstance(condition, str) or not condition.strip()):
            raise CatalogError(f"{where}.where: expected a SoQL condition")
        order = options.get("order", ":id")
        if not isinstance(order, str) or not order.strip():
            raise CatalogError(f"{where}.order: expected a SoQL $order such as ':id'")
        page_size = options.get("page_size", DEFAULT_PAGE_SIZE)
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise CatalogError(f"{where}.page_size: must be a number")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise CatalogError(f"{where}.page_size: must be 1 to {MAX_PAGE_SIZE}")
        token_env = options.get("app_token_env")
        if token_env is not None and (
            not isinstance(token_env, str) or not _ENV_NAME.match(token_env)
        ):
            raise CatalogError(f"{where}.app_token_env: expected an environment variable name")
        return cls(
            rows=rows,
            where=condition.strip() if condition else None,
            order=order.strip(),
            page_size=page_size,
            app_token_env=token_env,
        )

    @property
    def select(self) -> str:
        """The $select: every column the mapping reads, in catalog order."""
        names: list[str] = []
        for column in self.rows.columns.values():
            for (name,) in column.sources:
                if name not in names:
                    names.append(name)
        return ",".join(names)

    def page_url(self, endpoint: str, offset: int) -> str:
        """The URL of the page starting at row ``offset``."""
        params = {"$select": self.select}
        if self.where:
            params["$where"] = self.where
        params |= {"$order": self.order, "$limit": str(self.page_size), "$offset": str(offset)}
        parts = urlsplit(endpoint)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))

    def next_offset(self, offset: int, returned: int) -> int | None:
        """The offset of the next page, or None when this one was the last (a short page)."""
        return offset + returned if returned >= self.page_size else None


def page_rows(body: bytes) -> list[dict[str, Any]]:
    """The rows of one page; SocrataAnswerError when the body is not a JSON array of objects."""
    try:
        rows = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SocrataAnswerError(f"not JSON: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SocrataAnswerError("not a JSON array of rows")
    return rows


def map_page(
    rows: list[dict[str, Any]],
    dataset: SocrataDataset,
    provenance: Provenance,
    *,
    source_kind: str,
    offset: int,
    data_as_of: str | None = None,
) -> Iterator[MappedRow]:
    """Map one page's rows (row ``offset + 1`` first) as the catalog entry says."""
    for n, row in enumerate(rows, start=offset + 1):
        cells = {column_key(name): _text(value) for name, value in row.items()}
        yield from dataset.rows.map_row(
            cells, provenance, source_kind=source_kind, position=f"row {n}", data_as_of=data_as_of
        )


def error_description(body: bytes) -> str:
    """What a refused query's body says (Socrata's error code and message), for the log."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body[:200].decode("utf-8", "replace").strip() or "(no body)"
    if not isinstance(payload, dict):
        return str(payload)[:200]
    code = payload.get("errorCode") or payload.get("code") or "error"
    return f"{code}: {payload.get('message', '')}".strip()


def _text(value: Any) -> str:
    """A cell as text: numbers and booleans as written, a URL column by its URL."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return value["url"]
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)
