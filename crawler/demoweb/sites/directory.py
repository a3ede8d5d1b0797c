"""The common machinery of the directory sites: public listing ids, city pages, listing views."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from crawler.demoweb import variants, vocab
from crawler.demoweb.claims import Claim, listing_claims, title_letters
from crawler.demoweb.identifiers import Permutation
from crawler.demoweb.model import Listing, Review, Therapist
from crawler.demoweb.reviewtext import review_text
from crawler.demoweb.sites.base import Site
from crawler.demoweb.store import listing_address

ORDINALS = 4
"""Listing keys are ``therapist_id * ORDINALS + ordinal``."""


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

    def text_of(self, review: Review) -> str:
        """The body of one of this listing's reviews."""
        return review_text(review, self.therapist)


class DirectorySite(Site):
    """A site listing therapists by city, with one profile page per listing."""

    # Whether profile pages show the credentials a listing claims (the truth records only those).
    shows_credentials = True

    name_styles: tuple[tuple[str, int], ...] = (("first_last", 1),)
    phone_styles: tuple[tuple[str, int], ...] = (("dash", 1),)
    tidy_terms: float = 0.6
    unit_inline: bool = True

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
        """How many reviews the site publishes."""
        rows = self.population.query(
            "SELECT sum(reviews) FROM listing WHERE site = ?", (self.name,)
        )
        return int(rows[0][0] or 0)

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
        reviews = t.reviews_on(self.name) if listing.ordinal == 0 else []
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
