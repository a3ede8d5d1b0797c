"""The html, csv and npi_api spiders and the selector language, on pages written here.

The crawls of the demo web (test_crawl_sources_directories / _registries) show the spiders work
on whole sites; these tests pin each rule of the selector language and each way a page, a file or
an API answer can go wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from parsel import Selector
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.catalog import CatalogError, Source, load_catalog, site_variables
from crawler.demoweb import SITE_NAMES
from crawler.extract.html_records import compile_record_specs, extract_records
from crawler.extract.selectors import SelectorSpecError, compile_spec, evaluate
from crawler.items import CredentialRecord, Listing, Provenance, Review
from crawler.spiders import spider_class
from crawler.spiders.csv_records import CsvRecordSpider
from crawler.spiders.html import HtmlSpider
from crawler.spiders.npi_api import NpiApiSpider, narrower_queries

BASE = "http://therapists.example"
PROVENANCE = Provenance(
    source="test", url=BASE, fetched_at="2025-09-01T00:00:00+00:00", content_hash="0"
)


def values(raw: Any, html: str, url: str = f"{BASE}/p", **kwargs: Any) -> list[str]:
    """The texts a field spec finds on a page."""
    found = evaluate(compile_spec(raw, "test"), Selector(text=html), url, **kwargs)
    return [m.text for m in found]


def records(specs: list[dict[str, Any]], html: str, url: str = f"{BASE}/p", **kwargs: Any):
    """Records and error kinds the record specs read from a page."""
    out = extract_records(
        Selector(text=html),
        url,
        compile_record_specs(specs, "test"),
        PROVENANCE,
        source_kind=kwargs.pop("source_kind", "directory"),
        **kwargs,
    )
    return out.records, [e.kind for e in out.errors]


# -- the selector language -------------------------------------------------------------------------

LABELLED = """
<table>
  <tr><td class="lbl">Name:</td><td>Doe, Jane</td></tr>
  <tr><td class="lbl">Address:</td><td>12 Elm St., Suite 200<br>Austin, TX 78704</td></tr>
  <tr><th>License  number</th><td><b>MT-1234</b></td></tr>
