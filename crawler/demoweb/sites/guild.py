"""The Massage Guild: a member directory marked up with schema.org microdata (no JSON-LD).

A member profile shows every testimonial. A member who practises at two offices lists both as
two ``address`` properties of the practice; its ``geo`` is the first office's.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crawler.demoweb import variants
from crawler.demoweb.model import Listing, Therapist
from crawler.demoweb.sites.base import Request, Response, esc, page_count, unclose
from crawler.demoweb.sites.directory import City, DirectorySite, ListingView, OfficeText

PER_PAGE = 25


class GuildSite(DirectorySite):
    """Member directory by state and city; profiles use microdata."""

    name = "guild"
    title = "The Massage Guild"
    style = "guild.css"
    disallow = ("/contact/", "/login", "/cart/")
    name_styles = (("last_first", 5), ("first_last", 3), ("first_middle_last", 2))
    phone_styles = (("dot", 4), ("dash", 3), ("paren_nospace", 1))
    tidy_terms = 0.45
    unit_inline = False
    publishes_geo = True
    shows_other_offices = True

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/directory/", self.states_page)
        self.route(r"/directory/([a-z]{2})/", self.state_page)
        self.route(r"/directory/([a-z]{2})/([a-z0-9-]+)/(?:page/(\d+)/)?", self.city_page)
        self.route(r"/members/([0-9a-f]+)/", self.profile)
        self.route(r"/contact/([0-9a-f]+)", self.contact)
        self.route(r"/login", self.contact)

    def listing_path(self, t: Therapist, listing: Listing) -> str:
        return f"/members/{self.public_id(t.id, listing.ordinal):x}/"

    def _city_path(self, city: City, page: int) -> str:
        base = f"/directory/{city.state.lower()}/{city.slug}/"
        return base if page == 1 else f"{base}page/{page}/"

    def _states(self) -> dict[str, list[City]]:
        out: dict[str, list[City]] = {}
        for city in self.cities:
            out.setdefault(city.state, []).append(city)
        return out

    def static_entries(self) -> list[tuple[str, date]]:
        entries = [("/", self.as_of), ("/directory/", self.as_of)]
        for state, cities in self._states().items():
            entries.append((f"/directory/{state.lower()}/", self.as_of))
            for city in cities:
                for n in range(1, page_count(city.count, PER_PAGE) + 1):
                    entries.append((self._city_path(city, n), self.as_of))
        return entries

    def frame(self, body: str) -> str:
        return (
            '<div id="masthead"><a class="logo" href="/">The Massage Guild</a>'
            '<div class="tagline">A professional fellowship of massage &amp; bodywork therapists '
            "since 1998</div></div>"
            '<div id="menu"><a href="/">Home</a><a href="/directory/">Member Directory</a>'
            '<a href="/login">Members Login</a></div>'
            f'<div id="content">{body}</div>'
            '<div id="colophon">The Massage Guild &middot; Membership does not imply licensure '
            "or endorsement.</div>"
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            "<h1>Welcome to the Guild</h1><p>Our member directory lists "
            f"{self.listing_count:,} therapists in {len(self.cities)} cities. "
            'Start in the <a href="/directory/">Member Directory</a>.</p>'
        )
        return Response.html(self.layout("Home", body), modified=self.as_of)

    def states_page(self, request: Request, _: re.Match[str]) -> Response:
        items = "".join(
            f'<li><a href="/directory/{st.lower()}/">{esc(self.state_names.get(st, st))}</a> '
            f"({sum(c.count for c in cities)} members)</li>"
            for st, cities in self._states().items()
        )
        body = f"<h1>Member Directory</h1><p>Choose a state:</p><ul>{items}</ul>"
        return Response.html(self.layout("Member Directory", body), modified=self.as_of)

    def state_page(self, request: Request, match: re.Match[str]) -> Response | None:
        state = match.group(1).upper()
        cities = self._states().get(state)
        if not cities:
            return None
        items = "".join(
            f'<li><a href="{self._city_path(c, 1)}">{esc(c.name)}</a> ({c.count})</li>'
            for c in cities
        )
        name = self.state_names.get(state, state)
        body = (
            f'<p class="crumbs"><a href="/directory/">Directory</a> &rsaquo; {esc(name)}</p>'
            f"<h1>Members in {esc(name)}</h1><ul>{items}</ul>"
        )
        return Response.html(self.layout(f"Members in {name}", body), modified=self.as_of)

    def city_page(self, request: Request, match: re.Match[str]) -> Response | None:
        city = self.cities_by_slug.get(match.group(2))
        page = int(match.group(3) or 1)
        found = self.city_page_listings(city, page, PER_PAGE)
        if city is None or city.state.lower() != match.group(1) or match.group(3) == "1":
            return None
        if found is None:
            return None
        pages, rows = found
        trs = "".join(self._row(self.view(t, item)) for t, item in rows)
        paging = []
        if page > 1:
            paging.append(f'<a href="{self._city_path(city, page - 1)}">&laquo; Previous</a>')
        paging.append(f"Page {page} of {pages}")
        if page < pages:
            paging.append(f'<a href="{self._city_path(city, page + 1)}">Next &raquo;</a>')
        state_name = self.state_names.get(city.state, city.state)
        body = (
            f'<p class="crumbs"><a href="/directory/">Directory</a> &rsaquo; '
            f'<a href="/directory/{city.state.lower()}/">{esc(state_name)}</a> &rsaquo; '
            f"{esc(city.name)}</p><h1>Guild members in {esc(city.name)}</h1>"
            f'<p>{city.count} members</p><table class="members"><tr><th>Member</th>'
            f"<th>Practice</th><th>Telephone</th></tr>{trs}</table>"
            f'<p class="paging">{" | ".join(paging)}</p>'
        )
        return Response.html(self.layout(f"Members in {city.name}", body), modified=self.as_of)

    def _row(self, view: ListingView) -> str:
        return (
            f'<tr><td><a href="{view.path}">{esc(self.display_name(view))}</a></td>'
            f"<td>{esc(view.practice)}</td><td>{esc(view.phone or '')}</td></tr>"
        )

    def contact(self, request: Request, _: re.Match[str]) -> Response:
        body = "<h1>Members only</h1><p>Please log in to contact members.</p>"
        return Response.html(self.layout("Members only", body), modified=self.as_of)

    def profile(self, request: Request, match: re.Match[str]) -> Response | None:
        found = self.find(int(match.group(1), 16))
        if found is None:
            return None
        t, item = found
        view = self.view(t, item)
        if request.path != view.path:
            return None
        html = self._profile_body(view)
        modified = max([item.updated, *(r.published for r in view.reviews)])
        page = self.layout(self.display_name(view), html)
        if item.defect == "unclosed_html":
            page = unclose(page)
        return Response.html(page, modified=modified)

    def _profile_body(self, view: ListingView) -> str:
        t = view.therapist
        person_name = (
            f'<h1 itemprop="name">{esc(view.name)}</h1>' if view.name else "<h1>Member profile</h1>"
        )
        creds = []
        for c in view.claims:
            if c.kind == "membership":
                creds.append(
                    '<span class="badge" itemprop="memberOf" itemscope '
                    'itemtype="https://schema.org/Organization">'
                    f'<span itemprop="name">{esc(c.label)}</span></span>'
                )
            elif c.kind == "identifier":
                creds.append(f'<span class="badge">NPI {esc(c.number)}</span>')
            else:
                category = "license" if c.kind == "state_license" else "certification"
                number = f' <span itemprop="identifier">{esc(c.number)}</span>' if c.number else ""
                where = (
                    f" ({esc(self.state_names.get(c.state or '', c.state or ''))})"
                    if c.kind == "state_license"
                    else ""
                )
                creds.append(
                    '<span class="badge" itemprop="hasCredential" itemscope '
                    'itemtype="https://schema.org/EducationalOccupationalCredential">'
                    f'<meta itemprop="credentialCategory" content="{category}">'
                    f'<span itemprop="name">{esc(c.label)}</span>{where}{number}'
                    + (
                        '<span itemprop="recognizedBy" itemscope '
                        'itemtype="https://schema.org/Organization">'
                        f'<meta itemprop="name" content="{esc(c.issuer)}"></span>'
                        if c.issuer
                        else ""
                    )
                    + "</span>"
                )
        knows = ", ".join(f'<span itemprop="knowsAbout">{esc(m)}</span>' for m in view.modalities)
        conds = ", ".join(esc(c) for c in view.conditions)
        offices = view.offices()
        address = "".join(_address(o) for o in offices[:1])
        if len(offices) > 1:
            address += "<p><b>Also sees clients at:</b></p>" + "".join(
                _address(o) for o in offices[1:]
            )
        if not offices:
            address = f"<p>{esc(view.city)}, {esc(view.state)}</p>"
        phone = (
            f'<p>Tel: <span itemprop="telephone">{esc(view.phone)}</span></p>' if view.phone else ""
        )
        web = (
            (
                f'<p>Web: <a itemprop="url" rel="nofollow" href="http://{esc(view.website)}">'
                f"{esc(view.website)}</a></p>"
            )
            if view.website
            else ""
        )
        rating = ""
        if view.rating is not None and view.listing.defect != "missing_rating":
            rating = (
                '<p class="rating" itemprop="aggregateRating" itemscope '
                'itemtype="https://schema.org/AggregateRating">Members rate: '
                f'<span itemprop="ratingValue">{view.rating:.1f}</span> / 5 from '
                f'<span itemprop="reviewCount">{len(view.reviews)}</span> testimonials</p>'
            )
        reviews = "".join(
            '<div class="testimonial" itemprop="review" itemscope itemtype="https://schema.org/Review">'
            f'<p itemprop="reviewBody">{esc(view.text_of(r))}</p>'
            '<p>&mdash; <span itemprop="author" itemscope itemtype="https://schema.org/Person">'
            f'<span itemprop="name">{esc(r.author)}</span></span>, '
            f'<time itemprop="datePublished" datetime="{r.published.isoformat()}">'
            f"{esc(variants.date_text(r.published, 'us', self.as_of))}</time> "
            '<span itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
            '<meta itemprop="worstRating" content="1">'
            f'<span itemprop="ratingValue">{r.rating:.0f}</span>'
            '/<span itemprop="bestRating">5</span></span></p></div>'
            for r in view.shown_reviews
        )
        html = (
            '<div class="member-card" itemscope itemtype="https://schema.org/HealthAndBeautyBusiness">'
            f'<p class="crumbs"><a href="/directory/">Directory</a> &rsaquo; {esc(view.city)}</p>'
            '<div itemprop="employee" itemscope itemtype="https://schema.org/Person">'
            f'{person_name}<meta itemprop="jobTitle" content="Massage Therapist">'
            f"<p>{''.join(creds)}</p><p>Techniques: {knows}</p></div>"
            f'<h2 itemprop="name">{esc(view.practice)}</h2>{address}{phone}{web}'
            '<span itemprop="geo" itemscope itemtype="https://schema.org/GeoCoordinates">'
            f'<meta itemprop="latitude" content="{view.lat}">'
            f'<meta itemprop="longitude" content="{view.lon}"></span>'
            f"<p>Helps with: {conds}</p><p>{esc(view.bio)}</p>{rating}"
            f"<h3>Testimonials</h3>{reviews or '<p>No testimonials yet.</p>'}"
            f'<p><a href="/contact/{self.public_id(t.id, view.listing.ordinal):x}">'
            "Send a message</a></p></div>"
        )
        return html


def _address(office: OfficeText) -> str:
    """One office as a microdata PostalAddress (the unit on a line of its own)."""
    return (
        '<p itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
        f'<span itemprop="streetAddress">{esc(office.street)}</span><br>'
        + (f"{esc(office.unit)}<br>" if office.unit else "")
        + f'<span itemprop="addressLocality">{esc(office.city)}</span>, '
        f'<span itemprop="addressRegion">{esc(office.state)}</span> '
        f'<span itemprop="postalCode">{esc(office.zip)}</span></p>'
    )
