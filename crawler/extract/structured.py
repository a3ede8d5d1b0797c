"""Listings, reviews and credentials from a page's schema.org data, in any of its three syntaxes.

Works from schema.org types and properties only, so a new site that publishes JSON-LD, microdata
or RDFa needs no code here. Bad data on a page is recorded in :attr:`Extraction.errors` and never
raises.

A page is read in one of two ways. By default every therapist and practice on it is a listing of
its own (a practice page with its staff, a search page with several results). A *profile page*
(``listing_ref`` given) is the page of one listing: the therapist it names, the practice that
lists them and every review on it make up that one listing, as a directory's visitor reads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract import links
from crawler.extract.credentials import (
    claimed_credentials,
    identifier_text,
    membership_credentials,
    mentions_npi_utf8,
    npi_candidates,
    npi_in_text,
    suffix_credentials,
    valid_npi,
)
from crawler.extract.locations import PLACE_PROPERTIES, RawLocation, raw_locations, split_main
from crawler.extract.nodes import (
    Node,
    Properties,
    get,
    get_all,
    get_first,
    is_node,
    text,
    texts,
    types_of,
)
from crawler.extract.ratings import parse_rating
from crawler.extract.result import Extraction, ExtractionError, Record
from crawler.extract.schema_types import (
    CREDENTIAL_TYPES,
    OFFERING_TYPES,
    REVIEW_TYPES,
    is_business,
    is_individual,
    is_listing_type,
)
from crawler.extract.syntaxes import RDFA, SYNTAXES, parse_page, roots_of
from crawler.extract.text import clean_text
from crawler.extract.values import opening_hours, parse_coordinate, parse_count
from crawler.items import (
    Listing,
    PracticeLocation,
    Provenance,
    Rating,
    Review,
    body_hash,
    stable_id,
)

# Properties through which a page reaches the listings it is about. Others (author, publisher,
# recognizedBy…) lead to people and organisations that are not listings.
_LISTING_PATHS = Properties("mainEntity", "about", "itemListElement", "item", "itemReviewed")
_MEMBER_PATHS = Properties("employee", "employees", "member", "members")
# A top-level review's subject is what the page is about, like a page's main entity.
_TOP_LEVEL_PATHS = frozenset({"mainEntity", "about", "itemReviewed"})
_PRACTICE_PROPERTIES = Properties("worksFor", "memberOf", "affiliation", "parentOrganization")
_REVIEW_PROPERTIES = Properties("review", "reviews")
# Where a listing claims credentials besides hasCredential: a name's suffix, memberships.
_CLAIM_PROPERTIES = Properties("honorificSuffix", "memberOf")
_LOCATION_PROPERTIES = Properties("address", "geo", "telephone", *PLACE_PROPERTIES)
# worksFor names an employer whatever its type; the others also name associations and schools,
# which are a practice only when typed as a business.
_EMPLOYER_PROPERTIES = frozenset({"worksFor"})
_SLUG = re.compile(r"[^a-z0-9]+")
# Reviews nested in reviews: markup that never closes one review's element puts the next inside
# it. Deeper than this is a loop or nonsense.
_MAX_REVIEW_NESTING = 50


def provenance_for(
    source: str, url: str, body: bytes | str, fetched_at: str | None = None
) -> Provenance:
    """Return the provenance of a page fetched from ``url`` now (or at ``fetched_at``)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    when = fetched_at or datetime.now(UTC).replace(microsecond=0).isoformat()
    return Provenance(source=source, url=url, fetched_at=when, content_hash=body_hash(raw))