</table>
<dl><dt>Status</dt><dd>Active</dd></dl>
"""


def test_a_label_finds_the_cell_next_to_it_however_it_is_written() -> None:
    assert values({"label": "name"}, LABELLED) == ["Doe, Jane"]
    assert values({"label": "License Number"}, LABELLED) == ["MT-1234"]
    assert values({"label": "Status"}, LABELLED) == ["Active"]
    assert values({"label": "Phone"}, LABELLED) == []


def test_a_label_combines_with_a_selector_inside_its_cell() -> None:
    assert values({"label": "Address", "xpath": "text()[1]"}, LABELLED) == ["12 Elm St., Suite 200"]
    assert values({"label": "Address", "xpath": "text()[2]"}, LABELLED) == ["Austin, TX 78704"]


def test_strings_are_css_unless_they_start_like_xpath() -> None:
    html = '<div class="a"><h1> Jane   Doe </h1><a href="/x">link</a></div>'
    assert values("div.a h1", html) == ["Jane Doe"]
    assert values("//h1/text()", html) == ["Jane Doe"]
    assert values("(//a)[1]/@href", html) == ["/x"]
    assert values("a::attr(href)", html) == ["/x"]
    assert values({"css": "a", "attr": "href"}, html) == ["/x"]


def test_regex_keeps_the_value_group_or_group_one_and_fills_named_groups() -> None:
    html = "<p>Rated 4.5 by 12 clients</p>"
    assert values({"css": "p", "regex": r"by (\d+)"}, html) == ["12"]
    assert values({"css": "p", "regex": r"(?P<value>[\d.]+) by"}, html) == ["4.5"]
    assert values({"css": "p", "regex": r"nothing here"}, html) == []
    spec = compile_spec(
        {
            "label": "Address",
            "xpath": "text()[2]",
            "regex": r"(?P<locality>.+), (?P<region>[A-Z]{2}) (?P<postal_code>\d{5})",
        },
        "test",
    )
    (match,) = evaluate(spec, Selector(text=LABELLED), BASE)
    assert match.text == "Austin, TX 78704"
    assert match.groups == {"locality": "Austin", "region": "TX", "postal_code": "78704"}


def test_split_many_and_join() -> None:
    html = "<ul><li>NMT</li><li>Deep tissue</li></ul><p>TMJ, sciatica ,  neck pain</p>"
    assert values("li", html) == ["NMT"]
    assert values({"css": "li", "many": True}, html) == ["NMT", "Deep tissue"]
    assert values({"css": "li", "join": " / "}, html) == ["NMT / Deep tissue"]
    assert values({"css": "p", "split": r"\s*,\s*", "many": True}, html) == [
        "TMJ",
        "sciatica",
        "neck pain",
    ]


def test_alternatives_use_the_first_that_finds_something() -> None:
    html = "<table><tr><th>Expired On</th><td>May 1, 2024</td></tr></table>"
    assert values([{"label": "Valid Through"}, {"label": "Expired On"}], html) == ["May 1, 2024"]


def test_exclude_leaves_links_out_of_a_text_and_paragraphs_can_be_kept() -> None:
    html = '<div class="rv"><p>Great work.<br>Would return. <a class="flag">Report</a></p></div>'
    assert values({"css": "p", "exclude": "a.flag"}, html) == ["Great work. Would return."]
    assert values({"css": "p", "exclude": "a.flag"}, html, keep_paragraphs=True) == [
        "Great work.\nWould return."
    ]


def test_url_and_constant_sources() -> None:
    assert values({"url": r"id=(\d+)"}, "<p></p>", url=f"{BASE}/listing.php?id=42") == ["42"]
    assert values({"value": "NCBTMB"}, "<p></p>") == ["NCBTMB"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"css": "p", "xpath": "//p"}, "exactly one"),
        ({"csss": "p"}, "unknown key"),
        ({"css": "p", "regex": "("}, "bad regex"),
        ({"css": "p[["}, "bad CSS"),
        ({"xpath": "//p[["}, "bad XPath"),
        ([], "empty list"),
        (3, "expected a selector"),
    ],
)
def test_bad_field_specs_are_refused_with_the_reason(raw: Any, message: str) -> None:
    with pytest.raises(SelectorSpecError, match=message):
        compile_spec(raw, "records[0].fields.name")


# -- record specs ---------------------------------------------------------------------------------

PROFILE = """
<html><head><link rel="canonical" href="/therapist/jane-doe?utm_source=x"></head><body>
<h1>Jane A. Doe, LMT</h1>
<div class="addr">12 Elm St, Austin, TX</div>
<div class="geo" data-lat="30.25" data-lon="-197.7"></div>
<ul class="creds"><li>TX LMT #MT123</li><li>BCTMB</li><li>NPI 12345</li></ul>
<div class="overall"><b>4,5</b> from 2 reviews</div>
<div class="review" id="r-1"><span class="who">rosa_o43</span><span class="stars">★★★★☆</span>
  <p>Fixed my neck.</p></div>
