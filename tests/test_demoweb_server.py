"""The served demo web, over real HTTP on 127.0.0.1: what it publishes matches the ground truth."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import socket
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser
from xml.etree import ElementTree

import pytest

from crawler.demoweb import SITE_NAMES, DemoWeb, GroundTruth, generate_world, is_valid_npi
from crawler.demoweb.sites import base as sites_base

UA = "tdir-tests/1.0 (+https://example.org/tdir)"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@dataclass
class Fetched:
    status: int
    headers: http.client.HTTPMessage
    body: str


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    request = urllib.request.Request(
        url, headers={"User-Agent": UA, **(headers or {})}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read().decode())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("served")
    generate_world(directory, seed=21, therapists=300)
    return directory


@pytest.fixture(scope="module")
def web(world: Path) -> Iterator[DemoWeb]:
    log = world / "requests.jsonl"
    running = DemoWeb.start(world, request_log=log, manifest=world / "sites.json")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def truth(world: Path) -> GroundTruth:
    return GroundTruth(world)


@pytest.fixture(scope="module")
def people(truth: GroundTruth) -> list[dict[str, Any]]:
    return list(truth.people())


def sitemap_paths(base: str) -> list[str]:
    """Every URL path in a site's sitemap, following a sitemap index."""
    root = ElementTree.fromstring(fetch(f"{base}/sitemap.xml").body)
    if root.tag == f"{SITEMAP_NS}sitemapindex":
        locs = [e.text or "" for e in root.iter(f"{SITEMAP_NS}loc")]
        out: list[str] = []
        for loc in locs:
            part = ElementTree.fromstring(fetch(loc).body)
            out += [e.text or "" for e in part.iter(f"{SITEMAP_NS}loc")]
    else:
        out = [e.text or "" for e in root.iter(f"{SITEMAP_NS}loc")]
    return [u[len(base) :] for u in out]


def links(html: str, base: str, pattern: str) -> list[str]:
    hrefs = re.findall(r'href="([^"]+)"', html)
    paths = [urlsplit(urljoin(base + "/", h.replace("&amp;", "&"))) for h in hrefs]
    return [
        p.path + (f"?{p.query}" if p.query else "") for p in paths if re.search(pattern, p.path)
    ]


def test_every_site_has_its_own_port_and_a_manifest(web: DemoWeb, world: Path) -> None:
    assert list(web.urls) == list(SITE_NAMES)
    ports = {urlsplit(u).port for u in web.urls.values()}
    assert len(ports) == len(SITE_NAMES)
    assert json.loads((world / "sites.json").read_text()) == web.urls


def test_a_taken_port_fails_the_start_at_once_and_frees_the_others(world: Path) -> None:
    squatter = socket.socket()  # the third site's port is taken
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    base = squatter.getsockname()[1] - 2
    with squatter, ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(DemoWeb.start, world, base_port=base)
        with pytest.raises(OSError):
            attempt.result(timeout=60)  # a hang here is the bug: it never returned
    # The sites that did bind let go of their ports.
    for k in (0, 1):
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", base + k))


def test_robots_and_sitemaps_are_served_per_site(web: DemoWeb) -> None:
    for name, base in web.urls.items():
        robots = fetch(f"{base}/robots.txt")
        assert robots.status == 200
        assert robots.headers["Content-Type"].startswith("text/plain")
        assert "Disallow: /" in robots.body, name
        assert f"Sitemap: {base}/sitemap.xml" in robots.body
        sitemap = fetch(f"{base}/sitemap.xml")
        assert sitemap.status == 200 and sitemap.headers["Content-Type"] == "application/xml"
        assert sitemap_paths(base), name


def test_sitemaps_cover_every_listing(web: DemoWeb, truth: GroundTruth) -> None:
    summary = truth.summary["sites"]
    for site in ("atlas", "guild", "pages", "reviews"):
        paths = sitemap_paths(web.urls[site])
        assert len(paths) == summary[site]["sitemap_urls"]
        listed = {item["path"] for _, item in truth.listings(site)}
        assert len(listed) == summary[site]["listings"]
        assert listed <= set(paths)