def extract_structured(
    body: str | bytes,
    provenance: Provenance,
    *,
    base_url: str | None = None,
    encoding: str = "utf-8",
    syntaxes: tuple[str, ...] = SYNTAXES,
    listing_ref: str | None = None,
) -> Extraction:
    """Return the listings, reviews and stand-alone credentials described on a page.

    ``base_url`` (default: ``provenance.url``) resolves relative links and is the reference of
    the page's single listing when it has no ``@id``. The same entity given in several syntaxes
    yields one record. Never raises for bad page content; problems are in ``errors``.

    ``listing_ref`` marks the page as the profile of one listing with that reference (usually
    the page's canonical URL). The page then gives at most one listing: the therapist it is
    about, located at, reached through and rated through the practice that lists them (or the
    practice alone when no one is named), with the memberships and credentials of both; every
    review on the page is that listing's. A page about several different people is read the
    default way.
    """
    page_url = base_url or provenance.url
    tree, errors = parse_page(body, page_url, encoding=encoding, rdfa=RDFA in syntaxes)
    page = _Page(provenance=provenance, page_url=page_url, errors=errors, profile_ref=listing_ref)
    if tree is None:
        return page.finish()
    page.tree = tree
    for syntax_roots in roots_of(tree, page_url, syntaxes=syntaxes, errors=errors):
        for root in syntax_roots.roots:
            page.walk(root, syntax_roots.syntax, top_level=True, practice=None)
    return page.finish()


@dataclass(slots=True)
class _Found:
    node: Node
    syntax: str
    top_level: bool
    practice: Node | None = None


