"""The ground truth of a demo world, for tests and evaluation only (never served).

``ground_truth.jsonl`` has one line per person: who they are, the offices they practise at, their
true credentials with the registry page that confirms each, the credentials their listings claim
falsely, every listing (by site and path) with what is wrong with it, which offices it publishes
and how precisely, and the rating it publishes, and every review with the page it is on, whether
a crawler can read it and the review it copies. ``ground_truth_summary.json`` holds the exact
counts the sites publish. Paths are relative to each site's base URL (ports are chosen at serve
time); join them with ``sites.json``. :class:`GroundTruth` reads both files; its accessors take a
listing's full URL (a crawler's ``source_ref``) or its path.

``businesses`` are a person's places on the review platforms read through their APIs (Yelp,
Google Maps): the business they own, a listing whose path is the API call that reads it, with
``members`` (everyone working there: a practice may be several therapists), or the colleague's
business they work at (``owner`` false). An owned business counts as its owner's listing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.demoweb.claims import listing_claims
from crawler.demoweb.model import Address, Listing, Therapist
from crawler.demoweb.sites import BOARD_STATES, build_sites
from crawler.demoweb.sites.base import Site
from crawler.demoweb.sites.board import BoardSite
from crawler.demoweb.sites.certregistry import CertRegistrySite
from crawler.demoweb.sites.directory import CITY, COORDINATES, STREET, DirectorySite
from crawler.demoweb.sites.npi import NpiSite
from crawler.demoweb.sites.opendata import DATASET_ID, OpenDataSite
from crawler.demoweb.sites.platform import PlatformSite
from crawler.demoweb.sites.reviews import ReviewsSite
from crawler.demoweb.store import Population

TRUTH_NAME = "ground_truth.jsonl"
SUMMARY_NAME = "ground_truth_summary.json"

PRECISIONS = (COORDINATES, STREET, CITY)
"""How precisely a listing can publish an office, most precise first."""


def _address(addr: Address | None) -> dict[str, Any] | None:
    if addr is None:
        return None
    doc = addr.to_doc()
    doc["street_line"] = addr.street_line
    doc["unit_line"] = addr.unit_line
    return doc


def _aggregate(published: tuple[float, int] | None, *, all_embedded: bool) -> dict[str, Any] | None:
    if published is None:
        return None
    value, count = published
    return {"value": value, "count": count, "all_embedded": all_embedded}


def _shapes(item: dict[str, Any]) -> list[str]:
    """The summary counters a listing record adds to: which of the real-world shapes it has."""
    shapes = []
    if item["aggregate"] and not item["aggregate"]["all_embedded"]:
        shapes.append("partial_reviews")
    if len(item["locations"]) > 1:
        shapes.append("several_offices")
    if any(loc["precision"] == CITY for loc in item["locations"]):
        shapes.append("city_only")
    return shapes


class TruthWriter:
    """Derives ground truth from a stored population and the sites that publish it."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.seed = int(population.meta["seed"])
        self.sites = build_sites(population)
        self.directories = {n: s for n, s in self.sites.items() if isinstance(s, DirectorySite)}
        self.boards = {s.state: s for s in self.sites.values() if isinstance(s, BoardSite)}
        # Review platforms read through their APIs (Yelp, Google Maps): businesses, not pages.
        self.platforms = [s for s in self.sites.values() if isinstance(s, PlatformSite)]

    def person(self, t: Therapist) -> dict[str, Any]:
        """The ground-truth record of one person."""
        credentials: list[dict[str, Any]] = []
        for lic in t.licenses:
            board = self.boards.get(lic.state)
            credentials.append(
                {
                    "credential": lic.credential,
                    "kind": "state_license",
                    "state": lic.state,
                    "number": lic.number,
                    "title": lic.title,
                    "status": lic.status,
                    "issued": lic.issued.isoformat(),
                    "expires": lic.expires.isoformat(),
                    "issuer_site": board.name if board else None,
                    "record_path": board.record_path(lic.number) if board else None,
                }
            )
        registry = self.sites["certregistry"]
        assert isinstance(registry, CertRegistrySite)
        if t.bctmb:
            credentials.append(
                {
                    "credential": "bctmb",
                    "kind": "board_certification",
                    "number": t.bctmb.id,
                    "status": t.bctmb.status,
                    "issued": t.bctmb.issued.isoformat(),
                    "expires": t.bctmb.expires.isoformat(),
                    "issuer_site": registry.name,
                    "record_path": registry.record_path(t.bctmb.id),
                }
            )
        if t.legacy_ncbtmb:
            credentials.append(
                {
                    "credential": "nctmb",
                    "kind": "board_certification",
                    "status": "legacy",
                    "issuer_site": None,
                    "record_path": None,
                }
            )
        npi_site = self.sites["npi"]
        assert isinstance(npi_site, NpiSite)
        if t.npi:
            credentials.append(
                {
                    "credential": "npi",
                    "kind": "identifier",
                    "number": str(t.npi.number),
                    "status": "active",
                    "enumerated": t.npi.enumerated.isoformat(),
                    "stale_address": t.npi.stale_address,
                    "issuer_site": npi_site.name,
                    "record_path": npi_site.record_path(t.npi.number),
                    # What the registry's downloadable files say of it (status, file, dates).
                    "bulk_file": npi_site.bulk_fact(t),
                }
            )
        if t.nmt_program:
            credentials.append(
                {
                    "credential": "cnmt",
                    "kind": "specialty_certificate",
                    "program": t.nmt_program,
                    "year": t.nmt_year,
                    "issuer_site": None,
                    "record_path": None,
                }
            )
        for m in t.memberships:
            credentials.append(
                {"credential": m, "kind": "membership", "issuer_site": None, "record_path": None}
            )

        false_claims = []
        for c in t.false_claims:
            doc = c.to_doc()
            if c.credential == "bctmb":
                doc["issuer_site"] = registry.name
            else:
                board = self.boards.get(c.state or "")
                doc["issuer_site"] = board.name if board else None
            false_claims.append(doc)

        paths = {item.key: self.directories[item.site].listing_path(t, item) for item in t.listings}
        listings = [self._listing(t, item, paths) for item in t.listings]
        crawlable = {
            r.id
            for item in t.listings
            for r in self.directories[item.site].crawlable_reviews(t, item)
        }
        review_site = self.sites["reviews"]
        assert isinstance(review_site, ReviewsSite)
        on_review_site = review_site.review_locations(t)
        reviews = []
        for r in t.reviews:
            path = on_review_site.get(r.id) or paths.get((r.site, 0))
            reviews.append(
                {
                    "id": r.id,
                    "site": r.site,
                    "path": path,
                    "crawlable": r.id in crawlable,
                    "published": r.published.isoformat(),
                    "rating": r.rating,
                    "author": r.author,
                    "copy_of": r.copy_of,
                }
            )
        return {
            "person": t.id,
            "name": {"first": t.first, "middle": t.middle, "last": t.last},
            "gender": t.gender,
            "status": t.status,
            "metro": t.metro,
            "practice": t.practice,
            "address": _address(t.address),
            "offices": [_address(office) for office in t.offices],
            "previous_address": _address(t.previous_address),
            "moved_on": t.moved_on.isoformat() if t.moved_on else None,
            "phone": t.phone,
            "website": t.website,
            "modalities": t.modalities,
            "conditions": t.conditions,
            "credentials": credentials,
            "false_claims": false_claims,
            "listings": listings,
            "reviews": reviews,
            "businesses": [entry for site in self.platforms for entry in site.truth_of(t)],
        }

    def _listing(
        self, t: Therapist, item: Listing, paths: dict[tuple[str, int], str]
    ) -> dict[str, Any]:
        """The ground-truth record of one listing."""
        site = self.directories[item.site]
        aggregate = site.published_aggregate(t, item)
        crawlable = len(site.crawlable_reviews(t, item))
        every = len(site.site_reviews(t, item))
        return {
            "site": item.site,
            "path": paths[item.key],
            "ordinal": item.ordinal,
            "duplicate_of": paths.get((item.site, 0)) if item.ordinal > 0 else None,
            "stale_address": item.stale,
            "defect": item.defect,
            "since": item.since.isoformat(),
            "updated": item.updated.isoformat(),
            "claims": [c.to_doc() for c in listing_claims(t, item, self.seed)]
            if site.shows_credentials
            else [],
            # Reviews published in full (what a crawl gathers); the aggregate counts them all.
            "reviews": crawlable,
            "aggregate": _aggregate(aggregate, all_embedded=crawlable == every),
            "locations": [
                {"office": loc.office, "precision": loc.precision}
                for loc in site.published_locations(t, item)
            ],
        }

    def write(self, directory: Path) -> dict[str, Any]:
        """Write the truth files into ``directory``; return the summary."""
        tallies = _Tallies(self.directories)
        with (directory / TRUTH_NAME).open("w", encoding="utf-8") as out:
            for t in self.population.therapists():
                record = self.person(t)
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                tallies.add(t, record)
        sites = {name: self._site_summary(name, site, tallies) for name, site in self.sites.items()}
        unlisted, several_offices, false_claims = (
            tallies.unlisted,
            tallies.several_offices,
            tallies.false_claims,
        )
        meta = self.population.meta
        summary = {
            "seed": meta["seed"],
            "generation": meta["generation"],
            "as_of": meta["as_of"],
            "therapists": self.population.count,
            "people_on_no_site": unlisted,
            "people_with_several_offices": several_offices,
            "false_claims": dict(sorted(false_claims.items())),
            "board_states": list(BOARD_STATES),
            "sites": sites,
        }
        (directory / SUMMARY_NAME).write_text(
            json.dumps(summary, indent=2) + "\n", encoding="utf-8"
        )
        return summary

    def _site_summary(self, name: str, site: Site, tallies: _Tallies) -> dict[str, Any]:
        """What the summary says of one site: its kind and what it publishes."""
        if isinstance(site, DirectorySite):
            shapes = tallies.shapes[name]
            return {
                "kind": "directory",
                "listings": site.listing_count,
                "people": tallies.people_per_site[name],
                "duplicates": tallies.duplicates[name],
                "stale_listings": tallies.stale[name],
                "broken_pages": dict(sorted(tallies.broken[name].items())),
                "reviews": site.crawlable_review_count,
                "aggregate_reviews": site.review_count,
                "partial_review_listings": shapes["partial_reviews"],
                "several_office_listings": shapes["several_offices"],
                "city_only_listings": shapes["city_only"],
                "copied_reviews": tallies.copies[name],
                "cities": len(site.cities),
                "sitemap_urls": site.sitemap_count(),
            }
        if isinstance(site, BoardSite):
            summary: dict[str, Any] = {
                "kind": "license_board",
                "state": site.state,
                # Licenses of therapists in the board's download, of these statuses.
                "records": site.record_count,
                "statuses": list(site.file_statuses),
                "csv_path": site.csv_path,
            }
            if site.license_file is not None:
                # Businesses in the same file, which are no person's credential.
                summary["establishments"] = len(site.license_file.establishments())
            return summary
        if isinstance(site, OpenDataSite):
            return {
                "kind": "open_data",
                "state": site.state,
                "dataset": DATASET_ID,
                "endpoint": site.endpoint,
                "records": site.record_count,
                "statuses": list(site.statuses),
            }
        if isinstance(site, CertRegistrySite):
            return {"kind": "certification_registry", "records": site.record_count}
        if isinstance(site, NpiSite):
            return {
                "kind": "npi_registry",
                "records": site.record_count,
                "bulk_files": site.bulk_summary(),
            }
        if isinstance(site, PlatformSite):
            return site.truth_summary()
        raise TypeError(f"no summary for the {name} site ({type(site).__name__})")