<div class="review"><span class="who">Ann</span><span class="stars">9/10</span></div>
<div class="review"><span class="who">Bob</span></div>
</body></html>
"""
LISTING_SPEC = {
    "type": "listing",
    "fields": {
        "name": "h1",
        "address": {
            "css": ".addr",
            "regex": r"^(?P<street>.+), (?P<locality>[^,]+), (?P<region>[A-Z]{2})$",
        },
        "latitude": {"css": ".geo", "attr": "data-lat"},
        "longitude": {"css": ".geo", "attr": "data-lon"},
        "credentials": {
            "css": ".creds li",
            "regex": r"^(?:(?P<state>[A-Z]{2}) )?(?P<name>.+?)(?: #(?P<number>\S+))?$",
        },
        "npi": {"css": ".creds li", "regex": r"^NPI (\d+)$"},
        "rating": ".overall b",
        "rating_count": {"css": ".overall", "regex": r"(\d+) reviews"},
        "telephone": ".phone",
    },
    "expected": ["telephone"],
}
REVIEW_SPEC = {
    "type": "review",
    "container": "div.review",
    "ref": {"xpath": "@id"},
    "fields": {"author": ".who", "rating": ".stars", "body": "p", "subject_name": "//h1"},
}


def test_a_listing_keeps_raw_values_and_parses_only_what_has_a_type() -> None:
    (listing, *_), errors = records([LISTING_SPEC], PROFILE)
    assert isinstance(listing, Listing)
    assert listing.name_raw == "Jane A. Doe, LMT"
    assert listing.source_ref == f"{BASE}/therapist/jane-doe?utm_source=x"
    assert listing.address is not None
    assert (listing.address.street, listing.address.locality, listing.address.region) == (
        "12 Elm St",
        "Austin",
        "TX",
    )
    assert listing.address.raw == "12 Elm St, Austin, TX"
    assert [(c.state, c.name_raw, c.number) for c in listing.credentials] == [
        ("TX", "LMT", "MT123"),
        (None, "BCTMB", None),
        (None, "NPI 12345", None),
    ]
    assert listing.aggregate_rating is not None
    assert (listing.aggregate_rating.raw, listing.aggregate_rating.value) == ("4,5", 4.5)
    assert listing.aggregate_rating.count == 2
    # A longitude outside ±180 is refused, and half a coordinate pair places nothing.
    assert (listing.latitude, listing.longitude) == (None, None)
    assert listing.extras["geo_raw"] == {"latitude": "30.25", "longitude": "-197.7"}
    assert listing.npi is None and listing.extras["npi_raw"] == "12345"
    assert sorted(errors) == [
        "listing/missing-telephone",
        "value/longitude-invalid",
        "value/npi-invalid",
    ]


def test_reviews_in_repeated_blocks_use_the_sites_ids_else_their_position() -> None:
    found, errors = records(
        [REVIEW_SPEC],
        PROFILE,
        url=f"{BASE}/therapist/jane-doe?page=2",
        ignore_params=["page", "utm_source"],
    )
    reviews = [r for r in found if isinstance(r, Review)]
    assert [r.author_raw for r in reviews] == ["rosa_o43", "Ann"]
    assert [r.extras["source_ref"] for r in reviews] == [
        f"{BASE}/therapist/jane-doe#r-1",
        f"{BASE}/therapist/jane-doe#2",
    ]
    assert {r.listing_ref for r in reviews} == {f"{BASE}/therapist/jane-doe"}
    assert [(r.rating.value, r.rating.best) for r in reviews if r.rating] == [
        (4.0, 5.0),
        (9.0, 10.0),
    ]
    assert reviews[0].subject_name_raw == "Jane A. Doe, LMT"
    # Bob's block has neither a rating nor a text: counted, not kept.
    assert errors == ["review/empty"]


def test_a_listing_without_its_required_name_is_counted_not_kept() -> None:
    found, errors = records([LISTING_SPEC], "<div class='addr'>1 A St, B, TX</div>")
    assert found == []
    assert errors == ["listing/no-name"]


def test_a_credential_record_reads_a_registry_page() -> None:
    page = """<h1>Board of Massage</h1><table>
      <tr><th>Name</th><td>DOE, JANE A</td></tr><tr><th>License Type</th><td>LMT - Massage</td></tr>
      <tr><th>License Number</th><td>MA.123</td></tr><tr><th>Status</th><td>ACTIVE</td></tr>
      <tr><th>Location</th><td>Austin, TX</td></tr></table>"""
    spec = {
        "type": "credential_record",
        "page": r"/license/",
        "fields": {
            "name": {"label": "Name"},
            "number": {"label": "License Number"},
            "credential": {"label": "License Type", "regex": r"^([A-Z]+)\b"},
            "status": {"label": "Status"},
            "city": {"label": "Location", "regex": r"^(?P<city>.+?), (?P<state>[A-Z]{2})$"},
            "issuer": "//h1",
        },
    }
    (record,), errors = records(
        [spec], page, url=f"{BASE}/license/MA.123", source_kind="license_board"
    )
    assert isinstance(record, CredentialRecord)
    assert (record.name_raw, record.number, record.credential_raw, record.status_raw) == (
        "DOE, JANE A",
        "MA.123",
        "LMT",
        "ACTIVE",
    )
    assert (record.city_raw, record.state, record.issuer) == ("Austin", "TX", "Board of Massage")
    assert record.issuer_kind == "state_board"
    assert errors == []
    # The page regex keeps the spec off other pages.
    assert records([spec], page, url=f"{BASE}/search")[0] == []
    # Without a number the record cannot be checked against anything.
    without_number = page.replace("License Number", "Other")
    assert records([spec], without_number, url=f"{BASE}/license/x")[1] == ["credential/no-number"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "person", "fields": {"name": "h1"}}, "type 'person'"),
        ({"type": "listing", "fields": {"rank": "h1"}}, "not a listing field"),
        (
            {"type": "listing", "fields": {"name": {"css": "h1", "regex": "(?P<colour>.+)"}}},
            "colour",
        ),
        ({"type": "credential_record", "fields": {"name": "h1"}}, "needs an issuer"),
        ({"type": "listing", "fields": {"name": "h1"}, "expected": ["age"]}, "age"),
        ({"type": "listing", "fields": {"name": "h1"}, "contaner": "div"}, "unknown key"),
    ],
)
def test_bad_record_specs_are_refused_with_the_reason(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorSpecError, match=message):
        compile_record_specs([spec], "records")


# -- the html spider ------------------------------------------------------------------------------


def source(
    spider: str,
    options: Mapping[str, Any],
    *,
    kind: str = "directory",
    start: tuple[str, ...] = (f"{BASE}/",),
) -> Source:
    """A catalog source for the tests."""
    return Source(
        name="test",
        kind=kind,
        spider=spider,
        title="Test",
        start_urls=start,
        allowed_domains=("therapists.example",),
        options=options,
    )


def spider_for(spider_type: type, src: Source) -> Any:
    """A spider with a crawler (and so stats) of its own."""
    return spider_type.from_crawler(get_crawler(spider_type), source=src)


def html(url: str, body: str) -> HtmlResponse:
    """A fetched HTML page."""
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


def split(results: Iterable[Any]) -> tuple[list[Any], list[str]]:
    """Records and requested URLs of a callback's results."""
    items, urls = [], []
    for result in results:
        (urls.append(result.url) if isinstance(result, Request) else items.append(result))
    return items, urls


