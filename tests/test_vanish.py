"""No vanish on doubt: a listing missing from a crawl is gone only when the crawl could tell.

A small site on 127.0.0.1 is crawled whole, then again with faults: a profile that answers
503, a city page that answers 503 (hiding the profile behind it), a profile that answers 404,
one no longer linked from anywhere, and one whose first answer is cut short under a matching
Content-Length and the server's own ETag (a body no HTTP check can tell is broken). The
snapshot must keep the first two listed (in doubt), drop the next two (vanished), and hold the
last one as fetched again in full.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.ledger import LINKS_FILE, PAGES_FILE, VANISH_ERROR_LIMIT, VanishJudge
from crawler.runs import CrawlStore, RunRecord
from indexer.snapshots import load_snapshot
from tests.crawling import run_tdir

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

FILLERS = 60  # enough healthy profiles that two failed pages stay under the error limit


def profile_body(number: int) -> bytes:
    document = {
        "@context": "https://schema.org",
        "@type": "HealthAndBeautyBusiness",
        "name": f"Practice {number}",
        "telephone": f"512-555-{number:04d}",
        "employee": {"@type": "Person", "name": f"Therapist {number}"},
    }
    script = f'<script type="application/ld+json">{json.dumps(document)}</script>'
    return f"<!DOCTYPE html><html><head>{script}</head><body><p>Profile</p></body></html>".encode()


def page(links: list[str]) -> bytes:
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return f"<!DOCTYPE html><html><body>{anchors}</body></html>".encode()


@dataclass
class Site:
    """What each path answers; the test changes it between crawls."""

    broken: dict[str, str] = field(default_factory=dict)  # path -> "503", "404", "cut-once"
    unlinked: set[str] = field(default_factory=set)
    # Pages sent with "Cache-Control: no-store": no cached copy can stand in when they fail
    # (a recrawl otherwise serves the last copy of a page that answers 5xx or times out).
    no_store: set[str] = field(default_factory=lambda: {"/profile/1", "/city/b"})
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # path, If-None-Match

    def links(self, path: str) -> list[str]:
        if path == "/":
            home = ["/city/a", "/city/b", "/profile/4", "/profile/5", "/profile/6"]
            home += [f"/profile/{n}" for n in range(100, 100 + FILLERS)]
            return [link for link in home if link not in self.unlinked]
        return {"/city/a": ["/profile/1", "/profile/2"], "/city/b": ["/profile/3"]}.get(path, [])


class Handler(BaseHTTPRequestHandler):
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path
        site.requests.append((path, self.headers.get("If-None-Match")))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.route(site, path)

    def route(self, site: Site, path: str) -> None:
        if path == "/robots.txt":
            return self.send(b"User-agent: *\nAllow: /\n")
        fault = site.broken.get(path)
        if fault == "503":
            return self.send(b"<h1>Service Unavailable</h1>", status=503)
        if fault == "404" or not (path == "/" or path.startswith(("/city/", "/profile/"))):
            return self.send(b"<h1>Not Found</h1>", status=404)
        body = profile_body(int(path.rsplit("/", 1)[1])) if "/profile/" in path else None
        body = body or page(site.links(path))
        etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        if fault == "cut-once":
            # A proxy cut the page: half the body, a Content-Length to match, the page's ETag.
            del site.broken[path]
            return self.send(body[: len(body) // 2], etag=etag)
        if self.headers.get("If-None-Match") == etag:
            return self.send(b"", status=304, etag=etag)
        return self.send(body, etag=etag, no_store=path in site.no_store)

    def send(
        self, body: bytes, *, status: int = 200, etag: str | None = None, no_store: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if no_store:
            self.send_header("Cache-Control", "no-store")
        if etag:
            self.send_header("ETag", etag)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.site = Site()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[SiteServer]:
    server = SiteServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def crawl(home: Path, catalog: Path) -> RunRecord:
    done = run_tdir(
        home,
        "crawl",
        "shifting",
        "--catalog",
        str(catalog),
        "--no-delay",
        "--json",
        timeout=300,
        TDIR_CRAWL_TIMEOUT="10",
    )
    assert done.returncode in (0, 1), done.stderr
    [record] = [RunRecord.from_dict(r) for r in json.loads(done.stdout)]
    return record


@pytest.fixture(scope="module")
def two_crawls(
    server: SiteServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, RunRecord, RunRecord, list[tuple[str, str | None]]]:
    home = tmp_path_factory.mktemp("vanish-home")
    catalog = home / "catalog.yaml"
    source = {
        "name": "shifting",
        "kind": "directory",
        "spider": "structured",
        "start_urls": [server.url + "/"],
        "options": {"follow": ["."], "profile_pages": ["/profile/"]},
    }
    catalog.write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    healthy = crawl(home, catalog)
    server.site.broken = {
        "/profile/1": "503",
        "/city/b": "503",
        "/profile/4": "404",
        "/profile/6": "cut-once",
    }
    server.site.unlinked = {"/profile/5"}
    server.site.requests.clear()
    faulty = crawl(home, catalog)
    return home, healthy, faulty, list(server.site.requests)


def names(listings: dict[str, Any], ids: set[str]) -> set[str]:
    return {listings[i].name_raw for i in ids}


def test_the_healthy_crawl_finds_every_profile(two_crawls: tuple) -> None:
    _, healthy, _, _ = two_crawls
    assert healthy.status == "finished"
    assert healthy.items["listing"] == 6 + FILLERS


def test_a_listing_whose_page_or_path_failed_stays_listed(two_crawls: tuple) -> None:
    home, _, faulty, _ = two_crawls
    assert faulty.status == "finished"
    assert faulty.errors.get("http/503") == 2
    snapshot = load_snapshot(CrawlStore(home), "shifting")
    assert names(snapshot.listings, snapshot.in_doubt) == {"Therapist 1", "Therapist 3"}
    # the run record says so too: two not reached and kept, two gone
    assert faulty.in_doubt == 2
    assert faulty.changes["listing"]["vanished"] == 2


def test_a_listing_gone_for_certain_vanishes(two_crawls: tuple) -> None:
    home, _, _, _ = two_crawls
    snapshot = load_snapshot(CrawlStore(home), "shifting")
    # /profile/4 answered 404; /profile/5 is linked from nowhere the crawl fetched whole
    assert names(snapshot.listings, snapshot.vanished) == {"Therapist 4", "Therapist 5"}
    active = set(snapshot.listings) - snapshot.vanished
    assert len(active) == 4 + FILLERS


def test_a_page_that_lost_its_listing_is_fetched_again_in_full(two_crawls: tuple) -> None:
    home, _, faulty, requests = two_crawls
    fetches = [etag for path, etag in requests if path == "/profile/6"]
    # first as a recrawl (conditional), then once more without validators after the cut copy
    assert len(fetches) == 2 and fetches[0] is not None and fetches[1] is None
    store = CrawlStore(home)
    names_now = {
        r["name_raw"]
        for r in store.records("shifting", faulty.run_id)
        if r["record_type"] == "listing"
    }
    assert "Therapist 6" in names_now


def test_the_ledger_says_what_became_of_each_page(two_crawls: tuple, server: SiteServer) -> None:
    home, _, faulty, _ = two_crawls
    run_dir = CrawlStore(home).run_dir("shifting", faulty.run_id)
    outcomes = dict(line.split("\t") for line in (run_dir / PAGES_FILE).read_text().splitlines())
    assert outcomes[server.url + "/profile/4"] == "gone"
    assert outcomes[server.url + "/profile/1"] == "failed:http/503"
    assert outcomes[server.url + "/profile/6"] == "ok"
    links = (run_dir / LINKS_FILE).read_text().splitlines()
    assert f"{server.url}/city/a\t{server.url}/profile/1" in links


# --- the judge on any link graph -------------------------------------------------------------


def write_run(store: CrawlStore, run_id: str, outcomes: dict[str, str], links: list[tuple]) -> None:
    run_dir = store.run_dir("s", run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / PAGES_FILE).write_text("".join(f"{u}\t{o}\n" for u, o in outcomes.items()))
    (run_dir / LINKS_FILE).write_text("".join(f"{a}\t{b}\n" for a, b in links))


PAGES = [f"p{i}" for i in range(8)]
OUTCOMES = st.sampled_from(["ok", "gone", "failed:http/503", "failed:download/timeout"])


@settings(max_examples=150, deadline=None)
@given(
    links=st.lists(st.tuples(st.sampled_from(PAGES), st.sampled_from(PAGES)), max_size=20),
    now=st.dictionaries(st.sampled_from(PAGES), OUTCOMES),
    target=st.sampled_from(PAGES),
)
def test_a_listing_behind_a_failed_page_is_never_judged_gone(
    tmp_path_factory: pytest.TempPathFactory, links: list, now: dict, target: str
) -> None:
    store = CrawlStore(tmp_path_factory.mktemp("judge"))
    write_run(store, "before", {p: "ok" for p in PAGES}, links)
    # Healthy pages elsewhere on the site keep the run's error rate low enough to judge.
    fillers = {f"other{i}": "ok" for i in range(200)}
    write_run(store, "after", {**fillers, **now}, [])
    fate = VanishJudge(store, "s", "after").fate(target, "before")
    # every page from which the target could be reached before, through pages not fetched now
    ancestors: set[str] = set()
    frontier = [target]
    while frontier:
        url = frontier.pop()
        for a, b in links:
            if b == url and a not in ancestors:
                ancestors.add(a)
                if a not in now:
                    frontier.append(a)
    failed_share = sum(o.startswith("failed:") for o in now.values()) / (len(now) + 200)
    behind_failure = target not in now and any(
        now.get(a, "").startswith("failed:") for a in ancestors
    )
    doubtful = (
        now.get(target, "").startswith("failed:")
        or failed_share > VANISH_ERROR_LIMIT
        or behind_failure
    )
    if now.get(target) == "gone":
        assert fate == "vanished"
    elif doubtful:
        assert fate == "in doubt"
    else:
        assert fate == "vanished"


def test_a_run_without_a_ledger_is_judged_by_absence_as_before(tmp_path: Path) -> None:
    store = CrawlStore(tmp_path)
    store.run_dir("s", "after").mkdir(parents=True)
    assert VanishJudge(store, "s", "after").fate("p1", "before") == "vanished"