@dataclass(slots=True)
class _Page:
    provenance: Provenance
    page_url: str
    errors: list[ExtractionError]
    listings: list[_Found] = field(default_factory=list)
    reviewed: list[_Found] = field(default_factory=list)  # non-listing nodes carrying reviews
    rated_offerings: list[_Found] = field(default_factory=list)  # see _offering_rating
    loose_reviews: list[_Found] = field(default_factory=list)  # top-level Review nodes
    loose_credentials: list[_Found] = field(default_factory=list)
    profile_ref: str | None = None
    tree: HtmlElement | None = None
    _seen: set[int] = field(default_factory=set)
    _refs: dict[int, str] = field(default_factory=dict)
    # How often each id-less review key came up, per syntax and subject (see _review).
    _review_keys: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # The places each node gives, by id(node): a practice's are read for the therapist located
    # there and again for the practice itself.
    _places: dict[int, list[RawLocation]] = field(default_factory=dict)
    # A page's parts name the same few URLs (the page itself, the practice's site) again and
    # again: each is resolved against the page once.
    _absolute_urls: dict[str, str] = field(default_factory=dict)

    # -- finding ---------------------------------------------------------------------------

    def walk(self, node: Node, syntax: str, *, top_level: bool, practice: Node | None) -> None:
        if id(node) in self._seen:
            return
        self._seen.add(id(node))
        types = types_of(node)
        is_listing = is_listing_type(types, node)
        self._note(node, syntax, types, is_listing, top_level=top_level, practice=practice)
        self._walk_children(node, syntax, types, is_listing, top_level=top_level, practice=practice)

    def _note(
        self,
        node: Node,
        syntax: str,
        types: list[str],
        is_listing: bool,
        *,
        top_level: bool,
        practice: Node | None,
    ) -> None:
        """File the node under what it is: a listing, a review, a credential, a reviewed or
        rated thing."""
        if is_listing:
            self.listings.append(_Found(node, syntax, top_level, practice))
        elif top_level and not REVIEW_TYPES.isdisjoint(types):
            self.loose_reviews.append(_Found(node, syntax, top_level))
        elif top_level and not CREDENTIAL_TYPES.isdisjoint(types):
            self.loose_credentials.append(_Found(node, syntax, top_level))
        elif any(get(node, key) is not None for key in _REVIEW_PROPERTIES.of(node)):
            self.reviewed.append(_Found(node, syntax, top_level))
        if (
            not is_listing
            and not OFFERING_TYPES.isdisjoint(types)
            and get(node, "aggregateRating") is not None
        ):
            self.rated_offerings.append(_Found(node, syntax, top_level))

    def _walk_children(
        self,
        node: Node,
        syntax: str,
        types: list[str],
        is_listing: bool,
        *,
        top_level: bool,
        practice: Node | None,
    ) -> None:
        for key in _LISTING_PATHS.of(node):
            for child in get_all(node, key):
                if is_node(child):
                    self.walk(
                        child,
                        syntax,
                        top_level=top_level and key in _TOP_LEVEL_PATHS,
                        practice=practice,
                    )
        if is_listing and is_business(types):
            for key in _MEMBER_PATHS.of(node):
                for child in get_all(node, key):
                    if is_node(child):
                        self.walk(child, syntax, top_level=False, practice=node)
        elif is_listing and self.profile_ref is not None and is_individual(types):
            # On a profile page the practice a therapist works for is part of their listing
            # (its address, rating and reviews), so it is read even when only linked.
            for business in _practices(node):
                self.walk(business, syntax, top_level=False, practice=None)

    # -- building --------------------------------------------------------------------------

    def finish(self) -> Extraction:
        if self.profile_ref is not None:
            profile = self._profile_records(self.profile_ref)
            if profile is not None:
                return Extraction(records=profile, errors=self.errors)
        self._assign_refs()
        records: list[Record] = []
        by_id: dict[str, Listing | Review] = {}
        self._add_listings(records, by_id)
        self._add_loose_reviews(records, by_id)
        for found in self.loose_credentials:
            for credential in claimed_credentials(found.node):
                if credential not in records:
                    records.append(credential)
        listings = [r for r in records if isinstance(r, Listing)]
        if len(listings) == 1:
            # As with its reviews (see _subject_ref), a page's only listing is what it rates.
            self._offering_rating(listings[0])
        return Extraction(records=records, errors=self.errors)

    def _profile_records(self, ref: str) -> list[Record] | None:
        """The one listing of a profile page and every review on it; None for a page about
        several different people, which is read the default way."""
        individuals = [f for f in self.listings if is_individual(types_of(f.node))]
        # (One individual is one person, whatever the name.)
        if len(individuals) > 1 and len({_name_key(f.node) for f in individuals} - {""}) > 1:
            return None
        # (By identity: an individual's node never equals a business's, their types differ.)
        businesses = [f for f in self.listings if all(f is not i for i in individuals)]
        records: list[Record] = []
        by_id: dict[str, Listing | Review] = {}
        listing = self._profile_listing(ref, individuals, businesses)
        if listing is not None:
            records.append(listing)
            by_id[listing.id] = listing
        name = listing.name_raw if listing is not None else None
        for found in [*self.listings, *self.reviewed]:
            for review in self._reviews_of(found.node, ref, name, found.syntax):
                _add(records, by_id, review)
        self._add_loose_reviews(records, by_id, profile=(ref, name))
        return records

    def _add_listings(self, records: list[Record], by_id: dict[str, Listing | Review]) -> None:
        """Add every listing with its reviews, and the reviews of every other reviewed thing."""
        for found in self.listings:
            listing = self._listing(found)
            if listing is not None:
                _add(records, by_id, listing)
                for review in self._reviews_of(
                    found.node, listing.source_ref, listing.name_raw, found.syntax
                ):
                    _add(records, by_id, review)
        for found in self.reviewed:
            ref = self._subject_ref(found.node)
            name = text(get(found.node, "name"))
            for review in self._reviews_of(found.node, ref, name, found.syntax, subject=found.node):
                _add(records, by_id, review)

    def _add_loose_reviews(
        self,
        records: list[Record],
        by_id: dict[str, Listing | Review],
        profile: tuple[str, str | None] | None = None,
    ) -> None:
        """Add the reviews found on their own: of the subject each names, or on a profile page
        (``profile``: its ref and name) of the profile."""
        for found in self.loose_reviews:
            subject_node: Node | None = None
            if profile is None:
                subject = get(found.node, "itemReviewed")
                subject_node = subject if is_node(subject) else None
                ref, name = self._subject_ref(subject_node), text(subject)
            else:
                ref, name = profile
            for node in [found.node, *_nested_reviews(found.node, 0)]:
                loose = self._review(node, ref, name, found.syntax, subject=subject_node)
                if loose is not None:
                    _add(records, by_id, loose)

    def _profile_listing(
        self, ref: str, individuals: list[_Found], businesses: list[_Found]
    ) -> Listing | None:
        """The one listing of a profile page: its person (or else its business) with what the
        page's other nodes add."""
        if not individuals and not businesses:
            return None
        subject = individuals[0] if individuals else _first_top_level(businesses)
        place = None
        if individuals:
            place = self._place_of(subject) or (
                _first_top_level(businesses).node if businesses else None
            )
        listing = self._listing(subject, ref=ref, place=place, profile=True)
        if listing is None:
            return None
        for other in self.listings:
            if other is not subject:
                part = self._listing(other, ref=ref, profile=True, named=False)
                if part is not None:
                    _merge_profile(listing, part)
        # Credentials given as nodes of their own on a profile are its listing's.
        for found in self.loose_credentials:
            for credential in claimed_credentials(found.node):
                if credential not in listing.credentials:
                    listing.credentials.append(credential)
        self._profile_npi(listing)
        self._offering_rating(listing)
        return listing

    def _profile_npi(self, listing: Listing) -> None:
        """Take the NPI from the page's text when its structured data gives none.

        Sites often show "NPI 1234567893" as a badge without marking it up. Only a profile
        page's text can be tied to its listing, and only one distinct number is trusted.
        """
        if listing.npi is not None or self.tree is None:
            return
        # A cheap look first: most pages name no NPI at all. The page's text is taken as
        # text_content() gives it, but in UTF-8, which mentions_npi_utf8 mostly need not decode.
        page_text = etree.tostring(self.tree, method="text", encoding="utf-8", with_tail=False)
        if not mentions_npi_utf8(page_text):
            return
        found = npi_in_text(" ".join(self.tree.xpath("//body//text()")))
        if len(found) == 1:
            listing.npi = found[0]
            listing.extras["npi_from"] = "page_text"

    def _offering_rating(self, listing: Listing) -> None:
        """Give a listing without an aggregate rating the one of the service it offers.

        Only for the one listing a page is about: sites rate a practitioner through the service
        or product they offer (see OFFERING_TYPES), never through the directory's own
        organisation, whose rating is not the practitioner's.
        """
        if listing.aggregate_rating is not None:
            return
        for found in self.rated_offerings:
            rating = self._aggregate_rating(found.node, listing.name_raw, listing.extras)
            if rating is not None:
                listing.aggregate_rating = rating
                listing.extras["rating_from"] = _name_of(found.node) or types_of(found.node)[0]
                return

    def _assign_refs(self) -> None:
        """Give every listing its reference: its ``@id``, the page URL, or a fragment of it.

        Listings are matched across syntaxes by name, so the JSON-LD and microdata copies of one
        practice share a reference (and so an id) even when only one of them has an ``@id``.
        """
        id_by_name: dict[str, str] = {}
        for found in self.listings:
            key = _name_key(found.node)
            node_id = self._absolute_id(found.node)
            if key and node_id:
                id_by_name.setdefault(key, node_id)
        top_names = {_name_key(f.node) for f in self.listings if f.top_level}
        single_page_listing = len(top_names) == 1
        for found in self.listings:
            key = _name_key(found.node)
            ref = self._absolute_id(found.node) or id_by_name.get(key)
            if ref is None:
                if found.top_level and single_page_listing:
                    ref = self.page_url
                else:
                    ref = f"{self.page_url.split('#')[0]}#{key or len(self._refs)}"
            self._refs[id(found.node)] = ref

    def _absolute_id(self, node: Node) -> str | None:
        node_id = node.get("@id")
        if not isinstance(node_id, str) or not node_id.strip() or node_id.startswith("_:"):
            return None
        return links.resolve(self.page_url, node_id.strip())

    def _subject_ref(self, subject: Node | None) -> str:
        """The reference reviews of a non-listing subject attach to.

        A reviewed Service or Product on a page about one therapist is that therapist's, so its
        reviews go to the page's only listing; otherwise to the subject's own id or the page.
        """
        if subject is not None and id(subject) in self._refs:
            return self._refs[id(subject)]
        listing_refs = set(self._refs.values())
        if len(listing_refs) == 1:
            return next(iter(listing_refs))
        return (self._absolute_id(subject) if subject is not None else None) or self.page_url

    def _listing(
        self,
        found: _Found,
        *,
        ref: str | None = None,
        place: Node | None = None,
        profile: bool = False,
        named: bool = True,
    ) -> Listing | None:
        """Build the listing of one node.

        Default reading: the node's own reference, and a person's practice found from the page.
        ``profile``: the node is (part of) the page's one listing, ``ref`` given; a therapist
        without a name is listed under their practice's name. ``named=False`` builds a part
        that is merged into the listing, so a missing name is no error there.
        """
        node = found.node
        types = types_of(node)
        person = is_individual(types)
        if not profile and person:
            place = self._place_of(found)
        name = _name_of(node)
        if not name and profile and named and person and _name_of(place):
            self._error(
                "listing/no-name",
                f"a {'/'.join(types)} without a name; listed under its practice's name",
            )
            name = _name_of(place)
        if not name and named:
            self._error("listing/no-name", f"a {'/'.join(types) or 'node'} without a name")
            return None
        ref = ref or self._refs[id(node)]
        location = place if place is not None and _lacks_location(node) else node

        main, others = split_main(self._raw_locations(location))
        latitude, longitude, geo_extras = self._coordinates(
            main.latitude, main.longitude, name or ref
        )
        extras: dict[str, Any] = {"schema_types": types, "syntax": found.syntax, **geo_extras}
        if location is not node:
            extras["location_from"] = _name_of(location)

        credentials = claimed_credentials(get_all(node, "hasCredential"))
        if _CLAIM_PROPERTIES.of(node):  # (most listings have neither)
            for credential in [
                *suffix_credentials(get_all(node, "honorificSuffix")),
                *membership_credentials(_memberships(node)),
            ]:
                if all(c.name_raw != credential.name_raw for c in credentials):
                    credentials.append(credential)

        practice_name = (_name_of(place) if place is not None else None) if person else name
        listing = Listing(
            id=stable_id(self.provenance.source, ref) if named else "",  # a part's is unused
            provenance=self.provenance,
            source_ref=ref,
            name_raw=name or "",
            practice_name_raw=practice_name,
            address=main.address,
            latitude=latitude,
            longitude=longitude,
            other_locations=self._other_locations(others, name or ref),
            telephone_raw=_telephone(node)
            or (_telephone(location) if location is not node else None),
            website=self._website(node, place) if profile else self._url(get(node, "url")),
            email=_email(get(node, "email")),
            modalities_raw=_modalities(node),
            credentials=credentials,
            npi=self._npi(node, extras),
            aggregate_rating=self._aggregate_rating(node, name or ref, extras),
            bio=clean_text(text_block(get(node, "description"))),
            extras=extras,
        )
        extras.update(_listing_extras(node))
        return listing

    def _raw_locations(self, node: Node) -> list[RawLocation]:
        """:func:`raw_locations`, read once per node (they are only read, never changed)."""
        places = self._places.get(id(node))
        if places is None:
            places = self._places[id(node)] = raw_locations(node)
        return places

    def _place_of(self, found: _Found) -> Node | None:
        """The practice a person works at: the business listing them, or their employer."""
        if found.practice is not None:
            return found.practice
        return next(_practices(found.node), None)

    def _website(self, node: Node, place: Node | None) -> str | None:
        """A profile's website: the first link off the directory's own site.

        On a directory, ``url`` is often the profile page itself; the practice's own site is
        then in ``sameAs`` or on the practice node.
        """
        candidates = [get(node, "url"), *get_all(node, "sameAs")]
        if place is not None and place is not node:
            candidates += [get(place, "url"), *get_all(place, "sameAs")]
        for value in candidates:
            link = text(value)
            # (The page itself, the usual url of a profile, is on the site's own host.)
            if not link or link == self.page_url:
                continue
            host = links.resolved_host(self.page_url, link)
            if host is not None and host != links.host(self.page_url):
                return self._url(link)
        return None

    def _other_locations(self, spots: list[RawLocation], name: str) -> list[PracticeLocation]:
        """The further locations of a listing, their coordinates parsed (refusals reported)."""
        locations = []
        for spot in spots:
            latitude, longitude, _ = self._coordinates(
                spot.latitude, spot.longitude, f"{name} (another location)"
            )
            if spot.address is not None or latitude is not None:
                locations.append(PracticeLocation(spot.address, latitude, longitude))
        return locations

    def _coordinates(
        self, raw_lat: Any, raw_lon: Any, name: str
    ) -> tuple[float | None, float | None, dict[str, Any]]:
        """Parse a coordinate pair; a refused or half pair places nothing and is kept raw."""
        latitude = parse_coordinate(raw_lat, 90.0)
        longitude = parse_coordinate(raw_lon, 180.0)
        for label, raw, parsed in (
            ("latitude", raw_lat, latitude),
            ("longitude", raw_lon, longitude),
        ):
            if raw not in (None, "") and parsed is None:
                self._error(f"value/{label}-invalid", f"{name!r}: {label} {raw!r} refused")
        if latitude is None or longitude is None:
            extras = {}
            if raw_lat not in (None, "") or raw_lon not in (None, ""):
                extras["geo_raw"] = {"latitude": text(raw_lat), "longitude": text(raw_lon)}
            # Half a coordinate pair places nothing.
            return None, None, extras
        return latitude, longitude, {}

    def _npi(self, node: Node, extras: dict[str, Any]) -> str | None:
        for raw in npi_candidates(node):
            npi = valid_npi(raw)
            if npi is not None:
                return npi
            extras["npi_raw"] = raw
            self._error("value/npi-invalid", f"NPI {raw!r} is not ten digits")
        return None

    def _aggregate_rating(self, node: Node, name: str, extras: dict[str, Any]) -> Rating | None:
        aggregate = get(node, "aggregateRating")
        if not is_node(aggregate):
            return None
        review_count = parse_count(get(aggregate, "reviewCount"))
        rating_count = parse_count(get(aggregate, "ratingCount"))
        if review_count is not None:
            extras["review_count"] = review_count
        if rating_count is not None:
            extras["rating_count"] = rating_count
        # ratingCount counts every rating behind the average; reviewCount only written reviews.
        count = rating_count if rating_count is not None else review_count
        return self._rating(aggregate, ("aggregate rating of", name), count=count)

    def _rating(
        self, node: Any, where: tuple[str, str | None], count: int | None = None
    ) -> Rating | None:
        """Parse a rating; one refused is reported as the rating of ``where`` (what, whose),
        which is put into words only then."""
        if is_node(node):
            raw = get(node, "ratingValue")
            if raw is None:
                return None
            rating = parse_rating(
                raw, best=get(node, "bestRating"), worst=get(node, "worstRating"), count=count
            )
        elif node is not None:
            rating = parse_rating(text(node), count=count)
        else:
            return None
        if rating.value is None:
            what, whose = where
            self._error("value/rating-invalid", f"{what} {whose!r}: rating {rating.raw!r} refused")
        return rating

    def _reviews_of(
        self,
        node: Node,
        ref: str,
        subject_name: str | None,
        syntax: str,
        subject: Node | None = None,
    ) -> list[Review]:
        reviews = []
        for item in _review_nodes(node, 0):
            review = self._review(item, ref, subject_name, syntax, subject=subject)
            if review is not None:
                reviews.append(review)
        return reviews

    def _review(
        self,
        node: Node,
        ref: str,
        subject_name: str | None,
        syntax: str,
        subject: Node | None = None,
    ) -> Review | None:
        author = _author(get(node, "author"))
        body = clean_text(text_block(get_first(node, "reviewBody", "description", "text")))
        published = text(get_first(node, "datePublished", "dateCreated"))
        rating = self._rating(get(node, "reviewRating"), ("review by", author))
        if not (author or body or rating):
            self._error(
                "review/empty", f"a review of {subject_name!r} with no author, text or rating"
            )
            return None
        key = self._absolute_id(node)
        if key is None:
            key = _review_key(author, published, body, rating)
            # Two reviews alike in author, date, text and rating are still two reviews; the
            # count is per syntax so the JSON-LD and microdata copies of a page still pair up.
            seen = self._review_keys.get((syntax, ref, key), 0)
            self._review_keys[(syntax, ref, key)] = seen + 1
            if seen:
                key = f"{key}-{seen + 1}"
        extras: dict[str, Any] = {"syntax": syntax}
        title = text(get(node, "name"))
        if title:
            extras["title"] = title
        if subject is not None and types_of(subject):
            extras["subject_types"] = types_of(subject)
        return Review(
            id=stable_id(self.provenance.source, f"{ref}#review:{key}"),
            provenance=self.provenance,
            listing_ref=ref,
            author_raw=author,
            rating=rating,
            published_raw=published,
            body=body,
            subject_name_raw=subject_name,
            extras=extras,
        )

    def _url(self, value: Any) -> str | None:
        url = text(value)
        if not url:
            return None
        absolute = self._absolute_urls.get(url)
        if absolute is None:
            absolute = self._absolute_urls[url] = links.resolve(self.page_url, url)
        return absolute

    def _error(self, kind: str, message: str) -> None:
        self.errors.append(ExtractionError(kind, f"{self.page_url}: {message}"))


