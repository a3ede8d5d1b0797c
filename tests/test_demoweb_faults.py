"""Fault injection in the demo web: seeded, reproducible misbehaviour, over real HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.demoweb import DemoWeb, FaultPlan, generate_world
from crawler.demoweb.cli import main
from crawler.demoweb.faults import DEFAULT_STALL_SECONDS, Fault
from crawler.demoweb.server import etag_of
from crawler.demoweb.sites import PagesSite
from crawler.demoweb.store import Population
from tests.crawling import run_tdir
from tests.support.fault_log import failed_for_good

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

ROOT = Path(__file__).resolve().parent.parent
# Nine requests in ten misbehave; the stall outlasts the 0.5 s the tests wait for an answer.
MIXED = "5xx=0.2,stall=0.2:2s,truncate=0.3,reset=0.2"
# Long enough that a busy machine answers every page that is not stalled in time.
CRAWL_TIMEOUT = "3"
LISTING_MARKS = (b"application/ld+json", b"itemscope", b"/therapist/", b"/listing.php")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("faulty-world")
    generate_world(directory, seed=5, therapists=40)
    return directory


@pytest.fixture(scope="module")
def mixed(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    """A demo web where most requests misbehave; each test asks for URLs of its own."""
    logs = tmp_path_factory.mktemp("mixed")
    with DemoWeb.start(
        world, faults=FaultPlan.parse(MIXED, seed=11), request_log=logs / "requests.jsonl"
    ) as web:
        yield web


@pytest.fixture
def serve(world: Path, tmp_path: Path) -> Iterator[Callable[..., DemoWeb]]:
    """Start demo webs with a fault spec; all stopped after the test."""
    started: list[DemoWeb] = []

    def start(spec: str, seed: int = 0) -> DemoWeb:
        log = tmp_path / f"requests-{len(started)}.jsonl"
        web = DemoWeb.start(world, faults=FaultPlan.parse(spec, seed=seed), request_log=log)
        started.append(web)
        return web

    yield start
    for web in started:
        web.stop()


def plan_of(web: DemoWeb) -> FaultPlan:
    assert web.faults is not None
    return web.faults.plan


def get(base: str, target: str, *, timeout: float = 10.0) -> tuple[http.client.HTTPResponse, bytes]:
    """One GET on a connection of its own: the response and its whole body."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def probe(plan: FaultPlan, wanted: list[Fault | None], name: str, site: str = "atlas") -> str:
    """A URL of the site's home page whose attempts 1, 2... get the ``wanted`` faults."""
    for n in range(100_000):
        target = f"/?probe={name}-{n}"
        if all(plan.fault_for(site, target, i) == f for i, f in enumerate(wanted, start=1)):
            return target
    raise AssertionError(f"no URL gets {wanted}")


def log_entries(web: DemoWeb) -> list[dict[str, Any]]:
    assert web.log.path is not None
    return [json.loads(line) for line in web.log.path.read_text(encoding="utf-8").splitlines()]


# -- the plan --------------------------------------------------------------------------------------