def errors_of(spider: Any) -> dict[str, int]:
    """The spider's error counts by kind."""
    stats = spider.crawler.stats.get_stats()
    return {
        k.removeprefix("tdir/error/"): v for k, v in stats.items() if k.startswith("tdir/error/")
    }


RESULTS_OPTIONS = {
    "follow": [
        {"css": ".results a", "allow": r"/listing/\d+$", "deny": r"/print/"},
        r"/city/[a-z]+$",
    ],
    "next": "a[rel=next]",
    "records": [{"type": "listing", "page": r"/listing/\d+$", "fields": {"name": "h1"}}],
}


def test_the_html_spider_follows_its_rules_and_nothing_else() -> None:
    spider = spider_for(HtmlSpider, source("html", RESULTS_OPTIONS))
    page = html(
        f"{BASE}/city/austin",
        """<div class="results"><a href="/listing/1">A</a><a href="/listing/2#top">B</a>
        <a href="/print/listing/1">print</a></div><a href="/city/dallas">Dallas</a>
        <a href="http://elsewhere.example/city/x">other site</a><a href="mailto:a@b.c">mail</a>
        <a rel="next" href="/city/austin?page=2">Next</a>""",
    )
    items, urls = split(spider.parse(page))
    assert items == []
    assert urls == [
        f"{BASE}/listing/1",
        f"{BASE}/listing/2",
        f"{BASE}/city/dallas",
        f"{BASE}/city/austin?page=2",
    ]


