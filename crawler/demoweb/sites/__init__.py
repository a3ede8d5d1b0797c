"""The websites of the demo web, in port order (site ``k`` listens on ``base_port + k``)."""

from __future__ import annotations

from crawler.demoweb.sites.atlas import AtlasSite
from crawler.demoweb.sites.base import Request, Response, Site
from crawler.demoweb.sites.board import BOARD_STYLES, BoardSite
from crawler.demoweb.sites.certregistry import CertRegistrySite
from crawler.demoweb.sites.directory import DirectorySite
from crawler.demoweb.sites.google_places import GooglePlacesSite
from crawler.demoweb.sites.guild import GuildSite
from crawler.demoweb.sites.npi import NpiSite
from crawler.demoweb.sites.opendata import OpenDataSite
from crawler.demoweb.sites.pages import PagesSite
from crawler.demoweb.sites.reviews import ReviewsSite
from crawler.demoweb.sites.yelp import YelpSite
from crawler.demoweb.store import Population

BOARD_STATES = tuple(BOARD_STYLES)
SITE_NAMES = (
    "atlas",
    "guild",
    "pages",
    "reviews",
    *(f"board-{s.lower()}" for s in BOARD_STATES),
    "certregistry",
    "npi",
    "data-wa",
    "yelp",
    "google-places",
)


def build_sites(population: Population) -> dict[str, Site]:
    """Every site of the demo web over ``population``, keyed by name in port order."""
    sites: list[Site] = [
        AtlasSite(population),
        GuildSite(population),
        PagesSite(population),
        ReviewsSite(population),
        *(BoardSite(population, s) for s in BOARD_STATES),
        CertRegistrySite(population),
        NpiSite(population),
        OpenDataSite(population),
        YelpSite(population),
        GooglePlacesSite(population),
    ]
    return {site.name: site for site in sites}


__all__ = [
    "BOARD_STATES",
    "SITE_NAMES",
    "AtlasSite",
    "BoardSite",
    "CertRegistrySite",
    "DirectorySite",
    "GooglePlacesSite",
    "GuildSite",
    "NpiSite",
    "OpenDataSite",
    "PagesSite",
    "Request",
    "Response",
    "ReviewsSite",
    "Site",
    "YelpSite",
    "build_sites",
]