class _Tallies:
    """What the summary counts over every person, per site where it is per site."""

    def __init__(self, directories: Iterable[str]) -> None:
        self.broken: dict[str, Counter[str]] = {name: Counter() for name in directories}
        self.shapes: dict[str, Counter[str]] = {name: Counter() for name in self.broken}
        self.duplicates: Counter[str] = Counter()
        self.stale: Counter[str] = Counter()
        self.copies: Counter[str] = Counter()
        self.people_per_site: Counter[str] = Counter()
        self.false_claims: Counter[str] = Counter()
        self.unlisted = 0
        self.several_offices = 0

    def add(self, t: Therapist, record: dict[str, Any]) -> None:
        """Count one person and their truth record."""
        for item_doc in record["listings"]:
            self.shapes[item_doc["site"]].update(_shapes(item_doc))
        self.several_offices += len(t.offices) > 1
        for item in t.listings:
            if item.defect:
                self.broken[item.site][item.defect] += 1
            if item.ordinal > 0:
                self.duplicates[item.site] += 1
            else:
                self.people_per_site[item.site] += 1
            if item.stale:
                self.stale[item.site] += 1
        for r in t.reviews:
            if r.copy_of is not None:
                self.copies[r.site] += 1
        for c in t.false_claims:
            self.false_claims[c.reason] += 1
        self.unlisted += not t.listings