def test_pagination_stops_at_a_page_with_nothing_new() -> None:
    spider = spider_for(HtmlSpider, source("html", RESULTS_OPTIONS))
    first = (
        '<div class="results"><a href="/listing/1">A</a></div><a rel="next" href="?page=2">n</a>'
    )
    _, urls = split(spider.parse(html(f"{BASE}/city/austin", first)))
    assert f"{BASE}/city/austin?page=2" in urls
    # A trap: page 2 shows page 1's links (and a different counter) and offers page 3.
    trap = first.replace("?page=2", "?page=3") + "<p>page 2</p>"
    _, urls = split(spider.parse(html(f"{BASE}/city/austin?page=2", trap)))
    assert urls == []
    assert errors_of(spider) == {"page/pagination-stopped": 1}


def test_a_page_seen_before_under_another_url_is_not_walked_again() -> None:
    spider = spider_for(HtmlSpider, source("html", RESULTS_OPTIONS))
    body = '<div class="results"><a href="/listing/1">A</a></div>'
    split(spider.parse(html(f"{BASE}/city/austin", body)))
    _, urls = split(spider.parse(html(f"{BASE}/city/austin?sort=name", body)))
    assert urls == []
    assert errors_of(spider) == {"page/repeated-content": 1}


def test_start_params_make_one_request_per_value() -> None:
    options = {**RESULTS_OPTIONS, "start_params": {"last_name": ["A", "B"], "state": "TX"}}
    spider = spider_for(HtmlSpider, source("html", options, start=(f"{BASE}/verify?x=1",)))

    async def start_urls() -> list[str]:
        return [request.url async for request in spider.start()]

    assert asyncio.run(start_urls()) == [
        f"{BASE}/verify?x=1&last_name=A&state=TX",
        f"{BASE}/verify?x=1&last_name=B&state=TX",
    ]


