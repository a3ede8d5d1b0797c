"""What the official-API spiders share: the key, the provider's rate, quotas and resuming.

- **The key** comes from the environment variable the catalog names (``api_key_variable``);
  a catalog for the demo web also gives ``demo_api_key``, the one key its stand-ins accept, used
  while the variable is unset. No key at all fails the crawl before it starts, naming the
  variable. The key is put on each request as it leaves (:class:`ApiKeyMiddleware`), never on
  the queued requests a resumable run keeps on disk, so a key fixed after a refusal is the one
  the resumed run uses.
- **The rate**: ``requests_per_second`` is the provider's limit for the key; the source's
  requests leave one every ``1 / rate`` seconds (Scrapy's DOWNLOAD_DELAY, without jitter; also
  under ``--no-delay``, which only drops politeness delays). Answers are never cached: the
  providers' terms limit what may be stored.
- **Refusals** (:mod:`crawler.extract.api_answers`): over the short-window rate, the call is
  asked again, and the source's calls are spaced twice as far apart each time (up to a minute
  between calls) for the rest of the run; the day's quota spent, the refused call is put back
  in the queue and the run stops cleanly,
  ``interrupted``, saying so: everything gathered is kept and the next crawl of the source
  resumes the run where it stopped (the searches and businesses still queued), not from the
  start; a refused key stops the run at once the same way, naming the variable.
- **Known businesses are refreshed**: the provider ids of the source's latest complete run
  (what the terms let be kept) are fetched again, also those a search no longer finds, so a
  business that closed answers 404 and is judged gone rather than silently kept.

Catalog options every API spider takes: ``api_key_variable``, ``demo_api_key``,
``requests_per_second`` and ``areas`` (``[{name, center: [lat, lon], radius_km}]``), with
``tile_km`` (the side of the first tiles) and ``min_tile_km`` (the smallest a tile is split to).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawler.catalog import CatalogError, Source
from crawler.extract.api_answers import ApiAnswerError, ApiProblem
from crawler.ledger import page_failed
from crawler.runs import CrawlStore
from crawler.spiders.base import SourceSpider
from crawler.spiders.tiles import Area, parse_areas

COMMON_OPTIONS = (
    "api_key_variable",
    "demo_api_key",
    "requests_per_second",
    "areas",
    "tile_km",
    "min_tile_km",
)
API_META = "tdir_api"  # a request to the provider's API: gets the key, never cached
BACKOFF_META = "tdir_api_backoff"  # how many times this call was refused for going too fast
MAX_BACKOFFS = 8
MAX_BACKOFF_SECONDS = 60.0
# A tile's search circle may not pass the API's largest radius; its corners are on the circle.
_DIAGONAL = math.sqrt(2)


@dataclass(frozen=True)
class ApiAccess:
    """Where a source's API key comes from, and how fast the key may be used."""

    key_variable: str
    demo_key: str | None
    per_second: float
    areas: tuple[Area, ...]
    tile_km: float
    min_tile_km: float

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], where: str, *, max_radius_m: float
    ) -> ApiAccess:
        """Check the options every API spider shares; CatalogError names the one at fault."""
        variable = options.get("api_key_variable")
        if not isinstance(variable, str) or not variable.strip():
            raise CatalogError(
                f"{where}.api_key_variable: name the environment variable holding the API key"
            )
        rate = options.get("requests_per_second")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1000:
            raise CatalogError(
                f"{where}.requests_per_second: the provider's per-second limit, above 0"
            )
        largest = max_radius_m * _DIAGONAL / 1000
        tile_km = _km(options.get("tile_km", 40), f"{where}.tile_km", largest)
        min_tile_km = _km(options.get("min_tile_km", 0.5), f"{where}.min_tile_km", tile_km)
        demo = options.get("demo_api_key")
        return cls(
            key_variable=variable.strip(),
            demo_key=str(demo) if demo else None,
            per_second=float(rate),
            areas=parse_areas(options.get("areas"), f"{where}.areas"),
            tile_km=tile_km,
            min_tile_km=min_tile_km,
        )

    def key(self, env: Mapping[str, str] | None = None) -> str:
        """The key to use; CatalogError naming the variable when there is none."""
        key = (os.environ if env is None else env).get(self.key_variable) or self.demo_key
        if not key:
            raise CatalogError(
                f"{self.key_variable} is not set: it must hold the API key for this source"
            )
        return key


