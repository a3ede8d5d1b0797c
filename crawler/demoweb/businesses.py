"""Practices on the two review platforms with official APIs: Yelp and Google Maps.

A platform lists businesses, and a business is a practice, not a person. Most therapists on a
platform have their own business (named after their practice, at their main office, on their
phone), but some work at a colleague's practice and have none of their own: that business stands
for several therapists, and a directory must not take them for one person because of it.

Everything here is drawn from streams of its own (seed, platform, therapist), so the rest of the
world is untouched. A business rates like its owner's other listings (its reviews are drawn
around the generator's quality of the owner), and its dates come from the owner's own history,
never from the world's date, so a business reads the same in the next generation unless its
owner changed. Colleagues join the most recent business in their metro that has room, therapists
taken in id order whatever their status; a business is published while its owner is active.

The platforms' settings (keys, limits, shares) are the data file ``data/apis.yaml``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import yaml

from crawler.demoweb import vocab
from crawler.demoweb.generator import therapist_quality
from crawler.demoweb.identifiers import stable_hash
from crawler.demoweb.model import Address, Review, Therapist
from crawler.demoweb.reviewtext import review_text
from crawler.demoweb.store import Population, slugify

YELP = "yelp"
GOOGLE = "google-places"
PLATFORMS = (YELP, GOOGLE)

_EARTH_M = 6_371_000.0
_CELL_DEGREES = 0.5  # the grid the directory indexes businesses on, for searches by circle
_REVIEW_WINDOW = timedelta(days=730)  # the reviews an API shows are the owner's recent ones
_MAX_REVIEWS_PER_BUSINESS = 16  # review numbers are owner id * 16 + k
# Past this radius a search by grid cells costs more than ranking every business.
_SEARCH_WHOLE_MAP_M = 1_000_000.0


@cache
def platform_settings(platform: str) -> dict[str, Any]:
    """One platform's settings from ``data/apis.yaml`` (key, limits, shares)."""
    settings = yaml.safe_load(vocab.read_text("apis.yaml"))
    return dict(settings[platform])


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class PlatformReview:
    """A review of a business as the platform's API shows it."""

    number: int  # unique within the platform
    author: str
    rating: int  # whole stars
    published: datetime  # UTC
    text: str


@dataclass(slots=True)
class Business:
    """One business on one platform: the practice of ``owner``, where ``members`` work."""

    platform: str
    provider_id: str
    owner: int
    members: list[int]  # the owner first, then colleagues in the order they joined
    name: str
    address: Address
    phone: str  # ten digits
    website: str | None
    rating: float  # Yelp: in halves; Google: one decimal
    review_count: int  # every review the business has, of which the API shows a few
    reviews: tuple[PlatformReview, ...]  # what the API shows, newest first
    categories: tuple[str, ...]  # the platform's category aliases (Yelp)
    since: date
    updated: date
    active: bool  # published: the owner still practises
    alias: str = ""  # Yelp's readable business reference (the /biz/ path)
    cid: int = 0  # Google Maps' customer id (the googleMapsUri)

    @property
    def group(self) -> bool:
        """True when the business stands for several therapists."""
        return len(self.members) > 1


@dataclass
class BusinessDirectory:
    """Every business of one platform in a population, and the lookups its API needs."""

    platform: str
    businesses: list[Business] = field(default_factory=list)  # published ones, by owner id
    by_id: dict[str, Business] = field(default_factory=dict)
    by_alias: dict[str, Business] = field(default_factory=dict)
    by_cid: dict[int, Business] = field(default_factory=dict)
    # Every therapist working at a published business, owner or colleague.
    by_therapist: dict[int, Business] = field(default_factory=dict)
    _cells: dict[tuple[int, int], list[Business]] = field(default_factory=dict)

    def index(self) -> None:
        """Build the lookups once ``businesses`` is complete."""
        cells: dict[tuple[int, int], list[Business]] = defaultdict(list)
        for business in self.businesses:
            self.by_id[business.provider_id] = business
            self.by_alias[business.alias] = business
            self.by_cid[business.cid] = business
            for member in business.members:
                self.by_therapist[member] = business
            cells[_cell(business.address.lat, business.address.lon)].append(business)
        self._cells = dict(cells)

    def near(self, lat: float, lon: float, radius_m: float) -> list[tuple[Business, float]]:
        """The businesses within ``radius_m`` of a point, nearest first, with their distance."""
        span_lat = radius_m / 111_000 / _CELL_DEGREES
        span_lon = radius_m / (111_000 * max(0.05, math.cos(math.radians(lat)))) / _CELL_DEGREES
        row, col = _cell(lat, lon)
        found = []
        for r in range(row - math.ceil(span_lat), row + math.ceil(span_lat) + 1):
            for c in range(col - math.ceil(span_lon), col + math.ceil(span_lon) + 1):
                for business in self._cells.get((r, c), ()):
                    metres = distance_m(lat, lon, business.address.lat, business.address.lon)
                    if metres <= radius_m:
                        found.append((business, metres))
        found.sort(key=lambda pair: (pair[1], pair[0].provider_id))
        return found

    def nearest(self, lat: float, lon: float, count: int) -> list[tuple[Business, float]]:
        """The ``count`` businesses nearest to a point, nearest first, wherever they are (a
        location bias ranks, it does not cut)."""
        radius = 5_000.0
        while radius < _SEARCH_WHOLE_MAP_M:
            found = self.near(lat, lon, radius)
            if len(found) >= count:
                return found[:count]
            radius *= 2
        ranked = sorted(
            ((b, distance_m(lat, lon, b.address.lat, b.address.lon)) for b in self.businesses),
            key=lambda pair: (pair[1], pair[0].provider_id),
        )
        return ranked[:count]


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES)