# Each record class's field names: dataclasses.fields() works them out anew on every call.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    cls: tuple(spec.name for spec in dataclasses.fields(cls)) for cls in (Listing, Review)
}


def text_block(value: Any) -> str | None:
    """Return a long-text property (a bio, a review body) as one string, paragraphs joined."""
    if isinstance(value, list):
        parts = [p for p in (text_block(v) for v in value) if p]
        return "\n\n".join(parts) or None
    if is_node(value):
        return text(value)
    return None if value is None else str(value)


def _add(
    records: list[Record], by_id: dict[str, Listing | Review], record: Listing | Review
) -> None:
    """Add a record, or fill the gaps of the one already found under its id."""
    existing = by_id.get(record.id)
    if existing is None:
        by_id[record.id] = record
        records.append(record)
        return
    for name in _FIELD_NAMES[type(existing)]:
        if name == "extras":
            for key, value in record.extras.items():
                existing.extras.setdefault(key, value)
        elif _missing(getattr(existing, name)) and getattr(record, name):
            setattr(existing, name, getattr(record, name))


def _merge_profile(listing: Listing, part: Listing) -> None:
    """Fill a profile's gaps from another part of the same page (its practice, another syntax's
    copy), and add that part's credentials and techniques; its name is the practice's, never
    the therapist's."""
    for name in _GAPS_FILLED:
        value = getattr(listing, name)
        # _missing(value), inline: this runs for every field of every profile
        if not value and value in (None, [], "") and getattr(part, name):
            setattr(listing, name, getattr(part, name))
    _merge_locations(listing, part)  # once the address is filled
    if part.credentials:
        known = {(c.name_raw, c.number) for c in listing.credentials}
        listing.credentials += [c for c in part.credentials if (c.name_raw, c.number) not in known]
    if part.modalities_raw:  # (the listing's own are texts() already)
        listing.modalities_raw = texts([*listing.modalities_raw, *part.modalities_raw])
    for key, value in part.extras.items():
        listing.extras.setdefault(key, value)


