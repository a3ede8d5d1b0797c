"""Scrapy settings for every tdir crawl: polite by default, as on the real web.

Politeness is global (robots.txt, an identifying User-Agent with a contact URL, AutoThrottle,
per-domain concurrency); no spider overrides it. The only relaxation is ``loopback_fast``, which
drops delays for crawls whose every host is this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tdir import __version__

CONTACT_URL = "https://github.com/tdir-directory/tdir#crawler"
USER_AGENT = f"tdir-bot/{__version__} (+{CONTACT_URL}; therapist directory)"
MAX_PAGE_BYTES = 10 * 1024 * 1024


def crawl_settings(
    *, http_cache_dir: Path, job_dir: Path | None, loopback_fast: bool = False
) -> dict[str, Any]:
    """Return the Scrapy settings of one crawl."""
    settings: dict[str, Any] = {
        "BOT_NAME": "tdir",
        "USER_AGENT": USER_AGENT,
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": "tdir-bot",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        # Politeness: at most two requests at a time per site, at least a second apart, slower
        # when the site slows down (AutoThrottle never goes below DOWNLOAD_DELAY).
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 1.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # Failures: retry server errors and timeouts a few times, never hang on one page, and
        # refuse pages too large to be a listing.
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": 20,
        "DOWNLOAD_MAXSIZE": MAX_PAGE_BYTES,
        "DOWNLOAD_WARNSIZE": MAX_PAGE_BYTES // 4,
        "REDIRECT_MAX_TIMES": 5,
        # A backstop against link traps; spiders also stop paginating when pages repeat.
        "DEPTH_LIMIT": 200,
        # Conditional requests (ETag / Last-Modified) make a recrawl of unchanged pages cheap.
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
        "HTTPCACHE_STORAGE": "scrapy.extensions.httpcache.FilesystemCacheStorage",
        "HTTPCACHE_DIR": str(http_cache_dir),
        "HTTPCACHE_IGNORE_HTTP_CODES": [500, 502, 503, 504, 408, 429],
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
                "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
            }
        )
    return settings
