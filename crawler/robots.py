"""robots.txt, obeyed for every request, including those made while it is being fetched.

Scrapy's RobotsTxtMiddleware (2.13+) lets every request to a site wait on one Deferred while the
site's robots.txt downloads, and awaits it with ``Deferred.asFuture``. That hands the parsed
rules to the first waiter only: the Deferred's result is ``None`` for every later one, which the
middleware reads as "no robots.txt" and lets through. The first requests of a crawl (start URLs,
a sitemap's first pages) could so fetch pages robots.txt disallows. Here every waiter gets its
own Deferred, fed from the shared one.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, with the rules passed to every request waiting for them."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The parsed robots.txt of the request's site (None when there is none to obey)."""
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(result: Any) -> Any:
            waiter.callback(result)
            return result  # left for the next waiter

        pending.addBoth(relay)
        return await maybe_deferred_to_future(waiter)