# The fields a profile's part fills when its listing has no value: all but those it never
# gives (its id, its name...) and those merged their own way.
_NEVER_MERGED = frozenset({"id", "provenance", "source_ref", "name_raw", "record_type"})
_MERGED_OWN_WAY = frozenset({"other_locations", "credentials", "modalities_raw", "extras"})
_GAPS_FILLED = tuple(
    name for name in _FIELD_NAMES[Listing] if name not in _NEVER_MERGED | _MERGED_OWN_WAY
)


def _missing(value: Any) -> bool:
    """Whether a record's field is unset: None, an empty list or an empty string.

    Only a falsy value can be one of these, and the values a record holds are seldom falsy.
    """
    return not value and value in (None, [], "")


def _merge_locations(listing: Listing, part: Listing) -> None:
    """Add a part's further locations when the listing is located where that part is.

    A therapist with an address of their own is not at their practice's other branches; one
    listed at the practice's address is (the address was filled from the part before this).
    """
    if part.address is None or listing.address != part.address:
        return
    known = [listing.address, *(p.address for p in listing.other_locations)]
    for location in part.other_locations:
        if location in listing.other_locations:
            continue
        if location.address is None or location.address not in known:
            listing.other_locations.append(location)
            known.append(location.address)


def _first_top_level(found: list[_Found]) -> _Found:
    return next((f for f in found if f.top_level), found[0])


