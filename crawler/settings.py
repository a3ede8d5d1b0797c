"""Scrapy settings for every tdir crawl: polite by default, as on the real web.

Politeness is global (robots.txt, an identifying User-Agent with a contact URL, AutoThrottle,
per-domain concurrency); no spider overrides it. The only relaxation is ``loopback_fast``, which
drops delays for crawls whose every host is this machine.

``TDIR_CRAWL_TIMEOUT`` (seconds, read by :func:`tdir.config.crawl_timeout`) overrides the
download timeout, for slow sources and for tests that must not wait 20 seconds for a page that
never comes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tdir import __version__
from tdir.config import DEFAULT_CRAWL_TIMEOUT, crawl_timeout

CONTACT_URL = "https://github.com/tdir-directory/tdir#crawler"
USER_AGENT = f"tdir-bot/{__version__} (+{CONTACT_URL}; therapist directory)"
MAX_PAGE_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT = DEFAULT_CRAWL_TIMEOUT


def crawl_settings(
    *,
    http_cache_dir: Path,
    job_dir: Path | None,
    loopback_fast: bool = False,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the Scrapy settings of one crawl (``env``: overrides, default the environment)."""
    settings: dict[str, Any] = {
        "BOT_NAME": "tdir",
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": "tdir-bot",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        # Politeness: at most two requests at a time per site, at least a second apart, slower
        # when the site slows down (AutoThrottle never goes below DOWNLOAD_DELAY).
        # CONCURRENT_REQUESTS is how many requests of a source the downloader takes in at once;
        # a graceful stop (Ctrl+C) finishes those at the polite pace, so more than the source's
        # hosts can use only makes stopping slow.
        "CONCURRENT_REQUESTS": 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 1.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # Scrapy starts this many asyncio workers for each page's output (records and links);
        # the item pipelines are synchronous, so more than a few only cost CPU (the default,
        # 100, was a tenth of a crawl's CPU time).
        "CONCURRENT_ITEMS": 4,
        # Failures: retry server errors and timeouts a few times, never hang on one page, and
        # refuse pages too large to be a listing.
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": crawl_timeout(os.environ if env is None else env),
        "DOWNLOAD_MAXSIZE": MAX_PAGE_BYTES,
        "DOWNLOAD_WARNSIZE": MAX_PAGE_BYTES // 4,
        "REDIRECT_MAX_TIMES": 5,
        # A backstop against link traps; spiders also stop paginating when pages repeat.
        "DEPTH_LIMIT": 200,
        "DOWNLOADER_MIDDLEWARES": {
            # robots.txt obeyed also by the requests made while it downloads (see robots.py).
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.robots.SharedRobotsTxtMiddleware": 100,
            # Redirects as Scrapy follows them, but a loop is refused (and counted) at once.
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.redirects.LoopAwareRedirectMiddleware": 600,
            # The HTTP cache, refusing to store or revalidate a page cut short (httpcache.py).
            "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
            "crawler.httpcache.CheckedHttpCacheMiddleware": 900,
            # Next to the downloader, after the HTTP cache (900): bytes really transferred.
            "crawler.httpcache.NetworkBytesMiddleware": 950,
            # Bulk files fetched into a file on disk rather than memory (spooling.py); only
            # for requests that ask for it, after everything else has seen them.
            "crawler.spooling.SpoolingMiddleware": 960,
        },
        # Conditional requests (ETag / Last-Modified) make a recrawl of unchanged pages cheap:
        # the policy revalidates every cached page that is not fresh (also "no-cache" ones, see
        # httpcache.py), and "max-age=0" makes none fresh: a page sent with validators but no
        # Cache-Control would otherwise count as fresh for a tenth of its age since
        # Last-Modified (the RFC's heuristic), and a daily recrawl would not even ask.
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en",
            "Cache-Control": "max-age=0",
        },
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "crawler.httpcache.RevalidatingPolicy",
        "HTTPCACHE_STORAGE": "crawler.httpcache.PageCacheStorage",
        "HTTPCACHE_DIR": str(http_cache_dir),
        "HTTPCACHE_IGNORE_HTTP_CODES": [500, 502, 503, 504, 408, 429],
        # Links of a URL template that costs pages and never leads to a record stop being
        # followed past the source's trap budget (traps.py); the run counts what it dropped.
        # The page ledger (page_ledger.py) sits closest to the spider: it sees every link,
        # refetches a page that lost its listing, and keeps what became of each page for
        # vanish checks.
        "SPIDER_MIDDLEWARES": {
            "crawler.traps.TrapGuard": 600,
            "crawler.page_ledger.PageLedger": 700,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.RecordPipeline": 100},
        "EXTENSIONS": {
            "crawler.extensions.RunRecorder": 500,
            "scrapy.extensions.logstats.LogStats": None,
        },
        "FEED_EXPORT_ENCODING": "utf-8",
    }
    if job_dir is not None:
        settings["JOBDIR"] = str(job_dir)
    if loopback_fast:
        settings.update(
            {
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
                "CONCURRENT_REQUESTS": 16,
                "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
            }
        )
    return settings
