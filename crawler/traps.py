"""Spider traps: URL templates that keep producing pages and never lead to a record.

A calendar with a page per day, a faceted search with every combination of filters: each page
is new, so neither the depth limit (hours of requests away) nor the repeated-content check (the
pages differ) stops them. Pages are grouped by URL template — the path and query with every run
of digits made ``{n}`` (``/calendar/2026/12/07`` -> ``/calendar/{n}/{n}/{n}``) — and a template
is *productive* once one of its pages yields a record, or leads to a page that does (the pages
of a city list yield no listing themselves but lead to profiles that do). When a template has
cost ``trap_budget`` pages (a source's catalog field, default 100) and is still unproductive,
no more of its links are followed; each link dropped is counted in the run record as
``trap/<template>``, so the run says where the crawl was caught. Any template that has cost
:data:`SUSPECT_PAGES` pages (or its budget, if lower) without a record, caught or not, is a
*suspected trap*: the run record's ``suspected_traps`` gives the pages it cost, and
``tdir crawl`` warns of it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.statscollectors import StatsCollector

from crawler.catalog import DEFAULT_TRAP_BUDGET

_DIGITS = re.compile(r"\d+")
_PARENT = "tdir_trap_parent"  # request meta: the template of the page that linked here
SUSPECT_PAGES = 50
SUSPECTED = "tdir/suspected-trap/"  # stats prefix: template -> pages it cost, 0 once productive


def url_template(url: str) -> str:
    """The URL's path and query with every run of digits made ``{n}``."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return _DIGITS.sub("{n}", target)


class TrapGuard(BaseSpiderMiddleware):
    """Spider middleware that stops following unproductive URL templates past a budget."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pages: Counter[str] = Counter()
        self.productive: set[str] = set()

    @property
    def budget(self) -> int:
        """Pages an unproductive template may cost: the source's ``trap_budget``."""
        source = getattr(self.crawler.spider, "source", None)
        return int(getattr(source, "trap_budget", DEFAULT_TRAP_BUDGET))

    def process_spider_input(self, response: Response) -> None:
        """Count the page against its template."""
        template = url_template(response.url)
        self.pages[template] += 1
        if template not in self.productive and self.pages[template] >= self.suspect_pages:
            self._stats.set_value(SUSPECTED + template, self.pages[template])

    @property
    def suspect_pages(self) -> int:
        """Pages after which an unproductive template is reported: a template the budget cut
        is always among them."""
        return min(SUSPECT_PAGES, self.budget)

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        """A record: its page's template is productive, and so is the one that led there."""
        if response is not None:
            self._productive(url_template(response.url))
            parent = response.meta.get(_PARENT)
            if parent:
                self._productive(parent)
        return item

    def _productive(self, template: str) -> None:
        if template in self.productive:
            return
        self.productive.add(template)
        if self.pages[template] >= self.suspect_pages:
            self._stats.set_value(SUSPECTED + template, 0)  # a long list after all, not a trap

    @property
    def _stats(self) -> StatsCollector:
        assert self.crawler.stats is not None
        return self.crawler.stats

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        """A link, unless its template is a trap: over budget and never productive."""
        if response is None:
            return request
        target = url_template(request.url)
        if target not in self.productive and self.pages[target] >= self.budget:
            self._stats.inc_value(f"tdir/error/trap/{target}")
            return None
        request.meta.setdefault(_PARENT, url_template(response.url))
        return request