def _practices(node: Node) -> Iterator[Node]:
    """The practices a person works at, most certain first (see _EMPLOYER_PROPERTIES)."""
    for key in _PRACTICE_PROPERTIES.of(node):
        for value in get_all(node, key):
            if is_node(value) and (key in _EMPLOYER_PROPERTIES or is_business(types_of(value))):
                yield value


def _memberships(node: Node) -> list[Any]:
    """The associations a listing belongs to: ``memberOf`` values that are not its practice."""
    return [v for v in get_all(node, "memberOf") if not (is_node(v) and is_business(types_of(v)))]


def _review_nodes(node: Node, depth: int) -> list[Node]:
    """The reviews of a node, with any reviews nested inside them."""
    found: list[Node] = []
    for key in _REVIEW_PROPERTIES.of(node):
        for item in get_all(node, key):
            if is_node(item):
                found.append(item)
                found += _nested_reviews(item, depth + 1)
    return found


def _nested_reviews(review: Node, depth: int) -> list[Node]:
    return _review_nodes(review, depth) if depth < _MAX_REVIEW_NESTING else []


def _name_of(node: Node | None) -> str | None:
    if node is None:
        return None
    name = text(get(node, "name"))
    if name:
        return name
    parts = texts([get(node, k) for k in ("givenName", "additionalName", "familyName")])
    return " ".join(parts) or None