def test_large_sitemaps_split_into_parts_built_once(
    world: Path, web: DemoWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = sitemap_paths(web.urls["atlas"])
    monkeypatch.setattr(sites_base, "SITEMAP_CHUNK", 50)
    small_parts = DemoWeb.start(world)
    try:
        atlas = small_parts.sites["atlas"]
        builds: list[int] = []
        build_entries = atlas.sitemap_entries

        def counted(offset: int, limit: int) -> list:
            builds.append(offset)
            return build_entries(offset, limit)

        atlas.sitemap_entries = counted  # type: ignore[method-assign]
        base = small_parts.urls["atlas"]
        index = ElementTree.fromstring(fetch(f"{base}/sitemap.xml").body)
        assert index.tag == f"{SITEMAP_NS}sitemapindex"
        parts = [e.text or "" for e in index.iter(f"{SITEMAP_NS}loc")]
        assert len(parts) == -(-len(whole) // 50)
        # Crawlers fetch the parts in parallel, and again on the next crawl.
        with ThreadPoolExecutor(max_workers=8) as pool:
            bodies = list(pool.map(lambda url: fetch(url).body, parts * 3))
        found = [
            (e.text or "")[len(base) :]
            for body in bodies[: len(parts)]
            for e in ElementTree.fromstring(body).iter(f"{SITEMAP_NS}loc")
        ]
        assert found == whole
        assert bodies[: len(parts)] == bodies[len(parts) : 2 * len(parts)]
        assert sorted(builds) == [n * 50 for n in range(len(parts))]
        assert fetch(f"{base}/sitemap-{len(parts) + 1}.xml").status == 404
    finally:
        small_parts.stop()


def test_every_listing_and_registry_record_is_served(web: DemoWeb, people: list[dict]) -> None:
    for p in people:
        for item in p["listings"]:
            page = fetch(web.urls[item["site"]] + item["path"])
            assert page.status == 200, item
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        for cred in p["credentials"]:
            if cred["record_path"]:
                assert fetch(web.urls[cred["issuer_site"]] + cred["record_path"]).status == 200


def test_atlas_profiles_carry_json_ld_and_broken_ones_are_broken(
    web: DemoWeb, truth: GroundTruth
) -> None:
    checked = broken = 0
    for person, item in truth.listings("atlas"):
        html = fetch(web.urls["atlas"] + item["path"]).body
        (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        if item["defect"] == "invalid_jsonld":
            with pytest.raises(json.JSONDecodeError):
                json.loads(script)
            broken += 1
            continue
        doc = json.loads(script)
        nodes = doc["@graph"] if "@graph" in doc else [doc, doc.get("employee", {})]
        business = next(n for n in nodes if n.get("@id", "").endswith("#business"))
        person_node = next(n for n in nodes if n.get("@type") == "Person")
        assert person_node["familyName"] == person["name"]["last"]
        credentials = [c for c in item["claims"] if c["kind"] not in ("membership", "identifier")]
        assert len(person_node["hasCredential"]) == len(credentials)
        if item["reviews"]:
            # The aggregate counts every review; only the newest few are published in full.
            assert business["aggregateRating"]["reviewCount"] == item["aggregate"]["count"]
            assert len(business["review"]) == item["reviews"] <= item["aggregate"]["count"]
        if item["defect"] == "missing_address":
            assert "address" not in business and "location" not in business
        else:
            places = business.get("location") or [business]
            addresses = [a for place in places for a in _as_list(place["address"])]
            assert {a["@type"] for a in addresses} == {"PostalAddress"}
            assert len(addresses) == len(item["locations"])
        checked += 1
    assert checked > 100
    assert broken == truth.summary["sites"]["atlas"]["broken_pages"].get("invalid_jsonld", 0)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_guild_uses_microdata_and_pages_has_no_structured_data(
    web: DemoWeb, truth: GroundTruth
) -> None:
    for _, item in list(truth.listings("guild"))[:30]:
        html = fetch(web.urls["guild"] + item["path"]).body
        assert 'itemtype="https://schema.org/HealthAndBeautyBusiness"' in html
        assert "application/ld+json" not in html
    for _, item in list(truth.listings("pages"))[:30]:
        html = fetch(web.urls["pages"] + item["path"]).body
        assert (
            "itemscope" not in html and "application/ld+json" not in html and "typeof=" not in html
        )


def test_plain_directory_crawl_finds_exactly_its_listings(web: DemoWeb, truth: GroundTruth) -> None:
    base = web.urls["pages"]
    cities = links(fetch(f"{base}/cities.html").body, base, r"^/city/")
    found: set[str] = set()
    for city in cities:
        url: str | None = base + city
        while url:
            html = fetch(url).body
            found |= set(links(html, base, r"^/listing\.php$"))
            nxt = re.search(r'<a href="([^"]+)">Next &gt;&gt;</a>', html)
            url = base + nxt.group(1) if nxt else None
    expected = {item["path"] for _, item in truth.listings("pages")}
    assert found == expected


def test_atlas_city_pages_paginate_over_every_listing(web: DemoWeb, truth: GroundTruth) -> None:
    base = web.urls["atlas"]
    home = fetch(base + "/").body
    summary = truth.summary["sites"]["atlas"]
    assert f"Browse {summary['listings']:,} therapist profiles" in home
    found: set[str] = set()
    for city in links(home, base, r"^/massage-therapists/"):
        url: str | None = base + city
        while url:
            html = fetch(url).body
            found |= set(links(html, base, r"^/therapist/"))
            nxt = re.search(r'<a rel="next" href="([^"]+)"', html)
            url = base + nxt.group(1).replace("&amp;", "&") if nxt else None
    assert found == {item["path"] for _, item in truth.listings("atlas")}


def test_review_site_pages_hold_every_review_in_varied_forms(
    web: DemoWeb, people: list[dict], truth: GroundTruth
) -> None:
    base = web.urls["reviews"]
    total = 0
    ratings: set[str] = set()
    for p in people:
        pages = sorted({r["path"] for r in p["reviews"] if r["site"] == "reviews"})
        for path in pages:
            html = fetch(base + path).body
            total += html.count('<div class="rv"')
            ratings |= set(re.findall(r'<div class="score">([^<]+)</div>', html))
    assert total == truth.summary["sites"]["reviews"]["reviews"]
    assert any("★" in r for r in ratings)
    assert any(r.endswith("/10") for r in ratings)
    assert any("," in r for r in ratings)
    assert any(r.endswith("/5") for r in ratings)


def test_copied_reviews_read_the_same_on_both_sites(web: DemoWeb, people: list[dict]) -> None:
    compared = 0
    for p in people:
        by_id = {r["id"]: r for r in p["reviews"]}
        for copy in p["reviews"]:
            if copy["copy_of"] is None or compared >= 10:
                continue
            original = by_id[copy["copy_of"]]
            if not (original["crawlable"] and copy["crawlable"]):
                continue  # counted in an aggregate, but its text is not on the page
            first = fetch(web.urls[original["site"]] + original["path"]).body
            second = fetch(web.urls[copy["site"]] + copy["path"]).body
            texts = set(re.findall(r"<p(?: itemprop=\"reviewBody\")?>([^<]{40,})</p>", first))
            assert texts & set(
                re.findall(r"<p(?: itemprop=\"reviewBody\")?>([^<]{40,})</p>", second)
            )
            compared += 1
    assert compared


def test_license_board_csv_and_lookup_agree_with_truth(
    web: DemoWeb, people: list[dict], truth: GroundTruth
) -> None:
    for state in ("FL", "TX", "NC", "WA"):
        name = f"board-{state.lower()}"
        base = web.urls[name]
        summary = truth.summary["sites"][name]
        # TX publishes TDLR's license file instead: tests/test_crawl_license_files.py.
        if state != "TX":
            text = fetch(base + summary["csv_path"]).body
            rows = list(csv.reader(io.StringIO(text)))[1:]
            assert len(rows) == summary["records"]
            numbers = {row[0]: row for row in rows}
            expected = {
                c["number"]: c
                for p in people
                for c in p["credentials"]
                if c["kind"] == "state_license" and c["state"] == state
            }
            assert set(numbers) == set(expected)
            for number, cred in expected.items():
                assert numbers[number][1] == cred["title"]
                assert numbers[number][4].lower() == cred["status"]
        for p in people:
            for claim in p["false_claims"]:
                if claim["state"] == state and claim["credential"] != "bctmb":
                    page = fetch(f"{base}/verify?license_number={claim['number']}").body
                    assert "0 record(s) found" in page
    assert {
        row[1]
        for row in csv.reader(
            io.StringIO(fetch(web.urls["board-nc"] + "/downloads/nc-massage-licensees.csv").body)
        )
    } >= {"LMBT"}


def test_certification_registry_lists_holders_only(
    web: DemoWeb, people: list[dict], truth: GroundTruth
) -> None:
    base = web.urls["certregistry"]
    holders = [c for p in people for c in p["credentials"] if c["credential"] == "bctmb"]
    assert len(holders) == truth.summary["sites"]["certregistry"]["records"]
    fakes = [
        c for p in people for c in p["false_claims"] if c["credential"] == "bctmb" and c["number"]
    ]
    for claim in fakes:
        assert fetch(f"{base}/certificant/{claim['number']}").status == 404


def test_npi_api_pages_and_matches_the_real_shape(web: DemoWeb, people: list[dict]) -> None:
    base = web.urls["npi"] + "/api/?version=2.1&taxonomy_description=Massage%20Therapist"
    holders = {
        int(c["number"]) for p in people for c in p["credentials"] if c["credential"] == "npi"
    }
    seen: list[int] = []
    skip = 0
    while True:
        payload = json.loads(fetch(f"{base}&limit=7&skip={skip}").body)
        assert payload["result_count"] == len(payload["results"])
        if not payload["results"]:
            break
        for r in payload["results"]:
            assert isinstance(r["number"], int) and is_valid_npi(r["number"])
            assert r["enumeration_type"] == "NPI-1"
            assert r["basic"]["status"] == "A"
            assert r["taxonomies"][0]["code"] == "225700000X"
            assert {a["address_purpose"] for a in r["addresses"]} == {"LOCATION", "MAILING"}
            assert all(re.fullmatch(r"\d{9}", a["postal_code"]) for a in r["addresses"])
            for key in ("other_names", "identifiers", "endpoints", "practiceLocations"):
                assert r[key] == []
            seen.append(r["number"])
        skip += 7
    assert sorted(seen) == sorted(holders)
    capped = json.loads(fetch(f"{base}&limit=500").body)
    assert capped["result_count"] == min(200, len(holders))


def test_npi_api_error_payloads(web: DemoWeb) -> None:
    api = web.urls["npi"] + "/api/"
    cases = {
        "?version=2.1": ("generic", "04"),
        "?version=2.1&state=TX": ("state", "07"),
        "?version=2.1&enumeration_type=NPI-1": ("enumeration_type", "09"),
        "?version=2.1&last_name=s*": ("last_name", "03"),
        "?version=2.1&number=123": ("number", "06"),
        "?state=TX&last_name=smith": ("version", "17"),
    }
    for query, (field, number) in cases.items():
        page = fetch(api + query)
        assert page.status == 200
        (error,) = json.loads(page.body)["Errors"]
        assert (error["field"], error["number"]) == (field, number), query
        assert error["description"]
    both = json.loads(fetch(api + "?version=2.1&state=TX&enumeration_type=NPI-1").body)
    assert {e["number"] for e in both["Errors"]} == {"07", "09"}


def test_validators_give_304_and_unknown_paths_404(web: DemoWeb, truth: GroundTruth) -> None:
    _, item = next(truth.listings("atlas"))
    url = web.urls["atlas"] + item["path"]
    first = fetch(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag and modified
    assert fetch(url).headers["ETag"] == etag, "content is deterministic"
    assert fetch(url, {"If-None-Match": etag}).status == 304
    assert fetch(url, {"If-Modified-Since": modified}).status == 304
    assert fetch(url, {"If-None-Match": '"stale"'}).status == 200
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status == 200
    head = fetch(url, method="HEAD")
    assert head.status == 200 and head.body == ""
    for base in web.urls.values():
        assert fetch(base + "/no/such/page").status == 404
    assert fetch(web.urls["atlas"] + "/therapist/nobody-99").status == 404
    assert fetch(web.urls["atlas"] + "/", method="POST").status == 405


def test_request_log_records_a_polite_crawl(web: DemoWeb, world: Path) -> None:
    base = web.urls["guild"]
    robots = RobotFileParser()
    robots.parse(fetch(f"{base}/robots.txt").body.splitlines())
    queue, seen = ["/"], set()
    while queue and len(seen) < 60:
        path = queue.pop()
        if path in seen or not robots.can_fetch(UA, base + path):
            continue
        seen.add(path)
        queue += links(fetch(base + path).body, base, r"^/")
    entries = [json.loads(line) for line in (world / "requests.jsonl").read_text().splitlines()]
    guild = [e for e in entries if e["site"] == "guild" and e["user_agent"] == UA]
    assert {"ts", "site", "method", "path", "status", "bytes", "user_agent", "duration_ms"} <= set(
        guild[0]
    )
    assert {e["path"] for e in guild} >= seen
    disallowed = ("/contact/", "/login", "/cart/")
    assert not [e for e in guild if e["path"].startswith(disallowed)]
    assert any(e["bytes"] > 0 for e in guild)
