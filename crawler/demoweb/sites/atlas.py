"""Bodywork Atlas: a national directory whose profiles carry schema.org JSON-LD.

Like the big map and review platforms, a profile publishes the aggregate rating of all the
therapist's reviews but only the few newest reviews themselves; the rest need a signed-in user.
A therapist who practises at several offices has them all on one profile, written either as an
``address`` array (coordinates for the first office only) or as ``location`` places, each with
its address and coordinates.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from crawler.demoweb import variants
from crawler.demoweb.model import Listing, Therapist
from crawler.demoweb.sites.base import Request, Response, esc, page_count, unclose, with_query
from crawler.demoweb.sites.directory import (
    COORDINATES,
    STREET,
    DirectorySite,
    ListingView,
    OfficeText,
)
from crawler.demoweb.store import city_slug, slugify

PER_PAGE = 20
EMBEDDED_REVIEWS = 5
"""Reviews a profile shows (and marks up), newest first, as the big map platforms do."""
ADDRESS_LIST = "address_list"
"""Several offices as an ``address`` array of PostalAddress; ``geo`` is the first office's."""
PLACES = "places"
"""Several offices as ``location`` Place nodes, each with its own address and ``geo``."""


class AtlasSite(DirectorySite):
    """National directory: city search pages with pagination, JSON-LD on every profile."""

    name = "atlas"
    title = "Bodywork Atlas"
    style = "atlas.css"
    disallow = ("/search", "/admin/", "/account/")
    name_styles = (("first_middle_last_title", 5), ("first_last_title", 3), ("first_last_creds", 2))
    phone_styles = (("paren", 6), ("dash", 2), ("plus", 1))
    tidy_terms = 0.7
    embedded_reviews = EMBEDDED_REVIEWS
    publishes_geo = True
    shows_other_offices = True

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/massage-therapists/([a-z0-9-]+)/", self.city_page)
        self.route(r"/therapist/([a-z0-9-]+)-(\d+)", self.profile)
        self.route(r"/search", self.search)
        self.route(r"/admin/.*", self.admin)
        self.route(r"/account/.*", self.admin)

    def listing_path(self, t: Therapist, listing: Listing) -> str:
        addr = t.previous_address if listing.stale and t.previous_address else t.address
        slug = f"{slugify(t.first + ' ' + t.last)}-{city_slug(addr.city, addr.state)}"
        return f"/therapist/{slug}-{self.public_id(t.id, listing.ordinal)}"

    def static_entries(self) -> list[tuple[str, date]]:
        entries = [("/", self.as_of)]
        for city in self.cities:
            for n in range(1, page_count(city.count, PER_PAGE) + 1):
                entries.append((self._city_path(city.slug, n), self.as_of))
        return entries

    def office_markup(self, t: Therapist, listing: Listing) -> str:
        """How a profile marks up several offices: :data:`ADDRESS_LIST` or :data:`PLACES`."""
        rng = variants.stream(self.seed, self.name, t.id, listing.ordinal, "office-markup")
        return ADDRESS_LIST if rng.random() < 0.5 else PLACES

    def other_office_precision(self, t: Therapist, listing: Listing) -> str:
        # An address array has one geo, the first office's; places carry a geo each.
        return COORDINATES if self.office_markup(t, listing) == PLACES else STREET

    @staticmethod
    def _city_path(slug: str, page: int) -> str:
        base = f"/massage-therapists/{slug}/"
        return base if page == 1 else with_query(base, page=page)

    # -- frame ------------------------------------------------------------------------------------

    def frame(self, body: str) -> str:
        return (
            '<header class="top"><a class="brand" href="/">Bodywork<b>Atlas</b></a>'
            '<nav><a href="/">Find a therapist</a><a href="/account/signup">List your practice</a>'
            '<a href="/account/login">Sign in</a></nav></header>'
            f'<main class="wrap">{body}</main>'
            '<footer class="foot"><p>&copy; 2025 Bodywork Atlas. Listings are provided by '
            "therapists and may not reflect current licensure; verify with your state board.</p>"
            '<p><a href="/">Home</a> · <a href="/sitemap.xml">Sitemap</a></p></footer>'
        )

    # -- pages ------------------------------------------------------------------------------------

    def home(self, request: Request, _: re.Match[str]) -> Response:
        by_state: dict[str, list[str]] = {}
        for city in self.cities:
            link = (
                f'<li><a href="{self._city_path(city.slug, 1)}">{esc(city.name)}</a> '
                f'<span class="n">({city.count})</span></li>'
            )
            by_state.setdefault(city.state, []).append(link)
        groups = "".join(
            f'<section class="state"><h3>{esc(self.state_names.get(st, st))}</h3>'
            f"<ul>{''.join(items)}</ul></section>"
            for st, items in by_state.items()
        )
        body = (
            '<section class="hero"><h1>Find a neuromuscular &amp; massage therapist near you</h1>'
            f"<p>Browse {self.listing_count:,} therapist profiles and {self.review_count:,} client "
            "reviews across the United States.</p></section>"
            f'<div class="states">{groups}</div>'
        )
        return Response.html(self.layout("Massage therapists near you", body), modified=self.as_of)

    def city_page(self, request: Request, match: re.Match[str]) -> Response | None:
        city = self.cities_by_slug.get(match.group(1))
        page = request.page()
        found = self.city_page_listings(city, page, PER_PAGE)
        if city is None or page is None or found is None:
            return None
        pages, rows = found
        first = (page - 1) * PER_PAGE + 1
        cards = "".join(self._card(self.view(t, item)) for t, item in rows)
        head = ""
        nav = []
        if page > 1:
            prev = self._city_path(city.slug, page - 1)
            head += f'<link rel="prev" href="{prev}">'
            nav.append(f'<a rel="prev" href="{prev}">&larr; Previous</a>')
        nav.append(f'<span class="cur">Page {page} of {pages}</span>')
        if page < pages:
            nxt = self._city_path(city.slug, page + 1)
            head += f'<link rel="next" href="{nxt}">'
            nav.append(f'<a rel="next" href="{nxt}">Next &rarr;</a>')
        sort = with_query("/search", city=city.slug, sort="rating")
        body = (
            f"<h1>Massage Therapists in {esc(city.name)}, {esc(city.state)}</h1>"
            f'<p class="count">Showing {first}&ndash;{first + len(rows) - 1} of {city.count} '
            f'therapists</p><p class="sort">Sort by: <b>Name</b> · <a href="{sort}">Rating</a> · '
            f'<a href="{with_query("/search", city=city.slug, sort="distance")}">Distance</a></p>'
            f'<ol class="results">{cards}</ol><nav class="pager">{"".join(nav)}</nav>'
        )
        title = f"Massage Therapists in {city.name}, {city.state}"
        return Response.html(self.layout(title, body, head=head), modified=self.as_of)

    def _card(self, view: ListingView) -> str:
        rating = (
            f'<span class="stars">{variants.stars(view.rating)}</span> {view.rating:.1f} '
            f"({len(view.reviews)})"
            if view.rating is not None
            else '<span class="new">New</span>'
        )
        return (
            f'<li class="card"><a class="name" href="{view.path}">'
            f"{esc(self.display_name(view))}</a>"
            f'<div class="biz">{esc(view.practice)}</div>'
            f'<div class="loc">{esc(view.city)}, {esc(view.state)}</div>'
            f'<div class="rating">{rating}</div></li>'
        )

    def search(self, request: Request, _: re.Match[str]) -> Response | None:
        city = self.cities_by_slug.get(request.arg("city"))
        if city is None:
            body = "<h1>Search</h1><p>Choose a city to search.</p>"
            return Response.html(self.layout("Search", body), modified=self.as_of)
        rows = self.city_listings(city.slug, 0, PER_PAGE)
        views = sorted((self.view(t, i) for t, i in rows), key=lambda v: -(v.rating or 0))
        body = f'<h1>Top rated in {esc(city.name)}</h1><ol class="results">'
        body += "".join(self._card(v) for v in views) + "</ol>"
        return Response.html(self.layout("Search", body), modified=self.as_of)

    def admin(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            '<h1>Sign in</h1><form method="post" action="/account/login"><label>Email '
            '<input name="email"></label><label>Password <input type="password" name="pw">'
            "</label><button>Sign in</button></form>"
        )
        return Response.html(self.layout("Sign in", body), modified=self.as_of)

    def profile(self, request: Request, match: re.Match[str]) -> Response | None:
        found = self.find(int(match.group(2)))
        if found is None:
            return None
        t, item = found
        view = self.view(t, item)
        if request.path != view.path:
            return Response.redirect(view.path)
        jsonld = self._jsonld(view, request.base_url)
        head = f'<script type="application/ld+json">{jsonld}</script>'
        modified = max([item.updated, *(r.published for r in view.reviews)])
        page = self.layout(self.display_name(view), self._profile_body(view), head=head)
        if item.defect == "unclosed_html":
            page = unclose(page)
        return Response.html(page, modified=modified)

    def _profile_body(self, view: ListingView) -> str:
        offices = view.offices()
        if offices:
            contact = "".join(
                f'<p class="addr">{esc(o.street)}<br>{esc(o.city)}, {esc(o.state)} {esc(o.zip)}</p>'
                for o in offices
            )
        else:
            contact = f'<p class="addr">{esc(view.city)}, {esc(view.state)}</p>'
        if view.phone:
            contact += (
                f'<p class="tel"><a href="tel:+1{view.therapist.phone}">{esc(view.phone)}</a></p>'
            )
        if view.website:
            contact += (
                f'<p class="web"><a rel="nofollow noopener" href="https://{esc(view.website)}/">'
                f"{esc(view.website)}</a></p>"
            )
        creds = "".join(
            f"<li>{esc(c.label)}"
            + (
                f" &middot; {esc(c.state)} #{esc(c.number)}"
                if c.kind == "state_license" and c.number
                else f" #{esc(c.number)}"
                if c.number
                else ""
            )
            + "</li>"
            for c in view.claims
        )
        reviews = "".join(
            f'<li class="review"><div class="who">{esc(r.author)}</div>'
            f'<div class="when">{esc(variants.date_text(r.published, "long", self.as_of))}</div>'
            f'<div class="stars" title="{r.rating:.0f} out of 5">{variants.stars(r.rating)}</div>'
            f"<p>{esc(view.text_of(r))}</p></li>"
            for r in view.shown_reviews
        )
        summary = (
            f'<p class="agg"><span class="stars">{variants.stars(view.rating)}</span> '
            f"{view.rating:.1f} from {len(view.reviews)} reviews</p>"
            if view.rating is not None
            else '<p class="agg">No reviews yet.</p>'
        )
        more = ""
        if len(view.shown_reviews) < len(view.reviews):
            more = (
                f'<p class="more">Showing the {len(view.shown_reviews)} most recent of '
                f'{len(view.reviews)} reviews. <a href="/account/login?next={esc(view.path)}">'
                "Sign in to read them all</a></p>"
            )
        html = (
            f'<article class="profile"><h1>{esc(self.display_name(view))}</h1>'
            f'<p class="biz">{esc(view.practice)}</p>{summary}'
            f'<div class="cols"><section class="contact"><h2>Contact</h2>{contact}</section>'
            f'<section class="about"><h2>About</h2><p>{esc(view.bio)}</p>'
            f'<h2>Specialties</h2><ul class="tags">'
            f"{''.join(f'<li>{esc(m)}</li>' for m in view.modalities)}</ul>"
            f'<h2>Conditions treated</h2><ul class="tags cond">'
            f"{''.join(f'<li>{esc(c)}</li>' for c in view.conditions)}</ul>"
            f'<h2>Credentials</h2><ul class="creds">{creds}</ul></section></div>'
            f'<section class="reviews"><h2>Client reviews</h2><ol>{reviews}</ol>{more}</section>'
            "</article>"
        )
        return html

    def _jsonld(self, view: ListingView, base_url: str) -> str:  # noqa: C901 - one JSON-LD document: a branch per optional property the site varies
        t = view.therapist
        rng = variants.stream(self.seed, self.name, t.id, view.listing.ordinal, "jsonld")
        state_name = self.state_names.get(view.state, view.state)
        credentials: list[dict[str, Any]] = []
        member_of: list[dict[str, Any]] = []
        identifiers: list[dict[str, Any]] = []
        for c in view.claims:
            if c.kind == "membership":
                member_of.append({"@type": "Organization", "name": c.label})
            elif c.kind == "identifier":
                identifiers.append(
                    {"@type": "PropertyValue", "propertyID": "NPI", "value": c.number}
                )
            else:
                cred: dict[str, Any] = {
                    "@type": "EducationalOccupationalCredential",
                    "credentialCategory": "license"
                    if c.kind == "state_license"
                    else "certification",
                    "name": c.label,
                }
                if c.issuer:
                    cred["recognizedBy"] = {"@type": "Organization", "name": c.issuer}
                if c.number:
                    cred["identifier"] = c.number
                if c.kind == "state_license":
                    cred["validIn"] = {"@type": "AdministrativeArea", "name": state_name}
                credentials.append(cred)
        person: dict[str, Any] = {
            "@type": "Person",
            "name": view.name,
            "givenName": t.first,
            "familyName": t.last,
            "jobTitle": "Licensed Massage Therapist" if view.titles else "Massage Therapist",
            "knowsAbout": view.modalities + view.conditions,
            "hasCredential": credentials,
        }
        if view.name is None:
            del person["name"]
        if member_of:
            person["memberOf"] = member_of
        if identifiers:
            person["identifier"] = identifiers
        business: dict[str, Any] = {
            "@type": rng.choice(
                [
                    "HealthAndBeautyBusiness",
                    ["LocalBusiness", "HealthAndBeautyBusiness"],
                    "HealthAndBeautyBusiness",
                ]
            ),
            "@id": f"{base_url}{view.path}#business",
            "name": view.practice,
            "url": f"{base_url}{view.path}",
            **self._location_markup(view),
        }
        if view.phone:
            business["telephone"] = view.phone
        if view.website:
            business["sameAs"] = [f"https://{view.website}/"]
        if view.rating is not None:
            as_string = rng.random() < 0.3
            business["aggregateRating"] = {
                "@type": "AggregateRating",
                "ratingValue": f"{view.rating:.1f}" if as_string else view.rating,
                "reviewCount": len(view.reviews),
                "bestRating": 5,
                "worstRating": 1,
            }
            business["review"] = [
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": r.author},
                    "datePublished": r.published.isoformat(),
                    "reviewRating": {
                        "@type": "Rating",
                        "ratingValue": int(r.rating),
                        "bestRating": 5,
                    },
                    "reviewBody": view.text_of(r),
                }
                for r in view.shown_reviews
            ]
        if rng.random() < 0.5:
            business["employee"] = person
            doc: dict[str, Any] = {"@context": "https://schema.org", **business}
        else:
            person["worksFor"] = {"@id": business["@id"]}
            doc = {"@context": "https://schema.org", "@graph": [person, business]}
        text = json.dumps(doc, ensure_ascii=False, indent=1).replace("</", "<\\/")
        if view.listing.defect == "invalid_jsonld":
            # A hand-edited template: a trailing comma and the closing brace lost.
            text = text.rstrip().rstrip("}").rstrip() + ",\n"
        return text

    def _location_markup(self, view: ListingView) -> dict[str, Any]:
        """The business's ``geo`` and ``address``, or its ``location`` places."""
        offices = view.offices()
        if not offices:  # no street on the page: coordinates only
            return {"geo": _geo(view.lat, view.lon)}
        if len(offices) == 1:
            return {"geo": _geo(view.lat, view.lon), "address": _postal(offices[0])}
        if self.office_markup(view.therapist, view.listing) == ADDRESS_LIST:
            return {"geo": _geo(view.lat, view.lon), "address": [_postal(o) for o in offices]}
        return {
            "location": [
                {
                    "@type": "Place",
                    "name": f"{view.practice} ({o.city})",
                    "address": _postal(o),
                    "geo": _geo(o.lat, o.lon),
                }
                for o in offices
            ]
        }


def _geo(lat: float, lon: float) -> dict[str, Any]:
    return {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}


def _postal(office: OfficeText) -> dict[str, Any]:
    return {
        "@type": "PostalAddress",
        "streetAddress": office.street,
        "addressLocality": office.city,
        "addressRegion": office.state,
        "postalCode": office.zip,
        "addressCountry": "US",
    }