def _name_key(node: Node) -> str:
    return _SLUG.sub("-", (_name_of(node) or "").lower()).strip("-")


def _lacks_location(node: Node) -> bool:
    return all(get(node, key) is None for key in _LOCATION_PROPERTIES.of(node))


def _telephone(node: Node) -> str | None:
    phone = text(get(node, "telephone"))
    if phone:
        return phone
    for contact in get_all(node, "contactPoint"):
        if is_node(contact):
            phone = text(get(contact, "telephone"))
            if phone:
                return phone
    return None


def _email(value: Any) -> str | None:
    email = text(value)
    if email and email.lower().startswith("mailto:"):
        email = email[len("mailto:") :]
    return email or None


def _author(value: Any) -> str | None:
    if isinstance(value, list):
        return next((a for a in (_author(v) for v in value) if a), None)
    if is_node(value):
        return _name_of(value) or text(get(value, "alternateName"))
    return text(value)


_MODALITY_PROPERTIES = Properties(
    "knowsAbout", "availableService", "medicalSpecialty", "makesOffer", "hasOfferCatalog"
)


def _modalities(node: Node) -> list[str]:
    """Techniques a listing names: ``knowsAbout``, services offered, medical specialties."""
    values: list[Any] = []
    for key in _MODALITY_PROPERTIES.of(node):  # in this order
        if key == "makesOffer":
            values += [_offered(offer) for offer in get_all(node, key)]
        elif key == "hasOfferCatalog":
            for catalog in get_all(node, key):
                values.extend(_catalog_items(catalog, depth=0))
        else:
            values += get_all(node, key)
    return texts(values)


