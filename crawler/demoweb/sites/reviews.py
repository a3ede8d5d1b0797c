"""Knead Reviews: a client-review site with paginated reviews per therapist.

Ratings and dates are written in many forms on purpose: reviews imported from other platforms
keep their original scale ("9/10", "4,5"), and the site's own show star glyphs or "4.5/5".
"""

from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from typing import Any

from crawler.demoweb import variants
from crawler.demoweb.identifiers import Permutation, from_base36, to_base36
from crawler.demoweb.model import Listing, Review, Therapist
from crawler.demoweb.sites.base import Request, Response, esc, page_count, unclose, with_query
from crawler.demoweb.sites.directory import DirectorySite, ListingView
from crawler.demoweb.store import city_slug, slugify

REVIEWS_PER_PAGE = 10
PER_PAGE = 20
_RATING_WEIGHTS = (4, 2, 2, 1, 1)
_DATE_WEIGHTS = (3, 2, 1, 1, 1, 2, 1)


class ReviewsSite(DirectorySite):
    """Per-therapist review pages (``?page=N``) and city browse pages."""

    shows_credentials = False  # a review site shows what clients say, not credentials

    name = "reviews"
    title = "Knead Reviews"
    style = "reviews.css"
    disallow = ("/write-review/", "/flag/", "/search")
    name_styles = (("first_last", 5), ("first_middle_last", 2), ("first_last_title", 2))
    phone_styles = (("paren", 5), ("dash", 2), ("dot", 1))
    tidy_terms = 0.55

    def __init__(self, population: Any) -> None:
        super().__init__(population)
        self.route(r"/", self.home)
        self.route(r"/browse/([a-z0-9-]+)", self.city_page)
        self.route(r"/biz/([a-z0-9-]+)-([0-9a-z]{6,})", self.profile)
        self.route(r"/write-review/.*", self.blocked)
        self.route(r"/flag/.*", self.blocked)
        self.route(r"/search", self.blocked)

    @cached_property
    def _review_ids(self) -> Permutation:
        size = int(self.population.meta["id_space"]) * 1000
        return Permutation(f"{self.seed}/{self.name}/reviews", size)

    def listing_path(self, t: Therapist, listing: Listing) -> str:
        addr = t.previous_address if listing.stale and t.previous_address else t.address
        slug = f"{slugify(t.first + ' ' + t.last)}-{city_slug(addr.city, addr.state)}"
        return f"/biz/{slug}-{to_base36(self.public_id(t.id, listing.ordinal), 6)}"

    def review_pages(self, t: Therapist, listing: Listing) -> int:
        """How many review pages a listing has."""
        count = len(t.reviews_on(self.name)) if listing.ordinal == 0 else 0
        return page_count(count, REVIEWS_PER_PAGE)

    def review_page_path(self, t: Therapist, listing: Listing, page: int) -> str:
        """The path of one review page of a listing."""
        path = self.listing_path(t, listing)
        return path if page == 1 else with_query(path, page=page)

    def review_locations(self, t: Therapist) -> dict[int, str]:
        """For each review of ``t`` on this site, the path of the page showing it."""
        item = t.listing(self.name, 0)
        if item is None:
            return {}
        first = self.listing_path(t, item)
        out = {}
        for i, r in enumerate(t.reviews_on(self.name)):
            page = i // REVIEWS_PER_PAGE + 1
            out[r.id] = first if page == 1 else with_query(first, page=page)
        return out

    def static_entries(self) -> list[tuple[str, date]]:
        entries = [("/", self.as_of)]
        for city in self.cities:
            for n in range(1, page_count(city.count, PER_PAGE) + 1):
                path = f"/browse/{city.slug}"
                entries.append((path if n == 1 else with_query(path, page=n), self.as_of))
        return entries

    def frame(self, body: str) -> str:
        return (
            '<div class="bar"><a class="logo" href="/">knead</a>'
            '<form action="/search">'
            '<input name="q" placeholder="massage, NMT, deep tissue..."></form>'
            '<a style="color:#fff" href="/write-review/">Write a review</a></div>'
            f'<div class="page">{body}</div>'
            "<footer>Knead Reviews &middot; "
            "Reviews are the opinions of individual clients.</footer>"
        )

    def home(self, request: Request, _: re.Match[str]) -> Response:
        items = "".join(
            f'<li><a href="/browse/{c.slug}">{esc(c.name)}, {esc(c.state)}</a></li>'
            for c in self.cities
        )
        body = (
            f"<h1>Honest reviews of massage therapists</h1><p>{self.review_count:,} reviews of "
            f"{self.listing_count:,} therapists.</p><h2>Browse by city</h2><ul>{items}</ul>"
        )
        return Response.html(self.layout("Massage therapist reviews", body), modified=self.as_of)

    def city_page(self, request: Request, match: re.Match[str]) -> Response | None:
        city = self.cities_by_slug.get(match.group(1))
        page = request.page()
        found = self.city_page_listings(city, page, PER_PAGE)
        if city is None or page is None or found is None:
            return None
        pages, rows = found
        items = "".join(self._row(self.view(t, item)) for t, item in rows)
        nav = []
        base = f"/browse/{city.slug}"
        if page > 1:
            nav.append(
                f'<a href="{base if page == 2 else with_query(base, page=page - 1)}">Prev</a>'
            )
        nav.append(f"<span>{page}</span>")
        if page < pages:
            nav.append(f'<a href="{with_query(base, page=page + 1)}">Next</a>')
        body = (
            f"<h1>Best massage therapists in {esc(city.name)}, {esc(city.state)}</h1>"
            f'{items}<div class="pagination">{"".join(nav)}</div>'
        )
        return Response.html(self.layout(f"Massage in {city.name}", body), modified=self.as_of)

    def _row(self, view: ListingView) -> str:
        summary = (
            f"{view.rating:.1f} &#9733; &middot; {len(view.reviews)} reviews"
            if view.rating is not None
            else "No reviews yet"
        )
        return (
            f'<div class="listing-row"><a href="{view.path}">'
            f"<b>{esc(self.display_name(view))}</b></a>"
            f" &mdash; {esc(view.practice)}<br><small>{summary}</small></div>"
        )

    def blocked(self, request: Request, _: re.Match[str]) -> Response:
        body = "<h1>Log in to continue</h1><p>You need an account to do that.</p>"
        return Response.html(self.layout("Log in", body), modified=self.as_of)

    def profile(self, request: Request, match: re.Match[str]) -> Response | None:
        try:
            found = self.find(from_base36(match.group(2)))
        except ValueError:
            return None
        page = request.page()
        if found is None or page is None:
            return None
        t, item = found
        view = self.view(t, item)
        if request.path != view.path:
            return None
        pages = self.review_pages(t, item)
        if page > pages or request.arg("page") == "1":
            return None
        shown = view.reviews[(page - 1) * REVIEWS_PER_PAGE : page * REVIEWS_PER_PAGE]
        overall = (
            f'<div class="overall"><span class="big">{view.rating:.1f}</span> '
            f"{variants.stars(view.rating)} &middot; {len(view.reviews)} reviews</div>"
            if view.rating is not None
            else '<div class="overall">Be the first to review</div>'
        )
        head_lines = [f"<h1>{esc(view.name)}</h1>" if view.name else "<h1></h1>"]
        head_lines.append(f"<div>{esc(view.practice)}</div>")
        loc = f"{view.street}, " if view.street else ""
        head_lines.append(f"<div>{esc(loc)}{esc(view.city)}, {esc(view.state)}</div>")
        if view.phone:
            head_lines.append(f"<div>{esc(view.phone)}</div>")
        head_lines.append(f'<div class="meta">{esc(" · ".join(view.modalities[:5]))}</div>')
        reviews = "".join(self._review(view, r) for r in shown)
        nav = []
        if page > 1:
            nav.append(
                f'<a rel="prev" href="{self.review_page_path(t, item, page - 1)}">&lsaquo; Prev</a>'
            )
        for n in range(1, pages + 1):
            nav.append(
                f"<span>{n}</span>"
                if n == page
                else f'<a href="{self.review_page_path(t, item, n)}">{n}</a>'
            )
        if page < pages:
            nav.append(
                f'<a rel="next" href="{self.review_page_path(t, item, page + 1)}">Next &rsaquo;</a>'
            )
        body = (
            f'<div class="biz-head">{"".join(head_lines)}{overall}</div>'
            f'<section id="reviews">{reviews}</section>'
            f'<div class="pagination">{"".join(nav)}</div>'
            f'<p><a href="/write-review/{match.group(2)}">Write a review</a></p>'
        )
        page_html = self.layout(self.display_name(view), body)
        if item.defect == "unclosed_html":
            page_html = unclose(page_html)
        modified = max([item.updated, *(r.published for r in view.reviews)])
        return Response.html(page_html, modified=modified)

    def _review(self, view: ListingView, review: Review) -> str:
        rng = variants.stream(self.seed, self.name, "review", review.id)
        rating_style = rng.choices(variants.RATING_STYLES, weights=_RATING_WEIGHTS)[0]
        if rating_style == "stars" and not review.rating.is_integer():
            # Glyphs cannot show half a star; the site writes those ratings as numbers.
            rating_style = "slash5"
        date_style = rng.choices(variants.DATE_STYLES, weights=_DATE_WEIGHTS)[0]
        public = to_base36(self._review_ids.forward(review.id), 8)
        return (
            f'<div class="rv" id="r-{public}"><div><div class="user">{esc(review.author)}</div>'
            f'<div class="meta">{esc(variants.date_text(review.published, date_style, self.as_of))}'
            '</div></div><div><div class="score">'
            f"{esc(variants.rating_text(review.rating, rating_style))}"
            f"</div><p>{esc(view.text_of(review))}</p>"
            f'<a class="flag" href="/flag/{public}">Report</a></div></div>'
        )