def test_parse_reads_every_fault_and_the_stall_duration() -> None:
    plan = FaultPlan.parse("5xx=0.1,stall=0.05:3s,truncate=0.05,reset=0.02,trap=calendar", seed=7)
    assert plan == FaultPlan(
        server_error=0.1,
        stall=0.05,
        truncate=0.05,
        reset=0.02,
        traps=frozenset({"calendar"}),
        stall_seconds=3.0,
        seed=7,
    )
    assert FaultPlan.parse(plan.spec(), seed=7) == plan
    assert FaultPlan.parse(" stall = 0.5 : 250ms ").stall_seconds == 0.25
    assert FaultPlan.parse("stall=0.1").stall_seconds == DEFAULT_STALL_SECONDS
    assert FaultPlan.parse("5xx=1").rates() == [
        ("5xx", 1.0),
        ("stall", 0.0),
        ("truncate", 0.0),
        ("reset", 0.0),
    ]
    assert FaultPlan.parse("trap=calendar").fault_for("atlas", "/", 1) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("foo=0.1", "unknown fault 'foo' (known: 5xx, stall, truncate, reset, trap)"),
        ("5xx=1.5", "5xx=1.5: a rate must be between 0 and 1"),
        ("stall=-0.1", "stall=-0.1: a rate must be between 0 and 1"),
        ("reset=lots", "reset=lots: a rate must be a number between 0 and 1"),
        ("trap=xyz", "trap=xyz: known traps: calendar"),
        ("5xx=0.6,stall=0.5", "5xx=0.6,stall=0.5: the rates add up to 1.1, more than 1"),
        ("5xx=0.1,5xx=0.2", "5xx=0.2: 5xx is given twice"),
        ("stall=0.1:soon", "stall=0.1:soon: a stall lasts a number of seconds, e.g."),
        ("reset=0.1:3s", "reset=0.1:3s: only a stall takes a duration"),
        ("truncate", "truncate: expected truncate=VALUE, e.g. truncate=0.05"),
        (" , ", "no faults given"),
    ],
)
def test_parse_names_the_bad_part(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FaultPlan.parse(spec)


def test_same_seed_same_faults_another_seed_others() -> None:
    requests = [
        (s, f"/page/{n}", a) for s in ("atlas", "pages") for n in range(300) for a in (1, 2)
    ]

    def faults(seed: int) -> list[Fault | None]:
        plan = FaultPlan.parse(MIXED, seed=seed)
        return [plan.fault_for(*request) for request in requests]

    assert faults(7) == faults(7)
    differ = sum(a != b for a, b in zip(faults(7), faults(8), strict=True))
    assert differ > len(requests) / 2
    # A retry draws afresh: the second attempt of a URL is not bound to the first one's fault.
    first, second = faults(7)[0::2], faults(7)[1::2]
    assert sum(a != b for a, b in zip(first, second, strict=True)) > len(first) / 2


def test_observed_rates_match_the_plan() -> None:
    urls = [f"/therapist/someone-{n}" for n in range(2000)]
    plan = FaultPlan.parse("5xx=0.1", seed=3)
    hits = sum(plan.fault_for("atlas", url, 1) is not None for url in urls)
    assert 0.07 <= hits / len(urls) <= 0.13
    mixed = FaultPlan.parse("5xx=0.1,stall=0.05,truncate=0.05,reset=0.02", seed=3)
    drawn = [mixed.fault_for("guild", url, 2) for url in urls]
    kinds = Counter(fault.kind if fault else None for fault in drawn)
    for kind, rate in mixed.rates():
        assert abs(kinds[kind] / len(urls) - rate) <= 0.03, kind
    truncate = FaultPlan.parse("truncate=1", seed=3)
    halves = Counter(f.variant for url in urls if (f := truncate.fault_for("pages", url, 1)))
    assert 0.4 <= halves["short"] / len(urls) <= 0.6
    assert halves["short"] + halves["cut"] == len(urls)


# -- each fault over HTTP --------------------------------------------------------------------------


def test_robots_txt_is_never_faulted(mixed: DemoWeb) -> None:
    assert all(FaultPlan.parse("5xx=1").fault_for("npi", "/robots.txt", n) is None for n in (1, 9))
    for _ in range(12):
        response, body = get(mixed.urls["atlas"], "/robots.txt")
        assert response.status == 200 and b"Disallow:" in body


def test_server_errors_are_503_with_retry_after_or_500(mixed: DemoWeb) -> None:
    plan = plan_of(mixed)
    response, body = get(mixed.urls["atlas"], probe(plan, [Fault("5xx", "503")], "503"))
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    assert b"Service Unavailable" in body
    response, _ = get(mixed.urls["atlas"], probe(plan, [Fault("5xx", "500")], "500"))
    assert response.status == 500


def test_a_retry_of_the_same_url_can_succeed(mixed: DemoWeb) -> None:
    target = probe(plan_of(mixed), [Fault("5xx", "503"), None], "retry")
    assert get(mixed.urls["atlas"], target)[0].status == 503
    response, body = get(mixed.urls["atlas"], target)
    assert response.status == 200 and b"</html>" in body


def test_a_stall_outlasts_the_client_timeout(mixed: DemoWeb) -> None:
    assert plan_of(mixed).stall_seconds == 2
    target = probe(plan_of(mixed), [Fault("stall")], "stall")
    with pytest.raises(TimeoutError):
        get(mixed.urls["atlas"], target, timeout=0.5)


def test_truncate_short_declares_the_whole_page_and_sends_half(mixed: DemoWeb) -> None:
    target = probe(plan_of(mixed), [Fault("truncate", "short")], "short")
    with pytest.raises(http.client.IncompleteRead) as raised:
        get(mixed.urls["atlas"], target)
    sent, missing = len(raised.value.partial), raised.value.expected
    assert sent > 1000 and missing in (sent, sent + 1)


def test_truncate_cut_sends_half_a_page_with_headers_to_match(mixed: DemoWeb) -> None:
    target = probe(plan_of(mixed), [Fault("truncate", "cut"), None], "cut")
    cut_response, cut = get(mixed.urls["atlas"], target)
    whole_response, whole = get(mixed.urls["atlas"], target)
    assert cut_response.status == whole_response.status == 200
    assert int(cut_response.headers["Content-Length"]) == len(cut)
    assert cut_response.headers["ETag"] == etag_of(cut) != whole_response.headers["ETag"]
    assert cut == whole[: len(whole) // 2] and b"</html>" not in cut


def test_reset_sends_the_headers_then_resets_the_connection(mixed: DemoWeb) -> None:
    target = probe(plan_of(mixed), [Fault("reset")], "reset")
    parts = urlsplit(mixed.urls["atlas"])
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as client:
        client.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        with pytest.raises(ConnectionResetError):
            while chunk := client.recv(65536):
                received += chunk
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b"\r\n\r\n")
    assert int(re.search(rb"Content-Length: (\d+)", received)[1]) > 1000  # type: ignore[index]
    with pytest.raises(ConnectionError):
        get(mixed.urls["atlas"], probe(plan_of(mixed), [Fault("reset")], "reset-2"))


def test_stop_ends_a_stall_in_flight_at_once(serve: Callable[..., DemoWeb]) -> None:
    web = serve("stall=1:60s")
    assert web.faults is not None
    parts = urlsplit(web.urls["atlas"])
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as client:
        client.sendall(f"GET /?stalled HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        deadline = time.monotonic() + 10
        while not web.faults.attempts("atlas", "/?stalled"):  # the server has the request
            assert time.monotonic() < deadline, "the request never reached the server"
            time.sleep(0.01)
        started = time.monotonic()
        web.stop()
        assert time.monotonic() - started < 3
        assert client.recv(1024) == b""  # closed, having sent nothing
    [entry] = [e for e in log_entries(web) if e["path"] == "/?stalled"]
    assert entry["fault"] == "stall" and entry["status"] is None


def test_the_log_counts_faults_whatever_the_order_of_requests(
    serve: Callable[..., DemoWeb],
) -> None:
    spec = "5xx=0.2,truncate=0.3,reset=0.2"  # no stall: every request answers at once
    targets = [f"/?n={n}" for n in range(80)] * 2  # every URL twice: attempts 1 and 2
    in_order, shuffled = serve(spec, seed=5), serve(spec, seed=5)

    def fetch(web: DemoWeb, target: str) -> None:
        with contextlib.suppress(http.client.HTTPException, ConnectionError):
            get(web.urls["atlas"], target)

    for target in targets:
        fetch(in_order, target)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda t: fetch(shuffled, t), reversed(targets)))
    outcomes = []
    for web in (in_order, shuffled):
        web.stop()
        entries = log_entries(web)
        assert len(entries) == len(targets)
        outcomes.append(
            {(e["path"], e["attempt"]): (e["fault"], e.get("variant")) for e in entries}
        )
    assert outcomes[0] == outcomes[1]
    plan = FaultPlan.parse(spec, seed=5)
    drawn = [plan.fault_for("atlas", t, a) for t in set(targets) for a in (1, 2)]
    expected = Counter(f.kind for f in drawn if f)
    assert Counter(fault for fault, _ in outcomes[0].values() if fault) == expected
    assert set(expected) == {"5xx", "truncate", "reset"}