@dataclass(frozen=True, slots=True)
class TrueLocation:
    """Where an office really is: canonical street line, unit, city, state, ZIP and position."""

    street: str
    unit: str | None
    city: str
    state: str
    zip: str
    lat: float
    lon: float

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TrueLocation:
        """Read an address of the ground truth (``address``, ``offices``...)."""
        return cls(
            street=doc["street_line"],
            unit=doc["unit_line"],
            city=doc["city"],
            state=doc["state"],
            zip=doc["zip"],
            lat=doc["lat"],
            lon=doc["lon"],
        )


@dataclass(frozen=True, slots=True)
class ListedLocation:
    """An office as one listing publishes it.

    ``office`` indexes :meth:`GroundTruth.practice_locations` (0 is the main office) or is
    ``None`` for the former address a stale listing still shows. ``precision`` says what the
    listing gives: ``"coordinates"`` (an exact ``geo``, with or without the street),
    ``"street"`` (street address and ZIP, no coordinates) or ``"city"`` (city and state only).
    """

    location: TrueLocation
    office: int | None
    precision: str


@dataclass(frozen=True, slots=True)
class PublishedAggregate:
    """The aggregate rating a listing publishes.

    ``value`` is the rating as published (one decimal), ``count`` the number of reviews behind
    it (all the therapist's reviews on that site), ``all_embedded`` whether every one of them is
    published in full for a crawler (on the profile or its review pages) rather than a handful.
    """

    value: float
    count: int
    all_embedded: bool


