"""What every demo site shares: requests, responses, routing, robots.txt, sitemaps, paging."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from html import escape
from typing import Any
from urllib.parse import urlencode

from crawler.demoweb import vocab
from crawler.demoweb.store import Population

SITEMAP_CHUNK = 10_000
"""URLs per sitemap file; larger sites publish a sitemap index (the protocol allows 50,000)."""


def esc(value: object) -> str:
    """HTML-escape any value's text."""
    return escape(str(value), quote=True)


def http_date(day: date) -> datetime:
    """The moment a page dated ``day`` was last changed (06:00 UTC that day)."""
    return datetime.combine(day, time(6, 0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Request:
    """An incoming request, already split into path and query (a POST keeps its body)."""

    method: str
    path: str
    query: dict[str, list[str]]
    base_url: str
    # Header names lower-cased; API stand-ins read their keys and tokens here.
    headers: dict[str, str] = field(default_factory=dict)
    # The body of a POST (an API's JSON request); empty for GET and HEAD.
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of request header ``name`` (any case), or ``None``."""
        return self.headers.get(name.lower())

    def arg(self, name: str, default: str = "") -> str:
        """The first value of query parameter ``name`` (stripped), or ``default``."""
        values = self.query.get(name)
        return values[0].strip() if values else default

    def page(self, name: str = "page") -> int | None:
        """The 1-based page number in ``name``; 1 when absent, ``None`` when malformed."""
        raw = self.arg(name, "1")
        return int(raw) if raw.isdigit() and int(raw) >= 1 else None


@dataclass(slots=True)
class Response:
    """A response before the server adds validators (ETag, Last-Modified) and logs it."""

    status: int
    body: bytes
    content_type: str
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def html(cls, text: str, *, modified: date | None = None, status: int = 200) -> Response:
        """An HTML page."""
        return cls(
            status,
            text.encode(),
            "text/html; charset=utf-8",
            http_date(modified) if modified else None,
        )

    @classmethod
    def json(cls, payload: Any, *, modified: date | None = None, status: int = 200) -> Response:
        """A JSON document."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        return cls(status, body, "application/json", http_date(modified) if modified else None)

    @classmethod
    def text(cls, text: str, content_type: str, *, modified: date | None = None) -> Response:
        """A plain-text-like document (robots.txt, CSS, CSV, XML)."""
        return cls(200, text.encode(), content_type, http_date(modified) if modified else None)

    @classmethod
    def redirect(cls, location: str, status: int = 301) -> Response:
        """A redirect."""
        return cls(status, b"", "text/html; charset=utf-8", None, {"Location": location})


Handler = Callable[[Request, re.Match[str]], Response | None]


class Site:
    """One website of the demo web, with its own look, URL scheme and robots rules.

    Subclasses set ``name`` (the key in ``sites.json``), ``title``, ``style`` (a CSS file under
    ``data/styles``), ``disallow`` (robots.txt rules) and add routes in ``__init__``. A handler
    returning ``None`` means "no such page" (404).
    """

    name: str = ""
    title: str = ""
    style: str = ""
    disallow: tuple[str, ...] = ()
    # HTTP methods the site answers; any other gets 405 (an API stand-in adds POST).
    methods: tuple[str, ...] = ("GET", "HEAD")

    def __init__(self, population: Population) -> None:
        self.population = population
        self.seed = int(population.meta["seed"])
        self.as_of = date.fromisoformat(population.meta["as_of"])
        self._routes: list[tuple[re.Pattern[str], Handler]] = []
        self.route(r"/robots\.txt", self.robots)
        self.route(r"/static/site\.css", self.stylesheet)
        self.route(r"/sitemap\.xml", self.sitemap)
        self.route(r"/sitemap-(\d+)\.xml", self.sitemap_part)
        self.state_names = vocab.state_names()
        # A served world never changes, so each sitemap part is built once. Crawlers fetch the
        # parts in parallel; one lock makes them wait for a single build instead of building
        # the same 10,000 entries side by side and starving every other page of CPU.
        self._sitemap_parts: dict[int, list[tuple[str, date]]] = {}
        self._sitemap_lock = threading.Lock()

    # -- routing ----------------------------------------------------------------------------------

    def route(self, pattern: str, handler: Handler) -> None:
        """Serve paths fully matching ``pattern`` with ``handler``."""
        self._routes.append((re.compile(pattern), handler))

    def handle(self, request: Request) -> Response:
        """Answer ``request`` (404 page for unknown paths)."""
        for pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match:
                response = handler(request, match)
                if response is not None:
                    return response
                break
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        """The site's 404 page."""
        body = f"<h1>Page not found</h1><p>We couldn't find <code>{esc(request.path)}</code>.</p>"
        return Response.html(self.layout("Page not found", body), status=404)

    # -- shared documents -------------------------------------------------------------------------

    def robots(self, request: Request, _: re.Match[str]) -> Response:
        """robots.txt: the site's disallow rules and its sitemap."""
        lines = ["User-agent: *", *(f"Disallow: {rule}" for rule in self.disallow), ""]
        lines.append(f"Sitemap: {request.base_url}/sitemap.xml")
        return Response.text(
            "\n".join(lines) + "\n", "text/plain; charset=utf-8", modified=self.as_of
        )

    def stylesheet(self, request: Request, _: re.Match[str]) -> Response:
        """The site's CSS."""
        return Response.text(
            vocab.read_text(f"styles/{self.style}"), "text/css; charset=utf-8", modified=self.as_of
        )

    def static_entries(self) -> list[tuple[str, date]]:
        """The fixed pages a site lists in its sitemap (home, indexes). Override."""
        return [("/", self.as_of)]

    def sitemap_entries(self, offset: int, limit: int) -> list[tuple[str, date]]:
        """Sitemap entries ``offset .. offset+limit`` as (path, last modified)."""
        return self.static_entries()[offset : offset + limit]

    def sitemap_count(self) -> int:
        """How many entries the sitemap holds in all."""
        return len(self.static_entries())

    def sitemap(self, request: Request, _: re.Match[str]) -> Response:
        """sitemap.xml: a urlset, or a sitemap index when the site is large."""
        total = self.sitemap_count()
        if total <= SITEMAP_CHUNK:
            return self._urlset(request, self._sitemap_part_entries(1))
        parts = math.ceil(total / SITEMAP_CHUNK)
        items = "".join(
            f"<sitemap><loc>{esc(request.base_url)}/sitemap-{n}.xml</loc>"
            f"<lastmod>{self.as_of.isoformat()}</lastmod></sitemap>"
            for n in range(1, parts + 1)
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</sitemapindex>\n"
        )
        return Response.text(xml, "application/xml", modified=self.as_of)

    def sitemap_part(self, request: Request, match: re.Match[str]) -> Response | None:
        """One part of a large site's sitemap."""
        n = int(match.group(1))
        total = self.sitemap_count()
        if total <= SITEMAP_CHUNK or not 1 <= n <= math.ceil(total / SITEMAP_CHUNK):
            return None
        return self._urlset(request, self._sitemap_part_entries(n))

    def _sitemap_part_entries(self, n: int) -> list[tuple[str, date]]:
        with self._sitemap_lock:
            if n not in self._sitemap_parts:
                offset = (n - 1) * SITEMAP_CHUNK
                self._sitemap_parts[n] = self.sitemap_entries(offset, SITEMAP_CHUNK)
            return self._sitemap_parts[n]

    def _urlset(self, request: Request, entries: Iterable[tuple[str, date]]) -> Response:
        items = "".join(
            f"<url><loc>{esc(request.base_url + path)}</loc>"
            f"<lastmod>{day.isoformat()}</lastmod></url>"
            for path, day in entries
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</urlset>\n"
        )
        return Response.text(xml, "application/xml", modified=self.as_of)

    # -- page furniture ---------------------------------------------------------------------------

    def frame(self, body: str) -> str:
        """The site's own markup around a page's body (its header, menu, footer): its look."""
        return body

    def layout(self, title: str, body: str, *, head: str = "", body_attrs: str = "") -> str:
        """A whole page: ``body`` in the site's frame."""
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(title)} | {esc(self.title)}</title>"
            '<link rel="stylesheet" href="/static/site.css">'
            f"{head}</head><body{body_attrs}>{self.frame(body)}</body></html>\n"
        )


def unclose(page: str) -> str:
    """Break a page's markup the way a bad template does, keeping its text.

    Closing tags of blocks are dropped and the document ends without ``</body></html>``, so a
    lenient parser still finds every field while a strict one does not.
    """
    for tag in ("</div>", "</li>", "</p>", "</section>", "</article>", "</td>", "</tr>"):
        page = page.replace(tag, "")
    return page.replace("</body></html>", "").replace("</main>", "")


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill (at least one)."""
    return max(1, math.ceil(total / per_page))


def with_query(path: str, **params: object) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(clean)}" if clean else path