# -- the calendar trap -----------------------------------------------------------------------------


def test_calendar_trap_is_linked_from_the_pages_crawls_start_at(
    serve: Callable[..., DemoWeb],
) -> None:
    web = serve("trap=calendar")
    today = web.sites["atlas"].as_of
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    widget = f'<a rel="next" href="/calendar/{following.year}/{following.month}">Next</a>'
    starts = {
        "atlas": "/",
        "guild": "/directory/",
        "pages": "/cities.html",
        "reviews": "/",
        "board-nc": "/verify?last_name=A",
        "certregistry": "/directory/",
    }
    for site, start in starts.items():
        response, body = get(web.urls[site], start)
        assert response.status == 200 and widget.encode() in body, site


def test_calendar_trap_links_onward_without_end(serve: Callable[..., DemoWeb]) -> None:
    web = serve("trap=calendar")
    base = web.urls["guild"]
    seen: set[bytes] = set()
    target = "/calendar/2025/9"
    for _ in range(40):  # three years and more of months
        response, body = get(base, target)
        assert response.status == 200 and body not in seen
        seen.add(body)
        assert not any(mark in body for mark in LISTING_MARKS)
        year, month = (int(p) for p in target.split("/")[2:])
        assert f'href="/calendar/{year}/{month}/28"'.encode() in body
        target = re.search(rb'<a rel="next" href="([^"]+)">Next</a>', body)[1].decode()  # type: ignore[index]
    assert target == "/calendar/2029/1"
    target = "/calendar/2025/9/20"
    for _ in range(40):  # into the next month, day by day
        response, body = get(base, target)
        assert response.status == 200 and body not in seen
        seen.add(body)
        year, month, day = (int(p) for p in target.split("/")[2:])
        assert f" {day} ".encode() in body and str(year).encode() in body
        target = re.search(rb'<a rel="next" href="([^"]+)">Next</a>', body)[1].decode()  # type: ignore[index]
    assert target == "/calendar/2025/10/30"
    assert get(base, "/calendar/2025/13")[0].status == 404


