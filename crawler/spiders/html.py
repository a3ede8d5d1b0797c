"""The declarative HTML spider: sites without structured data, described by selectors.

Everything about a site lives in its catalog entry; this spider knows only how to walk links and
read the records the entry describes (see :mod:`crawler.extract.html_records` for record specs and
:mod:`crawler.extract.selectors` for the selector language).

Catalog options:
  start_params: {param: [value, ...]}
      query parameters added to every start URL, one request per value (the product over several
      parameters): a lookup form that needs a criterion is walked by, say, last-name initial.
  follow: [rule, ...]
      links to follow. A rule is a regex of absolute URLs (any link on any page), or a mapping
      {css|xpath: selector of the links (a elements or href values; default every a),
      allow: regex(es) the URL must match, deny: regex(es) it must not, on: regex(es) of the
      pages the rule applies to}.
  next: selector or [selector, ...]
      the next-page link of a paginated page. Pagination stops at a page that repeats an earlier
      one or brings nothing new (no new record, no new link): traps that serve endless pages end
      there, with a ``page/pagination-stopped`` error.
  ignore_params: [param, ...]
      query parameters that do not change what a page is about (page, sort): left out of the
      references records are keyed by, so every page of a profile names the same listing.
  records: [record spec, ...]
      the records on the pages, see :mod:`crawler.extract.html_records`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from parsel import Selector
from scrapy import Request
from scrapy.http import Response, TextResponse
from w3lib.url import canonicalize_url

from crawler.catalog import CatalogError, Source
from crawler.extract.html_records import RecordSpec, compile_record_specs, extract_records
from crawler.extract.markup import markup_problems
from crawler.extract.selectors import (
    SelectorSpecError,
    compile_patterns,
    compile_selector,
    is_xpath,
    select,
)
from crawler.spiders.base import SourceSpider

_OPTIONS = ("start_params", "follow", "next", "ignore_params", "records")


@dataclass(frozen=True)
class FollowRule:
    """Which links of which pages to follow."""

    selector: str = "a"
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    on: tuple[re.Pattern[str], ...] = ()

    def applies_to(self, page_url: str) -> bool:
        """Whether the rule looks at links of the page at ``page_url``."""
        return not self.on or any(p.search(page_url) for p in self.on)

    def wants(self, url: str) -> bool:
        """Whether a link to ``url`` (absolute) is followed."""
        if self.allow and not any(p.search(url) for p in self.allow):
            return False
        return not any(p.search(url) for p in self.deny)


@dataclass(frozen=True)
class HtmlSitePlan:
    """A catalog entry's options, checked and compiled."""

    records: tuple[RecordSpec, ...]
    follow: tuple[FollowRule, ...] = ()
    next: tuple[str, ...] = ()
    start_params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ignore_params: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> HtmlSitePlan:
        """Compile ``options``; SelectorSpecError says which option is wrong and why."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise SelectorSpecError(
                f"{where}: unknown option(s) {', '.join(sorted(unknown))}; "
                f"the html spider takes {', '.join(_OPTIONS)}"
            )
        return cls(
            records=compile_record_specs(options.get("records"), f"{where}.records"),
            follow=tuple(
                _follow_rule(rule, f"{where}.follow[{i}]")
                for i, rule in enumerate(_as_list(options.get("follow")))
            ),
            next=tuple(
                compile_selector(s, f"{where}.next[{i}]")
                for i, s in enumerate(_as_list(options.get("next")))
            ),
            start_params=_start_params(options.get("start_params"), f"{where}.start_params"),
            ignore_params=tuple(str(p) for p in _as_list(options.get("ignore_params"))),
        )

    def start_urls(self, urls: tuple[str, ...]) -> list[str]:
        """The start URLs with every combination of the start parameters added."""
        if not self.start_params:
            return list(urls)
        names = [name for name, _ in self.start_params]
        combos = list(itertools.product(*(values for _, values in self.start_params)))
        return [
            _with_params(url, dict(zip(names, combo, strict=True)))
            for url in urls
            for combo in combos
        ]


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _follow_rule(raw: Any, where: str) -> FollowRule:
    if isinstance(raw, str):
        return FollowRule(allow=compile_patterns(raw, where))
    if not isinstance(raw, Mapping):
        raise SelectorSpecError(f"{where}: a follow rule is a regex or a mapping")
    unknown = set(raw) - {"css", "xpath", "allow", "deny", "on"}
    if unknown:
        raise SelectorSpecError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "css" in raw and "xpath" in raw:
        raise SelectorSpecError(f"{where}: give css or xpath, not both")
    selector = "a"
    if "css" in raw:
        selector = compile_selector(raw["css"], f"{where}.css")
        if is_xpath(selector):
            raise SelectorSpecError(f"{where}.css: {selector!r} looks like XPath; use xpath")
    elif "xpath" in raw:
        xpath = str(raw["xpath"])
        # Bare selectors are told apart by how they start; keep a relative XPath recognisable.
        selector = compile_selector(xpath if is_xpath(xpath) else f"./{xpath}", f"{where}.xpath")
    return FollowRule(
        selector=selector,
        allow=compile_patterns(raw.get("allow"), f"{where}.allow"),
        deny=compile_patterns(raw.get("deny"), f"{where}.deny"),
        on=compile_patterns(raw.get("on"), f"{where}.on"),
    )


def _start_params(raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise SelectorSpecError(f"{where}: expected {{param: [value, ...]}}")
    params = []
    for name, values in raw.items():
        items = values if isinstance(values, list) else [values]
        if not items or not all(isinstance(v, str | int) for v in items):
            raise SelectorSpecError(f"{where}.{name}: expected a list of values")
        params.append((str(name), tuple(str(v) for v in items)))
    return tuple(params)


def _with_params(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class HtmlSpider(SourceSpider):
    """Walk a site by the catalog's link rules and read the records its selectors describe."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.plan = self.check_options(source)
        # Canonical URLs already asked for, and ids already emitted: what "new" means when
        # deciding whether a paginated page is worth going past.
        self._requested: set[str] = set()
        self._emitted: set[str] = set()

    @classmethod
    def check_options(cls, source: Source) -> HtmlSitePlan:
        """Compile the source's options; CatalogError names the source and option at fault."""
        if not source.start_urls:
            raise CatalogError(f"source {source.name!r}: the html spider needs start_urls")
        try:
            return HtmlSitePlan.from_options(source.options, f"source {source.name!r}: options")
        except SelectorSpecError as exc:
            raise CatalogError(str(exc)) from None

    async def start(self) -> AsyncIterator[Request]:
        for url in self.plan.start_urls(self.source.start_urls):
            self._requested.add(canonicalize_url(url))
            yield Request(url, callback=self.parse, errback=self.on_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:  # noqa: C901 - a page's records, links and next page in the order a generator must yield them
        """Yield the page's records, then the links and next page worth following."""
        page = self.text_response(response)
        if page is None:
            return
        for problem in markup_problems(page.body, page.url):
            # Lenient parsing still reads such a page; the broken template is worth knowing of.
            self.count_error(problem.kind)
            self.logger.info("%s: %s", problem.kind, problem.message)
        repeated = self.repeats_earlier_page(page)
        extraction = extract_records(
            page.selector,
            page.url,
            self.plan.records,
            self.provenance(page),
            source_kind=self.source.kind,
            ignore_params=self.plan.ignore_params,
        )
        for error in extraction.errors:
            self.count_error(error.kind)
            self.logger.info("%s: %s", error.kind, error.message)
        new_records = 0
        for record in extraction.records:
            if record.id not in self._emitted:
                self._emitted.add(record.id)
                new_records += 1
            yield record
        if repeated:
            return
        new_links = 0
        for url in self._follow_links(page):
            if self._first_time(url):
                new_links += 1
                yield Request(url, callback=self.parse, errback=self.on_error)
        next_pages = [u for u in self._links(page, self.plan.next) if self._is_ours(u)]
        if not next_pages:
            return
        if not new_records and not new_links:
            self.count_error("page/pagination-stopped")
            self.logger.info("not paginating past %s: nothing new on it", page.url)
            return
        for url in next_pages:
            if self._first_time(url):
                yield Request(url, callback=self.parse, errback=self.on_error)

    def _follow_links(self, page: TextResponse) -> Iterator[str]:
        for rule in self.plan.follow:
            if not rule.applies_to(page.url):
                continue
            for url in self._links(page, (rule.selector,)):
                if rule.wants(url) and self._is_ours(url):
                    yield url

    def _links(self, page: TextResponse, selectors: tuple[str, ...]) -> list[str]:
        urls: list[str] = []
        for selector in selectors:
            for node in select(page.selector, selector):
                href = _href(node)
                if not href:
                    continue
                url = page.urljoin(href.strip()).split("#", 1)[0]
                if urlsplit(url).scheme in ("http", "https") and url not in urls:
                    urls.append(url)
        return urls

    def _is_ours(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith(f".{d}") for d in self.allowed_domains)

    def _first_time(self, url: str) -> bool:
        key = canonicalize_url(url)
        if key in self._requested:
            return False
        self._requested.add(key)
        return True


def _href(node: Selector) -> str | None:
    root = node.root
    if isinstance(root, str):  # ::attr(href) or @href
        return root
    get = getattr(root, "get", None)
    return get("href") if get is not None else None
