"""The common machinery of the directory sites: public listing ids, city pages, listing views."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from crawler.demoweb import variants, vocab
from crawler.demoweb.claims import Claim, listing_claims, title_letters
from crawler.demoweb.identifiers import Permutation
from crawler.demoweb.model import Address, Listing, Review, Therapist
from crawler.demoweb.reviewtext import review_text
from crawler.demoweb.sites.base import Site, page_count
from crawler.demoweb.store import listing_address

ORDINALS = 4
"""Listing keys are ``therapist_id * ORDINALS + ordinal``."""

COORDINATES = "coordinates"
"""A listing publishes the office's exact position (schema.org ``geo``)."""
STREET = "street"
"""A listing publishes the office's street address but no coordinates."""
CITY = "city"
"""A listing publishes only the office's city and state."""


@dataclass(frozen=True, slots=True)
class OfficeText:
    """One office as a site writes it (street and ZIP in the site's own spelling)."""

    street: str
    unit: str | None
    city: str
    state: str
    zip: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PublishedLocation:
    """An office a listing publishes and how precisely.

    ``office`` indexes the therapist's :attr:`~crawler.demoweb.model.Therapist.offices` (0 is the
    main office), or is ``None`` for the former address a stale listing still shows.
    ``precision`` is :data:`COORDINATES`, :data:`STREET` or :data:`CITY`.
    """

    office: int | None
    address: Address
    precision: str


@dataclass(frozen=True, slots=True)
class City:
    """A city a directory has listings in."""

    slug: str
    name: str
    state: str
    count: int


@dataclass(slots=True)
class ListingView:
    """A listing as one site shows it: the therapist's facts after the site's own mess."""

    therapist: Therapist
    listing: Listing
    path: str
    name: str | None
    practice: str
    street: str | None
    unit: str | None
    city: str
    state: str
    zip: str | None
    lat: float
    lon: float
    phone: str | None
    website: str | None
    modalities: list[str]
    conditions: list[str]
    claims: list[Claim]
    titles: list[str]
    reviews: list[Review]
    rating: float | None
    bio: str
    shown_reviews: list[Review]
    other_offices: list[OfficeText]

    def text_of(self, review: Review) -> str:
        """The body of one of this listing's reviews."""
        return review_text(review, self.therapist)

    def offices(self) -> list[OfficeText]:
        """Every office the listing shows with a street, the listed one first (none without)."""
        if self.street is None or self.zip is None:
            return []
        first = OfficeText(
            self.street, self.unit, self.city, self.state, self.zip, self.lat, self.lon
        )
        return [first, *self.other_offices]