def _offered(offer: Any) -> Any:
    if is_node(offer):
        return get_first(offer, "itemOffered", "name")
    return offer


def _catalog_items(catalog: Any, depth: int) -> list[Any]:
    if not is_node(catalog) or depth > 4:
        return []
    found: list[Any] = []
    for element in get_all(catalog, "itemListElement"):
        if is_node(element) and get(element, "itemListElement") is not None:
            found.extend(_catalog_items(element, depth + 1))
        else:
            found.append(_offered(element))
    return found


# Listing extras copied as text: schema.org property -> extras key.
_SIMPLE_EXTRAS = {
    "alternateName": "alternate_name",
    "jobTitle": "job_title",
    "priceRange": "price_range",
    "occupationalCategory": "occupational_category",
    "paymentAccepted": "payment_accepted",
    "areaServed": "area_served",
}
_EXTRA_PROPERTIES = Properties(*_SIMPLE_EXTRAS, "sameAs", "identifier")


def _listing_extras(node: Node) -> dict[str, Any]:
    extras: dict[str, Any] = dict(opening_hours(node))
    for prop in _EXTRA_PROPERTIES.of(node):  # in this order
        if prop == "sameAs":
            same_as = texts(get_all(node, prop))
            if same_as:
                extras["same_as"] = same_as
        elif prop == "identifier":
            identifiers = [identifier_text(v) for v in get_all(node, prop)]
            identifiers = [i for i in identifiers if i]
            if identifiers:
                extras["identifiers"] = identifiers
        else:
            values = texts(get_all(node, prop))
            if values:
                extras[_SIMPLE_EXTRAS[prop]] = values if len(values) > 1 else values[0]
    return extras


def _review_key(
    author: str | None, published: str | None, body: str | None, rating: Rating | None
) -> str:
    """A key for a review without an id of its own, stable across recrawls of the same text."""
    basis = "\x1f".join([author or "", published or "", body or "", rating.raw if rating else ""])
    return hashlib.sha256(basis.encode()).hexdigest()[:16]
