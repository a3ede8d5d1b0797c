"""The URL a page's records are referred to by: the ``source_ref`` of a profile page's listing and
the ``listing_ref`` of the reviews on it, whichever spider read the page."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector


def canonical_url(page: Selector, url: str, ignore_params: Iterable[str] = ()) -> str:
    """The URL records on a page are referred to by (``url`` is where the page was fetched,
    redirects followed).

    The page's ``<link rel=canonical>`` when it names a page on the same host, else ``url``;
    without its fragment and without the query parameters in ``ignore_params`` (pagination,
    sorting), so every page of a paginated profile gives the same reference. With no parameter
    to drop, the URL is kept as written, since stored records' ids were made from it.
    """
    found = page.css("link[rel~=canonical]::attr(href)").get()
    chosen = url
    if found and found.strip():
        candidate = urljoin(url, found.strip())
        if urlsplit(candidate).hostname == urlsplit(url).hostname:
            chosen = candidate
    dropped = set(ignore_params)
    if not dropped:
        return chosen.split("#", 1)[0]
    parts = urlsplit(chosen)
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in dropped]
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