class DirectorySite(Site):
    """A site listing therapists by city, with one profile page per listing."""

    # Whether profile pages show the credentials a listing claims (the truth records only those).
    shows_credentials = True

    name_styles: tuple[tuple[str, int], ...] = (("first_last", 1),)
    phone_styles: tuple[tuple[str, int], ...] = (("dash", 1),)
    tidy_terms: float = 0.6
    unit_inline: bool = True
    # How many of a listing's reviews its profile publishes, newest first (None: all of them,
    # on as many pages as it takes). The aggregate rating always covers every review.
    embedded_reviews: int | None = None
    # Whether profiles carry the office's coordinates (schema.org geo).
    publishes_geo: bool = False
    # Whether a profile lists every office of a therapist who practises at several.
    shows_other_offices: bool = False

    @cached_property
    def _ids(self) -> Permutation:
        return Permutation(
            f"{self.seed}/{self.name}/listings", int(self.population.meta["id_space"])
        )

    def public_id(self, tid: int, ordinal: int) -> int:
        """The number this site shows for a listing."""
        return self._ids.forward(tid * ORDINALS + ordinal)

    def find(self, public_id: int) -> tuple[Therapist, Listing] | None:
        """The therapist and listing behind a public id, if the site has it."""
        try:
            key = self._ids.inverse(public_id)
        except ValueError:
            return None
        t = self.population.therapist(key // ORDINALS)
        if t is None:
            return None
        item = t.listing(self.name, key % ORDINALS)
        return (t, item) if item else None

    def listing_path(self, t: Therapist, listing: Listing) -> str:
        """The path of a listing's profile page. Override."""
        raise NotImplementedError

    # -- queries ----------------------------------------------------------------------------------

    @cached_property
    def cities(self) -> list[City]:
        """Every city with listings, by state then city name."""
        rows = self.population.query(
            "SELECT city_slug, city, state, count(*) FROM listing WHERE site = ? "
            "GROUP BY city_slug, city, state ORDER BY state, city",
            (self.name,),
        )
        return [City(slug, city, state, n) for slug, city, state, n in rows]

    @cached_property
    def cities_by_slug(self) -> dict[str, City]:
        """The cities keyed by slug."""
        return {c.slug: c for c in self.cities}

    @cached_property
    def listing_count(self) -> int:
        """How many listings (profiles) the site publishes."""
        return int(
            self.population.query("SELECT count(*) FROM listing WHERE site = ?", (self.name,))[0][0]
        )

    @cached_property
    def review_count(self) -> int:
        """How many reviews the site has (what its aggregate ratings count)."""
        rows = self.population.query(
            "SELECT sum(reviews) FROM listing WHERE site = ?", (self.name,)
        )
        return int(rows[0][0] or 0)

    @cached_property
    def crawlable_review_count(self) -> int:
        """How many reviews the site publishes in full (author, rating, text) for a crawler."""
        if self.embedded_reviews is None:
            return self.review_count
        rows = self.population.query(
            "SELECT sum(min(reviews, ?)) FROM listing WHERE site = ?",
            (self.embedded_reviews, self.name),
        )
        return int(rows[0][0] or 0)

    def city_page_listings(
        self, city: City | None, page: int | None, per_page: int
    ) -> tuple[int, list[tuple[Therapist, Listing]]] | None:
        """The city's page count and the listings of its page ``page``; None: no such page."""
        if city is None or page is None or page < 1:
            return None
        pages = page_count(city.count, per_page)
        if page > pages:
            return None
        return pages, self.city_listings(city.slug, (page - 1) * per_page, per_page)

    def city_listings(self, slug: str, offset: int, limit: int) -> list[tuple[Therapist, Listing]]:
        """One page of a city's listings in the site's order (surname, given name)."""
        rows = self.population.query(
            "SELECT therapist_id, ordinal FROM listing WHERE site = ? AND city_slug = ? "
            "ORDER BY sort_key, ordinal LIMIT ? OFFSET ?",
            (self.name, slug, limit, offset),
        )
        out = []
        for tid, ordinal in rows:
            t = self.population.therapist(tid)
            item = t.listing(self.name, ordinal) if t else None
            if t and item:
                out.append((t, item))
        return out

    def sitemap_count(self) -> int:
        return len(self.static_entries()) + self.listing_count

    def sitemap_entries(self, offset: int, limit: int) -> list[tuple[str, date]]:
        static = self.static_entries()
        out = static[offset : offset + limit]
        start = max(0, offset - len(static))
        want = limit - len(out)
        if want > 0:
            rows = self.population.query(
                "SELECT therapist_id, ordinal FROM listing WHERE site = ? "
                "ORDER BY therapist_id, ordinal LIMIT ? OFFSET ?",
                (self.name, want, start),
            )
            for tid, ordinal in rows:
                t = self.population.therapist(tid)
                item = t.listing(self.name, ordinal) if t else None
                if t and item:
                    out.append((self.listing_path(t, item), item.updated))
        return out

    # -- what a listing publishes ------------------------------------------------------------------

    def site_reviews(self, t: Therapist, listing: Listing) -> list[Review]:
        """Every review a listing has on this site, newest first (duplicates have none)."""
        return t.reviews_on(self.name) if listing.ordinal == 0 else []

    def crawlable_reviews(self, t: Therapist, listing: Listing) -> list[Review]:
        """The reviews a listing publishes in full, newest first."""
        reviews = self.site_reviews(t, listing)
        return reviews if self.embedded_reviews is None else reviews[: self.embedded_reviews]

    def published_aggregate(self, t: Therapist, listing: Listing) -> tuple[float, int] | None:
        """The rating value and review count a listing publishes, if it shows a rating."""
        reviews = self.site_reviews(t, listing)
        if not reviews or listing.defect == "missing_rating":
            return None
        return round(sum(r.rating for r in reviews) / len(reviews), 1), len(reviews)

    def _lists_other_offices(self, t: Therapist, listing: Listing) -> bool:
        # A stale listing predates the move; a page without a street shows no office in full.
        return (
            self.shows_other_offices
            and bool(t.other_offices)
            and not listing.stale
            and listing.defect != "missing_address"
        )

    def other_office_precision(self, t: Therapist, listing: Listing) -> str:
        """How precisely a listing publishes the offices after the first. Override."""
        return STREET

    def published_locations(self, t: Therapist, listing: Listing) -> list[PublishedLocation]:
        """The offices a listing publishes, the listed one first, each with its precision."""
        if listing.stale and t.previous_address:
            first = PublishedLocation(None, t.previous_address, self._first_precision(listing))
        else:
            first = PublishedLocation(0, t.address, self._first_precision(listing))
        out = [first]
        if self._lists_other_offices(t, listing):
            precision = self.other_office_precision(t, listing)
            out += [
                PublishedLocation(k, office, precision)
                for k, office in enumerate(t.other_offices, start=1)
            ]
        return out

    def _first_precision(self, listing: Listing) -> str:
        if self.publishes_geo:
            return COORDINATES
        return CITY if listing.defect == "missing_address" else STREET

    # -- presentation -----------------------------------------------------------------------------

    def view(self, t: Therapist, listing: Listing) -> ListingView:
        """How this site shows ``listing`` (deterministic for the site and listing)."""
        rng = variants.stream(self.seed, self.name, t.id, listing.ordinal, "view")
        claims = listing_claims(t, listing, self.seed)
        titles = title_letters(claims)
        styles = self.name_styles
        style = rng.choices([s for s, _ in styles], weights=[w for _, w in styles])[0]
        if listing.ordinal > 0:
            # Duplicates were typed in again by someone: they rarely match the first one's style.
            style = rng.choice(variants.NAME_STYLES)
        addr = listing_address(t, listing.stale)
        phone_style = rng.choices(
            [s for s, _ in self.phone_styles], weights=[w for _, w in self.phone_styles]
        )[0]
        street = variants.street_line(addr, rng, unit_inline=self.unit_inline)
        unit = None if self.unit_inline else variants.unit_text(addr, rng)
        mods = [variants.modality_label(m, rng, self.tidy_terms) for m in t.modalities]
        conds = [variants.condition_label(c, rng) for c in t.conditions]
        reviews = self.site_reviews(t, listing)
        rating = round(sum(r.rating for r in reviews) / len(reviews), 1) if reviews else None
        defect = listing.defect
        return ListingView(
            therapist=t,
            listing=listing,
            path=self.listing_path(t, listing),
            name=None if defect == "missing_name" else variants.person_name(t, style, titles),
            practice=t.practice,
            street=None if defect == "missing_address" else street,
            unit=None if defect == "missing_address" else unit,
            city=addr.city,
            state=addr.state,
            zip=None if defect == "missing_address" else variants.zip_text(addr, rng),
            lat=addr.lat,
            lon=addr.lon,
            phone=None if defect == "missing_phone" else variants.phone_text(t.phone, phone_style),
            website=t.website,
            modalities=mods,
            conditions=conds,
            claims=claims,
            titles=titles,
            reviews=reviews,
            rating=rating,
            bio=self._bio(t, rng, mods, conds, addr.city),
            shown_reviews=self.crawlable_reviews(t, listing),
            other_offices=self._other_offices(t, listing),
        )

    def _other_offices(self, t: Therapist, listing: Listing) -> list[OfficeText]:
        if not self._lists_other_offices(t, listing):
            return []
        # A stream of its own: the first office reads the same whether or not there are more.
        rng = variants.stream(self.seed, self.name, t.id, listing.ordinal, "other-offices")
        return [self._office_text(office, rng) for office in t.other_offices]

    def _office_text(self, addr: Address, rng: random.Random) -> OfficeText:
        return OfficeText(
            street=variants.street_line(addr, rng, unit_inline=self.unit_inline),
            unit=None if self.unit_inline else variants.unit_text(addr, rng),
            city=addr.city,
            state=addr.state,
            zip=variants.zip_text(addr, rng),
            lat=addr.lat,
            lon=addr.lon,
        )

    def _bio(
        self, t: Therapist, rng: random.Random, mods: list[str], conds: list[str], city: str
    ) -> str:
        template = rng.choice(vocab.practices()["bios"])

        def join(items: list[str]) -> str:
            # Lower-case the prose but keep acronyms (NMT, TMJ, PNF) as written.
            items = [
                i if any(w.isupper() and len(w) > 1 for w in i.split()) else i.lower()
                for i in items[:3]
            ]
            if len(items) <= 1:
                return "".join(items) or "therapeutic massage"
            return ", ".join(items[:-1]) + " and " + items[-1]

        return template.format(
            first=t.first,
            since=t.started,
            years=max(1, self.as_of.year - t.started),
            mods=join(mods),
            conds=join(conds) if conds else "everyday aches",
            city=city,
        )

    def display_name(self, view: ListingView) -> str:
        """The heading of a listing: the person's name, or the practice when the name is missing."""
        return view.name or view.practice
