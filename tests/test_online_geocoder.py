"""The online geocoder, used only when configured, against a local stand-in of a Nominatim
server over real HTTP (its ``/search`` endpoint as https://nominatim.org/release-docs/latest/
api/Search/ documents it: ``q``, ``format=json``, ``countrycodes``, ``limit``; a JSON list of
places with ``lat``, ``lon`` as strings, ``display_name`` and ``place_rank``)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from indexer import online_geocoder as online
from indexer.geocode import PlaceNotFoundError, geocode_place, zip_centroid
from tdir.config import ConfigError, GeocoderSettings

STREET = "1200 S Lamar Blvd, Austin, TX 78704"
BUILDING = {
    "lat": "30.2515290",
    "lon": "-97.7650114",
    "display_name": "1200, South Lamar Boulevard, Austin, Travis County, Texas, 78704, "
    "United States",
    "place_rank": 30,
    "class": "building",
}
STREET_ONLY = {**BUILDING, "display_name": "Main Street, Austin, Texas", "place_rank": 26}
# What the stand-in answers for each query; anything else: no place.
ANSWERS: dict[str, Any] = {
    STREET: [BUILDING],
    "5 Main St, Austin, TX": [STREET_ONLY],
    "Hogwarts Express Platform": [{**BUILDING, "display_name": "Platform, Somewhere, US"}],
    "500 Broken Row, Austin, TX": "error",
}


@dataclass
class StandIn:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def nominatim(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            requests.append(
                {
                    "path": parts.path,
                    "params": params,
                    "agent": self.headers.get("User-Agent"),
                    "at": time.monotonic(),
                }
            )
            answer = ANSWERS.get(params.get("q", ""), [])
            if answer == "error":
                self.send_response(500)
                self.end_headers()
                return
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("TDIR_GEOCODER_URL", url)
    monkeypatch.setenv("TDIR_GEOCODER_USER_AGENT", "tdir-tests (ops@example.org)")
    online.online_geocoder.cache_clear()
    try:
        yield StandIn(url, requests)
    finally:
        online.online_geocoder.cache_clear()
        server.shutdown()
        server.server_close()


def test_a_street_address_is_placed_at_its_building(nominatim: StandIn) -> None:
    place = geocode_place(STREET)
    assert place.precision == "rooftop"
    assert (place.point.lat, place.point.lon) == (30.2515290, -97.7650114)
    assert place.label.startswith("1200, South Lamar Boulevard")
    (asked,) = nominatim.requests
    assert asked["path"] == "/search"
    assert asked["params"]["q"] == STREET
    assert asked["params"]["format"] == "json"
    assert asked["params"]["countrycodes"] == "us"
    assert asked["agent"] == "tdir-tests (ops@example.org)"
    # Asked once: the answer is kept.
    assert geocode_place(STREET) == place
    assert len(nominatim.requests) == 1


def test_a_street_found_only_as_a_street_keeps_the_offline_answer(nominatim: StandIn) -> None:
    place = geocode_place("5 Main St, Austin, TX")
    assert len(nominatim.requests) == 1
    assert place.precision == "city"
    assert place.label == "Austin, TX"


def test_a_zip_or_a_city_is_never_sent(nominatim: StandIn) -> None:
    assert geocode_place("78704") == zip_centroid("78704")
    assert geocode_place("Austin, TX").label == "Austin, TX"
    assert nominatim.requests == []


def test_a_place_unknown_offline_is_looked_up_online(nominatim: StandIn) -> None:
    place = geocode_place("Hogwarts Express Platform")
    assert place.label == "Platform, Somewhere, US"
    with pytest.raises(PlaceNotFoundError, match="Nowhere Special"):
        geocode_place("Nowhere Special")
    assert [r["params"]["q"] for r in nominatim.requests] == [
        "Hogwarts Express Platform",
        "Nowhere Special",
    ]


def test_a_failing_server_leaves_the_offline_answer_and_is_asked_again(
    nominatim: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    place = geocode_place("500 Broken Row, Austin, TX")
    assert place.precision == "city" and place.label == "Austin, TX"
    assert "failed" in caplog.text and nominatim.url in caplog.text
    geocode_place("500 Broken Row, Austin, TX")
    assert len(nominatim.requests) == 2  # a failure is not kept


def test_requests_are_a_second_apart(nominatim: StandIn) -> None:
    for number in range(3):
        geocode_place(f"{number + 10} Unknown Way, Austin, TX")
    times = [r["at"] for r in nominatim.requests]
    assert len(times) == 3
    assert all(b - a >= online.MIN_INTERVAL * 0.95 for a, b in itertools.pairwise(times))


def test_unconfigured_means_offline_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TDIR_GEOCODER_URL", raising=False)
    online.online_geocoder.cache_clear()
    try:
        assert online.online_geocoder() is None
        assert geocode_place(STREET).precision == "zip"
    finally:
        online.online_geocoder.cache_clear()


@pytest.mark.parametrize("url", ["ftp://example.org", "nominatim.example.org", "http://"])
def test_a_bad_geocoder_url_is_refused_with_its_name(url: str) -> None:
    with pytest.raises(ConfigError, match="TDIR_GEOCODER_URL"):
        GeocoderSettings.from_env({"TDIR_GEOCODER_URL": url})
