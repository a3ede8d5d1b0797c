"""The spiders: a few generic ones, each driven by its source's catalog entry."""

from __future__ import annotations

from importlib import import_module

from scrapy import Spider

# Catalog spider name -> "module:class"; imported on demand so a crawl loads only what it runs.
SPIDER_CLASSES = {
    "structured": "crawler.spiders.structured:StructuredDataSpider",
    "html": "crawler.spiders.html:HtmlSpider",
    "csv": "crawler.spiders.csv_records:CsvRecordSpider",
    "npi_api": "crawler.spiders.npi_api:NpiApiSpider",
    "nppes_file": "crawler.spiders.nppes_file:NppesFileSpider",
    "socrata": "crawler.spiders.socrata:SocrataSpider",
    "yelp_api": "crawler.spiders.yelp_api:YelpApiSpider",
    "google_places": "crawler.spiders.google_places:GooglePlacesSpider",
}


def spider_class(name: str) -> type[Spider]:
    """Return the spider class a catalog entry names."""
    module, _, attr = SPIDER_CLASSES[name].partition(":")
    return getattr(import_module(module), attr)