def listing_path(listing_ref: str) -> str:
    """A listing's path (with its query) from its full URL, as the ground truth keys it."""
    parts = urlsplit(listing_ref)
    if not parts.scheme and not parts.netloc:
        return listing_ref
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class GroundTruth:
    """Reads the ground truth written next to a population."""

    directory: Path

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)  # a str is as good as a Path here

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The published counts and headline numbers."""
        return json.loads((self.directory / SUMMARY_NAME).read_text(encoding="utf-8"))

    def people(self) -> Iterator[dict[str, Any]]:
        """Every person's record, in id order."""
        with (self.directory / TRUTH_NAME).open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)

    def listings(self, site: str | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (person, listing), optionally of one site; a business on a review platform is
        its owner's listing."""
        for person in self.people():
            for item in _listings_of(person):
                if site is None or item["site"] == site:
                    yield person, item

    def businesses(self, site: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (owner, business) of a review platform; ``members`` names everyone working
        there."""
        for person in self.people():
            for item in person.get("businesses", ()):
                if item["owner"] and item["site"] == site:
                    yield person, item

    def person_by_listing(self) -> dict[tuple[str, str], int]:
        """Which person each listing (site, path) is."""
        return {(item["site"], item["path"]): p["person"] for p, item in self.listings()}

    @cached_property
    def _by_person(self) -> dict[int, dict[str, Any]]:
        return {p["person"]: p for p in self.people()}

    @cached_property
    def _by_listing(self) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
        return {
            (item["site"], item["path"]): (p, item)
            for p in self._by_person.values()
            for item in _listings_of(p)
        }

    def person(self, person_id: int) -> dict[str, Any]:
        """One person's record (``KeyError`` for an unknown id)."""
        return self._by_person[person_id]

    def listing(self, source: str, listing_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The (person, listing) records of a listing, by site name and its URL or path.

        ``KeyError`` for a listing the site does not publish.
        """
        return self._by_listing[(source, listing_path(listing_ref))]

    def practice_locations(self, person_id: int) -> list[TrueLocation]:
        """Every office the person practises at now, the main one first."""
        return [TrueLocation.from_doc(doc) for doc in self.person(person_id)["offices"]]

    def listed_locations(self, source: str, listing_ref: str) -> list[ListedLocation]:
        """The offices a listing publishes, in the order it gives them, each with its precision.

        A stale listing gives the person's former address (``office`` is ``None``).
        """
        person, item = self.listing(source, listing_ref)
        out = []
        for loc in item["locations"]:
            office = loc["office"]
            doc = person["previous_address"] if office is None else person["offices"][office]
            out.append(ListedLocation(TrueLocation.from_doc(doc), office, loc["precision"]))
        return out

    def published_aggregate(self, source: str, listing_ref: str) -> PublishedAggregate | None:
        """The aggregate rating a listing publishes, or ``None`` where it shows none."""
        _, item = self.listing(source, listing_ref)
        aggregate = item["aggregate"]
        if aggregate is None:
            return None
        return PublishedAggregate(aggregate["value"], aggregate["count"], aggregate["all_embedded"])


def _listings_of(person: dict[str, Any]) -> list[dict[str, Any]]:
    """A person's listings: on the directories, and the businesses they own on review platforms."""
    owned = [item for item in person.get("businesses", ()) if item["owner"]]
    return [*person["listings"], *owned]
