"""Crediting the providers whose content a page shows, as their terms ask.

A source read through an official API states in its catalog terms how its content is to be
credited (:mod:`crawler.terms`): the name to show ("Yelp", "Google Maps") and the links that go
with it: ``business_page`` (the provider's page of the business: Yelp asks for a link back to
it), ``review`` (the review on the provider's site) and ``review_author`` (the review's author:
Google asks for it beside each review). Wherever a page shows such a source's rating or reviews,
it shows the line these helpers make. Sources without terms need no credit line.
"""

from __future__ import annotations

import streamlit as st

from crawler.catalog import CatalogError, source_terms
from crawler.terms import Attribution
from dashboard.markup import escape_markdown, http_url
from indexer.profile import Profile, ReviewEntry

TERMS_TTL_SECONDS = 300


@st.cache_data(ttl=TERMS_TTL_SECONDS, show_spinner=False)
def _attributions() -> dict[str, Attribution]:
    try:
        terms = source_terms()
    except CatalogError:
        return {}
    return {name: t.attribution for name, t in terms.items() if t.attribution is not None}


def attribution_of(source: str) -> Attribution | None:
    """How a source's content is credited, or None when its terms ask for nothing."""
    return _attributions().get(source)


def _link(label: str, url: str | None) -> str:
    """A markdown link showing ``label`` literally; the bare label for a URL that is no
    http(s) link."""
    safe = http_url(url)
    text = escape_markdown(label)
    if safe is None:
        return text
    # Parentheses and spaces would end the link's target early.
    target = safe.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{text}]({target})"


def business_page(profile: Profile, source: str) -> str | None:
    """The provider's own page of the business the profile's listing on ``source`` is."""
    for listing in profile.listings:
        if listing.source == source and http_url(listing.page_url):
            return listing.page_url
    return None


def credited_sources(profile: Profile) -> list[str]:
    """The profile's sources whose content must be credited, in name order."""
    shown = set(profile.rating.by_source) | {r.source for r in profile.reviews}
    return sorted(s for s in shown if attribution_of(s) is not None)


def source_credit(profile: Profile, source: str) -> str | None:
    """The credit line for a source's rating and reviews on this profile ("Rating and reviews
    from Yelp · View this business on Yelp"), as markdown; None when none is needed."""
    attribution = attribution_of(source)
    if attribution is None:
        return None
    name = escape_markdown(attribution.name)
    line = f"Rating and reviews from **{name}**"
    if "business_page" in attribution.links:
        page = business_page(profile, source)
        if page:
            line += " · " + _link(f"View this business on {attribution.name}", page)
    return line


def review_credit(review: ReviewEntry) -> str | None:
    """The credit line of one review of a credited source ("by Jane D. on Google Maps", the
    author linking to their page; "Read it on Yelp"), as markdown; None when none is needed."""
    attribution = attribution_of(review.source)
    if attribution is None:
        return None
    parts = []
    if "review_author" in attribution.links and review.author:
        parts.append(f"by {_link(review.author, review.author_url)}")
    parts.append(f"on **{escape_markdown(attribution.name)}**")
    if "review" in attribution.links and http_url(review.url):
        parts.append("· " + _link(f"Read it on {attribution.name}", review.url))
    return " ".join(parts)


def ratings_credit(profile: Profile) -> str | None:
    """One line naming every credited provider whose rating counts in the profile's figures,
    each linking to its page of the business; None when there is none."""
    credits = []
    for source in credited_sources(profile):
        attribution = attribution_of(source)
        assert attribution is not None
        page = business_page(profile, source) if "business_page" in attribution.links else None
        credits.append(_link(attribution.name, page))
    return "Ratings include " + " · ".join(credits) if credits else None