@pytest.mark.parametrize(
    ("spider", "options", "message"),
    [
        ("html", {"records": []}, "non-empty"),
        (
            "html",
            {"records": [{"type": "listing", "fields": {"name": "h1"}}], "folow": []},
            "unknown option",
        ),
        ("html", {"records": [{"type": "listing", "fields": {"name": "h1["}}]}, "bad CSS"),
        ("csv", {"columns": {"number": "No"}}, "issuer"),
        ("csv", {"columns": {"rank": "Rank"}, "constants": {"issuer": "X"}}, "rank"),
        ("csv", {"columns": {"name": "N"}, "constants": {"issuer": "X"}}, "number"),
        ("npi_api", {"states": ["TX"]}, "criterion"),
        ("npi_api", {"criteria": {"taxonomy_description": "x"}, "page_size": 500}, "page_size"),
    ],
)
def test_options_a_spider_cannot_use_are_refused_before_crawling(
    spider: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        spider_class(spider).check_options(source(spider, options))  # type: ignore[attr-defined]


def test_every_catalog_source_of_these_spiders_compiles() -> None:
    catalog = load_catalog(None, site_variables({s: "http://127.0.0.1:1" for s in SITE_NAMES}))
    checked = []
    for src in catalog.sources.values():
        if src.spider in ("html", "csv", "npi_api"):
            spider_class(src.spider).check_options(src)  # type: ignore[attr-defined]
            checked.append(src.name)
    assert set(checked) >= {
        "pages",
        "reviews",
        "board-nc",
        "board-wa",
        "board-fl",
        "board-tx",
        "certregistry",
        "npi",
    }
    for src in catalog.sources.values():
        assert src.schedule.interval_seconds or src.schedule.cron


# -- the csv spider -------------------------------------------------------------------------------

CSV_OPTIONS = {
    "columns": {
        "number": "License Number",
        "credential": ["Profession", "License Type"],
        "name": "Name",
        "status": "Status",
        "expires": "Expiration Date",
    },
    "constants": {"issuer": "Florida Board of Massage Therapy", "state": "FL"},
}


def csv_response(body: bytes, url: str = f"{BASE}/downloads/fl.csv") -> Response:
    """A fetched CSV file."""
    return TextResponse(
        url=url,
        body=body,
        encoding="utf-8",
        request=Request(url),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )


def test_csv_rows_map_onto_credential_records_whatever_the_file_looks_like() -> None:
    spider = spider_for(CsvRecordSpider, source("csv", CSV_OPTIONS, kind="license_board"))
    body = (
        "\ufeff LICENSE NUMBER ,profession,Name,Status,Expiration Date,Notes\r\n"
        '\r\nMA1,LMT,"DOE, JANE A",ACTIVE,01/02/2026,"has ""quotes"", and\na newline"\r\n'
        ",,,,,\r\n"
        'MA2,LMT,"ROE, RICHARD",EXPIRED\r\n'
        ',LMT,"NOBODY, NO NUMBER",ACTIVE,01/02/2026\r\n'
        "MA3,LMT,,ACTIVE,01/02/2026\r\n"
    ).encode()
    items, urls = split(spider.parse(csv_response(body)))
    assert urls == []
    assert [(r.number, r.name_raw, r.status_raw, r.expires_raw) for r in items] == [
        ("MA1", "DOE, JANE A", "ACTIVE", "01/02/2026"),
        ("MA2", "ROE, RICHARD", "EXPIRED", None),
    ]
    first = items[0]
    assert (first.issuer, first.state, first.credential_raw) == (
        "Florida Board of Massage Therapy",
        "FL",
        "LMT",
    )
    assert first.issuer_kind == "state_board"
    assert first.extras["source_ref"] == "MA1"
    assert errors_of(spider) == {
        "csv/short-row": 1,
        "credential/no-number": 1,
        "credential/no-name": 1,
    }


def test_a_csv_file_without_a_required_column_is_one_error() -> None:
    spider = spider_for(CsvRecordSpider, source("csv", CSV_OPTIONS, kind="license_board"))
    items, _ = split(spider.parse(csv_response(b"Number,Name\r\nMA1,DOE\r\n")))
    assert items == []
    assert errors_of(spider)["csv/missing-column"] >= 1


def test_a_csv_file_in_windows_1252_is_read() -> None:
    spider = spider_for(CsvRecordSpider, source("csv", CSV_OPTIONS, kind="license_board"))
    body = 'License Number,Profession,Name\r\nMA9,LMT,"PEÑA, JOSÉ"\r\n'.encode("cp1252")
    items, _ = split(spider.parse(csv_response(body)))
    assert [r.name_raw for r in items] == ["PEÑA, JOSÉ"]


def test_the_csv_spider_finds_the_files_a_downloads_page_links() -> None:
    spider = spider_for(CsvRecordSpider, source("csv", CSV_OPTIONS, kind="license_board"))
    page = html(
        f"{BASE}/downloads/", '<a href="/files/licensees-2025-09.csv">CSV</a><a href="/">Home</a>'
    )
    assert split(spider.parse(page))[1] == [f"{BASE}/files/licensees-2025-09.csv"]
    split(spider.parse(html(f"{BASE}/downloads/old", "<p>Moved.</p>")))
    assert errors_of(spider) == {"csv/no-file-linked": 1}


# -- the npi_api spider ----------------------------------------------------------------------------

NPI_OPTIONS = {"criteria": {"taxonomy_description": "Massage Therapist"}, "states": ["TX"]}


def npi_result(number: int, code: str = "225700000X") -> dict[str, Any]:
    """One provider as the registry returns it."""
    return {
        "number": number,
        "enumeration_type": "NPI-1",
        "basic": {"first_name": "JANE", "last_name": "DOE", "status": "A"},
        "addresses": [],
        "taxonomies": [
            {"code": code, "desc": "x", "primary": True, "state": "TX", "license": "MT1"}
        ],
    }


def npi_response(payload: Any, query: str = "state=TX&skip=0") -> Response:
    """A registry answer (always HTTP 200, as the real API)."""
    url = f"{BASE}/api/?{query}"
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return TextResponse(url=url, body=body, encoding="utf-8", request=Request(url))


def npi_spider() -> NpiApiSpider:
    """An NPI spider over one state."""
    return spider_for(
        NpiApiSpider, source("npi_api", NPI_OPTIONS, kind="npi_registry", start=(f"{BASE}/api/",))
    )


def test_npi_pages_go_on_until_a_short_page_and_keep_one_taxonomy() -> None:
    spider = npi_spider()
    criteria = {"taxonomy_description": "Massage Therapist", "state": "TX"}
    full = {
        "result_count": 200,
        "results": [npi_result(1000000000 + i) for i in range(199)]
        + [npi_result(1999999999, code="363L00000X")],
    }
    items, urls = split(
        spider.parse(npi_response(full), endpoint=f"{BASE}/api/", criteria=criteria, skip=0)
    )
    assert len(items) == 199
    assert len(urls) == 1 and "skip=200" in urls[0] and "limit=200" in urls[0]
    assert "version=2.1" in urls[0]
    short = {"result_count": 1, "results": [npi_result(1000000000)]}
    items, urls = split(
        spider.parse(npi_response(short), endpoint=f"{BASE}/api/", criteria=criteria, skip=200)
    )
    assert items == [] and urls == []  # the one provider was already emitted by page one


def test_a_npi_query_the_api_would_cut_short_is_split_by_postal_code() -> None:
    spider = npi_spider()
    criteria = {"taxonomy_description": "Massage Therapist", "state": "TX"}
    full = {"result_count": 200, "results": [npi_result(1100000000 + i) for i in range(200)]}
    _, urls = split(
        spider.parse(npi_response(full), endpoint=f"{BASE}/api/", criteria=criteria, skip=1000)
    )
    assert len(urls) == 100
    assert all("skip=0" in u and "state=TX" in u for u in urls)
    assert "postal_code=00%2A" in urls[0] and "postal_code=99%2A" in urls[-1]
    assert narrower_queries({"postal_code": "78*"})[0]["postal_code"] == "780*"
    assert narrower_queries({"postal_code": "78701123*"})[-1]["postal_code"] == "787011239"
    assert narrower_queries({"postal_code": "787011239"}) == []


def test_npi_error_payloads_are_counted_and_described(caplog: pytest.LogCaptureFixture) -> None:
    spider = npi_spider()
    errors = {
        "Errors": [
            {
                "description": "Field state requires additional search criteria",
                "field": "state",
                "number": "07",
            }
        ]
    }
    with caplog.at_level(logging.WARNING):
        items, urls = split(
            spider.parse(
                npi_response(errors), endpoint=f"{BASE}/api/", criteria={"state": "TX"}, skip=0
            )
        )
        split(
            spider.parse(
                npi_response(b"<html>maintenance</html>"),
                endpoint=f"{BASE}/api/",
                criteria={"state": "TX"},
                skip=0,
            )
        )
    assert items == [] and urls == []
    assert errors_of(spider) == {"npi/api-error": 1, "npi/bad-response": 1}
    assert "requires additional search criteria" in caplog.text


def test_a_csv_npi_column_is_checked_and_kept_raw_when_wrong() -> None:
    options = {**CSV_OPTIONS, "columns": {**CSV_OPTIONS["columns"], "npi": "NPI"}}
    spider = spider_for(CsvRecordSpider, source("csv", options, kind="license_board"))
    body = (
        b"License Number,Profession,Name,Status,Expiration Date,NPI\r\n"
        b"MA1,LMT,A,ACTIVE,,1234-567-890\r\nMA2,LMT,B,ACTIVE,,12345\r\n"
    )
    items, _ = split(spider.parse(csv_response(body)))
    assert [(r.npi, r.extras.get("npi_raw")) for r in items] == [
        ("1234567890", None),
        (None, "12345"),
    ]
    assert errors_of(spider) == {"value/npi-invalid": 1}
