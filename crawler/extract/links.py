"""Resolving a page's links against the page's URL as urllib does, for less.

``urljoin`` parses a link twice (the second time with the page's scheme as its default) and
urllib caches each parse under the arguments exactly as passed, so a parse asked for as
``urlsplit(url)`` is not found again by ``urljoin``, which asks ``urlsplit(url, "", True)``.
Most links on a page are absolute URLs. urljoin gives such a link back as it is when its scheme
is not the page's, and otherwise put back together from its own parts (a reference that names
an authority keeps it: RFC 3986, section 5.2.2,
https://www.rfc-editor.org/rfc/rfc3986#section-5.2.2). That case is worked out here from the
one cached parse; every other link is left to ``urljoin``.
"""

from __future__ import annotations

from urllib.parse import (
    SplitResult,
    urljoin,
    urlparse,
    urlsplit,
    urlunparse,
    uses_netloc,
    uses_relative,
)


def split(url: str) -> SplitResult:
    """``urlsplit(url)``, asked as urllib's own functions ask it, to share its cache with them."""
    return urlsplit(url, "", True)


def resolve(base: str, link: str) -> str:
    """``urljoin(base, link)``: the absolute URL ``link`` on a page at ``base`` leads to."""
    if base and link:
        parts = split(link)
        if parts.scheme and parts.netloc:
            # What urljoin does with a link that has a scheme and a host of its own.
            if parts.scheme != split(base).scheme or parts.scheme not in uses_relative:
                return link
            if parts.scheme in uses_netloc:
                return urlunparse(urlparse(link))
    return urljoin(base, link)


def host(url: str) -> str | None:
    """The host name of an absolute URL (in lower case), None when it names none."""
    return split(url).hostname


def resolved_host(base: str, link: str) -> str | None:
    """``host(resolve(base, link))``, without resolving a link that names a host: resolving
    keeps a link's own authority, and so its host (see the module's docstring)."""
    if split(link).netloc:
        return host(link)
    return host(resolve(base, link))