_DIRECTORIES: weakref.WeakKeyDictionary[Population, dict[str, BusinessDirectory]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def business_directory(population: Population, platform: str) -> BusinessDirectory:
    """The businesses of ``platform`` in ``population`` (drawn once per population)."""
    with _LOCK:
        known = _DIRECTORIES.setdefault(population, {})
        if platform not in known:
            known[platform] = _draw(population, platform)
        return known[platform]


def _draw(population: Population, platform: str) -> BusinessDirectory:
    settings = platform_settings(platform)
    seed = int(population.meta["seed"])
    owned: list[Business] = []
    open_groups: dict[str, Business] = {}  # metro -> the newest business there
    aliases: set[str] = set()
    for t in population.therapists():
        rng = random.Random(f"{seed}/{platform}/business/{t.id}")
        if rng.random() >= settings["presence"]:
            continue
        group = open_groups.get(t.metro)
        if (
            rng.random() < settings["group_join"]
            and group is not None
            and len(group.members) < settings["group_size"]
        ):
            group.members.append(t.id)
            continue
        business = _business(seed, platform, settings, t, aliases)
        owned.append(business)
        open_groups[t.metro] = business
    directory = BusinessDirectory(platform, [b for b in owned if b.active])
    directory.index()
    return directory


def _business(
    seed: int, platform: str, settings: dict[str, Any], t: Therapist, aliases: set[str]
) -> Business:
    """The business ``t`` owns on ``platform``: named after their practice, at their office."""
    rng = random.Random(f"{seed}/{platform}/content/{t.id}")
    start = date(t.started, 1, 1)
    since = start + timedelta(days=rng.randint(0, max(0, (t.updated - start).days)))
    quality = therapist_quality(seed, t.id)
    count = 1 + min(1500, int(rng.lognormvariate(2.0, 1.0)))
    mean = min(5.0, max(1.0, rng.gauss(quality, 0.8 / math.sqrt(count))))
    shown = min(count, int(settings.get("excerpts") or settings.get("reviews") or 0))
    reviews = sorted(
        (_review(seed, platform, t, k, since, quality) for k in range(shown)),
        key=lambda r: (r.published, r.number),
        reverse=True,
    )
    categories: tuple[str, ...] = ()
    if platform == YELP:
        aliases_known = [c["alias"] for c in settings["categories"]]
        roll = rng.random()
        categories = (
            (aliases_known[0],)
            if roll < 0.6
            else (aliases_known[1],)
            if roll < 0.85
            else tuple(aliases_known)
        )
    alias = slugify(f"{t.practice} {t.address.city}")
    base_alias, n = alias, 1
    while alias in aliases:
        n += 1
        alias = f"{base_alias}-{n}"
    aliases.add(alias)
    return Business(
        platform=platform,
        provider_id=_provider_id(seed, platform, t.id),
        owner=t.id,
        members=[t.id],
        name=t.practice,
        address=t.address,
        phone=t.phone,
        website=t.website,
        rating=round(mean * 2) / 2 if platform == YELP else round(mean, 1),
        review_count=count,
        reviews=tuple(reviews),
        categories=categories,
        since=since,
        updated=max([since, *(r.published.date() for r in reviews)]),
        active=t.status == "active",
        alias=alias,
        cid=stable_hash(seed, platform, "cid", t.id) % 10**19,
    )


def _review(
    seed: int, platform: str, t: Therapist, k: int, since: date, quality: float
) -> PlatformReview:
    rng = random.Random(f"{seed}/{platform}/review/{t.id}/{k}")
    first_day = max(since, t.updated - _REVIEW_WINDOW)
    day = first_day + timedelta(days=rng.randint(0, max(0, (t.updated - first_day).days)))
    published = datetime.combine(day, time(0, 0), tzinfo=UTC) + timedelta(
        seconds=rng.randint(8 * 3600, 22 * 3600)
    )
    rating = round(min(5.0, max(1.0, rng.gauss(quality, 0.8))))
    names = vocab.names()
    first = rng.choice(names["female" if rng.random() < 0.6 else "male"])
    last = rng.choice(names["last"])
    # Yelp shows a reviewer as "Jane D."; Google Maps gives the name the author chose.
    author = f"{first} {last[0]}." if platform == YELP else f"{first} {last}"
    number = t.id * _MAX_REVIEWS_PER_BUSINESS + k
    text_seed = stable_hash(seed, platform, t.id, k, "text") % 2**31
    model_review = Review(number, platform, day, float(rating), author, text_seed)
    return PlatformReview(number, author, rating, published, review_text(model_review, t))


def _provider_id(seed: int, platform: str, tid: int) -> str:
    """The platform's own id of a business: Yelp's 22 characters, Google's ``ChIJ...`` id."""
    digest = hashlib.blake2b(f"{seed}/{platform}/id/{tid}".encode(), digest_size=24).digest()
    text = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return text[:22] if platform == YELP else "ChIJ" + text[:23]


def review_id(platform: str, number: int) -> str:
    """The platform's own id of a review (stable, opaque)."""
    digest = hashlib.blake2b(f"{platform}/review/{number}".encode(), digest_size=18).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]
