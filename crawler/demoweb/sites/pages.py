"""MassagePages: an old-style plain-HTML directory with no structured data at all."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crawler.demoweb.model import Listing, Therapist
from crawler.demoweb.sites.base import Request, Response, esc, page_count, unclose
from crawler.demoweb.sites.directory import City, DirectorySite, ListingView

PER_PAGE = 15


class PagesSite(DirectorySite):
    """City index -> result pages with "Next" links -> listing pages; table layout throughout."""

    name = "pages"
    title = "MassagePages.net"
    style = "pages.css"
    disallow = ("/print/", "/cgi-bin/")
    name_styles = (("upper", 3), ("first_last", 3), ("first_last_nmt", 2), ("last_first", 2))
    phone_styles = (("plain", 2), ("dash", 3), ("dash_one", 2), ("paren", 1))
    tidy_terms = 0.3

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/cities\.html", self.city_index)
        self.route(r"/city/([a-z0-9-]+?)(?:-p(\d+))?\.html", self.city_page)
        self.route(r"/listing\.php", self.profile)
        self.route(r"/print/listing\.php", self.profile)
        self.route(r"/cgi-bin/.*", self.cgi)

    def listing_path(self, t: Therapist, listing: Listing) -> str:
        return f"/listing.php?id={self.public_id(t.id, listing.ordinal)}"

    @staticmethod
    def _city_path(city: City, page: int) -> str:
        return f"/city/{city.slug}.html" if page == 1 else f"/city/{city.slug}-p{page}.html"

    def static_entries(self) -> list[tuple[str, date]]:
        entries = [("/", self.as_of), ("/cities.html", self.as_of)]
        for city in self.cities:
            for n in range(1, page_count(city.count, PER_PAGE) + 1):
                entries.append((self._city_path(city, n), self.as_of))
        return entries

    def frame(self, body: str) -> str:
        return (
            '<div class="hdr">MassagePages.net '
            "<small>the massage therapist yellow pages</small></div>"
            '<div class="nav"><a href="/">Home</a> | <a href="/cities.html">Browse by City</a> | '
            '<a href="/cgi-bin/addlisting.cgi">Add Your Listing</a></div>'
            f'{body}<div class="ft">Copyright &copy; 2003-2025 MassagePages.net. '
            "All rights reserved. Information is supplied by advertisers.</div>"
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            "<h2>Find a Massage Therapist</h2>"
            f"<p>{self.listing_count} listings in {len(self.cities)} cities.</p>"
            '<p><a href="/cities.html">Browse all cities &gt;&gt;</a></p>'
        )
        return Response.html(self.layout("Find a Massage Therapist", body), modified=self.as_of)

    def city_index(self, request: Request, _: re.Match[str]) -> Response:
        rows = "".join(
            f'<tr><td><a href="{self._city_path(c, 1)}">{esc(c.name)}, {esc(c.state)}</a></td>'
            f"<td>{c.count} listings</td></tr>"
            for c in self.cities
        )
        body = f'<h2>Browse by City</h2><table class="results">{rows}</table>'
        return Response.html(self.layout("Browse by City", body), modified=self.as_of)

    def city_page(self, request: Request, match: re.Match[str]) -> Response | None:
        city = self.cities_by_slug.get(match.group(1))
        page = int(match.group(2) or 1)
        found = self.city_page_listings(city, page, PER_PAGE)
        if city is None or match.group(2) == "1" or found is None:
            return None
        pages, rows = found
        trs = "".join(self._row(self.view(t, item)) for t, item in rows)
        links = []
        if page > 1:
            links.append(f'<a href="{self._city_path(city, page - 1)}">&lt;&lt; Prev</a>')
        if page < pages:
            links.append(f'<a href="{self._city_path(city, page + 1)}">Next &gt;&gt;</a>')
        body = (
            f"<h2>Massage Therapists - {esc(city.name)}, {esc(city.state)}</h2>"
            f"<p>Page {page} of {pages} ({city.count} listings)</p>"
            f'<table class="results">{trs}</table><p>{" &nbsp; ".join(links)}</p>'
        )
        return Response.html(
            self.layout(f"{city.name} Massage Therapists", body), modified=self.as_of
        )

    def _row(self, view: ListingView) -> str:
        return (
            f'<tr><td><a href="{view.path}">{esc(self.display_name(view))}</a><br>'
            f"{esc(view.practice)}</td><td>{esc(view.city)}</td>"
            f"<td>{esc(view.phone or '')}</td></tr>"
        )

    def cgi(self, request: Request, _: re.Match[str]) -> Response:
        return Response.html(
            self.layout(
                "Add Your Listing",
                "<h2>Add Your Listing</h2><p>Call our sales team to advertise.</p>",
            ),
            modified=self.as_of,
        )

    def profile(self, request: Request, _: re.Match[str]) -> Response | None:  # noqa: C901 - one page template: a branch per optional section of the listing
        raw = request.arg("id")
        if not raw.isdigit():
            return None
        found = self.find(int(raw))
        if found is None:
            return None
        t, item = found
        view = self.view(t, item)
        rows = [("Name", esc(view.name) if view.name else "")]
        rows.append(("Business", esc(view.practice)))
        if view.street is not None:
            rows.append(
                (
                    "Address",
                    f"{esc(view.street)}<br>{esc(view.city)}, {esc(view.state)} {esc(view.zip)}",
                )
            )
        else:
            rows.append(("City", f"{esc(view.city)}, {esc(view.state)}"))
        if view.phone:
            rows.append(("Phone", esc(view.phone)))
        if view.website:
            rows.append(("Web Site", esc(view.website)))
        rows.append(("Services", esc(", ".join(view.modalities))))
        if view.conditions:
            rows.append(("Conditions", esc(", ".join(view.conditions))))
        creds = []
        for c in view.claims:
            text = c.label
            if c.kind == "state_license" and c.number:
                text = f"{c.state} {c.label} #{c.number}"
            elif c.number:
                text = f"{c.label} #{c.number}"
            creds.append(esc(text))
        if creds:
            rows.append(("Credentials", "<br>".join(creds)))
        rows.append(("About", esc(view.bio)))
        table = "".join(f'<tr><td class="lbl">{k}:</td><td>{v}</td></tr>' for k, v in rows)
        printer = f'<p><a href="/print{view.path}">Printer friendly version</a></p>'
        body = (
            f"<h2>{esc(self.display_name(view))}</h2>"
            f'<table class="listing" cellpadding="4">{table}</table>{printer}'
        )
        page = self.layout(self.display_name(view), body)
        if item.defect == "unclosed_html":
            page = unclose(page)
        return Response.html(page, modified=item.updated)
