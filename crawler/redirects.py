"""Following redirects, with loops noticed as such.

Scrapy stops a redirect loop either in its duplicate filter (the page is dropped without a
word) or, when the request may repeat (a retried one), after REDIRECT_MAX_TIMES hops. This
middleware refuses the redirect that returns to a URL already on the chain, so the loop ends at
once and shows in the run record as ``redirect/loop``.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

LOOP_MESSAGE = "redirect loop"


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware, refusing a redirect back to a URL of its own chain."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        """Follow a redirect as Scrapy does; IgnoreRequest when it leads back on itself."""
        # Scrapy 2.14+ no longer passes the spider (and warns when given one); older ones do.
        kwargs: dict[str, Any] = {} if spider is None else {"spider": spider}
        result = super().process_response(request, response, **kwargs)
        if isinstance(result, Request) and result is not request:
            chain = result.meta.get("redirect_urls") or ()
            if result.url in chain:
                raise IgnoreRequest(f"{LOOP_MESSAGE}: {' -> '.join([*chain, result.url])}")
        return result
