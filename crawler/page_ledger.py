"""The page ledger's spider middleware: it writes what became of every page a run asked for and
which page led to which (the files :mod:`crawler.ledger` reads back).

It also refetches a page that held a listing in the source's
previous complete run and now yields none: the copy it got (a cached page the server confirmed,
a body cut short under a matching Content-Length) is fetched again in full, bypassing the HTTP
cache, before the listing can be judged gone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.httpcache import REFRESH
from crawler.items import Listing
from crawler.ledger import GONE_STATUSES, LINKS_FILE, PAGES_FILE, page_failed
from crawler.runs import CrawlStore

# What one download of a request left in its meta, which a fresh request must not inherit.
_PER_ATTEMPT_META = frozenset({"retry_times", "cached_response", "download_latency"})


class PageLedger:
    """Spider middleware keeping the run's page ledger, and refetching pages that lost a listing.

    Placed close to the spider, so it sees every link the spider yields before any other
    middleware drops one (a link the trap guard drops was still a path to its page).
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = CrawlStore(settings["TDIR_HOME_PATH"])
        self.source: str = settings["TDIR_SOURCE"]
        self.run_id: str = settings["TDIR_RUN_ID"]
        self.outcomes: dict[str, str] = {}
        self.held_listing = _listing_pages(self.store, self.source, self.run_id)
        # Written as the run goes (a resumed run appends), so the run recorder reads it whole
        # when the spider closes, whichever of the two hears of the closing first.
        run_dir = self.store.run_dir(self.source, self.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        self._pages = (run_dir / PAGES_FILE).open("a", encoding="utf-8", buffering=1)
        self._links = (run_dir / LINKS_FILE).open("a", encoding="utf-8", buffering=1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageLedger:
        ledger = cls(crawler)
        crawler.signals.connect(ledger.page_failed, signal=page_failed)
        crawler.signals.connect(ledger.spider_closed, signal=signals.spider_closed)
        return ledger

    def page_failed(self, request: Request, kind: str | None, status: int | None) -> None:
        """The errback's report of a request that failed for good."""
        if status in GONE_STATUSES:
            self._note_outcome(request.url, "gone")
        elif kind is not None:
            self._note_outcome(request.url, f"failed:{kind}")

    def process_spider_input(self, response: Response) -> None:
        """A page that reached the spider came (and so did the URLs that redirected to it)."""
        for redirected in response.meta.get("redirect_urls", ()):
            self._note_outcome(redirected, "ok")
            self._note_link(redirected, response.url)
        self._note_outcome(response.url, "ok")

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any]
    ) -> Iterator[Any]:
        listings = 0
        for output in result:
            listings += self._note(output, response)
            yield output
        refetch = self._refetch(response, listings)
        if refetch is not None:
            yield refetch

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        listings = 0
        async for output in result:
            listings += self._note(output, response)
            yield output
        refetch = self._refetch(response, listings)
        if refetch is not None:
            yield refetch

    def _note(self, output: Any, response: Response | None) -> int:
        if response is None:
            return 0
        if isinstance(output, Request):
            self._note_link(response.url, output.url)
            return 0
        return int(isinstance(output, Listing))

    def _refetch(self, response: Response | None, listings: int) -> Request | None:
        """The page once more, in full, if it held a listing before and yields none now."""
        if response is None or listings or response.url not in self.held_listing:
            return None
        if response.status != 200 or self.outcomes.get(response.url) != "ok":
            return None  # an errback's output: the page did not come, the errback counted why
        if response.meta.get(REFRESH):
            return None  # fetched in full and still without it: the page really changed
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("tdir/refetched/lost-listing")
        request = response.request
        assert request is not None
        headers = {
            name: values
            for name, values in request.headers.items()
            if name.lower() not in (b"if-none-match", b"if-modified-since")
        }
        meta = {k: v for k, v in request.meta.items() if k not in _PER_ATTEMPT_META}
        return request.replace(
            url=response.url, headers=headers, dont_filter=True, meta={**meta, REFRESH: 1}
        )

    def _note_outcome(self, url: str, outcome: str) -> None:
        self.outcomes[url] = outcome
        self._pages.write(f"{_clean(url)}\t{outcome}\n")

    def _note_link(self, from_url: str, to_url: str) -> None:
        self._links.write(f"{_clean(from_url)}\t{_clean(to_url)}\n")

    def spider_closed(self) -> None:
        """Close the ledger's files."""
        self._pages.close()
        self._links.close()


def _clean(url: str) -> str:
    return url.replace("\t", "%09").replace("\n", "%0A")


def _listing_pages(store: CrawlStore, source: str, run_id: str) -> set[str]:
    """The pages that held a listing in the source's previous complete run."""
    previous = store.previous_complete(source, run_id)
    if previous is None:
        return set()
    return {
        data["provenance"]["url"]
        for data in store.records(source, previous.run_id)
        if data.get("record_type") == "listing" and isinstance(data.get("provenance"), dict)
    }