def _km(value: Any, where: str, largest: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= largest:
        raise CatalogError(f"{where}: expected kilometres, above 0 and at most {largest:.1f}")
    return float(value)


class ApiKeyMiddleware:
    """Downloader middleware: puts the spider's key on each API request as it leaves."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ApiKeyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        if request.meta.get(API_META) and isinstance(spider, ApiSpider):
            for name, value in spider.key_headers().items():
                request.headers[name] = value


class ApiSpider(SourceSpider):
    """A spider reading an official API with a key, a rate and a daily quota."""

    provider = ""  # how messages name the provider: "Yelp", "Google Places"
    max_radius_m = 40000.0  # the largest search circle the API takes
    # Errors come back as answers the spider reads, not as failures.
    handle_httpstatus_list: ClassVar[list[int]] = [400, 401, 403, 404, 429]

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.access = self.check_access(source)
        self.api_key = self.access.key()

    @classmethod
    def check_access(cls, source: Source) -> ApiAccess:
        """The source's key and rate options, checked."""
        where = f"source {source.name!r}: options"
        if not source.start_urls:
            raise CatalogError(f"source {source.name!r}: give the API's base URL in start_urls")
        access = ApiAccess.from_options(source.options, where, max_radius_m=cls.max_radius_m)
        access.key()  # no key at all: the crawl must not start
        return access

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ApiSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, ApiSpider)
        spider.tune(crawler)
        return spider

    def tune(self, crawler: Crawler) -> None:
        """Settings of this source's crawl, before they are frozen: the provider's rate, two
        calls at a time, no automatic retry of a 429 (read here instead), the key added as
        requests leave."""
        settings = crawler.settings
        settings.set("DOWNLOAD_DELAY", 1 / self.access.per_second, priority="spider")
        settings.set("DOWNLOAD_DELAY_JITTER", 0.0, priority="spider")
        # Paced calls gain nothing from a deep download queue, and a stop (quota, key) should
        # not see a dozen queued calls still go out.
        settings.set("CONCURRENT_REQUESTS", 2, priority="spider")
        retried = [c for c in settings.getlist("RETRY_HTTP_CODES") if int(c) != 429]
        settings.set("RETRY_HTTP_CODES", retried, priority="spider")
        middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        middlewares["crawler.spiders.api_base.ApiKeyMiddleware"] = 550
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    def key_headers(self) -> dict[str, str]:
        """The headers carrying the key. Override."""
        raise NotImplementedError

    def api_request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        """A call to the API: answered by ``callback`` whatever its status, never cached."""
        meta = {API_META: True, "dont_cache": True, **kwargs.pop("meta", {})}
        return Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    # -- refusals ---------------------------------------------------------------------------------

    def refused(self, response: Response, problem: ApiProblem) -> Iterator[Request]:
        """Act on an API's refusal of one call: back off, stop for the day, stop for the key,
        or count the error and go on."""
        request = response.request
        assert request is not None
        if problem.kind == "rate":
            again = self._back_off(request, problem)
            if again is not None:
                yield again
            return
        if problem.kind == "error":
            if problem.status in (404, 410):
                # A business that closed: no error of the crawl's. The page ledger hears it, so
                # the listing is judged gone, not in doubt.
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("tdir/api/gone")
                self.crawler.signals.send_catch_log(
                    page_failed, request=request, kind=None, status=problem.status
                )
            else:
                self.count_error(f"api/{problem.code}")
                self.logger.warning(
                    "%s: %s refused %s: %s", self.name, self.provider, request.url, problem
                )
            return
        # Put the call back in the queue the run keeps, so the resumed run makes it.
        yield request.replace(dont_filter=True, meta=_fresh(request.meta))
        if problem.kind == "quota":
            self.count_error("api/quota-exhausted")
            reason = (
                f"quota exhausted: {self.provider} refused further calls today ({problem.code}); "
                "everything gathered is kept and the next crawl resumes where this one stopped"
            )
        else:
            self.count_error("api/key-refused")
            reason = (
                f"API key refused: {self.provider} does not accept the key in "
                f"{self.access.key_variable} ({problem}); set it and crawl again to resume"
            )
        self.logger.error("%s: %s", self.name, reason)
        raise CloseSpider(reason)

    def _back_off(self, request: Request, problem: ApiProblem) -> Request | None:
        attempt = int(request.meta.get(BACKOFF_META, 0)) + 1
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("tdir/api/backoff")
        if attempt > MAX_BACKOFFS:
            self.count_error("api/rate-limited")
            self.logger.warning(
                "%s: gave up on %s after %d refusals: %s",
                self.name,
                request.url,
                MAX_BACKOFFS,
                problem,
            )
            return None
        self._slow_down(request)
        meta = {**_fresh(request.meta), BACKOFF_META: attempt}
        return request.replace(dont_filter=True, meta=meta)

    def _slow_down(self, request: Request) -> None:
        """Double the wait between the source's calls (its download slot's delay), up to a
        minute: the provider said they come too fast, and the rest of the run keeps the pace it
        settles at."""
        engine = self.crawler.engine
        if engine is None:
            return
        downloader = engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slowest = max(slot.delay, 1 / self.access.per_second)
            slot.delay = min(MAX_BACKOFF_SECONDS, 2 * slowest)

    def unreadable(self, response: Response, error: ApiAnswerError) -> None:
        """Count an answer that is not what the API documents."""
        self.count_error("api/bad-answer")
        self.logger.warning("%s: %s: %s", self.name, response.url, error)

    # -- known businesses -------------------------------------------------------------------------

    def known_businesses(self) -> list[dict[str, Any]]:
        """The extras (``provider_id``, ``page_url``) of the listings of the source's latest
        complete run: the businesses to refresh."""
        store = CrawlStore(self.crawler.settings["TDIR_HOME_PATH"])
        run_id = self.crawler.settings.get("TDIR_RUN_ID")
        previous = store.previous_complete(self.source.name, run_id) if run_id else None
        if previous is None:
            return []
        return [
            data["extras"]
            for data in store.records(self.source.name, previous.run_id)
            if data.get("record_type") == "listing"
            and isinstance(data.get("extras"), dict)
            and data["extras"].get("provider_id")
        ]


def _fresh(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A request's meta without what one download of it left behind."""
    spent = {"retry_times", "download_latency", "download_slot", "depth", "cached_response"}
    return {k: v for k, v in meta.items() if k not in spent}
