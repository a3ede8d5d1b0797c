"""The NPI registry spider: providers of one taxonomy from the NPI registry API (version 2.1).

The API answers at most 200 results a request and stops honouring ``skip`` past 1000, so one
query reaches at most 1,200 providers. A query whose last reachable page is still full may have
been cut short; it is split into narrower ones by postal-code prefix ("78*", then "787*"...)
until each fits. Errors come back with HTTP 200 as ``{"Errors": [...]}``; they are counted as
``npi/api-error`` and logged with the registry's description.

Catalog options:
  criteria: {field: value}  the API's search fields every query shares, e.g.
                            {taxonomy_description: Massage Therapist}
  states: [AL, AK, ...]     one query per state (criteria + state); without it, one query
                            (the API refuses a state on its own, so criteria are required)
  taxonomy: 225700000X      only records of this taxonomy code are kept (massage therapist)
  page_size: 200            results asked for per request (at most 200)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from scrapy import Request
from scrapy.http import Response

from crawler.catalog import CatalogError, Source
from crawler.extract.npi import (
    MASSAGE_THERAPIST_TAXONOMY,
    MAX_LIMIT,
    NpiApiError,
    may_be_truncated,
    next_skip,
    page_params,
    parse_npi_response,
)
from crawler.spiders.base import SourceSpider

_OPTIONS = ("criteria", "states", "taxonomy", "page_size")
# The API needs two characters before a trailing wildcard; a full ZIP+4 cannot be narrowed.
_FIRST_PREFIX = 2
_LONGEST_POSTAL_CODE = 9


def narrower_queries(criteria: Mapping[str, str]) -> list[dict[str, str]]:
    """Split a query that may be truncated into queries by the next postal-code digit.

    Returns no queries when the postal code cannot be narrowed any further.
    """
    current = criteria.get("postal_code")
    if current is None:
        stems = [f"{n:0{_FIRST_PREFIX}d}" for n in range(10**_FIRST_PREFIX)]
    else:
        stem = current.rstrip("*")
        if len(stem) >= _LONGEST_POSTAL_CODE:
            return []
        stems = [f"{stem}{digit}" for digit in range(10)]
    return [
        {
            **criteria,
            "postal_code": stem if len(stem) == _LONGEST_POSTAL_CODE else f"{stem}*",
        }
        for stem in stems
    ]


@dataclass(frozen=True)
class NpiHarvest:
    """What a catalog entry asks of the registry: the queries, and the taxonomy kept."""

    queries: tuple[Mapping[str, str], ...]
    taxonomy: str = MASSAGE_THERAPIST_TAXONOMY
    page_size: int = MAX_LIMIT

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> NpiHarvest:
        """Check a catalog entry's options; CatalogError says what is wrong."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        criteria = options.get("criteria") or {}
        if not isinstance(criteria, Mapping):
            raise CatalogError(f"{where}.criteria: expected {{field: value}}")
        states = options.get("states") or []
        if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
            raise CatalogError(f"{where}.states: expected a list of state codes")
        if not criteria:
            # The API refuses a state on its own (error 07): a query needs something more.
            raise CatalogError(f"{where}.criteria: give at least one search criterion")
        page_size = options.get("page_size", MAX_LIMIT)
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise CatalogError(f"{where}.page_size: must be a number")
        if not 1 <= page_size <= MAX_LIMIT:
            raise CatalogError(f"{where}.page_size: must be 1 to {MAX_LIMIT}")
        base = {str(k): str(v) for k, v in criteria.items()}
        queries = tuple({**base, "state": s} for s in states) if states else (base,)
        return cls(
            queries=queries,
            taxonomy=str(options.get("taxonomy", MASSAGE_THERAPIST_TAXONOMY)),
            page_size=page_size,
        )


class NpiApiSpider(SourceSpider):
    """Page through registry searches, splitting the ones the API would cut short."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.harvest = self.check_options(source)
        # Split queries overlap the one they came from; each record is emitted once.
        self._emitted: set[str] = set()

    @classmethod
    def check_options(cls, source: Source) -> NpiHarvest:
        """Compile the source's options; CatalogError names the source and option at fault."""
        if not source.start_urls:
            raise CatalogError(f"source {source.name!r}: the npi_api spider needs start_urls")
        return NpiHarvest.from_options(source.options, f"source {source.name!r}: options")

    async def start(self) -> AsyncIterator[Request]:
        for endpoint in self.source.start_urls:
            for criteria in self.harvest.queries:
                yield self._request(endpoint, criteria, 0)

    def _request(self, endpoint: str, criteria: Mapping[str, str], skip: int) -> Request:
        params = page_params(skip, self.harvest.page_size, **criteria)
        parts = urlsplit(endpoint)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))
        return Request(
            url,
            callback=self.parse,
            errback=self.on_error,
            cb_kwargs={"endpoint": endpoint, "criteria": dict(criteria), "skip": skip},
        )

    def parse(
        self,
        response: Response,
        endpoint: str = "",
        criteria: Mapping[str, str] | None = None,
        skip: int = 0,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield the page's records, then the next page or the narrower queries."""
        criteria = dict(criteria or {})
        try:
            page = parse_npi_response(response.body, self.provenance(response))
        except NpiApiError as exc:
            self.count_error("npi/api-error" if exc.errors else "npi/bad-response")
            self.logger.warning("%s: %s", response.url, exc)
            return
        kept = 0
        for record in page.records:
            if record.extras.get("taxonomy_code") != self.harvest.taxonomy:
                continue
            kept += 1
            if record.id not in self._emitted:
                self._emitted.add(record.id)
                yield record
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("tdir/npi/other-taxonomy", len(page.records) - kept)
        following = next_skip(skip, self.harvest.page_size, page.returned)
        if following is not None:
            yield self._request(endpoint, criteria, following)
        elif may_be_truncated(skip, self.harvest.page_size, page.returned):
            narrower = narrower_queries(criteria)
            if not narrower:
                self.count_error("npi/truncated")
                self.logger.warning(
                    "%s: results past the API's paging limit are unreachable", response.url
                )
            for query in narrower:
                yield self._request(endpoint, query, 0)