# -- the command line and a crawl ------------------------------------------------------------------


def test_serve_refuses_a_bad_spec_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--faults", "5xx=0.1,foo=1"])
    assert exited.value.code == 2
    assert (
        "unknown fault 'foo' (known: 5xx, stall, truncate, reset, trap)" in capsys.readouterr().err
    )


def test_serve_command_serves_the_faults_it_is_given(world: Path, tmp_path: Path) -> None:
    manifest, log = tmp_path / "sites.json", tmp_path / "requests.jsonl"
    command = [sys.executable, "-m", "crawler.demoweb", "serve", "--data", str(world)]
    command += ["--base-port", "0", "--manifest", str(manifest), "--request-log", str(log)]
    command += ["--faults", "5xx=1,trap=calendar", "--fault-seed", "7"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        lines = []
        while not lines or "Ctrl+C" not in lines[-1]:
            line = server.stdout.readline()
            assert line, "the server ended before serving"
            lines.append(line)
        assert "Faults: 5xx=1,trap=calendar (seed 7)\n" in lines
        base = json.loads(manifest.read_text())["atlas"]
        assert get(base, "/")[0].status in (500, 503)
        assert get(base, "/robots.txt")[0].status == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    # Each request is logged when it has been answered: two answered together may be logged in
    # either order.
    logged = {e["path"]: e["fault"] for e in map(json.loads, log.read_text().splitlines())}
    assert logged == {"/": "5xx", "/robots.txt": None}


def test_a_crawl_counts_each_fault_that_failed_for_good(world: Path, tmp_path: Path) -> None:
    spec = "5xx=0.3,stall=0.15:6s,truncate=0.25,reset=0.2"
    plan = _plan_failing_every_way(spec, PagesSite(Population(world)))
    with DemoWeb.start(
        world,
        faults=plan,
        request_log=tmp_path / "requests.jsonl",
        manifest=tmp_path / "sites.json",
    ) as web:
        done = run_tdir(
            tmp_path / "home",
            "crawl",
            "pages",
            "--sites",
            str(tmp_path / "sites.json"),
            "--no-delay",
            "--json",
            timeout=120,
            TDIR_CRAWL_TIMEOUT=CRAWL_TIMEOUT,
        )
    assert done.returncode in (0, 1), done.stderr
    [record] = json.loads(done.stdout)
    # What became of each URL at its last attempt, as the server tells it.
    expected = failed_for_good(log_entries(web))
    counted = {k: v for k, v in record["errors"].items() if k.startswith(("http/", "download/"))}
    assert counted == dict(expected)
    assert {"download/timeout", "download/cut-short", "download/connection-lost"} <= set(counted)
    assert any(kind in counted for kind in ("http/500", "http/503"))


def _plan_failing_every_way(spec: str, site: PagesSite) -> FaultPlan:
    """The plan of the first seed that serves the start page at once and fails city pages for
    good (three attempts: the crawl retries twice) with every kind of fault that can."""
    cities = [f"/city/{city.slug}.html" for city in site.cities]
    for seed in range(1000):
        plan = FaultPlan.parse(spec, seed=seed)
        if plan.fault_for("pages", "/cities.html", 1) is not None:
            continue
        finals = set()
        for path in cities:
            faults = [plan.fault_for("pages", path, attempt) for attempt in (1, 2, 3)]
            if all(f is not None and f.variant != "cut" for f in faults):
                finals.add(faults[-1].kind if faults[-1] else None)
        if finals == {"5xx", "stall", "truncate", "reset"}:
            return plan
    raise AssertionError("no seed fails the city pages every way")
