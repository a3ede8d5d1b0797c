"""Bad input never ends a crawl, and the crawler is polite.

A small hostile site on 127.0.0.1 serves what the web throws at crawlers: malformed HTML,
JSON-LD beyond repair, a server error, a page that never answers in time, redirect loops and
endless redirect chains, an endless pagination trap and a 50 MB page (with and without a
Content-Length). The crawl must go on, finish, and count each problem by kind in run.json.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.catalog import load_catalog
from crawler.runs import CrawlStore, RunRecord
from crawler.settings import DEFAULT_TIMEOUT, crawl_settings
from tdir.config import ConfigError
from tests.crawling import run_tdir

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

HUGE = 50 * 1024 * 1024
# Generous enough that a loaded test machine does not time out the ordinary pages.
SLOW_SECONDS = 10.0
TIMEOUT_SECONDS = "3"
TRAP_BUDGET = 40


def profile_page(number: int) -> bytes:
    document = {
        "@context": "https://schema.org",
        "@type": "HealthAndBeautyBusiness",
        "name": f"Practice {number}",
        "telephone": f"512-555-010{number}",
        "employee": {"@type": "Person", "name": f"Therapist {number}"},
        "review": {"@type": "Review", "author": "Pat", "reviewRating": {"ratingValue": 5}},
    }
    return html(f'<script type="application/ld+json">{json.dumps(document)}</script>', "")


def calendar_page(path: str) -> str:
    """An events calendar without end: a page per month and per day, every one different."""
    parts = [int(p) for p in path.split("/")[2:] if p.isdigit()]
    year, month = parts[0], parts[1]
    day = parts[2] if len(parts) > 2 else None
    following = (year + month // 12, month % 12 + 1)
    title = date(year, month, day or 1).strftime("%A %d %B %Y" if day else "%B %Y")
    links = [f'<a href="/calendar/{following[0]}/{following[1]}">Next month</a>']
    if day is None:
        links += [f'<a href="/calendar/{year}/{month}/{d}">{d}</a>' for d in range(1, 29)]
    # Letters, not digits, tell the pages apart: no repeat of another page "but for numbers".
    ordinal = (year * 12 + month) * 32 + (day or 0)
    code = "".join(chr(97 + (ordinal // 26**i) % 26) for i in range(4))
    return f"<h1>Events: {title}</h1><p>No events {title} ({code}).</p>" + "".join(links)


def html(head: str, body: str) -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


LINKS = [
    "/profile/1",
    "/profile/broken-jsonld",
    "/profile/malformed",
    "/profile/binary",
    "/error",
    "/slow",
    "/loop/a",
    "/redirects/1",
    "/trap?page=1",
    "/calendar/2026/1",
    "/huge",
    "/huge-unsized",
    "/private/secret",
    "/profile/2",
    "/missing",
    "/profile/3",
]


class HostileHandler(BaseHTTPRequestHandler):
    """Serves the hostile site; every request is logged on the server."""

    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet; requests are logged below
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.requests.append(self.path)
        path, query = parts.path, parse_qs(parts.query)
        # The crawler hangs up on the huge pages, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.route(path, query)

    def route(self, path: str, query: dict[str, list[str]]) -> None:  # noqa: C901 - a test server: one branch per scripted path
        if path == "/robots.txt":
            self.send(b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path == "/":
            links = "".join(f'<a href="{link}">{link}</a> ' for link in LINKS)
            self.send(html("", links))
        elif path in ("/profile/1", "/profile/2", "/profile/3"):
            self.send(profile_page(int(path[-1])))
        elif path == "/profile/broken-jsonld":
            broken = (
                '{"@context": "https://schema.org", "@type": "Person", "name": "X", "review": ['
            )
            self.send(html(f'<script type="application/ld+json">{broken}</script>', ""))
        elif path == "/profile/malformed":
            body = (
                b"<!DOCTYPE html><html><body><div><div><div><table><tr><td>"
                b"<<<>>>&&&;\x00\x01<div itemscope itemtype='https://schema.org/Person'>"
                b"<span itemprop=name>Half <b><i>Open</span></td></tr></p></body>"
                + "\udcff".encode("utf-8", "surrogateescape")
                + b"<!-- never closed"
            )
            self.send(body)
        elif path == "/profile/binary":
            self.send(bytes(range(256)) * 64, "application/octet-stream")
        elif path == "/error":
            self.send(b"<h1>Internal Server Error</h1>", status=500)
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)  # not a wait: a slow site is what this path stands for
            self.send(html("", "too late"))
        elif path == "/loop/a":
            self.redirect("/loop/b")
        elif path == "/loop/b":
            self.redirect("/loop/a")
        elif path.startswith("/redirects/"):
            self.redirect(f"/redirects/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/trap":
            page = int(query.get("page", ["1"])[0])
            body = f"<h1>Results, page {page}</h1><p>Nothing new here.</p>"
            body += f'<a rel="next" href="/trap?page={page + 1}">Next</a>'
            self.send(html("", body))
        elif path.startswith("/calendar/"):
            self.send(html("", calendar_page(path)))
        elif path == "/huge":
            self.stream(HUGE, sized=True)
        elif path == "/huge-unsized":
            self.stream(HUGE, sized=False)
        else:
            self.send(html("", "not found"), status=404)

    def send(self, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def stream(self, size: int, *, sized: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if sized:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
        for _ in range(size // len(chunk)):
            self.wfile.write(chunk)


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def write_catalog(path: Path, name: str, start_urls: list[str], **options: Any) -> Path:
    source = {
        "name": name,
        "kind": "directory",
        "spider": "structured",
        "start_urls": start_urls,
        "options": options,
    }
    path.write_text(json.dumps({"sources": [source]}), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def hostile_crawl(
    hostile: HostileServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, RunRecord, Path]:
    home = tmp_path_factory.mktemp("hostile-home")
    catalog = write_catalog(
        home / "catalog.yaml",
        "hostile",
        [hostile.url + "/"],
        follow=["."],
        profile_pages=["/profile/"],
    )
    source = json.loads(catalog.read_text())
    source["sources"][0]["trap_budget"] = TRAP_BUDGET
    catalog.write_text(json.dumps(source), encoding="utf-8")
    started = time.monotonic()
    done = run_tdir(
        home,
        "crawl",
        "hostile",
        "--catalog",
        str(catalog),
        "--no-delay",
        "--json",
        timeout=180,
        TDIR_CRAWL_TIMEOUT=TIMEOUT_SECONDS,
    )
    done.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    [record] = [RunRecord.from_dict(r) for r in json.loads(done.stdout or "[]")] or [None]
    assert record is not None, done.stderr
    return done, record, home


def test_hostile_site_crawl_finishes_without_an_exception(hostile_crawl: tuple):
    done, record, _ = hostile_crawl
    assert done.returncode == 0, done.stderr
    assert record.status == "finished"
    assert record.finish_reason == "finished"
    assert "Traceback" not in done.stderr
    assert not any(kind.startswith("spider/") for kind in record.errors)
    # The slow page was given up on after its timeouts, not waited for.
    assert done.elapsed < 60


def test_good_pages_among_bad_ones_are_all_read(hostile_crawl: tuple):
    _, record, home = hostile_crawl
    store = CrawlStore(home)
    listings = [r for r in store.records("hostile", record.run_id) if r["record_type"] == "listing"]
    names = sorted(r["name_raw"] for r in listings)
    # the malformed page still gives what a lenient parser finds in it
    assert names == ["Half Open", "Therapist 1", "Therapist 2", "Therapist 3"]
    assert record.items["review"] == 3


def test_each_problem_is_counted_by_a_readable_kind(hostile_crawl: tuple):
    _, record, _ = hostile_crawl
    assert {k: v for k, v in record.errors.items() if not k.startswith("trap/")} == {
        "download/timeout": 1,
        "download/too-large": 2,
        "html/unclosed-elements": 1,
        "http/404": 1,
        "http/500": 1,
        "jsonld/invalid": 1,
        "page/not-text": 1,
        "page/repeated-content": 1,
        "profile/no-listing": 1,
        "redirect/loop": 1,
        "redirect/too-many": 1,
    }
    assert record.robots_disallowed == 1


def test_server_errors_and_timeouts_are_retried_then_given_up(
    hostile_crawl: tuple, hostile: HostileServer
):
    _, record, _ = hostile_crawl
    requests = Counter(urlsplit(r).path for r in hostile.requests)
    assert requests["/error"] == 3  # the first try and two retries
    assert requests["/slow"] == 3
    assert record.retried == 4


def test_traps_are_left_early(hostile_crawl: tuple, hostile: HostileServer):
    trap_pages = [r for r in hostile.requests if r.startswith("/trap")]
    # page 2 repeats page 1 but for its numbers: its next link is not followed
    assert trap_pages == ["/trap?page=1", "/trap?page=2"]
    chain = [r for r in hostile.requests if r.startswith("/redirects/")]
    assert len(chain) == 6  # the request and REDIRECT_MAX_TIMES (5) redirects
    assert sorted(r for r in hostile.requests if r.startswith("/loop/")) == ["/loop/a", "/loop/b"]


def test_a_calendar_trap_is_left_past_its_budget_and_reported(
    hostile_crawl: tuple, hostile: HostileServer
):
    _, record, _ = hostile_crawl
    calendar = [r for r in hostile.requests if r.startswith("/calendar/")]
    # Without the guard: a month and 28 days per page, month after month, to the depth limit.
    # Past its budget a template is left; what was already queued still comes, and how many day
    # links are queued when the day template is cut depends on the order pages come back in
    # (a loaded machine returns them in other orders): some dozens, never the unguarded hundreds.
    per_template = Counter(r.count("/") for r in calendar)  # 3: a month, 4: a day
    assert set(per_template) <= {3, 4}
    assert per_template[3] <= TRAP_BUDGET + 4  # a month page queues one next month
    assert TRAP_BUDGET <= len(calendar) <= 4 * TRAP_BUDGET
    traps = {k: v for k, v in record.errors.items() if k.startswith("trap/")}
    assert set(traps) <= {"trap//calendar/{n}/{n}", "trap//calendar/{n}/{n}/{n}"}
    assert sum(traps.values()) > 0
    # Productive templates are never cut: every profile was read (see above), none dropped.
    assert not [k for k in traps if "profile" in k]
    # The run names the trap and what it cost, and nothing productive.
    suspected = record.suspected_traps
    assert set(suspected) <= {"/calendar/{n}/{n}", "/calendar/{n}/{n}/{n}"} and suspected
    assert sum(suspected.values()) == len(calendar)


def test_pages_disallowed_by_robots_txt_are_never_requested(
    hostile_crawl: tuple, hostile: HostileServer
):
    assert not [r for r in hostile.requests if r.startswith("/private/")]
    assert hostile.requests.count("/robots.txt") == 1


def test_demo_web_pages_disallowed_by_robots_txt_are_never_requested(demo_web: Any, tmp_path: Path):
    """Start URLs that robots.txt disallows are refused before any request is made."""
    atlas, guild = demo_web.urls["atlas"], demo_web.urls["guild"]
    disallowed = [
        f"{atlas}/search?city=austin-tx&sort=rating",
        f"{atlas}/admin/users",
        f"{atlas}/account/login",
        f"{guild}/login",
        f"{guild}/contact/abc",
        f"{guild}/cart/",
    ]
    catalog = write_catalog(tmp_path / "catalog.yaml", "robots-check", [*disallowed, f"{atlas}/"])
    log_before = demo_web.log.path.stat().st_size
    done = run_tdir(
        tmp_path, "crawl", "robots-check", "--catalog", str(catalog), "--no-delay", "--json"
    )
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    assert record["robots_disallowed"] == len(disallowed)
    with demo_web.log.path.open(encoding="utf-8") as log:
        log.seek(log_before)
        paths = [json.loads(line)["path"] for line in log]
    assert "/" in paths and "/robots.txt" in paths
    refused = {d.split("/", 3)[3] for d in disallowed}
    assert not [p for p in paths if p.lstrip("/") in refused]
    assert not [p for p in paths if p.startswith(("/search", "/admin/", "/account/", "/login"))]


def test_no_delay_is_refused_for_a_host_that_is_not_this_machine(tmp_path: Path):
    catalog = write_catalog(
        tmp_path / "catalog.yaml", "remote", ["https://therapists.example.org/"]
    )
    done = run_tdir(tmp_path, "crawl", "remote", "--catalog", str(catalog), "--no-delay")
    assert done.returncode == 2
    assert "loopback" in done.stderr and "therapists.example.org" in done.stderr
    assert not (tmp_path / "crawl").exists()  # refused before any run was started


def test_politeness_is_on_by_default_and_off_only_on_request(tmp_path: Path):
    polite = crawl_settings(http_cache_dir=tmp_path, job_dir=None, env={})
    assert polite["ROBOTSTXT_OBEY"] is True
    assert polite["AUTOTHROTTLE_ENABLED"] is True
    assert polite["DOWNLOAD_DELAY"] >= 1.0
    assert polite["CONCURRENT_REQUESTS_PER_DOMAIN"] <= 2
    assert polite["USER_AGENT"].startswith("tdir-bot/")
    assert "+https://" in polite["USER_AGENT"]
    assert polite["DOWNLOAD_TIMEOUT"] == DEFAULT_TIMEOUT
    fast = crawl_settings(http_cache_dir=tmp_path, job_dir=None, loopback_fast=True, env={})
    assert fast["DOWNLOAD_DELAY"] == 0 and fast["AUTOTHROTTLE_ENABLED"] is False
    # robots.txt and the User-Agent stay whatever the speed
    assert fast["ROBOTSTXT_OBEY"] is True and fast["USER_AGENT"] == polite["USER_AGENT"]


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "601"])
def test_download_timeout_override_is_checked(raw: str, tmp_path: Path):
    with pytest.raises(ConfigError, match="TDIR_CRAWL_TIMEOUT"):
        crawl_settings(http_cache_dir=tmp_path, job_dir=None, env={"TDIR_CRAWL_TIMEOUT": raw})
    ok = crawl_settings(http_cache_dir=tmp_path, job_dir=None, env={"TDIR_CRAWL_TIMEOUT": "2.5"})
    assert ok["DOWNLOAD_TIMEOUT"] == 2.5


def test_catalog_options_the_spider_cannot_use_are_refused_before_crawling(tmp_path: Path):
    catalog = write_catalog(
        tmp_path / "catalog.yaml", "typo", ["http://127.0.0.1:9/"], profile_page=["/p/"]
    )
    assert load_catalog(catalog).get("typo").options == {"profile_page": ["/p/"]}
    done = run_tdir(tmp_path, "crawl", "typo", "--catalog", str(catalog), "--no-delay")
    assert done.returncode == 2
    assert "profile_page" in done.stderr and "profile_pages" in done.stderr
    assert not (tmp_path / "crawl").exists()


def test_a_site_that_is_down_is_a_failed_run_that_makes_nothing_vanish(tmp_path: Path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    catalog = write_catalog(tmp_path / "catalog.yaml", "down", [f"http://127.0.0.1:{port}/"])
    done = run_tdir(
        tmp_path, "crawl", "down", "--catalog", str(catalog), "--no-delay", "--json", timeout=120
    )
    [record] = [RunRecord.from_dict(r) for r in json.loads(done.stdout)]
    assert done.returncode == 1
    assert record.status == "failed"
    assert record.errors.get("download/connection-refused", 0) >= 1
    assert not record.complete  # so the indexer never takes it as the source's whole picture
